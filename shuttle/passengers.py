"""Riders and loads: the day's demand assigned to the shuttle, period by period.

:func:`plan_network` turns routes and stops into the frequency-based network of
:mod:`shuttle.assign` (one line per pattern, with the period's run times from
:mod:`shuttle.runtime` and the headway the timetable runs), joins every demand zone on foot to the
stops near it and lets riders cross the street between stops close together.
:func:`assign_day` splits the day's OD matrix over the periods by the hourly profile of trips,
assigns each period's share by optimal strategies (Spiess and Florian 1989) and returns riders,
boardings and alightings per stop, the load on each segment, the maximum load point and its load
factor against the capacity run (buses per hour times the vehicle's capacity).

Walks follow :mod:`shuttle.evaluate`: crow-fly distance (EPSG:5179) times
:data:`~shuttle.evaluate.WALK_DETOUR` at the scenario's walking speed, up to
:data:`~shuttle.evaluate.ACCESS_RADIUS_M` between a zone centre and a stop and
:data:`~shuttle.evaluate.TRANSFER_RADIUS_M` between two stops.

Existing lines as competition: with ``background`` (:class:`LineSpec` s of the existing bus and
metro lines of a period, :func:`shuttle.existing.existing_lines`) the shuttle's lines join them in
one network (:func:`line_network`, the builder :mod:`shuttle.compare` uses too): a shuttle stop
with the same ARS number as an existing stop is one node, riders choose between all lines, and
riders, boardings and loads count the shuttle's lines only (a trip riding only existing lines is
``existing_only``). Without it the shuttle is assigned alone: an upper bound on its riders.

Conventions: the wait is half the combined headway of the attractive lines; the transfer penalty
is paid at every boarding after the first; a period's demand is its share of the day's trips, and
its loads are per hour (the period's trips spread evenly over its hours). The capacity does not
feed back on the route choice: a segment over capacity times the target load factor is reported.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from . import assign as assign_mod
from . import geo, runtime
from .errors import DesignError
from .evaluate import ACCESS_RADIUS_M, TRANSFER_RADIUS_M, WALK_DETOUR
from .model import Route, Stop

__all__ = [
    "DayRidership",
    "LineNetwork",
    "LineSpec",
    "PatternLoad",
    "PeriodDemand",
    "PeriodRidership",
    "PlanNetwork",
    "assign_day",
    "background_of",
    "line_network",
    "plan_network",
    "split_demand",
    "stop_key",
    "walk_links",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LineSpec:
    """A line of either network: stops (key, lon, lat), run times and headway."""

    line_id: str
    stops: tuple[tuple[str, float, float], ...]  # (stop key, lon, lat); equal keys = one node
    run_s: tuple[float, ...]  # between consecutive stops, seconds
    headway_s: float
    shuttle: bool = False  # one of the shuttle's lines (its boardings are counted)


@dataclass(frozen=True, slots=True)
class LineNetwork:
    """The assignment network of a set of :class:`LineSpec` (see :func:`line_network`)."""

    n_nodes: int
    lines: tuple[assign_mod.Line, ...]  # in the order given
    walks: tuple[assign_mod.Walk, ...]
    zone_nodes: tuple[int, ...]  # node of each zone, in the zones' order
    keys: tuple[str, ...]  # stop key of each stop node (nodes 0 .. len(keys) - 1)
    shuttle: tuple[bool, ...]  # per line: one of the shuttle's


@dataclass(frozen=True, slots=True)
class PlanNetwork:
    """The assignment network of a route set in one period.

    The shuttle's lines come first (``line_keys`` names them), the background lines after.
    """

    n_nodes: int
    lines: tuple[assign_mod.Line, ...]
    walks: tuple[assign_mod.Walk, ...]
    zone_nodes: tuple[int, ...]  # node of each zone, in the zones' order
    line_keys: tuple[tuple[str, int], ...]  # (route_id, direction_id) of each shuttle line
    keys: tuple[str, ...]  # stop key of each stop node (:func:`stop_key` for shuttle stops)


@dataclass(frozen=True, slots=True)
class PeriodDemand:
    """One period of a day type: its hours, its share of the day's trips and its headways."""

    period: str  # peak | offpeak | evening (or any label)
    hours: float  # hours of service in the period
    share: float  # share of the day's trips that travel in it (0..1)
    factor: float  # run-time factor
    headways_s: Mapping[str, float]  # route_id -> headway run in the period, seconds


@dataclass(frozen=True, slots=True)
class PatternLoad:
    """Riders on one direction of a route in one period (per hour)."""

    route_id: str
    direction_id: int
    period: str
    stop_ids: tuple[str, ...]
    boardings: tuple[float, ...]  # per hour, per stop
    alightings: tuple[float, ...]
    load: tuple[float, ...]  # riders on board per hour after each stop (len - 1)
    capacity_per_hour: float  # buses per hour x vehicle capacity
    max_load: float
    max_load_stop: str  # stop after which the maximum load occurs
    load_factor: float  # max_load / capacity_per_hour


@dataclass(frozen=True, slots=True)
class PeriodRidership:
    """The assignment of one period."""

    period: str
    demand: float  # trips of the period (all zone pairs)
    riders: float  # trips that board at least one shuttle
    boardings: float
    walk_only: float  # trips whose best strategy is to walk
    unserved: float  # trips with no stop within reach at one end
    att_min: float  # mean door-to-door time of the riders' strategies, minutes
    wait_min: float
    in_vehicle_min: float
    walk_min: float
    loads: tuple[PatternLoad, ...]
    existing_only: float = 0.0  # trips riding only background lines (0 without a background)


@dataclass(frozen=True, slots=True)
class DayRidership:
    """A day type's riders: the sum of its periods."""

    day_type: str
    demand: float
    riders: float
    boardings: float
    peak_hour_riders: float  # riders in the busiest hour of the profile
    periods: tuple[PeriodRidership, ...]


def stop_key(stop: Stop) -> str:
    """A shuttle stop's node key: its ARS number when it is a real Seoul stop (shared with the
    existing lines there), else its stop id."""
    return f"ars:{stop.ars}" if stop.ars else f"shuttle:{stop.stop_id}"


def line_network(
    lines: Sequence[LineSpec],
    zone_lonlat: Sequence[tuple[float, float]],
    *,
    walk_speed_kmh: float,
    zone_to_zone: bool = False,
    stops: Sequence[tuple[str, float, float]] = (),
) -> LineNetwork:
    """The assignment network of some lines: one node per stop key, zones after the stops.

    Stop nodes are ``stops`` first (``(key, lon, lat)``, e.g. stops no line serves in this
    period, still walked through), then each line's stops in the order given; a key seen before
    is the same node (the first position given is the node's). Walks are :func:`walk_links`.
    A line's boardings are counted (:attr:`shuttle.assign.Line.counted`) when it is a shuttle
    line.
    """
    keys: dict[str, int] = {}
    pos: list[tuple[float, float]] = []
    for k, lon, lat in itertools.chain(stops, (x for ln in lines for x in ln.stops)):
        if k not in keys:
            keys[k] = len(pos)
            pos.append((lon, lat))
    ns, nz = len(pos), len(zone_lonlat)
    out = tuple(
        assign_mod.Line(
            ln.line_id,
            tuple(keys[k] for k, _, _ in ln.stops),
            tuple(ln.run_s),
            ln.headway_s,
            counted=ln.shuttle,
        )
        for ln in lines
    )
    walks = walk_links(
        geo.metric_points(pos),
        geo.metric_points(list(zone_lonlat)),
        walk_speed_kmh=walk_speed_kmh,
        zone_to_zone=zone_to_zone,
    )
    return LineNetwork(
        n_nodes=ns + nz,
        lines=out,
        walks=tuple(walks),
        zone_nodes=tuple(range(ns, ns + nz)),
        keys=tuple(keys),
        shuttle=tuple(ln.shuttle for ln in lines),
    )


def plan_network(
    routes: Sequence[Route],
    stops: Sequence[Stop],
    zone_lonlat: Sequence[tuple[float, float]],
    *,
    headways_s: Mapping[str, float],
    factor: float,
    dwell_s: int,
    walk_speed_kmh: float,
    background: Sequence[LineSpec] | None = None,
) -> PlanNetwork:
    """Build the assignment network of a route set for one period.

    Routes missing from ``headways_s`` (not run in the period) are left out. ``background``
    lines (the existing network of the period) join the network after the shuttle's lines; their
    boardings are not counted (see the module docstring).

    Raises
    ------
    DesignError
        If a pattern names a stop that is not in ``stops``, or a headway is not positive.
    """
    st = sorted(stops, key=lambda s: s.stop_id)
    by_id = {s.stop_id: s for s in st}
    specs: list[LineSpec] = []
    keys: list[tuple[str, int]] = []
    for r in sorted(routes, key=lambda r: r.route_id):
        h = headways_s.get(r.route_id)
        if h is None:
            continue
        if not (h > 0 and math.isfinite(h)):
            msg = f"Route {r.route_id}: headway {h} s is not a positive number."
            raise DesignError(msg)
        for p in r.patterns:
            missing = [s for s in p.stop_ids if s not in by_id]
            if missing:
                msg = (
                    f"Route {r.route_id} direction {p.direction_id} names unknown stop "
                    f"{missing[0]}."
                )
                raise DesignError(msg)
            arr, dep = runtime.stop_times(p.run_times_s, 0, factor, dwell_s)
            # departure to departure: riding through a stop costs its dwell (also counted for
            # the riders who alight there: at most one dwell per ride)
            run = tuple(float(dep[k + 1] - dep[k]) for k in range(len(arr) - 1))
            specs.append(
                LineSpec(
                    line_id=f"{r.route_id}/{p.direction_id}",
                    stops=tuple(
                        (stop_key(by_id[s]), by_id[s].lon, by_id[s].lat) for s in p.stop_ids
                    ),
                    run_s=run,
                    headway_s=float(h),
                    shuttle=True,
                )
            )
            keys.append((r.route_id, p.direction_id))
    bg = [dataclasses.replace(ln, shuttle=False) if ln.shuttle else ln for ln in background or ()]
    net = line_network(
        [*specs, *bg],
        zone_lonlat,
        walk_speed_kmh=walk_speed_kmh,
        stops=[(stop_key(s), s.lon, s.lat) for s in st],
    )
    return PlanNetwork(
        n_nodes=net.n_nodes,
        lines=net.lines,
        walks=net.walks,
        zone_nodes=net.zone_nodes,
        line_keys=tuple(keys),
        keys=net.keys,
    )


def walk_links(
    stop_xy: np.ndarray,
    zone_xy: np.ndarray,
    *,
    walk_speed_kmh: float,
    zone_to_zone: bool = False,
) -> list[assign_mod.Walk]:
    """Walking links over stop nodes ``0..ns-1`` and zone nodes ``ns..ns+nz-1`` (metric points).

    Zone centre <-> stop within :data:`~shuttle.evaluate.ACCESS_RADIUS_M` (both ways), stop ->
    stop within :data:`~shuttle.evaluate.TRANSFER_RADIUS_M`, and with ``zone_to_zone`` zone ->
    zone within the access radius; crow-fly metres times :data:`~shuttle.evaluate.WALK_DETOUR`.
    """
    ns, nz = len(stop_xy), len(zone_xy)
    speed = walk_speed_kmh / 3.6  # m/s

    def t(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.hypot(*(a - b))) * WALK_DETOUR / speed

    walks: list[assign_mod.Walk] = []
    if ns and nz:
        for zi, hits in enumerate(
            cKDTree(zone_xy).query_ball_tree(cKDTree(stop_xy), ACCESS_RADIUS_M)
        ):
            for si in sorted(hits):
                w = t(zone_xy[zi], stop_xy[si])
                walks += [assign_mod.Walk(ns + zi, si, w), assign_mod.Walk(si, ns + zi, w)]
    if ns:
        tree = cKDTree(stop_xy)
        for i, hits in enumerate(tree.query_ball_tree(tree, TRANSFER_RADIUS_M)):
            walks += [
                assign_mod.Walk(i, j, t(stop_xy[i], stop_xy[j])) for j in sorted(hits) if j != i
            ]
    if nz and zone_to_zone:
        ztree = cKDTree(zone_xy)
        for i, hits in enumerate(ztree.query_ball_tree(ztree, ACCESS_RADIUS_M)):
            walks += [
                assign_mod.Walk(ns + i, ns + j, t(zone_xy[i], zone_xy[j]))
                for j in sorted(hits)
                if j != i
            ]
    return walks


def background_of(
    background: Mapping[str, Sequence[LineSpec]] | None, period: str
) -> Sequence[LineSpec] | None:
    """The background lines of a period (None without a background).

    Raises
    ------
    DesignError
        If a background is given without the period.
    """
    if background is None:
        return None
    if period not in background:
        msg = (
            f"The existing lines given as competition have no period {period!r} "
            f"(they have {', '.join(sorted(background)) or 'none'})."
        )
        raise DesignError(msg)
    return background[period]


def split_demand(
    profile: Sequence[float], windows: Mapping[str, Sequence[tuple[int, int]]]
) -> dict[str, float]:
    """Share of the day's trips in each period: the profile's hours that fall in its windows.

    ``profile`` is 24 hourly shares (hour 0 = 00:00-01:00); ``windows`` maps a period to
    ``(start_s, end_s)`` intervals (seconds after midnight, may pass 86400). Partial hours count
    pro rata; an hour in no window (outside the service span) is not served.
    """
    prof = np.asarray(profile, dtype=float)
    if prof.shape != (24,) or (prof < 0).any() or not math.isclose(prof.sum(), 1.0, abs_tol=1e-6):
        msg = "The hourly profile must be 24 non-negative shares that add up to 1."
        raise DesignError(msg)
    out = {}
    for period, wins in windows.items():
        share = 0.0
        for a, b in wins:
            for h in range(24 * 2):
                lo, hi = max(a, h * 3600), min(b, (h + 1) * 3600)
                if hi > lo:
                    share += prof[h % 24] * (hi - lo) / 3600.0
        out[period] = share
    return out


def assign_day(
    routes: Sequence[Route],
    stops: Sequence[Stop],
    zone_lonlat: Sequence[tuple[float, float]],
    trips: np.ndarray,
    periods: Sequence[PeriodDemand],
    *,
    day_type: str,
    capacity: float,
    dwell_s: int,
    walk_speed_kmh: float,
    transfer_penalty_min: float,
    peak_hour_share: float,
    background: Mapping[str, Sequence[LineSpec]] | None = None,
) -> DayRidership:
    """Assign a day type's demand period by period; riders, loads and load factors.

    Parameters
    ----------
    trips
        ``(z, z)`` trips per day between the zones (diagonal ignored).
    periods
        The day type's periods with their share of the day's trips and their headways.
    capacity
        Passengers one bus carries (seated + standing).
    peak_hour_share
        Share of the day's trips in the busiest hour (from the profile), for the peak-hour riders.
    background
        Period -> the existing lines riders may take instead of (or with) the shuttle
        (:func:`shuttle.existing.existing_lines`); None: the shuttle alone (an upper bound on
        its riders). Riders, boardings and loads count the shuttle's lines only.

    Raises
    ------
    DesignError
        If the matrix does not fit the zones, an input is invalid, or ``background`` has no
        entry for a period assigned.
    """
    T = np.asarray(trips, dtype=float)
    nz = len(zone_lonlat)
    if T.shape != (nz, nz):
        msg = f"The OD matrix is {T.shape} but there are {nz} zones."
        raise DesignError(msg)
    T = T.copy()
    np.fill_diagonal(T, 0.0)
    out: list[PeriodRidership] = []
    for pd in periods:
        if pd.hours <= 0 or pd.share <= 0:
            continue
        net = plan_network(
            routes,
            stops,
            zone_lonlat,
            headways_s=pd.headways_s,
            factor=pd.factor,
            dwell_s=dwell_s,
            walk_speed_kmh=walk_speed_kmh,
            background=background_of(background, pd.period),
        )
        D = T * pd.share
        res = assign_mod.assign(
            net.n_nodes,
            net.lines,
            net.walks,
            net.zone_nodes,
            net.zone_nodes,
            D,
            transfer_penalty_s=transfer_penalty_min * 60.0,
        )
        loads = []
        by_route = {r.route_id: r for r in routes}
        for (rid, d), ll in zip(net.line_keys, res.lines[: len(net.line_keys)], strict=True):
            pat = next(p for p in by_route[rid].patterns if p.direction_id == d)
            per_h = 1.0 / pd.hours
            cap = capacity * 3600.0 / float(pd.headways_s[rid])
            load = tuple(x * per_h for x in ll.load)
            k = int(np.argmax(load)) if load else 0
            mx = load[k] if load else 0.0
            loads.append(
                PatternLoad(
                    route_id=rid,
                    direction_id=d,
                    period=pd.period,
                    stop_ids=pat.stop_ids,
                    boardings=tuple(x * per_h for x in ll.boardings),
                    alightings=tuple(x * per_h for x in ll.alightings),
                    load=load,
                    capacity_per_hour=cap,
                    max_load=mx,
                    max_load_stop=pat.stop_ids[k],
                    load_factor=mx / cap if cap > 0 else math.inf,
                )
            )
        ok = np.isfinite(res.time_s) & (res.demand > 0)
        rode = ok & (res.boardings > 1e-9)  # boards a shuttle line
        other = ok & ~rode & (res.in_vehicle_s > 1e-9)  # rides only background lines
        w = res.demand[rode]
        wsum = float(w.sum())

        def mean(
            a: np.ndarray, mask: np.ndarray = rode, weights: np.ndarray = w, total: float = wsum
        ) -> float:
            return float((a[mask] * weights).sum() / total / 60.0) if total > 0 else math.nan

        out.append(
            PeriodRidership(
                period=pd.period,
                demand=float(res.demand.sum()),
                riders=res.riders,
                boardings=res.boardings_total,
                walk_only=float(res.demand[ok & ~rode & ~other].sum()),
                unserved=res.unserved,
                att_min=mean(res.time_s),
                wait_min=mean(res.wait_s),
                in_vehicle_min=mean(res.in_vehicle_s),
                walk_min=mean(res.walk_s),
                loads=tuple(loads),
                existing_only=float(res.demand[other].sum()),
            )
        )
    riders = sum(p.riders for p in out)
    demand = sum(p.demand for p in out)
    # the busiest hour: the period with the most riders per hour, scaled to the profile's peak
    ph = 0.0
    for p, pd in zip(out, [q for q in periods if q.hours > 0 and q.share > 0], strict=True):
        if pd.share > 0:
            ph = max(ph, p.riders / pd.share * peak_hour_share)
    return DayRidership(
        day_type=day_type,
        demand=demand,
        riders=riders,
        boardings=sum(p.boardings for p in out),
        peak_hour_riders=ph,
        periods=tuple(out),
    )
