"""The demand model against observed boardings: counts by zone and their rank correlation.

The hourly counts of :mod:`shuttle.ridership` are attached to zones (dongs) by position: a bus
stop's count goes to the dong holding the stop, a subway station's to the dong holding the
station. :func:`rank_correlation` then compares the model's trip ends per zone (trips produced plus
trips attracted) with the observed boardings plus alightings. The counts are from early 2022, a
period still depressed by the pandemic, so only their pattern across dongs is compared (Spearman's
rank correlation), never their totals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

__all__ = ["Calibration", "observed_by_zone", "rank_correlation"]


@dataclass(frozen=True, slots=True)
class Calibration:
    """How well the model's trip ends follow the observed counts across zones."""

    zones: int  # zones compared (with a count or a modelled trip end)
    spearman: float  # rank correlation, -1..1 (nan when undefined)
    observed_total: float  # boardings + alightings per day in the zones (observed, 2022)
    model_total: float  # trip ends per day in the zones (model)


def observed_by_zone(
    zones: Sequence[Any], points: Sequence[tuple[float, float, float]]
) -> np.ndarray:
    """Sum counts ``(lon, lat, count)`` over the zones (objects with a lon/lat ``geometry``).

    A point inside no zone is left out; a point on a shared border counts once, for the first zone
    in order that covers it.
    """
    out = np.zeros(len(zones))
    if not points:
        return out
    arr = np.asarray(points, dtype=float)
    pts = shapely.points(arr[:, 0], arr[:, 1])
    taken = np.zeros(len(arr), dtype=bool)
    for i, z in enumerate(zones):
        inside = shapely.covers(z.geometry, pts) & ~taken
        out[i] = float(arr[inside, 2].sum())
        taken |= inside
    return out


def rank_correlation(model: np.ndarray, observed: np.ndarray) -> Calibration:
    """Spearman's rank correlation between modelled trip ends and observed counts by zone."""
    m = np.asarray(model, dtype=float)
    o = np.asarray(observed, dtype=float)
    keep = (m > 0) | (o > 0)
    rho = math.nan
    if keep.sum() >= 3 and np.ptp(m[keep]) > 0 and np.ptp(o[keep]) > 0:
        from scipy.stats import spearmanr  # imported here: scipy.stats alone takes ~1 s to load

        rho = float(spearmanr(m[keep], o[keep]).statistic)
    return Calibration(
        zones=int(keep.sum()),
        spearman=rho,
        observed_total=float(o.sum()),
        model_total=float(m.sum()),
    )
