"""Timetable, vehicle blocks, fleet and service calendar (pure: no graph, no files).

:func:`build_timetable` turns designed routes and the scenario's ``[service]`` settings into
trips, vehicle duties (GTFS ``block_id``) and fleet figures for every day type.

Departures
    Each day type has a span (first to last departure at the origin terminal) and a headway per
    period (peak, off-peak, evening; :meth:`~shuttle.config.ServiceConfig.period_at`). Departures
    lie on a grid anchored at the span start with the headway of the period they fall in, so a
    headway dividing 60 gives clock-face times (06:00, 06:12, 06:24 ...). When a period ends, the
    next departure is the earlier of the old grid's next point and the new period's first grid
    point after the boundary, so a gap never exceeds the headway of the period it starts in.
    Direction 1 runs the same grid with its phase offset by the slowest run time plus the layover
    (rounded up to a whole minute), taken modulo the headway, and it also starts at the span
    start: its first buses leave from the far terminal rather than arriving there first (blocks
    start at either terminal). A loop route (one pattern) runs direction 0 only.
Stop times
    Run times are the pattern's free-flow times (``Pattern.run_times_s``) times the time factor of
    the period the trip departs in; every intermediate stop adds ``dwell_s`` (arrival <
    departure); times are whole seconds.
Blocks
    Per route and day type, a bus arriving at a terminal can take the next departure from that
    terminal once ``layover_min`` (the scheduled recovery, never below ``min_layover_min``) has
    passed. Trips are assigned in departure order to the bus that has waited longest; this greedy
    assignment needs the fewest buses because buses at one terminal are interchangeable. There is
    no interlining between routes and no deadheading.
Fleet
    :class:`~shuttle.model.FleetRow` per route and day type: buses (blocks), trips, vehicle-hours
    (first departure to last arrival of each block, layovers included) and revenue vehicle-km.
    With ``fleet_cap`` set, the busiest day type must fit: the route with the most buses on that
    day gets its driving periods (highest ``ceil(cycle / headway)``) widened one step of
    :data:`HEADWAY_STEPS` at a time until the total fits. Each change is logged and listed in
    ``Timetable.warnings``.
Calendar
    :func:`service_dates` gives the day types' dates; South Korean public holidays from the
    ``holidays`` library run the Sunday service (Korean names).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from .config import DAY_TYPES, PERIODS, DayService, Scenario, ServiceConfig
from .errors import TimetableError
from .model import Block, FleetRow, Holiday, Pattern, Route, Timetable, Trip

__all__ = [
    "HEADWAY_STEPS",
    "ServiceCalendar",
    "build_timetable",
    "check_service",
    "day_type_of",
    "fleet_summary",
    "peak_fleet",
    "service_dates",
    "trip_duration_s",
    "trips_by_block",
]

log = logging.getLogger(__name__)

#: Headways (minutes) the fleet cap widens through, in order: divisors of 60 (clock-face), then
#: every 30 minutes up to 3 hours.
HEADWAY_STEPS: tuple[float, ...] = (
    1.0,
    2.0,
    3.0,
    4.0,
    5.0,
    6.0,
    10.0,
    12.0,
    15.0,
    20.0,
    30.0,
    60.0,
    90.0,
    120.0,
    150.0,
    180.0,
)
_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# ----------------------------------------------------------------------------------------------
# calendar


@dataclass(frozen=True, slots=True)
class ServiceCalendar:
    """The service dates of a scenario, in GTFS calendar terms.

    Attributes
    ----------
    start, end
        The scenario's service period (inclusive).
    weekdays
        ``(service_id, (monday, ..., sunday))`` flags of ``calendar.txt``, in DAY_TYPES order.
    exceptions
        ``(date YYYYMMDD, service_id, exception_type)`` rows of ``calendar_dates.txt`` (1 added,
        2 removed), sorted by date then service id.
    holidays
        Public holidays in the period (all of them, Sunday ones included).
    dates
        ``(service_id, number of dates it runs)`` after the exceptions.
    """

    start: dt.date
    end: dt.date
    weekdays: tuple[tuple[str, tuple[int, ...]], ...]
    exceptions: tuple[tuple[str, str, int], ...]
    holidays: tuple[Holiday, ...]
    dates: tuple[tuple[str, int], ...]

    def runs(self, service_id: str) -> int:
        """Return the number of dates a service runs."""
        return dict(self.dates).get(service_id, 0)


def day_type_of(day: dt.date) -> str:
    """Return the day type (``weekday``, ``saturday``, ``sunday``) of a calendar date."""
    wd = day.weekday()
    return "weekday" if wd < 5 else ("saturday" if wd == 5 else "sunday")


def _kr_holidays(start: dt.date, end: dt.date) -> dict[dt.date, str]:
    import holidays  # the maintained calendar; imported here to keep module import light

    years = range(start.year, end.year + 1)
    try:
        cal = holidays.country_holidays("KR", years=years, language="ko")
    except (TypeError, NotImplementedError):  # very old library without translations
        cal = holidays.country_holidays("KR", years=years)
    return {d: str(n) for d, n in sorted(cal.items()) if start <= d <= end}


def service_dates(scenario: Scenario) -> ServiceCalendar:
    """Return the calendar of the scenario's service period, public holidays included.

    A South Korean public holiday (``holidays.country_holidays("KR")``, Korean names) on a
    weekday removes the weekday service (exception 2) and adds the Sunday service (1); one on a
    Saturday removes the Saturday service and adds the Sunday one; one on a Sunday changes
    nothing.

    Parameters
    ----------
    scenario
        The scenario; only ``service.start_date`` and ``service.end_date`` are read.

    Returns
    -------
    ServiceCalendar
        Weekday flags, exceptions, holidays and the number of dates per day type.

    Raises
    ------
    TimetableError
        If the end date is before the start date.
    """
    svc = scenario.service
    start, end = svc.start_date, svc.end_date
    if end < start:
        msg = f"service.end_date {end} is before service.start_date {start}."
        raise TimetableError(msg)
    hol = _kr_holidays(start, end)
    weekdays = (
        ("weekday", (1, 1, 1, 1, 1, 0, 0)),
        ("saturday", (0, 0, 0, 0, 0, 1, 0)),
        ("sunday", (0, 0, 0, 0, 0, 0, 1)),
    )
    exceptions: list[tuple[str, str, int]] = []
    counts = dict.fromkeys(DAY_TYPES, 0)
    day = start
    while day <= end:
        kind = day_type_of(day)
        if day in hol and kind != "sunday":
            ymd = day.strftime("%Y%m%d")
            exceptions.append((ymd, kind, 2))
            exceptions.append((ymd, "sunday", 1))
            kind = "sunday"
        counts[kind] += 1
        day += dt.timedelta(days=1)
    holidays_out = tuple(Holiday(date=d.strftime("%Y%m%d"), name=n) for d, n in hol.items())
    return ServiceCalendar(
        start=start,
        end=end,
        weekdays=weekdays,
        exceptions=tuple(sorted(exceptions)),
        holidays=holidays_out,
        dates=tuple((k, counts[k]) for k in DAY_TYPES),
    )


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
    if svc.fleet_cap is not None and svc.fleet_cap < 1:
        raise bad(f"service.fleet_cap must be >= 1 bus, got {svc.fleet_cap}.")
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
    """Return the run time of a trip, first departure to last arrival (seconds)."""
    arr, _ = _stop_times(pattern, 0, factor, dwell_s)
    return arr[-1]


def _stop_times(
    pattern: Pattern, dep: int, factor: float, dwell_s: int
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Arrival and departure times (whole seconds) of a trip leaving the first stop at ``dep``."""
    n = len(pattern.stop_ids)
    arr = [dep]
    out = [dep]
    x = float(dep)
    for i, run in enumerate(pattern.run_times_s):
        x += run * factor
        a = round(x)
        if i < n - 2:  # intermediate stop: dwell
            arr.append(a)
            out.append(a + dwell_s)
            x += dwell_s
        else:
            arr.append(a)
            out.append(a)
    return tuple(arr), tuple(out)


def _boundaries(svc: ServiceConfig, start: int, end: int) -> list[int]:
    """Times in (start, end] where the period changes."""
    edges: set[int] = set()
    for a, b in (*svc.peak, *svc.evening):
        for base in range(0, end + 86400, 86400):
            edges.update((a + base, b + base))
    return sorted(t for t in edges if start < t <= end and svc.period_at(t) != svc.period_at(t - 1))


def _grid_after(anchor: int, t: int, h: int, *, strictly: bool) -> int:
    """The first point of the grid ``anchor + k*h`` after (or at) ``t``."""
    k = (t - anchor) // h
    g = anchor + k * h
    if g < t or (strictly and g == t):
        g += h
    return g


def _departures(
    svc: ServiceConfig, start: int, end: int, anchor: int, heads_s: dict[str, int]
) -> list[int]:
    """Departures in [start, end]: one headway after another, snapped to the clock at periods.

    The first departure is the first point of ``anchor + k*h`` at or after ``start``. Each next
    departure is one headway (of the period the current one falls in) later, unless a period
    boundary comes first: then the new period's grid point (anchored at ``anchor``) is taken when
    it is earlier and at least half the shorter headway after the current departure. A gap never
    exceeds the headway of the period it starts in.
    """
    bounds = _boundaries(svc, start, end)
    t = _grid_after(anchor, start, heads_s[svc.period_at(start)], strictly=False)
    out: list[int] = []
    while t <= end:
        out.append(t)
        h = heads_s[svc.period_at(t)]
        nxt = t + h
        for b in bounds:
            if b <= t:
                continue
            if b > nxt:
                break
            h_new = heads_s[svc.period_at(b)]
            g = _grid_after(anchor, b, h_new, strictly=False)
            if g < nxt and 2 * (g - t) >= min(h, h_new):
                nxt = g
        t = nxt
    return out


@dataclass(frozen=True, slots=True)
class _RouteDay:
    """Trips, blocks and fleet figures of one route on one day type."""

    trips: tuple[Trip, ...]
    blocks: tuple[Block, ...]
    row: FleetRow
    need: tuple[tuple[str, int], ...]  # (period, ceil(cycle / headway)) for periods with trips


def _terminals(route: Route, direction: int) -> tuple[str, str]:
    """Abstract (start, end) terminal of a trip: loops return to their start."""
    if route.is_loop:
        return (f"L{direction}", f"L{direction}")
    return ("A", "B") if direction == 0 else ("B", "A")


def _schedule_route_day(
    route: Route, day: str, svc: ServiceConfig, heads_min: dict[str, float]
) -> _RouteDay:
    ds = svc.day(day)
    heads_s = {p: max(1, round(heads_min[p] * 60)) for p in PERIODS}
    layover = round(svc.layover_min * 60)
    pats = sorted(route.patterns, key=lambda p: p.direction_id)
    # direction 1 runs one (slowest) run + layover after direction 0, in whole minutes, so a bus
    # arriving from direction 0 always makes the matching direction-1 departure
    slowest = max(svc.time_factor(p) for p in PERIODS)
    first_leg = trip_duration_s(pats[0], slowest, svc.dwell_s) + layover
    shift = 0 if route.is_loop else math.ceil(first_leg / 60) * 60

    trips: list[Trip] = []
    for pat in pats:
        anchor = ds.start_s + (shift if pat.direction_id == 1 else 0)
        for dep in _departures(svc, ds.start_s, ds.end_s, anchor, heads_s):
            period = svc.period_at(dep)
            arr, out = _stop_times(pat, dep, svc.time_factor(period), svc.dwell_s)
            tid = f"{route.route_id}_{day}_{pat.direction_id}_{_hhmmss_id(dep)}"
            trips.append(
                Trip(
                    trip_id=tid,
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

    # greedy FIFO chaining per terminal
    idle: dict[str, list[tuple[int, int]]] = {}  # terminal -> heap of (ready time, block index)
    chains: list[list[int]] = []
    for i, trip in enumerate(trips):
        t_start, t_end = _terminals(route, trip.direction_id)
        heap = idle.setdefault(t_start, [])
        if heap and heap[0][0] <= trip.departure_s[0]:
            _, b = heapq.heappop(heap)
        else:
            b = len(chains)
            chains.append([])
        chains[b].append(i)
        heapq.heappush(idle.setdefault(t_end, []), (trip.arrival_s[-1] + layover, b))

    blocks: list[Block] = []
    block_of: dict[int, str] = {}
    vh = 0.0
    for n, chain in enumerate(chains, start=1):
        bid = f"{route.route_id}_{day}_{n:02d}"
        for i in chain:
            block_of[i] = bid
        blocks.append(
            Block(
                block_id=bid,
                service_id=day,
                route_id=route.route_id,
                trip_ids=tuple(trips[i].trip_id for i in chain),
            )
        )
        vh += (trips[chain[-1]].arrival_s[-1] - trips[chain[0]].departure_s[0]) / 3600
    trips = [dataclasses.replace(t, block_id=block_of[i]) for i, t in enumerate(trips)]
    length = {p.direction_id: p.length_m for p in pats}
    vkm = sum(length[t.direction_id] for t in trips) / 1000

    need = []
    for p in PERIODS:
        if any(t.period == p for t in trips):
            f = svc.time_factor(p)
            cycle = sum(trip_duration_s(pat, f, svc.dwell_s) + layover for pat in pats)
            need.append((p, math.ceil(cycle / heads_s[p])))
    row = FleetRow(
        route_id=route.route_id,
        service_id=day,
        vehicles=len(blocks),
        trips=len(trips),
        vehicle_hours=round(vh, 3),
        vehicle_km=round(vkm, 3),
        headways_min=tuple((p, float(heads_min[p])) for p in PERIODS),
    )
    return _RouteDay(
        trips=tuple(sorted(trips, key=lambda t: t.trip_id)),
        blocks=tuple(blocks),
        row=row,
        need=tuple(need),
    )


def _hhmmss_id(t: int) -> str:
    return f"{t // 3600:02d}{t % 3600 // 60:02d}{t % 60:02d}"


def _next_step(h: float) -> float | None:
    for s in HEADWAY_STEPS:
        if s > h + 1e-9:
            return s
    return None


# ----------------------------------------------------------------------------------------------
# the timetable


def build_timetable(routes: tuple[Route, ...], scenario: Scenario) -> Timetable:
    """Schedule trips, chain them into vehicle blocks and size the fleet.

    Parameters
    ----------
    routes
        The designed routes (two patterns each, or one per direction for a loop).
    scenario
        The scenario; its ``service`` settings give span, headways, dwell, layover and fleet cap.

    Returns
    -------
    Timetable
        Trips (sorted by trip id), blocks, one :class:`~shuttle.model.FleetRow` per route and day
        type that runs on at least one date, the public holidays of the service period, and the
        fleet-cap warnings.

    Raises
    ------
    TimetableError
        If a service parameter is infeasible (zero headway, empty span, missing day type, layover
        below the minimum), a route has no usable patterns, or the fleet cap is below one bus per
        route or cannot be met even with the widest headway step.
    """
    svc = scenario.service
    check_service(svc)
    _check_routes(routes)
    cal = service_dates(scenario)
    days = [d for d in DAY_TYPES if cal.runs(d) > 0]
    for d in DAY_TYPES:
        if d not in days:
            log.info("Day type %s has no date in the service period; no trips for it.", d)
    routes = tuple(sorted(routes, key=lambda r: r.route_id))
    cap = svc.fleet_cap
    if cap is not None and cap < len(routes):
        msg = (
            f"service.fleet_cap = {cap} is below one bus per route ({len(routes)} routes); "
            f"raise it to at least {len(routes)}."
        )
        raise TimetableError(msg)

    heads: dict[tuple[str, str], dict[str, float]] = {
        (d, r.route_id): dict(svc.day(d).headways_min) for d in days for r in routes
    }
    orig = {k: dict(v) for k, v in heads.items()}
    by_id = {r.route_id: r for r in routes}
    done: dict[tuple[str, str], _RouteDay] = {
        k: _schedule_route_day(by_id[k[1]], k[0], svc, v) for k, v in heads.items()
    }

    while cap is not None:
        totals = {d: sum(done[(d, r.route_id)].row.vehicles for r in routes) for d in days}
        worst = max(days, key=lambda d: (totals[d], -DAY_TYPES.index(d)))
        if totals[worst] <= cap:
            break
        order = sorted(routes, key=lambda r: (-done[(worst, r.route_id)].row.vehicles, r.route_id))
        widened = False
        for r in order:
            key = (worst, r.route_id)
            rd = done[key]
            if rd.row.vehicles <= 1:
                continue
            need = dict(rd.need)
            top = max(need.values(), default=0)
            driving = [p for p in PERIODS if need.get(p) == top]
            for group in (driving, [p for p in PERIODS if p in need]):
                steps: dict[str, float] = {}
                for p in group:
                    nxt = _next_step(heads[key][p])
                    if nxt is not None:
                        steps[p] = nxt
                if steps:
                    for p, s in steps.items():
                        log.debug(
                            "fleet cap: %s %s %s %g -> %g", r.route_id, worst, p, heads[key][p], s
                        )
                        heads[key][p] = s
                    done[key] = _schedule_route_day(r, worst, svc, heads[key])
                    widened = True
                    break
            if widened:
                break
        if not widened:
            msg = (
                f"service.fleet_cap = {cap} cannot be met on {worst}: {totals[worst]} buses are "
                f"needed even with {HEADWAY_STEPS[-1]:g}-minute headways."
            )
            raise TimetableError(msg)

    warnings: list[str] = []
    for d in days:
        for r in routes:
            for p in PERIODS:
                a, b = orig[(d, r.route_id)][p], heads[(d, r.route_id)][p]
                if a != b:
                    warnings.append(
                        f"Fleet cap {cap}: route {r.route_id} {d} {p} headway widened from "
                        f"{a:g} to {b:g} min."
                    )
    for w in warnings:
        log.warning("%s", w)

    parts = [done[(d, r.route_id)] for r in routes for d in days]
    trips = tuple(sorted((t for rd in parts for t in rd.trips), key=lambda t: t.trip_id))
    blocks = tuple(sorted((b for rd in parts for b in rd.blocks), key=lambda b: b.block_id))
    fleet = tuple(
        sorted(
            (rd.row for rd in parts),
            key=lambda f: (f.route_id, DAY_TYPES.index(f.service_id)),
        )
    )
    tt = Timetable(
        trips=trips,
        blocks=blocks,
        fleet=fleet,
        holidays=cal.holidays,
        warnings=tuple(warnings),
    )
    log.info(
        "Timetable: %d trips, %d blocks, peak fleet %d buses.",
        len(trips),
        len(blocks),
        peak_fleet(tt),
    )
    return tt


# ----------------------------------------------------------------------------------------------
# fleet figures


def fleet_summary(tt: Timetable) -> tuple[FleetRow, ...]:
    """Return one total :class:`~shuttle.model.FleetRow` per day type (``route_id == "ALL"``).

    ``headways_min`` of a total row holds the shortest headway of each period over the routes.
    """
    out = []
    for d in DAY_TYPES:
        rows = [f for f in tt.fleet if f.service_id == d]
        if not rows:
            continue
        heads = tuple((p, min(dict(f.headways_min)[p] for f in rows)) for p in PERIODS)
        out.append(
            FleetRow(
                route_id="ALL",
                service_id=d,
                vehicles=sum(f.vehicles for f in rows),
                trips=sum(f.trips for f in rows),
                vehicle_hours=round(sum(f.vehicle_hours for f in rows), 3),
                vehicle_km=round(sum(f.vehicle_km for f in rows), 3),
                headways_min=heads,
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
