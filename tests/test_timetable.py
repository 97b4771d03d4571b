"""Timetable, blocks, fleet cap and calendar on the toy design."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import Counter

import holidays
import pytest
from feedcheck import check_fleet_covers_cycle
from toyplan import toy_routes

from shuttle.config import DAY_TYPES, Scenario, ServiceConfig, load_scenario
from shuttle.errors import TimetableError
from shuttle.model import Route, Timetable
from shuttle.timetable import (
    build_timetable,
    check_service,
    day_type_of,
    fleet_summary,
    peak_fleet,
    service_dates,
    trip_duration_s,
)


@pytest.fixture(scope="module")
def scen() -> Scenario:
    """The packaged nw3 scenario (service settings only; no data needed)."""
    return load_scenario("nw3")


@pytest.fixture(scope="module")
def routes() -> tuple[Route, ...]:
    return toy_routes()


@pytest.fixture(scope="module")
def tt(routes: tuple[Route, ...], scen: Scenario) -> Timetable:
    return build_timetable(
        routes, dataclasses.replace(scen, service=dataclasses.replace(scen.service))
    )


def _with_service(scen: Scenario, **kw: object) -> Scenario:
    return dataclasses.replace(scen, service=dataclasses.replace(scen.service, **kw))


def _with_day(scen: Scenario, day: str, **kw: object) -> Scenario:
    days = tuple((d, dataclasses.replace(s, **kw) if d == day else s) for d, s in scen.service.days)
    return _with_service(scen, days=days)


def _most_active(intervals: list[tuple[int, int]]) -> int:
    """Most half-open intervals covering one instant (checked at every interval start)."""
    return max((sum(1 for a, b in intervals if a <= t < b) for t, _ in intervals), default=0)


def check_blocks(tt: Timetable, routes: tuple[Route, ...], svc: ServiceConfig) -> None:
    """Every trip in one block; layovers honoured; terminals alternate; fleet = concurrency."""
    by_id = {t.trip_id: t for t in tt.trips}
    assigned = Counter(i for b in tt.blocks for i in b.trip_ids)
    assert set(assigned) == set(by_id), "every trip is in a block"
    assert max(assigned.values()) == 1, "no trip is in two blocks"
    loops = {r.route_id for r in routes if r.is_loop}
    length = {(r.route_id, p.direction_id): p.length_m for r in routes for p in r.patterns}
    for b in tt.blocks:
        seq = [by_id[i] for i in b.trip_ids]
        assert all(
            (t.block_id, t.route_id, t.service_id) == (b.block_id, b.route_id, b.service_id)
            for t in seq
        )
        # active from pull-out to pull-in (no depots here: first departure to last arrival)
        assert (b.start_s, b.end_s) == (seq[0].departure_s[0], seq[-1].arrival_s[-1])
        for a, c in zip(seq, seq[1:], strict=False):
            assert c.departure_s[0] - a.arrival_s[-1] >= svc.layover_min * 60
            if b.route_id not in loops:  # a two-way bus leaves from where it arrived
                assert a.direction_id != c.direction_id
    for f in tt.fleet:
        mine = [b for b in tt.blocks if (b.route_id, b.service_id) == (f.route_id, f.service_id)]
        assert f.vehicles == _most_active([(b.start_s, b.end_s) for b in mine])
        assert f.vehicles <= len(mine)
        trips = [t for t in tt.trips if (t.route_id, t.service_id) == (f.route_id, f.service_id)]
        assert f.trips == len(trips)
        km = sum(length[(t.route_id, t.direction_id)] for t in trips) / 1000
        assert math.isclose(f.vehicle_km, km, abs_tol=0.01)
        assert math.isclose(f.revenue_km, km, abs_tol=0.01)
        assert f.deadhead_km == 0
        assert f.deadhead_hours == 0
        hours = sum(b.end_s - b.start_s for b in mine) / 3600
        assert math.isclose(f.vehicle_hours, hours, abs_tol=0.001)
        assert math.isclose(f.revenue_hours + f.layover_hours, f.vehicle_hours, abs_tol=0.002)


def _deps(tt: Timetable, rid: str, day: str, direction: int) -> list[int]:
    return sorted(
        t.departure_s[0]
        for t in tt.trips
        if (t.route_id, t.service_id, t.direction_id) == (rid, day, direction)
    )


# ----------------------------------------------------------------------------------------------
# departures and stop times


def test_departures_clock_face_from_span_start(tt: Timetable, scen: Scenario) -> None:
    svc = scen.service
    for day in DAY_TYPES:
        ds = svc.day(day)
        for r in ("R1", "R2", "R3"):
            deps = _deps(tt, r, day, 0)
            assert deps[0] == ds.start_s  # aligned to the span start
            assert deps[-1] <= ds.end_s
            for a, b in zip(deps, deps[1:], strict=False):
                # a gap never exceeds the headway of the period it starts in
                assert 0 < b - a <= ds.headway(svc.period_at(a)) * 60
    # weekday peak, headway 20 dividing 60: :00 :20 :40 every hour of the peak
    peak = [t for t in _deps(tt, "R1", "weekday", 0) if 7 * 3600 <= t < 9 * 3600]
    assert sorted({t % 3600 // 60 for t in peak}) == [0, 20, 40]
    assert all(t % 60 == 0 for t in peak)
    # direction 1 repeats the same minutes every hour too
    back = [t for t in _deps(tt, "R1", "weekday", 1) if 7 * 3600 + 1800 <= t < 9 * 3600]
    assert len({t % 1200 for t in back}) == 1


def test_stop_times_dwell_and_time_factor(
    tt: Timetable, routes: tuple[Route, ...], scen: Scenario
) -> None:
    svc = scen.service
    pat = routes[0].patterns[0]
    by_period = {}
    for t in tt.trips:
        if (t.route_id, t.service_id, t.direction_id) == ("R1", "weekday", 0):
            by_period.setdefault(t.period, t)
    for period, t in by_period.items():
        f = svc.time_factor(period)
        n = len(pat.stop_ids)
        assert t.arrival_s[0] == t.departure_s[0]
        assert t.arrival_s[-1] == t.departure_s[-1]
        for i in range(1, n - 1):  # intermediate stops dwell
            assert t.departure_s[i] - t.arrival_s[i] == svc.dwell_s
        for i in range(n - 1):  # run times scaled by the period's factor, whole seconds
            run = t.arrival_s[i + 1] - t.departure_s[i]
            assert abs(run - pat.run_times_s[i] * f) <= 1.0
        assert t.arrival_s[-1] - t.departure_s[0] == trip_duration_s(pat, f, svc.dwell_s)
    assert set(by_period) == {"peak", "offpeak", "evening"}
    dur = {p: t.arrival_s[-1] - t.departure_s[0] for p, t in by_period.items()}
    assert dur["peak"] > dur["offpeak"] > dur["evening"]


def test_both_directions_run(tt: Timetable) -> None:
    for r in ("R1", "R2", "R3"):
        for day in DAY_TYPES:
            assert _deps(tt, r, day, 0)
            assert _deps(tt, r, day, 1)


def test_deterministic(routes: tuple[Route, ...], scen: Scenario, tt: Timetable) -> None:
    again = build_timetable(routes, _with_service(scen))
    assert again == tt
    assert [t.trip_id for t in tt.trips] == sorted(t.trip_id for t in tt.trips)
    assert len({t.trip_id for t in tt.trips}) == len(tt.trips)


def test_span_past_midnight(routes: tuple[Route, ...], scen: Scenario) -> None:
    late = _with_day(scen, "weekday", end_s=25 * 3600)
    tt = build_timetable(routes, _with_service(late))
    last = max(t.arrival_s[-1] for t in tt.trips if t.service_id == "weekday")
    assert last > 25 * 3600  # times run past 24:00 on the same service day
    check_blocks(tt, routes, late.service)


# ----------------------------------------------------------------------------------------------
# blocks and fleet


def test_blocks_feasible(tt: Timetable, routes: tuple[Route, ...], scen: Scenario) -> None:
    check_blocks(tt, routes, scen.service)
    # scheduled recovery is honoured, not just the minimum
    by_id = {t.trip_id: t for t in tt.trips}
    for b in tt.blocks:
        seq = [by_id[i] for i in b.trip_ids]
        for a, c in zip(seq, seq[1:], strict=False):
            assert c.departure_s[0] - a.arrival_s[-1] >= scen.service.layover_min * 60


def test_fleet_covers_cycle(tt: Timetable, routes: tuple[Route, ...], scen: Scenario) -> None:
    check_fleet_covers_cycle(tt, routes, scen.service)


def test_fleet_rows_and_totals(tt: Timetable) -> None:
    assert {(f.route_id, f.service_id) for f in tt.fleet} == {
        (r, d) for r in ("R1", "R2", "R3") for d in DAY_TYPES
    }
    totals = {f.service_id: f for f in fleet_summary(tt)}
    for d in DAY_TYPES:
        rows = [f for f in tt.fleet if f.service_id == d]
        day_blocks = [(b.start_s, b.end_s) for b in tt.blocks if b.service_id == d]
        # the day's buses: the most blocks of all routes active at once
        assert totals[d].vehicles == _most_active(day_blocks)
        assert max(f.vehicles for f in rows) <= totals[d].vehicles <= sum(f.vehicles for f in rows)
        assert math.isclose(
            totals[d].vehicle_hours, sum(f.vehicle_hours for f in rows), abs_tol=0.01
        )
    assert peak_fleet(tt) == max(t.vehicles for t in totals.values())
    # more service on weekdays (06-23) than on Sundays (07-22), at the same policy headways
    assert totals["weekday"].vehicles >= totals["sunday"].vehicles
    assert totals["weekday"].trips > totals["sunday"].trips
    assert totals["weekday"].vehicle_km > totals["sunday"].vehicle_km
    assert tt.warnings == ()


def test_chosen_headways_are_run(routes: tuple[Route, ...], scen: Scenario) -> None:
    """The service planner's headways replace the policy ones, route by route."""
    rid = routes[0].route_id
    other = routes[1].route_id
    policy = scen.service.day("weekday").headway("offpeak")
    narrower = {"weekday": {rid: {"offpeak": policy / 2}}}
    tt = build_timetable(routes, scen, headways=narrower)
    rows = {(f.route_id, f.service_id): dict(f.headways_min) for f in tt.fleet}
    assert rows[(rid, "weekday")]["offpeak"] == policy / 2
    assert rows[(other, "weekday")]["offpeak"] == policy
    # half the headway: about twice the off-peak departures of the first route
    base = build_timetable(routes, scen)

    def offpeak_trips(t: Timetable) -> int:
        return sum(
            1
            for x in t.trips
            if x.route_id == rid and x.service_id == "weekday" and x.period == "offpeak"
        )

    assert abs(offpeak_trips(tt) - 2 * offpeak_trips(base)) <= 4  # window edges
    check_blocks(tt, routes, scen.service)


def test_a_headway_wider_than_the_policy_is_an_error(
    routes: tuple[Route, ...], scen: Scenario
) -> None:
    rid = routes[0].route_id
    policy = scen.service.day("weekday").headway("peak")
    with pytest.raises(TimetableError, match="policy headway"):
        build_timetable(routes, scen, headways={"weekday": {rid: {"peak": policy + 5}}})


def test_loop_route(scen: Scenario) -> None:
    r3 = toy_routes()[2]
    out = r3.patterns[0]
    loop = dataclasses.replace(
        out,
        stop_ids=(*out.stop_ids, out.stop_ids[0]),
        run_times_s=(*out.run_times_s, 300),
        stop_dist_m=(*out.stop_dist_m, out.stop_dist_m[-1] + 1500.0),
        shape=(*out.shape, out.shape[0]),
        length_m=out.stop_dist_m[-1] + 1500.0,
    )
    route = dataclasses.replace(r3, patterns=(loop,), is_loop=True)
    tt = build_timetable((route,), _with_service(scen))
    assert {t.direction_id for t in tt.trips} == {0}
    check_blocks(tt, (route,), scen.service)
    check_fleet_covers_cycle(tt, (route,), scen.service)


# ----------------------------------------------------------------------------------------------
# bad service parameters (Python callers build configs directly)


def test_zero_headway(routes: tuple[Route, ...], scen: Scenario) -> None:
    ds = scen.service.day("weekday")
    heads = tuple((p, 0.0 if p == "peak" else h) for p, h in ds.headways_min)
    bad = _with_day(scen, "weekday", headways_min=heads)
    with pytest.raises(TimetableError, match=r"service\.weekday\.headways_min\.peak must be > 0"):
        build_timetable(routes, bad)


def test_span_ends_before_it_starts(routes: tuple[Route, ...], scen: Scenario) -> None:
    bad = _with_day(scen, "saturday", start_s=22 * 3600, end_s=7 * 3600)
    with pytest.raises(TimetableError, match=r"service\.saturday\.span ends \(07:00\) before"):
        build_timetable(routes, bad)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"dwell_s": -1}, "dwell_s"),
        ({"layover_min": 2.0}, "layover_min"),
        ({"days": ()}, "service.weekday is missing"),
        ({"time_factors": (("peak", 0.0), ("offpeak", 1.0), ("evening", 1.0))}, "peak"),
        ({"end_date": dt.date(2025, 1, 1)}, "end_date"),
    ],
)
def test_bad_service_fields(scen: Scenario, change: dict[str, object], field: str) -> None:
    with pytest.raises(TimetableError, match=field.replace(".", r"\.")):
        check_service(dataclasses.replace(scen.service, **change))


def test_no_routes(scen: Scenario) -> None:
    with pytest.raises(TimetableError, match="no routes"):
        build_timetable((), scen)


# ----------------------------------------------------------------------------------------------
# calendar


def test_holidays_run_sunday_service(scen: Scenario, tt: Timetable) -> None:
    cal = service_dates(scen)
    svc = scen.service
    lib = holidays.country_holidays(
        "KR", years=range(svc.start_date.year, svc.end_date.year + 1), language="ko"
    )
    in_period = {d: n for d, n in lib.items() if svc.start_date <= d <= svc.end_date}
    assert in_period, "the library lists holidays in the service period"
    assert [(h.date, h.name) for h in tt.holidays] == [
        (d.strftime("%Y%m%d"), n) for d, n in sorted(in_period.items())
    ]
    exc = set(cal.exceptions)
    for d in in_period:
        ymd = d.strftime("%Y%m%d")
        kind = day_type_of(d)
        if kind == "sunday":
            assert not any(e[0] == ymd for e in exc)
        else:
            assert (ymd, kind, 2) in exc
            assert (ymd, "sunday", 1) in exc
    assert len(exc) == 2 * sum(1 for d in in_period if day_type_of(d) != "sunday")
    # the cases named in the issue, when the library lists them
    for day in (dt.date(2027, 9, 15), dt.date(2027, 3, 1)):
        if day in lib:
            ymd = day.strftime("%Y%m%d")
            assert (ymd, "weekday", 2) in exc
            assert (ymd, "sunday", 1) in exc
    if dt.date(2027, 10, 3) in lib:  # Gaecheonjeol falls on a Sunday in 2027: nothing to change
        assert not any(e[0] == "20271003" for e in exc)
    # date counts add up to the period
    assert sum(n for _, n in cal.dates) == (svc.end_date - svc.start_date).days + 1


def test_day_type_without_dates_has_no_trips(routes: tuple[Route, ...], scen: Scenario) -> None:
    # Monday 2026-01-05 to Wednesday 2026-01-07: weekday service only
    short = _with_service(
        scen, start_date=dt.date(2026, 1, 5), end_date=dt.date(2026, 1, 7)
    )
    tt = build_timetable(routes, short)
    assert {t.service_id for t in tt.trips} == {"weekday"}
    assert {f.service_id for f in tt.fleet} == {"weekday"}
