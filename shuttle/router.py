"""Turn-aware routing for a bus: no reversal anywhere, a real turnaround at each route end.

The router searches the *line graph* of the road graph: its states are the directed road edges
``(u, v)`` (parallel edges reduced to the cheapest by the weight, as in
:func:`shuttle.paths.road_matrix`), and a turn ``(u, v) -> (v, w)`` exists when ``w != u`` and the
change of bearing between the last segment of the first edge's geometry and the first segment of
the second edge's is at most ``max_turn_deg`` (the scenario's ``design.max_turn_deg``, 150 by
default). A reversal on the carriageway is therefore impossible whatever the node ids: a median
U-turn through two nodes turns by ~170-180 degrees and is not an arc. The cost of a turn is the
weight (``travel_time``) of the edge turned into. Searches are single-source Dijkstras of
:mod:`scipy.sparse.csgraph` on that precomputed CSR matrix.

:meth:`TurnRouter.cycle` routes a whole two-way route as one closed walk, direction 0 out through
the key nodes, a turnaround at the far end, direction 1 back, a turnaround at the near end::

    T0 -> k1 -> ... -> Tn -> (loop back to Tn) -> ... -> k1 -> T0 -> (loop back to T0)

A loop leaves the terminal node and comes back to it on another edge (around a block, through a
terminal's or garage's access road), always turning by at most the limit; the walk closes on the
edge it started from, so the join between one trip and the next one of a vehicle is a straight
continuation. Within one direction no road segment is driven twice (either way): repeats are made
dearer and the walk solved again. Turns joined by at most :data:`REVERSAL_WINDOW_M` of road are
judged together (:meth:`TurnRouter.reversals`): a U-turn made of two right-angle turns through a
median gap is a reversal too: the turn into its connector is priced out and the walk solved again
(the connector itself stays open to a loop round the block that crosses the median there). A
reversal left after :data:`REVERSAL_REPAIRS` re-solves refuses the route (:class:`ReversalError`),
wherever it lies, a terminal's turnaround loop included.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from . import geo
from .errors import DesignError

__all__ = ["Cycle", "ReversalError", "TurnRouter", "WalkError", "bearing_deg", "turn_deg"]

log = logging.getLogger(__name__)

#: A turnaround ends heading at least this much away from the heading it arrived with (degrees).
MIN_REVERSAL_DEG = 120.0
#: A turnaround ends on an edge into a node this close to the terminal (the departure side).
TERMINAL_SIDE_M = 150.0
#: A node the caller asks the walk to pass closely is passed within this distance in each
#: direction (metres): both carriageways of a divided road (10-40 m apart), not the node itself.
CLOSE_RADIUS_M = 60.0
#: Edges after a turnaround searched for the road it retraces.
RETRACE_EDGES = 60
#: Factor applied to the cost of a road segment repeated within a direction, per repair.
REPEAT_PENALTY = 5.0
#: Turns with at most this much road between them count as one turn: their net change of
#: heading must stay within the limit too. A U-turn across a median gap or through a junction
#: of a divided road is two turns of about 90 degrees joined by a 10-40 m connector; a loop round
#: a real block has a side of at least one block (metres).
REVERSAL_WINDOW_M = 50.0
#: Factor applied to the cost of the turn into the connector of such a reversal, per repair.
REVERSAL_PENALTY = 1000.0
#: Re-solves allowed to remove reversals (a budget apart from the one for repeated segments).
REVERSAL_REPAIRS = 8


def bearing_deg(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    """Compass bearing (degrees, 0 = north, clockwise) from one point to another (local plane).

    Examples
    --------
    >>> round(bearing_deg(37.5, 126.9, 37.5, 126.91))
    90
    """
    dx = (lon1 - lon0) * math.cos(math.radians((lat0 + lat1) / 2.0))
    dy = lat1 - lat0
    return math.degrees(math.atan2(dx, dy)) % 360.0


def turn_deg(b_in: float, b_out: float) -> float:
    """Change of heading (0..180 degrees) from bearing ``b_in`` to bearing ``b_out``.

    Examples
    --------
    >>> turn_deg(350.0, 10.0), turn_deg(0.0, 180.0), turn_deg(90.0, 0.0)
    (20.0, 180.0, 90.0)
    """
    return abs((b_out - b_in + 180.0) % 360.0 - 180.0)


def _edge_coords(G: nx.MultiDiGraph, u: int, v: int, data: dict) -> list[tuple[float, float]]:
    """(lat, lon) vertices of an edge from ``u`` to ``v`` (oriented, duplicates dropped)."""
    pu = (float(G.nodes[u]["y"]), float(G.nodes[u]["x"]))
    pv = (float(G.nodes[v]["y"]), float(G.nodes[v]["x"]))
    geom = data.get("geometry")
    if geom is None:
        pts = [pu, pv]
    else:
        pts = [(float(la), float(lo)) for lo, la in geom.coords]
        if geo.haversine_m(pts[0][0], pts[0][1], *pu) > geo.haversine_m(
            pts[-1][0], pts[-1][1], *pu
        ):
            pts.reverse()
    out = [pts[0]]
    for p in pts[1:]:
        if geo.haversine_m(*out[-1], *p) > 0.05:
            out.append(p)
    if len(out) < 2:
        out = [pu, pv]
    return out


@dataclass(frozen=True, slots=True)
class Cycle:
    """A route routed as one closed walk, split into its two directions."""

    out_nodes: tuple[int, ...]  # direction 0: T0 ... Tn, ending after the far turnaround
    back_nodes: tuple[int, ...]  # direction 1: Tn ... T0, ending after the near turnaround
    loop_m: tuple[float, float]  # length of the far (end of dir 0) and near (end of dir 1) loops
    cost: float  # total weight of the closed walk


class WalkError(DesignError):
    """:meth:`TurnRouter.cycle` found no closed walk for a route within the turn bound.

    ``at`` names where, by the route's own nodes: ``(a, b)`` on the leg from node ``a`` to node
    ``b`` (either direction), ``(t,)`` on the turnaround loop at terminal ``t``.
    """

    def __init__(self, msg: str, at: tuple[int, ...]) -> None:
        super().__init__(msg)
        self.at = at


class ReversalError(WalkError):
    """:meth:`TurnRouter.cycle` refused a route: it turns back through a short connector."""


class TurnRouter:
    """Shortest road walks with a bound on every turn (line-graph Dijkstra).

    Parameters
    ----------
    G
        Road graph the bus may drive on (edges carry ``weight`` and ``length``; node ``x``/``y``).
    max_turn_deg
        Largest change of heading allowed from one edge to the next (degrees, 0-180).
    weight
        Edge attribute minimised (``travel_time`` in seconds for bus routes).

    Raises
    ------
    DesignError
        If the graph has no edge or an edge lacks the weight.
    """

    def __init__(
        self, G: nx.MultiDiGraph, *, max_turn_deg: float = 150.0, weight: str = "travel_time"
    ) -> None:
        best: dict[tuple[int, int], tuple[float, int]] = {}
        for u, v, k, w in G.edges(keys=True, data=weight):
            if u == v:
                continue
            if w is None:
                msg = (
                    f"Edge ({u}, {v}, {k}) has no {weight!r}; build the graph with shuttle.network."
                )
                raise DesignError(msg)
            cur = best.get((u, v))
            if cur is None or float(w) < cur[0] or (float(w) == cur[0] and k < cur[1]):
                best[(u, v)] = (float(w), k)
        if not best:
            msg = "The road graph has no edge to route on."
            raise DesignError(msg)
        pairs = sorted(best)
        self.G = G
        self.max_turn_deg = float(max_turn_deg)
        self.pairs = pairs
        self.keys = np.array([best[p][1] for p in pairs], dtype=np.int64)
        self.tail = np.array([u for u, _ in pairs], dtype=np.int64)
        self.head = np.array([v for _, v in pairs], dtype=np.int64)
        self.eid = {uv: i for i, uv in enumerate(pairs)}
        self.cost = np.maximum(np.array([best[p][0] for p in pairs], dtype=float), 1e-6)
        ne = len(pairs)
        b_first = np.zeros(ne)
        b_last = np.zeros(ne)
        length = np.zeros(ne)
        #: per edge, the bearing and length (m) of each straight piece of its geometry
        self.pieces: list[tuple[tuple[float, float], ...]] = []
        for i, (u, v) in enumerate(pairs):
            d = G.edges[u, v, int(self.keys[i])]
            pts = _edge_coords(G, u, v, d)
            b_first[i] = bearing_deg(*pts[0], *pts[1])
            b_last[i] = bearing_deg(*pts[-2], *pts[-1])
            length[i] = float(d.get("length", 0.0))
            self.pieces.append(
                tuple(
                    (bearing_deg(*a, *b), geo.haversine_m(*a, *b))
                    for a, b in zip(pts[:-1], pts[1:], strict=True)
                )
            )
        self.length = length
        self.b_first, self.b_last = b_first, b_last
        self._out: dict[int, list[int]] = {}
        self._in: dict[int, list[int]] = {}
        for i, (u, v) in enumerate(pairs):
            self._out.setdefault(u, []).append(i)
            self._in.setdefault(v, []).append(i)
        rows: list[int] = []
        cols: list[int] = []
        for i in range(ne):
            for j in self._out.get(int(self.head[i]), ()):
                if self.head[j] == self.tail[i]:
                    continue
                if turn_deg(b_last[i], b_first[j]) <= self.max_turn_deg + 1e-9:
                    rows.append(i)
                    cols.append(j)
        r = np.array(rows, dtype=np.int64)
        c = np.array(cols, dtype=np.int64)
        succ = csr_matrix((np.ones(len(r)), (r, c)), shape=(ne, ne))
        # keep the largest strongly connected part of the line graph: from any kept edge the
        # bus can reach any other without a forbidden turn (no trap at a dead end)
        _, lab = connected_components(succ, directed=True, connection="strong")
        big = int(np.bincount(lab).argmax())
        self.usable = lab == big
        ok = self.usable[r] & self.usable[c]
        self._succ = csr_matrix((np.ones(int(ok.sum())), (r[ok], c[ok])), shape=(ne, ne))
        self._succ.sort_indices()
        self._out = {n: [e for e in es if self.usable[e]] for n, es in self._out.items()}
        self._in = {n: [e for e in es if self.usable[e]] for n, es in self._in.items()}
        self._turnaround: dict[int, float] = {}
        self._stuck_layer = 0  # the layer the last failed walk search stopped at
        nodes = sorted(G.nodes)
        self._nodes = np.array(nodes, dtype=np.int64)
        lon = np.array([G.nodes[n]["x"] for n in nodes], dtype=float)
        lat = np.array([G.nodes[n]["y"] for n in nodes], dtype=float)
        x, y = geo.to_metric_xy(lon, lat)
        self._xy = np.column_stack([x, y])
        self._tree = cKDTree(self._xy)
        self._pos = {int(n): i for i, n in enumerate(nodes)}
        self._line_base = self._line(self.cost)

    # -------------------------------------------------------------------------------- look-ups

    def out_edges(self, node: int) -> list[int]:
        """Edge indices leaving ``node``."""
        return list(self._out.get(int(node), ()))

    def in_edges(self, node: int) -> list[int]:
        """Edge indices entering ``node``."""
        return list(self._in.get(int(node), ()))

    def successors(self, e: int) -> np.ndarray:
        """Edge indices a bus may turn into from edge ``e``."""
        s = self._succ
        return s.indices[s.indptr[e] : s.indptr[e + 1]]

    def turn_heading(self, e1: int, e2: int) -> float:
        """Change of heading (degrees) from the end of edge ``e1`` to the end of edge ``e2``."""
        return turn_deg(float(self.b_last[e1]), float(self.b_last[e2]))

    def turn(self, e1: int, e2: int) -> float:
        """Change of heading (degrees) from edge ``e1`` into edge ``e2``."""
        return turn_deg(float(self.b_last[e1]), float(self.b_first[e2]))

    def turnaround_s(self, node: int, limit_s: float = 900.0) -> float:
        """Cost of the dearest turnaround at ``node`` over the sides a bus may arrive from.

        From each edge into ``node`` the cheapest loop ending on an edge into a node within
        :data:`TERMINAL_SIDE_M` of it, heading at least :data:`MIN_REVERSAL_DEG` away; ``inf``
        when from some side there is none within ``limit_s`` (or no edge enters the node).
        """
        node = int(node)
        if node in self._turnaround:
            return self._turnaround[node]
        side = sorted({e for v in self.near(node, TERMINAL_SIDE_M) for e in self.in_edges(v)})
        arrivals = self.in_edges(node)
        worst = np.inf if not arrivals else 0.0
        line = self._line_base
        for e in arrivals:
            got, _ = self._step(line, self.cost, {e: 0.0}, side, move=True, limit_s=limit_s)
            worst = max(worst, min(got.values(), default=np.inf))
            if not np.isfinite(worst):
                break
        self._turnaround[node] = float(worst)
        return float(worst)

    def near(self, node: int, radius_m: float) -> list[int]:
        """Graph nodes within ``radius_m`` (straight line) of ``node``, itself first."""
        i = self._pos[int(node)]
        hits = self._tree.query_ball_point(self._xy[i], radius_m)
        out = sorted(int(self._nodes[j]) for j in hits if int(self._nodes[j]) != node)
        return [int(node), *out]

    def nodes_of(self, edges: Sequence[int]) -> list[int]:
        """Graph node path of a sequence of consecutive edge indices."""
        return [int(self.tail[edges[0]])] + [int(self.head[e]) for e in edges]

    # -------------------------------------------------------------------------------- search

    def _line(self, cost: np.ndarray, arc: np.ndarray | None = None) -> csr_matrix:
        """The line graph weighted by the cost of the edge turned into (times ``arc``, a factor
        per turn in the order of the successor matrix's entries)."""
        s = self._succ
        data = cost[s.indices] if arc is None else cost[s.indices] * arc
        return csr_matrix((data, s.indices, s.indptr), shape=s.shape)

    def _turn_index(self, e1: int, e2: int) -> int:
        """Position of the turn ``e1 -> e2`` among the successor matrix's entries."""
        s = self._succ
        lo, hi = int(s.indptr[e1]), int(s.indptr[e1 + 1])
        k = lo + int(np.searchsorted(s.indices[lo:hi], e2))
        if k >= hi or int(s.indices[k]) != e2:
            msg = f"No turn from edge {e1} into edge {e2}."
            raise DesignError(msg)
        return k

    def _step(
        self,
        line: csr_matrix,
        cost: np.ndarray,
        states: dict[int, float],
        targets: Sequence[int],
        *,
        move: bool,
        limit_s: float,
    ) -> tuple[dict[int, float], dict[int, tuple[int, list[int]]]]:
        """One DP layer: cheapest walks from the states to each target edge.

        With ``move`` the walk drives at least one edge and ends on another edge than it left
        from (a loop back to the same node, arriving from another side).
        """
        if move:  # one search per state: a loop must come back on another edge
            new: dict[int, float] = {}
            back: dict[int, tuple[int, list[int]]] = {}
            for e in sorted(states):
                others = [
                    f for f in targets if f != e and self.turn_heading(e, f) >= MIN_REVERSAL_DEG
                ]
                got, gb = self._search(line, cost, {e: states[e]}, others, True, limit_s)
                for f, c in got.items():
                    if f not in new or c < new[f]:
                        new[f], back[f] = c, gb[f]
            return new, back
        return self._search(line, cost, states, targets, False, limit_s)

    def _search(
        self,
        line: csr_matrix,
        cost: np.ndarray,
        states: dict[int, float],
        targets: Sequence[int],
        move: bool,
        limit_s: float,
    ) -> tuple[dict[int, float], dict[int, tuple[int, list[int]]]]:
        ne = line.shape[0]
        src: dict[int, tuple[float, int]] = {}  # first edge -> (cost to be on it, origin state)
        if move:
            for e, c in states.items():
                lo, hi = line.indptr[e], line.indptr[e + 1]
                for j, w in zip(line.indices[lo:hi], line.data[lo:hi], strict=True):
                    cj = c + float(w)
                    if int(j) not in src or cj < src[int(j)][0]:
                        src[int(j)] = (cj, e)
        else:
            src = {e: (c, e) for e, c in states.items()}
        if not src:
            return {}, {}
        first = sorted(src)
        c0 = np.array([src[e][0] for e in first])
        aug = csr_matrix(
            (
                np.r_[line.data, np.maximum(c0, 1e-9)],
                np.r_[line.indices, np.asarray(first, dtype=line.indices.dtype)],
                np.r_[line.indptr, line.indptr[-1] + len(first)],
            ),
            shape=(ne + 1, ne + 1),
        )
        dist, pred = dijkstra(
            aug,
            directed=True,
            indices=ne,
            return_predecessors=True,
            limit=float(c0.min()) + limit_s,
        )
        new: dict[int, float] = {}
        back: dict[int, tuple[int, list[int]]] = {}
        for f in targets:
            if not np.isfinite(dist[f]):
                continue
            seg = []
            cur = int(f)
            while True:
                p = int(pred[cur])
                if p == ne or p < 0:
                    break
                seg.append(cur)
                cur = p
            seg.append(cur)  # the first edge, reached from the virtual source
            seg.reverse()
            origin = src[cur][1]
            if not move:
                seg = seg[1:]  # the origin state itself is not driven again
            new[int(f)] = float(dist[f])
            back[int(f)] = (origin, seg)
        return new, back

    def _dp(
        self,
        start: dict[int, float],
        layers: Sequence[tuple[Sequence[int], bool]],
        cost: np.ndarray,
        limit_s: float,
        arc: np.ndarray | None = None,
    ) -> tuple[float, list[int], list[int]] | None:
        """Cheapest walk from the start states through the layers (``(target edges, move)``).

        Returns the cost, the edges after the start edge and the index in those edges where each
        layer ends, or None if some layer is unreachable.
        """
        line = self._line(cost, arc)
        states = dict(start)
        backs: list[dict[int, tuple[int, list[int]]]] = []
        for i, (targets, move) in enumerate(layers):
            states, back = self._step(line, cost, states, targets, move=move, limit_s=limit_s)
            if not states:
                self._stuck_layer = max(self._stuck_layer, i)  # the deepest one
                return None
            backs.append(back)
        f = min(states, key=lambda e: (states[e], e))
        total = states[f]
        segs: list[list[int]] = []
        for back in reversed(backs):
            origin, seg = back[f]
            segs.insert(0, seg)
            f = origin
        edges: list[int] = []
        ends: list[int] = []
        for seg in segs:
            edges.extend(seg)
            ends.append(len(edges))
        return total, [f, *edges], ends

    def path(
        self,
        nodes: Sequence[int],
        *,
        via_radius_m: float = 0.0,
        limit_s: float = np.inf,
    ) -> list[int]:
        """Cheapest turn-bounded walk from ``nodes[0]`` to ``nodes[-1]`` through the others.

        Intermediate nodes count as visited when the walk passes a node within ``via_radius_m``.

        Raises
        ------
        DesignError
            If no walk exists within the turn limit.
        """
        if len(nodes) < 2:
            msg = "A walk needs at least two nodes."
            raise DesignError(msg)
        start = {e: float(self.cost[e]) for e in self.out_edges(nodes[0])}
        layers = [
            (sorted({e for v in self.near(n, via_radius_m) for e in self.in_edges(v)}), False)
            for n in nodes[1:-1]
        ]
        layers.append((self.in_edges(nodes[-1]), False))
        res = self._dp(start, layers, self.cost, limit_s)
        if res is None:
            msg = (
                f"No road walk from node {nodes[0]} to node {nodes[-1]} turning at most "
                f"{self.max_turn_deg:g} degrees."
            )
            raise DesignError(msg)
        return self.nodes_of(res[1])

    def cycle(
        self,
        nodes: Sequence[int],
        *,
        via_radius_m: float = 0.0,
        limit_s: float = np.inf,
        max_repairs: int = 4,
        max_reversal_repairs: int = REVERSAL_REPAIRS,
        close: Sequence[int] = (),
    ) -> Cycle:
        """Route a two-way route through ``nodes`` as one closed walk with two turnarounds.

        Parameters
        ----------
        nodes
            Graph nodes of the route in direction 0 (at least two, consecutive ones distinct);
            the first and last are the terminals, visited exactly; the others within
            ``via_radius_m`` in each direction.
        via_radius_m
            Radius around the intermediate nodes within which the walk may pass them.
        limit_s
            Bound on the cost of each leg (keeps the searches local).
        max_repairs
            Re-solves allowed to remove a road segment driven twice within a direction.
        max_reversal_repairs
            Re-solves allowed to remove a reversal through a short connector
            (:meth:`reversals`); a budget of its own, so pricing out repeats never uses it up.
        close
            Intermediate nodes the walk must pass within :data:`CLOSE_RADIUS_M` of (instead of
            ``via_radius_m``), in each direction: on a divided road the other direction passes
            on the other carriageway, so the node itself is not required.

        Returns
        -------
        Cycle
            The node paths of both directions and the lengths of the two turnaround loops.

        Raises
        ------
        WalkError
            If no closed walk turning at most ``max_turn_deg`` exists
            (:class:`ReversalError` if the only ones turn back through a short connector).
        """
        if len(nodes) < 2:
            msg = "A route needs at least two key nodes."
            raise DesignError(msg)
        t0, tn = int(nodes[0]), int(nodes[-1])

        def via(n: int, radius_m: float) -> list[int]:
            return sorted({e for v in self.near(n, radius_m) for e in self.in_edges(v)})

        keep = {int(n) for n in close}
        mids = [
            via(int(n), CLOSE_RADIUS_M) if int(n) in keep else via(int(n), via_radius_m)
            for n in nodes[1:-1]
        ]
        side0 = sorted({e for v in self.near(t0, TERMINAL_SIDE_M) for e in self.in_edges(v)})
        siden = sorted({e for v in self.near(tn, TERMINAL_SIDE_M) for e in self.in_edges(v)})
        layers: list[tuple[Sequence[int], bool]] = [(m, False) for m in mids]
        layers.append((self.in_edges(tn), False))  # arrive at the far terminal
        layers.append((siden, True))  # the far loop, back to its departure side
        layers += [(m, False) for m in reversed(mids)]
        layers.append((self.in_edges(t0), False))  # arrive at the near terminal
        far_arrive = len(mids)
        far_end = len(mids) + 1
        near_arrive = len(layers) - 1
        cost = self.cost.copy()
        arc = np.ones(self._succ.nnz)
        # a reversal is priced at most twice over: with no other way round its price stays
        # finite, so the costs of the rest of the walk still tell its choices apart
        top = REVERSAL_PENALTY**2
        split: tuple[list[int], list[int], float, float] | None = None
        n_rep = n_rev = 0
        rev_all: set[int] = set()
        self._stuck_layer = 0
        for attempt in range(max_repairs + max_reversal_repairs + 1):
            best: tuple[float, list[int], list[int]] | None = None
            # a repaired walk costs more: the leg bound only speeds up the first search
            for lim in (limit_s, np.inf) if attempt == 0 and np.isfinite(limit_s) else (np.inf,):
                # the walk closes on its start edge: guess it with a free start, then solve exactly
                free = self._dp({e: 0.0 for e in side0}, [*layers, (side0, True)], cost, lim, arc)
                tried = [free[1][-1]] if free is not None else []
                tried += [e for e in side0 if e not in tried]
                for e0 in tried:
                    best = self._dp({e0: 0.0}, [*layers, ([e0], True)], cost, lim, arc)
                    if best is not None:
                        break
                if best is not None:
                    break
            if best is None:
                msg = (
                    f"No closed road walk through nodes {nodes[0]} ... {nodes[-1]} turning at "
                    f"most {self.max_turn_deg:g} degrees (no turnaround at a terminal)."
                )
                raise WalkError(msg, self._where_layer(nodes, self._stuck_layer))
            edges = best[1][1:]
            ends = best[2]
            split = self._split(edges, ends[far_arrive], ends[far_end], ends[near_arrive])
            rep_all = self.repeats(split[0]) | self.repeats(split[1])
            rev_all = self.reversals(edges)
            rep = rep_all if n_rep < max_repairs else set()
            # a turn priced twice over already has no other way round: not priced again
            rev = {
                (e1, e2)
                for e1, e2 in (self.reversal_turns(edges) if rev_all else ())
                if n_rev < max_reversal_repairs
                and (
                    cost[e1] < self.cost[e1] * top
                    if e1 == e2
                    else arc[self._turn_index(e1, e2)] < top
                )
            }
            if not rep and not rev:
                break
            n_rep += bool(rep)
            n_rev += bool(rev)
            for e in rep:
                cost[e] *= REPEAT_PENALTY
            for e1, e2 in sorted(rev):
                if e1 == e2:  # a reversal inside one edge's geometry
                    cost[e1] = min(cost[e1] * REVERSAL_PENALTY, self.cost[e1] * top)
                else:  # the turn into the connector, not the connector itself
                    k = self._turn_index(e1, e2)
                    arc[k] = min(arc[k] * REVERSAL_PENALTY, top)
        assert split is not None
        if rev_all:
            bad = sorted(rev_all)
            u, v = self.pairs[bad[0]]
            msg = (
                f"The route through nodes {nodes[0]} ... {nodes[-1]} turns back through the "
                f"short connector {u} -> {v} (two turns of more than {self.max_turn_deg:g} "
                f"degrees together within {REVERSAL_WINDOW_M:g} m of road) and no walk "
                "round a block avoids it."
            )
            raise ReversalError(msg, self._where_reversal(nodes, ends, edges, bad[0]))
        out_e, back_e, far_loop, near_loop = split
        if not out_e or not back_e:
            msg = f"The closed road walk through nodes {nodes[0]} ... {nodes[-1]} is empty."
            raise DesignError(msg)
        return Cycle(
            out_nodes=tuple(self.nodes_of(out_e)),
            back_nodes=tuple(self.nodes_of(back_e)),
            loop_m=(far_loop, near_loop),
            cost=float(self.cost[out_e].sum() + self.cost[back_e].sum()),
        )

    def _where_reversal(
        self, nodes: Sequence[int], ends: Sequence[int], edges: Sequence[int], e: int
    ) -> tuple[int, ...]:
        """Where :meth:`cycle`'s reversal on edge ``e`` is: at a terminal when ``e`` touches a
        node within :data:`TERMINAL_SIDE_M` of it (a turnaround the walk may reach from a leg),
        else the leg or loop holding it (:meth:`_where`)."""
        u, v = self.pairs[e]
        for t in (int(nodes[-1]), int(nodes[0])):
            if {int(u), int(v)} & set(self.near(t, TERMINAL_SIDE_M)):
                return (t,)
        return self._where(nodes, ends, edges.index(e))

    @staticmethod
    def _where(nodes: Sequence[int], ends: Sequence[int], pos: int) -> tuple[int, ...]:
        """The leg ``(a, b)`` or turnaround ``(t,)`` of :meth:`cycle`'s walk holding edge ``pos``.

        ``ends[i]`` ends the segment of layer ``i``: the legs out to each node after the first,
        the far loop, the legs back to each node before the last, the near loop.
        """
        layer = next((i for i, e in enumerate(ends) if pos < e), len(ends) - 1)
        return TurnRouter._where_layer(nodes, layer)

    @staticmethod
    def _where_layer(nodes: Sequence[int], layer: int) -> tuple[int, ...]:
        """The leg ``(a, b)`` or turnaround ``(t,)`` of layer ``layer`` of :meth:`cycle`'s walk."""
        seq = [int(v) for v in nodes]
        m = len(seq) - 2
        if layer <= m:
            return (seq[layer], seq[layer + 1])
        if layer == m + 1:
            return (seq[-1],)
        back = seq[::-1]
        j = layer - (m + 1)
        return (back[j - 1], back[j]) if j <= m + 1 else (seq[0],)

    def _loop_close(self, loop: Sequence[int]) -> int:
        """Where a turnaround loop splits: the number of its edges that belong to the way out.

        A loop that leaves the terminal along a road (the stick), turns round a block (the ring)
        and comes back along the same road splits halfway round the ring: the stick and the
        first half of the ring belong to the way out, the rest to the next direction, so neither
        drives a segment twice and the terminal stop (within a stop radius of the split) stands
        on the ring. A loop that never drives a segment twice splits at its end.
        """
        first: dict[frozenset[int], int] = {}
        for k, e in enumerate(loop):
            seg = frozenset((int(self.tail[e]), int(self.head[e])))
            if seg in first:
                a, b = first[seg] + 1, k  # the ring: loop[a:b]
                cum = np.cumsum(self.length[list(loop[a:b])])
                if len(cum) == 0:
                    return a
                return a + int(np.searchsorted(cum, cum[-1] / 2.0))
            first[seg] = k
        return len(loop)

    def _split(
        self, edges: list[int], far_arrive: int, far_end: int, near_arrive: int
    ) -> tuple[list[int], list[int], float, float]:
        """Split a closed walk (starting after the start edge) into its two directions.

        Each turnaround is looked at together with the edges around it (the way back may
        retrace the road it came by after the loop proper).
        """
        n = len(edges)
        ahead = min(n // 3, RETRACE_EDGES)

        def cut(start: int, stop: int) -> int:
            span = (stop - start) % n or n
            back = min(ahead, n - span)
            seq = [edges[(start - back + t) % n] for t in range(min(n, back + span + ahead))]
            o = self._loop_close(seq)
            if o == len(seq):  # no road retraced: split where the loop ends
                return (start + span) % n
            return (start - back + o) % n

        k = cut(far_arrive, far_end)
        j = cut(near_arrive, n)
        rot = edges[j:] + edges[:j]
        kk = (k - j) % n
        out_e, back_e = rot[:kk], rot[kk:]
        if not out_e or not back_e:  # the two splits met: split where the loops end
            out_e, back_e = edges[:far_end], edges[far_end:]
        far_loop = float(self.length[edges[far_arrive:far_end]].sum())
        near_loop = float(self.length[edges[near_arrive:]].sum())
        return out_e, back_e, far_loop, near_loop

    def reversals(self, edges: Sequence[int], *, closed: bool = True) -> set[int]:
        """Edges holding the middle of a reversal made of several turns close together.

        Along ``edges`` (a closed walk when ``closed``), piece by piece of the edges' geometry,
        the signed changes of heading are summed over every stretch whose inner pieces add up to
        at most :data:`REVERSAL_WINDOW_M`; where the sum exceeds ``max_turn_deg`` the edges of
        the inner pieces are returned (a single turn above the limit is no arc of the line graph
        at all). Bends inside an edge's geometry count like turns between edges.
        """
        return {e for inner, _ in self._reversal_spans(edges, closed=closed) for e in inner}

    def reversal_turns(self, edges: Sequence[int], *, closed: bool = True) -> set[tuple[int, int]]:
        """Where each reversal of :meth:`reversals` begins: the turn ``(e1, e2)`` from the road
        driven into its connector (``e1 == e2`` for a reversal inside one edge's geometry).

        Pricing that turn, not the connector, leaves the connector to walks that cross it
        without reversing (a loop round the block crossing the median at the same gap).
        """
        out: set[tuple[int, int]] = set()
        for _, span in self._reversal_spans(edges, closed=closed):
            out.add((span[0], span[1]) if len(span) > 1 else (span[0], span[0]))
        return out

    def _reversal_spans(
        self, edges: Sequence[int], *, closed: bool
    ) -> list[tuple[list[int], list[int]]]:
        """Per reversal along ``edges``: its inner edges and all its edges (no repeats in a row)."""

        def signed(b_in: float, b_out: float) -> float:
            return (b_out - b_in + 180.0) % 360.0 - 180.0

        seq = [int(e) for e in edges]
        if len(seq) < 2:
            return []
        walk = seq + seq if closed else seq
        pieces = [(b, m, e) for e in walk for b, m in self.pieces[e]]
        n = sum(len(self.pieces[e]) for e in seq) if closed else len(pieces) - 2
        out: list[tuple[list[int], list[int]]] = []
        for i in range(max(n, 0)):
            net = signed(pieces[i][0], pieces[i + 1][0])
            inner: list[int] = []
            road = 0.0
            for j in range(i + 1, len(pieces) - 1):
                b, m, e = pieces[j]
                road += m
                if road > REVERSAL_WINDOW_M:
                    break
                net += signed(b, pieces[j + 1][0])
                inner.append(e)
                if abs(net) > self.max_turn_deg:
                    span = [pieces[i][2]]
                    for _, _, f in pieces[i + 1 : j + 2]:
                        if f != span[-1]:
                            span.append(f)
                    out.append((inner, span))
                    break
        return out

    def repeats(self, edges: Sequence[int]) -> set[int]:
        """Edges (both ways) of road segments driven more than once in ``edges``."""
        seen: dict[frozenset[int], list[int]] = {}
        for e in edges:
            seen.setdefault(frozenset((int(self.tail[e]), int(self.head[e]))), []).append(int(e))
        out: set[int] = set()
        for seg, es in seen.items():
            if len(es) > 1:
                u, v = sorted(seg)
                for uv in ((u, v), (v, u)):
                    if uv in self.eid:
                        out.add(self.eid[uv])
        return out
