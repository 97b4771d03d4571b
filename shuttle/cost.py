"""Annual operating cost in KRW and its split between the districts.

The cost model has three parts, each with a unit cost from the scenario's ``[cost]`` table
(:class:`~shuttle.config.CostConfig`, with its source):

- running: vehicle-hours (pull-out to pull-in, the one definition of the timetable) times the
  cost per vehicle-hour, summed over the days of the service year of each day type;
- distance: vehicle-km (revenue and deadhead) times the cost per vehicle-km;
- holding: every bus of the fleet (the largest day type's) times the cost per bus and year, for
  the share of the year the service runs.

The split between the districts is shown two ways: by the vehicle-km run inside each district
(what the service costs where it runs) and by the boardings at the stops in each district (who it
serves). Amounts are whole won; a split is rounded by largest remainder so its parts add up to the
total exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry

from . import geo
from .config import CostConfig
from .errors import DesignError

__all__ = [
    "AnnualCost",
    "DayOps",
    "annual_cost",
    "km_by_district",
    "split_krw",
]


@dataclass(frozen=True, slots=True)
class DayOps:
    """Operating figures of one day type and how many days of the year run it."""

    day_type: str
    days: int  # service days of this type in the service period
    vehicle_hours: float  # per day, pull-out to pull-in
    vehicle_km: float  # per day, revenue + deadhead
    vehicles: int  # buses needed on such a day


@dataclass(frozen=True, slots=True)
class AnnualCost:
    """Annual operating cost, KRW (whole won) at ``price_year`` prices."""

    price_year: int
    running_krw: int
    distance_krw: int
    holding_krw: int
    fleet: int
    service_days: int
    by_day_type: tuple[tuple[str, int, int], ...]  # (day type, days, running + distance KRW)

    @property
    def total_krw(self) -> int:
        """Running plus distance plus holding."""
        return self.running_krw + self.distance_krw + self.holding_krw


def annual_cost(ops: Sequence[DayOps], unit: CostConfig, *, period_days: int) -> AnnualCost:
    """Annual operating cost of a timetable.

    Parameters
    ----------
    ops
        One row per day type: service days in the period, vehicle-hours, vehicle-km and buses.
    unit
        The unit costs.
    period_days
        Calendar days of the service period; the holding cost counts ``period_days / 365`` of a
        year (a service year counts one).

    Raises
    ------
    DesignError
        If a figure is negative or not finite.
    """
    for o in ops:
        for name in ("days", "vehicle_hours", "vehicle_km", "vehicles"):
            v = getattr(o, name)
            if not (math.isfinite(v) and v >= 0):
                msg = f"Day type {o.day_type}: {name} must be a finite number >= 0, got {v}."
                raise DesignError(msg)
    if period_days < 1:
        msg = f"The service period must last at least one day, got {period_days}."
        raise DesignError(msg)
    rows = []
    running = distance = 0.0
    for o in ops:
        r = o.days * o.vehicle_hours * unit.krw_per_vehicle_hour
        d = o.days * o.vehicle_km * unit.krw_per_vehicle_km
        running += r
        distance += d
        rows.append((o.day_type, o.days, round(r + d)))
    fleet = max((o.vehicles for o in ops if o.days > 0), default=0)
    years = min(period_days, 366) / 365.0
    holding = fleet * unit.krw_per_vehicle_year * min(years, 1.0)
    return AnnualCost(
        price_year=unit.price_year,
        running_krw=round(running),
        distance_krw=round(distance),
        holding_krw=round(holding),
        fleet=fleet,
        service_days=sum(o.days for o in ops),
        by_day_type=tuple(rows),
    )


def split_krw(total: int, weights: Mapping[int, float]) -> dict[int, int]:
    """Split ``total`` won by ``weights`` (largest remainder, ties to the lower key).

    The parts are whole won and add up to ``total``; all-zero weights split evenly.
    """
    keys = sorted(weights)
    if not keys:
        return {}
    w = [max(float(weights[k]), 0.0) for k in keys]
    if sum(w) <= 0:
        w = [1.0] * len(keys)
    exact = [total * x / sum(w) for x in w]
    base = [math.floor(e) for e in exact]
    rest = total - sum(base)
    order = sorted(range(len(keys)), key=lambda i: (-(exact[i] - base[i]), keys[i]))
    for i in order[:rest]:
        base[i] += 1
    return dict(zip(keys, base, strict=True))


def km_by_district(
    shapes: Sequence[tuple[Sequence[tuple[float, float]], float]],
    districts: Mapping[int, BaseGeometry],
) -> dict[int, float]:
    """Kilometres run inside each district.

    Parameters
    ----------
    shapes
        ``(shape, runs)``: a path as ``(lat, lon)`` points and how many times it is driven.
    districts
        Gu code -> lon/lat polygon.

    Returns
    -------
    dict
        Gu code -> km (every district listed, 0 where nothing runs); km outside every district
        under key 0.
    """
    polys = {code: geo.to_metric(g) for code, g in sorted(districts.items())}
    out = {code: 0.0 for code in polys}
    out[0] = 0.0
    for shape, runs in shapes:
        if len(shape) < 2 or runs <= 0:
            continue
        line = geo.to_metric(shapely.LineString([(lon, lat) for lat, lon in shape]))
        inside = 0.0
        for code, poly in polys.items():
            km = line.intersection(poly).length / 1000.0
            out[code] += km * runs
            inside += km
        out[0] += max(line.length / 1000.0 - inside, 0.0) * runs
    return out
