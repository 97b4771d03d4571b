"""Before and after: the existing network alone and with the shuttle."""

from __future__ import annotations

import numpy as np
import pytest

from shuttle import geo
from shuttle.compare import LineSpec, before_after

LAT, LON0 = 37.56, 126.90


def _lonlat(east_m: float, north_m: float = 0.0) -> tuple[float, float]:
    x, y = geo.to_metric_xy(LON0, LAT)
    lon, lat = geo.to_wgs84_xy(x + east_m, y + north_m)
    return float(lon), float(lat)


# four places: A, B, C on one street 3 km apart, D 3 km north of A
PLACES = {"A": _lonlat(0), "B": _lonlat(3000), "C": _lonlat(6000), "D": _lonlat(0, 3000)}
ZONES = [PLACES[k] for k in "ABCD"]


def _line(lid: str, seq: str, headway_min: float, *, shuttle: bool = False) -> LineSpec:
    stops = tuple((f"ARS{k}", *PLACES[k]) for k in seq)
    return LineSpec(lid, stops, (600.0,) * (len(seq) - 1), headway_min * 60.0, shuttle=shuttle)


EXISTING = [_line("E0", "ABC", 5.0), _line("E1", "CBA", 5.0)]


def _trips() -> np.ndarray:
    t = np.zeros((4, 4))
    t[0, 2] = t[2, 0] = 100.0  # A <-> C, served today every 5 minutes
    t[0, 3] = t[3, 0] = 50.0  # A <-> D, no service today
    return t


def test_duplicating_a_frequent_route_gains_almost_nothing() -> None:
    dup = [_line("S0", "ABC", 15.0, shuttle=True), _line("S1", "CBA", 15.0, shuttle=True)]
    ba = before_after(EXISTING, dup, ZONES, _trips(), walk_speed_kmh=4.5, transfer_penalty_min=5)
    # A -> C: the wait falls from half of 5 min to half of the combined 3.75 min: 0.625 min
    assert ba.gain_min[0, 2] == pytest.approx(0.625, abs=1e-6)
    assert ba.trips_gaining == 0.0
    assert ba.gain_min[0, 3] == 0.0  # D is no better off


def test_a_new_direct_link_gains() -> None:
    new = [_line("S0", "AD", 15.0, shuttle=True), _line("S1", "DA", 15.0, shuttle=True)]
    ba = before_after(EXISTING, new, ZONES, _trips(), walk_speed_kmh=4.5, transfer_penalty_min=5)
    # D had no strategy at all (3 km from every stop); now 7.5 min wait + 10 min ride
    assert not np.isfinite(ba.before_min[0, 3])
    assert ba.after_min[0, 3] == pytest.approx(17.5)
    assert ba.trips_gaining == pytest.approx(100.0)
    assert ba.shuttle_boardings == pytest.approx(100.0)
    assert ba.gain_min[0, 2] == pytest.approx(0.0)
