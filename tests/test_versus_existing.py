"""The designer against the existing network: today's times as the riders' alternative.

Expected values are hand calculations on tiny networks (see each test).
"""

from __future__ import annotations

import numpy as np
import pytest

from shuttle import _utrp_ops as ops
from shuttle import geo, utrp
from shuttle.compare import LineSpec, skim
from shuttle.overlap import ExistingLine, frequent_shares

INF = np.inf
LAT, LON0 = 37.56, 126.90


def _lonlat(east_m: float, north_m: float = 0.0) -> tuple[float, float]:
    x, y = geo.to_metric_xy(LON0, LAT)
    lon, lat = geo.to_wgs84_xy(x + east_m, y + north_m)
    return float(lon), float(lat)


def _latlon(east_m: float, north_m: float = 0.0) -> tuple[float, float]:
    lon, lat = _lonlat(east_m, north_m)
    return lat, lon


# ---------------------------------------------------------------------------------------------
# the UTRP objective with a baseline


def _line3(baseline: np.ndarray | None = None) -> utrp.Problem:
    t = np.array([[0, 10, INF], [10, 0, 10], [INF, 10, 0]], dtype=float)
    d = np.zeros((3, 3))
    d[0, 2] = 1.0
    return utrp.Problem(
        "line3", t, d, n_routes=1, min_nodes=2, max_nodes=3, transfer_penalty=5.0,
        baseline_min=baseline,
    )  # fmt: skip


def test_a_pair_counts_the_faster_of_shuttle_and_existing() -> None:
    # the only trip, 0 -> 2, rides 10 + 10 = 20 minutes on route 0-1-2
    assert utrp.evaluate(_line3(), [[0, 1, 2]]).att == pytest.approx(20.0)
    fast = np.full((3, 3), INF)
    fast[0, 2] = 12.0  # today 12 minutes: the shuttle does not help this trip
    assert utrp.evaluate(_line3(fast), [[0, 1, 2]]).att == pytest.approx(12.0)
    slow = np.full((3, 3), INF)
    slow[0, 2] = 25.0  # today 25 minutes: the shuttle's 20 count
    assert utrp.evaluate(_line3(slow), [[0, 1, 2]]).att == pytest.approx(20.0)


def test_a_trip_the_shuttle_cannot_make_is_served_by_today_s_network() -> None:
    base = np.full((3, 3), INF)
    base[0, 2] = 30.0
    ev_alone = utrp.evaluate(_line3(), [[0, 1]])
    ev_base = utrp.evaluate(_line3(base), [[0, 1]])
    assert ev_alone.dun == pytest.approx(100.0)  # no path at all on route 0-1
    assert ev_base.dun == pytest.approx(0.0)
    assert ev_base.att == pytest.approx(30.0)


def test_the_fast_evaluator_agrees_with_the_reference_under_a_baseline() -> None:
    base = np.full((3, 3), INF)
    base[0, 2] = 12.0
    p = _line3(base)
    net = ops.Net(p)
    sc = ops._score(net, [[0, 1, 2]], [net.route_cost([0, 1, 2])])
    assert sc is not None
    assert sc[0] == pytest.approx(utrp.evaluate(p, [[0, 1, 2]]).att)


def _square(baseline: np.ndarray | None) -> utrp.Problem:
    # ring 0-1-2-3-0, 10 minutes a link; 100 trips each way on both diagonals
    t = np.full((4, 4), INF)
    for a, b in ((0, 1), (1, 2), (2, 3), (3, 0)):
        t[a, b] = t[b, a] = 10.0
    d = np.zeros((4, 4))
    d[0, 2] = d[2, 0] = d[1, 3] = d[3, 1] = 100.0
    return utrp.Problem(
        "square", t, d, n_routes=2, min_nodes=2, max_nodes=3, transfer_penalty=5.0,
        baseline_min=baseline,
    )  # fmt: skip


@pytest.mark.parametrize("method", ["greedy", "anneal"])
def test_the_designer_serves_the_pair_today_s_network_does_not(method: str) -> None:
    # Two 3-node routes cover the ring; one diagonal rides direct (20 min), the other changes
    # (10 + 5 + 10 = 25). Alone, both choices score the same. Today 0 <-> 2 takes 15 minutes,
    # so only the set that rides 1 <-> 3 direct gains: 1-3 at 20 and 0-2 at 15 (mean 17.5),
    # against 0-2 at 15 and 1-3 at 25 (mean 20).
    base = np.full((4, 4), INF)
    base[0, 2] = base[2, 0] = 15.0
    p = _square(base)
    routes = utrp.design(p, method=method, seed=3, iterations=300)
    assert any(1 in r and 3 in r for r in routes), routes
    assert utrp.evaluate(p, routes).att == pytest.approx(17.5)


def test_route_cost_prices_links_along_frequent_service() -> None:
    p0 = _square(None)
    cost = np.where(np.isfinite(p0.travel_min), p0.travel_min, INF)
    cost[0, 1] = 20.0  # link 0 -> 1 runs along frequent service: weight 1 doubles it
    p = utrp.Problem(
        "square", p0.travel_min, p0.demand, n_routes=2, min_nodes=2, max_nodes=3,
        route_cost_min=cost,
    )  # fmt: skip
    assert utrp.route_cost(p, [[0, 1, 2], [2, 3, 0]]) == pytest.approx(20 + 10 + 10 + 10)
    assert utrp.route_cost(p0, [[0, 1, 2], [2, 3, 0]]) == pytest.approx(40.0)
    assert utrp.evaluate(p, [[0, 1, 2], [2, 3, 0]]).trt == pytest.approx(40.0)  # real minutes


def test_a_baseline_of_the_wrong_shape_is_the_project_s_error() -> None:
    from shuttle.errors import DesignError

    with pytest.raises(DesignError, match="baseline_min"):
        _line3(np.zeros((2, 2)))


# ---------------------------------------------------------------------------------------------
# today's times between places (the skim) and the frequent-service share of a road path


def test_skim_waits_half_the_headway_and_rides() -> None:
    a, b = _lonlat(0), _lonlat(5000)  # 5 km apart: too far to walk (800 m access)
    line = LineSpec("E0", (("S1", *a), ("S2", *b)), (600.0,), 600.0)
    m = skim([line], [a, b], walk_speed_kmh=4.5, transfer_penalty_min=5.0)
    # the places stand on the stops: no walk; 5 min wait (half of 10) + 10 min ride
    assert m[0, 1] == pytest.approx(15.0)
    assert not np.isfinite(m[1, 0])  # the line runs one way only
    assert m[0, 0] == 0.0


def _existing(headway_min: float, east_from: float, east_to: float) -> ExistingLine:
    return ExistingLine("E", "E", headway_min, (), (_latlon(east_from), _latlon(east_to)))


def test_frequent_share_counts_same_way_service_of_six_buses_an_hour() -> None:
    path_east = [_latlon(0), _latlon(1000)]
    path_west = [_latlon(1000), _latlon(0)]
    bent = [_latlon(1000), _latlon(1500), _latlon(1500, 500)]  # 500 m along, 500 m north
    every5 = [_existing(5.0, -500, 3000)]  # 12 buses an hour eastbound
    got = frequent_shares([path_east, path_west, bent], every5)
    assert got[0] == pytest.approx(1.0)
    assert got[1] == pytest.approx(0.0)  # the other way
    assert got[2] == pytest.approx(0.5, abs=0.03)  # within a 25 m sample near the corner
    # 4 buses an hour is not frequent; two such lines (4 + 4 = 8 an hour) are
    every15 = [_existing(15.0, -500, 3000)]
    assert frequent_shares([path_east], every15)[0] == pytest.approx(0.0)
    two = [_existing(15.0, -500, 3000), _existing(15.0, -400, 2500)]
    assert frequent_shares([path_east], two)[0] == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------
# the scenario switches


def _nw3_with(tmp_path, old: str, new: str):  # noqa: ANN001, ANN202
    from importlib.resources import files

    from shuttle.config import load_scenario

    text = (files("shuttle") / "scenarios" / "nw3.toml").read_text(encoding="utf-8")
    assert text.count(old) == 1
    p = tmp_path / "s.toml"
    p.write_text(text.replace(old, new), encoding="utf-8")
    return load_scenario(p)


def test_nw3_designs_against_the_existing_network_and_plans_riders_alone() -> None:
    from shuttle.config import load_scenario

    sc = load_scenario("nw3")
    assert sc.design.versus_existing is True
    assert sc.design.duplicate_weight == 1.0
    assert sc.budget.compete_with_existing is False


def test_the_switches_take_true_false_only(tmp_path) -> None:  # noqa: ANN001
    from shuttle.errors import ConfigError

    fleet = "fleet = 30 "
    sc = _nw3_with(tmp_path, fleet, "compete_with_existing = true\n" + fleet)
    assert sc.budget.compete_with_existing is True
    with pytest.raises(ConfigError, match="compete_with_existing"):
        _nw3_with(tmp_path, fleet, 'compete_with_existing = "yes"\n' + fleet)
    with pytest.raises(ConfigError, match="duplicate_weight"):
        _nw3_with(tmp_path, "duplicate_weight = 1.0", "duplicate_weight = -1.0")
    with pytest.raises(ConfigError, match="versus_existing"):
        _nw3_with(tmp_path, "versus_existing = true", "versus_existing = 1")
