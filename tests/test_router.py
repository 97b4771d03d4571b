"""Turn-aware router on small hand-built graphs you can check by eye; road classes and names."""

from __future__ import annotations

import math

import networkx as nx
import pytest

from shuttle import roads
from shuttle.errors import DesignError
from shuttle.router import TurnRouter, bearing_deg, turn_deg

# 0.00113 degrees of longitude and 0.0009 of latitude are both ~100 m at 37.55 N
DX, DY = 0.00113, 0.0009


def _edge(G: nx.MultiDiGraph, u: int, v: int, s: float = 10.0, m: float = 100.0) -> None:
    G.add_edge(u, v, length=m, travel_time=s, highway="secondary")


def _grid() -> nx.MultiDiGraph:
    """4 x 4 two-way grid, node ``10 r + c``, edges 100 m and 10 s, except 12->13 (30 s) and
    12->11 (20 s)."""
    G = nx.MultiDiGraph(crs="epsg:4326")
    for r in range(4):
        for c in range(4):
            G.add_node(10 * r + c, x=126.9 + DX * c, y=37.55 + DY * r)
    for r in range(4):
        for c in range(4):
            for dr, dc in ((0, 1), (1, 0)):
                if r + dr < 4 and c + dc < 4:
                    a, b = 10 * r + c, 10 * (r + dr) + c + dc
                    _edge(G, a, b)
                    _edge(G, b, a)
    G.edges[12, 13, 0]["travel_time"] = 30.0
    G.edges[12, 11, 0]["travel_time"] = 20.0
    return G


def _turns(router: TurnRouter, nodes: list[int]) -> list[float]:
    e = [router.eid[(u, v)] for u, v in zip(nodes[:-1], nodes[1:], strict=True)]
    return [router.turn(a, b) for a, b in zip(e[:-1], e[1:], strict=True)]


def _segments(nodes: tuple[int, ...] | list[int]) -> list[frozenset[int]]:
    return [frozenset(uv) for uv in zip(nodes[:-1], nodes[1:], strict=True)]


def test_bearings_and_turns_by_hand() -> None:
    assert bearing_deg(37.55, 126.9, 37.55 + DY, 126.9) == pytest.approx(0.0)
    assert bearing_deg(37.55, 126.9, 37.55, 126.9 + DX) == pytest.approx(90.0)
    assert bearing_deg(37.55, 126.9, 37.55 - DY, 126.9 - DX) == pytest.approx(225.0, abs=1.0)
    assert turn_deg(90.0, 180.0) == 90.0  # east, then south: a right turn
    assert turn_deg(10.0, 350.0) == 20.0
    assert turn_deg(90.0, 263.0) == 173.0  # the median U-turn measured on 수색로


def test_reversal_through_two_nodes_is_forbidden() -> None:
    """A reversal whose two edges have different node ids is still a reversal (geometry)."""
    G = _grid()
    # node 91 lies 35 m west and 6 m south of node 2, in the street between 1 and 2: the edge
    # 2 -> 91 doubles back (heading ~260 deg after arriving at 2 heading east, 90 deg)
    G.add_node(91, x=126.9 + DX * 2 - 35.0 / 100.0 * DX, y=37.55 - 6.0 / 100.0 * DY)
    for u, v, m in ((2, 91, 35.0), (91, 1, 65.0)):  # a one-way slip back west
        _edge(G, u, v, s=4.0, m=m)
    loose = TurnRouter(G, max_turn_deg=180.0)
    strict = TurnRouter(G, max_turn_deg=150.0)
    turn = strict.turn(strict.eid[(1, 2)], strict.eid[(2, 91)])
    assert 165.0 < turn < 175.0  # atan2(-35, -6) from east: 170 deg by hand
    # the old rule (no u -> v -> u by node id) lets 0, 1, 2, 91, 1 through: 28 s
    assert loose.path([0, 2, 1]) == [0, 1, 2, 91, 1]
    legal = strict.path([0, 2, 1])
    assert max(_turns(strict, legal)) <= 150.0
    # by hand: reach 2 from the north (0, 10, 11, 12, 2: 40 s) and take the slip, a right-ish
    # turn of 80 deg from heading south (8 s): 48 s; the block 0, 1, 2, 12, 11, 1 costs 60 s
    # and 0, 10, 11, 12, 2, 1 costs 50 s
    assert legal == [0, 10, 11, 12, 2, 91, 1]
    cost = sum(G.edges[u, v, 0]["travel_time"] for u, v in zip(legal[:-1], legal[1:], strict=True))
    assert cost == pytest.approx(48.0)


def test_loop_round_a_block_as_turnaround() -> None:
    G = _grid()
    router = TurnRouter(G, max_turn_deg=150.0)
    cy = router.cycle([0, 3])
    out, back = list(cy.out_nodes), list(cy.back_nodes)
    # the two directions join: one ends where the other starts, and the closed walk never
    # turns by more than the limit, also across both joins
    assert out[-1] == back[0]
    assert back[-1] == out[0]
    closed = out + back[1:] + out[1:2]
    assert max(_turns(router, closed)) <= 150.0
    # no reversal anywhere, no segment twice within a direction
    assert not any(a == c for a, c in zip(closed[:-2], closed[2:], strict=True))
    for p in (out, back):
        assert len(set(_segments(p))) == len(_segments(p))
    # at the corner 3 (exits: back west, or south to 13) the far turnaround is 3 -> 13 -> 12:
    # heading west on 13 -> 12 (reversed) at node 12, 141 m from 3 -- 200 m of loop
    assert cy.loop_m[0] == pytest.approx(200.0)
    walk = out + back[1:]
    assert walk[walk.index(3) : walk.index(3) + 3] == [3, 13, 12]


def test_no_turnaround_is_an_error() -> None:
    """A one-way street with no way back: no closed walk, a DesignError naming the limit."""
    G = nx.MultiDiGraph(crs="epsg:4326")
    for c in range(3):
        G.add_node(c, x=126.9 + DX * c, y=37.55)
    _edge(G, 0, 1)
    _edge(G, 1, 2)
    _edge(G, 2, 1)
    _edge(G, 1, 0)
    router = TurnRouter(G, max_turn_deg=150.0)
    with pytest.raises(DesignError, match="150 degrees"):
        router.cycle([0, 2])
    assert math.isinf(router.turnaround_s(2))


def test_turnaround_cost_by_hand() -> None:
    G = _grid()
    router = TurnRouter(G, max_turn_deg=150.0)
    # into corner 3 from the west: 3 -> 13 -> 12 (20 s); from the south: 3 -> 2 -> 12 (20 s)
    assert router.turnaround_s(3) == pytest.approx(20.0)


def test_road_class_and_name() -> None:
    assert roads.road_class({"highway": "residential"}) == "minor"
    assert roads.road_class({"highway": ["tertiary", "primary_link"]}) == "primary"
    assert roads.road_class({"highway": "secondary"}) == "secondary"
    assert roads.road_class({}) == roads.OTHER
    assert roads.road_name({"name": ["통일로", "", "연서로"]}) == "연서로"  # sorted: 연 < 통
    assert roads.road_name({"name": float("nan")}) == ""
    assert roads.road_name({"name": " 수색로 "}) == "수색로"


def test_a_u_turn_through_a_short_connector_is_a_reversal() -> None:
    """Two right-angle turns 20 m apart reverse the bus as surely as one U-turn does."""
    G = _grid()
    # node 95 lies 20 m south of corner 3; 3 -> 95 heads south (a right turn of 90 degrees
    # after arriving at 3 heading east), 95 -> 2 heads west-north-west (a right turn of about
    # 100 degrees): a U-turn of ~190 degrees across 20 m of road, 10 s against the 20 s of the
    # block loop 3 -> 13 -> 12
    G.add_node(95, x=126.9 + DX * 3, y=37.55 - 20.0 / 100.0 * DY)
    _edge(G, 3, 95, s=2.0, m=20.0)
    _edge(G, 95, 2, s=8.0, m=102.0)
    router = TurnRouter(G, max_turn_deg=150.0)
    e = [router.eid[(2, 3)], router.eid[(3, 95)], router.eid[(95, 2)]]
    # each turn alone is within the limit; together they turn by 190 degrees by hand
    assert router.turn(e[0], e[1]) == pytest.approx(90.0, abs=1.0)
    assert 95.0 < router.turn(e[1], e[2]) < 105.0
    assert router.reversals(e, closed=False) == {e[1]}
    cy = router.cycle([0, 3])
    walk = list(cy.out_nodes) + list(cy.back_nodes[1:])
    assert (3, 95) not in set(zip(walk[:-1], walk[1:], strict=False))
    assert cy.loop_m[0] == pytest.approx(200.0)  # round the block instead
    # a real block (100 m sides) is no reversal: the loop 3 -> 13 -> 12 passes
    blk = [router.eid[(2, 3)], router.eid[(3, 13)], router.eid[(13, 12)]]
    assert router.reversals(blk, closed=False) == set()
