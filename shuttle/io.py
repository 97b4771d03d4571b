"""File input and output.

Output is atomic: written to a temporary file beside the target, then renamed, so a failure at
any point leaves no partial file at the target path. Input CSV files are read with one error
convention: a missing or unreadable file is a :class:`~shuttle.errors.DataError` naming it.
"""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import DataError, ExportError

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "read_csv_rows"]


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    Raises
    ------
    ExportError
        If the folder cannot be created or written.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        os.close(fd)
    except OSError as e:
        msg = f"{target.parent}: cannot write output folder ({e.strerror or e})"
        raise ExportError(msg) from e
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        tmp_path.chmod(0o644)
        tmp_path.replace(target)
    except OSError as e:
        msg = f"{target}: cannot write output ({e.strerror or e})"
        raise ExportError(msg) from e
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


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
        If the file is missing or cannot be read as UTF-8 text.
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            return list(csv.reader(f))
    except FileNotFoundError as e:
        msg = f"{path}: {what} not found{hint}"
        raise DataError(msg) from e
    except (OSError, UnicodeDecodeError) as e:
        msg = f"{path}: cannot read {what} ({e})"
        raise DataError(msg) from e
