"""File input and output.

Output is atomic: written to a temporary file beside the target (``.<name>.<host>-<pid>.<random>
.part``), flushed to disk, then renamed, so a failure at any point leaves no partial file at the
target path and the previous file intact. A full disk or an unwritable folder is an
:class:`~shuttle.errors.ExportError` of one line. A temporary file left by a killed process
(SIGKILL, power loss) is removed by the next write to the same folder once its process is gone.

:func:`output_batch` defers the renames of every atomic write inside it to its end, so a set of
outputs (feed, map, report) appears together or not at all; :func:`output_lock` serialises runs
that write to the same folders (``fcntl`` lock on ``<folder>/.shuttle.lock``).

Input CSV files are read with one error convention: a missing or unreadable file is a
:class:`~shuttle.errors.DataError` naming it.

For fault-injection tests, :func:`pause_point` makes a run wait at a named point when
``$SHUTTLE_TEST_PAUSE_AT`` names it (comma-separated names; atomic writes pause at
``write:<file name>``, just before the rename). If ``$SHUTTLE_TEST_PAUSE_FLAG`` names a file,
the run writes its pid there and waits until that file is removed; otherwise it waits
:data:`PAUSE_MAX_S` seconds.
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import errno
import fcntl
import logging
import os
import re
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import DataError, ExportError

__all__ = [
    "LOCK_NAME",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "clean_stale_parts",
    "output_batch",
    "output_lock",
    "pause_point",
    "read_csv_rows",
]

log = logging.getLogger(__name__)

#: Lock file made in each output folder by :func:`output_lock` (it stays; it holds no data).
LOCK_NAME = ".shuttle.lock"
#: Longest wait at a pause point without a flag file (seconds).
PAUSE_MAX_S = 300.0
_HOST = re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname())[:32] or "host"
_PART = re.compile(r"^\.(?P<name>.+)\.(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)\.[^.]+\.part$")
# pending (temporary, target) renames of the innermost output_batch, or None outside one
_BATCH: contextvars.ContextVar[list[tuple[Path, Path]] | None] = contextvars.ContextVar(
    "shuttle_io_batch", default=None
)


# ------------------------------------------------------------------------------ test hooks


def pause_point(name: str) -> None:
    """Wait here if ``$SHUTTLE_TEST_PAUSE_AT`` names this point (fault-injection tests only)."""
    wanted = os.environ.get("SHUTTLE_TEST_PAUSE_AT", "")
    if not wanted or name not in {w.strip() for w in wanted.split(",")}:
        return
    flag = os.environ.get("SHUTTLE_TEST_PAUSE_FLAG", "")
    log.warning("paused at %s (SHUTTLE_TEST_PAUSE_AT)", name)
    deadline = time.monotonic() + PAUSE_MAX_S
    if flag:
        Path(flag).write_text(f"{os.getpid()} {name}\n", encoding="utf-8")
        while Path(flag).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    else:
        time.sleep(PAUSE_MAX_S)


# ---------------------------------------------------------------------------- housekeeping


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: someone else's live process
        return True
    return True


def clean_stale_parts(folder: str | os.PathLike[str]) -> int:
    """Remove temporary files left in ``folder`` by dead processes of this host; return how many.

    Only files named like this module's temporary files are touched; those of live processes
    (a write in progress) and of other hosts (a shared folder) stay.
    """
    removed = 0
    try:
        names = [e.name for e in os.scandir(folder) if e.name.endswith(".part")]
    except OSError:
        return 0
    for name in sorted(names):
        m = _PART.match(name)
        if m is None or m["host"] != _HOST or _alive(int(m["pid"])):
            continue
        with contextlib.suppress(FileNotFoundError):
            (Path(folder) / name).unlink()
            removed += 1
            log.info("removed %s, left by an interrupted run", Path(folder) / name)
    return removed


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system can sync a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _shown(path: str | os.PathLike[str]) -> str:
    """The path for a one-line message: as is, or quoted if it holds control characters."""
    text = os.fspath(path)
    return text if text.isprintable() else repr(text)


# ---------------------------------------------------------------------------------- output


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    Inside :func:`output_batch` the rename waits for the end of the batch.

    Raises
    ------
    ExportError
        If the folder cannot be created or written (a full disk included).
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_parts(target.parent)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.{_HOST}-{os.getpid()}.", suffix=".part", dir=target.parent
        )
        os.close(fd)
    except OSError as e:
        msg = f"{target.parent}: cannot write output folder ({e.strerror or e})"
        raise ExportError(msg) from e
    tmp_path = Path(tmp)
    keep = False
    try:
        yield tmp_path
        tmp_path.chmod(0o644)
        _fsync(tmp_path)
        pause_point(f"write:{target.name}")
        batch = _BATCH.get()
        if batch is not None:
            batch.append((tmp_path, target))
            keep = True
        else:
            tmp_path.replace(target)
            _fsync_dir(target.parent)
    except OSError as e:
        msg = f"{target}: cannot write output ({e.strerror or e})"
        raise ExportError(msg) from e
    finally:
        if not keep:
            with contextlib.suppress(FileNotFoundError):
                tmp_path.unlink()


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block ends (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []
    sigs = (signal.SIGINT, signal.SIGTERM)
    old = {s: signal.getsignal(s) for s in sigs}
    for s in sigs:
        signal.signal(s, lambda signum, frame: got.append(signum))
    try:
        yield
    finally:
        for s in sigs:
            signal.signal(s, old[s])
        if got:
            signal.raise_signal(got[0])


@contextlib.contextmanager
def output_batch() -> Iterator[list[tuple[Path, Path]]]:
    """Defer the renames of the atomic writes inside the block to its end.

    On success every output is renamed into place in one quick pass (Ctrl-C and SIGTERM wait
    for it); on any exception (or Ctrl-C) none is, and the temporary files are removed, so the
    previous outputs stay as they were. Yields the pending ``(temporary, target)`` list.

    Raises
    ------
    ExportError
        If a rename fails (the outputs renamed before it stay).
    """
    pending: list[tuple[Path, Path]] = []
    token = _BATCH.set(pending)
    try:
        yield pending
    except BaseException:
        _BATCH.reset(token)
        for tmp, _ in pending:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        raise
    _BATCH.reset(token)
    pause_point("commit")
    with _signals_deferred():
        try:
            for i, (tmp, target) in enumerate(pending):
                try:
                    tmp.replace(target)
                except OSError as e:
                    for t, _ in pending[i:]:
                        with contextlib.suppress(FileNotFoundError):
                            t.unlink()
                    msg = f"{target}: cannot write output ({e.strerror or e})"
                    raise ExportError(msg) from e
        finally:
            for folder in sorted({t.parent for _, t in pending}):
                _fsync_dir(folder)


@contextlib.contextmanager
def output_lock(*folders: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive lock on each output folder (waiting for another run to finish).

    Locks are taken in sorted order of the resolved folders, so two runs never deadlock.

    Raises
    ------
    ExportError
        If a folder cannot be created or its lock file opened.
    """
    dirs = sorted({Path(f).resolve() for f in folders})
    with contextlib.ExitStack() as stack:
        for d in dirs:
            try:
                d.mkdir(parents=True, exist_ok=True)
                fd = os.open(d / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as e:
                msg = f"{d}: cannot lock the output folder ({e.strerror or e})"
                raise ExportError(msg) from e
            stack.callback(os.close, fd)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    msg = f"{d}: cannot lock the output folder ({e.strerror or e})"
                    raise ExportError(msg) from e
                log.info("waiting for another run writing to %s", d)
                fcntl.flock(fd, fcntl.LOCK_EX)
            stack.callback(fcntl.flock, fd, fcntl.LOCK_UN)
            clean_stale_parts(d)
        yield


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically and return the path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def atomic_write_text(target: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` to ``target`` atomically (LF line ends) and return the path."""
    return atomic_write_bytes(target, text.encode("utf-8"))


def read_csv_rows(path: str | os.PathLike[str], what: str, *, hint: str = "") -> list[list[str]]:
    """Read every row of a UTF-8 CSV file (a leading BOM is dropped).

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for the messages ("bus stop file").
    hint
        Added to the not-found message, e.g. " (check --data-dir or SHUTTLE_DATA)".

    Raises
    ------
    DataError
        If the file is missing, cannot be read as UTF-8 text, or is not CSV (e.g. a field past
        :func:`csv.field_size_limit`).
    """
    shown = _shown(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            try:
                return list(reader)
            except csv.Error as e:
                msg = f"{shown}: line {reader.line_num}: {what} is not valid CSV ({e})"
                raise DataError(msg) from e
    except FileNotFoundError as e:
        msg = f"{shown}: {what} not found{hint}"
        raise DataError(msg) from e
    except (OSError, UnicodeDecodeError) as e:
        msg = f"{shown}: cannot read {what} ({e})"
        raise DataError(msg) from e
    except DataError:
        raise
    except ValueError as e:  # a NUL in the path
        msg = f"{shown}: cannot read {what} ({e})"
        raise DataError(msg) from e
