"""Faults: runs killed or interrupted mid-write, two runs at once, a full disk.

The runs are ``shuttle plan`` on the toy design (tests/faultplan.py): the real CLI, lock and
writers in a subprocess, a few seconds each. ``SHUTTLE_TEST_PAUSE_AT`` stops a run at a named
point (see :func:`shuttle.io.pause_point`), where the test kills, interrupts or releases it.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from faultplan import patches, title

from shuttle import cli, io
from shuttle.errors import DataError, ExportError

HERE = Path(__file__).resolve().parent
WAIT_S = 240.0  # the machine may be busy: generous, but a hung run still fails


def _dirs(root: Path) -> tuple[Path, Path]:
    return root / "gtfs", root / "maps"


def _start(tag: str, root: Path, pause: str = "", flag: Path | None = None) -> subprocess.Popen:
    gtfs, maps = _dirs(root)
    env = dict(os.environ)
    env.pop("SHUTTLE_TEST_PAUSE_AT", None)
    env.pop("SHUTTLE_TEST_PAUSE_FLAG", None)
    if pause:
        env["SHUTTLE_TEST_PAUSE_AT"] = pause
        env["SHUTTLE_TEST_PAUSE_FLAG"] = str(flag)
    cmd = [sys.executable, str(HERE / "faultplan.py"), tag, "--gtfs-dir", gtfs, "--maps-dir", maps]
    return subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [str(c) for c in cmd],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(p: subprocess.Popen) -> tuple[int, str, str]:
    out, err = p.communicate(timeout=WAIT_S)
    return p.returncode, out, err


def _run(tag: str, root: Path) -> None:
    rc, out, err = _finish(_start(tag, root))
    assert rc == 0, err


def _wait_paused(p: subprocess.Popen, flag: Path) -> None:
    t0 = time.monotonic()
    while not flag.exists():
        if p.poll() is not None:
            raise AssertionError(f"run ended before its pause point: {p.communicate()[1]}")
        if time.monotonic() - t0 > WAIT_S:
            p.kill()
            raise AssertionError("run never reached its pause point")
        time.sleep(0.05)
    time.sleep(0.05)  # the pid is written before the wait starts


def _files(root: Path) -> dict[str, bytes]:
    """Every output file under ``root`` (lock files aside) and its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != io.LOCK_NAME and p.suffix != ".part"
    }


def _parts(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*.part"))


def _tags(root: Path, tags: tuple[str, ...]) -> dict[str, set[str]]:
    """Which run tags each output names (feed translations, map, index, report HTML and JSON)."""
    gtfs, maps = _dirs(root)
    with zipfile.ZipFile(gtfs / "nw3.zip") as z:
        texts = {"feed": z.read("translations.txt").decode("utf-8")}
    for name in ("nw3.html", "index.html", "nw3.report.html", "nw3.report.json"):
        texts[name] = (maps / name).read_text(encoding="utf-8")
    return {k: {t for t in tags if title(t) in text} for k, text in texts.items()}


def _consistent(root: Path, tag: str, others: tuple[str, ...] = ()) -> None:
    found = _tags(root, (tag, *others))
    assert all(v == {tag} for v in found.values()), found
    assert _parts(root) == []


@pytest.fixture(scope="module")
def old_outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The complete outputs of run ``old`` (made once; tests work on copies)."""
    root = tmp_path_factory.mktemp("old")
    _run("old", root)
    _consistent(root, "old")
    return root


@pytest.fixture
def baseline(old_outputs: Path, tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """A folder pair holding a copy of the outputs of run ``old``, and their bytes."""
    root = tmp_path / "out"
    shutil.copytree(old_outputs, root)
    return root, _files(root)


# --------------------------------------------------------------------------- kill / Ctrl-C


@pytest.mark.parametrize("pause", ["design", "write:nw3.report.html", "commit"])
def test_sigkill_keeps_old_outputs_and_next_run_cleans_up(
    baseline: tuple[Path, dict[str, bytes]], pause: str
) -> None:
    root, before = baseline
    flag = root / "paused"
    p = _start("new", root, pause, flag)
    _wait_paused(p, flag)
    p.send_signal(signal.SIGKILL)
    _finish(p)
    assert p.returncode == -signal.SIGKILL
    assert _files(root) == {**before, "paused": flag.read_bytes()}
    flag.unlink()
    if pause == "design":
        return
    assert _parts(root), "the kill should have left temporary files"
    if pause == "commit":  # every output staged: the next run must clear them all
        _run("next", root)
        _consistent(root, "next", ("old", "new"))


def test_ctrl_c_mid_write_keeps_old_outputs_and_leaves_no_temp_files(
    baseline: tuple[Path, dict[str, bytes]],
) -> None:
    root, before = baseline
    flag = root / "paused"
    p = _start("new", root, "write:nw3.report.json", flag)
    _wait_paused(p, flag)
    p.send_signal(signal.SIGINT)
    rc, _, err = _finish(p)
    assert rc != 0
    flag.unlink(missing_ok=True)
    assert _files(root) == before
    assert _parts(root) == []


# --------------------------------------------------------------------------- two at once


def test_two_runs_at_once_the_later_writer_wins_whole(tmp_path: Path) -> None:
    """Run x holds the lock mid-write; run y waits for it, then replaces every output."""
    fx, fy = tmp_path / "x.paused", tmp_path / "y.paused"
    x = _start("x", tmp_path, "write:nw3.html", fx)
    _wait_paused(x, fx)
    y = _start("y", tmp_path, "write", fy)  # "write": just before taking the lock
    _wait_paused(y, fy)
    fy.unlink()
    time.sleep(1.0)  # y now waits on the lock x holds
    assert y.poll() is None
    assert not (_dirs(tmp_path)[1] / "nw3.html").exists()  # x has renamed nothing yet
    fx.unlink()
    assert _finish(x)[0] == 0
    assert _finish(y)[0] == 0
    _consistent(tmp_path, "y", ("x",))


def test_two_free_runs_at_once_leave_one_complete_set(tmp_path: Path) -> None:
    a, b = _start("a", tmp_path), _start("b", tmp_path)
    assert _finish(a)[0] == 0
    assert _finish(b)[0] == 0
    found = _tags(tmp_path, ("a", "b"))
    winners = set().union(*found.values())
    assert len(winners) == 1, found
    _consistent(tmp_path, winners.pop(), ("a", "b"))


# ------------------------------------------------------------------------------ full disk


def _cli_plan(tmp_path: Path, tag: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    gtfs, maps = _dirs(tmp_path)
    with monkeypatch.context() as m:
        for obj, name, value in patches(tag):
            m.setattr(obj, name, value)
        return CliRunner().invoke(
            cli.main, ["plan", "--no-existing", "--gtfs-dir", str(gtfs), "--maps-dir", str(maps)]
        )


@pytest.mark.parametrize("fail_at", [1, 2, 4])
def test_full_disk_ends_in_one_line_and_keeps_old_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_at: int
) -> None:
    """ENOSPC on the n-th flush to disk (feed, route set, map, report...)."""
    res = _cli_plan(tmp_path, "old", monkeypatch)
    assert res.exit_code == 0, res.output
    before = _files(tmp_path)
    calls = []
    real = os.fsync

    def fsync(fd: int) -> None:
        if Path(f"/proc/self/fd/{fd}").is_dir():  # folder syncs are best effort anyway
            return real(fd)
        calls.append(fd)
        if len(calls) == fail_at:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    res = _cli_plan(tmp_path, "new", monkeypatch)
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert len(lines) == 1, res.output
    assert lines[0].startswith("Error: ")
    assert "No space left on device" in lines[0]
    assert _files(tmp_path) == before
    assert _parts(tmp_path) == []


def test_enospc_while_writing_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails part-way leaves the old file and no temporary file."""
    target = tmp_path / "out.txt"
    io.atomic_write_text(target, "old\n")

    def full(self: Path, data: bytes) -> int:
        with self.open("wb") as f:
            f.write(data[:3])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(ExportError, match=r"out\.txt: cannot write output \(No space left"):
        io.atomic_write_text(target, "new text\n")
    monkeypatch.undo()
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


# ----------------------------------------------------------------------------- io helpers


def _failing_batch(folder: Path) -> None:
    with io.output_batch():
        io.atomic_write_text(folder / "a.txt", "new a")
        io.atomic_write_text(folder / "b.txt", "new b")
        assert (folder / "a.txt").read_text() == "old a"  # not yet renamed
        raise RuntimeError("stage failed")


def test_batch_renames_nothing_on_error(tmp_path: Path) -> None:
    io.atomic_write_text(tmp_path / "a.txt", "old a")
    with pytest.raises(RuntimeError, match="stage failed"):
        _failing_batch(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
    assert (tmp_path / "a.txt").read_text() == "old a"
    with io.output_batch():
        io.atomic_write_text(tmp_path / "a.txt", "new a")
        io.atomic_write_text(tmp_path / "b.txt", "new b")
    assert [p.read_text() for p in sorted(tmp_path.iterdir())] == ["new a", "new b"]


def test_stale_parts_of_dead_processes_only_are_removed(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603
    dead.wait()
    host = io._HOST  # noqa: SLF001
    names = {
        "dead": f".nw3.zip.{host}-{dead.pid}.abc123.part",
        "alive": f".nw3.zip.{host}-{os.getpid()}.abc123.part",
        "other host": f".nw3.zip.otherhost-{dead.pid}.abc123.part",
        "not ours": "download.part",
    }
    for n in names.values():
        (tmp_path / n).write_text("x")
    assert io.clean_stale_parts(tmp_path) == 1
    left = {p.name for p in tmp_path.iterdir()}
    assert left == set(names.values()) - {names["dead"]}


# ------------------------------------------------------------------- reader errors (fuzz finds)


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda d: d / "missing.csv", "OD file not found"),
        (lambda d: "a\x00b", r"'a\\x00b': cannot read OD file \(embedded null byte\)"),
        (lambda d: f"{d}/a\nb.csv", r"\\n.*OD file not found"),  # one line, quoted
        (lambda d: d, "cannot read OD file"),  # a folder
    ],
)
def test_csv_reader_path_errors_are_one_line(tmp_path: Path, make: Any, needle: str) -> None:
    with pytest.raises(DataError, match=needle) as e:
        io.read_csv_rows(make(tmp_path), "OD file")
    assert "\n" not in str(e.value)


def test_csv_reader_huge_field_is_a_data_error(tmp_path: Path) -> None:
    """A field past csv.field_size_limit() (131072 characters) raised csv.Error before."""
    p = tmp_path / "od.csv"
    p.write_text('origin,destination,trips\n"' + "9" * 200_000 + '",1,2\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"od\.csv: line 2: OD file is not valid CSV"):
        io.read_csv_rows(p, "OD file")
