"""Headways from demand under a fleet budget."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from shuttle.errors import DesignError
from shuttle.frequencies import LoadEval, choose_headways

MIN = 60.0


def _model(loads: Mapping[str, float], boardings: Mapping[str, float]):  # noqa: ANN202
    """A closed-form stand-in for the assignment: loads fixed, passenger time = boardings x h/2."""
    calls: list[dict[str, float]] = []

    def evaluate(h: Mapping[str, float]) -> LoadEval:
        calls.append(dict(h))
        ph = sum(boardings[r] * h[r] / 2.0 / 3600.0 for r in h)
        return LoadEval(passenger_hours=ph, max_load=dict(loads), boardings=dict(boardings))

    return evaluate, calls


def test_capacity_policy_and_spare_buses_by_hand() -> None:
    evaluate, _ = _model({"A": 500.0, "B": 50.0}, {"A": 800.0, "B": 100.0})
    plan = choose_headways(
        {"A": 60 * MIN, "B": 40 * MIN},
        evaluate,
        capacity=50.0,
        target_load_factor=0.8,
        policy_headway_s=20 * MIN,
        fleet_budget=20,
    )
    h = dict(plan.headways_s)
    # A: 500 riders/h at 40 per bus needs 12.5 buses/h: the widest clock-face headway is 4 min
    # (15 buses on a 60-min cycle); A cannot go to 3 min (20 buses) within the budget.
    assert h["A"] == 4 * MIN
    # B starts at the 20-min policy (2 buses) and takes the 3 spare buses: 15 min (3 buses),
    # 12 min (4), 10 min (still 4); 6 min would need 7.
    assert h["B"] == 10 * MIN
    assert dict(plan.buses) == {"A": 15, "B": 4}
    assert plan.fleet == 19
    assert plan.fleet <= plan.budget


def test_every_headway_at_or_under_the_policy() -> None:
    evaluate, _ = _model({"A": 0.0, "B": 0.0}, {"A": 0.0, "B": 0.0})
    plan = choose_headways(
        {"A": 50 * MIN, "B": 70 * MIN}, evaluate, capacity=50.0, target_load_factor=0.8,
        policy_headway_s=25 * MIN, fleet_budget=100,
    )
    # nobody rides: no spare bus is worth a saving; both stay at 20 min (the widest step <= 25)
    assert dict(plan.headways_s) == {"A": 20 * MIN, "B": 20 * MIN}
    assert dict(plan.buses) == {"A": 3, "B": 4}


def test_budget_too_small_is_an_error_not_a_wide_headway() -> None:
    evaluate, _ = _model({"A": 10.0}, {"A": 10.0})
    with pytest.raises(DesignError, match="need 5 buses .* budget in nw3.toml is 4"):
        choose_headways(
            {"A": 100 * MIN}, evaluate, capacity=50.0, target_load_factor=0.8,
            policy_headway_s=20 * MIN, fleet_budget=4, where="nw3.toml",
        )


def test_a_load_the_budget_cannot_carry_is_flagged() -> None:
    evaluate, _ = _model({"A": 500.0, "B": 50.0}, {"A": 800.0, "B": 100.0})
    plan = choose_headways(
        {"A": 60 * MIN, "B": 40 * MIN}, evaluate, capacity=50.0, target_load_factor=0.8,
        policy_headway_s=20 * MIN, fleet_budget=16,
    )
    h = dict(plan.headways_s)
    # A narrows while the budget allows: 5 min (12 buses) carries 480 < 500 riders an hour,
    # 4 min would need 3 more buses than the 2 left
    assert h["A"] == 5 * MIN
    assert plan.fleet <= 16
    assert plan.overloaded == (("A", 500.0, pytest.approx(480.0)),)


def test_no_allowed_headway_under_the_policy() -> None:
    evaluate, _ = _model({}, {})
    with pytest.raises(DesignError, match="policy headway of 2 min"):
        choose_headways(
            {"A": 30 * MIN}, evaluate, capacity=50.0, target_load_factor=0.8,
            policy_headway_s=2 * MIN, fleet_budget=100,
        )


def test_spare_buses_stop_at_the_floor() -> None:
    evaluate, _ = _model({"A": 500.0, "B": 50.0}, {"A": 800.0, "B": 100.0})
    plan = choose_headways(
        {"A": 60 * MIN, "B": 40 * MIN}, evaluate, capacity=50.0, target_load_factor=0.8,
        policy_headway_s=20 * MIN, fleet_budget=20, floor_s={"B": 15 * MIN},
    )
    # as in the first test, but B may not go below its 15-minute floor with spare buses
    assert dict(plan.headways_s) == {"A": 4 * MIN, "B": 15 * MIN}
