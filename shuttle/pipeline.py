"""The stages in order: network -> design -> timetable -> GTFS + map + report.

Each function takes a :class:`~shuttle.config.Scenario` and returns the frozen result of its stage,
so the CLI (and a Dask sweep, one task per scenario) can run any prefix of the chain.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from . import areas, io
from .config import DAY_TYPES, DISTRICTS, PERIODS, Scenario
from .errors import DesignError, ShuttleError
from .log import ProgressFn, step
from .model import (
    Area,
    DeadheadLeg,
    Depot,
    Design,
    DesignKPIs,
    PeriodFigures,
    Plan,
    Route,
    Stop,
    Timetable,
)

if TYPE_CHECKING:
    import networkx as nx

    from . import baseline as baseline_mod

__all__ = [
    "MissingBaseline",
    "Outputs",
    "baseline_key",
    "build_network",
    "design_demand",
    "district_areas",
    "make_baseline",
    "make_design",
    "make_existing",
    "make_plan",
    "try_baseline",
    "observed_profile",
    "plan_demand",
    "run_baseline",
    "run_plan",
    "scenario_with_source",
    "write_design",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outputs:
    """Where ``run_plan`` wrote each output."""

    feed: Path
    map: Path
    index: Path
    report: tuple[Path, ...]
    design: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class MissingBaseline:
    """The existing network could not be read (its files are missing or it failed): why."""

    why: str


def build_network(
    scenario: Scenario,
    *,
    cache_dir: str | Path | None = None,
    refresh: bool = False,
    progress: ProgressFn | None = None,
) -> nx.MultiDiGraph:
    """Build (or load from the cache) the scenario's road graph.

    Temporary files of a cache write killed earlier are removed (:func:`io.clean_stale_parts`).
    """
    from . import network

    G = network.load_graph(scenario, cache_dir=cache_dir, refresh=refresh, progress=progress)
    io.clean_stale_parts(Path(cache_dir).expanduser() if cache_dir else network.default_cache_dir())
    return G


def make_design(
    scenario: Scenario,
    G: nx.MultiDiGraph | None = None,
    *,
    method: str | None = None,
    cache_dir: str | Path | None = None,
    progress: ProgressFn | None = None,
    baseline: Any = None,
) -> Design:
    """Design the scenario's routes (building the road graph first if not given).

    With ``design.versus_existing`` the designer works against the existing network
    (``baseline``, or :func:`try_baseline`'s; without one, or with a :class:`MissingBaseline`,
    it designs the shuttle alone).

    The design is kept in the stage cache (:mod:`shuttle.stagecache`, folder ``cache_dir``)
    under the hash of what it depends on (:func:`_design_key`): a second run with the same
    inputs reads it back instead of designing again (the same routes, to the last bit).
    """
    from . import design
    from . import existing as existing_mod

    if G is None:
        G = build_network(scenario, cache_dir=cache_dir, progress=progress)
    vs_key = None  # the existing network the design would be made against (not read yet)
    if (
        scenario.design.versus_existing
        and not isinstance(baseline, MissingBaseline)
        and (baseline is not None or not _baseline_missing(scenario))
    ):
        vs_key = baseline_key(scenario, cache_dir)
    key = _design_key(scenario, G, method, vs_key)
    root = _stage_root(G, cache_dir)
    hit = _read_stage(root, "design", key, Design)
    if hit is not None:
        return hit
    vs = None
    if scenario.design.versus_existing:
        if baseline is None:
            baseline, why = try_baseline(scenario, cache_dir=cache_dir, progress=progress)
            if baseline is None:
                log.warning("designing without the existing network: %s", why)
        if isinstance(baseline, MissingBaseline):
            log.warning("designing without the existing network: %s", baseline.why)
            baseline = None
        if baseline is not None:
            vs = existing_mod.DesignBaseline(
                baseline, scenario, cache_dir=root, key=baseline_key(scenario, cache_dir)
            )
    out = design.design_network(G, scenario, method=method, progress=progress, existing=vs)
    if (vs is None) == (vs_key is None):  # designed against what the key says
        _keep_stage(root, "design", key, out)
    return out


def _graph_key(G: nx.MultiDiGraph | None) -> str:
    """The road graph's identity in the stage cache ("" when it has none: nothing is cached)."""
    if G is None:
        return ""
    return Path(str(G.graph.get("cache_path", ""))).name


def _stage_root(G: nx.MultiDiGraph | None, cache_dir: str | Path | None) -> Path:
    """The stage cache's folder: ``cache_dir``, else the road graph's cache folder."""
    from . import stagecache

    if cache_dir is None and G is not None and G.graph.get("cache_path"):
        return Path(str(G.graph["cache_path"])).parent
    return stagecache.cache_root(cache_dir)


def _package_digest() -> str:
    """Digest of every module of the package (the code a stage result may depend on)."""
    from . import stagecache

    return stagecache.code_digest(*(str(p) for p in sorted(Path(__file__).parent.glob("*.py"))))


def _data_digests(scenario: Scenario) -> list[str]:
    """Content digests of the data files a design and a service plan read besides the graph."""
    from . import places, stagecache

    files = [
        areas.DISTRICTS_FILE,
        areas.DONGS_FILE,
        areas.POPULATION_FILE,
        places.BUS_STOPS_FILE,
        places.STATIONS_FILE,
        *BUS_RIDERSHIP,
        SUBWAY_RIDERSHIP,
    ]
    if scenario.demand.od_file:
        files.append(scenario.demand.od_file)
    return [stagecache.file_digest(scenario.data_path(f)) for f in files]


def _design_key(
    scenario: Scenario, G: nx.MultiDiGraph, method: str | None, existing_key: str | None
) -> str:
    """The stage-cache key of a design ("" when the graph has no cache identity).

    It holds the scenario (all but its budget, which never changes the design), the method, the
    road graph's cache key (its data files, settings and code), the existing network's inputs
    (:func:`baseline_key`), the data files read (:func:`_data_digests`) and the package's code.
    """
    from . import stagecache
    from .config import BudgetConfig

    gkey = _graph_key(G)
    if not gkey:
        return ""
    return stagecache.key_of(
        "design",
        repr(replace(scenario, budget=BudgetConfig())),
        method,
        gkey,
        existing_key,
        _data_digests(scenario),
        _package_digest(),
    )


def baseline_key(scenario: Scenario, cache_dir: str | Path | None = None) -> str:
    """The identity of the existing network's inputs (a stage-cache key part).

    The content of the four ``[baseline]`` files, the ``[baseline]`` settings, the districts, the
    all-Seoul graph's cache key and the code of :mod:`shuttle.transit` and :mod:`shuttle.baseline`.
    """
    from . import baseline as bl
    from . import network, stagecache, transit

    b = scenario.baseline
    return stagecache.key_of(
        "baseline",
        repr(b),
        list(scenario.districts),
        [
            stagecache.file_digest(scenario.data_path(f))
            for f in (b.stops_file, b.info_file, b.status_file, b.metro_file)
        ],
        network.cache_path(bl.baseline_scenario(scenario), cache_dir).name,
        stagecache.code_digest(bl, transit),
    )


def _baseline_missing(scenario: Scenario) -> str:
    """Why the existing network cannot be read ("" when its files are there)."""
    b = scenario.baseline
    gone = [f for f in (b.stops_file, b.info_file, b.status_file, b.metro_file)
            if not scenario.data_path(f).is_file()]  # fmt: skip
    return f"[baseline] file not found: {scenario.data_path(gone[0])}" if gone else ""


def try_baseline(
    scenario: Scenario,
    *,
    cache_dir: str | Path | None = None,
    progress: ProgressFn | None = None,
) -> tuple[Any, str]:
    """:func:`make_baseline`, or ``(None, why)`` when its files are missing or it fails."""
    why = _baseline_missing(scenario)
    if why:
        return None, why
    try:
        return make_baseline(scenario, cache_dir=cache_dir, progress=progress), ""
    except ShuttleError as e:
        return None, str(e)


def district_areas(scenario: Scenario) -> tuple[Area, ...]:
    """The scenario's districts as map areas with their population."""
    polys = areas.district_polygons(scenario)
    pop: dict[int, int] = {}
    for z in areas.read_zones(scenario):
        pop[z.district] = pop.get(z.district, 0) + z.population
    out = []
    for code in scenario.districts:
        geom = polys[code].simplify(0.00005)
        parts = list(getattr(geom, "geoms", [geom]))
        polygons = tuple(
            tuple(
                tuple((round(y, 6), round(x, 6)) for x, y in ring.coords)
                for ring in (p.exterior, *p.interiors)
            )
            for p in parts
        )
        ko, en = DISTRICTS[code]
        out.append(
            Area(code=code, name_ko=ko, name_en=en, polygons=polygons, population=pop.get(code, 0))
        )
    return tuple(out)


def make_plan(
    scenario: Scenario,
    G: nx.MultiDiGraph | None = None,
    *,
    design: Design | None = None,
    cache_dir: str | Path | None = None,
    progress: ProgressFn | None = None,
    baseline: Any = None,
    demand: Any = None,
) -> Plan:
    """Run network, design, service plan and timetable; return the plan the writers take.

    With a road graph (given, or built here when the design is), the demand is modelled, the
    service a budget buys is planned (:func:`shuttle.operate.operate`: routes kept, headways,
    timetable with depots and deadheads, riders, loads and cost), and the passenger figures are
    evaluated for weekday peak and off-peak with the headways the timetable runs
    (:func:`shuttle.evaluate.period_figures`). Without a graph (a design given alone) the routes
    run the policy headways, with no deadheads and no demand figures. With
    ``budget.compete_with_existing`` the existing lines (``baseline``, or :func:`try_baseline`'s)
    join the service plan's assignment as the riders' alternative (none with a
    :class:`MissingBaseline`). ``demand`` is the design's demand (:func:`plan_demand`), built
    here when None.
    """
    from . import timetable

    if design is None:
        if G is None:
            G = build_network(scenario, cache_dir=cache_dir, progress=progress)
        design = make_design(scenario, G, cache_dir=cache_dir, progress=progress)
    if G is None:
        tt = timetable.build_timetable(design.routes, scenario)
        return Plan(
            scenario=scenario,
            places=design.places,
            stops=design.stops,
            routes=design.routes,
            kpis=_plan_kpis(design.kpis, tt, ()),
            timetable=tt,
            districts=district_areas(scenario),
            catchment=design.catchment,
        )
    key = _plan_key(scenario, G, design, baseline)
    root = _stage_root(G, cache_dir)
    hit = _read_stage(root, "plan", key, Plan)
    if hit is not None:
        return hit
    plan = _service_plan(scenario, G, design, cache_dir, progress, baseline, demand)
    _keep_stage(root, "plan", key, plan)
    return plan


#: Content digests of the objects this process made or read (the key of the stage that made an
#: object stands for its content: the same inputs give the same object).
_DIGESTS: dict[int, tuple[Any, str]] = {}


def _known(obj: Any, key: str) -> Any:
    """Remember ``key`` as the content digest of ``obj``; return ``obj``."""
    if len(_DIGESTS) > 256:
        _DIGESTS.clear()
    _DIGESTS[id(obj)] = (obj, key)
    return obj


def _digest_of(obj: Any) -> str:
    """The content digest of a design or plan (its stage key when known, else its data)."""
    from . import stagecache

    got = _DIGESTS.get(id(obj))
    if got is not None and got[0] is obj:
        return got[1]
    digest = stagecache.key_of(stagecache.to_data(obj, digest_arrays=True))
    _known(obj, digest)
    return digest


def _plan_key(scenario: Scenario, G: nx.MultiDiGraph, design: Design, baseline: Any) -> str:
    """The stage-cache key of a service plan ("" when the graph has no cache identity).

    The scenario (its budget included), the design's whole content, the graph's cache key, the
    existing network's inputs when its lines are the riders' alternative, the data files read
    and the package's code. The demand is derived from these.
    """
    from . import stagecache

    gkey = _graph_key(G)
    if not gkey:
        return ""
    base = None
    if scenario.budget.compete_with_existing:
        base = baseline.why if isinstance(baseline, MissingBaseline) else baseline_key(scenario)
    return stagecache.key_of(
        "plan",
        repr(scenario),
        _digest_of(design),
        gkey,
        base,
        _data_digests(scenario),
        _package_digest(),
    )


#: What the log calls each stage read back whole from the stage cache.
_STAGE_NAMES = {"design": "design", "plan": "service plan"}


def _read_stage(root: Path, kind: str, key: str | None, cls: type) -> Any:
    """The ``cls`` object of stage ``kind`` kept under ``key`` (None: no key, absent or
    unreadable), remembered as made by that key (:func:`_known`)."""
    if not key:
        return None
    hit = _load_obj(root, kind, key, cls)
    if hit is None:
        return None
    log.info("%s read from the stage cache", _STAGE_NAMES[kind])
    return _known(hit, key)


def _keep_stage(root: Path, kind: str, key: str | None, obj: Any) -> None:
    """Store stage ``kind``'s ``obj`` under ``key`` (nothing without a key) and remember it."""
    if key:
        _save_obj(root, kind, key, obj)
        _known(obj, key)


def _load_obj(root: Path, kind: str, key: str, cls: type) -> Any:
    """The ``cls`` object stored under ``kind``/``key`` (None: absent or unreadable, warned)."""
    from . import stagecache

    got = stagecache.load_json(root, kind, key)
    if got is None:
        return None
    try:
        out = stagecache.from_data(got)
    except (ValueError, TypeError, KeyError) as e:
        log.warning("stage cache of the %s is unreadable (%s); computing it again", kind, e)
        return None
    return out if isinstance(out, cls) else None


def _save_obj(root: Path, kind: str, key: str, obj: Any) -> None:
    """Store ``obj`` under ``kind``/``key`` (an object the cache cannot hold is not stored)."""
    from . import stagecache

    try:
        data = stagecache.to_data(obj)
    except ValueError as e:
        log.info("the %s is not kept in the stage cache: %s", kind, e)
        return
    stagecache.save_json(root, kind, key, data)


def _service_plan(
    scenario: Scenario,
    G: nx.MultiDiGraph,
    design: Design,
    cache_dir: str | Path | None,
    progress: ProgressFn | None,
    baseline: Any,
    demand: Any,
) -> Plan:
    """The service plan of :func:`make_plan` with a road graph (computed, not cached)."""
    from . import operate

    step(progress, "service plan", 0, 3)
    dem = demand if demand is not None else plan_demand(scenario, G, design, cache_dir=cache_dir)
    profile, source = observed_profile(scenario)
    cal = _calendar(scenario)
    days = {d: cal.runs(d) for d in DAY_TYPES}
    pts = _zone_points(dem.zones)
    step(progress, "service plan", 1, 3)
    op = operate.operate(
        scenario,
        design.routes,
        design.stops,
        design.kpis,
        pts,
        np.asarray(dem.trips, dtype=float),
        deadheads=lambda routes, stops: _deadheads(scenario, G, routes, stops),
        days_per_type=days,
        period_days=(scenario.service.end_date - scenario.service.start_date).days + 1,
        profile=profile,
        profile_source=source,
        districts=areas.district_polygons(scenario),
        calibration=_calibrate(scenario, dem),
        background=_background(scenario, baseline, pts, cache_dir),
    )
    step(progress, "service plan", 2, 3)
    from . import evaluate

    periods = evaluate.period_figures(
        op.routes, op.stops, dem.zones, dem.trips, scenario, op.timetable.fleet
    )
    step(progress, "service plan", 3, 3)
    kpis = _plan_kpis(op.kpis, op.timetable, periods)
    if not math.isfinite(kpis.att_min):  # a service nobody can use is no plan
        msg = (
            f"No modelled trip of {scenario.source_file or scenario.name} can use the "
            f"{len(op.routes)} route(s) planned: every trip's origin or destination lies beyond "
            "walking reach of their stops; add anchors or routes, or check [demand]."
        )
        raise DesignError(msg)
    catchment = design.catchment
    if len(op.stops) != len(design.stops):  # the budget dropped routes: cover what runs
        from . import stops as stops_mod

        catchment, share, by_gu = stops_mod.catchment(op.stops, scenario, dem.zones)
        kpis = replace(
            kpis,
            coverage=round(float(share), 5),
            coverage_by_district=tuple((int(a), int(b), int(c)) for a, b, c in by_gu),
        )
    return Plan(
        scenario=scenario,
        places=design.places,
        stops=op.stops,
        routes=op.routes,
        kpis=kpis,
        timetable=op.timetable,
        districts=district_areas(scenario),
        catchment=catchment,
        periods=periods,
        figures=op.figures,
    )


def _background(
    scenario: Scenario,
    baseline: Any,
    points: Sequence[tuple[float, float]],
    cache_dir: str | Path | None,
) -> dict[str, list[Any]] | None:
    """The existing lines of every period near ``points`` (``budget.compete_with_existing``)."""
    if not scenario.budget.compete_with_existing:
        return None
    from . import existing

    base = baseline
    if base is None:
        base, why = try_baseline(scenario, cache_dir=cache_dir)
        if base is None:
            base = MissingBaseline(why)
    if isinstance(base, MissingBaseline):
        log.warning("riders without the existing lines as alternative: %s", base.why)
        return None
    return {p: existing.existing_lines(base, scenario, p, points) for p in PERIODS}


def _calendar(scenario: Scenario):  # noqa: ANN202
    from .service_calendar import service_dates

    return service_dates(scenario)


def _zone_points(zones: Sequence[Any]) -> list[tuple[float, float]]:
    from . import evaluate

    return evaluate.zone_points(zones)


def plan_demand(
    scenario: Scenario, G: nx.MultiDiGraph, design: Design, *, cache_dir: str | Path | None = None
) -> Any:
    """The zone-to-zone demand of the design's scenario (on the shuttle's part of the graph).

    Built once a run: :func:`run_plan` hands it to the service plan, the budget curve's plans and
    the existing-network comparison. Its arrays (trips, centroid nodes, road minutes) are kept in
    the stage cache under the road graph's cache key, the ``[demand]`` settings, the districts,
    the roads avoided, the anchors, the data files and the code of :mod:`shuttle.demand`,
    :mod:`shuttle.areas` and :mod:`shuttle.design`; the zones are read again from the data.
    """
    from . import demand, stagecache
    from . import design as design_mod

    gkey = _graph_key(G)
    key = ""
    if gkey:
        key = stagecache.key_of(
            "demand",
            gkey,
            repr(scenario.demand),
            list(scenario.districts),
            list(scenario.design.avoid_classes),
            [[p.name_ko, p.lat, p.lon] for p in design.places],
            _data_digests(scenario),
            stagecache.code_digest(demand, areas, design_mod, stagecache, __file__),
        )
    root = _stage_root(G, cache_dir)
    got = stagecache.load(root, "demand", key) if key else None
    if got is not None:
        arrays, _ = got
        zs = tuple(sorted(areas.read_zones(scenario), key=lambda z: z.code))
        n = len(zs)
        trips, nodes = arrays.get("trips"), arrays.get("centroid_nodes")
        tmin = arrays.get("travel_min")
        if trips is not None and nodes is not None and trips.shape == (n, n) and len(nodes) == n:
            log.info("demand read from the stage cache")
            return demand.Demand(zones=zs, trips=trips, centroid_nodes=nodes, travel_min=tmin)
    out = demand.build_demand(
        design_mod.shuttle_graph(G, scenario.design.avoid_classes), scenario, design.places
    )
    if key:
        arrays = {"trips": np.asarray(out.trips), "centroid_nodes": np.asarray(out.centroid_nodes)}
        if out.travel_min is not None:
            arrays["travel_min"] = np.asarray(out.travel_min)
        stagecache.save(root, "demand", key, arrays)
    return out


def design_demand(scenario: Scenario, *, cache_dir: str | Path | None = None) -> Any:
    """The scenario's demand (zones and trips), building the road graph if needed."""
    from . import demand, places
    from . import design as design_mod

    G = build_network(scenario, cache_dir=cache_dir)
    return demand.build_demand(
        design_mod.shuttle_graph(G, scenario.design.avoid_classes),
        scenario,
        tuple(places.resolve_places(scenario)),
    )


#: The observed hourly boardings (ridership/ in the data folder; see SOURCES.md).
BUS_RIDERSHIP = tuple(
    f"ridership/seoul_bus_stop_hourly_OA-12913_2022-{m:02d}.txt.zip" for m in range(1, 6)
)
SUBWAY_RIDERSHIP = "ridership/seoul_subway_station_hourly_OA-12252_2022-01_11_cp949.csv"


_OBSERVED: dict[tuple[str, tuple[int, ...]], tuple[Any, Any]] = {}


def _observed(scenario: Scenario) -> tuple[Any, Any]:
    """Bus counts by ARS and subway counts by station inside the districts (read once a process)."""
    from . import places, ridership

    key = (scenario.data_dir, tuple(scenario.districts))
    if key in _OBSERVED:
        return _OBSERVED[key]

    polys = areas.district_polygons(scenario)
    union = shapely.union_all(list(polys.values()))
    stops = places.read_all_bus_stops(scenario)
    inside = shapely.covers(union, shapely.points([s.lon for s in stops], [s.lat for s in stops]))
    ars = {s.ars for s, m in zip(stops, inside, strict=True) if m and s.ars}
    stations = places.read_stations(scenario)
    sin = shapely.covers(
        union, shapely.points([s.lon for s in stations], [s.lat for s in stations])
    )
    names = {s.name for s, m in zip(stations, sin, strict=True) if m}
    bus = ridership.read_bus_hourly([scenario.data_path(p) for p in BUS_RIDERSHIP], ars=ars)
    sub = ridership.read_subway_hourly(scenario.data_path(SUBWAY_RIDERSHIP), stations=names)
    _OBSERVED[key] = (bus, sub)
    return bus, sub


def observed_profile(scenario: Scenario) -> tuple[tuple[float, ...], str]:
    """The hourly profile of trips: the scenario's, or the districts' observed boardings."""
    from . import ridership

    if scenario.demand.profile:
        return tuple(scenario.demand.profile), "scenario ([demand] profile)"
    bus, sub = _observed(scenario)
    prof = ridership.hourly_profile(bus.total_by_hour(), sub.total_by_hour())
    src = (
        f"observed boardings 2022 ({len(bus.keys)} bus stops, months {bus.months[0]}-"
        f"{bus.months[-1]}; {len(sub.keys)} subway station-lines), bus and subway equally weighted"
    )
    return tuple(float(x) for x in prof), src


def _calibrate(scenario: Scenario, dem: Any) -> Any:
    """Rank correlation of the model's trip ends and the observed boardings, by dong."""
    from . import calibration, places

    bus, sub = _observed(scenario)
    where = {s.ars: (s.lon, s.lat) for s in places.read_all_bus_stops(scenario) if s.ars}
    pts = [
        (*where[k], float(b.sum() + a.sum()))
        for k, b, a in zip(bus.keys, bus.boardings, bus.alightings, strict=True)
        if k in where
    ]
    st: dict[str, tuple[float, float]] = {}
    for s in places.read_stations(scenario):
        st.setdefault(s.name, (s.lon, s.lat))
    pts += [
        (*st[n], float(b.sum() + a.sum()))
        for n, b, a in zip(sub.names, sub.boardings, sub.alightings, strict=True)
        if n in st
    ]
    observed = calibration.observed_by_zone(dem.zones, pts)
    T = np.asarray(dem.trips, dtype=float)
    return calibration.rank_correlation(T.sum(axis=0) + T.sum(axis=1), observed)


def _deadheads(
    scenario: Scenario, G: nx.MultiDiGraph | None, routes: Sequence[Route], stops: Sequence[Stop]
) -> tuple[tuple[Depot, ...], tuple[DeadheadLeg, ...]]:
    """The scenario's depots and the deadhead table of the routes (empty without a graph)."""
    from . import depots

    if not scenario.depots:
        return (), ()
    if G is None:
        log.info("No road graph given: blocks start and end at their terminals (no deadheads).")
        return (), ()
    found = depots.resolve_depots(scenario)
    return found, depots.deadhead_table(G, found, tuple(routes), tuple(stops))


def _plan_kpis(kpis: DesignKPIs, tt: Timetable, periods: tuple[PeriodFigures, ...]) -> DesignKPIs:
    """The design's KPIs with the timetable's vehicle-hours and the off-peak passenger figures."""
    from . import timetable

    totals = {f.service_id: f for f in timetable.fleet_summary(tt)}
    out = kpis
    if "weekday" in totals:
        out = replace(out, vehicle_hours=totals["weekday"].vehicle_hours)
    off = [p for p in periods if (p.service_id, p.period) == ("weekday", "offpeak")]
    if off:
        p = off[0]
        out = replace(
            out,
            att_min=p.att_min,
            walk_min=p.walk_min,
            wait_min=p.wait_min,
            in_vehicle_min=p.in_vehicle_min,
            transfer_min=p.transfer_min,
            d0=p.d0,
            d1=p.d1,
            d2=p.d2,
            dun=p.dun,
        )
    return out


def write_design(design: Design, scenario: Scenario, out_dir: str | Path) -> tuple[Path, Path]:
    """Write the route set as JSON and GeoJSON (atomically); return both paths."""
    from . import design as design_mod

    out = Path(out_dir)
    js = design_mod.design_to_json(design)
    gj = design_mod.design_to_geojson(design)
    p1 = io.atomic_write_text(
        out / f"{scenario.name}.routes.json",
        json.dumps(js, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
    )
    p2 = io.atomic_write_text(
        out / f"{scenario.name}.routes.geojson",
        json.dumps(gj, ensure_ascii=False, sort_keys=True) + "\n",
    )
    return p1, p2


def run_plan(
    scenario: Scenario,
    *,
    gtfs_dir: str | Path = "gtfs_out",
    maps_dir: str | Path = "maps",
    cache_dir: str | Path | None = None,
    frequencies: bool = False,
    progress: ProgressFn | None = None,
    existing: bool = True,
    curve: Callable[[Scenario, Callable[[Scenario], Plan], Plan], Sequence[Any]] | None = None,
) -> Outputs:
    """Run the whole chain and write the feed, the design, the map and the report.

    With ``existing`` the plan is compared with the existing network (:func:`make_existing`).
    With ``curve`` (:func:`shuttle.sweep.budget_curve`) and a scenario that sets
    ``budget.curve_fleets``, the report gets the budget curve: ``curve(scenario, make, plan)``
    where ``make`` plans a budget variant with this plan's road graph and design.

    The outputs appear together: they are written to temporary files under a lock on both
    folders and renamed at the end (:func:`shuttle.io.output_batch`), so an interrupted run
    leaves the previous outputs, and two runs at once leave one run's complete set.
    """
    from . import gtfs, maps, report

    G = build_network(scenario, cache_dir=cache_dir, progress=progress)
    # the existing network is read by the first stage that needs it (none when every stage is
    # in the stage cache); make_baseline keeps it for the others
    base: Any = None
    if existing or scenario.design.versus_existing or scenario.budget.compete_with_existing:
        why = _baseline_missing(scenario)
        if why:
            log.warning("no existing network: %s", why)
            base = MissingBaseline(why)
    io.pause_point("design")
    design = make_design(scenario, G, cache_dir=cache_dir, progress=progress, baseline=base)
    # no road graph (a plan of given routes only): no demand, as make_plan words it
    dem = plan_demand(scenario, G, design, cache_dir=cache_dir) if G is not None else None
    plan = make_plan(scenario, G, design=design, baseline=base, demand=dem)
    rows: Sequence[Any] = ()
    if curve is not None and scenario.budget.curve_fleets:
        rows = _curve_rows(scenario, G, design, base, curve, plan, cache_dir, dem)
    if existing:
        plan = make_existing(
            plan, G, design, cache_dir=cache_dir, progress=progress, baseline=base, demand=dem
        )
    io.pause_point("write")
    with io.output_lock(gtfs_dir, maps_dir):
        with io.output_batch():
            feed = gtfs.write_feed(
                plan, Path(gtfs_dir) / f"{scenario.name}.zip", frequencies=frequencies
            )
            # the design files carry the plan's KPIs (timetable vehicle-hours, off-peak figures)
            design_paths = write_design(replace(design, kpis=plan.kpis), scenario, gtfs_dir)
            map_path = maps.save_map(plan, maps_dir, index=False)
            reports = report.write_report([plan], maps_dir, curves={scenario.name: rows})
        index = maps.write_index(maps_dir)  # after the map and report, which it lists
    return Outputs(feed=feed, map=map_path, index=index, report=tuple(reports), design=design_paths)


def _curve_rows(
    scenario: Scenario,
    G: nx.MultiDiGraph,
    design: Design,
    base: Any,
    curve: Callable[[Scenario, Callable[[Scenario], Plan], Plan], Sequence[Any]],
    plan: Plan,
    cache_dir: str | Path | None,
    dem: Any,
) -> Sequence[Any]:
    """The budget curve's rows, from the stage cache when its inputs are unchanged.

    The key: the scenario (its budget included), the design (its whole content), the road
    graph's and the existing network's identities, the data files and the package's code.
    """
    from . import stagecache
    from .report_figures import SweepRow

    def make(s: Scenario) -> Plan:  # plans a variant as the plan itself was made
        return make_plan(s, G, design=design, baseline=base, demand=dem)

    gkey = _graph_key(G)
    if not gkey:
        return curve(scenario, make, plan)
    key = stagecache.key_of(
        "curve",
        repr(scenario),
        _digest_of(design),
        gkey,
        None
        if isinstance(base, MissingBaseline) or base is None
        else baseline_key(scenario, cache_dir),
        _data_digests(scenario),
        _package_digest(),
    )
    root = _stage_root(G, cache_dir)
    hit = _load_obj(root, "curve", key, tuple)
    if hit is not None and all(isinstance(r, SweepRow) for r in hit):
        log.info("budget curve read from the stage cache")
        return hit
    rows = tuple(curve(scenario, make, plan))
    _save_obj(root, "curve", key, rows)
    return rows


def make_existing(
    plan: Plan,
    G: nx.MultiDiGraph,
    design: Design,
    *,
    cache_dir: str | Path | None = None,
    progress: ProgressFn | None = None,
    baseline: Any = None,
    demand: Any = None,
) -> Plan:
    """The plan with its existing-network figures (``plan.existing``, :mod:`shuttle.existing`).

    The existing network is ``baseline`` (:func:`make_baseline`'s; built here when None; a
    :class:`MissingBaseline` says why it could not be) and the demand ``demand`` (the design's,
    :func:`plan_demand`; built here when None). When the transit files are missing or the
    baseline cannot be built, ``plan.existing`` says why (the plan and its report go on without
    the comparison). The assignments go through the stage cache (``cache_dir``,
    :func:`shuttle.compare.before_after`).
    """
    import time

    from . import existing

    t0 = time.perf_counter()
    why = "" if baseline is not None else _baseline_missing(plan.scenario)
    if why:
        log.warning("no comparison with the existing network: %s", why)
        return replace(plan, existing=existing.missing(why))
    if G is None or not plan.periods:
        why = "no road graph or demand for this plan (a design given alone)"
        log.info("no comparison with the existing network: %s", why)
        return replace(plan, existing=existing.missing(why))
    step(progress, "existing network", 0, 2)
    if isinstance(baseline, MissingBaseline):
        log.warning("no comparison with the existing network: %s", baseline.why)
        return replace(plan, existing=existing.missing(baseline.why))
    dem = (
        demand if demand is not None else plan_demand(plan.scenario, G, design, cache_dir=cache_dir)
    )
    root = _stage_root(G, cache_dir)
    key = _existing_key(plan, G, dem, cache_dir)
    fig = _load_obj(root, "existing", key, existing.ExistingFigures) if key else None
    step(progress, "existing network", 1, 2)
    if fig is None:
        base = baseline
        if base is None:
            base, why = try_baseline(plan.scenario, cache_dir=cache_dir, progress=progress)
            if base is None:
                log.warning("no comparison with the existing network: %s", why)
                return replace(plan, existing=existing.missing(why))
        fig = existing.compare_existing(
            plan,
            base,
            dem.zones,
            np.asarray(dem.trips, dtype=float),
            _zone_points(dem.zones),
            cache_dir=root,
        )
        if key:
            _save_obj(root, "existing", key, fig)
    else:
        log.info("existing-network comparison read from the stage cache")
    secs = time.perf_counter() - t0
    step(progress, "existing network", 2, 2)
    log.info("existing-network comparison took %.1f s", secs)
    return replace(plan, existing=replace(fig, seconds=secs))


def _existing_key(plan: Plan, G: nx.MultiDiGraph, dem: Any, cache_dir: str | Path | None) -> str:
    """The stage-cache key of the existing-network figures of a plan ("" without a graph key).

    The plan's whole content, the demand (zones by code, trips), the existing network's inputs
    (:func:`baseline_key`), the data files and the package's code.
    """
    from . import stagecache

    gkey = _graph_key(G)
    if not gkey:
        return ""
    try:
        content = _digest_of(plan)
    except ValueError as e:
        log.info("the existing-network figures are not kept in the stage cache: %s", e)
        return ""
    return stagecache.key_of(
        "existing",
        content,
        gkey,
        [str(z.code) for z in dem.zones],
        np.asarray(dem.trips, dtype=float),
        baseline_key(plan.scenario, cache_dir),
        _data_digests(plan.scenario),
        _package_digest(),
    )


#: :func:`make_baseline`'s results of this process, by their cache file.
_BASELINES: dict[str, Any] = {}


def make_baseline(
    scenario: Scenario,
    *,
    cache_dir: str | Path | None = None,
    progress: ProgressFn | None = None,
) -> baseline_mod.Baseline:
    """Read the existing bus routes and metro lines and place the routes on the road graph.

    The graph is :func:`shuttle.baseline.baseline_scenario`'s (all Seoul by default, cached).
    Imported: the routes with a stop of an ARS range of the scenario's districts
    (:data:`shuttle.transit.ARS_DISTRICT_PREFIX`) and the metro lines with a station in them.
    """
    from shapely.geometry import Point

    from . import baseline as bl
    from . import transit

    b = scenario.baseline
    route_stops = transit.read_route_stops(scenario.data_path(b.stops_file))
    info = transit.read_route_info(scenario.data_path(b.info_file))
    status = transit.read_route_status(scenario.data_path(b.status_file))
    prefixes = tuple(k for k, gu in transit.ARS_DISTRICT_PREFIX.items() if gu in scenario.districts)
    routes, issues = transit.import_bus_routes(
        route_stops,
        info,
        status,
        keep=lambda r: transit.serves_ars(r, prefixes),
        exclude=b.exclude_routes,
    )
    polys = areas.district_polygons(scenario)

    def district_of(lat: float, lon: float) -> int | None:
        pt = Point(lon, lat)
        return next((c for c, g in sorted(polys.items()) if g.contains(pt)), None)

    stations, links = transit.read_metro(scenario.data_path(b.metro_file))
    heads = {k: tuple(zip(("peak", "offpeak", "evening"), v, strict=True))
             for k, v in b.rail_headways_min}  # fmt: skip
    rail = transit.import_rail_lines(
        stations, links, district_of, headways=heads, speed_kph={"*": b.rail_speed_kph}
    )
    # the placement is cached beside the road graph, keyed by the graph's cache key, the input
    # files, the [baseline] settings and the code of transit.py and baseline.py
    from . import network

    gscen = bl.baseline_scenario(scenario)
    gpath = network.cache_path(gscen, cache_dir)
    key = hashlib.sha256(
        json.dumps(
            [
                gpath.name,
                repr(b),
                list(scenario.districts),
                [_identity(scenario.data_path(f)) for f in (b.stops_file, b.info_file)],
                _identity(scenario.data_path(b.status_file)),
                [hashlib.sha256(Path(m.__file__).read_bytes()).hexdigest() for m in (bl, transit)],
            ]
        ).encode()
    ).hexdigest()[:24]
    cpath = gpath.with_name(f"baseline-{key}.json.gz")
    if str(cpath) in _BASELINES:  # read once a process: every stage that needs it shares it
        return _BASELINES[str(cpath)]
    try:
        data = json.loads(gzip.decompress(cpath.read_bytes()))
        log.info("baseline loaded from cache %s", cpath)
        _BASELINES[str(cpath)] = bl.baseline_from_data(data, rail=rail)
        return _BASELINES[str(cpath)]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    G = build_network(gscen, cache_dir=cache_dir, progress=progress)
    base = bl.place_routes(G, routes, snap_m=b.snap_m, rail=rail, issues=issues)
    text = json.dumps(bl.baseline_to_data(base), ensure_ascii=False, sort_keys=True)
    try:
        io.atomic_write_bytes(cpath, gzip.compress(text.encode(), mtime=0))
    except ShuttleError as e:  # an unwritable cache must not fail the run
        log.warning("cannot write the baseline cache: %s", e)
    # the same representation with or without the cache, so a first run equals a cached one
    _BASELINES[str(cpath)] = bl.baseline_from_data(json.loads(text), rail=rail)
    return _BASELINES[str(cpath)]


def _identity(p: Path) -> list[object]:
    st = p.stat() if p.exists() else None
    return [str(p), st.st_size if st else -1, st.st_mtime_ns if st else -1]


def run_baseline(
    scenario: Scenario,
    *,
    gtfs_dir: str | Path = "gtfs_out",
    cache_dir: str | Path | None = None,
    progress: ProgressFn | None = None,
) -> tuple[Path, Path]:
    """Write the existing network's GTFS (``<name>.baseline.zip``) and import report (``.json``)."""
    from . import baseline as bl

    base = make_baseline(scenario, cache_dir=cache_dir, progress=progress)
    feed = bl.write_feed(base, scenario, Path(gtfs_dir) / f"{scenario.name}.baseline.zip")
    js = bl.baseline_to_json(base, bl.check_routes(base, scenario))
    rep = io.atomic_write_text(
        Path(gtfs_dir) / f"{scenario.name}.baseline.json",
        json.dumps(js, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
    )
    return feed, rep


def scenario_with_source(scenario: Scenario, source: str, path: str | None = None) -> Scenario:
    """Return the scenario with another road-data source (``--online``, ``--source``)."""
    net = replace(scenario.network, source=source, path=path if path is not None else "")
    return replace(scenario, network=net)
