"""From designed routes to the service a budget buys: routes kept, timetable, riders and cost.

:func:`operate` is the planning half of the chain after the route designer; every input is an
argument (the pipeline reads the files):

1. the service planner (:func:`shuttle.budget.plan_service`) keeps the routes and chooses the
   headways the budget runs at or under the policy headways;
2. the kept routes are renumbered and coloured in order (:func:`shuttle.colors.route_style`);
3. the timetable (:func:`shuttle.timetable.build_timetable`) runs those headways with depots and
   deadheads; when its fleet (the most blocks active at once, pull-outs included) exceeds the
   budget, the planner is rerun with the budget lowered by the excess, so the fleet the feed
   needs is the fleet the districts fund;
4. riders, loads and cost (:func:`shuttle.figures.plan_figures`); an annual cost over the
   scenario's ``budget.annual_krw`` is an error.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from shapely.geometry.base import BaseGeometry

from . import budget as budget_mod
from . import colors, timetable
from .calibration import Calibration
from .config import Scenario
from .errors import DesignError
from .figures import PlanFigures, plan_figures
from .model import DeadheadLeg, Depot, DesignKPIs, Route, Stop, Timetable, route_id
from .passengers import LineSpec

__all__ = ["Operated", "operate", "renumber"]

log = logging.getLogger(__name__)

#: Times the planner is rerun with a lower budget when the timetable needs more buses.
_MAX_REPLANS = 6


@dataclasses.dataclass(frozen=True, slots=True)
class Operated:
    """The routes that run, their stops, the timetable and the figures."""

    routes: tuple[Route, ...]
    stops: tuple[Stop, ...]
    kpis: DesignKPIs
    timetable: Timetable
    figures: PlanFigures


def renumber(
    routes: Sequence[Route], kpis: DesignKPIs, scenario: Scenario
) -> tuple[tuple[Route, ...], DesignKPIs]:
    """Give the routes ids ``R1..Rn`` in their order (:func:`shuttle.model.route_id`), with the
    scenario's numbers and colours."""
    rc = scenario.routes
    ids = {}
    out = []
    for i, r in enumerate(sorted(routes, key=lambda r: int(r.route_id[1:]))):
        short, color, text = colors.route_style(
            i, rc.scheme, prefix=rc.number_prefix, start=rc.number_start, width=rc.number_width
        )
        new = route_id(i, len(routes))
        ids[r.route_id] = new
        out.append(
            dataclasses.replace(r, route_id=new, short_name=short, color=color, text_color=text)
        )
    rk = tuple(
        dataclasses.replace(k, route_id=ids[k.route_id]) for k in kpis.routes if k.route_id in ids
    )
    return tuple(out), dataclasses.replace(kpis, routes=rk)


def operate(
    scenario: Scenario,
    routes: Sequence[Route],
    stops: Sequence[Stop],
    kpis: DesignKPIs,
    zone_lonlat: Sequence[tuple[float, float]],
    trips: np.ndarray,
    *,
    deadheads: Callable[
        [Sequence[Route], Sequence[Stop]], tuple[tuple[Depot, ...], tuple[DeadheadLeg, ...]]
    ],
    days_per_type: Mapping[str, int],
    period_days: int,
    profile: Sequence[float],
    profile_source: str,
    districts: Mapping[int, BaseGeometry],
    calibration: Calibration | None = None,
    background: Mapping[str, Sequence[LineSpec]] | None = None,
) -> Operated:
    """Plan the service, timetable it and measure it (see the module docstring).

    ``background`` maps each period (``peak``, ``offpeak``, ``evening``) to the existing lines
    riders may take instead of the shuttle (:func:`shuttle.existing.existing_lines`); the service
    plan and the riders and loads then come from both networks assigned together. None (the
    default): the shuttle is assigned alone, an upper bound on its riders.

    Raises
    ------
    DesignError
        If the budget cannot run the routes the anchors need at the policy headways, or the
        annual cost exceeds ``budget.annual_krw``.
    """
    sc = scenario
    where = sc.source_file or "the scenario"
    budget = sc.budget
    days = [d for d in days_per_type if days_per_type[d] > 0]
    for _ in range(_MAX_REPLANS):
        try:
            sp = budget_mod.plan_service(
                routes,
                stops,
                zone_lonlat,
                trips,
                service=sc.service,
                budget=budget,
                cost=sc.cost,
                day_types=days,
                days_per_type=days_per_type,
                capacity=float(sc.vehicle.capacity),
                walk_speed_kmh=sc.design.walk_speed_kmh,
                transfer_penalty_min=sc.design.transfer_penalty_min,
                profile=profile,
                day_factors=dict(sc.demand.day_factors),
                where=where,
                background=background,
            )
        except DesignError as e:
            if budget.fleet == sc.budget.fleet:
                raise
            msg = (
                f"budget.fleet = {sc.budget.fleet} in {where} cannot run the routes once the "
                f"timetable's pull-outs and period changes are counted (planned with "
                f"{budget.fleet} buses: {e})"
            )
            raise DesignError(msg) from e
        kept = [r for r in routes if r.route_id in sp.kept]
        heads = {d: sp.headways(d) for d in days}
        new_routes, new_kpis = renumber(kept, kpis, sc)
        ordered = sorted(kept, key=lambda r: int(r.route_id[1:]))
        rename = {old.route_id: new.route_id for old, new in zip(ordered, new_routes, strict=True)}
        used = {s for r in new_routes for p in r.patterns for s in p.stop_ids}
        new_stops = tuple(s for s in stops if s.stop_id in used)
        minutes = {
            d: {rename[r]: {p: h / 60.0 for p, h in per.items()} for r, per in hd.items()}
            for d, hd in heads.items()
        }
        depot_list, legs = deadheads(new_routes, new_stops)
        tt = timetable.build_timetable(new_routes, sc, legs, depot_list, headways=minutes)
        totals = timetable.fleet_summary(tt)
        fleet = max((t.vehicles for t in totals), default=0)
        if budget.fleet is None or fleet <= sc.budget.fleet:
            break
        excess = fleet - sc.budget.fleet
        lower = (budget.fleet or fleet) - excess
        log.info(
            "the timetable needs %d buses, %d over the budget: planning for %d",
            fleet,
            excess,
            lower,
        )
        if lower < 1:
            break
        budget = dataclasses.replace(budget, fleet=lower)
    if sc.budget.fleet is not None and fleet > sc.budget.fleet:
        msg = (
            f"The timetable needs {fleet} buses (pull-outs and period changes included) but "
            f"budget.fleet in {where} is {sc.budget.fleet}; raise the budget or relax the "
            "policy headways."
        )
        raise DesignError(msg)
    designed = {r.route_id: r for r in routes}
    # dropped routes keep the designer's id, labelled as such (they are not in the plan)
    labels = {r: budget_mod.design_label(designed[r]) for r, _ in sp.dropped}
    sp = dataclasses.replace(
        sp,
        kept=tuple(rename[r] for r in sp.kept),
        dropped=tuple((labels[r], why) for r, why in sp.dropped),
        decisions=tuple(budget_mod.relabel(x, {**rename, **labels}) for x in sp.decisions),
        headways_s=tuple(sorted((rename[r], d, p, h) for r, d, p, h in sp.headways_s)),
        overloaded=tuple(sorted((rename[r], d, p, a, c) for r, d, p, a, c in sp.overloaded)),
    )
    figs = plan_figures(
        sc,
        new_routes,
        new_stops,
        zone_lonlat,
        trips,
        tt,
        sp,
        days_per_type=days_per_type,
        period_days=period_days,
        profile=profile,
        profile_source=profile_source,
        districts=districts,
        totals=totals,
        calibration=calibration,
        background=background,
    )
    if sc.budget.annual_krw is not None and figs.cost.total_krw > sc.budget.annual_krw:
        msg = (
            f"The plan costs {figs.cost.total_krw:,} KRW a year, over budget.annual_krw = "
            f"{sc.budget.annual_krw:,.0f} in {where}; lower budget.fleet or the policy headways."
        )
        raise DesignError(msg)
    return Operated(routes=new_routes, stops=new_stops, kpis=new_kpis, timetable=tt, figures=figs)
