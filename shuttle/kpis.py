"""Figures of a design, per route and for the network.

Per route: length, one-way and cycle time, stops (:func:`design_kpis`), kilometres by road class
and the minor streets used (:func:`route_facts`); the designer adds the detour ratio and the two
turnarounds. For the network: the passenger figures of :mod:`shuttle.evaluate`, vehicle-hours
per weekday and the stop catchment's coverage.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import networkx as nx

from . import evaluate, paths, roads, runtime
from .config import Scenario
from .keynet import edge_data
from .model import DesignKPIs, Pattern, Route, RouteKPI, Stop

__all__ = ["design_kpis", "route_facts"]


def _vehicle_hours(cycles_s: Sequence[int], scenario: Scenario) -> float:
    """Vehicle-hours per weekday: buses needed by the headway of each minute's period."""
    sv = scenario.service
    try:
        day = sv.day("weekday")
    except KeyError:
        return 0.0
    total_min = 0.0
    for t in range(day.start_s, day.end_s, 60):
        hw = day.headway(sv.period_at(t))
        total_min += sum(math.ceil(c / (hw * 60.0)) for c in cycles_s)
    return total_min / 60.0


def design_kpis(
    routes: Sequence[Route],
    stops: Sequence[Stop],
    scenario: Scenario,
    *,
    method: str,
    objective: float,
    evaluation: evaluate.NetworkEvaluation,
    coverage: float,
    coverage_by_district: tuple[tuple[int, int, int], ...] = (),
    facts: dict[str, dict[str, Any]] | None = None,
    versus_existing: bool = False,
) -> DesignKPIs:
    """Figures of a design.

    Per route: one-way length (mean of the directions), one-way time and cycle time (both
    directions plus a layover of ``service.layover_min`` each) at the slowest period's run-time
    factor with a dwell of ``service.dwell_s`` at every intermediate stop
    (:mod:`shuttle.runtime`, the bound the designer checks), and distinct stops. Network: ATT
    and d0/d1/d2/dun from ``evaluation`` (:func:`shuttle.evaluate.evaluate_network` of the built
    routes and stops; ``dun`` is rounded so that the four shares add up to 100); vehicle-hours per
    weekday = sum over routes and minutes of the weekday span of ``ceil(cycle / headway of that
    minute's period)`` / 60; ``objective`` and ``coverage`` as given.

    Parameters
    ----------
    routes, stops
        The built network.
    scenario
        Supplies the dwell, layover and headways.
    method, objective
        The design method and the value it minimised.
    evaluation
        Passenger figures of the network.
    coverage, coverage_by_district
        Population share within the stop catchment, overall and per district.
    facts
        Per route id, further :class:`~shuttle.model.RouteKPI` fields (km by road class, minor
        street uses, detour ratio and the anchor forcing it, turnarounds).

    Returns
    -------
    DesignKPIs
        The figures, rounded for stable output.
    """
    sv = scenario.service
    rk = []
    cycles = []
    for r in routes:
        # the one run-time model at the slowest period (the bound the designer checks)
        slow = runtime.slowest_factor(sv)
        ones = [runtime.trip_duration_s(p, slow, sv.dwell_s) for p in r.patterns]
        cycle = runtime.cycle_time_s(r, sv)
        cycles.append(cycle)
        ids = {s for p in r.patterns for s in p.stop_ids}
        rk.append(
            RouteKPI(
                route_id=r.route_id,
                length_m=round(sum(p.length_m for p in r.patterns) / len(r.patterns), 1),
                one_way_s=round(sum(ones) / len(ones)),
                cycle_s=int(cycle),
                stops=len(ids),
                **(facts or {}).get(r.route_id, {}),
            )
        )
    del stops
    att = evaluation.att_min
    return DesignKPIs(
        versus_existing=versus_existing,
        method=method,
        objective=round(float(objective), 6),
        att_min=round(float(att), 3),
        d0=round(evaluation.d0, 4),
        d1=round(evaluation.d1, 4),
        d2=round(evaluation.d2, 4),
        dun=round(
            max(
                0.0,
                100.0 - round(evaluation.d0, 4) - round(evaluation.d1, 4) - round(evaluation.d2, 4),
            ),
            4,
        ),
        vehicle_hours=round(_vehicle_hours(cycles, scenario), 2),
        coverage=round(float(coverage), 5),
        routes=tuple(rk),
        coverage_by_district=coverage_by_district,
        walk_min=round(float(evaluation.walk_min), 3),
        wait_min=round(float(evaluation.wait_min), 3),
        in_vehicle_min=round(float(evaluation.in_vehicle_min), 3),
        transfer_min=round(float(evaluation.transfer_min), 3),
        access_pct=round(float(evaluation.access_pct), 4),
    )


def route_facts(
    G: nx.MultiDiGraph, rm: paths.RoadMatrix, patterns: Sequence[Pattern]
) -> tuple[tuple[tuple[str, float], ...], tuple[tuple[str, float], ...]]:
    """Kilometres by road class and the minor-street stretches ``(name, metres)`` of a route."""
    km: dict[str, float] = {}
    minor: dict[str, float] = {}
    for p in patterns:
        run: list[tuple[str, float]] = []
        for u, v in zip(p.node_path[:-1], p.node_path[1:], strict=True):
            d = edge_data(G, rm, u, v)
            c = roads.road_class(d)
            km[c] = km.get(c, 0.0) + float(d["length"]) / 1000.0
            if c == "minor":
                run.append((roads.road_name(d), float(d["length"])))
        for name, m in run:
            minor[name] = minor.get(name, 0.0) + m
    order = {c: i for i, c in enumerate(roads.CLASS_RANK)}
    return (
        tuple((c, round(km[c], 3)) for c in sorted(km, key=lambda c: order.get(c, 99))),
        tuple((n, round(m, 1)) for n, m in sorted(minor.items())),
    )
