"""The existing Seoul bus and subway networks, read from the city's open data.

Pure readers: every function takes the paths (or parsed rows) it needs and returns frozen
dataclasses; nothing here knows the road graph. :mod:`shuttle.baseline` places the routes on
the road graph and writes their GTFS feed.

Files (``transit/`` in the data directory, see its ``SOURCES.md``):

``seoul_bus_route_stops_OA-1095_2024.csv`` (:func:`read_route_stops`)
    The ordered stops of every Seoul bus route (OA-1095). One row per route and stop:
    ``ROUTE_ID, 노선명, 순번, NODE_ID, ARS_ID, 정류소명, X좌표, Y좌표``. The sequence is the whole
    circuit, out and back (the last stop is at or near the first).
``seoul_bus_route_info_2024.csv`` (:func:`read_route_info`)
    One row per route and operator: ``업체명, 노선번호, 유형 (colour), 기점명, 종점명, 인가대수,
    배차간격, 거리 (km), 운행시간 (min), 최소배차, 최대배차, 첫차시간, 막차시간``. Length and
    running time are for the whole circuit (FIELD_NOTES.md).
``seoul_bus_route_status_TOPIS_2023-03.xlsx`` (:func:`read_route_status`)
    TOPIS route status of March 2023 (no village routes): the second source of a route's
    round-trip minutes and length when the 2024 table lacks them. Read with the standard library
    (an ``.xlsx`` is a zip of XML).
``seoul_metro_graph_2020-12.gml`` (:func:`read_metro`)
    Metro stations (one node per station and line) and station-to-station links per line.

Headways by period (:class:`BusRoute`): ``peak`` is the table's minimum headway (최소배차),
``offpeak`` its typical headway (배차간격) and ``evening`` its maximum headway (최대배차); the table
gives no per-period figures, and Seoul routes run their shortest headway in the rush hours and
their longest late in the evening.

Nothing is guessed silently: :func:`import_bus_routes` returns every route it could not take, or
took with a caveat, as an :class:`Issue`.
"""

from __future__ import annotations

import csv
import html
import logging
import math
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from .errors import DataError

__all__ = [
    "ARS_DISTRICT_PREFIX",
    "COLOR_KINDS",
    "BusRoute",
    "Issue",
    "RailLine",
    "RailStation",
    "RouteInfo",
    "RouteStatus",
    "RouteStops",
    "TransitStop",
    "import_bus_routes",
    "import_rail_lines",
    "read_metro",
    "read_route_info",
    "read_route_status",
    "read_route_stops",
    "serves_ars",
]

log = logging.getLogger(__name__)

#: First two digits of the ARS number -> gu code (checked against stop names in SOURCES.md):
#: 01-25 in gu-code order; in the bus stop list 98-100 % of each prefix's stops lie in its gu.
ARS_DISTRICT_PREFIX: dict[str, int] = {
    f"{k:02d}": gu for k, gu in enumerate(
        (11110, 11140, 11170, 11200, 11215, 11230, 11260, 11290, 11305, 11320, 11350, 11380,
         11410, 11440, 11470, 11500, 11530, 11545, 11560, 11590, 11620, 11650, 11680, 11710,
         11740),
        start=1,
    )
}  # fmt: skip

#: Colour of the route table's 유형 column -> (Korean, English) route kind.
COLOR_KINDS: dict[str, tuple[str, str]] = {
    "3B80AE": ("간선", "trunk"),
    "598526": ("지선", "branch"),
    "FF0000": ("광역", "express"),
    "C68400": ("순환", "circular"),
    "451E00": ("공항", "airport"),
}

_STOPS_HEADER = ("ROUTE_ID", "노선명", "순번", "NODE_ID", "ARS_ID", "정류소명", "X좌표", "Y좌표")
_INFO_HEADER = (
    "업체명",
    "노선번호",
    "유형",
    "기점명",
    "종점명",
    "인가대수",
    "배차간격",
    "거리",
    "운행시간",
    "최소배차",
    "최대배차",
    "첫차시간",
    "막차시간",
)


@dataclass(frozen=True, slots=True)
class TransitStop:
    """A stop of the existing bus network."""

    node_id: str  # TOPIS NODE_ID (unique per stop and side of the road)
    ars: str  # 5-digit ARS number shown at the stop (text, may start with 0)
    name: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class RouteStops:
    """The ordered stop sequence of one route, as in OA-1095."""

    route_id: str  # TOPIS ROUTE_ID
    name: str  # 노선명, e.g. "7612", "마포01"
    seqs: tuple[int, ...]  # 순번 of each stop, ascending
    stops: tuple[TransitStop, ...]

    @property
    def has_gap(self) -> bool:
        """True when the 순번 sequence skips a number (a stop row is missing)."""
        return self.seqs != tuple(range(self.seqs[0], self.seqs[0] + len(self.seqs)))


@dataclass(frozen=True, slots=True)
class RouteInfo:
    """One route's row(s) of the 2024 route table (one row per operator, merged)."""

    name: str  # 노선번호
    operators: tuple[str, ...]  # 업체명, sorted
    color: str  # "RRGGBB" from 유형, "" when 유형 is a word (관광)
    type_label: str  # 유형 when it is a word, else ""
    origin: str  # 기점명
    terminal: str  # 종점명 (turning point)
    buses: int | None  # 인가대수
    headway_min: float | None  # 배차간격 (typical)
    min_headway_min: float | None  # 최소배차
    max_headway_min: float | None  # 최대배차
    length_km: float | None  # 거리, whole circuit
    run_min: float | None  # 운행시간, whole circuit
    first_s: int | None  # 첫차시간, seconds after midnight
    last_s: int | None  # 막차시간 (past midnight when earlier than the first bus)


@dataclass(frozen=True, slots=True)
class RouteStatus:
    """One route's row of the TOPIS March 2023 status sheet."""

    name: str
    operator: str
    kind: str  # 간선 | 지선 | 광역 | 순환 | 심야 | 맞춤
    length_km: float | None
    round_trip_min: float | None
    trips_per_day: int | None
    min_headway_min: float | None
    max_headway_min: float | None
    first_s: int | None = None  # first bus, seconds after midnight
    last_s: int | None = None  # last bus
    origin: str = ""
    terminal: str = ""
    buses: int | None = None  # licensed buses


@dataclass(frozen=True, slots=True)
class BusRoute:
    """An existing bus route: its stops and its service, ready to place on the road graph."""

    route_id: str  # TOPIS ROUTE_ID
    name: str  # 노선명
    kind_ko: str  # 간선, 지선, 광역, 순환, 공항, 마을, 심야
    kind_en: str
    color: str  # "RRGGBB" (the table's colour)
    operators: tuple[str, ...]
    origin: str
    terminal: str
    stops: tuple[TransitStop, ...]  # the whole circuit, in order
    headways_min: tuple[tuple[str, float], ...]  # (period, minutes): peak, offpeak, evening
    first_s: int  # first departure, seconds after midnight
    last_s: int  # last departure (may pass 86400)
    buses: int | None
    length_km: float | None  # table length of the circuit
    run_min: float | None  # table running time of the circuit
    run_min_source: str = ""  # "info 2024", "TOPIS 2023-03" or "" when unknown

    def headway(self, period: str) -> float:
        """Return the headway (minutes) of a period."""
        return dict(self.headways_min)[period]


@dataclass(frozen=True, slots=True)
class Issue:
    """A route or stop the importer could not take, or took with a caveat."""

    route: str  # route name (노선명) or line code
    kind: str  # e.g. "not in route table", "sequence gap", "stop off graph"
    detail: str
    imported: bool  # False: the route was left out


@dataclass(frozen=True, slots=True)
class RailStation:
    """A metro station on one line."""

    station_id: str  # the graph's station label, e.g. "2615"
    name: str
    line: str  # line code: "1".."9", "K" (경의중앙), "A" (공항철도), ...
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class RailLine:
    """A metro line: stations, the links between consecutive stations, service figures."""

    line: str
    stations: tuple[RailStation, ...]  # sorted by station_id
    links: tuple[tuple[str, str, float], ...]  # (station_id, station_id, straight-line m)
    headways_min: tuple[tuple[str, float], ...] = ()  # (period, minutes)
    speed_kph: float = 0.0  # scheduled speed incl. stops
    districts: tuple[int, ...] = field(default=())  # scenario districts it has a station in

    def run_s(self, a: str, b: str) -> int:
        """Return the modelled run time between two linked stations (seconds)."""
        for u, v, m in self.links:
            if {u, v} == {a, b}:
                return max(1, round(m / (self.speed_kph / 3.6)))
        msg = f"Line {self.line}: stations {a} and {b} are not linked."
        raise DataError(msg)


# ----------------------------------------------------------------------------------------------
# readers


def _read_rows(path: Path, header: Sequence[str], what: str) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            missing = [h for h in header if h not in (reader.fieldnames or ())]
            if missing:
                msg = f"{path}: not a {what} file (missing column {missing[0]!r})."
                raise DataError(msg)
            return list(reader)
    except FileNotFoundError as e:
        msg = f"{path}: {what} file not found."
        raise DataError(msg) from e
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        msg = f"{path}: cannot read the {what} file ({e})."
        raise DataError(msg) from e


def _float(value: str | None, path: Path, line: int, key: str) -> float | None:
    v = (value or "").strip()
    if not v:
        return None
    try:
        x = float(v)
    except ValueError as e:
        msg = f"{path}: line {line}: {key} = {v!r} is not a number."
        raise DataError(msg) from e
    if not math.isfinite(x):
        msg = f"{path}: line {line}: {key} = {v!r} is not a finite number."
        raise DataError(msg)
    return x


def _hhmm(value: str | None, path: Path, line: int, key: str) -> int | None:
    v = (value or "").strip()
    if not v:
        return None
    m = re.fullmatch(r"(\d{1,2}):([0-5]\d)(?::\d\d)?", v)
    if not m:
        msg = f"{path}: line {line}: {key} = {v!r} is not a time HH:MM."
        raise DataError(msg)
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60


def read_route_stops(path: str | os.PathLike[str]) -> tuple[RouteStops, ...]:
    """Read the ordered stop sequences of every route (OA-1095).

    Parameters
    ----------
    path
        ``transit/seoul_bus_route_stops_OA-1095_2024.csv``.

    Returns
    -------
    tuple of RouteStops
        One per ROUTE_ID, sorted by route name then ROUTE_ID; stops in 순번 order.

    Raises
    ------
    DataError
        If the file is missing, lacks a column, or a row has a bad number or coordinate.
    """
    p = Path(path)
    rows = _read_rows(p, _STOPS_HEADER, "bus route stops (OA-1095)")
    by_route: dict[str, list[tuple[int, TransitStop]]] = {}
    names: dict[str, str] = {}
    for i, r in enumerate(rows, start=2):
        rid = r["ROUTE_ID"].strip()
        try:
            seq = int(r["순번"])
        except ValueError as e:
            msg = f"{p}: line {i}: 순번 = {r['순번']!r} is not an integer."
            raise DataError(msg) from e
        lon = _float(r["X좌표"], p, i, "X좌표")
        lat = _float(r["Y좌표"], p, i, "Y좌표")
        if lon is None or lat is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            msg = f"{p}: line {i}: ({r['Y좌표']}, {r['X좌표']}) is not a WGS84 position."
            raise DataError(msg)
        stop = TransitStop(
            node_id=r["NODE_ID"].strip(),
            ars=r["ARS_ID"].strip(),
            name=r["정류소명"].strip(),
            lat=lat,
            lon=lon,
        )
        by_route.setdefault(rid, []).append((seq, stop))
        names.setdefault(rid, r["노선명"].strip())
    out = []
    for rid, seq_stops in by_route.items():
        seq_stops.sort(key=lambda t: t[0])
        out.append(
            RouteStops(
                route_id=rid,
                name=names[rid],
                seqs=tuple(s for s, _ in seq_stops),
                stops=tuple(st for _, st in seq_stops),
            )
        )
    return tuple(sorted(out, key=lambda r: (r.name, r.route_id)))


def read_route_info(path: str | os.PathLike[str]) -> dict[str, RouteInfo]:
    """Read the 2024 route table, one :class:`RouteInfo` per route number.

    Rows of the same route by several operators are merged (operators sorted); their other
    columns are equal in the data. If they differ, the first row (in operator order) is kept and
    a warning logged.

    Raises
    ------
    DataError
        If the file is missing, lacks a column, or holds a malformed number, time or colour.
    """
    p = Path(path)
    rows = _read_rows(p, _INFO_HEADER, "bus route table")
    parsed: dict[str, list[tuple[str, RouteInfo]]] = {}
    for i, r in enumerate(rows, start=2):
        name = r["노선번호"].strip()
        raw_type = r["유형"].strip()
        color = raw_type.lstrip("#").upper() if raw_type.startswith("#") else ""
        if raw_type.startswith("#") and not re.fullmatch(r"[0-9A-F]{6}", color):
            msg = f"{p}: line {i}: 유형 = {raw_type!r} is not a colour #RRGGBB."
            raise DataError(msg)
        buses = _float(r["인가대수"], p, i, "인가대수")
        info = RouteInfo(
            name=name,
            operators=(r["업체명"].strip(),),
            color=color,
            type_label="" if color else raw_type,
            origin=r["기점명"].strip(),
            terminal=r["종점명"].strip(),
            buses=None if buses is None else int(buses),
            headway_min=_float(r["배차간격"], p, i, "배차간격"),
            min_headway_min=_float(r["최소배차"], p, i, "최소배차"),
            max_headway_min=_float(r["최대배차"], p, i, "최대배차"),
            length_km=_float(r["거리"], p, i, "거리"),
            run_min=_float(r["운행시간"], p, i, "운행시간"),
            first_s=_hhmm(r["첫차시간"], p, i, "첫차시간"),
            last_s=_hhmm(r["막차시간"], p, i, "막차시간"),
        )
        parsed.setdefault(name, []).append((info.operators[0], info))
    out: dict[str, RouteInfo] = {}
    for name, items in sorted(parsed.items()):
        items.sort(key=lambda t: t[0])
        first = items[0][1]
        ops = tuple(sorted({op for op, _ in items}))
        for _, other in items[1:]:
            if other.__class__(**{**_fields(other), "operators": first.operators}) != first:
                log.warning("route table: rows of route %s differ between operators", name)
        out[name] = RouteInfo(**{**_fields(first), "operators": ops})
    return out


def _fields(obj: object) -> dict[str, object]:
    return {k: getattr(obj, k) for k in obj.__slots__}  # type: ignore[attr-defined]


_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _xlsx_rows(path: Path) -> list[list[str]]:
    """Return the first sheet of an .xlsx as rows of cell texts (standard library only)."""
    try:
        with zipfile.ZipFile(path) as zf:
            shared: list[str] = []
            if "xl/sharedStrings.xml" in zf.namelist():
                root = ET.fromstring(zf.read("xl/sharedStrings.xml"))
                for si in root.iter(f"{_NS}si"):
                    shared.append("".join(t.text or "" for t in si.iter(f"{_NS}t")))
            sheet = ET.fromstring(zf.read("xl/worksheets/sheet1.xml"))
    except FileNotFoundError as e:
        msg = f"{path}: route status file not found."
        raise DataError(msg) from e
    except (OSError, KeyError, zipfile.BadZipFile, ET.ParseError) as e:
        msg = f"{path}: not a readable .xlsx workbook ({e})."
        raise DataError(msg) from e
    rows = []
    for row in sheet.iter(f"{_NS}row"):
        cells: dict[int, str] = {}
        for c in row.iter(f"{_NS}c"):
            ref = c.get("r", "")
            col = 0
            for ch in re.match(r"[A-Z]*", ref).group(0):  # type: ignore[union-attr]
                col = col * 26 + ord(ch) - 64
            v = c.find(f"{_NS}v")
            text = v.text if v is not None and v.text is not None else ""
            if c.get("t") == "s" and text:
                text = shared[int(text)]
            elif c.get("t") == "inlineStr":
                text = "".join(t.text or "" for t in c.iter(f"{_NS}t"))
            cells[col - 1] = text
        if cells:
            rows.append([cells.get(j, "") for j in range(max(cells) + 1)])
    return rows


def read_route_status(path: str | os.PathLike[str]) -> dict[str, RouteStatus]:
    """Read the TOPIS route status sheet (March 2023, weekday), one row per route number.

    Columns: operator, route, type, start, end, licensed, in service, spare, km, round-trip
    minutes, trips per day, min headway, max headway, first bus, last bus. Rows without a route
    number (the blank header row) are skipped.

    Raises
    ------
    DataError
        If the file is not a readable workbook or a number is malformed.
    """
    p = Path(path)
    out: dict[str, RouteStatus] = {}
    for i, row in enumerate(_xlsx_rows(p), start=1):
        row = row + [""] * (15 - len(row))
        name = row[1].strip()
        if not name or not row[0].strip():
            continue
        trips = _float(row[10], p, i, "trips per day")
        out.setdefault(
            name,
            RouteStatus(
                name=name,
                operator=row[0].strip(),
                kind=row[2].strip(),
                length_km=_float(row[8], p, i, "km"),
                round_trip_min=_float(row[9], p, i, "round-trip minutes"),
                trips_per_day=None if trips is None else int(trips),
                min_headway_min=_float(row[11], p, i, "min headway"),
                max_headway_min=_float(row[12], p, i, "max headway"),
                first_s=_xlsx_time(row[13], p, i, "first bus"),
                last_s=_xlsx_time(row[14], p, i, "last bus"),
                origin=row[3].strip(),
                terminal=row[4].strip(),
                buses=None if (b := _float(row[5], p, i, "licensed")) is None else int(b),
            ),
        )
    return out


def _xlsx_time(value: str, path: Path, line: int, key: str) -> int | None:
    v = value.strip()
    if v in ("", "-"):
        return None
    if re.fullmatch(r"\d*\.\d+", v):  # a time stored as a fraction of a day
        return round(float(v) * 86400 / 60) * 60
    return _hhmm(v.zfill(4)[:-2] + ":" + v[-2:] if v.isdigit() else v, path, line, key)


def _gml_value(text: str) -> str:
    text = text.strip()
    if text.startswith('"') and text.endswith('"'):
        text = text[1:-1]
    return html.unescape(text)


def read_metro(
    path: str | os.PathLike[str],
) -> tuple[tuple[RailStation, ...], tuple[tuple[str, str, str], ...]]:
    """Read the metro graph (GML): stations and the links between them.

    Returns
    -------
    stations
        One per station and line, sorted by (line, station_id).
    links
        ``(line, station_id, station_id)`` for every station-to-station edge of one line, sorted;
        transfer edges between lines (no line code) are dropped.

    Raises
    ------
    DataError
        If the file is missing or not the expected GML.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        msg = f"{p}: metro graph file not found."
        raise DataError(msg) from e
    except (OSError, UnicodeDecodeError) as e:
        msg = f"{p}: cannot read the metro graph ({e})."
        raise DataError(msg) from e
    blocks = re.findall(r"\b(node|edge)\s*\[(.*?)\]", text, flags=re.DOTALL)
    if not blocks:
        msg = f"{p}: not a GML graph (no node or edge blocks)."
        raise DataError(msg)
    nodes: dict[str, RailStation] = {}
    edges: list[tuple[str, str, str]] = []
    for kind, body in blocks:
        kv: dict[str, list[str]] = {}
        for line in body.strip().splitlines():
            k, _, v = line.strip().partition(" ")
            kv.setdefault(k, []).append(_gml_value(v))
        try:
            if kind == "node":
                pos = [float(x) for x in kv["pos"]]
                nodes[kv["id"][0]] = RailStation(
                    station_id=kv["label"][0],
                    name=kv["station_name"][0],
                    line=kv["line_no"][0],
                    lon=pos[0],
                    lat=pos[1],
                )
            else:
                edges.append((kv["source"][0], kv["target"][0], kv.get("line_no", [""])[0]))
        except (KeyError, IndexError, ValueError) as e:
            msg = f"{p}: malformed {kind} block ({e!r} missing or bad)."
            raise DataError(msg) from e
    links = set()
    for s, t, line in edges:
        if not line or s not in nodes or t not in nodes:
            continue
        a, b = sorted((nodes[s].station_id, nodes[t].station_id))
        links.add((line, a, b))
    stations = tuple(sorted(nodes.values(), key=lambda n: (n.line, n.station_id)))
    return stations, tuple(sorted(links))


# ----------------------------------------------------------------------------------------------
# import


def serves_ars(route: RouteStops, prefixes: Iterable[str]) -> bool:
    """True when one of the route's stops has an ARS number starting with one of ``prefixes``."""
    pre = tuple(prefixes)
    return any(s.ars.startswith(pre) and len(s.ars) == 5 for s in route.stops)


def _kind(name: str, color: str, label: str, status: RouteStatus | None) -> tuple[str, str]:
    if name.startswith("N") or name.startswith("심야"):
        return "심야", "night"
    if re.fullmatch(r"(서대문|마포|은평|[가-힣]+)\d+.*", name) and not name.startswith("서울"):
        return "마을", "village"
    if status is not None and status.kind == "순환":
        return "순환", "circular"
    return COLOR_KINDS.get(color, (label or "기타", "other"))


_KIND_COLORS = {ko: color for color, (ko, _) in COLOR_KINDS.items()}


def _info_from_status(st: RouteStatus) -> RouteInfo | None:
    """A route-table row built from the TOPIS sheet (None when it lacks span or trips)."""
    if st.first_s is None or st.last_s is None or not st.trips_per_day:
        return None
    last = st.last_s + (86400 if st.last_s <= st.first_s else 0)
    typical = round((last - st.first_s) / 60 / st.trips_per_day, 1)
    return RouteInfo(
        name=st.name,
        operators=(st.operator,),
        color=_KIND_COLORS.get(st.kind, ""),
        type_label=st.kind,
        origin=st.origin,
        terminal=st.terminal,
        buses=st.buses,
        headway_min=typical,
        min_headway_min=st.min_headway_min,
        max_headway_min=st.max_headway_min,
        length_km=st.length_km,
        run_min=st.round_trip_min,
        first_s=st.first_s,
        last_s=st.last_s,
    )


def import_bus_routes(
    route_stops: Sequence[RouteStops],
    info: Mapping[str, RouteInfo],
    status: Mapping[str, RouteStatus] | None = None,
    *,
    keep: Callable[[RouteStops], bool] | None = None,
    exclude: Iterable[str] = (),
) -> tuple[tuple[BusRoute, ...], tuple[Issue, ...]]:
    """Join stop sequences with the route table; report every route not taken and why.

    Parameters
    ----------
    route_stops
        From :func:`read_route_stops`.
    info
        From :func:`read_route_info` (keyed by route number).
    status
        From :func:`read_route_status`: the second source of the round-trip minutes and length,
        and of the whole service of a route missing from the 2024 table (typical headway = span
        / trips per day; reported as an issue).
    keep
        Which routes to import (e.g. ``lambda r: serves_ars(r, ("12", "13", "14"))``); all if None.
    exclude
        Route names never imported (test or junk routes), reported as such.

    Returns
    -------
    routes
        Imported routes, sorted by name then ROUTE_ID.
    issues
        One :class:`Issue` per route left out (``imported=False``) and per caveat on an imported
        route (``imported=True``: a sequence gap, a running time from TOPIS, none at all).
    """
    status = status or {}
    excluded = set(exclude)
    routes: list[BusRoute] = []
    issues: list[Issue] = []
    for rs in route_stops:
        if keep is not None and not keep(rs):
            continue
        name = rs.name
        if name in excluded:
            issues.append(Issue(name, "excluded", "listed in baseline.exclude_routes", False))
            continue
        inf = info.get(name)
        st = status.get(name)
        if inf is None and st is not None:
            inf = _info_from_status(st)
            if inf is not None:
                issues.append(
                    Issue(name, "service from TOPIS 2023-03", "not in the 2024 route table; "
                          f"typical headway = span / trips per day = {inf.headway_min:g} min",
                          True)  # fmt: skip
                )
        if inf is None:
            issues.append(
                Issue(name, "not in route table", f"ROUTE_ID {rs.route_id} has no row in the "
                      "2024 route table nor a usable one in TOPIS 2023-03 (no headway or span)",
                      False)  # fmt: skip
            )
            continue
        need = {
            "배차간격": inf.headway_min,
            "첫차시간": inf.first_s,
            "막차시간": inf.last_s,
        }
        lacking = [k for k, v in need.items() if v is None]
        if lacking:
            issues.append(Issue(name, "incomplete route table row", f"no {lacking[0]}", False))
            continue
        if len(rs.stops) < 2:
            issues.append(Issue(name, "too few stops", f"{len(rs.stops)} stop(s)", False))
            continue
        if rs.has_gap:
            missing = sorted(set(range(rs.seqs[0], rs.seqs[-1] + 1)) - set(rs.seqs))
            issues.append(
                Issue(name, "sequence gap", f"순번 {', '.join(map(str, missing[:5]))} missing; "
                      "the route is joined across the gap", True)  # fmt: skip
            )
        run_min, src = inf.run_min, "info 2024"
        if run_min is None and st is not None and st.round_trip_min:
            run_min, src = st.round_trip_min, "TOPIS 2023-03"
            issues.append(Issue(name, "running time from TOPIS", f"{run_min:g} min", True))
        elif run_min is None:
            src = ""
            issues.append(Issue(name, "no running time", "neither table gives 운행시간", True))
        length = inf.length_km
        if length is None and st is not None:
            length = st.length_km
        typical = float(inf.headway_min)  # type: ignore[arg-type]
        peak = inf.min_headway_min or typical
        evening = inf.max_headway_min or typical
        last = int(inf.last_s)  # type: ignore[arg-type]
        first = int(inf.first_s)  # type: ignore[arg-type]
        if last <= first:
            last += 86400
        kind_ko, kind_en = _kind(name, inf.color, inf.type_label, st)
        routes.append(
            BusRoute(
                route_id=rs.route_id,
                name=name,
                kind_ko=kind_ko,
                kind_en=kind_en,
                color=inf.color,
                operators=inf.operators,
                origin=inf.origin,
                terminal=inf.terminal,
                stops=rs.stops,
                headways_min=(("peak", peak), ("offpeak", typical), ("evening", evening)),
                first_s=first,
                last_s=last,
                buses=inf.buses,
                length_km=length,
                run_min=run_min,
                run_min_source=src,
            )
        )
    routes.sort(key=lambda r: (r.name, r.route_id))
    issues.sort(key=lambda i: (i.route, i.kind))
    return tuple(routes), tuple(issues)


def _haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * r * math.asin(math.sqrt(a))


def import_rail_lines(
    stations: Sequence[RailStation],
    links: Sequence[tuple[str, str, str]],
    district_of: Callable[[float, float], int | None],
    *,
    headways: Mapping[str, tuple[tuple[str, float], ...]],
    speed_kph: Mapping[str, float],
    default_line: str = "*",
) -> tuple[RailLine, ...]:
    """The metro lines with a station in one of the scenario's districts.

    Parameters
    ----------
    stations, links
        From :func:`read_metro`.
    district_of
        ``(lat, lon) -> gu code`` of the scenario's districts, or None outside them.
    headways, speed_kph
        Per line code; the ``default_line`` entry applies to lines not listed.

    Returns
    -------
    tuple of RailLine
        Sorted by line code; links with straight-line lengths.
    """
    by_line: dict[str, list[RailStation]] = {}
    for s in stations:
        by_line.setdefault(s.line, []).append(s)
    out = []
    for line, sts in sorted(by_line.items()):
        gus = sorted({g for s in sts if (g := district_of(s.lat, s.lon)) is not None})
        if not gus:
            continue
        pos = {s.station_id: s for s in sts}
        lk = tuple(
            (a, b, round(_haversine_m(pos[a].lat, pos[a].lon, pos[b].lat, pos[b].lon), 1))
            for ln, a, b in links
            if ln == line and a in pos and b in pos
        )
        out.append(
            RailLine(
                line=line,
                stations=tuple(sorted(sts, key=lambda s: s.station_id)),
                links=lk,
                headways_min=headways.get(line, headways.get(default_line, ())),
                speed_kph=speed_kph.get(line, speed_kph.get(default_line, 0.0)),
                districts=tuple(gus),
            )
        )
    return tuple(out)
