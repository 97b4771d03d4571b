"""Property-based tests (hypothesis) of the planning stages on generated inputs.

Whatever is generated, either the stage's invariants hold or it ends in the project's own error:

- assignment: demand is conserved (assigned + unserved = given), every line's boardings equal its
  alightings and its loads follow them, the time components add up to the total;
- headways under a budget: the fleet never exceeds the budget, every headway is an allowed step at
  or under the policy headway, or the budget is refused (BudgetError) exactly when the policy
  fleet is over it;
- timetable: stop times strictly increase along every trip, no block holds overlapping trips, the
  fleet is the most blocks active at once, every headway run is at or under the policy.

The examples database stays out of the repository (``database=None``); the default run is small.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shuttle.assign import Line, Walk, assign
from shuttle.config import DayService, load_scenario
from shuttle.errors import ShuttleError
from shuttle.frequencies import CLOCK_FACE_S, BudgetError, LoadEval, choose_headways
from shuttle.model import Pattern, Route
from shuttle.timetable import build_timetable, fleet_summary

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def networks(draw: st.DrawFn) -> tuple[int, list[Line], list[Walk], list[int], np.ndarray]:
    n = draw(st.integers(4, 14))
    lines = []
    for k in range(draw(st.integers(0, 5))):
        size = draw(st.integers(2, n))
        stops = draw(st.permutations(range(n)))[:size]
        runs = draw(st.lists(st.floats(0, 900), min_size=size - 1, max_size=size - 1))
        head = draw(st.sampled_from([60.0, 300.0, 600.0, 1200.0, 3600.0]))
        lines.append(Line(f"L{k}", tuple(stops), tuple(runs), head))
    walks = [
        Walk(a, b, t)
        for a, b, t in draw(
            st.lists(
                st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.floats(0, 1200)),
                max_size=20,
            )
        )
    ]
    zones = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=5, unique=True))
    demand = np.array(
        draw(st.lists(st.floats(0, 100), min_size=len(zones) ** 2, max_size=len(zones) ** 2))
    ).reshape(len(zones), len(zones))
    return n, lines, walks, zones, demand


@SETTINGS
@given(networks(), st.sampled_from([0.5, 1.0]), st.floats(0, 600))
def test_assignment_conserves_demand(net, wait_factor, penalty) -> None:  # noqa: ANN001
    n, lines, walks, zones, demand = net
    r = assign(
        n, lines, walks, zones, zones, demand, wait_factor=wait_factor, transfer_penalty_s=penalty
    )
    off = demand.copy()
    np.fill_diagonal(off, 0.0)
    ok = np.isfinite(r.time_s)
    assert math.isclose(off[ok].sum() + r.unserved, off.sum(), rel_tol=1e-9, abs_tol=1e-9)
    parts = r.walk_s + r.wait_s + r.in_vehicle_s + r.penalty_s
    assert np.allclose(parts[ok], r.time_s[ok], rtol=1e-9, atol=1e-6)
    for ln in r.lines:
        assert math.isclose(sum(ln.boardings), sum(ln.alightings), rel_tol=1e-9, abs_tol=1e-6)
        cum = np.cumsum(np.asarray(ln.boardings) - np.asarray(ln.alightings))[:-1]
        assert np.allclose(cum, ln.load, atol=1e-6)
        assert min(ln.load, default=0.0) >= -1e-9
    # nobody rides more than they were given: boardings per trip at least 0
    assert (r.boardings[ok] >= -1e-12).all()


@SETTINGS
@given(
    st.dictionaries(st.sampled_from("ABCDE"), st.floats(600, 12000), min_size=1),
    st.dictionaries(st.sampled_from("ABCDE"), st.floats(0, 2000)),
    st.integers(1, 60),
    st.sampled_from([10.0, 15.0, 20.0, 30.0]),
)
def test_headways_respect_budget_and_policy(cycles, loads, budget, policy_min) -> None:  # noqa: ANN001
    def evaluate(h):  # noqa: ANN001, ANN202
        ph = sum(loads.get(r, 0.0) * h[r] / 7200.0 for r in h)
        return LoadEval(ph, {r: loads.get(r, 0.0) for r in h}, {r: loads.get(r, 0.0) for r in h})

    policy = policy_min * 60.0
    widest = max(s for s in CLOCK_FACE_S if s <= policy)
    need = sum(max(1, math.ceil(c / widest - 1e-9)) for c in cycles.values())
    try:
        plan = choose_headways(
            cycles,
            evaluate,
            capacity=50.0,
            target_load_factor=0.8,
            policy_headway_s=policy,
            fleet_budget=budget,
        )
    except BudgetError:
        assert need > budget
        return
    assert need <= budget
    assert plan.fleet <= budget
    for r, h in plan.headways_s:
        assert h in CLOCK_FACE_S
        assert h <= policy
        assert dict(plan.buses)[r] == max(1, math.ceil(cycles[r] / h - 1e-9))


def _route(runs0: list[int], runs1: list[int]) -> Route:
    def pat(d: int, runs: list[int]) -> Pattern:
        n = len(runs) + 1
        ids = tuple(f"S{d}{i}" for i in range(n))
        dist = tuple(float(500 * i) for i in range(n))
        shape = tuple((37.55 + 0.001 * i, 126.9) for i in range(n))
        return Pattern(d, "끝", "End", ids, tuple(runs), dist, shape, dist[-1])

    return Route("R1", "1", "가-나", "A-B", "53B332", "000000", (pat(0, runs0), pat(1, runs1)))


SCEN = load_scenario("nw3")


@SETTINGS
@given(
    st.lists(st.integers(30, 600), min_size=1, max_size=12),
    st.lists(st.integers(30, 600), min_size=1, max_size=12),
    st.sampled_from([5.0, 6.0, 10.0, 12.0, 15.0, 20.0]),
    st.sampled_from([5.0, 10.0, 15.0, 20.0, 30.0]),
    st.integers(5 * 60, 8 * 60),
    st.integers(18 * 60, 24 * 60),
)
def test_timetable_invariants(runs0, runs1, peak, off, start_min, end_min) -> None:  # noqa: ANN001
    route = _route(runs0, runs1)
    heads = (("peak", peak), ("offpeak", off), ("evening", off))
    days = tuple(
        (d, DayService(start_min * 60, end_min * 60, heads))
        for d in ("weekday", "saturday", "sunday")
    )
    sc = dataclasses.replace(SCEN, service=dataclasses.replace(SCEN.service, days=days))
    try:
        tt = build_timetable((route,), sc)
    except ShuttleError:
        return
    for t in tt.trips:
        times = [x for pair in zip(t.arrival_s, t.departure_s, strict=True) for x in pair]
        assert all(b >= a for a, b in zip(times, times[1:], strict=False))
        assert all(b > a for a, b in zip(t.departure_s, t.arrival_s[1:], strict=False))
    by_id = {t.trip_id: t for t in tt.trips}
    for b in tt.blocks:
        seq = [by_id[i] for i in b.trip_ids]
        for a, c in zip(seq, seq[1:], strict=False):
            assert c.departure_s[0] >= a.arrival_s[-1]
    for total in fleet_summary(tt):
        spans = [(b.start_s, b.end_s) for b in tt.blocks if b.service_id == total.service_id]
        busiest = max((sum(1 for a, e in spans if a <= x < e) for x, _ in spans), default=0)
        assert total.vehicles == busiest
    for f in tt.fleet:
        for period, minutes in f.headways_min:
            assert minutes <= dict(heads)[period] + 1e-9
