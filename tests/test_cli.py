"""The CLI: help, version, one-line errors and exit codes (CliRunner, as Fiona's fio tests)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from shuttle import __version__
from shuttle.cli import main
from shuttle.config import scenario_path

COMMANDS = [
    [],
    ["network"],
    ["network", "build"],
    ["network", "info"],
    ["design"],
    ["export"],
    ["map"],
    ["report"],
    ["plan"],
    ["validate"],
]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_version(runner: CliRunner) -> None:
    r = runner.invoke(main, ["--version"])
    assert r.exit_code == 0
    assert __version__ in r.output


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "shuttle")
def test_help_on_every_command(runner: CliRunner, cmd: list[str]) -> None:
    r = runner.invoke(main, [*cmd, "--help"])
    assert r.exit_code == 0, r.output
    assert "Usage:" in r.output


def one_line_error(r, *needles: str) -> None:  # noqa: ANN001
    assert r.exit_code == 1, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1, r.output
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in r.output
    for n in needles:
        assert n in lines[0]


def test_unknown_scenario(runner: CliRunner) -> None:
    one_line_error(runner.invoke(main, ["design", "-s", "nope"]), "nope")


def test_malformed_scenario(runner: CliRunner, tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(scenario_path("nw3").read_text("utf-8").replace("routes = 8", "routes = -1"))
    one_line_error(runner.invoke(main, ["network", "build", "-s", str(p)]), str(p), "routes")


def test_missing_scenario_file(runner: CliRunner, tmp_path: Path) -> None:
    p = tmp_path / "missing.toml"
    one_line_error(runner.invoke(main, ["plan", "-s", str(p)]), str(p))


def test_corrupt_tiles(runner: CliRunner, tmp_path: Path, data_dir: Path) -> None:
    """A corrupt tile among the real ones: one line naming the tile, nothing written."""
    real = data_dir / "osm" / "vt14_seoul_2021-08"
    for src in sorted(real.glob("14/*/*.pbf")):  # link the real tiles, never copy them
        dst = tmp_path / "tiles" / src.relative_to(real)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.symlink_to(src)
    bad = tmp_path / "tiles" / "14" / "13967" / "6342.pbf"
    bad.unlink()
    bad.write_bytes(b"\x1a\xff\xff\xff garbage")
    p = tmp_path / "s.toml"
    text = scenario_path("nw3").read_text("utf-8")
    text = text.replace('path = "osm/vt14_seoul_2021-08"', f'path = "{tmp_path / "tiles"}"')
    p.write_text(text, encoding="utf-8")
    gtfs = tmp_path / "gtfs"
    r = runner.invoke(
        main,
        [
            "--cache-dir",
            str(tmp_path / "cache"),
            "plan",
            "--no-existing",
            "-s",
            str(p),
            "--gtfs-dir",
            str(gtfs),
            "--maps-dir",
            str(tmp_path / "maps"),
        ],
    )
    one_line_error(r, "6342.pbf")
    assert not gtfs.exists() or not any(gtfs.iterdir())
