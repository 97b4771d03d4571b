"""What a budget buys: routes kept and headways chosen under a fleet or cost budget."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from shuttle import geo
from shuttle.budget import design_label, period_times, period_windows, plan_service, relabel
from shuttle.config import BudgetConfig, CostConfig, DayService, ServiceConfig
from shuttle.errors import DesignError
from shuttle.model import Pattern, Route, Stop

LAT, LON0 = 37.56, 126.90
FLAT = np.full(24, 1 / 24)


def _lon(east_m: float) -> float:
    x, y = geo.to_metric_xy(LON0, LAT)
    lon, _ = geo.to_wgs84_xy(x + east_m, y)
    return float(lon)


def _route(rid: str, ids: tuple[str, ...]) -> Route:
    def pat(d: int, seq: tuple[str, ...]) -> Pattern:
        n = len(seq)
        return Pattern(
            d,
            seq[-1],
            seq[-1],
            seq,
            (400,) * (n - 1),
            tuple(3000.0 * k for k in range(n)),
            tuple((LAT, _lon(3000.0 * int(s[1]))) for s in seq),
            3000.0 * (n - 1),
        )

    return Route(rid, rid[1:], rid, rid, "53B332", "000000", (pat(0, ids), pat(1, ids[::-1])))


def _fixture(anchor_at: str | None = None):  # noqa: ANN202
    stops = [
        Stop(
            f"S{i}",
            f"정류장{i}",
            f"Stop {i}",
            LAT,
            _lon(3000.0 * i),
            i,
            None,
            None,
            "앵커" if f"S{i}" == anchor_at else None,
        )
        for i in range(5)
    ]
    # R1 runs the busy corridor S0-S1-S2, R2 the quiet S3-S4
    routes = [_route("R1", ("S0", "S1", "S2")), _route("R2", ("S3", "S4"))]
    zones = [(s.lon, s.lat) for s in stops]
    trips = np.zeros((5, 5))
    trips[0, 2] = trips[2, 0] = 400.0
    trips[3, 4] = trips[4, 3] = 20.0
    return routes, stops, zones, trips


SERVICE = ServiceConfig(
    days=(
        (
            "weekday",
            DayService(6 * 3600, 22 * 3600, (("peak", 20.0), ("offpeak", 20.0), ("evening", 20.0))),
        ),
    ),
    time_factors=(("evening", 1.0), ("offpeak", 1.0), ("peak", 1.0)),
)


def _plan(budget: BudgetConfig, anchor_at: str | None = None):  # noqa: ANN202
    routes, stops, zones, trips = _fixture(anchor_at)
    return plan_service(
        routes,
        stops,
        zones,
        trips,
        service=SERVICE,
        budget=budget,
        cost=CostConfig(),
        day_types=["weekday"],
        days_per_type={"weekday": 250},
        capacity=50.0,
        walk_speed_kmh=4.5,
        transfer_penalty_min=5.0,
        profile=FLAT,
        day_factors={"weekday": 1.0},
        where="test.toml",
    )


def test_period_windows_cover_the_span() -> None:
    w = period_windows(SERVICE, SERVICE.day("weekday"))
    assert w["peak"] == [(7 * 3600, 9 * 3600 + 1800), (17 * 3600, 19 * 3600 + 1800)]
    assert w["evening"] == [(20 * 3600, 22 * 3600)]
    assert w["offpeak"] == [
        (6 * 3600, 7 * 3600),
        (9 * 3600 + 1800, 17 * 3600),
        (19 * 3600 + 1800, 20 * 3600),
    ]


def test_period_times_end_each_period_with_its_days_service() -> None:
    """Weekdays 06:00-23:00, weekends 07:00-22:00 (evening window 20:00-24:00): the evening ends
    at 23:00 and 22:00, and Saturday and Sunday, alike, form one group; an order given is kept."""
    hw = (("peak", 20.0), ("offpeak", 20.0), ("evening", 20.0))
    svc = dataclasses.replace(
        SERVICE,
        days=(
            ("weekday", DayService(6 * 3600, 23 * 3600, hw)),
            ("saturday", DayService(7 * 3600, 22 * 3600, hw)),
            ("sunday", DayService(7 * 3600, 22 * 3600, hw)),
        ),
    )
    h = 3600
    peak = [(7 * h, 9 * h + 1800), (17 * h, 19 * h + 1800)]
    assert period_times(svc, ["weekday", "saturday", "sunday"]) == [
        (
            ("weekday",),
            {
                "peak": peak,
                "offpeak": [(6 * h, 7 * h), (9 * h + 1800, 17 * h), (19 * h + 1800, 20 * h)],
                "evening": [(20 * h, 23 * h)],
            },
        ),
        (
            ("saturday", "sunday"),
            {
                "peak": peak,
                "offpeak": [(9 * h + 1800, 17 * h), (19 * h + 1800, 20 * h)],
                "evening": [(20 * h, 22 * h)],
            },
        ),
    ]
    assert [g for g, _ in period_times(svc, ["sunday", "weekday", "saturday"])] == [
        ("sunday", "saturday"),
        ("weekday",),
    ]


def test_enough_budget_runs_every_route_at_or_under_the_policy() -> None:
    sp = _plan(BudgetConfig(fleet=12))
    assert sp.kept == ("R1", "R2")
    assert all(h <= 20 * 60 for _, _, _, h in sp.headways_s)
    assert dict(sp.fleet)["weekday"] <= 12


def test_tight_budget_drops_the_least_useful_route() -> None:
    # a cycle is 2 x (400 + 20 + 400 + 480 layover) s for R1 (3 buses at 20 min) and
    # 2 x (400 + 480) s for R2 (2 buses): 5 buses for both, so a budget of 4 keeps one route,
    # the busy corridor
    sp = _plan(BudgetConfig(fleet=4))
    assert sp.kept == ("R1",)
    assert [r for r, _ in sp.dropped] == ["R2"]
    assert dict(sp.fleet)["weekday"] <= 4


def test_an_anchor_keeps_its_route() -> None:
    sp = _plan(BudgetConfig(fleet=4), anchor_at="S4")
    assert sp.kept == ("R2",)  # R1 goes although it carries more: the anchor's stop stays


def test_budget_for_no_route_is_one_clear_error() -> None:
    with pytest.raises(DesignError, match="budget of 1 buses in test.toml cannot run even one"):
        _plan(BudgetConfig(fleet=1))


def test_annual_cost_budget_lowers_the_fleet() -> None:
    free = _plan(BudgetConfig(fleet=12))
    used = dict(free.fleet)["weekday"]
    # the holding cost alone of one bus fewer than the free plan uses
    tight = CostConfig().krw_per_vehicle_year * (used - 1) + 1.0
    unit = dataclasses.replace(CostConfig(), krw_per_vehicle_hour=0.0)
    routes, stops, zones, trips = _fixture()
    sp = plan_service(
        routes,
        stops,
        zones,
        trips,
        service=SERVICE,
        budget=BudgetConfig(fleet=12, annual_krw=tight),
        cost=unit,
        day_types=["weekday"],
        days_per_type={"weekday": 250},
        capacity=50.0,
        walk_speed_kmh=4.5,
        transfer_penalty_min=5.0,
        profile=FLAT,
        day_factors={"weekday": 1.0},
    )
    assert dict(sp.fleet)["weekday"] <= used - 1


def test_existing_express_makes_the_corridor_route_the_one_to_drop() -> None:
    """With an existing bus S0 <-> S2 faster than R1 (100 + 300/2 = 250 s against R1's 820 s
    ride), R1 carries nobody and dropping it costs no passenger time, while dropping R2 leaves
    its 40 trips a day unserved: with a budget of 4 the plan keeps R2 (alone it keeps R1)."""
    from shuttle.passengers import LineSpec

    routes, stops, zones, trips = _fixture()
    stops = [dataclasses.replace(s, ars=f"1000{i}") for i, s in enumerate(stops)]
    ends = [(f"ars:{s.ars}", s.lon, s.lat) for s in (stops[0], stops[2])]
    express = [
        LineSpec("bus:X/0", tuple(ends), (100.0,), 300.0),
        LineSpec("bus:X/1", tuple(ends[::-1]), (100.0,), 300.0),
    ]
    sp = plan_service(
        routes,
        stops,
        zones,
        trips,
        service=SERVICE,
        budget=BudgetConfig(fleet=4),
        cost=CostConfig(),
        day_types=["weekday"],
        days_per_type={"weekday": 250},
        capacity=50.0,
        walk_speed_kmh=4.5,
        transfer_penalty_min=5.0,
        profile=FLAT,
        day_factors={"weekday": 1.0},
        where="test.toml",
        background={p: express for p in ("peak", "offpeak", "evening")},
    )
    assert sp.kept == ("R2",)
    assert [r for r, _ in sp.dropped] == ["R1"]
    assert dict(sp.fleet)["weekday"] <= 4


def test_anchor_routes_over_budget_are_named_as_design_routes() -> None:
    """Anchors on both routes (S0 on R1, S4 on R2): neither can go, and the two need 3 + 2 = 5
    buses at 20 min (cycles 2600 s and 1760 s, see above), so a budget of 4 fails. The message
    names them as the design's routes, with their names, since the plan renumbers its routes."""
    routes, stops, zones, trips = _fixture()
    named = {"R1": ("가로", "Corridor"), "R2": ("골목", "Lane")}
    routes = [
        dataclasses.replace(r, long_name_ko=named[r.route_id][0], long_name_en=named[r.route_id][1])
        for r in routes
    ]
    stops = [
        dataclasses.replace(s, anchor="앵커" + s.stop_id) if s.stop_id in ("S0", "S4") else s
        for s in stops
    ]
    with pytest.raises(DesignError) as err:
        plan_service(
            routes,
            stops,
            zones,
            trips,
            service=SERVICE,
            budget=BudgetConfig(fleet=4),
            cost=CostConfig(),
            day_types=["weekday"],
            days_per_type={"weekday": 250},
            capacity=50.0,
            walk_speed_kmh=4.5,
            transfer_penalty_min=5.0,
            profile=FLAT,
            day_factors={"weekday": 1.0},
            where="test.toml",
        )
    assert str(err.value) == (
        "The budget of 4 buses in test.toml cannot run the 2 routes the anchors need at the "
        "policy headways (at least 5 buses): design route R1 가로 (Corridor), design route R2 "
        "골목 (Lane); raise budget.fleet, relax the headways or serve fewer anchors."
    )


def test_design_label_and_relabel() -> None:
    r = dataclasses.replace(
        _route("R8", ("S0", "S1")),
        long_name_ko="증산동–신사1동",
        long_name_en="Jeungsan-dong – Sinsa 1-dong",
    )
    assert design_label(r) == "design route R8 증산동–신사1동 (Jeungsan-dong – Sinsa 1-dong)"
    # one pass: R8 becomes R5 and the old R5 becomes R4, not R5 -> R4 twice; R50 and TR5 stay
    text = "weekday peak: R8: 20 -> 15 min; R5 after R50 and TR5"
    assert relabel(text, {"R8": "R5", "R5": "R4"}) == (
        "weekday peak: R5: 20 -> 15 min; R4 after R50 and TR5"
    )


def test_a_dropped_routes_stops_are_no_stepping_stones() -> None:
    """R1 runs S0 (0 m) - S1 (3000 m), R2 runs S2 (-220 m) - S3 (-6000 m); zones Z0..Z3 sit at
    0, 3000, -1000 and -6000 m. Z2 is 1000 m from S0, beyond the 800 m access walk, but 780 m from
    S2, which is 220 m from S0 (a 250 m transfer walk): only R2's stop lets Z2 walk to R1.
    Trips a day: Z0 -> Z1 240, Z2 -> Z1 480, Z3 -> Z2 24; a flat profile puts 1/24 of them in
    every hour (10, 20 and 1 riders/h). Each route needs 2 buses at 20 min (cycle 2 x (400 + 480)
    s = 1760 s), so a budget of 3 drops one: R2 (it costs 21 riders/h their trip, R1 30). R1 then
    carries Z0's 10 riders/h only, since S2 went with R2. With 2-place buses at a target load of
    0.8 the 3 buses run R1 every 10 min (15 and 12 min are too small, 6 min needs 5 buses):
    1.6 x 6 = 9.6 riders/h, overloaded by Z0's 10 (30, with S2 as a stepping-stone)."""
    at = {"S0": 0.0, "S1": 3000.0, "S2": -220.0, "S3": -6000.0}
    stops = [
        Stop(s, f"정류장{s}", f"Stop {s}", LAT, _lon(x), i, None, None)
        for i, (s, x) in enumerate(at.items())
    ]
    routes = [_route("R1", ("S0", "S1")), _route("R2", ("S2", "S3"))]
    zones = [(_lon(x), LAT) for x in (0.0, 3000.0, -1000.0, -6000.0)]
    trips = np.zeros((4, 4))
    trips[0, 1], trips[2, 1], trips[3, 2] = 240.0, 480.0, 24.0
    sp = plan_service(
        routes,
        stops,
        zones,
        trips,
        service=SERVICE,
        budget=BudgetConfig(fleet=3),
        cost=CostConfig(),
        day_types=["weekday"],
        days_per_type={"weekday": 250},
        capacity=2.0,
        walk_speed_kmh=4.5,
        transfer_penalty_min=5.0,
        profile=FLAT,
        day_factors={"weekday": 1.0},
        where="test.toml",
    )
    assert sp.kept == ("R1",)
    assert [r for r, _ in sp.dropped] == ["R2"]
    assert {p: h for _, _, p, h in sp.headways_s} == dict.fromkeys(
        ("peak", "offpeak", "evening"), 600.0
    )
    assert [(r, p) for r, _, p, _, _ in sp.overloaded] == [
        ("R1", "evening"),
        ("R1", "offpeak"),
        ("R1", "peak"),
    ]
    for _, _, _, load, cap in sp.overloaded:
        assert load == pytest.approx(10.0)
        assert cap == pytest.approx(9.6)
