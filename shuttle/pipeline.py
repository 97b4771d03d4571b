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
    "Outputs",
    "build_network",
    "design_demand",
    "district_areas",
    "make_baseline",
    "make_design",
    "make_existing",
    "make_plan",
    "try_baseline",
    "observed_profile",
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
    (``baseline``, or :func:`try_baseline`'s; without one it designs the shuttle alone).
    """
    from . import design
    from . import existing as existing_mod

    if G is None:
        G = build_network(scenario, cache_dir=cache_dir, progress=progress)
    vs = None
    if scenario.design.versus_existing:
        if baseline is None:
            baseline, why = try_baseline(scenario, cache_dir=cache_dir, progress=progress)
            if baseline is None:
                log.warning("designing without the existing network: %s", why)
        if baseline is not None:
            vs = existing_mod.DesignBaseline(baseline, scenario)
    return design.design_network(G, scenario, method=method, progress=progress, existing=vs)


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
) -> Plan:
    """Run network, design, service plan and timetable; return the plan the writers take.

    With a road graph (given, or built here when the design is), the demand is modelled, the
    service a budget buys is planned (:func:`shuttle.operate.operate`: routes kept, headways,
    timetable with depots and deadheads, riders, loads and cost), and the passenger figures are
    evaluated for weekday peak and off-peak with the headways the timetable runs
    (:func:`shuttle.evaluate.period_figures`). Without a graph (a design given alone) the routes
    run the policy headways, with no deadheads and no demand figures. With
    ``budget.compete_with_existing`` the existing lines (``baseline``, or :func:`try_baseline`'s)
    join the service plan's assignment as the riders' alternative.
    """
    from . import operate, timetable

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
    step(progress, "service plan", 0, 3)
    dem = _demand(scenario, G, design)
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
    if base is None or isinstance(base, str):
        base, why = try_baseline(scenario, cache_dir=cache_dir)
        if base is None:
            log.warning("riders without the existing lines as alternative: %s", why)
            return None
    return {p: existing.existing_lines(base, scenario, p, points) for p in PERIODS}


def _calendar(scenario: Scenario):  # noqa: ANN202
    from .service_calendar import service_dates

    return service_dates(scenario)


def _zone_points(zones: Sequence[Any]) -> list[tuple[float, float]]:
    from . import evaluate

    return evaluate.zone_points(zones)


def _demand(scenario: Scenario, G: nx.MultiDiGraph, design: Design) -> Any:
    """The zone-to-zone demand of the design's scenario (on the shuttle's part of the graph)."""
    from . import demand
    from . import design as design_mod

    return demand.build_demand(
        design_mod.shuttle_graph(G, scenario.design.avoid_classes), scenario, design.places
    )


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
    base: Any = None
    if existing or scenario.design.versus_existing or scenario.budget.compete_with_existing:
        base, why = try_baseline(scenario, cache_dir=cache_dir, progress=progress)
        if base is None:
            log.warning("no existing network: %s", why)
            base = why
    io.pause_point("design")
    design = make_design(
        scenario, G, progress=progress, baseline=None if isinstance(base, str) else base
    )
    plan = make_plan(scenario, G, design=design, baseline=base)
    rows: Sequence[Any] = ()
    if curve is not None and scenario.budget.curve_fleets:
        # keep the lambda's make_plan arguments those of the plan's make_plan call above
        rows = curve(scenario, lambda s: make_plan(s, G, design=design, baseline=base), plan)
    if existing:
        plan = make_existing(
            plan, G, design, cache_dir=cache_dir, progress=progress, baseline=base
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


def make_existing(
    plan: Plan,
    G: nx.MultiDiGraph,
    design: Design,
    *,
    cache_dir: str | Path | None = None,
    progress: ProgressFn | None = None,
    baseline: Any = None,
) -> Plan:
    """The plan with its existing-network figures (``plan.existing``, :mod:`shuttle.existing`).

    The existing network is ``baseline`` (:func:`make_baseline`'s; built here when None; a
    string is the reason it could not be) and the demand :func:`_demand`'s. When the transit
    files are missing or the baseline cannot be built, ``plan.existing`` says why (the plan and
    its report go on without the comparison).
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
    base = baseline
    if base is None:
        base, why = try_baseline(plan.scenario, cache_dir=cache_dir, progress=progress)
        if base is None:
            base = why
    if isinstance(base, str):
        log.warning("no comparison with the existing network: %s", base)
        return replace(plan, existing=existing.missing(base))
    step(progress, "existing network", 1, 2)
    dem = _demand(plan.scenario, G, design)
    fig = existing.compare_existing(
        plan, base, dem.zones, np.asarray(dem.trips, dtype=float), _zone_points(dem.zones)
    )
    secs = time.perf_counter() - t0
    step(progress, "existing network", 2, 2)
    log.info("existing-network comparison took %.1f s", secs)
    return replace(plan, existing=replace(fig, seconds=secs))


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
    try:
        data = json.loads(gzip.decompress(cpath.read_bytes()))
        log.info("baseline loaded from cache %s", cpath)
        return bl.baseline_from_data(data, rail=rail)
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
    return bl.baseline_from_data(json.loads(text), rail=rail)


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
