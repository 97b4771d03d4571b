"""Results of slow stages kept on disk as data, keyed by a content hash of their inputs.

A stage result that depends only on inputs that did not change (the existing network's
assignment of a period, the designer's skim of the existing network, a route design, the budget
curve's rows) is stored under ``<cache folder>/stage-<kind>-<key>.npz``, where ``key`` is the
SHA-256 of exactly what the result depends on: the input arrays and settings themselves, the
content hashes of the data files (:func:`file_digest`) and of the code that computes it
(:func:`code_digest`). The cache folder is the road graph's (``--cache-dir``,
``$SHUTTLE_CACHE``, ``~/.cache/shuttle``).

The file layout is :mod:`shuttle.graphcache`'s: ``MAGIC`` (16 bytes), the SHA-256 digest of
the payload (32 bytes), then the payload, a NumPy ``.npz`` archive read with
``allow_pickle=False``: named numeric arrays, and JSON as ``uint8`` arrays. Nothing in it is
executable. A file that is truncated, altered or of another format is rebuilt with one warning;
an unwritable folder only costs the reuse. A result read back equals the one computed (floats
round-trip exactly through NumPy and JSON), so a run with a warm cache writes the same bytes as a
cold one. ``SHUTTLE_STAGE_CACHE=0`` in the environment turns the stage cache off (every stage is
computed; the road graph's cache is not affected). The stage files of a folder are kept under
``$SHUTTLE_STAGE_CACHE_MB`` megabytes (default :data:`LIMIT_MB`): after each save the least
recently used ones (a read marks a file used) are deleted until the rest fit.

Objects (a :class:`~shuttle.model.Design`, a plan, a budget-curve row) go through
:func:`to_data` and :func:`from_data`: dataclasses, tuples, lists, dicts, NumPy scalars and
arrays become tagged JSON; decoding builds only dataclasses defined in this package, found by
module and name (never by running anything the file names).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import functools
import hashlib
import importlib
import io as _io
import json
import logging
import math
import os
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from . import io

__all__ = [
    "FORMAT",
    "MAGIC",
    "array_digest",
    "cache_root",
    "code_digest",
    "decode",
    "encode",
    "file_digest",
    "from_data",
    "key_of",
    "LIMIT_MB",
    "limit_bytes",
    "load",
    "prune",
    "load_json",
    "save",
    "save_json",
    "to_data",
]

log = logging.getLogger(__name__)

#: Bump when the layout changes; files of another format are then rebuilt.
FORMAT = 1
MAGIC = b"SHUTTLESTAGE\x00v" + str(FORMAT).encode().rjust(2, b"0")
_DIGEST = 32
_JSON = "__json__"


def cache_root(cache_dir: str | os.PathLike[str] | None) -> Path:
    """The cache folder: ``cache_dir``, else the road graph's default."""
    from . import network

    return Path(cache_dir).expanduser() if cache_dir else network.default_cache_dir()


# ------------------------------------------------------------------------------------- keys

_FILES: dict[tuple[str, int, int], str] = {}


def file_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes (``"missing"`` when there is none); read once per version."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return "missing"
    k = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if k not in _FILES:
        h = hashlib.sha256()
        with p.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _FILES[k] = h.hexdigest()
    return _FILES[k]


def code_digest(*modules: ModuleType | str) -> str:
    """SHA-256 of the source of ``modules`` (or source paths): a change of the code invalidates
    the entry."""
    h = hashlib.sha256(_library_versions().encode())
    for m in modules:
        path = str(Path(m if isinstance(m, str) else m.__file__ or "").resolve())
        if path not in _CODE:  # the source as first seen by this process (the code it runs)
            _CODE[path] = file_digest(path)
        h.update(_CODE[path].encode())
    return h.hexdigest()


_CODE: dict[str, str] = {}

#: Libraries whose version can change a stage's numbers (a new release invalidates the entry).
_LIBRARIES = ("numpy", "scipy", "numba", "networkx", "shapely", "pyproj", "osmnx")


@functools.cache
def _library_versions() -> str:
    from importlib import metadata

    out = []
    for name in _LIBRARIES:
        try:
            out.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name}=none")
    return ";".join(out)


def array_digest(a: Any) -> str:
    """SHA-256 of an array's dtype, shape and bytes."""
    arr = np.ascontiguousarray(a)
    h = hashlib.sha256(f"{arr.dtype.str}{arr.shape}".encode())
    h.update(arr.tobytes())
    return h.hexdigest()


def key_of(*parts: Any) -> str:
    """The cache key of JSON-able ``parts`` (tagged as :func:`to_data` does; arrays by digest)."""
    text = json.dumps(to_data(list(parts), digest_arrays=True), sort_keys=True, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# ----------------------------------------------------------------------------- file format


def encode(arrays: Mapping[str, np.ndarray], meta: Any = None) -> bytes:
    """The bytes of a cache file holding ``arrays`` and JSON-able ``meta``."""
    out = {k: np.asarray(v) for k, v in arrays.items()}
    for k, v in out.items():
        if v.dtype.hasobject:
            msg = f"stage cache array {k!r}: cannot store objects"
            raise ValueError(msg)
    out[_JSON] = np.frombuffer(
        json.dumps(meta, ensure_ascii=False, sort_keys=True).encode("utf-8"), dtype=np.uint8
    )
    buf = _io.BytesIO()
    np.savez(buf, allow_pickle=False, **out)
    payload = buf.getvalue()
    return MAGIC + hashlib.sha256(payload).digest() + payload


def decode(data: bytes) -> tuple[dict[str, np.ndarray], Any]:
    """``(arrays, meta)`` of a cache file's bytes; ValueError when it is damaged."""
    head = len(MAGIC) + _DIGEST
    if len(data) < head or data[: len(MAGIC)] != MAGIC:
        msg = "not a stage cache file of this format"
        raise ValueError(msg)
    payload = data[head:]
    if hashlib.sha256(payload).digest() != data[len(MAGIC) : head]:
        msg = "checksum mismatch (truncated or altered)"
        raise ValueError(msg)
    try:
        with np.load(_io.BytesIO(payload), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        msg = f"unreadable archive: {e}"
        raise ValueError(msg) from e
    meta = json.loads(bytes(arrays.pop(_JSON, np.zeros(0, np.uint8))).decode("utf-8") or "null")
    return arrays, meta


#: Default bound on the stage files of one cache folder, megabytes (``$SHUTTLE_STAGE_CACHE_MB``).
LIMIT_MB = 1000.0


def limit_bytes() -> int:
    """The bound on the stage files of a folder (``$SHUTTLE_STAGE_CACHE_MB``, else
    :data:`LIMIT_MB`); an unreadable value is one warning and the default."""
    raw = os.environ.get("SHUTTLE_STAGE_CACHE_MB", "").strip()
    mb = LIMIT_MB
    if raw:
        try:
            mb = float(raw)
            if not math.isfinite(mb) or mb < 0:
                raise ValueError(raw)
        except ValueError:
            log.warning("SHUTTLE_STAGE_CACHE_MB=%r is not a size in MB; using %g", raw, LIMIT_MB)
            mb = LIMIT_MB
    return int(mb * 1e6)


def prune(root: Path, keep: Path | None = None) -> list[Path]:
    """Delete the least recently used stage files of ``root`` until the rest fit in
    :func:`limit_bytes` (never ``keep``, the file just written); return the deleted ones."""
    files = []
    for p in root.glob("stage-*.npz"):
        try:
            st = p.stat()
        except OSError:
            continue
        files.append((p == keep, st.st_mtime_ns, p.name, st.st_size, p))
    total = sum(f[3] for f in files)
    limit = limit_bytes()
    gone: list[Path] = []
    for last, _, _, size, p in sorted(files):
        if total <= limit or last:  # the file just written stays
            break
        try:
            p.unlink()
        except OSError:
            continue
        total -= size
        gone.append(p)
    if gone:
        log.info(
            "stage cache: %d least recently used file(s) deleted to stay under %.0f MB",
            len(gone),
            limit / 1e6,
        )
    return gone


def _path(root: Path, kind: str, key: str) -> Path:
    return root / f"stage-{kind}-{key}.npz"


def enabled() -> bool:
    """False when ``$SHUTTLE_STAGE_CACHE`` is ``0`` (or ``off``/``false``/``no``)."""
    return os.environ.get("SHUTTLE_STAGE_CACHE", "1").strip().lower() not in {
        "0",
        "off",
        "false",
        "no",
    }


def load(
    cache_dir: str | os.PathLike[str] | None, kind: str, key: str
) -> tuple[dict[str, np.ndarray], Any] | None:
    """The stored ``(arrays, meta)`` of ``kind``/``key``, or None (absent or damaged: warned)."""
    if not enabled():
        return None
    path = _path(cache_root(cache_dir), kind, key)
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        out = decode(data)
    except ValueError as e:
        log.warning("stage cache %s is damaged (%s); computing it again", path, e)
        return None
    log.debug("stage cache hit: %s", path.name)
    with contextlib.suppress(OSError):  # used now: the last to be pruned
        os.utime(path)
    return out


def save(
    cache_dir: str | os.PathLike[str] | None,
    kind: str,
    key: str,
    arrays: Mapping[str, np.ndarray],
    meta: Any = None,
) -> None:
    """Store ``arrays`` and ``meta`` (atomically); an unwritable folder is one warning."""
    if not enabled():
        return
    path = _path(cache_root(cache_dir), kind, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        io.atomic_write_bytes(path, encode(arrays, meta))
        prune(path.parent, keep=path)
    except (OSError, ValueError) as e:
        log.warning("cannot write the stage cache %s: %s", path, e)
    except Exception as e:  # noqa: BLE001 - a ShuttleError of io: the run goes on uncached
        log.warning("cannot write the stage cache %s: %s", path, e)


def load_json(cache_dir: str | os.PathLike[str] | None, kind: str, key: str) -> Any:
    """The stored JSON of ``kind``/``key`` (None when absent or damaged)."""
    got = load(cache_dir, kind, key)
    return None if got is None else got[1]


def save_json(cache_dir: str | os.PathLike[str] | None, kind: str, key: str, meta: Any) -> None:
    """Store JSON-able ``meta`` under ``kind``/``key``."""
    save(cache_dir, kind, key, {}, meta)


# --------------------------------------------------------------------------- object codec

_DC, _TUPLE, _DICT, _NP, _ND, _FLOAT = "$dc", "$t", "$d", "$np", "$nd", "$f"
_DATE, _DATETIME = "$date", "$datetime"


def _float(x: float) -> Any:
    return x if math.isfinite(x) else {_FLOAT: repr(x)}


def to_data(value: Any, *, digest_arrays: bool = False) -> Any:
    """``value`` as tagged JSON (see the module docstring); arrays by digest with
    ``digest_arrays`` (for keys)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        return {
            _DC: f"{cls.__module__}:{cls.__qualname__}",
            "f": {
                f.name: to_data(getattr(value, f.name), digest_arrays=digest_arrays)
                for f in dataclasses.fields(value)
            },
        }
    if isinstance(value, np.ndarray):
        if digest_arrays:
            return {_ND: array_digest(value)}
        if value.dtype.hasobject or value.dtype.kind not in "biuf":
            msg = f"cannot store an array of {value.dtype}"
            raise ValueError(msg)
        flat = [_float(x) if isinstance(x, float) else x for x in value.ravel().tolist()]
        return {_ND: [value.dtype.str, list(value.shape), flat]}
    if isinstance(value, np.generic):
        item = value.item()
        return {_NP: [value.dtype.str, _float(item) if isinstance(item, float) else item]}
    if isinstance(value, tuple):
        return {_TUPLE: [to_data(v, digest_arrays=digest_arrays) for v in value]}
    if isinstance(value, list):
        return [to_data(v, digest_arrays=digest_arrays) for v in value]
    if isinstance(value, dict):
        pairs = [[k, v] for k, v in value.items()]
        return {_DICT: [[to_data(x, digest_arrays=digest_arrays) for x in kv] for kv in pairs]}
    if isinstance(value, float):
        return _float(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, datetime.datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, datetime.date):
        return {_DATE: value.isoformat()}
    msg = f"cannot store a {type(value).__name__}"
    raise ValueError(msg)


class _Classes(dict):
    """Dataclasses by ``module:qualname``: only those defined in this package's modules."""

    def __missing__(self, name: str) -> type:
        mod_name, _, qual = name.partition(":")
        pkg = __name__.rpartition(".")[0]
        mod = sys.modules.get(mod_name)
        if (
            mod is None
            and mod_name.startswith(pkg + ".")
            and mod_name[len(pkg) + 1 :].isidentifier()
        ):
            try:
                mod = importlib.import_module(mod_name)
            except ImportError:
                mod = None
        cls = getattr(mod, qual, None) if mod is not None and "." not in qual else None
        if (
            not mod_name.startswith(pkg + ".")
            or not isinstance(cls, type)
            or not dataclasses.is_dataclass(cls)
            or cls.__module__ != mod_name
        ):
            msg = f"class {name!r} is not a dataclass of {pkg}"
            raise ValueError(msg)
        self[name] = cls
        return cls


_KNOWN = _Classes()


def from_data(data: Any) -> Any:
    """The value :func:`to_data` encoded. Objects are built only of dataclasses defined in this
    package (ValueError for any other name or a malformed value)."""
    return _from(data, _KNOWN)


def _from(d: Any, known: Mapping[str, type]) -> Any:
    if isinstance(d, list):
        return [_from(v, known) for v in d]
    if not isinstance(d, dict):
        return d
    if _FLOAT in d:
        return float(d[_FLOAT])
    if _DATE in d:
        return datetime.date.fromisoformat(d[_DATE])
    if _DATETIME in d:
        return datetime.datetime.fromisoformat(d[_DATETIME])
    if _TUPLE in d:
        return tuple(_from(v, known) for v in d[_TUPLE])
    if _DICT in d:
        return {_hashable(_from(k, known)): _from(v, known) for k, v in d[_DICT]}
    if _NP in d:
        dtype, v = d[_NP]
        return np.dtype(_dtype(dtype)).type(_from(v, known))
    if _ND in d:
        dtype, shape, flat = d[_ND]
        return np.asarray([_from(v, known) for v in flat], dtype=_dtype(dtype)).reshape(shape)
    if _DC in d:
        cls = known[str(d[_DC])]
        return cls(**{k: _from(v, known) for k, v in d["f"].items()})
    msg = f"malformed value in a stage cache: keys {sorted(d)[:3]}"
    raise ValueError(msg)


def _hashable(v: Any) -> Any:
    return tuple(_hashable(x) for x in v) if isinstance(v, list) else v


def _dtype(s: str) -> np.dtype:
    dt = np.dtype(s)
    if dt.hasobject or dt.kind not in "biuf":
        msg = f"dtype {s!r} not allowed in a stage cache"
        raise ValueError(msg)
    return dt
