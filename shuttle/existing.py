"""The shuttle in the city it joins: before/after against the existing network, and overlap.

:func:`compare_existing` takes a timetabled plan, the existing network (a
:class:`shuttle.baseline.Baseline`: the bus routes placed on the road graph and the metro lines)
and the demand (dong zones and their trips) and returns :class:`ExistingFigures`:

Before and after
    For weekday peak and off-peak, the existing network alone and with the shuttle added are
    assigned by optimal strategies (:func:`shuttle.compare.before_after`). Every line is a
    :class:`~shuttle.compare.LineSpec` whose run times come from the one run-time model
    (:mod:`shuttle.runtime`) at the period's factor:

    - an existing bus route is one line over its whole circuit as OA-1095 lists it (out and back;
      riders do not stay on through its first stop), the scenario's ``[baseline] dwell_s`` at
      every stop, and the route table's headway of the period (:class:`shuttle.transit.BusRoute`);
      night routes (:data:`NIGHT`) are left out; each line is cut to the span of its stops
      within :data:`SPAN_M` of a zone centre (trips between the districts' dongs do not ride
      far beyond them, and the assignment is quicker);
    - a metro line is split at its branch stations into chains, each run both ways at the
      line's headway of the period, with the run time of :meth:`shuttle.transit.RailLine.run_s`
      (a one-way loop such as line 6's Eungam loop is modelled both ways);
    - a shuttle route is one line per pattern, ``[service] dwell_s`` at every stop and the
      headway the timetable runs on weekdays in that period (``FleetRow.headways_min``).

    The time between two stops is the arrival-to-arrival time of :func:`shuttle.runtime.stop_times`
    (it holds the dwell at the earlier stop), so both networks count dwell the same way. Stops are
    one node when they have the same ARS number (a shuttle stop at a real Seoul stop is the
    existing routes' stop there); metro stations are their own nodes, reached on foot.
    The demand is the daily zone-to-zone matrix; each period's figures say what those trips
    would gain if the whole day ran at that period's service.
Overlap
    :func:`shuttle.overlap.route_overlap` of every shuttle route against every existing bus
    route (its whole circuit, typical headway).
Examples
    Named trips between anchor places (the zones that hold them): the district offices (a
    place named ``...구청``) to one another in scenario order, then the anchor pair that gains
    the most at the off-peak, each today and with the shuttle.
Existing routes near a stop
    Per shuttle stop, the existing bus routes stopping within :data:`NEAR_STOP_M` (the same ARS
    number or that close), for the map's stop popups.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.ops import substring

from . import geo, runtime
from .compare import BeforeAfter, LineSpec, before_after, skim
from .config import Scenario
from .errors import DesignError
from .model import Plan, Stop
from .overlap import ExistingLine, RouteOverlap, frequent_shares, route_overlap

__all__ = [
    "NEAR_STOP_M",
    "NIGHT",
    "PERIODS_COMPARED",
    "SPAN_M",
    "DesignBaseline",
    "Example",
    "ExistingFigures",
    "PeriodComparison",
    "ZoneArea",
    "bus_lines",
    "compare_existing",
    "example_pairs",
    "existing_lines",
    "gain_by_zone",
    "half_lines",
    "missing",
    "overlap_lines",
    "rail_lines",
    "routes_near_stops",
    "shuttle_lines",
]

log = logging.getLogger(__name__)

#: An existing route "stops near" a shuttle stop within this straight-line distance (metres).
NEAR_STOP_M = 100.0
#: Existing lines are cut to the span of stops within this distance of a zone centre (metres).
SPAN_M = 3000.0
#: Route kind of the night buses (N routes), which run neither in the peak nor the off-peak.
NIGHT = "심야"
#: The day type and periods compared.
PERIODS_COMPARED: tuple[tuple[str, str], ...] = (("weekday", "peak"), ("weekday", "offpeak"))


@dataclass(frozen=True, slots=True)
class ZoneArea:
    """A demand zone (dong) as the report and the map show it."""

    code: str
    name_ko: str
    district: int
    lat: float  # centre (the point the assignment uses)
    lon: float
    polygons: tuple[tuple[tuple[tuple[float, float], ...], ...], ...]  # (lat, lon) rings


@dataclass(frozen=True, eq=False)
class PeriodComparison:
    """Before and after in one day type and period."""

    day: str
    period: str
    result: BeforeAfter


@dataclass(frozen=True, slots=True)
class Example:
    """A named trip between two anchor places, today and with the shuttle (minutes)."""

    origin: str  # anchor name (Korean)
    destination: str
    origin_en: str
    destination_en: str
    origin_zone: str  # dong name
    destination_zone: str
    times: tuple[tuple[str, float, float], ...]  # (period, before, after); inf = no strategy


@dataclass(frozen=True, eq=False)
class ExistingFigures:
    """The existing-network figures of a plan (see the module docstring).

    ``missing`` says why there are none (then every other field is empty).
    """

    zones: tuple[ZoneArea, ...] = ()
    comparisons: tuple[PeriodComparison, ...] = ()
    overlaps: tuple[RouteOverlap, ...] = ()
    examples: tuple[Example, ...] = ()
    near_stops: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (shuttle stop_id, route names)
    bus_routes: int = 0  # existing lines modelled
    rail_lines: tuple[str, ...] = ()
    missing: str = ""
    seconds: float = 0.0  # time the step took


def gain_by_zone(result: Any) -> np.ndarray:
    """Trip-weighted mean gain (minutes) of the trips from *or to* each zone (finite gains)."""
    g = result.gain_min
    fin = np.isfinite(g)
    w = np.where(fin, result.trips, 0.0)
    gw = np.where(fin, g, 0.0) * w
    num = gw.sum(axis=1) + gw.sum(axis=0)
    den = w.sum(axis=1) + w.sum(axis=0)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def missing(why: str) -> ExistingFigures:
    """Figures that say only why the comparison is missing."""
    return ExistingFigures(missing=why)


def _key(ars: str | None, other: str) -> str:
    return f"ars:{ars}" if ars else other


def _runs(run_times_s: Sequence[int], factor: float, dwell_s: int) -> tuple[float, ...]:
    """Arrival-to-arrival seconds between consecutive stops (dwell at the earlier stop)."""
    arr, _ = runtime.stop_times(run_times_s, 0, factor, dwell_s)
    return tuple(float(max(1, b - a)) for a, b in zip(arr, arr[1:], strict=False))


def bus_lines(baseline: Any, scenario: Scenario, period: str) -> list[LineSpec]:
    """One line per existing bus route over its whole circuit (see the module docstring).

    ``baseline`` is a :class:`shuttle.baseline.Baseline`. Routes without a positive headway in
    the period are left out.
    """
    where = {s.node_id: s for s in baseline.stops}
    factor = scenario.service.time_factor(period)
    dwell = scenario.baseline.dwell_s
    out = []
    for p in baseline.routes:
        head = dict(p.route.headways_min).get(period)
        if not head or head <= 0 or p.route.kind_ko == NIGHT:
            continue
        stops = []
        for sid in p.pattern.stop_ids:
            s = where.get(sid)
            if s is None:
                msg = f"baseline route {p.route.name}: stop {sid} is not among the baseline stops"
                raise DesignError(msg)
            stops.append((_key(s.ars, f"node:{sid}"), s.lon, s.lat))
        out.append(
            LineSpec(
                line_id=f"bus:{p.route.route_id}",
                stops=tuple(stops),
                run_s=_runs(p.pattern.run_times_s, factor, dwell),
                headway_s=head * 60.0,
            )
        )
    return out


def _chains(links: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Split an undirected graph into maximal paths between nodes of degree != 2 (and cycles)."""
    adj: dict[str, set[str]] = {}
    for a, b in links:
        if a != b:
            adj.setdefault(a, set()).add(b)
            adj.setdefault(b, set()).add(a)
    used: set[frozenset[str]] = set()
    out: list[list[str]] = []

    def walk(start: str, nxt: str) -> list[str]:
        path = [start, nxt]
        used.add(frozenset((start, nxt)))
        while len(adj[path[-1]]) == 2 and path[-1] != start:
            cand = sorted(n for n in adj[path[-1]] if frozenset((path[-1], n)) not in used)
            if not cand:
                break
            used.add(frozenset((path[-1], cand[0])))
            path.append(cand[0])
        return path

    for node in sorted(adj):
        if len(adj[node]) != 2:
            for n in sorted(adj[node]):
                if frozenset((node, n)) not in used:
                    out.append(walk(node, n))
    for node in sorted(adj):  # what is left are pure cycles
        for n in sorted(adj[node]):
            if frozenset((node, n)) not in used:
                out.append(walk(node, n))
    return out


def rail_lines(rail: Sequence[Any], period: str) -> list[LineSpec]:
    """Both directions of every chain of every metro line (see the module docstring)."""
    out = []
    for line in rail:
        head = dict(line.headways_min).get(period)
        if not head or head <= 0 or line.speed_kph <= 0:
            continue
        pos = {s.station_id: s for s in line.stations}
        for k, chain in enumerate(_chains((a, b) for a, b, _ in line.links)):
            for d, seq in enumerate((chain, chain[::-1])):
                out.append(
                    LineSpec(
                        line_id=f"rail:{line.line}:{k}:{d}",
                        stops=tuple((f"rail:{sid}", pos[sid].lon, pos[sid].lat) for sid in seq),
                        run_s=tuple(
                            float(line.run_s(a, b)) for a, b in zip(seq, seq[1:], strict=False)
                        ),
                        headway_s=head * 60.0,
                    )
                )
    return out


def shuttle_lines(plan: Plan, period: str, day: str = "weekday") -> list[LineSpec]:
    """One line per pattern of the plan's routes at the headway the timetable runs."""
    heads = {
        f.route_id: dict(f.headways_min).get(period)
        for f in plan.timetable.fleet
        if f.service_id == day
    }
    svc = plan.scenario.service
    factor = svc.time_factor(period)
    stops = {s.stop_id: s for s in plan.stops}
    out = []
    for r in plan.routes:
        head = heads.get(r.route_id)
        if not head or head <= 0:
            continue
        for p in r.patterns:
            out.append(
                LineSpec(
                    line_id=f"shuttle:{r.route_id}:{p.direction_id}",
                    stops=tuple(
                        (_key(stops[s].ars, f"shuttle:{s}"), stops[s].lon, stops[s].lat)
                        for s in p.stop_ids
                    ),
                    run_s=_runs(p.run_times_s, factor, svc.dwell_s),
                    headway_s=head * 60.0,
                    shuttle=True,
                )
            )
    return out


def existing_lines(
    baseline: Any, scenario: Scenario, period: str, points: Sequence[tuple[float, float]]
) -> list[LineSpec]:
    """The existing bus and metro lines of a period, each cut to its span near ``points``.

    ``points`` are ``(lon, lat)`` (zone centres, or any places a skim is wanted between); see
    the module docstring for how each line is built and cut (:data:`SPAN_M`).
    """
    return _span(
        bus_lines(baseline, scenario, period) + rail_lines(baseline.rail, period), points, SPAN_M
    )


def _span(
    lines: Sequence[LineSpec], points: Sequence[tuple[float, float]], d_m: float
) -> list[LineSpec]:
    """Each line cut to the span from its first to its last stop within ``d_m`` of a point."""
    if not points or not lines:
        return list(lines)
    arr = np.asarray(points, dtype=float)
    zx, zy = geo.to_metric_xy(arr[:, 0], arr[:, 1])
    tree = cKDTree(np.column_stack([np.atleast_1d(zx), np.atleast_1d(zy)]))
    out = []
    for ln in lines:
        a = np.asarray([(lon, lat) for _, lon, lat in ln.stops], dtype=float)
        sx, sy = geo.to_metric_xy(a[:, 0], a[:, 1])
        d, _ = tree.query(np.column_stack([np.atleast_1d(sx), np.atleast_1d(sy)]))
        ok = np.flatnonzero(d <= d_m)
        if len(ok) < 2:
            continue
        i, j = int(ok[0]), int(ok[-1])
        out.append(
            LineSpec(ln.line_id, ln.stops[i : j + 1], ln.run_s[i:j], ln.headway_s, ln.shuttle)
        )
    return out


def overlap_lines(
    baseline: Any, period: str = "offpeak", near: Any = None, corridor_m: float = 60.0
) -> list[ExistingLine]:
    """The existing bus routes as :class:`~shuttle.overlap.ExistingLine` (headway of a period).

    With ``near`` (a shuttle :class:`~shuttle.model.Route`), each circuit is cut in two at the
    stop farthest from its first stop (out and back), and each half to its parts within
    ``corridor_m`` of the shuttle route's paths (one line per part; the route's stops go with
    the first part only). The overlap looks only 20 m around the shuttle path, so the parts
    hold all it needs, and it is far quicker. The cut also matters: on a whole circuit the
    overlap's nearest-point bearing may pick the other direction of a street the route runs both
    ways (one centre line in the road graph), which a half never holds.
    """
    where = {s.node_id: s for s in baseline.stops}
    zone = None
    if near is not None:
        paths = [geo.metric_path(p.shape) for p in near.patterns if len(p.shape) >= 2]
        zone = shapely.union_all([shapely.LineString(xy).buffer(corridor_m) for xy in paths])
    out = []
    for p in baseline.routes:
        head = dict(p.route.headways_min).get(period)
        if not head or head <= 0 or p.route.kind_ko == NIGHT:
            continue
        ars = tuple(where[s].ars for s in p.pattern.stop_ids if where[s].ars)
        if zone is None:
            parts = [p.pattern.shape]
        else:
            parts = []
            for half in _halves(p):
                cut = half.intersection(zone)
                parts += [
                    _latlon_of(np.asarray(g.coords))
                    for g in getattr(cut, "geoms", [cut])
                    if g.geom_type == "LineString" and len(g.coords) >= 2
                ]
            if not parts:
                parts = [p.pattern.shape[:2]] if ars else []
        for k, shape in enumerate(parts):
            out.append(
                ExistingLine(
                    route_id=p.route.route_id,
                    name=p.route.name,
                    headway_min=float(head),
                    stop_ars=ars if k == 0 else (),
                    shape=tuple(shape),
                )
            )
    return out


def half_lines(baseline: Any, period: str = "offpeak") -> list[ExistingLine]:
    """Every existing bus route cut in its two halves (out, back) as ExistingLine (see
    :func:`overlap_lines` for why halves)."""
    out = []
    for p in baseline.routes:
        head = dict(p.route.headways_min).get(period)
        if not head or head <= 0 or p.route.kind_ko == NIGHT:
            continue
        for half in _halves(p):
            xy = np.asarray(half.coords)
            if len(xy) >= 2:
                out.append(
                    ExistingLine(
                        route_id=p.route.route_id,
                        name=p.route.name,
                        headway_min=float(head),
                        stop_ars=(),
                        shape=tuple(_latlon_of(xy)),
                    )
                )
    return out


@dataclass(frozen=True, eq=False)
class DesignBaseline:
    """What the route designer asks of the existing network (``design.versus_existing``).

    ``times_min`` gives the door-to-door minutes between places by today's buses and metro
    (optimal strategies over :func:`existing_lines` of :attr:`period`, the scenario's walking
    speed and transfer penalty); ``frequent_shares`` the share of each road path run by frequent
    existing service (:func:`shuttle.overlap.frequent_shares` over :func:`half_lines`). The
    off-peak is the period: it holds most of the day's service hours.

    With ``cache_dir`` both answers go through the stage cache (:mod:`shuttle.stagecache`): the
    skim keyed by its lines and points (:func:`shuttle.compare.skim`), the shares by ``key`` (the
    identity of the baseline's inputs, :func:`shuttle.pipeline.baseline_key`), the period, the
    paths and the code; without a ``key`` the shares are not cached.
    """

    baseline: Any
    scenario: Scenario
    period: str = "offpeak"
    cache_dir: str | os.PathLike[str] | None = None
    key: str = ""

    def times_min(self, points: Sequence[tuple[float, float]]) -> np.ndarray:
        """``(n, n)`` door-to-door minutes between ``(lon, lat)`` points (``inf``: none)."""
        ds = self.scenario.design
        lines = existing_lines(self.baseline, self.scenario, self.period, points)
        return skim(
            lines,
            points,
            walk_speed_kmh=ds.walk_speed_kmh,
            transfer_penalty_min=ds.transfer_penalty_min,
            cache_dir=self.cache_dir,
        )

    def frequent_shares(self, paths: Sequence[Sequence[tuple[float, float]]]) -> np.ndarray:
        """Per ``(lat, lon)`` path, the share of its length along frequent existing service."""
        from . import overlap, stagecache

        key = ""
        if self.cache_dir is not None and self.key:
            key = stagecache.key_of(
                "shares",
                self.key,
                self.period,
                [[[float(a), float(b)] for a, b in p] for p in paths],
                stagecache.code_digest(overlap, geo, stagecache, __file__),
            )
            got = stagecache.load(self.cache_dir, "shares", key)
            if got is not None and got[0].get("share", np.zeros(0)).shape == (len(paths),):
                return got[0]["share"]
        out = np.asarray(
            frequent_shares(paths, half_lines(self.baseline, self.period)), dtype=float
        )
        if key:
            stagecache.save(self.cache_dir, "shares", key, {"share": out})
        return out


#: :func:`_halves` of the placed routes seen (by object; the route is kept so its id stays its own).
_HALVES: dict[int, tuple[Any, list[Any]]] = {}
_HALVES_MAX = 8192


def _halves(placed: Any) -> list[Any]:
    """The circuit's path cut at the stop farthest from its first stop (out, back), metric.

    Computed once per placed route a process (the comparison asks for every route once per
    shuttle route, the designer once more).
    """
    got = _HALVES.get(id(placed))
    if got is not None and got[0] is placed:
        return got[1]
    out = _cut_halves(placed)
    if len(_HALVES) >= _HALVES_MAX:
        _HALVES.clear()
    _HALVES[id(placed)] = (placed, out)
    return out


def _cut_halves(placed: Any) -> list[Any]:
    pat = placed.pattern
    line = shapely.LineString(geo.metric_path(pat.shape))
    first = shapely.Point(geo.metric_path([pat.shape[0]])[0])
    if line.length <= 0 or pat.length_m <= 0:
        return [line]
    at = [line.interpolate(d * line.length / pat.length_m) for d in pat.stop_dist_m]
    k = max(range(len(at)), key=lambda i: (at[i].distance(first), -i))
    cut = pat.stop_dist_m[k] * line.length / pat.length_m
    if cut <= 0 or cut >= line.length:
        return [line]
    return [substring(line, 0.0, cut), substring(line, cut, line.length)]


def _latlon_of(xy: np.ndarray) -> list[tuple[float, float]]:
    lon, lat = geo.to_wgs84_xy(xy[:, 0], xy[:, 1])
    return [
        (float(a), float(o)) for a, o in zip(np.atleast_1d(lat), np.atleast_1d(lon), strict=True)
    ]


def _natural(name: str) -> tuple[Any, ...]:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name))


def routes_near_stops(
    stops: Sequence[Stop], baseline: Any, radius_m: float = NEAR_STOP_M
) -> dict[str, tuple[str, ...]]:
    """Per shuttle stop, the existing bus routes stopping at its ARS number or within the radius.

    Route names are sorted as riders read them (numbers by value).
    """
    at: dict[str, set[str]] = {}
    for p in baseline.routes:
        for sid in p.pattern.stop_ids:
            at.setdefault(sid, set()).add(p.route.name)
    bstops = [s for s in baseline.stops if s.node_id in at]
    by_ars: dict[str, set[str]] = {}
    for s in bstops:
        if s.ars:
            by_ars.setdefault(s.ars, set()).update(at[s.node_id])
    out: dict[str, tuple[str, ...]] = {}
    if not stops:
        return out
    found: list[set[str]] = [set() for _ in stops]
    if bstops:
        bx, by = geo.to_metric_xy(
            np.array([s.lon for s in bstops]), np.array([s.lat for s in bstops])
        )
        sx, sy = geo.to_metric_xy(
            np.array([s.lon for s in stops]), np.array([s.lat for s in stops])
        )
        tree = cKDTree(np.column_stack([np.atleast_1d(bx), np.atleast_1d(by)]))
        pts = np.column_stack([np.atleast_1d(sx), np.atleast_1d(sy)])
        for i, hits in enumerate(tree.query_ball_point(pts, radius_m)):
            for j in hits:
                found[i].update(at[bstops[j].node_id])
    for i, s in enumerate(stops):
        if s.ars:
            found[i].update(by_ars.get(s.ars, ()))
        out[s.stop_id] = tuple(sorted(found[i], key=_natural))
    return out


def _zone_areas(zones: Sequence[Any], points: Sequence[tuple[float, float]]) -> list[ZoneArea]:
    out = []
    for z, (lon, lat) in zip(zones, points, strict=True):
        geom = z.geometry.simplify(0.0001)
        polys = tuple(
            tuple(
                tuple((round(y, 6), round(x, 6)) for x, y in ring.coords)
                for ring in (p.exterior, *p.interiors)
            )
            for p in getattr(geom, "geoms", [geom])
            if p.geom_type == "Polygon"
        )
        out.append(
            ZoneArea(
                code=str(z.code),
                name_ko=str(z.name_ko),
                district=int(z.district),
                lat=round(lat, 6),
                lon=round(lon, 6),
                polygons=polys,
            )
        )
    return out


def example_pairs(
    places: Sequence[Any], zone_of: Mapping[str, int], gain: np.ndarray | None = None
) -> list[tuple[int, int]]:
    """Indices (into ``places``) of the named example trips (see the module docstring).

    ``zone_of`` maps a place name to its zone index; places outside every zone are skipped, as
    are pairs inside one zone. ``gain`` (zone x zone minutes) adds the anchor pair gaining most.
    """
    idx = [i for i, p in enumerate(places) if p.name_ko in zone_of]
    offices = [i for i in idx if places[i].name_ko.endswith("구청")]
    out: list[tuple[int, int]] = []
    for a_pos, a in enumerate(offices):
        for b in offices[a_pos + 1 :]:
            if zone_of[places[a].name_ko] != zone_of[places[b].name_ko]:
                out.append((a, b))
    if gain is not None:
        best: tuple[float, int, int] | None = None
        for a in idx:
            for b in idx:
                za, zb = zone_of[places[a].name_ko], zone_of[places[b].name_ko]
                if za == zb or (a, b) in out:
                    continue
                g = float(gain[za, zb])
                if math.isfinite(g) and g > 0 and (best is None or g > best[0]):
                    best = (g, a, b)
        if best is not None:
            out.append((best[1], best[2]))
    return out


def compare_existing(
    plan: Plan,
    baseline: Any,
    zones: Sequence[Any],
    trips: np.ndarray,
    zone_points: Sequence[tuple[float, float]],
    *,
    periods: Sequence[tuple[str, str]] = PERIODS_COMPARED,
    threshold_min: float = 5.0,
    cache_dir: str | os.PathLike[str] | None = None,
) -> ExistingFigures:
    """The plan against the existing network (see the module docstring).

    Parameters
    ----------
    plan
        A timetabled plan (its routes, stops, places and weekday fleet headways).
    baseline
        The existing network (:func:`shuttle.pipeline.make_baseline`).
    zones, trips, zone_points
        The demand zones (objects with ``code``, ``name_ko``, ``district``, ``geometry``), the
        ``(z, z)`` trips per day and each zone's centre ``(lon, lat)``.
    periods
        ``(day type, period)`` pairs compared; the shuttle runs its timetable's headways of that
        day (the existing network its weekday figures).
    threshold_min
        A trip "gains" when it is faster by more than this.
    cache_dir
        The stage cache of the assignments (:func:`shuttle.compare.before_after`); None: none.

    Returns
    -------
    ExistingFigures
    """
    T = np.asarray(trips, dtype=float)
    if T.shape != (len(zones), len(zones)) or len(zone_points) != len(zones):
        msg = f"The OD matrix is {T.shape} but there are {len(zones)} zones."
        raise DesignError(msg)
    ds = plan.scenario.design

    def one(day: str, period: str) -> PeriodComparison:
        existing = existing_lines(baseline, plan.scenario, period, zone_points)
        shuttle = shuttle_lines(plan, period, day)
        ba = before_after(
            existing,
            shuttle,
            zone_points,
            T,
            walk_speed_kmh=ds.walk_speed_kmh,
            transfer_penalty_min=ds.transfer_penalty_min,
            threshold_min=threshold_min,
            cache_dir=cache_dir,
        )
        log.info(
            "existing network, %s %s: %d lines + %d shuttle lines; %.0f trips gain > %.0f min, "
            "%.0f shuttle boardings",
            day, period, len(existing), len(shuttle), ba.trips_gaining, threshold_min,
            ba.shuttle_boardings,
        )  # fmt: skip
        return PeriodComparison(day, period, ba)

    # the assignment kernel releases the GIL: the periods run side by side (same results)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(one, day, period) for day, period in periods]
        comps = [f.result() for f in futures]
    stops = {s.stop_id: s for s in plan.stops}
    overlaps = tuple(route_overlap(r, stops, overlap_lines(baseline, near=r)) for r in plan.routes)
    # examples: anchors in the zones that hold them
    polys = [z.geometry for z in zones]
    zone_of: dict[str, int] = {}
    for p in plan.places:
        pt = shapely.Point(p.lon, p.lat)
        hit = next((i for i, g in enumerate(polys) if g.covers(pt)), None)
        if hit is not None:
            zone_of[p.name_ko] = hit
    ref = next((c for c in comps if c.period == "offpeak"), comps[-1] if comps else None)
    pairs = example_pairs(plan.places, zone_of, ref.result.gain_min if ref else None)
    examples = []
    for a, b in pairs:
        pa, pb = plan.places[a], plan.places[b]
        za, zb = zone_of[pa.name_ko], zone_of[pb.name_ko]
        examples.append(
            Example(
                origin=pa.name_ko,
                destination=pb.name_ko,
                origin_en=pa.name_en,
                destination_en=pb.name_en,
                origin_zone=str(zones[za].name_ko),
                destination_zone=str(zones[zb].name_ko),
                times=tuple(
                    (
                        c.period,
                        float(c.result.before_min[za, zb]),
                        float(c.result.after_min[za, zb]),
                    )
                    for c in comps
                ),
            )
        )
    near = routes_near_stops(sorted(plan.stops, key=lambda s: s.stop_id), baseline)
    n_bus = sum(1 for p in baseline.routes if p.route.kind_ko != NIGHT)
    return ExistingFigures(
        zones=tuple(_zone_areas(zones, zone_points)),
        comparisons=tuple(comps),
        overlaps=overlaps,
        examples=tuple(examples),
        near_stops=tuple(sorted(near.items())),
        bus_routes=n_bus,
        rail_lines=tuple(r.line for r in baseline.rail),
    )
