"""Resolve the scenario's anchors (``[[anchors]]``) to places with coordinates.

Each anchor kind is looked up in one data source (paths relative to the data directory):

``poi``
    A point of interest with exactly this name in the vector tiles (layer ``poi``), read with
    :func:`shuttle.tiles.read_pois` from the scenario's tile folder (``network.path`` when
    ``network.source = "tiles"``, else :data:`POI_TILES`). When several features share the name,
    the first by this rule wins: inside a scenario district before outside; class ``town_hall``
    before other classes, before features with no class; then by latitude and longitude.
``station``
    A subway station of :data:`STATIONS_FILE` by name (a trailing "역" in the anchor is ignored).
    With ``line`` only the rows of that line count and the place is the mean of their positions
    (the master lists some station/line pairs twice). Without ``line`` the place is the mean of the
    per-line positions of the rows inside the study area (a transfer station's centre).
``bus_stop``
    A bus stop of :data:`BUS_STOPS_FILE` by ARS number (see :func:`read_all_bus_stops`).
``point``
    The given ``lat``/``lon``.

A resolved place must lie in the study area (the districts buffered by ``network.buffer_m``).
The English name is the anchor's ``name_en``, else :func:`shuttle.names.english_name`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from shapely.geometry import Point

from . import areas, io, names
from .config import Anchor, Scenario
from .errors import ConfigError, DataError
from .model import Place

__all__ = [
    "BUS_STOPS_FILE",
    "LANDMARK_CLASSES",
    "POI_TILES",
    "landmarks",
    "STATIONS_FILE",
    "BusStop",
    "Station",
    "district_of",
    "normalize_ars",
    "read_all_bus_stops",
    "read_bus_stop_file",
    "read_stations",
    "resolve_places",
]

log = logging.getLogger(__name__)

STATIONS_FILE = "stations/seoul_station_master_OA-21232_2025-05.csv"
BUS_STOPS_FILE = "stops/seoul_bus_stop_locations_2024-01.csv"
#: Tile folder for POIs when the road network does not come from tiles.
POI_TILES = "osm/vt14_seoul_2021-08"

_CLASS_RANK = {"town_hall": 0}


class PoiLike(Protocol):
    """What :func:`resolve_places` needs of a POI (:class:`shuttle.tiles.Poi` fits)."""

    @property
    def name(self) -> str: ...  # noqa: D102
    @property
    def cls(self) -> str: ...  # noqa: D102
    @property
    def lat(self) -> float: ...  # noqa: D102
    @property
    def lon(self) -> float: ...  # noqa: D102


# ----------------------------------------------------------------------------------------------
# bus stops (the file is read here so that bus_stop anchors resolve; snapping is in stops.py)


@dataclass(frozen=True, slots=True, order=True)
class BusStop:
    """A Seoul bus stop of the TOPIS location file."""

    ars: str  # ARS number, five digits as text, e.g. "13001"
    node_id: str  # TOPIS NODE_ID, text
    name_ko: str
    lat: float  # WGS84 degrees
    lon: float
    kind: str  # stop type, e.g. 일반차로, 중앙차로, 마을버스, 가상정류장


def normalize_ars(ars: str | int) -> str:
    """Return an ARS number as text, all-digit numbers padded to five digits ("1001" -> "01001")."""
    s = str(ars).strip()
    return s.zfill(5) if s.isdigit() else s


@lru_cache(maxsize=4)
def read_bus_stop_file(path: str) -> tuple[BusStop, ...]:
    """Read a TOPIS bus stop location file (no header), sorted by ARS.

    Raises
    ------
    DataError
        If the file is missing or a row is malformed (naming the file and line).
    """
    rows = io.read_csv_rows(path, "bus stop file", hint=" (check --data-dir or SHUTTLE_DATA)")
    out = []
    for i, row in enumerate(rows, start=1):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 6:
            msg = f"{path}: line {i}: expected 6 fields (NODE_ID, ARS_ID, name, X, Y, type)"
            raise DataError(msg)
        try:
            lon, lat = float(row[-3]), float(row[-2])
        except ValueError as e:
            msg = f"{path}: line {i}: X/Y {row[-3]!r}, {row[-2]!r} are not numbers"
            raise DataError(msg) from e
        out.append(
            BusStop(
                ars=normalize_ars(row[1]),
                node_id=row[0].strip(),
                name_ko=",".join(row[2:-3]).strip(),
                lat=lat,
                lon=lon,
                kind=row[-1].strip(),
            )
        )
    if not out:
        msg = f"{path}: no bus stops found"
        raise DataError(msg)
    return tuple(sorted(out))


def read_all_bus_stops(scenario: Scenario) -> tuple[BusStop, ...]:
    """Return every bus stop of the file (all of Seoul), sorted by ARS.

    Raises
    ------
    DataError
        If the file is missing or a row is malformed.
    """
    return read_bus_stop_file(str(scenario.data_path(BUS_STOPS_FILE)))


# ----------------------------------------------------------------------------------------------
# stations


@dataclass(frozen=True, slots=True, order=True)
class Station:
    """One row of the station master (one station on one line)."""

    station_id: str  # 역사_ID, text
    name: str  # 역사명, e.g. "홍대입구"
    line: str  # 호선, e.g. "2호선"
    lat: float  # WGS84 degrees
    lon: float


@lru_cache(maxsize=4)
def _read_stations(path: str) -> tuple[Station, ...]:
    rows = io.read_csv_rows(path, "station file", hint=" (check --data-dir or SHUTTLE_DATA)")
    if not rows or [c.strip() for c in rows[0][:5]] != [
        "역사_ID",
        "역사명",
        "호선",
        "위도",
        "경도",
    ]:
        msg = f"{path}: expected the header 역사_ID,역사명,호선,위도,경도"
        raise DataError(msg)
    out = []
    for i, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        try:
            sid, name, line, lat, lon = (c.strip() for c in row[:5])
            out.append(Station(sid, name, line, float(lat), float(lon)))
        except ValueError as e:
            msg = f"{path}: line {i}: expected 5 fields with numeric 위도/경도, got {row!r}"
            raise DataError(msg) from e
    return tuple(sorted(out))


def read_stations(scenario: Scenario) -> tuple[Station, ...]:
    """Return every row of the station master (all of Seoul), sorted.

    Raises
    ------
    DataError
        If the file is missing or malformed.
    """
    return _read_stations(str(scenario.data_path(STATIONS_FILE)))


def _station_key(name: str) -> str:
    n = name.strip()
    if "(" in n:
        n = n[: n.index("(")].strip()
    if n.endswith("역") and len(n) > 2:
        n = n[:-1]
    return n


# ----------------------------------------------------------------------------------------------
# resolution


def district_of(scenario: Scenario, lat: float, lon: float) -> int | None:
    """Return the gu code of the scenario district containing a point, or None."""
    pt = Point(lon, lat)
    for code, poly in sorted(areas.district_polygons(scenario).items()):
        if poly.covers(pt):
            return code
    return None


def _where(scenario: Scenario, i: int) -> str:
    return f"{scenario.source_file or scenario.name}: anchors[{i}]"


def _resolve_poi(
    scenario: Scenario, i: int, a: Anchor, pois: Sequence[PoiLike], tile_dir: str
) -> tuple[float, float]:
    cands = [p for p in pois if p.name.strip() == a.name.strip()]
    if not cands:
        msg = f"{_where(scenario, i)}: no point of interest named {a.name!r} in {tile_dir}"
        raise ConfigError(msg)

    def rank(p: PoiLike) -> tuple[int, int, float, float]:
        inside = district_of(scenario, p.lat, p.lon) is not None
        cls_rank = _CLASS_RANK.get(p.cls, 1 if p.cls else 2)
        return (0 if inside else 1, cls_rank, p.lat, p.lon)

    best = min(cands, key=rank)
    if len(cands) > 1:
        log.debug("anchor %r: %d POIs share the name, took %s", a.name, len(cands), best)
    return best.lat, best.lon


def _mean(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    return (
        sum(p[0] for p in points) / len(points),
        sum(p[1] for p in points) / len(points),
    )


def _resolve_station(scenario: Scenario, i: int, a: Anchor) -> tuple[float, float]:
    path = scenario.data_path(STATIONS_FILE)
    key = _station_key(a.name)
    rows = [s for s in read_stations(scenario) if _station_key(s.name) == key]
    if not rows:
        msg = f"{_where(scenario, i)}: no station named {a.name!r} in {path}"
        raise ConfigError(msg)
    if a.line:
        on_line = [s for s in rows if s.line == a.line.strip()]
        if not on_line:
            lines = ", ".join(sorted({s.line for s in rows}))
            msg = (
                f"{_where(scenario, i)}: station {a.name!r} is not on line {a.line!r} in {path} "
                f"(its lines: {lines})"
            )
            raise ConfigError(msg)
        return _mean([(s.lat, s.lon) for s in on_line])
    area = areas.study_area(scenario)
    inside = [s for s in rows if area.covers(Point(s.lon, s.lat))] or rows
    by_line: dict[str, list[tuple[float, float]]] = {}
    for s in inside:
        by_line.setdefault(s.line, []).append((s.lat, s.lon))
    return _mean([_mean(by_line[line]) for line in sorted(by_line)])


def _resolve_bus_stop(scenario: Scenario, i: int, a: Anchor) -> tuple[float, float, str]:
    ars = normalize_ars(a.ars or a.name)
    for s in read_all_bus_stops(scenario):
        if s.ars == ars:
            return s.lat, s.lon, s.name_ko
    path = scenario.data_path(BUS_STOPS_FILE)
    msg = f"{_where(scenario, i)}: no bus stop with ARS number {a.ars!r} in {path}"
    raise ConfigError(msg)


def _tile_dir(scenario: Scenario) -> Path:
    if scenario.network.source == "tiles":
        return scenario.data_path(scenario.network.path)
    return scenario.data_path(POI_TILES)


#: POI classes that make good names for new stops (public landmarks residents know).
LANDMARK_CLASSES = frozenset(
    {
        "school",
        "college",
        "library",
        "town_hall",
        "police",
        "post",
        "hospital",
        "park",
        "museum",
        "stadium",
        "fire_station",
        "station",
        "art_gallery",
        "attraction",
        "theatre",
        "cinema",
        "mall",
        "monument",
    }
)
_HANGUL = re.compile("[\uac00-\ud7a3]")


def _study_pois(scenario: Scenario) -> tuple[PoiLike, ...]:
    """The tile POIs over the study area (read once per tile folder and area)."""
    area = areas.study_area(scenario)
    return _read_pois(str(_tile_dir(scenario)), tuple(area.bounds))


@lru_cache(maxsize=4)
def _read_pois(tile_dir: str, bbox: tuple[float, float, float, float]) -> tuple[PoiLike, ...]:
    from . import tiles

    return tuple(tiles.read_pois(Path(tile_dir), bbox_lonlat=bbox))


def landmarks(scenario: Scenario) -> tuple[PoiLike, ...]:
    """Named public landmarks in the study area (tile POIs), to name new stops after.

    Only POIs of :data:`LANDMARK_CLASSES` with a Korean name of at most 14 characters and no
    separators are kept; without vector tiles in the data directory there are none.
    """
    tile_dir = _tile_dir(scenario)
    if not tile_dir.is_dir():
        return ()
    out = []
    for p in _study_pois(scenario):
        name = p.name.strip()
        if (
            p.cls in LANDMARK_CLASSES
            and _HANGUL.search(name)
            and len(name) <= 14
            and not re.search(r"[\s,()/·.]", name)
        ):
            out.append(p)
    return tuple(out)


def resolve_places(
    scenario: Scenario, *, pois: Sequence[PoiLike] | None = None
) -> tuple[Place, ...]:
    """Resolve every anchor of the scenario to a place, in the scenario's order.

    Parameters
    ----------
    scenario
        The scenario whose ``anchors`` are resolved.
    pois
        Points of interest to search for ``poi`` anchors; default: read from the vector tiles
        over the study area (only if the scenario has a ``poi`` anchor).

    Returns
    -------
    tuple of Place
        One place per anchor, same order as ``scenario.anchors``; ``district`` is the gu code of
        the scenario district containing it (None in the buffer outside the districts).

    Raises
    ------
    ConfigError
        If an anchor names no POI, station or bus stop in the data, or its place lies outside
        the study area; the message names ``anchors[i]`` and the scenario file.
    DataError
        If a data file (tiles, station master, bus stops, boundaries) is missing or corrupt.
    """
    area = areas.study_area(scenario)
    tile_dir = _tile_dir(scenario)
    if pois is None and any(a.kind == "poi" for a in scenario.anchors):
        pois = _study_pois(scenario)
    by_name: dict[str, list[PoiLike]] = {}  # the POIs by name, in their order (one scan)
    for poi in pois or ():
        by_name.setdefault(poi.name.strip(), []).append(poi)
    out = []
    for i, a in enumerate(scenario.anchors):
        name_ko = a.name
        if a.kind == "poi":
            same = by_name.get(a.name.strip(), [])
            lat, lon = _resolve_poi(scenario, i, a, same, str(tile_dir))
            default_en = names.english_name(name_ko)
        elif a.kind == "station":
            lat, lon = _resolve_station(scenario, i, a)
            stem = _station_key(name_ko)
            default_en = names.english_name(f"{stem}역")
        elif a.kind == "bus_stop":
            lat, lon, stop_name = _resolve_bus_stop(scenario, i, a)
            if not name_ko or name_ko == a.ars:
                name_ko = stop_name
            default_en = names.english_name(name_ko)
        elif a.kind == "point":
            if a.lat is None or a.lon is None:
                msg = f"{_where(scenario, i)}: a point anchor needs lat and lon"
                raise ConfigError(msg)
            lat, lon = a.lat, a.lon
            default_en = names.english_name(name_ko)
        else:
            msg = f"{_where(scenario, i)}: unknown anchor kind {a.kind!r}"
            raise ConfigError(msg)
        if not area.covers(Point(lon, lat)):
            msg = (
                f"{_where(scenario, i)}: {name_ko!r} at ({lat:.5f}, {lon:.5f}) lies outside the "
                f"study area (districts {', '.join(map(str, scenario.districts))} "
                f"+ {scenario.network.buffer_m:g} m)"
            )
            raise ConfigError(msg)
        out.append(
            Place(
                name_ko=name_ko,
                name_en=a.name_en or default_en,
                kind=a.kind,
                lat=round(lat, 7),
                lon=round(lon, 7),
                district=district_of(scenario, lat, lon),
            )
        )
        log.debug("anchor %d %r -> (%.6f, %.6f)", i, name_ko, lat, lon)
    log.info("resolved %d anchors", len(out))
    return tuple(out)
