"""Headways from demand under a fleet budget.

For one period, :func:`choose_headways` sets each route's headway in three steps:

1. Policy: start every route at the widest allowed headway that is no wider than the policy
   headway (the service standard a rider is promised, e.g. 20 minutes).
2. Budget: the buses a route needs are ``ceil(cycle / headway)``. If the routes need more than the
   budget at the policy headways the plan is infeasible (:class:`BudgetError`: a budget never
   buys a plan with headways wider than the policy).
3. Capacity: assign the demand (a callback, :mod:`shuttle.passengers` in the planner); while a
   route's maximum hourly load exceeds ``capacity x target load factor x buses per hour`` and the
   budget has the buses, the most overloaded route gets the next narrower headway (the assignment
   is rerun each time: riders move to routes that become more frequent). A load the budget cannot
   carry is listed in ``FrequencyPlan.overloaded`` for the report.
4. Spare buses go, one step at a time, to the route where they cut passenger time most per bus:
   the saving of narrowing a route from ``h`` to ``h'`` is estimated as its boardings times the
   change in the mean wait, ``(h - h') / 2`` (Mohring's rule), and confirmed by a new assignment
   before the next step.

Allowed headways are the scenario's steps (clock-face divisors of 60 minutes by default), so a
timetable can repeat every hour.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .errors import DesignError

__all__ = ["CLOCK_FACE_S", "BudgetError", "FrequencyPlan", "LoadEval", "choose_headways"]

log = logging.getLogger(__name__)

#: Clock-face headways (divisors of 60 minutes), seconds.
CLOCK_FACE_S: tuple[float, ...] = tuple(m * 60.0 for m in (3, 4, 5, 6, 10, 12, 15, 20, 30, 60))


class BudgetError(DesignError):
    """The routes need more buses at the policy headway than the budget holds."""

    def __init__(self, msg: str, *, needed: int, budget: int) -> None:
        super().__init__(msg)
        self.needed = needed
        self.budget = budget


@dataclass(frozen=True, slots=True)
class LoadEval:
    """What the assignment says about a set of headways (one period, per hour)."""

    passenger_hours: float  # door-to-door time of all trips of an hour, hours
    max_load: Mapping[str, float]  # route -> riders per hour at its maximum load point
    boardings: Mapping[str, float]  # route -> boardings per hour (both directions)


@dataclass(frozen=True, slots=True)
class FrequencyPlan:
    """The headways chosen for one period and what they cost."""

    headways_s: tuple[tuple[str, float], ...]  # (route, headway), sorted by route
    buses: tuple[tuple[str, int], ...]  # (route, buses needed), sorted by route
    budget: int
    passenger_hours: float
    decisions: tuple[str, ...]  # one line per change, in order
    # (route, riders per hour at the busiest point, capacity per hour) where the budget cannot
    # carry the load at the target load factor: flagged in the report, never hidden
    overloaded: tuple[tuple[str, float, float], ...] = ()

    @property
    def fleet(self) -> int:
        """Buses the period needs."""
        return sum(b for _, b in self.buses)


def _buses(cycle_s: float, h: float) -> int:
    return max(1, math.ceil(cycle_s / h - 1e-9))


def choose_headways(
    cycle_s: Mapping[str, float],
    evaluate: Callable[[Mapping[str, float]], LoadEval],
    *,
    capacity: float,
    target_load_factor: float,
    policy_headway_s: float,
    fleet_budget: int,
    steps_s: Sequence[float] = CLOCK_FACE_S,
    max_rounds: int = 50,
    where: str = "the scenario",
    floor_s: Mapping[str, float] | None = None,
) -> FrequencyPlan:
    """Choose the headway of every route for one period (see the module docstring).

    Parameters
    ----------
    cycle_s
        Route -> cycle time in the period (both directions, dwell and layover), seconds.
    evaluate
        Assigns the period's hourly demand for a mapping route -> headway (seconds).
    capacity
        Passengers per bus.
    target_load_factor
        Share of the capacity the maximum load may use (e.g. 0.8).
    policy_headway_s
        The widest headway any route may run.
    fleet_budget
        Buses available in the period.
    steps_s
        Allowed headways, seconds.
    where
        Named in error messages (the scenario file).
    floor_s
        Route -> the narrowest headway spare buses may bring it to (e.g. its peak headway, so a
        quiet period is never run more often than the peak just because buses are free); loads
        may still narrow a route below it.

    Raises
    ------
    DesignError
        If no allowed headway meets the policy, or the routes need more buses than the budget.
    """
    routes = sorted(cycle_s)
    steps = sorted({float(s) for s in steps_s if s > 0})
    ok = [s for s in steps if s <= policy_headway_s + 1e-9]
    if not ok:
        msg = (
            f"No allowed headway is at or under the policy headway of "
            f"{policy_headway_s / 60:.0f} min in {where}."
        )
        raise DesignError(msg)
    if not routes:
        return FrequencyPlan((), (), fleet_budget, 0.0, ())
    per_bus = capacity * target_load_factor
    floor = dict(floor_s or {})
    h = {r: ok[-1] for r in routes}
    decisions: list[str] = []
    ev = evaluate(h)
    fleet = sum(_buses(cycle_s[r], h[r]) for r in routes)
    if fleet > fleet_budget:
        msg = (
            f"The {len(routes)} routes need {fleet} buses at the policy headway of "
            f"{policy_headway_s / 60:.0f} min, but the budget in {where} is {fleet_budget}; "
            "raise the budget or design fewer or shorter routes."
        )
        raise BudgetError(msg, needed=fleet, budget=fleet_budget)

    def capacity(r: str, hw: float) -> float:
        return per_bus * 3600.0 / hw

    # capacity first: the most overloaded route gets the next narrower headway the budget allows
    for _ in range(len(ok) * len(routes)):
        left = fleet_budget - sum(_buses(cycle_s[r], h[r]) for r in routes)
        over = sorted(
            (
                (-float(ev.max_load.get(r, 0.0)) / capacity(r, h[r]), r)
                for r in routes
                if float(ev.max_load.get(r, 0.0)) > capacity(r, h[r]) + 1e-9
            ),
        )
        moved = False
        for _ratio, r in over:
            narrower = [s for s in ok if s < h[r]]
            if not narrower:
                continue
            h2 = narrower[-1]
            if _buses(cycle_s[r], h2) - _buses(cycle_s[r], h[r]) > left:
                continue
            load = float(ev.max_load.get(r, 0.0))
            decisions.append(
                f"{r}: {h[r] / 60:g} -> {h2 / 60:g} min for a load of {load:.0f} riders/h "
                f"(capacity {capacity(r, h[r]):.0f} -> {capacity(r, h2):.0f})"
            )
            h[r] = h2
            ev = evaluate(h)
            moved = True
            break
        if not moved:
            break
    # spare buses: greatest estimated saving per extra bus, confirmed by a new assignment
    for _ in range(max_rounds):
        left = fleet_budget - sum(_buses(cycle_s[r], h[r]) for r in routes)
        best: tuple[float, str, float, int] | None = None
        for r in routes:
            narrower = [s for s in ok if h[r] > s >= floor.get(r, 0.0) - 1e-9]
            if not narrower:
                continue
            h2 = narrower[-1]
            extra = _buses(cycle_s[r], h2) - _buses(cycle_s[r], h[r])
            if extra > left:
                continue
            saving = float(ev.boardings.get(r, 0.0)) * (h[r] - h2) / 2.0 / 3600.0
            score = saving / max(extra, 1)
            if saving > 0 and (best is None or score > best[0] + 1e-12):
                best = (score, r, h2, extra)
        if best is None:
            break
        _, r, h2, extra = best
        trial = dict(h)
        trial[r] = h2
        ev2 = evaluate(trial)
        if ev2.passenger_hours >= ev.passenger_hours - 1e-9:
            break  # the estimate promised a saving the assignment does not confirm
        decisions.append(
            f"{r}: {h[r] / 60:g} -> {h2 / 60:g} min (+{extra} bus; passenger time "
            f"{ev.passenger_hours:.1f} -> {ev2.passenger_hours:.1f} h per hour)"
        )
        h, ev = trial, ev2
    for line in decisions:
        log.info("headways: %s", line)
    return FrequencyPlan(
        headways_s=tuple((r, h[r]) for r in routes),
        buses=tuple((r, _buses(cycle_s[r], h[r])) for r in routes),
        budget=fleet_budget,
        passenger_hours=ev.passenger_hours,
        decisions=tuple(decisions),
        overloaded=tuple(
            (r, float(ev.max_load.get(r, 0.0)), capacity(r, h[r]))
            for r in routes
            if float(ev.max_load.get(r, 0.0)) > capacity(r, h[r]) + 1e-9
        ),
    )
