"""Overlap of a shuttle route with the existing routes, weighted by frequency."""

from __future__ import annotations

import pytest

from shuttle import geo
from shuttle.model import Pattern, Route, Stop
from shuttle.overlap import ExistingLine, route_overlap

LAT, LON0 = 37.56, 126.90


def _pt(east_m: float, north_m: float = 0.0) -> tuple[float, float]:
    x, y = geo.to_metric_xy(LON0, LAT)
    lon, lat = geo.to_wgs84_xy(x + east_m, y + north_m)
    return float(lat), float(lon)


def _shuttle() -> tuple[Route, dict[str, Stop]]:
    stops = {
        f"S{i}": Stop(f"S{i}", f"정류장{i}", f"Stop {i}", *_pt(1000.0 * i), i, f"1000{i}", None)
        for i in range(3)
    }

    def pat(d: int, seq: tuple[str, ...]) -> Pattern:
        shape = tuple(_pt(1000.0 * int(s[1])) for s in seq)
        return Pattern(d, seq[-1], seq[-1], seq, (200, 200), (0.0, 1000.0, 2000.0), shape, 2000.0)

    ids = ("S0", "S1", "S2")
    pats = (pat(0, ids), pat(1, ids[::-1]))
    return Route("R1", "1", "가-나", "A-B", "53B332", "000000", pats), stops


def test_overlap_by_hand() -> None:
    route, stops = _shuttle()
    existing = [
        # eastbound along the first kilometre, every 10 minutes (6 buses an hour)
        ExistingLine("A", "7019", 10.0, ("10000", "10001"), (_pt(0.0), _pt(1000.0))),
        # westbound along the whole street, every 20 minutes
        ExistingLine("B", "752", 20.0, ("10002",), (_pt(2000.0), _pt(0.0))),
        # a parallel street 100 m north: no overlap
        ExistingLine("C", "9701", 5.0, (), (_pt(0.0, 100.0), _pt(2000.0, 100.0))),
    ]
    ov = route_overlap(route, stops, existing)
    assert ov.length_km == pytest.approx(4.0, rel=1e-3)
    # covered: 1 km eastbound (A) + 2 km westbound (B) of 4 km; frequent (>= 6/h): A's 1 km
    assert ov.road_share == pytest.approx(0.75, abs=0.01)
    assert ov.frequent_share == pytest.approx(0.25, abs=0.01)
    assert ov.buses_per_hour == pytest.approx((6 * 1 + 3 * 2) / 4, rel=0.02)
    # every stop call is served: S0, S1 by A (6/h) and S2 by B (3/h), in both directions
    assert ov.stop_share == pytest.approx(1.0)
    assert ov.stop_buses_per_hour == pytest.approx((6 + 6 + 3) * 2 / 6)
    assert [n for n, _ in ov.top] == ["752", "7019"]
    assert ov.top[0][1] == pytest.approx(2.0, rel=0.02)


def test_no_existing_network_means_no_overlap() -> None:
    route, stops = _shuttle()
    ov = route_overlap(route, stops, [])
    assert ov.road_share == 0.0
    assert ov.stop_share == 0.0
    assert ov.top == ()
