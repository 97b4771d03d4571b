"""Observed counts by zone and the rank correlation with the model."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
import shapely

from shuttle.calibration import observed_by_zone, rank_correlation


@dataclass
class _Zone:
    geometry: shapely.Polygon


def test_counts_go_to_the_zone_holding_the_point() -> None:
    a = _Zone(shapely.box(0, 0, 1, 1))
    b = _Zone(shapely.box(1, 0, 2, 1))
    pts = [(0.5, 0.5, 10.0), (1.5, 0.5, 7.0), (1.0, 0.5, 3.0), (5.0, 5.0, 99.0)]
    # the border point counts once, for the first zone; the far point for none
    assert observed_by_zone([a, b], pts) == pytest.approx([13.0, 7.0])
    assert observed_by_zone([a, b], []) == pytest.approx([0.0, 0.0])


def test_rank_correlation_by_hand() -> None:
    c = rank_correlation(np.array([1.0, 2.0, 3.0, 4.0]), np.array([10.0, 20.0, 30.0, 40.0]))
    assert c.spearman == pytest.approx(1.0)
    assert c.zones == 4
    assert c.observed_total == 100.0
    # ranks (1 2 3 4) against (2 1 4 3): d^2 = 4, rho = 1 - 6 x 4 / (4 x 15) = 0.6
    c = rank_correlation(np.array([1.0, 2.0, 3.0, 4.0]), np.array([20.0, 10.0, 40.0, 30.0]))
    assert c.spearman == pytest.approx(0.6)
    # a constant series has no rank correlation
    assert math.isnan(rank_correlation(np.ones(4), np.arange(4.0)).spearman)
