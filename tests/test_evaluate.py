"""Network evaluation: a hand-built network worked out by hand, and the default designs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from shapely.geometry import box

from shuttle import demand, evaluate, geo
from shuttle.areas import Zone
from shuttle.config import Scenario
from shuttle.errors import DesignError
from shuttle.model import Pattern, Route, Stop

# ------------------------------------------------------------------------------------------------
# a hand-built network in metres around a point of Mapo-gu
#
#   zones (100 m squares):  A at (0, 0), B at (2000, 0), C at (2000, 2000); D at (6000, 0), unserved
#   R1 A-B  dir 0: a0 (0,150) -> m0 (1000,150) -> b0 (2000,150)   4 min + 5 min, dwell at m0
#           dir 1: b1 (2000,170) -> m1 (1000,170) -> a1 (0,170)   5 min + 4 min
#   R2 B-C  dir 0: b2 (2150,0) -> c0 (2000,1850)                  10 min
#           dir 1: c1 (2020,1850) -> b3 (2150,20)                 10 min
#   b0-b2 and b3-b1 are 212 m apart: a walking transfer across the street.

X0, Y0 = (float(v) for v in geo.to_metric_xy(126.92, 37.56))
SPEED = 4.5 * 1000 / 60  # m/min (default walk_speed_kmh)
WAIT = 7.5  # half the default weekday off-peak headway (15 min)
PEN = 5.0  # default transfer_penalty_min
DWELL = 20 / 60  # default dwell_s
# ride times at the default weekday off-peak factor 1.15, rounded to whole seconds as a timetable:
# R1 240 s -> 276 s, dwell 20 s, 300 s -> 345 s; R2 600 s -> 690 s
RIDE_R1 = (276 + 20 + 345) / 60
RIDE_R2 = 690 / 60


def walk(d_m: float) -> float:
    return d_m * 1.3 / SPEED


def lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = geo.to_wgs84_xy(X0 + x, Y0 + y)
    return float(lon), float(lat)


def zone(code: str, x: float, y: float) -> Zone:
    (lo0, la0), (lo1, la1) = lonlat(x - 50, y - 50), lonlat(x + 50, y + 50)
    return Zone(code=code, name_ko=code, district=1, geometry=box(lo0, la0, lo1, la1), population=1)


STOP_XY = {
    "a0": (0, 150),
    "a1": (0, 170),
    "m0": (1000, 150),
    "m1": (1000, 170),
    "b0": (2000, 150),
    "b1": (2000, 170),
    "b2": (2150, 0),
    "b3": (2150, 20),
    "c0": (2000, 1850),
    "c1": (2020, 1850),
}


def make_stops(xy: dict[str, tuple[float, float]]) -> tuple[Stop, ...]:
    out = []
    for sid, (x, y) in sorted(xy.items()):
        lon, lat = lonlat(x, y)
        out.append(Stop(sid, sid, sid, lat, lon, 0, None, None))
    return tuple(out)


def pattern(direction: int, ids: tuple[str, ...], run_s: tuple[int, ...]) -> Pattern:
    return Pattern(
        direction_id=direction,
        headsign_ko="",
        headsign_en="",
        stop_ids=ids,
        run_times_s=run_s,
        stop_dist_m=tuple(float(i) for i in range(len(ids))),
        shape=(),
        length_m=float(len(ids) - 1),
    )


def route(rid: str, p0: Pattern, p1: Pattern) -> Route:
    return Route(rid, rid[1:], "", "", "FF0000", "000000", (p0, p1))


ROUTES = (
    route(
        "R1",
        pattern(0, ("a0", "m0", "b0"), (240, 300)),
        pattern(1, ("b1", "m1", "a1"), (300, 240)),
    ),
    route("R2", pattern(0, ("b2", "c0"), (600,)), pattern(1, ("c1", "b3"), (600,))),
)
ZONES = (zone("A", 0, 0), zone("B", 2000, 0), zone("C", 2000, 2000))
#: trips A->B 10, A->C 20, B->A 10, B->C 20, C->A 30, C->B 10
TRIPS = np.array([[0, 10, 20], [10, 0, 20], [30, 10, 0]], dtype=float)


@pytest.fixture(scope="module")
def scen() -> Scenario:
    return Scenario(name="toy", districts=(11440,))


def by_hand() -> dict[tuple[int, int], tuple[float, float, float, int]]:
    """(walk, wait, in-vehicle, transfers) of every OD pair, worked out by hand."""
    r1 = RIDE_R1  # a0 -> b0 and b1 -> a1
    r2 = RIDE_R2
    diag = float(np.hypot(150, 150))  # b0 -> b2 and b3 -> b1
    c1 = float(np.hypot(20, 150))  # C centre to c1, b3 to B centre
    return {
        (0, 1): (walk(150) + walk(150), WAIT, r1, 0),  # a0 .. b0
        (0, 2): (walk(150) + walk(diag) + walk(150), 2 * WAIT, r1 + r2, 1),  # a0 .. b0~b2 .. c0
        (1, 0): (walk(170) + walk(170), WAIT, r1, 0),  # b1 .. a1
        (1, 2): (walk(150) + walk(150), WAIT, r2, 0),  # b2 .. c0
        (2, 0): (walk(c1) + walk(diag) + walk(170), 2 * WAIT, r2 + r1, 1),  # c1 .. b3~b1 .. a1
        (2, 1): (walk(c1) + walk(c1), WAIT, r2, 0),  # c1 .. b3
    }


def test_hand_network(scen: Scenario) -> None:
    ev = evaluate.evaluate_network(ROUTES, make_stops(STOP_XY), ZONES, TRIPS, scen)
    hand = by_hand()
    tot = TRIPS.sum()
    for (o, d), (w, wt, ivt, tr) in hand.items():
        assert ev.transfers[o, d] == tr, (o, d)
        assert ev.time_min[o, d] == pytest.approx(w + wt + ivt + tr * PEN, abs=1e-4), (o, d)

    def mean(k: int) -> float:
        return sum(TRIPS[od] * v[k] for od, v in hand.items()) / tot

    assert ev.walk_min == pytest.approx(mean(0), abs=1e-4)
    assert ev.wait_min == pytest.approx(mean(1), abs=1e-4)
    assert ev.in_vehicle_min == pytest.approx(mean(2), abs=1e-4)
    assert ev.transfer_min == pytest.approx(PEN * 50 / 100, abs=1e-9)
    assert ev.att_min == pytest.approx(
        ev.walk_min + ev.wait_min + ev.in_vehicle_min + ev.transfer_min, abs=1e-9
    )
    # A->B: 2.6 + 7.5 + 10.683 + 2.6 = 23.383 min
    assert ev.time_min[0, 1] == pytest.approx(23.3833, abs=1e-3)
    assert (ev.d0, ev.d1, ev.d2, ev.dun) == pytest.approx((50.0, 50.0, 0.0, 0.0))
    assert ev.access_pct == pytest.approx(100.0)
    assert ev.demand == pytest.approx(100.0)
    assert np.isnan(ev.time_min[0, 0])
    assert ev.transfers[0, 0] == -1


def test_no_service_is_unserved(scen: Scenario) -> None:
    zones = (*ZONES, zone("D", 6000, 0))
    trips = np.zeros((4, 4))
    trips[:3, :3] = TRIPS
    trips[0, 3] = 25.0  # A -> D: no stop within 800 m of D
    trips[3, 1] = 25.0  # D -> B
    ev = evaluate.evaluate_network(ROUTES, make_stops(STOP_XY), zones, trips, scen)
    assert ev.transfers[0, 3] == -1
    assert np.isinf(ev.time_min[3, 1])
    assert ev.dun == pytest.approx(100 * 50 / 150)
    assert ev.d0 + ev.d1 + ev.d2 + ev.dun == pytest.approx(100.0)
    assert ev.access_pct == pytest.approx(100 * 100 / 150)
    # ATT only over the pairs with a path: unchanged
    base = evaluate.evaluate_network(ROUTES, make_stops(STOP_XY), ZONES, TRIPS, scen)
    assert ev.att_min == pytest.approx(base.att_min)


def test_walk_across_the_street_needed(scen: Scenario) -> None:
    # R2's stops at B moved 300 m east: too far to walk to R1's, so A<->C has no path
    far = {**STOP_XY, "b2": (2300, 0), "b3": (2300, 20)}
    ev = evaluate.evaluate_network(ROUTES, make_stops(far), ZONES, TRIPS, scen)
    assert ev.transfers[0, 2] == -1
    assert ev.transfers[2, 0] == -1
    assert ev.dun == pytest.approx(50.0)
    assert ev.transfers[1, 2] == 0  # B->C still direct


def test_same_stop_transfer_without_walk(scen: Scenario) -> None:
    # R2 starts at R1's terminal stop b0 and ends at b1: change without walking
    rts = (
        ROUTES[0],
        route("R2", pattern(0, ("b0", "c0"), (600,)), pattern(1, ("c1", "b1"), (600,))),
    )
    ev = evaluate.evaluate_network(rts, make_stops(STOP_XY), ZONES, TRIPS, scen)
    assert ev.transfers[0, 2] == 1
    assert ev.time_min[0, 2] == pytest.approx(
        walk(150) + 2 * WAIT + PEN + RIDE_R1 + RIDE_R2 + walk(150), abs=1e-4
    )


def test_tie_break_prefers_fewer_transfers(scen: Scenario) -> None:
    # a second route A-B made of two halves meeting at m0/m1 with the same run times; riding
    # R1 straight through and changing to R3 at m0 cost the same only without penalty and wait,
    # so with them R1 straight wins; with both at 0 the tie-break must still pick R1 (0 transfers)
    free = dataclasses.replace(
        scen,
        design=dataclasses.replace(scen.design, transfer_penalty_min=0.0),
        service=dataclasses.replace(
            scen.service,
            dwell_s=0,
            days=tuple(
                (d, dataclasses.replace(s, headways_min=tuple((p, 0.0) for p, _ in s.headways_min)))
                for d, s in scen.service.days
            ),
        ),
    )
    rts = (
        *ROUTES,
        route("R3", pattern(0, ("a0", "m0"), (240,)), pattern(1, ("m1", "a1"), (240,))),
        route("R4", pattern(0, ("m0", "b0"), (300,)), pattern(1, ("b1", "m1"), (300,))),
    )
    ev = evaluate.evaluate_network(rts, make_stops(STOP_XY), ZONES, TRIPS, free)
    assert ev.transfers[0, 1] == 0
    assert ev.transfers[1, 0] == 0
    # 240 s and 300 s at the off-peak factor 1.15, no dwell: 276 s + 345 s
    assert ev.time_min[0, 1] == pytest.approx(walk(150) + (276 + 345) / 60 + walk(150), abs=1e-4)


def test_period_run_times_and_headways(scen: Scenario) -> None:
    """Weekday peak: run times at the peak factor 1.35, waits from the headways actually run."""
    ev = evaluate.evaluate_network(
        ROUTES,
        make_stops(STOP_XY),
        ZONES,
        TRIPS,
        scen,
        day="weekday",
        period="peak",
        headways_min={"R1": 30.0},  # R1 widened to 30 min (e.g. by a fleet cap); R2 runs 12
    )
    # R1 at 1.35: 240 s -> 324 s, dwell 20 s, 300 s -> 405 s; R2: 600 s -> 810 s
    r1, r2 = (324 + 20 + 405) / 60, 810 / 60
    assert ev.time_min[0, 1] == pytest.approx(walk(150) + 15.0 + r1 + walk(150), abs=1e-4)
    assert ev.time_min[1, 2] == pytest.approx(walk(150) + 6.0 + r2 + walk(150), abs=1e-4)
    diag = float(np.hypot(150, 150))
    assert ev.time_min[0, 2] == pytest.approx(
        walk(150) + walk(diag) + walk(150) + 15.0 + 6.0 + r1 + r2 + PEN, abs=1e-4
    )
    # the off-peak default (15 min, factor 1.15) is faster to ride and shorter to wait for R1
    off = evaluate.evaluate_network(ROUTES, make_stops(STOP_XY), ZONES, TRIPS, scen)
    assert off.in_vehicle_min < ev.in_vehicle_min
    assert off.time_min[0, 1] == pytest.approx(walk(150) + WAIT + RIDE_R1 + walk(150), abs=1e-4)


def test_period_figures_use_fleet_headways(scen: Scenario) -> None:
    from shuttle.model import FleetRow

    rows = [
        FleetRow(
            rid, "weekday", 1, 1, 1.0, 1.0, (("peak", 20.0), ("offpeak", 40.0), ("evening", 60.0))
        )
        for rid in ("R1", "R2")
    ]
    figs = evaluate.period_figures(ROUTES, make_stops(STOP_XY), ZONES, TRIPS, scen, rows)
    assert [(f.service_id, f.period) for f in figs] == [("weekday", "peak"), ("weekday", "offpeak")]
    peak, off = figs
    # every path boards once or twice; the first wait is half the headway run (10 and 20 min)
    assert peak.wait_min == pytest.approx(10.0 * (1 + 0.5), abs=1e-3)  # half the demand changes
    assert off.wait_min == pytest.approx(20.0 * (1 + 0.5), abs=1e-3)
    assert peak.att_min == pytest.approx(
        peak.walk_min + peak.wait_min + peak.in_vehicle_min + peak.transfer_min, abs=2e-3
    )


def test_deterministic(scen: Scenario) -> None:
    a = evaluate.evaluate_network(ROUTES, make_stops(STOP_XY), ZONES, TRIPS, scen)
    b = evaluate.evaluate_network(
        tuple(reversed(ROUTES)), tuple(reversed(make_stops(STOP_XY))), ZONES, TRIPS, scen
    )
    assert a.figures() == b.figures()
    assert np.array_equal(a.time_min, b.time_min, equal_nan=True)
    assert np.array_equal(a.transfers, b.transfers)


def test_bad_input(scen: Scenario) -> None:
    stops = tuple(s for s in make_stops(STOP_XY) if s.stop_id != "m0")
    with pytest.raises(DesignError, match="'m0'"):
        evaluate.evaluate_network(ROUTES, stops, ZONES, TRIPS, scen)
    with pytest.raises(DesignError, match="3 zones"):
        evaluate.evaluate_network(ROUTES, make_stops(STOP_XY), ZONES, TRIPS[:2, :2], scen)


# ------------------------------------------------------------------------------------------------
# the default scenario (designs from the session fixture, never designed again here)


@pytest.fixture(scope="module")
def default_demand(road_graph, scenario, designs):  # noqa: ANN001, ANN201
    from shuttle import design

    G = design.shuttle_graph(road_graph, scenario.design.avoid_classes)
    return demand.build_demand(G, scenario, designs["greedy"].places)


@pytest.mark.parametrize("method", ["greedy", "anneal"])
def test_default_designs(designs, scenario, default_demand, method) -> None:  # noqa: ANN001
    d = designs[method]
    ev = evaluate.evaluate_network(
        d.routes, d.stops, default_demand.zones, default_demand.trips, scenario
    )
    assert ev.d0 + ev.d1 + ev.d2 + ev.dun == pytest.approx(100.0, abs=0.01)
    assert 15.0 <= ev.att_min <= 90.0
    parts = ev.walk_min + ev.wait_min + ev.in_vehicle_min + ev.transfer_min
    assert ev.att_min == pytest.approx(parts)
    assert ev.wait_min >= 7.5 - 1e-9  # at least the first wait
    assert 0.0 < ev.access_pct <= 100.0
    k = d.kpis
    assert k.att_min == pytest.approx(ev.att_min, abs=1e-3)
    assert (k.d0, k.d1, k.d2, k.dun) == pytest.approx((ev.d0, ev.d1, ev.d2, ev.dun), abs=1e-3)
