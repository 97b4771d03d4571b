"""What the budget buys, in figures: riders, loads, cost and its split, for the report and map.

:func:`plan_figures` gathers, for a timetabled plan:

- ridership per day type (:func:`shuttle.passengers.assign_day`, optimal strategies) with the
  headways and run times the timetable runs, and the weekday riders when the trip rate is halved
  or doubled (the demand model's trip rate is an assumption: the sensitivity shows what hangs on
  it);
- the annual operating cost (:func:`shuttle.cost.annual_cost`) from the timetable's vehicle-hours,
  vehicle-km and fleet, and its split between the districts by vehicle-km run in each and by
  boardings at the stops in each;
- cost per rider, fare revenue (:mod:`shuttle.fares`) and the net cost per rider.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from shapely.geometry.base import BaseGeometry

from . import cost as cost_mod
from . import fares as fares_mod
from .budget import ServicePlan, period_windows
from .calibration import Calibration
from .config import PERIODS, Scenario
from .model import FleetRow, Route, Stop, Timetable
from .passengers import DayRidership, LineSpec, PeriodDemand, assign_day, split_demand

__all__ = ["PlanFigures", "day_periods", "plan_figures"]


@dataclass(frozen=True, slots=True)
class PlanFigures:
    """Riders, loads, cost and the service plan of a timetabled plan."""

    service: ServicePlan
    ridership: tuple[DayRidership, ...]  # one per day type that runs
    riders_low: float  # weekday riders with half the trip rate
    riders_high: float  # weekday riders with twice the trip rate
    annual_riders: float
    cost: cost_mod.AnnualCost
    split_by_km: tuple[tuple[int, int], ...]  # (gu, KRW)
    split_by_boardings: tuple[tuple[int, int], ...]  # (gu, KRW)
    km_by_district: tuple[tuple[int, float], ...]  # (gu, km per year); 0 = outside
    boardings_by_district: tuple[tuple[int, float], ...]  # (gu, boardings per year)
    fare_revenue_krw: int
    profile: tuple[float, ...]  # 24 hourly shares used
    profile_source: str
    calibration: Calibration | None = None

    @property
    def cost_per_rider_krw(self) -> float:
        """Annual cost over annual riders."""
        return self.cost.total_krw / self.annual_riders if self.annual_riders > 0 else math.nan

    @property
    def net_cost_per_rider_krw(self) -> float:
        """Annual cost less fare revenue, over annual riders."""
        if self.annual_riders <= 0:
            return math.nan
        return (self.cost.total_krw - self.fare_revenue_krw) / self.annual_riders


def _headways_run(fleet: Sequence[FleetRow], day: str) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for f in fleet:
        if f.service_id == day:
            out[f.route_id] = {p: m * 60.0 for p, m in f.headways_min}
    return out


def day_periods(
    scenario: Scenario,
    day: str,
    profile: Sequence[float],
    headways: Mapping[str, Mapping[str, float]],
) -> list[PeriodDemand]:
    """The periods of a day type with their demand share, hours, factor and headways run."""
    svc = scenario.service
    wins = period_windows(svc, svc.day(day))
    shares = split_demand(profile, wins)
    out = []
    for p in PERIODS:
        hours = sum(b - a for a, b in wins[p]) / 3600.0
        if hours <= 0:
            continue
        out.append(
            PeriodDemand(
                period=p,
                hours=hours,
                share=shares[p],
                factor=svc.time_factor(p),
                headways_s={r: h[p] for r, h in headways.items() if p in h},
            )
        )
    return out


def plan_figures(
    scenario: Scenario,
    routes: Sequence[Route],
    stops: Sequence[Stop],
    zone_lonlat: Sequence[tuple[float, float]],
    trips: np.ndarray,
    tt: Timetable,
    service: ServicePlan,
    *,
    days_per_type: Mapping[str, int],
    period_days: int,
    profile: Sequence[float],
    profile_source: str,
    districts: Mapping[int, BaseGeometry],
    totals: Sequence[FleetRow],
    calibration: Calibration | None = None,
    background: Mapping[str, Sequence[LineSpec]] | None = None,
) -> PlanFigures:
    """Riders, loads and cost of a timetabled plan (see the module docstring).

    ``background`` (period -> existing lines) makes the riders and loads those of the shuttle
    assigned with the existing network (:func:`shuttle.passengers.assign_day`).
    """
    sc = scenario
    rid: list[DayRidership] = []
    low = high = 0.0
    cap = float(sc.vehicle.capacity)

    def run(day: str, scale: float) -> DayRidership:
        return assign_day(
            routes,
            stops,
            zone_lonlat,
            trips * sc.demand.day_factor(day) * scale,
            day_periods(sc, day, profile, _headways_run(tt.fleet, day)),
            day_type=day,
            capacity=cap,
            dwell_s=sc.service.dwell_s,
            walk_speed_kmh=sc.design.walk_speed_kmh,
            transfer_penalty_min=sc.design.transfer_penalty_min,
            peak_hour_share=float(max(profile)),
            background=background,
        )

    days = [d for d in days_per_type if days_per_type[d] > 0]
    for d in days:
        rid.append(run(d, 1.0))
        if d == "weekday":
            low = run(d, 0.5).riders
            high = run(d, 2.0).riders
    annual = sum(r.riders * days_per_type[r.day_type] for r in rid)
    by_total = {f.service_id: f for f in totals}
    ops = [
        cost_mod.DayOps(
            day_type=d,
            days=days_per_type[d],
            vehicle_hours=by_total[d].vehicle_hours if d in by_total else 0.0,
            vehicle_km=by_total[d].vehicle_km if d in by_total else 0.0,
            vehicles=by_total[d].vehicles if d in by_total else 0,
        )
        for d in days
    ]
    annual_cost = cost_mod.annual_cost(ops, sc.cost, period_days=period_days)
    # km per district: every trip's pattern shape, times the days its day type runs
    by_route = {r.route_id: r for r in routes}
    runs: dict[tuple[str, int], float] = {}
    for t in tt.trips:
        key = (t.route_id, t.direction_id)
        runs[key] = runs.get(key, 0.0) + days_per_type.get(t.service_id, 0)
    shapes = [
        (p.shape, runs.get((r.route_id, p.direction_id), 0.0))
        for r in by_route.values()
        for p in r.patterns
    ]
    km = cost_mod.km_by_district(shapes, districts)
    district_of = {s.stop_id: (s.district or 0) for s in stops}
    board: dict[int, float] = {code: 0.0 for code in districts}
    hours_of = {
        (d, pd.period): pd.hours for d in days for pd in day_periods(sc, d, profile, {})
    }
    for r in rid:
        for per in r.periods:
            hours = hours_of[(r.day_type, per.period)]
            for ld in per.loads:
                for sid, b in zip(ld.stop_ids, ld.boardings, strict=True):
                    g = district_of.get(sid, 0)
                    board[g] = board.get(g, 0.0) + b * hours * days_per_type[r.day_type]
    inside = {g: v for g, v in km.items() if g in districts}
    # a trip pays once: free transfers between the shuttle's routes
    fare = fares_mod.fare_per_boarding(sc.fares)
    return PlanFigures(
        service=service,
        ridership=tuple(rid),
        riders_low=low,
        riders_high=high,
        annual_riders=annual,
        cost=annual_cost,
        split_by_km=tuple(sorted(cost_mod.split_krw(annual_cost.total_krw, inside).items())),
        split_by_boardings=tuple(
            sorted(
                cost_mod.split_krw(
                    annual_cost.total_krw, {g: board.get(g, 0.0) for g in districts}
                ).items()
            )
        ),
        km_by_district=tuple(sorted(km.items())),
        boardings_by_district=tuple(sorted(board.items())),
        fare_revenue_krw=round(fare * annual),
        profile=tuple(float(x) for x in profile),
        profile_source=profile_source,
        calibration=calibration,
    )
