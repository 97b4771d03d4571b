"""Timetable, vehicle blocks, deadheads, fleet and duties (pure: no graph, no files).

:func:`build_timetable` turns designed routes, the scenario's ``[service]`` settings and a small
deadhead table (depot <-> terminal stop road times, computed by the pipeline on the road graph)
into trips, vehicle blocks (GTFS ``block_id``), non-revenue moves, fleet figures and a driver-shift
estimate for every day type.

Departures
    Each day type has a span (first to last departure at the origin terminal) and a headway per
    period (peak, off-peak, evening; :meth:`~shuttle.config.ServiceConfig.period_at`). From the
    span start (direction 0), each next departure is one headway later, the headway of the period
    the current departure falls in. When a period boundary comes before that, the new period's
    grid point (``span start + k * new headway``, clock-face for a headway dividing 60) is taken
    instead if it is earlier and at least the shorter of the two headways after the current
    departure. So a gap never exceeds the headway of the period it starts in and is never shorter
    than the shorter of the two headways around it: no bunching at a boundary (12-minute peak
    ending 09:30 after a 09:24 departure: the next leaves 09:36, not 09:30). Direction 1 runs the
    same departures shifted by ``shift`` = the slowest direction-0 run plus the layover, rounded up
    to a whole minute, so the bus arriving from direction 0 makes the matching direction-1
    departure in every period; its departures before ``span start + shift`` continue the first
    period's headway backwards, so both terminals are served from the span start. A loop route
    runs each of its patterns on the direction-0 departures.
Stop times
    :func:`shuttle.runtime.stop_times`: the pattern's free-flow run times times the factor of the
    period the trip departs in, plus ``dwell_s`` at every intermediate stop; whole seconds.
Blocks and deadheads
    Per route and day type, trips are taken in departure order; a bus arriving at a terminal can
    take the next departure there once ``layover_min`` has passed, and the bus that arrived last
    is taken first, so that spare buses stay idle together. A bus whose next trip would be more
    than ``service.depot_gap_min`` (and more than its round trip to the depot) after its arrival
    returns to the depot: its block ends there and a later trip starts a new block. A block is one
    pull-out -> trips -> pull-in sequence of one bus. Each route has a home depot (the one with the
    shortest free-flow pull-out and pull-in over the route's terminal stops); its blocks pull out
    from it to their first stop and pull in from their last stop, the deadhead taking the free-flow
    road time times the factor of the period of the trip it serves
    (:func:`shuttle.runtime.deadhead_s`). Deadheads are :class:`~shuttle.model.Deadhead` records
    (``Timetable.deadheads``), never trips: the public feed does not carry them. Without a
    deadhead table blocks start and end at their terminals.
Fleet
    A block is active from pull-out to pull-in. A route's buses on a day type are the most of its
    blocks active at once (the concurrency bound of its own timetable: buses in service, in
    layover or deadheading); the day's fleet (:func:`fleet_summary`) is the most blocks of all
    routes active at once (buses return to a shared depot pool). Vehicle-hours have one
    definition, pull-out to pull-in summed over blocks, split into revenue (first departure to last
    arrival of each trip), layover (between trips) and deadhead hours; vehicle-km into revenue and
    deadhead km. Headways are never widened to fit a fleet: the service planner
    (:mod:`shuttle.budget`) chooses them within the budget and passes them in (``headways``), at
    or under the day type's policy headways.
Duties
    :class:`~shuttle.model.DutyRow` per day type: each block is cut into driver shifts no longer
    than ``service.max_shift_h``, relieved at the end of a trip (a terminal) or at the depot; the
    count of shifts estimates the drivers needed (breaks and split shifts are not modelled).
Calendar
    :func:`service_dates` (from :mod:`shuttle.service_calendar`, re-exported here) gives the day
    types' dates; the frozen South Korean public holidays run the Sunday service.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from . import runtime
from .config import DAY_TYPES, PERIODS, DayService, Scenario, ServiceConfig
from .errors import TimetableError
from .model import (
    Block,
    Deadhead,
    DeadheadLeg,
    Depot,
    DutyRow,
    FleetRow,
    Pattern,
    Route,
    Timetable,
    Trip,
)
from .service_calendar import ServiceCalendar, day_type_of, service_dates

__all__ = [
    "ServiceCalendar",
    "build_timetable",
    "check_service",
    "day_type_of",
    "fleet_summary",
    "max_active",
    "peak_fleet",
    "service_dates",
    "trip_duration_s",
    "trips_by_block",
]

log = logging.getLogger(__name__)

_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# ----------------------------------------------------------------------------------------------
# checks


def _hhmm(t: int) -> str:
    return f"{t // 3600:02d}:{t % 3600 // 60:02d}"


def check_service(svc: ServiceConfig) -> None:
    """Check service parameters that a Python caller may have built by hand.

    Raises
    ------
    TimetableError
        Naming the first field that is missing or out of range (zero or negative headway, a span
        that ends before it starts, a negative dwell, a layover below the minimum, ...).
    """

    def bad(msg: str) -> TimetableError:
        return TimetableError(msg)

    if svc.end_date < svc.start_date:
        msg = f"service.end_date {svc.end_date} is before service.start_date {svc.start_date}."
        raise bad(msg)
    if svc.dwell_s < 0:
        raise bad(f"service.dwell_s must be >= 0 seconds, got {svc.dwell_s}.")
    if not (_finite(svc.min_layover_min) and svc.min_layover_min >= 0):
        raise bad(f"service.min_layover_min must be >= 0 minutes, got {svc.min_layover_min}.")
    if not (_finite(svc.layover_min) and svc.layover_min >= svc.min_layover_min):
        msg = (
            f"service.layover_min {svc.layover_min} must be a number >= service.min_layover_min "
            f"{svc.min_layover_min}."
        )
        raise bad(msg)
    for p in PERIODS:
        f = svc.time_factor(p)
        if not (_finite(f) and f > 0):
            raise bad(f"service.periods.time_factors.{p} must be > 0, got {f}.")
    days = dict(svc.days)
    for day in DAY_TYPES:
        if day not in days:
            msg = f"service.{day} is missing; give a span and headways for every day type."
            raise bad(msg)
        ds: DayService = days[day]
        if ds.end_s <= ds.start_s:
            msg = (
                f"service.{day}.span ends ({_hhmm(ds.end_s)}) before it starts "
                f"({_hhmm(ds.start_s)})."
            )
            raise bad(msg)
        if ds.start_s < 0:
            raise bad(f"service.{day}.span starts before midnight ({ds.start_s} s).")
        heads = dict(ds.headways_min)
        for p in PERIODS:
            if p not in heads:
                raise bad(f"service.{day}.headways_min.{p} is missing.")
            h = heads[p]
            if not (_finite(h) and h > 0):
                raise bad(f"service.{day}.headways_min.{p} must be > 0 minutes, got {h}.")
            if round(h * 60) < 1:
                raise bad(f"service.{day}.headways_min.{p} is below one second, got {h}.")


def _finite(x: float) -> bool:
    return isinstance(x, int | float) and math.isfinite(x)


def _check_routes(routes: Sequence[Route]) -> None:
    if not routes:
        raise TimetableError("No routes to schedule; the design has no routes.")
    seen: set[str] = set()
    for r in routes:
        if r.route_id in seen:
            raise TimetableError(f"Route id {r.route_id!r} appears twice.")
        seen.add(r.route_id)
        dirs = sorted(p.direction_id for p in r.patterns)
        if r.is_loop:
            if not r.patterns or len(set(dirs)) != len(dirs) or not set(dirs) <= {0, 1}:
                msg = f"Route {r.route_id}: a loop needs one pattern per direction, got {dirs}."
                raise TimetableError(msg)
        elif dirs != [0, 1]:
            msg = (
                f"Route {r.route_id}: a two-way route needs directions 0 and 1, got {dirs}; "
                "set is_loop for a one-pattern loop."
            )
            raise TimetableError(msg)


# ----------------------------------------------------------------------------------------------
# trips


def trip_duration_s(pattern: Pattern, factor: float, dwell_s: int) -> int:
    """Return the run time of a trip, first departure to last arrival (seconds).

    The same figure as :func:`shuttle.runtime.trip_duration_s` (kept here for callers).
    """
    return runtime.trip_duration_s(pattern, factor, dwell_s)


def _boundaries(svc: ServiceConfig, start: int, end: int) -> list[int]:
    """Times in (start, end] where the period changes."""
    edges: set[int] = set()
    for a, b in (*svc.peak, *svc.evening):
        for base in range(0, end + 86400, 86400):
            edges.update((a + base, b + base))
    return sorted(t for t in edges if start < t <= end and svc.period_at(t) != svc.period_at(t - 1))


def _grid_after(anchor: int, t: int, h: int) -> int:
    """The first point of the grid ``anchor + k*h`` at or after ``t``."""
    k = -((anchor - t) // h)  # ceil((t - anchor) / h)
    return anchor + k * h


def _departures(svc: ServiceConfig, start: int, end: int, heads_s: dict[str, int]) -> list[int]:
    """Departures in [start, end] (see the module docstring, *Departures*).

    Each gap is the headway of the period the earlier departure falls in, or shorter at a period
    boundary when the new period's grid point (anchored at ``start``) comes first and lies at
    least the shorter of the two headways after the earlier departure.
    """
    bounds = _boundaries(svc, start, end)
    t = start
    out: list[int] = []
    while t <= end:
        out.append(t)
        h = heads_s[svc.period_at(t)]
        nxt = t + h
        for b in bounds:
            if b <= t:
                continue
            if b >= nxt:
                break
            h_new = heads_s[svc.period_at(b)]
            g = _grid_after(start, b, h_new)
            if g < nxt and g - t >= min(h, h_new):
                nxt = g
        t = nxt
    return out


def _direction_shift(route: Route, svc: ServiceConfig) -> int:
    """Direction 1 departs this long after direction 0 (slowest run + layover, whole minutes)."""
    if route.is_loop:
        return 0
    pat0 = min(route.patterns, key=lambda p: p.direction_id)
    slow = runtime.slowest_factor(svc)
    first_leg = runtime.trip_duration_s(pat0, slow, svc.dwell_s) + _layover_s(svc)
    return math.ceil(first_leg / 60) * 60


def _layover_s(svc: ServiceConfig) -> int:
    return math.ceil(svc.layover_min * 60)


def _pattern_departures(
    route: Route, svc: ServiceConfig, ds: DayService, heads_s: dict[str, int]
) -> list[tuple[int, Pattern]]:
    """``(departure, pattern)`` of every trip of a route on one day type."""
    base = _departures(svc, ds.start_s, ds.end_s, heads_s)
    pats = sorted(route.patterns, key=lambda p: p.direction_id)
    if route.is_loop:
        return [(d, p) for p in pats for d in base]
    shift = _direction_shift(route, svc)
    h0 = heads_s[svc.period_at(ds.start_s)]
    lead = [ds.start_s - k * h0 for k in range(-(-shift // h0), 0, -1)]
    back = [d + shift for d in (*lead, *base) if ds.start_s <= d + shift <= ds.end_s]
    return [(d, pats[0]) for d in base] + [(d, pats[1]) for d in back]


def _terminals(route: Route, direction: int) -> tuple[str, str]:
    """Abstract (start, end) terminal of a trip: loops return to their start."""
    if route.is_loop:
        return (f"L{direction}", f"L{direction}")
    return ("A", "B") if direction == 0 else ("B", "A")


def _hhmmss_id(t: int) -> str:
    return f"{t // 3600:02d}{t % 3600 // 60:02d}{t % 60:02d}"


# ----------------------------------------------------------------------------------------------
# depots and deadheads


@dataclass(frozen=True, slots=True)
class _Home:
    """A route's home depot and its free-flow legs to and from the route's terminal stops."""

    depot_id: str
    out: dict[str, tuple[int, float]]  # stop -> (free-flow s, m) depot -> stop
    back: dict[str, tuple[int, float]]  # stop -> (free-flow s, m) stop -> depot


def _home_depot(route: Route, legs: Sequence[DeadheadLeg]) -> _Home | None:
    """The depot with the least free-flow pull-out + pull-in time over the route's terminals."""
    if not legs:
        return None
    firsts = sorted({p.stop_ids[0] for p in route.patterns})
    lasts = sorted({p.stop_ids[-1] for p in route.patterns})
    table: dict[tuple[str, str, bool], DeadheadLeg] = {
        (g.depot_id, g.stop_id, g.to_depot): g for g in legs
    }
    best: tuple[int, str] | None = None
    for dep in sorted({g.depot_id for g in legs}):
        keys = [(dep, s, False) for s in firsts] + [(dep, s, True) for s in lasts]
        if all(k in table for k in keys):
            cost = sum(table[k].free_s for k in keys)
            if best is None or (cost, dep) < best:
                best = (cost, dep)
    if best is None:
        have = {g.stop_id for g in legs}
        missing = [s for s in (*firsts, *lasts) if s not in have] or firsts
        msg = (
            f"Route {route.route_id}: no depot has both a pull-out and a pull-in road leg for "
            f"terminal stop {missing[0]}; the deadhead table lacks it (is the stop reachable?)."
        )
        raise TimetableError(msg)
    dep = best[1]
    return _Home(
        depot_id=dep,
        out={s: (table[(dep, s, False)].free_s, table[(dep, s, False)].length_m) for s in firsts},
        back={s: (table[(dep, s, True)].free_s, table[(dep, s, True)].length_m) for s in lasts},
    )


def _check_legs(legs: Sequence[DeadheadLeg]) -> None:
    for g in legs:
        if not (isinstance(g.free_s, int) and g.free_s >= 0):
            msg = f"Deadhead {g.depot_id} -> {g.stop_id}: free_s must be >= 0 s, got {g.free_s!r}."
            raise TimetableError(msg)
        if not (_finite(g.length_m) and g.length_m >= 0):
            msg = (
                f"Deadhead {g.depot_id} -> {g.stop_id}: length_m must be >= 0, got {g.length_m!r}."
            )
            raise TimetableError(msg)


# ----------------------------------------------------------------------------------------------
# one route on one day type


@dataclass(frozen=True, slots=True)
class _RouteDay:
    """Trips, blocks, deadheads and fleet figures of one route on one day type."""

    trips: tuple[Trip, ...]
    blocks: tuple[Block, ...]
    deadheads: tuple[Deadhead, ...]
    row: FleetRow
    need: tuple[tuple[str, int], ...]  # (period, ceil(cycle / headway)) for periods with trips


def max_active(intervals: Sequence[tuple[int, int]]) -> int:
    """Return the most half-open intervals ``[start, end)`` that overlap at one time."""
    events = sorted([(b, -1) for _, b in intervals] + [(a, 1) for a, _ in intervals])
    cur = best = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


def _chain(
    route: Route, trips: list[Trip], svc: ServiceConfig, home: _Home | None
) -> list[list[int]]:
    """Chain trips (sorted by departure) into blocks; see the module docstring."""
    layover = _layover_s(svc)
    gap = svc.depot_gap_min * 60
    slow = runtime.slowest_factor(svc)

    def stays(trip: Trip, wait: int) -> bool:
        """Whether a bus that ended ``trip`` and waits ``wait`` s stays at the terminal."""
        if wait <= gap:
            return True
        if home is None:
            return False
        back = home.back[_stop_of(route, trip, -1)][0]
        out = min(f for f, _ in home.out.values())  # back out to the terminal's next trip
        return wait < runtime.deadhead_s(back, slow) + runtime.deadhead_s(out, slow)

    idle: dict[str, list[tuple[int, int]]] = {}  # terminal -> [(trip index, block index)]
    chains: list[list[int]] = []
    for i, trip in enumerate(trips):
        t_start, t_end = _terminals(route, trip.direction_id)
        dep = trip.departure_s[0]
        pool = idle.setdefault(t_start, [])
        keep: list[tuple[int, int]] = []
        pick: tuple[int, int] | None = None
        for j, b in pool:
            arr = trips[j].arrival_s[-1]
            if not stays(trips[j], dep - arr):
                continue  # went back to the depot: its block is closed
            keep.append((j, b))
            if arr + layover <= dep and (pick is None or arr > trips[pick[0]].arrival_s[-1]):
                pick = (j, b)
        if pick is not None:
            keep.remove(pick)
            b = pick[1]
        else:
            b = len(chains)
            chains.append([])
        idle[t_start] = keep
        chains[b].append(i)
        idle.setdefault(t_end, []).append((i, b))
    return chains


def _stop_of(route: Route, trip: Trip, k: int) -> str:
    pat = next(p for p in route.patterns if p.direction_id == trip.direction_id)
    return pat.stop_ids[k]


def _schedule_route_day(
    route: Route,
    day: str,
    svc: ServiceConfig,
    heads_min: dict[str, float],
    home: _Home | None,
) -> _RouteDay:
    ds = svc.day(day)
    heads_s = {p: max(1, round(heads_min[p] * 60)) for p in PERIODS}
    trips: list[Trip] = []
    for dep, pat in _pattern_departures(route, svc, ds, heads_s):
        period = svc.period_at(dep)
        arr, out = runtime.stop_times(pat.run_times_s, dep, svc.time_factor(period), svc.dwell_s)
        trips.append(
            Trip(
                trip_id=f"{route.route_id}_{day}_{pat.direction_id}_{_hhmmss_id(dep)}",
                route_id=route.route_id,
                service_id=day,
                direction_id=pat.direction_id,
                block_id="",
                period=period,
                arrival_s=arr,
                departure_s=out,
            )
        )
    trips.sort(key=lambda t: (t.departure_s[0], t.direction_id))
    chains = _chain(route, trips, svc, home)

    length = {p.direction_id: p.length_m for p in route.patterns}
    blocks: list[Block] = []
    deadheads: list[Deadhead] = []
    block_of: dict[int, str] = {}
    revenue = layover = dead = 0
    dead_m = 0.0
    for n, chain in enumerate(chains, start=1):
        bid = f"{route.route_id}_{day}_{n:02d}"
        first, last = trips[chain[0]], trips[chain[-1]]
        start, end = first.departure_s[0], last.arrival_s[-1]
        for i in chain:
            block_of[i] = bid
            revenue += trips[i].arrival_s[-1] - trips[i].departure_s[0]
        for a, b in zip(chain, chain[1:], strict=False):
            layover += trips[b].departure_s[0] - trips[a].arrival_s[-1]
        depot = ""
        if home is not None:
            depot = home.depot_id
            s_out, s_in = _stop_of(route, first, 0), _stop_of(route, last, -1)
            (f_out, m_out), (f_in, m_in) = home.out[s_out], home.back[s_in]
            d_out = runtime.deadhead_s(f_out, svc.time_factor(first.period))
            d_in = runtime.deadhead_s(f_in, svc.time_factor(svc.period_at(end)))
            deadheads.append(
                Deadhead(
                    deadhead_id=f"{bid}_out",
                    block_id=bid,
                    service_id=day,
                    route_id=route.route_id,
                    kind="pull_out",
                    depot_id=depot,
                    stop_id=s_out,
                    start_s=start - d_out,
                    end_s=start,
                    length_m=round(m_out, 1),
                )
            )
            deadheads.append(
                Deadhead(
                    deadhead_id=f"{bid}_in",
                    block_id=bid,
                    service_id=day,
                    route_id=route.route_id,
                    kind="pull_in",
                    depot_id=depot,
                    stop_id=s_in,
                    start_s=end,
                    end_s=end + d_in,
                    length_m=round(m_in, 1),
                )
            )
            start, end = start - d_out, end + d_in
            dead += d_out + d_in
            dead_m += round(m_out, 1) + round(m_in, 1)
        blocks.append(
            Block(
                block_id=bid,
                service_id=day,
                route_id=route.route_id,
                trip_ids=tuple(trips[i].trip_id for i in chain),
                depot_id=depot,
                start_s=start,
                end_s=end,
            )
        )
    trips = [dataclasses.replace(t, block_id=block_of[i]) for i, t in enumerate(trips)]
    rev_km = sum(length[t.direction_id] for t in trips) / 1000
    dead_km = dead_m / 1000

    lay = _layover_s(svc)
    need = []
    for p in PERIODS:
        if any(t.period == p for t in trips):
            f = svc.time_factor(p)
            cycle = sum(
                runtime.trip_duration_s(pat, f, svc.dwell_s) + lay for pat in route.patterns
            )
            need.append((p, math.ceil(cycle / heads_s[p])))
    total_s = sum(b.end_s - b.start_s for b in blocks)
    row = FleetRow(
        route_id=route.route_id,
        service_id=day,
        vehicles=max_active([(b.start_s, b.end_s) for b in blocks]),
        trips=len(trips),
        vehicle_hours=round(total_s / 3600, 3),
        vehicle_km=round(rev_km + dead_km, 3),
        headways_min=tuple((p, float(heads_min[p])) for p in PERIODS),
        revenue_hours=round(revenue / 3600, 3),
        layover_hours=round(layover / 3600, 3),
        deadhead_hours=round(dead / 3600, 3),
        revenue_km=round(rev_km, 3),
        deadhead_km=round(dead_km, 3),
    )
    return _RouteDay(
        trips=tuple(sorted(trips, key=lambda t: t.trip_id)),
        blocks=tuple(blocks),
        deadheads=tuple(deadheads),
        row=row,
        need=tuple(need),
    )


# ----------------------------------------------------------------------------------------------
# duties


def _duties(
    day: str, blocks: Sequence[Block], trips: dict[str, Trip], max_shift_h: float
) -> DutyRow:
    """Cut every block into shifts no longer than ``max_shift_h`` (relief at a trip's end)."""
    limit = round(max_shift_h * 3600)
    shifts: list[int] = []
    reliefs = 0
    for b in blocks:
        ends = [trips[t].arrival_s[-1] for t in b.trip_ids]
        start = b.start_s
        while b.end_s - start > limit:
            cands = [e for e in ends if start < e <= start + limit]
            cut = cands[-1] if cands else start + limit  # a trip longer than a shift: cut it
            shifts.append(cut - start)
            reliefs += 1
            start = cut
        shifts.append(b.end_s - start)
    return DutyRow(
        service_id=day,
        duties=len(shifts),
        mean_h=round(sum(shifts) / len(shifts) / 3600, 3) if shifts else 0.0,
        longest_h=round(max(shifts, default=0) / 3600, 3),
        relief_points=reliefs,
    )


# ----------------------------------------------------------------------------------------------
# the timetable


def build_timetable(
    routes: tuple[Route, ...],
    scenario: Scenario,
    deadheads: Sequence[DeadheadLeg] = (),
    depots: Sequence[Depot] = (),
    headways: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
) -> Timetable:
    """Schedule trips, chain them into vehicle blocks with deadheads and size the fleet.

    Parameters
    ----------
    routes
        The designed routes (two patterns each, or one per direction for a loop).
    scenario
        The scenario; its ``service`` settings give span, headways, dwell, layover, depot gap,
        shift length.
    deadheads
        The deadhead table: free-flow road time and length between each depot and the routes'
        terminal stops, both ways (computed on the road graph by the pipeline). Empty: blocks
        start and end at their terminals, with no deadhead.
    depots
        The depots the table names (listed in the timetable for the writers).
    headways
        Day type -> route -> period -> headway (minutes) chosen by the service planner
        (:mod:`shuttle.budget`); a missing entry runs the day type's policy headway. A chosen
        headway is never wider than the policy headway.

    Returns
    -------
    Timetable
        Trips (sorted by trip id), blocks, deadheads, one :class:`~shuttle.model.FleetRow` per
        route and day type that runs on at least one date, the public holidays of the service
        period and one :class:`~shuttle.model.DutyRow` per day type.

    Raises
    ------
    TimetableError
        If a service parameter is infeasible (zero headway, empty span, missing day type, layover
        below the minimum), a route has no usable patterns, a route's terminal has no deadhead
        leg, or a chosen headway is wider than the policy headway.
    """
    svc = scenario.service
    check_service(svc)
    _check_routes(routes)
    _check_legs(deadheads)
    cal = service_dates(scenario)
    days = [d for d in DAY_TYPES if cal.runs(d) > 0]
    for d in DAY_TYPES:
        if d not in days:
            log.info("Day type %s has no date in the service period; no trips for it.", d)
    routes = tuple(sorted(routes, key=lambda r: r.route_id))
    homes = {r.route_id: _home_depot(r, deadheads) for r in routes}
    heads: dict[tuple[str, str], dict[str, float]] = {}
    for d in days:
        chosen = (headways or {}).get(d, {})
        for r in routes:
            h = dict(svc.day(d).headways_min)
            for p, minutes in chosen.get(r.route_id, {}).items():
                if not (math.isfinite(minutes) and 0 < minutes <= h[p] + 1e-9):
                    msg = (
                        f"Route {r.route_id} {d} {p}: headway {minutes:g} min is not between 0 "
                        f"and the policy headway of {h[p]:g} min."
                    )
                    raise TimetableError(msg)
                h[p] = minutes
            heads[(d, r.route_id)] = h
    by_id = {r.route_id: r for r in routes}
    done: dict[tuple[str, str], _RouteDay] = {
        k: _schedule_route_day(by_id[k[1]], k[0], svc, heads[k], homes[k[1]]) for k in heads
    }
    warnings: list[str] = []

    parts = [done[(d, r.route_id)] for r in routes for d in days]
    trips = tuple(sorted((t for rd in parts for t in rd.trips), key=lambda t: t.trip_id))
    blocks = tuple(sorted((b for rd in parts for b in rd.blocks), key=lambda b: b.block_id))
    moves = tuple(sorted((m for rd in parts for m in rd.deadheads), key=lambda m: m.deadhead_id))
    fleet = tuple(
        sorted(
            (rd.row for rd in parts),
            key=lambda f: (f.route_id, DAY_TYPES.index(f.service_id)),
        )
    )
    by_trip = {t.trip_id: t for t in trips}
    duties = tuple(
        _duties(d, [b for b in blocks if b.service_id == d], by_trip, svc.max_shift_h) for d in days
    )
    used = {h.depot_id for h in homes.values() if h is not None}
    tt = Timetable(
        trips=trips,
        blocks=blocks,
        fleet=fleet,
        holidays=cal.holidays,
        warnings=tuple(warnings),
        deadheads=moves,
        depots=tuple(sorted((d for d in depots if d.depot_id in used), key=lambda d: d.depot_id)),
        duties=duties,
    )
    log.info(
        "Timetable: %d trips, %d blocks, %d deadheads, peak fleet %d buses.",
        len(trips),
        len(blocks),
        len(moves),
        peak_fleet(tt),
    )
    return tt


# ----------------------------------------------------------------------------------------------
# fleet figures


def _has_times(blocks: Sequence[Block]) -> bool:
    return bool(blocks) and all(b.end_s > b.start_s for b in blocks)


def fleet_summary(tt: Timetable) -> tuple[FleetRow, ...]:
    """Return one total :class:`~shuttle.model.FleetRow` per day type (``route_id == "ALL"``).

    ``vehicles`` is the most blocks of the day active at once (pull-out to pull-in), the other
    figures are sums over the routes; ``headways_min`` holds the shortest headway of each period
    over the routes. A timetable whose blocks carry no times (built by hand) sums the routes'
    buses instead.
    """
    out = []
    for d in DAY_TYPES:
        rows = [f for f in tt.fleet if f.service_id == d]
        if not rows:
            continue
        blocks = [b for b in tt.blocks if b.service_id == d]
        if _has_times(blocks):
            vehicles = max_active([(b.start_s, b.end_s) for b in blocks])
        else:
            vehicles = sum(f.vehicles for f in rows)
        heads = tuple((p, min(dict(f.headways_min)[p] for f in rows)) for p in PERIODS)

        def total(name: str, rows: list[FleetRow] = rows) -> float:
            return round(sum(getattr(f, name) for f in rows), 3)

        out.append(
            FleetRow(
                route_id="ALL",
                service_id=d,
                vehicles=vehicles,
                trips=sum(f.trips for f in rows),
                vehicle_hours=total("vehicle_hours"),
                vehicle_km=total("vehicle_km"),
                headways_min=heads,
                revenue_hours=total("revenue_hours"),
                layover_hours=total("layover_hours"),
                deadhead_hours=total("deadhead_hours"),
                revenue_km=total("revenue_km"),
                deadhead_km=total("deadhead_km"),
            )
        )
    return tuple(out)


def peak_fleet(tt: Timetable) -> int:
    """Return the buses needed on the busiest day type (the fleet to own)."""
    return max((f.vehicles for f in fleet_summary(tt)), default=0)


def trips_by_block(tt: Timetable) -> dict[str, tuple[Trip, ...]]:
    """Return each block's trips in running order (for checks and reports)."""
    by_id = {t.trip_id: t for t in tt.trips}
    return {b.block_id: tuple(by_id[i] for i in b.trip_ids) for b in tt.blocks}
