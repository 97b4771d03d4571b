"""Optimal-strategies transit assignment (Spiess and Florian 1989)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shuttle.assign import Line, Walk, assign
from shuttle.errors import DesignError

M = 60.0  # seconds per minute
A, X, Y, B = 0, 1, 2, 3


def paper_lines() -> list[Line]:
    """Spiess and Florian (1989), figure 1: four lines between A, X, Y and B.

    Line 1 A-B 25 min; line 2 A-X-Y 7 + 6 min; line 3 X-Y-B 4 + 4 min; line 4 Y-B 10 min;
    headways 12, 12, 30 and 6 minutes with the wait taken as half the combined headway (the
    paper's frequencies of 1/6, 1/6, 1/15 and 1/3 per minute with a full-headway wait).
    """
    return [
        Line("L1", (A, B), (25 * M,), 12 * M),
        Line("L2", (A, X, Y), (7 * M, 6 * M), 12 * M),
        Line("L3", (X, Y, B), (4 * M, 4 * M), 30 * M),
        Line("L4", (Y, B), (10 * M,), 6 * M),
    ]


def test_paper_example_expected_time() -> None:
    r = assign(4, paper_lines(), [], [A], [B], np.array([[1.0]]))
    # Hand calculation: at Y lines 3 and 4 (F = 1/30 + 1/6 = 0.2/min): u_Y = (0.5 + 4/30 + 10/6)
    # / 0.2 = 11.5; on line 2 at X staying on to Y (6 + 11.5) beats alighting; at A lines 1 and 2
    # (F = 1/6): u_A = (0.5 + 25/12 + 24.5/12) / (1/6) = 27.75 minutes.
    assert r.time_s[0, 0] / M == pytest.approx(27.75)
    # wait: 3 min at A plus, for the half riding line 2, 2.5 min at Y
    assert r.wait_s[0, 0] / M == pytest.approx(3.0 + 0.5 * 2.5)
    assert r.in_vehicle_s[0, 0] / M == pytest.approx(27.75 - 4.25)
    assert r.boardings[0, 0] == pytest.approx(1.5)


def test_paper_example_volumes() -> None:
    r = assign(4, paper_lines(), [], [A], [B], np.array([[1.0]]))
    by = {ln.line_id: ln for ln in r.lines}
    # the paper's line volumes for one trip A -> B: 0.5, 0.5, 0.5 * (1/30) / 0.2, 0.5 * (1/6) / 0.2
    assert by["L1"].riders == pytest.approx(0.5)
    assert by["L2"].riders == pytest.approx(0.5)
    assert by["L3"].boardings == pytest.approx((0.0, 0.5 / 6, 0.0))
    assert by["L4"].riders == pytest.approx(0.5 * 5 / 6)
    assert by["L2"].load == pytest.approx((0.5, 0.5))  # nobody alights at X


def test_full_headway_wait_is_the_papers_convention() -> None:
    r = assign(4, paper_lines(), [], [A], [B], np.array([[1.0]]), wait_factor=1.0)
    # with the full headway the same lines are attractive and the wait doubles: 27.75 + 4.25
    assert r.time_s[0, 0] / M == pytest.approx(32.0)


def _random_network(seed: int) -> tuple[int, list[Line], list[Walk], list[int]]:
    rng = np.random.default_rng(seed)
    n = 30
    lines = []
    for k in range(8):
        stops = rng.choice(n, size=int(rng.integers(2, 9)), replace=False)
        lines.append(
            Line(
                f"L{k}",
                tuple(int(s) for s in stops),
                tuple(float(t) for t in rng.uniform(60, 600, len(stops) - 1)),
                float(rng.choice([300, 600, 900, 1200])),
            )
        )
    walks = []
    for _ in range(40):
        a, b = (int(v) for v in rng.choice(n, 2, replace=False))
        walks.append(Walk(a, b, float(rng.uniform(60, 900))))
    zones = [int(z) for z in rng.choice(n, 10, replace=False)]
    return n, lines, walks, zones


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_conservation_on_random_networks(seed: int) -> None:
    n, lines, walks, zones = _random_network(seed)
    demand = np.random.default_rng(seed + 100).uniform(0, 50, (len(zones), len(zones)))
    r = assign(n, lines, walks, zones, zones, demand, transfer_penalty_s=300.0)
    off = demand.copy()
    np.fill_diagonal(off, 0.0)
    assert r.total == pytest.approx(off.sum())
    served = float(off[np.isfinite(r.time_s)].sum())
    assert served + r.unserved == pytest.approx(off.sum())
    board = 0.0
    for ln in r.lines:
        # every rider who boards a line alights from it, and the load follows the counts
        assert sum(ln.boardings) == pytest.approx(sum(ln.alightings))
        load = np.cumsum(np.asarray(ln.boardings) - np.asarray(ln.alightings))[:-1]
        assert np.asarray(ln.load) == pytest.approx(load, abs=1e-6)
        assert min(ln.load, default=0.0) >= -1e-9
        board += sum(ln.boardings)
    assert board == pytest.approx(r.boardings_total)
    ok = np.isfinite(r.time_s)
    parts = r.walk_s + r.wait_s + r.in_vehicle_s + r.penalty_s
    assert parts[ok] == pytest.approx(r.time_s[ok])


def test_transfer_penalty_once_per_change() -> None:
    # 0 -L1-> 1 -L2-> 2: one transfer; the penalty is paid at the second boarding only
    lines = [Line("L1", (0, 1), (600.0,), 600.0), Line("L2", (1, 2), (600.0,), 1200.0)]
    r = assign(3, lines, [], [0], [2], np.array([[10.0]]), transfer_penalty_s=300.0)
    assert r.penalty_s[0, 0] == pytest.approx(300.0)
    assert r.wait_s[0, 0] == pytest.approx(300.0 + 600.0)
    assert r.time_s[0, 0] == pytest.approx(300 + 600 + 600 + 600 + 300)
    assert r.boardings[0, 0] == pytest.approx(2.0)


def test_walking_beats_a_slow_bus_and_unreachable_is_unserved() -> None:
    lines = [Line("L1", (0, 1), (1800.0,), 1800.0)]
    walks = [Walk(0, 1, 600.0)]
    r = assign(3, lines, walks, [0, 2], [1], np.array([[5.0], [7.0]]))
    assert r.time_s[0, 0] == pytest.approx(600.0)
    assert r.boardings[0, 0] == pytest.approx(0.0)
    assert r.lines[0].riders == pytest.approx(0.0)
    assert math.isinf(r.time_s[1, 0])
    assert r.unserved == pytest.approx(7.0)
    assert r.riders == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("lines", "walks", "match"),
    [
        ([Line("L1", (0,), (), 600.0)], [], "L1"),
        ([Line("L1", (0, 1), (60.0,), 0.0)], [], "headway"),
        ([Line("L1", (0, 1), (math.nan,), 600.0)], [], "run times"),
        ([Line("L1", (0, 9), (60.0,), 600.0)], [], "outside"),
        ([], [Walk(0, 1, -5.0)], "Walk link"),
    ],
)
def test_bad_network_is_one_clear_error(lines: list[Line], walks: list[Walk], match: str) -> None:
    with pytest.raises(DesignError, match=match):
        assign(2, lines, walks, [0], [1], np.array([[1.0]]))


def test_bad_demand_is_one_clear_error() -> None:
    with pytest.raises(DesignError, match="demand matrix"):
        assign(2, [], [], [0], [1], np.array([[1.0, 2.0]]))
    with pytest.raises(DesignError, match="non-negative"):
        assign(2, [], [], [0], [1], np.array([[-1.0]]))
