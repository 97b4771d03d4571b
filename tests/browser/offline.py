"""Open a map page in Debian's headless Chromium with no internet (playwright, sync API).

The page loads its scripts and styles from the jsDelivr npm CDN
(``https://cdn.jsdelivr.net/npm/<package>@<version>/<file>``). :func:`install_routes` answers
each such request with the same file from ``tests/browser/node_modules`` (installed with
``npm ci`` in this folder from ``package.json``/``package-lock.json``), answers map tile requests
(``.../z/x/y.png`` of any server) with a plain grey tile, and answers anything else with a
404 that it records, so a test can assert the page asked for nothing unexpected.

Setup (CI does the same)::

    apt-get install -y chromium
    npm ci --prefix tests/browser
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
SETUP_HINT = "run `apt-get install -y chromium` and `npm ci --prefix tests/browser`"

_NPM_URL = re.compile(r"^https://cdn\.jsdelivr\.net/npm/((?:@[^/@]+/)?[^/@]+)@([^/]+)/(.+)$")
# any z/x/y raster tile: the base map is the scenario's (``[map] tile_url``)
_TILE_URL = re.compile(r"^https?://[^/?#]+/(?:[^?#]*/)?\d+/\d+/\d+(?:@2x)?\.(?:png|jpe?g|webp)(?:\?.*)?$")
_TYPES = {
    ".js": "application/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
}


class AssetError(AssertionError):
    """A CDN file the page needs is not in tests/browser/node_modules."""


def asset_file(url: str) -> Path:
    """Return the node_modules file that stands in for a jsDelivr npm URL.

    Raises
    ------
    AssetError
        If the URL is not a jsDelivr npm URL, the package is not installed, its installed
        version differs from the URL's, or the file is missing.
    """
    m = _NPM_URL.match(url.split("?", 1)[0])
    if not m:
        msg = f"{url} is not a jsDelivr npm URL; the offline test cannot serve it"
        raise AssetError(msg)
    pkg, version, rel = m.groups()
    root = NODE_MODULES / pkg
    meta = root / "package.json"
    if not meta.is_file():
        msg = f"npm package {pkg} is not installed in {NODE_MODULES}: {SETUP_HINT}"
        raise AssetError(msg)
    installed = json.loads(meta.read_text(encoding="utf-8"))["version"]
    if installed != version:
        msg = f"page wants {pkg}@{version} but {installed} is installed: {SETUP_HINT}"
        raise AssetError(msg)
    path = (root / rel).resolve()
    if root.resolve() not in path.parents or not path.is_file():
        msg = f"{url}: no file {rel} in npm package {pkg}@{version}"
        raise AssetError(msg)
    return path


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG (for the stand-in map tiles)."""
    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


GREY_TILE = _png(256, 256, (232, 232, 228))


@dataclass
class PageLog:
    """What happened on a page: errors, dialogs and the requests it made."""

    errors: list[str] = field(default_factory=list)  # page errors and console errors
    dialogs: list[str] = field(default_factory=list)
    served: list[str] = field(default_factory=list)  # CDN URLs answered from node_modules
    tiles: int = 0
    unexpected: list[str] = field(default_factory=list)  # answered with 404


def install_routes(page: Any, log: PageLog) -> None:
    """Serve CDN files from node_modules, grey tiles for OSM tiles, 404 (recorded) otherwise."""

    def handle(route: Any) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:", "about:")):
            route.continue_()
            return
        if _TILE_URL.match(url):
            log.tiles += 1
            route.fulfill(status=200, body=GREY_TILE, content_type="image/png")
            return
        try:
            path = asset_file(url)
        except AssetError:
            log.unexpected.append(url)
            route.fulfill(status=404, body="offline test: not served", content_type="text/plain")
            return
        log.served.append(url)
        kind = _TYPES.get(path.suffix, "application/octet-stream")
        route.fulfill(path=str(path), content_type=kind)

    page.route("**/*", handle)
    page.on("pageerror", lambda e: log.errors.append(f"pageerror: {e}"))
    page.on(
        "console",
        lambda m: log.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None,
    )

    def on_dialog(d: Any) -> None:
        log.dialogs.append(f"{d.type}: {d.message}")
        d.dismiss()

    page.on("dialog", on_dialog)


def check_setup() -> None:
    """Fail (never skip) with a clear message when Chromium or the npm assets are missing."""
    if not CHROMIUM.is_file():
        msg = f"{CHROMIUM} not found: {SETUP_HINT}"
        raise AssertionError(msg)
    if not NODE_MODULES.is_dir():
        msg = f"{NODE_MODULES} not found: {SETUP_HINT}"
        raise AssertionError(msg)


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Debian Chromium browser (playwright), closed on exit."""
    check_setup()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
