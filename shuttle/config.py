"""Scenarios: one TOML file describes one planning scenario.

A scenario names the districts, where the road data comes from, the anchor places the shuttle
must serve and the parameters of every later stage. The default scenario ``nw3`` ships inside the
package (``shuttle/scenarios/nw3.toml``). :func:`load_scenario` reads a file strictly: unknown keys,
wrong types, unknown district codes and impossible values raise :class:`~shuttle.errors.ConfigError`
naming the key and the file.

Fields (type, meaning, default):

``[scenario]``
    ``name`` (str, used for output file names, ``[A-Za-z0-9_-]+``), ``title_ko``/``title_en`` (str),
    ``agency_ko``/``agency_en``/``agency_url`` (str), ``districts`` (list of gu codes, required).
``[network]``
    ``source`` (``tiles``|``osm``|``pbf``|``graphml``|``online``, default ``tiles``), ``path`` (str,
    relative to the data directory unless absolute), ``data_date`` (str), ``buffer_m`` (float, 500),
    ``classes`` (list of road classes a bus may use), ``speeds_kph`` (table class -> km/h).
``[stops]``
    ``min_spacing_m`` (300), ``max_spacing_m`` (800), ``new_stop_radius_m`` (150),
    ``catchment_m`` (400).
``[demand]``
    ``model`` (``gravity``|``csv``), ``od_file`` (CSV ``origin,destination,trips`` of zone codes),
    ``beta_per_min`` (0.08), ``anchor_weight`` (0.25), ``trip_rate`` (0.05),
    ``inter_district_only`` (true).
``[design]``
    ``routes`` (K, 6), ``method`` (``greedy``|``anneal``), ``seed`` (int), ``min_stops`` (5),
    ``max_route_km`` (14), ``max_cycle_min`` (100), ``operator_weight`` (0..1, 0.3),
    ``transfer_penalty_min`` (5), ``walk_speed_kmh`` (4.5), ``iterations`` (4000),
    ``avoid_classes`` (road classes the stopping shuttle does not drive on; motorway, trunk).
``[service]``
    ``start_date``/``end_date`` (TOML dates), ``dwell_s`` (20), ``layover_min`` (8),
    ``min_layover_min`` (5), ``fleet_cap`` (int or absent), one table per day type
    ``weekday``/``saturday``/``sunday`` with ``span = ["HH:MM", "HH:MM"]`` and
    ``headways_min = {peak, offpeak, evening}``, and ``periods`` with the ``peak`` and ``evening``
    time windows and ``time_factors`` per period.
``[[anchors]]``
    ``kind`` (``poi``|``station``|``bus_stop``|``point``), ``name`` (Korean), ``name_en``,
    ``line`` (station line, optional), ``ars`` (bus stop ARS number), ``lat``/``lon`` (WGS84).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = [
    "DAY_TYPES",
    "DISTRICTS",
    "PERIODS",
    "Anchor",
    "DayService",
    "DemandConfig",
    "DesignConfig",
    "NetworkConfig",
    "Scenario",
    "ServiceConfig",
    "StopsConfig",
    "default_data_dir",
    "load_scenario",
    "parse_hhmm",
    "scenario_path",
]

#: Seoul gu codes (SIG_CD) -> (Korean name, English name).
DISTRICTS: dict[int, tuple[str, str]] = {
    11110: ("종로구", "Jongno-gu"),
    11140: ("중구", "Jung-gu"),
    11170: ("용산구", "Yongsan-gu"),
    11200: ("성동구", "Seongdong-gu"),
    11215: ("광진구", "Gwangjin-gu"),
    11230: ("동대문구", "Dongdaemun-gu"),
    11260: ("중랑구", "Jungnang-gu"),
    11290: ("성북구", "Seongbuk-gu"),
    11305: ("강북구", "Gangbuk-gu"),
    11320: ("도봉구", "Dobong-gu"),
    11350: ("노원구", "Nowon-gu"),
    11380: ("은평구", "Eunpyeong-gu"),
    11410: ("서대문구", "Seodaemun-gu"),
    11440: ("마포구", "Mapo-gu"),
    11470: ("양천구", "Yangcheon-gu"),
    11500: ("강서구", "Gangseo-gu"),
    11530: ("구로구", "Guro-gu"),
    11545: ("금천구", "Geumcheon-gu"),
    11560: ("영등포구", "Yeongdeungpo-gu"),
    11590: ("동작구", "Dongjak-gu"),
    11620: ("관악구", "Gwanak-gu"),
    11650: ("서초구", "Seocho-gu"),
    11680: ("강남구", "Gangnam-gu"),
    11710: ("송파구", "Songpa-gu"),
    11740: ("강동구", "Gangdong-gu"),
}

#: Day types of the service, in GTFS service_id order.
DAY_TYPES: tuple[str, ...] = ("weekday", "saturday", "sunday")
#: Timetable periods.
PERIODS: tuple[str, ...] = ("peak", "offpeak", "evening")

SOURCES = ("tiles", "osm", "pbf", "graphml", "online")
ROAD_CLASSES = (
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "minor",
    "service",
    "track",
    "path",
)
DEFAULT_SPEEDS_KPH: dict[str, float] = {
    "motorway": 60.0,
    "trunk": 45.0,
    "primary": 30.0,
    "secondary": 27.0,
    "tertiary": 24.0,
    "minor": 18.0,
    "service": 10.0,
    "track": 10.0,
    "path": 5.0,
}


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    """Where the road graph comes from and how it is filtered."""

    source: str = "tiles"  # one of SOURCES
    path: str = "osm/vt14_seoul_2021-08"  # relative to the data dir unless absolute
    data_date: str = "2021-08"  # date of the OSM snapshot, for credits
    buffer_m: float = 500.0  # buffer around the district union, metres
    classes: tuple[str, ...] = ("motorway", "trunk", "primary", "secondary", "tertiary", "minor")
    speeds_kph: tuple[tuple[str, float], ...] = tuple(sorted(DEFAULT_SPEEDS_KPH.items()))

    def speed_for(self, road_class: str) -> float:
        """Return the free-flow speed (km/h) of a road class."""
        return dict(self.speeds_kph).get(road_class, DEFAULT_SPEEDS_KPH["minor"])


@dataclass(frozen=True, slots=True)
class StopsConfig:
    """Stop placement parameters (metres)."""

    min_spacing_m: float = 300.0
    max_spacing_m: float = 800.0
    new_stop_radius_m: float = 150.0  # a place with no bus stop this close gets a new stop
    catchment_m: float = 400.0  # walking catchment for coverage


@dataclass(frozen=True, slots=True)
class DemandConfig:
    """Demand model parameters."""

    model: str = "gravity"  # gravity | csv
    od_file: str | None = None  # CSV origin,destination,trips (zone codes)
    beta_per_min: float = 0.08  # gravity deterrence exp(-beta * minutes)
    anchor_weight: float = 0.25  # extra attraction per anchor, share of mean zone population
    trip_rate: float = 0.05  # trips per resident per day
    inter_district_only: bool = True  # drop intra-district pairs


@dataclass(frozen=True, slots=True)
class DesignConfig:
    """Route design parameters."""

    routes: int = 6  # K
    method: str = "anneal"  # greedy | anneal
    seed: int = 20211
    min_stops: int = 5  # fewest stops on a route
    max_route_km: float = 14.0  # longest one-way route
    max_cycle_min: float = 100.0  # longest cycle (both ways + layovers), minutes
    operator_weight: float = 0.3  # 0 = passengers only, 1 = operator only
    transfer_penalty_min: float = 5.0
    walk_speed_kmh: float = 4.5
    iterations: int = 4000  # improvement iterations
    avoid_classes: tuple[str, ...] = ("motorway", "trunk")  # roads a stopping shuttle avoids


@dataclass(frozen=True, slots=True)
class DayService:
    """Span and headways (minutes) of one day type."""

    start_s: int  # first departure, seconds after midnight
    end_s: int  # last departure, seconds after midnight (may pass 86400)
    headways_min: tuple[tuple[str, float], ...]  # (period, minutes), periods in PERIODS order

    def headway(self, period: str) -> float:
        """Return the headway (minutes) of a period."""
        return dict(self.headways_min)[period]


#: Default span and headways (minutes) of each day type.
_DEFAULT_DAYS: dict[str, tuple[str, str, dict[str, float]]] = {
    "weekday": ("06:00", "23:00", {"peak": 12.0, "offpeak": 15.0, "evening": 20.0}),
    "saturday": ("07:00", "22:00", {"peak": 15.0, "offpeak": 15.0, "evening": 20.0}),
    "sunday": ("07:00", "22:00", {"peak": 20.0, "offpeak": 20.0, "evening": 30.0}),
}


def _default_days() -> tuple[tuple[str, DayService], ...]:
    def hhmm(t: str) -> int:
        h, m = t.split(":")
        return int(h) * 3600 + int(m) * 60

    return tuple(
        (day, DayService(hhmm(a), hhmm(b), tuple((p, hw[p]) for p in PERIODS)))
        for day, (a, b, hw) in _DEFAULT_DAYS.items()
    )


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """Service calendar, day types, periods and terminal times."""

    start_date: dt.date = dt.date(2027, 1, 4)
    end_date: dt.date = dt.date(2027, 12, 31)
    dwell_s: int = 20
    layover_min: float = 8.0
    min_layover_min: float = 5.0
    fleet_cap: int | None = None
    days: tuple[tuple[str, DayService], ...] = field(default_factory=_default_days)
    peak: tuple[tuple[int, int], ...] = ((25200, 34200), (61200, 70200))  # windows, seconds
    evening: tuple[tuple[int, int], ...] = ((72000, 86400),)
    time_factors: tuple[tuple[str, float], ...] = (
        ("evening", 1.0),
        ("offpeak", 1.15),
        ("peak", 1.35),
    )

    def day(self, day_type: str) -> DayService:
        """Return the service of a day type."""
        return dict(self.days)[day_type]

    def period_at(self, t_s: int) -> str:
        """Return the period ('peak', 'offpeak' or 'evening') a time of day falls in.

        Times past midnight (``t_s >= 86400``) outside every window count as evening service.
        """
        if any(a <= t_s < b for a, b in self.peak):
            return "peak"
        if any(a <= t_s < b for a, b in self.evening) or t_s >= 86400:
            return "evening"
        return "offpeak"

    def time_factor(self, period: str) -> float:
        """Return the run-time factor of a period."""
        return dict(self.time_factors).get(period, 1.0)


@dataclass(frozen=True, slots=True)
class Anchor:
    """A place the shuttle must serve, as written in the scenario (resolved later)."""

    kind: str  # poi | station | bus_stop | point
    name: str  # Korean name (or the ARS number for bus stops)
    name_en: str = ""
    line: str | None = None  # station line filter, e.g. "2호선"
    ars: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    """One planning scenario (immutable; use ``dataclasses.replace`` to change it)."""

    name: str
    districts: tuple[int, ...]
    title_ko: str = ""
    title_en: str = ""
    agency_ko: str = ""
    agency_en: str = ""
    agency_url: str = "https://www.seoul.go.kr/"
    network: NetworkConfig = field(default_factory=NetworkConfig)
    stops: StopsConfig = field(default_factory=StopsConfig)
    demand: DemandConfig = field(default_factory=DemandConfig)
    design: DesignConfig = field(default_factory=DesignConfig)
    service: ServiceConfig = field(default_factory=ServiceConfig)
    anchors: tuple[Anchor, ...] = ()
    source_file: str = ""  # the TOML file it was read from
    data_dir: str = ""  # absolute data directory used to resolve relative paths

    def data_path(self, rel: str) -> Path:
        """Resolve a path from the scenario against the data directory."""
        p = Path(rel).expanduser()
        if p.is_absolute():
            return p
        return Path(self.data_dir) / p

    def district_names(self) -> tuple[tuple[int, str, str], ...]:
        """Return ``(code, name_ko, name_en)`` of each district of the scenario."""
        return tuple((c, *DISTRICTS[c]) for c in self.districts)


# ----------------------------------------------------------------------------------------------
# loading


def scenario_path(name_or_file: str | os.PathLike[str] | None) -> Path:
    """Return the TOML file of a scenario given by packaged name (``nw3``) or by path."""
    if name_or_file is None:
        name_or_file = "nw3"
    s = str(name_or_file)
    if not s.endswith(".toml") and os.sep not in s and "/" not in s:
        res = resources.files("shuttle") / "scenarios" / f"{s}.toml"
        if res.is_file():
            return Path(str(res))
        msg = f"Unknown scenario {s!r}: give a packaged name (nw3) or a .toml file."
        raise ConfigError(msg)
    return Path(s)


def default_data_dir() -> Path:
    """Return the data directory: ``$SHUTTLE_DATA``, else ``../shared/data`` beside the repo."""
    env = os.environ.get("SHUTTLE_DATA")
    if env:
        return Path(env).expanduser().resolve()
    here = Path(__file__).resolve().parent.parent  # the repo (editable install)
    for base in (Path.cwd(), here):
        cand = base.parent / "shared" / "data"
        if cand.is_dir():
            return cand.resolve()
    return (here.parent / "shared" / "data").resolve()


class _Reader:
    """Strict typed access to one TOML table, naming the file and the key in every error."""

    def __init__(self, table: dict[str, Any], where: str, file: str) -> None:
        self.t = table
        self.where = where
        self.file = file
        self.used: set[str] = set()

    def _err(self, key: str, what: str) -> ConfigError:
        k = f"{self.where}.{key}" if self.where else key
        return ConfigError(f"{self.file}: {k}: {what}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        self.used.add(key)
        if key not in self.t:
            return default
        v = self.t[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if isinstance(v, bool) and bool not in kinds:
            raise self._err(key, f"expected {_names(kinds)}, got {v!r}")
        if not isinstance(v, kinds):
            raise self._err(key, f"expected {_names(kinds)}, got {type(v).__name__} {v!r}")
        return v

    def positive(self, key: str, default: float, *, allow_zero: bool = False) -> float:
        v = self.get(key, float, default)
        if not math.isfinite(v):
            raise self._err(key, f"must be a finite number, got {v!r}")
        if v < 0 or (v == 0 and not allow_zero):
            raise self._err(key, f"must be {'>= 0' if allow_zero else '> 0'}, got {v!r}")
        return float(v)

    def table(self, key: str) -> _Reader:
        v = self.get(key, dict, {})
        return _Reader(v, f"{self.where}.{key}" if self.where else key, self.file)

    def check_unknown(self) -> None:
        extra = sorted(set(self.t) - self.used)
        if extra:
            k = f"{self.where}.{extra[0]}" if self.where else extra[0]
            msg = f"{self.file}: unknown key {k!r}"
            raise ConfigError(msg)


def _names(kinds: tuple[type, ...]) -> str:
    return " or ".join(
        {"str": "a string", "float": "a number", "int": "an integer", "bool": "true/false"}.get(
            k.__name__, k.__name__
        )
        for k in kinds
    )


def parse_hhmm(value: str, *, where: str = "time") -> int:
    """Parse ``HH:MM`` (hours may pass 24) to seconds after midnight.

    Raises
    ------
    ConfigError
        If the text is not ``HH:MM``.
    """
    m = re.fullmatch(r"(\d{1,2}):([0-5]\d)", value.strip()) if isinstance(value, str) else None
    if not m:
        msg = f"{where}: expected a time 'HH:MM', got {value!r}"
        raise ConfigError(msg)
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60


def load_scenario(
    path: str | os.PathLike[str] | None = None, *, data_dir: str | os.PathLike[str] | None = None
) -> Scenario:
    """Read a scenario TOML file strictly.

    Parameters
    ----------
    path
        A ``.toml`` file, or the name of a packaged scenario; ``None`` gives ``nw3``.
    data_dir
        Data directory for relative paths; default :func:`default_data_dir`.

    Returns
    -------
    Scenario
        The validated scenario.

    Raises
    ------
    ConfigError
        If the file is missing or malformed, or a key is unknown, of the wrong type or out of range.
    """
    file = scenario_path(path)
    fname = str(file)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        msg = f"{fname}: scenario file not found"
        raise ConfigError(msg) from e
    except (OSError, UnicodeDecodeError) as e:
        msg = f"{fname}: cannot read scenario file ({e})"
        raise ConfigError(msg) from e
    except tomllib.TOMLDecodeError as e:
        msg = f"{fname}: not valid TOML ({e})"
        raise ConfigError(msg) from e
    ddir = Path(data_dir).expanduser().resolve() if data_dir else default_data_dir()
    return _parse(raw, fname, str(ddir))


def _parse(raw: dict[str, Any], fname: str, data_dir: str) -> Scenario:
    top = _Reader(raw, "", fname)
    sc = top.table("scenario")
    name = sc.get("name", str)
    if name is None:
        raise sc._err("name", "missing (required)")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise sc._err("name", f"use letters, digits, '-' and '_' only, got {name!r}")
    districts = sc.get("districts", list)
    if not districts:
        raise sc._err("districts", "missing or empty (give gu codes such as 11410)")
    for d in districts:
        if isinstance(d, bool) or not isinstance(d, int):
            raise sc._err("districts", f"expected integer gu codes, got {d!r}")
        if d not in DISTRICTS:
            raise sc._err("districts", f"unknown district code {d} (Seoul gu codes 11110-11740)")
    if len(set(districts)) != len(districts):
        raise sc._err("districts", "a district code is listed twice")
    scen_kw: dict[str, Any] = {
        "name": name,
        "districts": tuple(districts),
        "title_ko": sc.get("title_ko", str, ""),
        "title_en": sc.get("title_en", str, ""),
        "agency_ko": sc.get("agency_ko", str, ""),
        "agency_en": sc.get("agency_en", str, ""),
        "agency_url": sc.get("agency_url", str, "https://www.seoul.go.kr/"),
    }
    sc.check_unknown()

    scen_kw["network"] = _parse_network(top.table("network"))
    scen_kw["stops"] = _parse_stops(top.table("stops"))
    scen_kw["demand"] = _parse_demand(top.table("demand"))
    scen_kw["design"] = _parse_design(top.table("design"))
    scen_kw["service"] = _parse_service(top.table("service"))
    anchors_raw = top.get("anchors", list, [])
    scen_kw["anchors"] = tuple(_parse_anchor(a, i, fname) for i, a in enumerate(anchors_raw))
    top.check_unknown()
    return Scenario(**scen_kw, source_file=fname, data_dir=data_dir)


def _parse_network(r: _Reader) -> NetworkConfig:
    d = NetworkConfig()
    source = r.get("source", str, d.source)
    if source not in SOURCES:
        raise r._err("source", f"must be one of {', '.join(SOURCES)}, got {source!r}")
    classes = r.get("classes", list, list(d.classes))
    for c in classes:
        if c not in ROAD_CLASSES:
            raise r._err("classes", f"unknown road class {c!r} (known: {', '.join(ROAD_CLASSES)})")
    if not classes:
        raise r._err("classes", "must name at least one road class")
    sp = r.table("speeds_kph")
    speeds = dict(DEFAULT_SPEEDS_KPH)
    for k in list(sp.t):
        if k not in ROAD_CLASSES:
            raise sp._err(k, f"unknown road class (known: {', '.join(ROAD_CLASSES)})")
        speeds[k] = sp.positive(k, speeds[k])
    sp.check_unknown()
    out = NetworkConfig(
        source=source,
        path=r.get("path", str, d.path if source == "tiles" else ""),
        data_date=r.get("data_date", str, d.data_date),
        buffer_m=r.positive("buffer_m", d.buffer_m, allow_zero=True),
        classes=tuple(classes),
        speeds_kph=tuple(sorted(speeds.items())),
    )
    if source != "online" and not out.path:
        raise r._err("path", f"required for source {source!r}")
    r.check_unknown()
    return out


def _parse_stops(r: _Reader) -> StopsConfig:
    d = StopsConfig()
    out = StopsConfig(
        min_spacing_m=r.positive("min_spacing_m", d.min_spacing_m),
        max_spacing_m=r.positive("max_spacing_m", d.max_spacing_m),
        new_stop_radius_m=r.positive("new_stop_radius_m", d.new_stop_radius_m),
        catchment_m=r.positive("catchment_m", d.catchment_m),
    )
    if out.max_spacing_m < out.min_spacing_m:
        raise r._err("max_spacing_m", f"must be >= min_spacing_m ({out.min_spacing_m})")
    r.check_unknown()
    return out


def _parse_demand(r: _Reader) -> DemandConfig:
    d = DemandConfig()
    model = r.get("model", str, d.model)
    if model not in ("gravity", "csv"):
        raise r._err("model", f"must be 'gravity' or 'csv', got {model!r}")
    out = DemandConfig(
        model=model,
        od_file=r.get("od_file", str, None),
        beta_per_min=r.positive("beta_per_min", d.beta_per_min, allow_zero=True),
        anchor_weight=r.positive("anchor_weight", d.anchor_weight, allow_zero=True),
        trip_rate=r.positive("trip_rate", d.trip_rate),
        inter_district_only=r.get("inter_district_only", bool, d.inter_district_only),
    )
    if model == "csv" and not out.od_file:
        raise r._err("od_file", "required when model = 'csv'")
    r.check_unknown()
    return out


def _parse_design(r: _Reader) -> DesignConfig:
    d = DesignConfig()
    routes = r.get("routes", int, d.routes)
    if routes < 1:
        raise r._err("routes", f"must be >= 1, got {routes}")
    method = r.get("method", str, d.method)
    if method not in ("greedy", "anneal"):
        raise r._err("method", f"must be 'greedy' or 'anneal', got {method!r}")
    w = r.get("operator_weight", float, d.operator_weight)
    if not 0.0 <= w <= 1.0:
        raise r._err("operator_weight", f"must be between 0 and 1, got {w}")
    min_stops = r.get("min_stops", int, d.min_stops)
    if min_stops < 2:
        raise r._err("min_stops", f"must be >= 2, got {min_stops}")
    iterations = r.get("iterations", int, d.iterations)
    if iterations < 0:
        raise r._err("iterations", f"must be >= 0, got {iterations}")
    out = DesignConfig(
        routes=routes,
        method=method,
        seed=r.get("seed", int, d.seed),
        min_stops=min_stops,
        max_route_km=r.positive("max_route_km", d.max_route_km),
        max_cycle_min=r.positive("max_cycle_min", d.max_cycle_min),
        operator_weight=w,
        transfer_penalty_min=r.positive(
            "transfer_penalty_min", d.transfer_penalty_min, allow_zero=True
        ),
        walk_speed_kmh=r.positive("walk_speed_kmh", d.walk_speed_kmh),
        iterations=iterations,
        avoid_classes=tuple(_classes(r, "avoid_classes", list(d.avoid_classes))),
    )
    r.check_unknown()
    return out


def _classes(r: _Reader, key: str, default: list[str]) -> list[str]:
    classes = r.get(key, list, default)
    for c in classes:
        if c not in ROAD_CLASSES:
            raise r._err(key, f"unknown road class {c!r} (known: {', '.join(ROAD_CLASSES)})")
    return classes


def _parse_service(r: _Reader) -> ServiceConfig:
    d = ServiceConfig()
    start = r.get("start_date", dt.date, d.start_date)
    end = r.get("end_date", dt.date, d.end_date)
    if isinstance(start, dt.datetime) or isinstance(end, dt.datetime):
        raise r._err("start_date", "give plain dates (YYYY-MM-DD), not date-times")
    if end < start:
        raise r._err("end_date", f"{end} is before start_date {start}")
    fleet_cap = r.get("fleet_cap", int, None)
    if fleet_cap is not None and fleet_cap < 1:
        raise r._err("fleet_cap", f"must be >= 1, got {fleet_cap}")
    layover = r.positive("layover_min", d.layover_min, allow_zero=True)
    min_layover = r.positive("min_layover_min", d.min_layover_min, allow_zero=True)
    if layover < min_layover:
        raise r._err("layover_min", f"{layover} is below min_layover_min {min_layover}")
    dwell = r.get("dwell_s", int, d.dwell_s)
    if dwell < 0:
        raise r._err("dwell_s", f"must be >= 0, got {dwell}")

    days = []
    for day in DAY_TYPES:
        t = r.table(day)
        s0, s1, hw0 = _DEFAULT_DAYS[day]
        span = t.get("span", list, [s0, s1])
        if len(span) != 2:
            raise t._err("span", f'expected ["HH:MM", "HH:MM"], got {span!r}')
        a = parse_hhmm(span[0], where=f"{r.file}: {t.where}.span")
        b = parse_hhmm(span[1], where=f"{r.file}: {t.where}.span")
        if b <= a:
            raise t._err("span", f"ends ({span[1]}) before it starts ({span[0]})")
        hw = t.table("headways_min")
        heads = []
        for p in PERIODS:
            v = hw.positive(p, hw0[p])
            heads.append((p, v))
        hw.check_unknown()
        t.check_unknown()
        days.append((day, DayService(start_s=a, end_s=b, headways_min=tuple(heads))))

    per = r.table("periods")

    def windows(key: str, default: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
        v = per.get(key, list, None)
        if v is None:
            return default
        out = []
        for w in v:
            if not (isinstance(w, list) and len(w) == 2):
                raise per._err(key, f'expected a list of ["HH:MM", "HH:MM"] windows, got {w!r}')
            a = parse_hhmm(w[0], where=f"{r.file}: {per.where}.{key}")
            b = parse_hhmm(w[1], where=f"{r.file}: {per.where}.{key}")
            if b <= a:
                raise per._err(key, f"window {w!r} ends before it starts")
            out.append((a, b))
        return tuple(out)

    peak = windows("peak", d.peak)
    evening = windows("evening", d.evening)
    tf = per.table("time_factors")
    factors = {p: tf.positive(p, dict(d.time_factors)[p]) for p in PERIODS}
    tf.check_unknown()
    per.check_unknown()
    out = ServiceConfig(
        start_date=start,
        end_date=end,
        dwell_s=dwell,
        layover_min=layover,
        min_layover_min=min_layover,
        fleet_cap=fleet_cap,
        days=tuple(days),
        peak=peak,
        evening=evening,
        time_factors=tuple(sorted(factors.items())),
    )
    r.check_unknown()
    return out


def _parse_anchor(a: Any, i: int, fname: str) -> Anchor:
    if not isinstance(a, dict):
        msg = f"{fname}: anchors[{i}]: expected a table, got {a!r}"
        raise ConfigError(msg)
    r = _Reader(a, f"anchors[{i}]", fname)
    kind = r.get("kind", str, None)
    lat = r.get("lat", float, None)
    lon = r.get("lon", float, None)
    if kind is None:
        kind = "point" if lat is not None else None
    if kind not in ("poi", "station", "bus_stop", "point"):
        raise r._err("kind", f"must be poi, station, bus_stop or point, got {kind!r}")
    name = r.get("name", str, "")
    ars = r.get("ars", (str, int), None)
    if ars is not None:
        ars = str(ars)
    if kind == "bus_stop" and not ars:
        raise r._err("ars", "required for kind = 'bus_stop'")
    if kind in ("poi", "station") and not name:
        raise r._err("name", f"required for kind = {kind!r}")
    if kind == "point":
        if lat is None or lon is None:
            raise r._err("lat", "lat and lon are required for kind = 'point'")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise r._err("lat", f"({lat}, {lon}) is not a WGS84 position")
        if not name:
            name = f"{lat:.5f},{lon:.5f}"
    out = Anchor(
        kind=kind,
        name=name or (ars or ""),
        name_en=r.get("name_en", str, ""),
        line=r.get("line", str, None),
        ars=ars,
        lat=lat,
        lon=lon,
    )
    r.check_unknown()
    return out
