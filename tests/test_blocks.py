"""Period transitions, depots, deadheads, vehicle-hours and duties.

Hand-worked cases on one route with known run times (every factor 1.0, no dwell, so a trip takes
exactly its free-flow time), then the default plan nw3 checked from its own GTFS feed.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import math
from collections import defaultdict
from pathlib import Path

import pytest

from shuttle import gtfs, report, timetable
from shuttle.config import DayService, Scenario, ServiceConfig, load_scenario
from shuttle.depots import resolve_depots
from shuttle.errors import ConfigError, TimetableError
from shuttle.model import DeadheadLeg, Pattern, Plan, Route, Timetable

H = 3600
M = 60


def hhmm(t: str) -> int:
    h, m = t.split(":")
    return int(h) * H + int(m) * M


def minutes(a: str, b: str, step: int) -> list[int]:
    """``a``, ``a + step`` ... up to ``b`` (inclusive), in seconds."""
    return list(range(hhmm(a), hhmm(b) + 1, step * M))


def one_route(run_s: int = 600, length_m: float = 5000.0) -> Route:
    """Route R1 between stops SA and SB, ``run_s`` each way, one hop."""

    def pat(direction: int, ids: tuple[str, str]) -> Pattern:
        return Pattern(
            direction_id=direction,
            headsign_ko=ids[1],
            headsign_en=ids[1],
            stop_ids=ids,
            run_times_s=(run_s,),
            stop_dist_m=(0.0, length_m),
            shape=((37.55, 126.92), (37.59, 126.92)),
            length_m=length_m,
        )

    return Route(
        "R1", "1", "", "", "FF0000", "FFFFFF", (pat(0, ("SA", "SB")), pat(1, ("SB", "SA")))
    )


def scenario_with(
    span: tuple[str, str], heads: dict[str, float], *, layover_min: float = 8.0, **kw: object
) -> Scenario:
    """A weekday-only scenario (Monday 2027-01-04), factors 1.0, no dwell, peak 07:00-09:30."""
    day = DayService(hhmm(span[0]), hhmm(span[1]), tuple(heads.items()))
    svc = ServiceConfig(
        start_date=dt.date(2027, 1, 4),
        end_date=dt.date(2027, 1, 4),
        dwell_s=0,
        layover_min=layover_min,
        min_layover_min=5.0,
        days=(("weekday", day), ("saturday", day), ("sunday", day)),
        peak=((hhmm("07:00"), hhmm("09:30")),),
        evening=((hhmm("20:00"), hhmm("24:00")),),
        time_factors=(("evening", 1.0), ("offpeak", 1.0), ("peak", 1.0)),
        **kw,  # type: ignore[arg-type]
    )
    return Scenario(name="hand", districts=(11410,), service=svc)


def deps(tt: Timetable, direction: int) -> list[int]:
    return sorted(t.departure_s[0] for t in tt.trips if t.direction_id == direction)


def most_active(intervals: list[tuple[int, int]]) -> int:
    """Most half-open intervals covering one instant (checked at every interval start)."""
    return max((sum(1 for a, b in intervals if a <= t < b) for t, _ in intervals), default=0)


# ----------------------------------------------------------------------------------------------
# transitions between periods


def test_peak_end_does_not_bunch() -> None:
    """12-min peak to 15-min off-peak at 09:30: 09:24 is followed by 09:36, not 09:30."""
    sc = scenario_with(("06:00", "12:00"), {"peak": 12.0, "offpeak": 15.0, "evening": 20.0})
    tt = timetable.build_timetable((one_route(),), sc)
    expect = minutes("06:00", "06:45", 15) + minutes("07:00", "09:24", 12)
    expect += minutes("09:36", "11:51", 15)
    assert deps(tt, 0) == expect
    gaps = [b - a for a, b in zip(expect, expect[1:], strict=False)]
    assert min(gaps) == 12 * M  # never shorter than the shorter headway
    # direction 1: direction 0 shifted by run 10 min + layover 8 min = 18 min; before 06:18 it
    # continues the 15-min headway backwards (06:03), and stops at the span end (11:54)
    back = [t + 18 * M for t in expect if t + 18 * M <= hhmm("12:00")]
    assert deps(tt, 1) == [hhmm("06:03"), *back]
    # cycle 10 + 8 + 10 + 8 = 36 min: 36 / 12 = 3 buses in the peak, and 3 suffice all morning
    assert [f.vehicles for f in tt.fleet] == [3]


def test_snap_to_new_grid_when_far_enough() -> None:
    """25-min off-peak to 6-min peak at 07:00: 06:50 is followed by 07:00 (>= 6 min later)."""
    sc = scenario_with(("06:00", "07:30"), {"peak": 6.0, "offpeak": 25.0, "evening": 30.0})
    tt = timetable.build_timetable((one_route(),), sc)
    assert deps(tt, 0) == [
        hhmm("06:00"),
        hhmm("06:25"),
        hhmm("06:50"),
        *minutes("07:00", "07:30", 6),
    ]


def test_fleet_is_concurrency_and_within_cycle_bound() -> None:
    sc = scenario_with(("06:00", "22:00"), {"peak": 10.0, "offpeak": 15.0, "evening": 20.0})
    route = one_route(run_s=1000)
    tt = timetable.build_timetable((route,), sc)
    row = tt.fleet[0]
    assert row.vehicles == most_active([(b.start_s, b.end_s) for b in tt.blocks])
    cycle = 2 * (1000 + 8 * M)  # both ways plus two layovers, factor 1.0
    assert row.vehicles <= math.ceil(cycle / (10 * M)) + 1
    assert row.vehicles >= math.ceil(cycle / (10 * M))


# ----------------------------------------------------------------------------------------------
# depots and deadheads


LEGS = (
    DeadheadLeg("D1", "SA", False, 300, 2000.0),  # D1 -> SA
    DeadheadLeg("D1", "SA", True, 360, 2400.0),  # SA -> D1
    DeadheadLeg("D1", "SB", False, 400, 2500.0),
    DeadheadLeg("D1", "SB", True, 420, 3000.0),
    # a farther depot: never chosen
    DeadheadLeg("D2", "SA", False, 900, 9000.0),
    DeadheadLeg("D2", "SA", True, 900, 9000.0),
    DeadheadLeg("D2", "SB", False, 900, 9000.0),
    DeadheadLeg("D2", "SB", True, 900, 9000.0),
)


def test_pull_out_pull_in_by_hand() -> None:
    """Span 06:00-06:30, 15-min headway, 10-min trips, 8-min layover.

    A: 06:00 (bus X), 06:15 (Z: X and Y are not back), 06:30 (Y); B: 06:03 (Y), 06:18 (X).
    X: out 06:00 - 300 s = 05:55:00, in 06:28 + 360 s = 06:34:00 (39 min)
    Y: out 06:03 - 400 s = 05:56:20, in 06:40 + 420 s = 06:47:00 (50 min 40 s)
    Z: out 06:15 - 300 s = 06:10:00, in 06:25 + 420 s = 06:32:00 (22 min)
    """
    sc = scenario_with(("06:00", "06:30"), {"peak": 15.0, "offpeak": 15.0, "evening": 15.0})
    tt = timetable.build_timetable((one_route(),), sc, LEGS)
    spans = {b.block_id: (b.start_s, b.end_s, b.depot_id) for b in tt.blocks}
    assert spans == {
        "R1_weekday_01": (hhmm("05:55"), hhmm("06:34"), "D1"),
        "R1_weekday_02": (hhmm("05:56") + 20, hhmm("06:47"), "D1"),
        "R1_weekday_03": (hhmm("06:10"), hhmm("06:32"), "D1"),
    }
    kinds = sorted((m.block_id, m.kind, m.stop_id, m.end_s - m.start_s) for m in tt.deadheads)
    assert kinds == [
        ("R1_weekday_01", "pull_in", "SA", 360),
        ("R1_weekday_01", "pull_out", "SA", 300),
        ("R1_weekday_02", "pull_in", "SB", 420),
        ("R1_weekday_02", "pull_out", "SB", 400),
        ("R1_weekday_03", "pull_in", "SB", 420),
        ("R1_weekday_03", "pull_out", "SA", 300),
    ]
    # deadheads are not trips: the feed's trips are the five revenue trips only
    assert len(tt.trips) == 5
    assert not {m.deadhead_id for m in tt.deadheads} & {t.trip_id for t in tt.trips}
    f = tt.fleet[0]
    assert f.vehicles == 3  # all three out at 06:10-06:32
    total_s = 39 * M + 50 * M + 40 + 22 * M
    assert f.vehicle_hours == pytest.approx(total_s / H, abs=1e-3)
    assert f.revenue_hours == pytest.approx(5 * 10 * M / H, abs=1e-3)
    assert f.layover_hours == pytest.approx(
        (8 + 17) * M / H, abs=1e-3
    )  # X 06:10-06:18, Y 06:13-06:30
    assert f.deadhead_hours == pytest.approx((300 + 360 + 400 + 420 + 300 + 420) / H, abs=1e-3)
    assert f.revenue_hours + f.layover_hours + f.deadhead_hours == pytest.approx(
        f.vehicle_hours, abs=2e-3
    )
    assert f.revenue_km == pytest.approx(25.0)
    assert f.deadhead_km == pytest.approx((2000 + 2400 + 2500 + 3000 + 2000 + 3000) / 1000)
    assert f.vehicle_km == pytest.approx(25.0 + 14.9)


def test_duties_by_hand() -> None:
    """Shifts of at most 30 min, relieved at the end of a trip (see the pull-out case).

    X 05:55-06:34: relief at 06:10 (15 min), then 24 min: 2 shifts.
    Y 05:56:20-06:47: relief at 06:13 (16 min 40 s), at 06:40 (27 min), then 7 min: 3 shifts.
    Z 06:10-06:32: 1 shift.
    """
    sc = scenario_with(
        ("06:00", "06:30"), {"peak": 15.0, "offpeak": 15.0, "evening": 15.0}, max_shift_h=0.5
    )
    tt = timetable.build_timetable((one_route(),), sc, LEGS)
    (duty,) = tt.duties
    assert (duty.service_id, duty.duties, duty.relief_points) == ("weekday", 6, 3)
    assert duty.longest_h == pytest.approx(27 * M / H, abs=1e-3)


def test_bus_returns_to_depot_in_a_long_gap() -> None:
    """Peak every 6 min, off-peak every 90 min: spare buses go back instead of waiting."""
    sc = scenario_with(("06:00", "14:00"), {"peak": 6.0, "offpeak": 90.0, "evening": 90.0})
    tt = timetable.build_timetable((one_route(),), sc, LEGS)
    by_block = timetable.trips_by_block(tt)
    for seq in by_block.values():
        for a, c in zip(seq, seq[1:], strict=False):
            assert c.departure_s[0] - a.arrival_s[-1] <= 60 * M  # depot_gap_min
    mid_day_pull_ins = [m for m in tt.deadheads if m.kind == "pull_in" and m.end_s < hhmm("12:00")]
    assert mid_day_pull_ins
    assert len(tt.blocks) > tt.fleet[0].vehicles  # buses are reused after a depot visit
    intervals = [(b.start_s, b.end_s) for b in tt.blocks]
    assert tt.fleet[0].vehicles == most_active(intervals)


def test_bad_deadhead_table() -> None:
    sc = scenario_with(("06:00", "06:30"), {"peak": 15.0, "offpeak": 15.0, "evening": 15.0})
    with pytest.raises(TimetableError, match="terminal stop SB"):
        timetable.build_timetable((one_route(),), sc, LEGS[:2])
    bad = (dataclasses.replace(LEGS[0], free_s=-5), *LEGS[1:])
    with pytest.raises(TimetableError, match="free_s must be >= 0"):
        timetable.build_timetable((one_route(),), sc, bad)


# ----------------------------------------------------------------------------------------------
# depots in the scenario


def _toml(tmp_path: Path, depots: str) -> Path:
    p = tmp_path / "dep.toml"
    p.write_text(f'[scenario]\nname = "dep"\ndistricts = [11380]\n{depots}', encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('[[depots]]\nname_en = "x"\n', "depots[0].name"),
        ('[[depots]]\nname = "x"\nlat = 37.6\n', "depots[0].lat"),
        ('[[depots]]\nname = "x"\ncolour = 1\n', "depots[0].colour"),
    ],
)
def test_bad_depot_config(tmp_path: Path, body: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.").replace("[", r"\[")):
        load_scenario(_toml(tmp_path, body))


def test_depots_resolve_from_the_bus_stop_list(tmp_path: Path, data_dir: Path) -> None:
    body = (
        '[[depots]]\nname = "진관공영차고지"\nars = "12469"\n'
        '[[depots]]\nname = "은평권역공영차고지"\n'
        '[[depots]]\nname = "somewhere"\nlat = 37.6\nlon = 126.9\n'
    )
    sc = load_scenario(_toml(tmp_path, body), data_dir=data_dir)
    path = data_dir / "stops/seoul_bus_stop_locations_2024-01.csv"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    by_ars = {r[1]: (float(r[4]), float(r[3]), r[2]) for r in rows}
    d1, d2, d3 = resolve_depots(sc)
    assert (d1.depot_id, d1.lat, d1.lon) == ("D1", *(round(v, 7) for v in by_ars["12469"][:2]))
    # by name: the one stop row named 은평권역공영차고지 (ARS 12409)
    assert by_ars["12409"][2] == "은평권역공영차고지"
    assert (d2.lat, d2.lon) == tuple(round(v, 7) for v in by_ars["12409"][:2])
    assert (d3.lat, d3.lon) == (37.6, 126.9)
    bad = load_scenario(_toml(tmp_path, '[[depots]]\nname = "없는차고지"\n'), data_dir=data_dir)
    with pytest.raises(ConfigError, match=r"depots\[0\]\.name"):
        resolve_depots(bad)


# ----------------------------------------------------------------------------------------------
# the default plan, checked from its own feed


@pytest.fixture(scope="module")
def plan(nw3_plan: Plan) -> Plan:
    return nw3_plan


@pytest.fixture(scope="module")
def feed(plan: Plan) -> dict[str, list[dict[str, str]]]:
    """trips.txt and stop_times.txt of the plan's feed, parsed from the bytes the feed holds."""
    tables = gtfs.build_tables(plan)
    return {
        name: list(csv.DictReader(io.StringIO(tables[f"{name}.txt"].to_bytes().decode("utf-8"))))
        for name in ("trips", "stop_times")
    }


def _secs(t: str) -> int:
    h, m, s = (int(x) for x in t.split(":"))
    return h * H + m * M + s


def _trip_times(feed: dict) -> dict[str, tuple[int, int]]:
    """trip -> (first departure, last arrival) from stop_times.txt."""
    out: dict[str, tuple[int, int]] = {}
    for r in feed["stop_times"]:
        dep, arr = _secs(r["departure_time"]), _secs(r["arrival_time"])
        a, b = out.get(r["trip_id"], (dep, arr))
        out[r["trip_id"]] = (min(a, dep), max(b, arr))
    return out


def _feed_blocks(feed: dict, data: dict) -> dict[str, tuple[str, str, int, int]]:
    """block -> (service, route, pull-out, pull-in) from trips.txt, stop_times.txt and deadheads."""
    times = _trip_times(feed)
    blocks: dict[str, list] = {}
    for t in feed["trips"]:
        b = blocks.setdefault(t["block_id"], [t["service_id"], t["route_id"], math.inf, -math.inf])
        b[2] = min(b[2], times[t["trip_id"]][0])
        b[3] = max(b[3], times[t["trip_id"]][1])
    for m in data["deadheads"]:
        b = blocks[m["block_id"]]
        if m["kind"] == "pull_out":
            assert m["end_s"] == b[2]  # the pull-out ends at the first departure
            b[2] = m["start_s"]
        else:
            assert m["start_s"] == b[3]  # the pull-in starts at the last arrival
            b[3] = m["end_s"]
    return {k: tuple(v) for k, v in blocks.items()}


def _cycles(feed: dict, svc: ServiceConfig) -> dict[tuple[str, str, str], int]:
    """(route, day, period) -> both directions' longest trip in that period plus a layover each."""
    times = _trip_times(feed)
    longest: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for t in feed["trips"]:
        a, b = times[t["trip_id"]]
        key = (t["route_id"], t["service_id"], svc.period_at(a), t["direction_id"])
        longest[key] = max(longest[key], b - a)
    out: dict[tuple[str, str, str], int] = defaultdict(int)
    for (r, d, p, _), dur in longest.items():
        out[(r, d, p)] += dur + math.ceil(svc.layover_min * M)
    return dict(out)


def test_nw3_fleet_from_the_feed(plan: Plan, feed: dict, scenario: Scenario) -> None:
    data = json.loads(json.dumps(report.report_data(plan)))
    blocks = _feed_blocks(feed, data)
    cycles = _cycles(feed, scenario.service)
    for total in data["fleet_total"]:
        day = total["service_id"]
        mine = [(a, b) for s, _, a, b in blocks.values() if s == day]
        # every minute of the day: blocks active from pull-out to pull-in
        lo, hi = min(a for a, _ in mine) // M, max(b for _, b in mine) // M + 1
        per_minute = max(sum(1 for a, b in mine if a <= m * M < b) for m in range(lo, hi))
        exact = most_active(mine)  # also between whole minutes
        assert per_minute <= exact <= per_minute + 1
        assert total["vehicles"] == exact
        # no more than ceil(peak cycle / peak headway) + 1 bus per route
        bound = 0
        for row in (f for f in data["fleet"] if f["service_id"] == day):
            period = "peak" if (row["route_id"], day, "peak") in cycles else "offpeak"
            cycle = cycles[(row["route_id"], day, period)]
            bound += math.ceil(cycle / (row["headways_min"][period] * M)) + 1
        assert total["vehicles"] <= bound, (day, total["vehicles"], bound)
    assert data["peak_fleet"] == max(t["vehicles"] for t in data["fleet_total"])


def test_nw3_trips_within_cycle_bound(feed: dict, scenario: Scenario) -> None:
    """Every route's cycle at each period's own run times stays within design.max_cycle_min."""
    limit = scenario.design.max_cycle_min * M
    over = {k: round(v / M, 1) for k, v in _cycles(feed, scenario.service).items() if v > limit}
    assert not over, f"cycles above {scenario.design.max_cycle_min} min: {over}"


def test_nw3_vehicle_hours_one_definition(plan: Plan, feed: dict) -> None:
    data = json.loads(json.dumps(report.report_data(plan)))
    blocks = _feed_blocks(feed, data)
    wk = next(t for t in data["fleet_total"] if t["service_id"] == "weekday")
    hours = sum(b - a for s, _, a, b in blocks.values() if s == "weekday") / H
    assert wk["vehicle_hours"] == pytest.approx(hours, abs=0.01)
    assert data["kpis"]["vehicle_hours"] == wk["vehicle_hours"]
    parts = wk["revenue_hours"] + wk["layover_hours"] + wk["deadhead_hours"]
    assert parts == pytest.approx(wk["vehicle_hours"], abs=0.01)
    assert wk["revenue_km"] + wk["deadhead_km"] == pytest.approx(wk["vehicle_km"], abs=0.01)
    assert wk["deadhead_hours"] > 0
    # deadheads are not in the feed
    trip_ids = {t["trip_id"] for t in feed["trips"]}
    assert not trip_ids & {m["deadhead_id"] for m in data["deadheads"]}
    assert len(trip_ids) == len(plan.timetable.trips)
    # the HTML report states one weekday vehicle-hours figure
    html = report._html([data])
    assert "(design)" not in html
    assert html.count("Weekday vehicle-hours") == 1
    # passenger figures for the weekday peak and off-peak, the off-peak ones are the KPIs
    periods = {(p["service_id"], p["period"]): p for p in data["periods"]}
    assert set(periods) >= {("weekday", "peak"), ("weekday", "offpeak")}
    assert data["kpis"]["att_min"] == periods[("weekday", "offpeak")]["att_min"]
    assert (
        periods[("weekday", "peak")]["in_vehicle_min"]
        > periods[("weekday", "offpeak")]["in_vehicle_min"]
    )
