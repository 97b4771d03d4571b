"""Observed boardings by hour: Seoul's bus-stop (OA-12913) and subway-station (OA-12252) counts.

Readers of the two public tables in ``ridership/`` (see the data folder's SOURCES.md) and the
hourly profile of trips derived from them.

- Bus: monthly totals per route, stop (ARS number) and hour ``00..23``, boardings and alightings;
  the route name may hold commas, so a row is read from both ends (5 leading fields, 48 counts at
  the end, the name in between).
- Subway: monthly totals per line and station for the hours 04-05 ... 03-04, CP949 text.

The counts are from 2022 (January to May for buses, to November for the subway), a period still
depressed by the pandemic: use them for shapes and ratios (the hourly profile, relative demand
between stops), not as absolute totals. The monthly totals mix weekdays and weekends, so one
profile describes an average day.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError

__all__ = [
    "HourlyCounts",
    "hourly_profile",
    "read_bus_hourly",
    "read_subway_hourly",
]

log = logging.getLogger(__name__)

_BUS_HEAD = 5  # 사용년월, 노선번호, 노선명 (may hold commas), ARS, 역명
_HOURS = 24
#: month, route number, route name up to its closing parenthesis, then the ARS field
_ARS_AFTER_ROUTE = re.compile(r"[^,]*,[^,]*,.*?\),([^,]*),")


@dataclass(frozen=True, eq=False)
class HourlyCounts:
    """Boardings and alightings per place (ARS number or station name) and hour of day."""

    keys: tuple[str, ...]  # ARS numbers (5 digits) or "line|station"
    names: tuple[str, ...]  # stop or station names
    boardings: np.ndarray  # (len(keys), 24), hour 0 = 00:00-01:00
    alightings: np.ndarray  # (len(keys), 24)
    months: tuple[str, ...]  # YYYYMM covered

    def total_by_hour(self, keys: Iterable[str] | None = None) -> np.ndarray:
        """Boardings per hour, summed over ``keys`` (all when None)."""
        if keys is None:
            return self.boardings.sum(axis=0)
        idx = {k: i for i, k in enumerate(self.keys)}
        rows = [idx[k] for k in keys if k in idx]
        return self.boardings[rows].sum(axis=0) if rows else np.zeros(_HOURS)


def _int(value: str, path: Path, line: int, field: str) -> int:
    try:
        n = int(value.strip() or "0")
    except ValueError as e:
        msg = f"{path}: line {line}: {field} is not a whole number ({value!r})"
        raise DataError(msg) from e
    if n < 0:
        msg = f"{path}: line {line}: {field} is negative ({n})"
        raise DataError(msg)
    return n


def _counts(values: list[str], path: Path, line: int) -> np.ndarray:
    """Whole non-negative counts as floats (fast path; the slow one names the bad field)."""
    try:
        arr = np.array(values).astype(np.int64)
    except ValueError:
        arr = np.array([_int(v, path, line, "count") for v in values], dtype=np.int64)
    if (arr < 0).any():
        msg = f"{path}: line {line}: a count is negative ({int(arr.min())})"
        raise DataError(msg)
    return arr.astype(float)


def _zip_text(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if not n.endswith("/")]
            if len(names) != 1:
                msg = f"{path}: expected one text file in the zip, found {len(names)}"
                raise DataError(msg)
            return z.read(names[0]).decode("utf-8-sig")
    except FileNotFoundError as e:
        msg = f"{path}: ridership file not found"
        raise DataError(msg) from e
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError) as e:
        msg = f"{path}: cannot read the ridership zip ({e})"
        raise DataError(msg) from e


def read_bus_hourly(
    paths: Iterable[str | Path], *, ars: Iterable[str] | None = None
) -> HourlyCounts:
    """Read OA-12913 monthly files and sum them per stop (ARS) and hour over routes and months.

    Parameters
    ----------
    paths
        The monthly ``.txt.zip`` files.
    ars
        Keep only these ARS numbers (all when None).

    Raises
    ------
    DataError
        If a file is missing, unreadable or a row is malformed.
    """
    keep = None if ars is None else {a.zfill(5) for a in ars}
    board: dict[str, np.ndarray] = {}
    alight: dict[str, np.ndarray] = {}
    names: dict[str, str] = {}
    months: set[str] = set()
    skipped = 0
    for p in sorted(Path(x) for x in paths):
        text = _zip_text(p)
        # plain commas: the file is not quoted, and a stray '"' in a name must not open a field
        for n, line in enumerate(text.splitlines(), start=1):
            if keep is not None:  # cheap look at the ARS field first: most rows are elsewhere
                m = _ARS_AFTER_ROUTE.match(line)
                if m and m.group(1).strip().zfill(5) not in keep:
                    continue
            row = line.split(",") if line.strip() else []
            if not row or (n == 1 and not row[0].strip().isdigit()):
                continue  # blank line or a header
            if len(row) < _BUS_HEAD + 2 * _HOURS:
                msg = f"{p}: line {n}: {len(row)} fields, expected {_BUS_HEAD + 2 * _HOURS} or more"
                raise DataError(msg)
            counts = row[-2 * _HOURS :]
            head = row[: len(row) - 2 * _HOURS]
            # the route name (field 2) and the stop name may both hold commas: the name ends
            # at the first field closing its parenthesis, the ARS number follows it
            end = next((j for j in range(2, len(head) - 1) if head[j].rstrip().endswith(")")), 2)
            month, key = head[0].strip(), head[end + 1].strip().zfill(5)
            name = ",".join(head[end + 2 :]).strip()
            if not key.isdigit():  # virtual stops (가상정류장) carry "~" instead of an ARS
                skipped += 1
                continue
            if keep is not None and key not in keep:
                continue
            vals = _counts(counts, p, n)
            months.add(month)
            if key not in board:
                board[key] = np.zeros(_HOURS)
                alight[key] = np.zeros(_HOURS)
                names[key] = name
            board[key] += vals[0::2]
            alight[key] += vals[1::2]
    keys = tuple(sorted(board))
    log.debug(
        "bus ridership: %d stops, months %s, %d rows without an ARS number (virtual stops)",
        len(keys),
        ",".join(sorted(months)),
        skipped,
    )
    return HourlyCounts(
        keys=keys,
        names=tuple(names[k] for k in keys),
        boardings=np.array([board[k] for k in keys]).reshape(-1, _HOURS),
        alightings=np.array([alight[k] for k in keys]).reshape(-1, _HOURS),
        months=tuple(sorted(months)),
    )


def read_subway_hourly(
    path: str | Path, *, stations: Iterable[str] | None = None
) -> HourlyCounts:
    """Read the OA-12252 table (CP949) and sum it per line and station over the months.

    Keys are ``"line|station"`` (e.g. ``"6호선|응암"``); hours are re-based so that column 0 is
    00:00-01:00 (the table starts at 04:00).

    Raises
    ------
    DataError
        If the file is missing, unreadable or a row is malformed.
    """
    p = Path(path)
    try:
        text = p.read_bytes().decode("cp949")
    except FileNotFoundError as e:
        msg = f"{p}: subway ridership file not found"
        raise DataError(msg) from e
    except (OSError, UnicodeDecodeError) as e:
        msg = f"{p}: cannot read the subway ridership file as CP949 ({e})"
        raise DataError(msg) from e
    keep = None if stations is None else set(stations)
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or len(rows[0]) < 3 + 2 * _HOURS:
        msg = f"{p}: expected a header with 3 + 48 columns"
        raise DataError(msg)
    start_hour = int(rows[0][3][:2]) if rows[0][3][:2].isdigit() else 4
    board: dict[str, np.ndarray] = {}
    alight: dict[str, np.ndarray] = {}
    months: set[str] = set()
    for n, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) < 3 + 2 * _HOURS:
            msg = f"{p}: line {n}: {len(row)} fields, expected {3 + 2 * _HOURS} or more"
            raise DataError(msg)
        month, line, station = row[0].strip(), row[1].strip(), row[2].strip()
        if keep is not None and station not in keep:
            continue
        vals = _counts(row[3 : 3 + 2 * _HOURS], p, n)
        key = f"{line}|{station}"
        months.add(month)
        b = np.roll(vals[0::2], start_hour)
        a = np.roll(vals[1::2], start_hour)
        board[key] = board.get(key, np.zeros(_HOURS)) + b
        alight[key] = alight.get(key, np.zeros(_HOURS)) + a
    keys = tuple(sorted(board))
    return HourlyCounts(
        keys=keys,
        names=tuple(k.split("|", 1)[1] for k in keys),
        boardings=np.array([board[k] for k in keys]).reshape(-1, _HOURS),
        alightings=np.array([alight[k] for k in keys]).reshape(-1, _HOURS),
        months=tuple(sorted(months)),
    )


def hourly_profile(*counts: np.ndarray, weights: Mapping[int, float] | None = None) -> np.ndarray:
    """Share of the day's trips in each hour (sums to 1) from hourly boardings.

    Each array of 24 hourly boardings is normalised to shares first and the shares are averaged
    (``weights`` by argument position, equal by default), so a mode with more riders does not
    drown the other's shape.

    Raises
    ------
    DataError
        If no array holds any boarding.
    """
    shares = []
    w = []
    for i, c in enumerate(counts):
        arr = np.asarray(c, dtype=float).reshape(_HOURS)
        if arr.sum() > 0:
            shares.append(arr / arr.sum())
            w.append(1.0 if weights is None else float(weights.get(i, 0.0)))
    if not shares or sum(w) <= 0:
        msg = "No boardings to build an hourly profile from."
        raise DataError(msg)
    prof = np.average(np.array(shares), axis=0, weights=np.array(w))
    return prof / prof.sum()
