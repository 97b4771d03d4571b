"""What a budget buys: which of the designed routes run, and how often, on every day type.

The route designer proposes up to ``design.routes`` routes; :func:`plan_service` decides which of
them the budget runs and their headway in every period of every day type:

1. Demand by time of day: the day's OD matrix (scaled by the day type's factor) is split over the
   periods by the hourly profile (:func:`shuttle.passengers.split_demand`); each period's share is
   spread evenly over its hours.
2. Headways (:func:`shuttle.frequencies.choose_headways`): the day type's headways are the policy
   (widest) headways; a route narrows where its load needs it or where a spare bus saves the most
   passenger time (the peak is planned first, and spare buses never run a quieter period more often
   than the peak). The fleet budget holds in every period.
3. Routes: when the routes cannot all run at the policy headways within the budget, the route whose
   removal costs the least passenger time per bus it frees is dropped, as long as every anchor
   keeps a stop on a remaining route; this repeats until the plan fits. A budget too small for even
   one route is an error, never a plan with wider headways. A dropped route's stops go with it:
   every assignment uses the stops of the routes it runs only (the plan's stops), so the loads
   and passenger time are those of the plan the timetable and the report will show.
4. An annual cost budget lowers the fleet budget one bus at a time until the estimated cost
   (buses in service per period times its hours, the unit costs of ``[cost]``) fits.

Passenger time is the assignment's door-to-door time of the trips that have a strategy plus
``budget.unserved_penalty_min`` for every trip the network cannot serve, so a smaller network
cannot look better by serving fewer trips. With ``background`` (the existing lines of each
period) the shuttle is assigned together with the existing network: a route only pays where it
beats (or joins) what riders have today.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import assign as assign_mod
from . import frequencies, runtime
from .config import PERIODS, BudgetConfig, CostConfig, DayService, ServiceConfig
from .errors import DesignError
from .model import Route, Stop
from .passengers import LineSpec, background_of, plan_network, split_demand

__all__ = [
    "ServicePlan",
    "clock",
    "design_label",
    "period_note",
    "period_times",
    "period_windows",
    "plan_service",
    "relabel",
    "windows_text",
]

log = logging.getLogger(__name__)

#: Fleet budget used when the scenario sets none (no limit in practice).
_UNLIMITED = 10_000


@dataclass(frozen=True, slots=True)
class ServicePlan:
    """Routes kept and headways chosen for every day type and period."""

    kept: tuple[str, ...]  # route ids that run
    dropped: tuple[tuple[str, str], ...]  # (route id, why)
    headways_s: tuple[tuple[str, str, str, float], ...]  # (route, day type, period, seconds)
    fleet: tuple[tuple[str, int], ...]  # (day type, buses in its busiest period)
    fleet_budget: int | None  # the budget used (after any annual-cost reduction)
    decisions: tuple[str, ...]
    # (route, day type, period, riders/h at the busiest point, capacity/h at the target load
    # factor) where the budget cannot carry the load: the report flags them
    overloaded: tuple[tuple[str, str, str, float, float], ...] = ()

    def headways(self, day_type: str) -> dict[str, dict[str, float]]:
        """Route -> period -> headway (seconds) on ``day_type``."""
        out: dict[str, dict[str, float]] = {}
        for r, d, p, h in self.headways_s:
            if d == day_type:
                out.setdefault(r, {})[p] = h
        return out


def design_label(route: Route) -> str:
    """Name a designed route so that it cannot be taken for a route of the plan.

    The plan renumbers the routes it keeps ``R1..Rn`` (:func:`shuttle.operate.renumber`), so
    the designer's ``R8`` may be the plan's ``R5`` or no route of it; the label says it is the
    design's number and gives the route's name, which renumbering keeps:
    ``design route R8 증산동–신사1동 (Jeungsan-dong – Sinsa 1-dong)`` (Korean first; English
    names may hold a slash, so the English stands in brackets).
    """
    return f"design route {route.route_id} {route.long_name_ko} ({route.long_name_en})"


_ROUTE_ID = re.compile(r"\bR\d+\b")


def relabel(text: str, ids: Mapping[str, str]) -> str:
    """Replace the route ids in ``text`` (whole words ``R<n>``) by ``ids[id]``, in one pass.

    Ids not in ``ids`` stay as they are; one pass, so ``{"R8": "R5", "R5": "R4"}`` swaps
    correctly.
    """
    return _ROUTE_ID.sub(lambda m: ids.get(m.group(0), m.group(0)), text)


def period_windows(service: ServiceConfig, day: DayService) -> dict[str, list[tuple[int, int]]]:
    """The time windows of each period within a day type's span (seconds after midnight)."""
    start, end = day.start_s, day.end_s
    out: dict[str, list[tuple[int, int]]] = {p: [] for p in PERIODS}
    t = start
    while t < end:
        p = service.period_at(t)
        u = t + 60
        while u < end and service.period_at(u) == p:
            u += 60
        u = min(u, end)
        wins = out[p]
        if wins and wins[-1][1] == t:
            wins[-1] = (wins[-1][0], u)
        else:
            wins.append((t, u))
        t = u
    return out


def period_times(
    service: ServiceConfig, day_types: Sequence[str]
) -> list[tuple[tuple[str, ...], dict[str, list[tuple[int, int]]]]]:
    """When each period runs: ``(day types, period -> windows)``, day types that agree together.

    The windows are :func:`period_windows`, the periods within each day type's span that the
    planner splits the demand by (so an evening window ends when the day's service does). Day
    types keep the order given; a group lists the day types whose windows are all the same.
    """
    groups: list[tuple[list[str], dict[str, list[tuple[int, int]]]]] = []
    for d in day_types:
        wins = period_windows(service, service.day(d))
        same = next((days for days, w in groups if w == wins), None)
        if same is None:
            groups.append(([d], wins))
        else:
            same.append(d)
    return [(tuple(days), wins) for days, wins in groups]


def clock(t_s: int) -> str:
    """``HH:MM`` of seconds after midnight; past midnight counts on (``24:00``, ``24:30``).

    A window that ends at midnight reads ``20:00–24:00``, not ``20:00–00:00``; service past
    midnight is written as GTFS writes it.
    """
    return f"{t_s // 3600:02d}:{t_s % 3600 // 60:02d}"


def windows_text(wins: Sequence[tuple[int, int]]) -> str:
    """``07:00–09:30, 17:00–19:30`` (plain text); an en dash for no window."""
    return ", ".join(f"{clock(a)}–{clock(b)}" for a, b in wins) or "–"


def period_note(
    groups: Sequence[tuple[Sequence[str], Mapping[str, Sequence[tuple[int, int]]]]],
    day_labels: Mapping[str, tuple[str, str]],
    period_labels: Mapping[str, tuple[str, str]],
    periods: Sequence[str] = ("peak", "evening"),
) -> tuple[str, str]:
    """When ``periods`` run on each group of day types, as plain text (Korean, English).

    ``groups`` is :func:`period_times`; a period with no window on a day type is
    left out of its group. Example: ``Mon–Fri: Peak 07:00–09:30, 17:00–19:30; Eve. 20:00–23:00 /
    Saturday, Sun & hol.: Peak ...; Eve. 20:00–22:00``.
    """
    parts: list[tuple[str, str]] = []
    for days, wins in groups:
        ko_d = "·".join(day_labels.get(d, (d, d))[0] for d in days)
        en_d = ", ".join(day_labels.get(d, (d, d))[1] for d in days)
        ko_p, en_p = [], []
        for p in periods:
            if wins.get(p):
                ko, en = period_labels.get(p, (p, p))
                ko_p.append(f"{ko} {windows_text(wins[p])}")
                en_p.append(f"{en} {windows_text(wins[p])}")
        parts.append((f"{ko_d}: {'; '.join(ko_p)}", f"{en_d}: {'; '.join(en_p)}"))
    return " / ".join(k for k, _ in parts), " / ".join(e for _, e in parts)


def _hours(wins: Sequence[tuple[int, int]]) -> float:
    return sum(b - a for a, b in wins) / 3600.0


class _Period:
    """The assignment of one period's hourly demand for any set of headways."""

    def __init__(
        self,
        routes: Sequence[Route],
        stops: Sequence[Stop],
        zone_lonlat: Sequence[tuple[float, float]],
        hourly: np.ndarray,
        *,
        factor: float,
        dwell_s: int,
        walk_speed_kmh: float,
        transfer_penalty_s: float,
        unserved_penalty_s: float,
        background: Sequence[LineSpec] | None = None,
    ) -> None:
        self.routes = list(routes)
        self.stops = stops
        self.zones = zone_lonlat
        self.hourly = hourly
        self.factor = factor
        self.dwell_s = dwell_s
        self.walk = walk_speed_kmh
        self.pen = transfer_penalty_s
        self.unserved_s = unserved_penalty_s
        self.background = background
        self._memo: dict[tuple[tuple[str, float], ...], frequencies.LoadEval] = {}

    def evaluate(self, headways: Mapping[str, float]) -> frequencies.LoadEval:
        key = tuple(sorted(headways.items()))
        if key in self._memo:
            return self._memo[key]
        net = plan_network(
            [r for r in self.routes if r.route_id in headways],
            self.stops,
            self.zones,
            headways_s=headways,
            factor=self.factor,
            dwell_s=self.dwell_s,
            walk_speed_kmh=self.walk,
            background=self.background,
        )
        res = assign_mod.assign(
            net.n_nodes,
            net.lines,
            net.walks,
            net.zone_nodes,
            net.zone_nodes,
            self.hourly,
            transfer_penalty_s=self.pen,
        )
        ok = np.isfinite(res.time_s)
        ph = float((res.demand[ok] * res.time_s[ok]).sum() + res.unserved * self.unserved_s)
        max_load: dict[str, float] = {}
        board: dict[str, float] = {}
        for (rid, _d), ll in zip(net.line_keys, res.lines[: len(net.line_keys)], strict=True):
            max_load[rid] = max(max_load.get(rid, 0.0), ll.max_load)
            board[rid] = board.get(rid, 0.0) + ll.riders
        ev = frequencies.LoadEval(passenger_hours=ph / 3600.0, max_load=max_load, boardings=board)
        self._memo[key] = ev
        return ev


def _stops_of(route: Route) -> set[str]:
    return {s for p in route.patterns for s in p.stop_ids}


def plan_service(
    routes: Sequence[Route],
    stops: Sequence[Stop],
    zone_lonlat: Sequence[tuple[float, float]],
    trips: np.ndarray,
    *,
    service: ServiceConfig,
    budget: BudgetConfig,
    cost: CostConfig,
    day_types: Sequence[str],
    days_per_type: Mapping[str, int],
    capacity: float,
    walk_speed_kmh: float,
    transfer_penalty_min: float,
    profile: Sequence[float],
    day_factors: Mapping[str, float],
    where: str = "the scenario",
    background: Mapping[str, Sequence[LineSpec]] | None = None,
) -> ServicePlan:
    """Choose the routes that run and their headways (see the module docstring).

    Parameters
    ----------
    routes, stops
        The designed routes and their stops (``Stop.anchor`` marks the stops serving anchors).
    zone_lonlat, trips
        Zone centres and the weekday ``(z, z)`` trips per day.
    day_types
        The day types that run, busiest first is not required (weekday is planned first).
    days_per_type
        Service days of each day type in the period (for the annual-cost estimate).
    profile
        24 hourly shares of the day's trips.
    day_factors
        Trips on each day type relative to a weekday.
    background
        Period -> the existing lines riders may take instead (:func:`shuttle.existing.
        existing_lines`); loads, boardings and passenger time then come from the shuttle and the
        existing network assigned together. None: the shuttle alone.

    Raises
    ------
    DesignError
        If the budget cannot run even one route at the policy headways, a load exceeds what the
        shortest headway carries, or the annual cost budget is below the cheapest plan.
    """
    T = np.asarray(trips, dtype=float).copy()
    np.fill_diagonal(T, 0.0)
    fleet_budget = budget.fleet if budget.fleet is not None else _UNLIMITED
    order = sorted(day_types, key=lambda d: (d != "weekday", d))
    by_id = {r.route_id: r for r in routes}
    required: dict[str, set[str]] = {}
    for s in stops:
        if s.anchor:
            required.setdefault(s.anchor, set()).add(s.stop_id)
    decisions: list[str] = []

    periods: dict[str, dict[str, tuple[float, list[tuple[int, int]]]]] = {}
    for d in order:
        wins = period_windows(service, service.day(d))
        shares = split_demand(profile, wins)
        periods[d] = {p: (shares[p], wins[p]) for p in PERIODS if _hours(wins[p]) > 0}

    def period_model(d: str, p: str, kept: Sequence[str]) -> _Period:
        share, wins = periods[d][p]
        hourly = T * day_factors.get(d, 1.0) * share / _hours(wins)
        # the stops of the routes that run, as the plan will have them: a dropped route's stops
        # go with it (walked through, they would carry riders to a kept route on foot)
        used = set().union(*(_stops_of(by_id[r]) for r in kept))
        return _Period(
            [by_id[r] for r in kept],
            [s for s in stops if s.stop_id in used],
            zone_lonlat,
            hourly,
            factor=service.time_factor(p),
            dwell_s=service.dwell_s,
            walk_speed_kmh=walk_speed_kmh,
            transfer_penalty_s=transfer_penalty_min * 60.0,
            unserved_penalty_s=budget.unserved_penalty_min * 60.0,
            background=background_of(background, p),
        )

    def solve(kept: Sequence[str], fb: int) -> dict[tuple[str, str], frequencies.FrequencyPlan]:
        plans = {}
        for d in order:
            # the peak first: spare buses never run a quieter period more often than the peak
            for p in sorted(periods[d], key=lambda q: q != "peak"):
                model = period_model(d, p, kept)
                cyc = {
                    r: float(runtime.cycle_time_s(by_id[r], service, service.time_factor(p)))
                    for r in kept
                }
                floor = dict(plans[(d, "peak")].headways_s) if (d, "peak") in plans else {}
                plans[(d, p)] = frequencies.choose_headways(
                    cyc,
                    model.evaluate,
                    capacity=capacity,
                    target_load_factor=budget.target_load_factor,
                    policy_headway_s=service.day(d).headway(p) * 60.0,
                    fleet_budget=fb,
                    where=where,
                    floor_s=floor,
                )
        return plans

    def est_cost(plans: Mapping[tuple[str, str], frequencies.FrequencyPlan]) -> float:
        total = 0.0
        fleet = 0
        for d in order:
            vh = 0.0
            for p, (_share, wins) in periods[d].items():
                vh += plans[(d, p)].fleet * _hours(wins)
                fleet = max(fleet, plans[(d, p)].fleet)
            total += days_per_type.get(d, 0) * vh * cost.krw_per_vehicle_hour
        return total + fleet * cost.krw_per_vehicle_year

    kept = sorted(by_id)
    dropped: list[tuple[str, str]] = []
    while True:
        try:
            plans = solve(kept, fleet_budget)
        except frequencies.BudgetError as e:
            if len(kept) <= 1:
                msg = (
                    f"The budget of {fleet_budget} buses in {where} cannot run even one route "
                    f"at the policy headways ({e}); raise budget.fleet or relax the headways."
                )
                raise DesignError(msg) from e
            victim = _least_useful(kept, by_id, required, periods, order, period_model, service)
            if victim is None:
                msg = (
                    f"The budget of {fleet_budget} buses in {where} cannot run the {len(kept)} "
                    f"routes the anchors need at the policy headways (at least {e.needed} "
                    f"buses): {', '.join(design_label(by_id[r]) for r in kept)}; raise "
                    "budget.fleet, relax the headways or serve fewer anchors."
                )
                raise DesignError(msg) from e
            rid, why = victim
            kept.remove(rid)
            dropped.append((rid, why))
            decisions.append(f"dropped {rid}: {why}")
            continue
        if budget.annual_krw is not None and est_cost(plans) > budget.annual_krw:
            used = max(pl.fleet for pl in plans.values())
            if used <= 1 or fleet_budget <= 1:
                msg = (
                    f"The annual budget of {budget.annual_krw:,.0f} KRW in {where} is below the "
                    f"cheapest plan ({est_cost(plans):,.0f} KRW); raise budget.annual_krw."
                )
                raise DesignError(msg)
            fleet_budget = min(fleet_budget, used) - 1
            decisions.append(
                f"annual cost {est_cost(plans):,.0f} KRW over the budget: fleet budget "
                f"{fleet_budget}"
            )
            continue
        break
    rows = []
    fleet = []
    over = []
    for d in order:
        busiest = 0
        for p in periods[d]:
            pl = plans[(d, p)]
            busiest = max(busiest, pl.fleet)
            rows.extend((r, d, p, h) for r, h in pl.headways_s)
            over.extend((r, d, p, load, cap) for r, load, cap in pl.overloaded)
            decisions.extend(f"{d} {p}: {line}" for line in pl.decisions)
        fleet.append((d, busiest))
    for line in decisions:
        log.info("service plan: %s", line)
    return ServicePlan(
        kept=tuple(kept),
        dropped=tuple(dropped),
        headways_s=tuple(sorted(rows)),
        fleet=tuple(fleet),
        fleet_budget=None if fleet_budget == _UNLIMITED else fleet_budget,
        decisions=tuple(decisions),
        overloaded=tuple(sorted(over)),
    )


def _least_useful(
    kept: Sequence[str],
    by_id: Mapping[str, Route],
    required: Mapping[str, set[str]],
    periods: Mapping[str, Mapping[str, tuple[float, list[tuple[int, int]]]]],
    order: Sequence[str],
    period_model,  # noqa: ANN001
    service: ServiceConfig,
) -> tuple[str, str] | None:
    """The route whose removal costs the least passenger time per bus it frees."""
    d = order[0]
    p = max(periods[d], key=lambda q: periods[d][q][0] / max(_hours(periods[d][q][1]), 1e-9))
    policy = service.day(d).headway(p) * 60.0
    base = period_model(d, p, kept).evaluate({r: policy for r in kept}).passenger_hours
    best: tuple[float, str, str] | None = None
    for r in kept:
        rest = [q for q in kept if q != r]
        served = set().union(*(_stops_of(by_id[q]) for q in rest))
        if any(not (ids & served) for ids in required.values()):
            continue  # an anchor would lose its last stop
        ph = period_model(d, p, rest).evaluate({q: policy for q in rest}).passenger_hours
        buses = math.ceil(runtime.cycle_time_s(by_id[r], service, service.time_factor(p)) / policy)
        score = (ph - base) / max(buses, 1)
        if best is None or score < best[0] - 1e-12:
            best = (
                score,
                r,
                f"{ph - base:+.1f} passenger-hours per {d} {p} hour for {buses} buses freed",
            )
    return None if best is None else (best[1], best[2])
