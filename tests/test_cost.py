"""Annual operating cost and its split between the districts."""

from __future__ import annotations

import pytest
import shapely

from shuttle import geo
from shuttle.config import CostConfig
from shuttle.cost import DayOps, annual_cost, km_by_district, split_krw
from shuttle.errors import DesignError


def test_annual_cost_by_hand() -> None:
    unit = CostConfig(
        price_year=2010, krw_per_vehicle_hour=30000.0, krw_per_vehicle_km=100.0,
        krw_per_vehicle_year=50_000_000.0,
    )
    ops = [
        DayOps("weekday", days=250, vehicle_hours=200.0, vehicle_km=3000.0, vehicles=20),
        DayOps("saturday", days=52, vehicle_hours=150.0, vehicle_km=2200.0, vehicles=15),
        DayOps("sunday", days=63, vehicle_hours=100.0, vehicle_km=1500.0, vehicles=10),
    ]
    c = annual_cost(ops, unit, period_days=365)
    # running: (250 x 200 + 52 x 150 + 63 x 100) h x 30,000 = 64,100 h x 30,000
    assert c.running_krw == 64_100 * 30_000
    # distance: (250 x 3,000 + 52 x 2,200 + 63 x 1,500) km x 100 = 958,900 km x 100
    assert c.distance_krw == 958_900 * 100
    # holding: the 20 weekday buses, a whole year
    assert c.holding_krw == 20 * 50_000_000
    assert c.fleet == 20
    assert c.total_krw == 1_923_000_000 + 95_890_000 + 1_000_000_000
    assert c.by_day_type[0] == ("weekday", 250, 250 * (200 * 30000 + 3000 * 100))


def test_holding_cost_for_part_of_a_year() -> None:
    unit = CostConfig(krw_per_vehicle_year=36_500_000.0)
    ops = [DayOps("weekday", days=10, vehicle_hours=10.0, vehicle_km=0.0, vehicles=2)]
    c = annual_cost(ops, unit, period_days=73)  # a fifth of a year
    assert c.holding_krw == 2 * 36_500_000 // 5


def test_bad_figures_are_one_clear_error() -> None:
    with pytest.raises(DesignError, match="vehicle_hours"):
        annual_cost([DayOps("weekday", 1, float("nan"), 0.0, 1)], CostConfig(), period_days=365)
    with pytest.raises(DesignError, match="service period"):
        annual_cost([], CostConfig(), period_days=0)


def test_split_adds_up_to_the_won() -> None:
    parts = split_krw(100, {11410: 1.0, 11380: 1.0, 11440: 1.0})
    assert sum(parts.values()) == 100
    assert sorted(parts.values()) == [33, 33, 34]
    assert parts[11380] == 34  # the largest remainders tie; the lowest code gets the won
    assert split_krw(1_000, {1: 3.0, 2: 1.0}) == {1: 750, 2: 250}
    assert split_krw(10, {1: 0.0, 2: 0.0}) == {1: 5, 2: 5}


def test_km_by_district_on_two_squares() -> None:
    # two 1 km squares side by side (metric), a 2 km line across both driven 3 times
    x0, y0 = geo.to_metric_xy(126.9, 37.55)
    x0, y0 = float(x0), float(y0)

    def square(dx: float) -> shapely.Polygon:
        x = x0 + dx
        pts = [(x, y0), (x + 1000, y0), (x + 1000, y0 + 1000), (x, y0 + 1000)]
        return geo.to_wgs84(shapely.Polygon(pts))

    a, b = geo.to_wgs84_xy(x0 - 500.0, y0 + 500.0)
    c, d = geo.to_wgs84_xy(x0 + 1500.0, y0 + 500.0)
    shape = [(float(b), float(a)), (float(d), float(c))]
    km = km_by_district([(shape, 3.0)], {1: square(0.0), 2: square(1000.0)})
    assert km[1] == pytest.approx(3.0, rel=1e-3)  # 1 km inside the first square, 3 runs
    assert km[2] == pytest.approx(1.5, rel=1e-3)  # 0.5 km inside the second
    assert km[0] == pytest.approx(1.5, rel=1e-3)  # 0.5 km west of both
