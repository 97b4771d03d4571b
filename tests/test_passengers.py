"""Riders and loads from the optimal-strategies assignment of a route set."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from shuttle import geo
from shuttle.errors import DesignError
from shuttle.model import Pattern, Route, Stop
from shuttle.passengers import LineSpec, PeriodDemand, assign_day, plan_network, split_demand

LAT = 37.56
LON0 = 126.90


def _lon(east_m: float) -> float:
    """Longitude ``east_m`` metres east of LON0 on the LAT parallel (EPSG:5179 round trip)."""
    x, y = geo.to_metric_xy(LON0, LAT)
    lon, _ = geo.to_wgs84_xy(x + east_m, y)
    return float(lon)


def _line_fixture() -> tuple[list[Route], list[Stop], list[tuple[float, float]]]:
    """Three stops 3 km apart on one street, one two-way route, a zone at each stop."""
    stops = [
        Stop(f"S{i}", f"정류장{i}", f"Stop {i}", LAT, _lon(3000.0 * i), i, None, None, None)
        for i in range(3)
    ]
    ids = ("S0", "S1", "S2")

    def pat(d: int, seq: tuple[str, ...]) -> Pattern:
        return Pattern(
            direction_id=d,
            headsign_ko=seq[-1],
            headsign_en=seq[-1],
            stop_ids=seq,
            run_times_s=(400, 400),
            stop_dist_m=(0.0, 3000.0, 6000.0),
            shape=tuple((LAT, _lon(3000.0 * int(s[1]))) for s in seq),
            length_m=6000.0,
        )

    route = Route("R1", "1", "가-나", "A-B", "53B332", "000000",
                  (pat(0, ids), pat(1, ids[::-1])))
    zones = [(s.lon, s.lat) for s in stops]
    return [route], stops, zones


def test_one_route_riders_loads_by_hand() -> None:
    routes, stops, zones = _line_fixture()
    trips = np.zeros((3, 3))
    trips[0, 2] = 100.0  # zone 0 -> zone 2 per day
    trips[1, 2] = 20.0
    period = PeriodDemand("peak", hours=5.0, share=0.5, factor=1.5,
                          headways_s={"R1": 600.0})
    day = assign_day(
        routes, stops, zones, trips, [period], day_type="weekday", capacity=50.0, dwell_s=20,
        walk_speed_kmh=4.5, transfer_penalty_min=5.0, peak_hour_share=0.1,
    )
    (p,) = day.periods
    # half the day's 120 trips travel in the period, all by bus (the zones sit on the stops)
    assert p.demand == pytest.approx(60.0)
    assert p.riders == pytest.approx(60.0)
    assert p.walk_only == pytest.approx(0.0)
    assert p.unserved == pytest.approx(0.0)
    load = next(ld for ld in p.loads if ld.direction_id == 0)
    # per hour: 50 / 5 = 10 board at S0, 10 / 5 = 2 at S1; all 12 alight at S2
    assert load.boardings == pytest.approx((10.0, 2.0, 0.0))
    assert load.alightings == pytest.approx((0.0, 0.0, 12.0))
    assert load.load == pytest.approx((10.0, 12.0))
    assert load.max_load_stop == "S1"
    # 6 buses an hour x 50 places
    assert load.capacity_per_hour == pytest.approx(300.0)
    assert load.load_factor == pytest.approx(12.0 / 300.0)
    back = next(ld for ld in p.loads if ld.direction_id == 1)
    assert sum(back.boardings) == pytest.approx(0.0)
    # time: half the 10 min headway (5 min) + 400 s x 1.5 per segment (+ 20 s dwell at S1 for
    # the through riders): 0 -> 2 is 5 + 20.33 min, 1 -> 2 is 5 + 10 min; weights 50 and 10
    assert p.att_min == pytest.approx((50 * (5 + 20 + 1 / 3) + 10 * (5 + 10)) / 60)
    assert p.wait_min == pytest.approx(5.0)
    assert day.riders == pytest.approx(60.0)
    # busiest hour: 10 % of the day's 120 trips
    assert day.peak_hour_riders == pytest.approx(12.0)


def test_route_not_run_in_a_period_carries_nobody() -> None:
    routes, stops, zones = _line_fixture()
    trips = np.zeros((3, 3))
    trips[0, 2] = 100.0
    period = PeriodDemand("evening", hours=3.0, share=0.1, factor=1.0, headways_s={})
    day = assign_day(
        routes, stops, zones, trips, [period], day_type="weekday", capacity=50.0, dwell_s=20,
        walk_speed_kmh=4.5, transfer_penalty_min=5.0, peak_hour_share=0.1,
    )
    (p,) = day.periods
    assert p.riders == pytest.approx(0.0)
    # 6 km apart: no walk reaches (access 800 m), so the trips are unserved, not lost
    assert p.unserved + p.walk_only + p.riders == pytest.approx(p.demand)
    assert p.unserved == pytest.approx(10.0)


def test_split_demand_counts_partial_hours() -> None:
    prof = np.zeros(24)
    prof[7] = 0.25
    prof[8] = 0.25
    prof[18] = 0.5
    windows = {"peak": [(7 * 3600, 9 * 3600 + 1800)], "evening": [(18 * 3600 + 1800, 86400)]}
    s = split_demand(prof, windows)
    assert s["peak"] == pytest.approx(0.5)
    assert s["evening"] == pytest.approx(0.25)
    with pytest.raises(DesignError, match="24 non-negative shares"):
        split_demand(np.ones(24), {"peak": [(0, 3600)]})


def test_unknown_stop_and_bad_headway_are_errors() -> None:
    routes, stops, zones = _line_fixture()
    with pytest.raises(DesignError, match="unknown stop"):
        plan_network(routes, stops[:2], zones, headways_s={"R1": 600.0}, factor=1.0, dwell_s=20,
                     walk_speed_kmh=4.5)
    with pytest.raises(DesignError, match="not a positive number"):
        plan_network(routes, stops, zones, headways_s={"R1": 0.0}, factor=1.0, dwell_s=20,
                     walk_speed_kmh=4.5)


def _with_ars() -> tuple[list[Route], list[Stop], list[tuple[float, float]]]:
    """The line fixture with each stop a real Seoul stop (ARS 1000i)."""
    routes, stops, zones = _line_fixture()
    return routes, [dataclasses.replace(s, ars=f"1000{i}") for i, s in enumerate(stops)], zones


def _express(stops: list[Stop], run_s: float, headway_s: float) -> LineSpec:
    """An existing bus from S0 to S2 without stopping at S1 (same ARS numbers as the shuttle)."""
    return LineSpec(
        "bus:X",
        tuple((f"ars:{s.ars}", s.lon, s.lat) for s in (stops[0], stops[2])),
        (run_s,),
        headway_s,
    )


def _day(routes, stops, zones, background):  # noqa: ANN001, ANN202
    trips = np.zeros((3, 3))
    trips[0, 2] = 100.0
    trips[1, 2] = 20.0
    period = PeriodDemand("peak", hours=5.0, share=0.5, factor=1.0, headways_s={"R1": 600.0})
    return assign_day(
        routes, stops, zones, trips, [period], day_type="weekday", capacity=50.0, dwell_s=20,
        walk_speed_kmh=4.5, transfer_penalty_min=5.0, peak_hour_share=0.1,
        background=background,
    )


def test_existing_line_takes_a_share_of_the_riders_by_hand() -> None:
    routes, stops, zones = _with_ars()
    alone = _day(routes, stops, zones, None)
    # an existing bus S0 -> S2 in 600 s every 1200 s. At S0 bound for S2 it alone gives
    # 1200 / 2 + 600 = 1200 s; the shuttle rides 400 + 20 (dwell at S1) + 400 = 820 s < 1200 s,
    # so both are attractive: combined frequency 1/600 + 1/1200 = 1/400 per s, expected time
    # (0.5 + 820/600 + 600/1200) x 400 = 946.67 s, the shuttle carrying 2/3 of the riders.
    both = _day(routes, stops, zones, {"peak": [_express(stops, 600.0, 1200.0)]})
    (a,), (b,) = alone.periods, both.periods
    assert a.riders == pytest.approx(60.0)
    # 50 trips 0 -> 2 in the period: 2/3 by shuttle; the 10 trips 1 -> 2 have only the shuttle
    assert b.riders == pytest.approx(50 * 2 / 3 + 10)
    assert b.riders <= a.riders
    assert b.existing_only == pytest.approx(0.0)
    out = next(ld for ld in b.loads if ld.direction_id == 0)
    # per hour (5 hours): 33.3 / 5 board at S0, 10 / 5 at S1, all alight at S2
    assert out.boardings == pytest.approx((50 * 2 / 3 / 5, 2.0, 0.0))
    assert out.alightings == pytest.approx((0.0, 0.0, 50 * 2 / 3 / 5 + 2.0))
    assert out.load == pytest.approx((50 * 2 / 3 / 5, 50 * 2 / 3 / 5 + 2.0))
    for ld in b.loads:  # conservation on every shuttle line: what boards alights
        assert sum(ld.boardings) == pytest.approx(sum(ld.alightings))
    assert [ld.route_id for ld in b.loads] == ["R1", "R1"]  # the existing line is not reported
    # ATT of the trips that ride the shuttle: 0 -> 2 at 946.67 s (weight 50), 1 -> 2 at
    # 300 + 400 = 700 s (weight 10)
    assert b.att_min == pytest.approx((50 * (0.5 + 820 / 600 + 0.5) * 400 + 10 * 700) / 60 / 60)


def test_faster_existing_line_takes_all_its_pair() -> None:
    routes, stops, zones = _with_ars()
    # 600 / 2 + 100 = 400 s beats the shuttle's 820 s ride alone: the shuttle is not attractive
    both = _day(routes, stops, zones, {"peak": [_express(stops, 100.0, 600.0)]})
    (p,) = both.periods
    assert p.riders == pytest.approx(10.0)
    assert p.existing_only == pytest.approx(50.0)
    assert p.riders + p.existing_only + p.walk_only + p.unserved == pytest.approx(p.demand)
    out = next(ld for ld in p.loads if ld.direction_id == 0)
    assert out.boardings == pytest.approx((0.0, 2.0, 0.0))
    assert sum(out.boardings) == pytest.approx(sum(out.alightings))


def test_background_stops_with_the_same_ars_are_one_node() -> None:
    routes, stops, zones = _with_ars()
    net = plan_network(routes, stops, zones, headways_s={"R1": 600.0}, factor=1.0, dwell_s=20,
                       walk_speed_kmh=4.5, background=[_express(stops, 600.0, 1200.0)])
    # 3 stop nodes (the express stops at S0 and S2 by ARS number) + 3 zones
    assert net.n_nodes == 6
    assert net.keys == ("ars:10000", "ars:10001", "ars:10002")
    assert [ln.line_id for ln in net.lines] == ["R1/0", "R1/1", "bus:X"]
    assert [ln.counted for ln in net.lines] == [True, True, False]
    assert net.lines[2].stops == (0, 2)


def test_background_without_the_period_is_an_error() -> None:
    routes, stops, zones = _with_ars()
    with pytest.raises(DesignError, match="no period 'peak'"):
        _day(routes, stops, zones, {"offpeak": []})
