"""Optimal-strategies transit assignment (Spiess and Florian 1989)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shuttle import assign as assign_mod
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


def test_a_network_of_walks_alone() -> None:
    r = assign(3, [], [Walk(0, 1, 60.0)], [0, 2], [1], np.array([[1.0], [2.0]]))
    assert r.time_s[0, 0] == pytest.approx(60.0)
    assert math.isinf(r.time_s[1, 0])
    assert r.unserved == pytest.approx(2.0)
    assert r.lines == ()


def test_expanded_links_of_one_line() -> None:
    # stops 0..2, origin copies 3..5, on-board nodes 6..8 of line 0 -> 1 -> 2; per position:
    # board, board from the origin copy, ride (not at the last stop), alight (not at the first);
    # then each walk and its origin-copy twin, then origin copy -> stop
    net = assign_mod._Net(
        3, [Line("L", (0, 1, 2), (60.0, 90.0), 600.0)], [Walk(2, 0, 30.0)],
        transfer_penalty_s=300.0, boarding_penalty_s=10.0,
    )  # fmt: skip
    B, R, AL, W = assign_mod._BOARD, assign_mod._RIDE, assign_mod._ALIGHT, assign_mod._WALK
    assert list(zip(net.tail, net.head, net.kind, strict=True)) == [
        (0, 6, B), (3, 6, B), (6, 7, R),
        (1, 7, B), (4, 7, B), (7, 8, R), (7, 1, AL),
        (8, 2, AL),
        (2, 0, W), (5, 3, W),
        (3, 0, W), (4, 1, W), (5, 2, W),
    ]  # fmt: skip
    assert net.n_nodes == 9
    # board: transfer + boarding penalty from a stop, the boarding penalty alone from an origin
    assert net.total_cost.tolist() == [310, 10, 60, 310, 10, 90, 0, 0, 30, 30, 0, 0, 0]
    assert net.freq[:2].tolist() == [1 / 600, 1 / 600]
    assert math.isinf(net.freq[2])
    assert net.ref_pos[:8].tolist() == [0, 0, 0, 1, 1, 1, 1, 2]


def test_paper_example_in_two_threads() -> None:
    # two destinations in two threads; hand calculation (minutes, half-headway waits):
    # A -> Y: only line 2 reaches Y, 6 wait + 13 ride = 19.
    # X -> Y: lines 2 (6 min) and 3 (4 min), F = 1/12 + 1/30 = 7/60: (0.5 + 6/12 + 4/30) / F.
    # X -> B: line 3 rides on to B (8 min), line 2 to Y then u_Y = 11.5 (17.5):
    #   (0.5 + 8/30 + 17.5/12) / (7/60).
    D = np.array([[1.0, 2.0], [3.0, 4.0]])
    calls = []
    real = assign_mod._sf_kernel_jit

    def spy(*args):  # noqa: ANN002, ANN202
        calls.append(len(args[-5]))  # destinations in the call (dests, origins, D, wf, eps)
        return real(*args)

    assign_mod._sf_kernel_jit = spy
    try:
        r = assign(4, paper_lines(), [], [A, X], [B, Y], D, threads=2)
    finally:
        assign_mod._sf_kernel_jit = real
    assert calls == [1, 1]  # one destination per call: the work was split
    F = 1 / 12 + 1 / 30
    expect = [[27.75, 19.0], [(0.5 + 8 / 30 + 17.5 / 12) / F, (0.5 + 6 / 12 + 4 / 30) / F]]
    assert r.time_s / M == pytest.approx(np.array(expect))
    # line 1 carries half of the A -> B trip only; line 4 rides Y -> B only
    by = {ln.line_id: ln for ln in r.lines}
    assert by["L1"].riders == pytest.approx(0.5)
    one = assign(4, paper_lines(), [], [A, X], [B, Y], D, threads=1)
    assert one.time_s.tobytes() == r.time_s.tobytes()
    assert [ln.load for ln in one.lines] == [ln.load for ln in r.lines]


def test_threads_give_the_same_bytes_as_one_thread() -> None:
    rng = np.random.default_rng(7)
    n, nz = 400, 40
    lines = [
        Line(
            f"L{k}",
            tuple(int(s) for s in rng.choice(n, 25, replace=False)),
            tuple(float(t) for t in rng.uniform(60, 300, 24)),
            float(rng.choice([300, 600, 900])),
        )
        for k in range(30)
    ]
    walks = [
        Walk(int(a), int(b), float(rng.uniform(60, 900)))
        for a, b in rng.integers(0, n, (1200, 2))
        if a != b
    ]
    zones = [int(z) for z in rng.choice(n, nz, replace=False)]
    demand = rng.uniform(0, 50, (nz, nz))
    runs = [
        assign(n, lines, walks, zones, zones, demand, transfer_penalty_s=300.0, threads=t)
        for t in (1, 2, 3)
    ]
    one = runs[0]
    assert one.riders > 0  # the lines carry riders: the loads are compared, not zeros
    for r in runs[1:]:
        for f in ("time_s", "walk_s", "wait_s", "in_vehicle_s", "penalty_s", "boardings"):
            assert getattr(r, f).tobytes() == getattr(one, f).tobytes(), f
        for a, b in zip(r.lines, one.lines, strict=True):
            assert (a.boardings, a.alightings, a.load) == (b.boardings, b.alightings, b.load)


def test_bad_thread_count_is_one_clear_error() -> None:
    with pytest.raises(DesignError, match="threads"):
        assign(4, paper_lines(), [], [A], [B], np.array([[1.0]]), threads=0)


def test_bad_demand_is_one_clear_error() -> None:
    with pytest.raises(DesignError, match="demand matrix"):
        assign(2, [], [], [0], [1], np.array([[1.0, 2.0]]))
    with pytest.raises(DesignError, match="non-negative"):
        assign(2, [], [], [0], [1], np.array([[-1.0]]))
