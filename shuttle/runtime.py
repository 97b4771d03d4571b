"""The one run-time model: how long a bus takes along a pattern in a given period.

Every figure that depends on a run time (the designer's cycle and length-in-time bounds, the
passenger evaluation, the timetable's stop times, the fleet and vehicle-hours, deadheads) is
computed here, from the same three inputs:

- the pattern's free-flow run times between stops (``Pattern.run_times_s``: road-graph edge
  length over the scenario's class speed, summed between stops);
- the period's run-time factor (``ServiceConfig.time_factors``: peak, off-peak, evening);
- the dwell at every intermediate stop (``ServiceConfig.dwell_s``).

A stop time is ``round(cumulative free-flow time * factor + dwell * stops passed)``; bounds that
must hold all day use the slowest period (:func:`slowest_factor`). A deadhead (pull-out,
pull-in) is the free-flow road time times the factor of the period of the trip it serves (the
first departure for a pull-out, the last arrival for a pull-in), with no dwell
(:func:`deadhead_s`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .config import PERIODS, ServiceConfig
from .model import Pattern, Route

__all__ = [
    "cycle_time_s",
    "deadhead_s",
    "slowest_factor",
    "slowest_period",
    "stop_times",
    "trip_duration_s",
]


def slowest_period(service: ServiceConfig) -> str:
    """Return the period with the largest run-time factor (ties: first in ``PERIODS``)."""
    return max(PERIODS, key=lambda p: (service.time_factor(p), -PERIODS.index(p)))


def slowest_factor(service: ServiceConfig) -> float:
    """Return the largest run-time factor of the scenario's periods."""
    return service.time_factor(slowest_period(service))


def stop_times(
    run_times_s: Sequence[int], dep: int, factor: float, dwell_s: int
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Arrival and departure times (whole seconds) of a trip leaving the first stop at ``dep``.

    Intermediate stops add ``dwell_s`` (arrival < departure); the first and last stop have none.
    """
    n = len(run_times_s) + 1
    arr = [dep]
    out = [dep]
    x = float(dep)
    for i, run in enumerate(run_times_s):
        x += run * factor
        a = round(x)
        if i < n - 2:
            arr.append(a)
            out.append(a + dwell_s)
            x += dwell_s
        else:
            arr.append(a)
            out.append(a)
    return tuple(arr), tuple(out)


def trip_duration_s(pattern: Pattern, factor: float, dwell_s: int) -> int:
    """Return a trip's duration, first departure to last arrival (seconds)."""
    arr, _ = stop_times(pattern.run_times_s, 0, factor, dwell_s)
    return arr[-1]


def cycle_time_s(route: Route, service: ServiceConfig, factor: float | None = None) -> int:
    """Return a route's cycle: every pattern driven once plus one layover per pattern (seconds).

    ``factor`` defaults to the slowest period's, the value every all-day bound is checked at. The
    layover is the scenario's scheduled recovery (``layover_min``), rounded up to whole seconds.
    """
    f = slowest_factor(service) if factor is None else factor
    lay = math.ceil(service.layover_min * 60)
    return sum(trip_duration_s(p, f, service.dwell_s) + lay for p in route.patterns)


def deadhead_s(free_s: int, factor: float) -> int:
    """Return a deadhead's duration: free-flow road time times the period factor (no dwell).

    At least one second, so that a pull-out always precedes its first departure.
    """
    return max(1, round(free_s * factor))
