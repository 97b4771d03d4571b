"""Route designer: K shuttle routes on the road graph from stops, anchors and demand.

:func:`design_network` turns the road graph, the scenario's anchor places and the zone demand into
a :class:`~shuttle.model.Design` in five stages:

1. **Key nodes.** The anchors (which must be served) and the demand zones (administrative dongs,
   from :func:`shuttle.demand.build_demand`) are snapped to *turnable* intersections of the road
   graph (see "Terminals" below), preferring intersections on a bus road (trunk, primary,
   secondary, tertiary). A zone whose snapped point lies within a merge radius of an earlier key
   node joins that node (anchors first, then zones by population), so the abstract network stays
   small enough for K routes to cover it: the radii of :data:`MERGE_RADII_M` are tried in turn
   until the solver finds a feasible route set.
2. **Abstract problem.** Key nodes ``i, j`` are linked when both road travel times are finite and
   no third key node lies "in between" (``s(i,k) + s(k,j) <= 1.1 s(i,j)`` on the symmetric mean
   ``s`` prunes ``i-j``); the shortest pruned links are put back until the link graph is
   connected. A link's time (minutes) is the road shortest travel time plus the expected dwell
   (``dwell_s`` per ``(min_spacing_m + max_spacing_m) / 2`` metres of road). Demand between key
   nodes is the zone OD summed over the zones of each key node (anchor-only key nodes carry no
   demand of their own: the gravity model already adds the anchors' attraction to their zones).
   The route constraints come from the scenario: ``max_route_min = (max_cycle_min - 2 layover) /
   2`` (dwell is in the link times), ``max_route_km`` through the average pace of the links,
   ``min_nodes`` from ``min_stops``. The problem goes to :func:`shuttle.utrp.design`.
3. **Road paths.** Each key-node route is expanded, separately in each direction (one-way streets
   make the two differ), into a road node path by an exact dynamic programme over edge-based
   shortest paths (a Dijkstra on the line graph whose turn arcs exclude the immediate reversal
   ``u -> v -> u``), so that no pattern contains a U-turn, also not at the key nodes where the
   segments join. If an expanded route breaks ``max_route_km`` or ``max_cycle_min`` the abstract
   time cap is tightened by :data:`TIGHTEN` and the design is repeated (at most
   :data:`MAX_ATTEMPTS` times).
4. **Stops and patterns.** :func:`shuttle.stops.place_stops` places the stops along each direction
   (real Seoul bus stops where possible, each anchor of the route flagged). Run times come from the
   graph's ``travel_time`` between stop positions, the shape from the edge geometries.
5. **Figures.** :class:`~shuttle.model.DesignKPIs` (see :func:`design_kpis`); the passenger
   figures come from :func:`shuttle.evaluate.evaluate_network` on the built routes and stops.

Terminals
---------
Every key node, hence every route end, is a node with at least three distinct successors (a real
intersection where a bus can turn into a side street and come back, rather than reversing on the
carriageway), inside the largest strongly connected component of the graph. The turn-around at a
terminal joins the two patterns of a route and is the only place where the bus may reverse; all
routes run in both directions (``is_loop`` is False).

Objective
---------
The designer minimises the UTRP objective of :mod:`shuttle.utrp`::

    f = (1 - w) ATT / ATT_ref + w TRT / TRT_ref + 5 dun / 100

with ``w = design.operator_weight``, ATT the demand-weighted in-vehicle time plus, per transfer,
``transfer_penalty_min`` plus half the weekday off-peak headway (the wait at the transfer), TRT the
sum of the routes' one-way times (vehicle-hours per weekday are affine in TRT for fixed headways:
``vehicles = ceil(cycle / headway)``), ``dun`` the percent of demand needing more than two
transfers, and ``ATT_ref``, ``TRT_ref`` those of the greedy route set on the same problem (so the
greedy design scores 1.0 plus its ``dun`` term). The objective is reported as ``objective`` (to
compare methods on one key network).

Reported passenger figures
--------------------------
``att_min``, ``d0``, ``d1``, ``d2`` and ``dun`` are *not* the key-level figures above: they are
evaluated by :func:`shuttle.evaluate.evaluate_network` on the routes and stops actually built, for
the full zone OD matrix (also the demand inside merged key nodes; without intra-district pairs
when ``demand.inter_district_only``). Passengers walk from the zone centre to a stop within 800 m,
wait half the off-peak headway per boarding, ride the patterns' run times plus dwell, pay
``transfer_penalty_min`` per transfer, may cross the street to another stop within 250 m to
change, and walk to the destination. So these figures include detours, the real stops and the
walks, and are comparable between scenarios with different key networks.
"""

from __future__ import annotations

import colorsys
import dataclasses
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from . import evaluate, geo, paths, utrp
from .colors import contrast_ratio, text_color_for
from .config import Scenario
from .errors import ConfigError, DesignError
from .log import ProgressFn, step
from .model import Design, DesignKPIs, Pattern, Place, Route, RouteKPI, Stop

__all__ = [
    "ALGORITHMS",
    "BUS_ROAD_CLASSES",
    "MAX_ATTEMPTS",
    "MERGE_RADII_M",
    "OFF_NETWORK_M",
    "PALETTE",
    "KeyNetwork",
    "UTurnFreeRouter",
    "VIA_RADIUS_M",
    "contrast_ratio",
    "design_kpis",
    "design_network",
    "design_to_geojson",
    "design_to_json",
    "key_network",
    "key_travel_times",
    "text_color_for",
    "turnable_nodes",
]

log = logging.getLogger(__name__)

#: Design methods: the name given to ``method=`` -> the :mod:`shuttle.utrp` method it runs.
ALGORITHMS: dict[str, str] = {"greedy": "greedy", "anneal": "anneal"}

#: An anchor farther than this from every graph node is off the network (metres).
OFF_NETWORK_M = 500.0
#: Anchors snap to a bus-road intersection within this distance, else to any intersection.
ANCHOR_SNAP_M = 400.0
#: Zone centroids snap to a bus-road intersection within this distance, else to any.
ZONE_SNAP_M = 700.0
#: A zone whose snapped node is this close to an earlier key node joins it (metres).
MERGE_RADII_M: tuple[float, ...] = (650.0, 900.0, 1200.0, 1500.0, 1900.0, 2400.0)
#: An intermediate key node counts as served when the road path passes this close to it (m).
VIA_RADIUS_M = 200.0
#: Prune link i-j when a key node k lies within this detour factor of it.
DETOUR = 1.1
#: Factor applied to the abstract time cap when an expanded route breaks a bound.
TIGHTEN = 0.92
#: Designs tried with tightening caps before giving up.
MAX_ATTEMPTS = 5
#: Road classes a bus route prefers for its key nodes.
BUS_ROAD_CLASSES = frozenset({"trunk", "primary", "secondary", "tertiary"})
#: Weight of the percent of demand unreachable with <= 2 transfers (as in utrp's annealer).
UNREACH_WEIGHT = 5.0
#: Route colours: distinct, saturated, readable on a light map (hex RRGGBB).
PALETTE: tuple[str, ...] = (
    "E6194B",  # red
    "3CB44B",  # green
    "4363D8",  # blue
    "F58231",  # orange
    "911EB4",  # purple
    "42D4F4",  # cyan
    "F032E6",  # magenta
    "9A6324",  # brown
    "469990",  # teal
    "000075",  # navy
    "808000",  # olive
    "800000",  # maroon
)


# ------------------------------------------------------------------------------------------------
# colours


def _route_color(i: int) -> str:
    if i < len(PALETTE):
        return PALETTE[i]
    h = ((i * 0.618033988749895) % 1.0, 0.45, 0.75)  # golden-angle hues beyond the palette
    r, g, b = colorsys.hsv_to_rgb(h[0], h[2], h[1] + 0.2)
    return f"{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"


# ------------------------------------------------------------------------------------------------
# graph helpers


def _road_class(data: dict[str, Any]) -> str:
    h = data.get("highway", "")
    if isinstance(h, list):
        h = h[0] if h else ""
    return str(h)


def turnable_nodes(G: nx.MultiDiGraph, rm: paths.RoadMatrix) -> np.ndarray:
    """Graph nodes where a route may end or a key node sit, sorted.

    A node qualifies when it has at least three distinct successors (a real intersection, so a
    bus can turn there) and lies in the largest strongly connected component of the graph.
    """
    ncomp, labels = connected_components(rm.matrix, directed=True, connection="strong")
    big = np.bincount(labels).argmax() if ncomp else 0
    out = [
        int(n)
        for i, n in enumerate(rm.nodes)
        if labels[i] == big and sum(1 for s in G.succ[int(n)] if s != n) >= 3
    ]
    return np.array(sorted(out), dtype=np.int64)


def _xy(G: nx.MultiDiGraph, nodes: Sequence[int] | np.ndarray) -> np.ndarray:
    lon = np.array([G.nodes[n]["x"] for n in nodes], dtype=float)
    lat = np.array([G.nodes[n]["y"] for n in nodes], dtype=float)
    x, y = geo.to_metric_xy(lon, lat)
    return np.column_stack([x, y])


@dataclass(frozen=True, eq=False)
class _Snapper:
    """Nearest-node look-ups in metres (EPSG:5179) over all, turnable and bus-road nodes."""

    all_nodes: np.ndarray
    all_tree: cKDTree
    turn_nodes: np.ndarray
    turn_tree: cKDTree
    bus_nodes: np.ndarray
    bus_tree: cKDTree | None

    @classmethod
    def build(cls, G: nx.MultiDiGraph, rm: paths.RoadMatrix) -> _Snapper:
        all_nodes = np.asarray(rm.nodes, dtype=np.int64)
        turn = turnable_nodes(G, rm)
        if len(turn) == 0:
            msg = "The road graph has no intersection with three exits; cannot place terminals."
            raise DesignError(msg)
        bus = np.array(
            [
                int(n)
                for n in turn
                if any(
                    _road_class(d) in BUS_ROAD_CLASSES for _, _, d in G.out_edges(int(n), data=True)
                )
            ],
            dtype=np.int64,
        )
        return cls(
            all_nodes=all_nodes,
            all_tree=cKDTree(_xy(G, all_nodes)),
            turn_nodes=turn,
            turn_tree=cKDTree(_xy(G, turn)),
            bus_nodes=bus,
            bus_tree=cKDTree(_xy(G, bus)) if len(bus) else None,
        )

    def nearest_any(self, xy: np.ndarray) -> tuple[int, float]:
        d, i = self.all_tree.query(xy)
        return int(self.all_nodes[i]), float(d)

    def snap(self, xy: np.ndarray, radius: float) -> int:
        if self.bus_tree is not None:
            d, i = self.bus_tree.query(xy)
            if d <= radius:
                return int(self.bus_nodes[i])
        _, i = self.turn_tree.query(xy)
        return int(self.turn_nodes[i])


# ------------------------------------------------------------------------------------------------
# U-turn-free routing on the line graph


class UTurnFreeRouter:
    """Shortest road walks through a sequence of nodes without immediate reversals.

    The states are the directed edges ``(u, v)`` of the graph (parallel edges reduced to the
    cheapest, as in :func:`shuttle.paths.road_matrix`); a turn ``(u, v) -> (v, w)`` is allowed for
    every ``w != u`` and costs the weight of ``(v, w)``. :meth:`route` solves the walk through a
    node sequence exactly by dynamic programming over the edges entering each node of the sequence.

    Parameters
    ----------
    G
        Road graph.
    rm
        Its road matrix (weight ``travel_time`` for bus routing).
    """

    def __init__(self, G: nx.MultiDiGraph, rm: paths.RoadMatrix) -> None:
        self.G = G
        self.rm = rm
        pairs = sorted(rm.edge_key)
        self.tail = np.array([u for u, _ in pairs], dtype=np.int64)
        self.head = np.array([v for _, v in pairs], dtype=np.int64)
        self.eid = {uv: i for i, uv in enumerate(pairs)}
        m = rm.matrix
        iu = rm.idx(self.tail.tolist())
        iv = rm.idx(self.head.tolist())
        self.cost = np.asarray(m[iu, iv]).ravel()
        ne = len(pairs)
        # out-edges of every node, grouped by tail (pairs are sorted by tail)
        self._out_start: dict[int, tuple[int, int]] = {}
        self._in: dict[int, list[int]] = {}
        for i, (u, v) in enumerate(pairs):
            s = self._out_start.get(u)
            self._out_start[u] = (i, i + 1) if s is None else (s[0], i + 1)
            self._in.setdefault(v, []).append(i)
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        for i in range(ne):
            a, b = self._out_start.get(int(self.head[i]), (0, 0))
            if b > a:
                j = np.arange(a, b)
                j = j[self.head[j] != self.tail[i]]
                rows.append(np.full(len(j), i))
                cols.append(j)
        r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
        self.line = csr_matrix((np.maximum(self.cost[c], 1e-6), (r, c)), shape=(ne, ne))
        self._xy = _xy(G, [int(n) for n in rm.nodes])
        self._tree = cKDTree(self._xy)

    def out_edges(self, node: int) -> list[int]:
        """Edge indices leaving ``node``."""
        a, b = self._out_start.get(node, (0, 0))
        return list(range(a, b))

    def in_edges(self, node: int) -> list[int]:
        """Edge indices entering ``node``."""
        return list(self._in.get(node, []))

    def near(self, node: int, radius_m: float) -> list[int]:
        """Graph nodes within ``radius_m`` (straight line) of ``node``, itself first."""
        i = self.rm.index[node]
        hits = self._tree.query_ball_point(self._xy[i], radius_m)
        out = sorted(int(self.rm.nodes[j]) for j in hits if int(self.rm.nodes[j]) != node)
        return [node, *out]

    def route(
        self,
        nodes: Sequence[int],
        *,
        limit_s: float = np.inf,
        via_radius_m: float = 0.0,
        max_repairs: int = 4,
    ) -> list[int]:
        """Cheapest U-turn-free road walk visiting ``nodes`` in order, without repeated edges.

        The first and last node are visited exactly (they are the terminals). An intermediate
        node counts as visited when the walk passes any node within ``via_radius_m`` of it: a key
        node stands for a neighbourhood, and demanding the exact node can force a loop round a
        block when the route arrives and leaves on the same side of it.

        A walk that uses a directed edge twice (possible where a key node sits on a side street
        and the U-turn ban sends the bus round a block) is repaired by making the repeated edges
        five times dearer and solving again, up to ``max_repairs`` times; if a repeat remains
        (no alternative in the graph) the walk is returned with it and a warning is logged.

        Parameters
        ----------
        nodes
            Graph nodes to visit (at least two; consecutive nodes distinct).
        limit_s
            Optional bound on each segment's cost (speeds up the search).
        via_radius_m
            Radius around the intermediate nodes within which the walk may pass them.
        max_repairs
            Re-solves allowed to remove repeated edges.

        Returns
        -------
        list of int
            Graph node path from ``nodes[0]`` to ``nodes[-1]``.

        Raises
        ------
        DesignError
            If some segment has no U-turn-free path.
        """
        if len(nodes) < 2:
            msg = "A route needs at least two key nodes."
            raise DesignError(msg)
        penalised: set[int] = set()
        line, cost = self.line, self.cost
        targets = [[int(nodes[0])]]
        targets += [self.near(int(v), via_radius_m) for v in nodes[1:-1]]
        targets.append([int(nodes[-1])])
        edges = self._solve(targets, line, cost, limit_s)
        for _ in range(max_repairs):
            seen: set[int] = set()
            rep = {e for e in edges if e in seen or seen.add(e)}  # type: ignore[func-returns-value]
            if not rep:
                break
            penalised |= rep
            pen = np.array(sorted(penalised))
            line = self.line.copy()
            line.data[np.isin(line.indices, pen)] *= 5.0
            cost = self.cost.copy()
            cost[pen] *= 5.0
            edges = self._solve(targets, line, cost, limit_s * 5.0)
        if len(set(edges)) != len(edges):
            log.warning("route through %s repeats a road edge (no alternative)", list(nodes))
        return [int(self.tail[edges[0]])] + [int(self.head[e]) for e in edges]

    def _solve(
        self, nodes: Sequence[Sequence[int]], line: csr_matrix, cost: np.ndarray, limit_s: float
    ) -> list[int]:
        first = [e for v in nodes[0] for e in self.out_edges(v)]
        states: dict[int, float] = {e: float(cost[e]) for e in first}
        layers: list[dict[int, tuple[int, list[int]]]] = []
        for a, b in zip(nodes[:-1], nodes[1:], strict=True):
            src = sorted(states)
            targets = sorted({e for v in b for e in self.in_edges(v)})
            if not src or not targets:
                msg = f"No drivable path from node {a[0]} to node {b[0]}; check the road graph."
                raise DesignError(msg)
            # one Dijkstra from a virtual source joined to every state at the state's cost
            ne = line.shape[0]
            c0 = np.array([states[e] for e in src])
            aug = csr_matrix(
                (
                    np.r_[line.data, np.maximum(c0, 1e-9)],
                    np.r_[line.indices, np.asarray(src, dtype=line.indices.dtype)],
                    np.r_[line.indptr, line.indptr[-1] + len(src)],
                ),
                shape=(ne + 1, ne + 1),
            )
            dist, pred = dijkstra(
                aug,
                directed=True,
                indices=ne,
                return_predecessors=True,
                limit=float(c0.max()) + limit_s,
            )
            new: dict[int, float] = {}
            back: dict[int, tuple[int, list[int]]] = {}
            for f in targets:
                if not np.isfinite(dist[f]):
                    continue
                seg = []
                cur = f
                while True:
                    p = int(pred[cur])
                    if p == ne or p < 0:
                        break
                    seg.append(cur)
                    cur = p
                seg.reverse()
                new[f] = float(dist[f])
                back[f] = (cur, seg)
            if not new:
                msg = f"No drivable path from node {a[0]} to node {b[0]} without a U-turn."
                raise DesignError(msg)
            states = new
            layers.append(back)
        f = min(states, key=lambda e: (states[e], e))
        edges: list[int] = []
        for back in reversed(layers):
            s, seg = back[f]
            edges[:0] = seg
            f = s
        edges.insert(0, f)
        return edges


# ------------------------------------------------------------------------------------------------
# key network


@dataclass(frozen=True, eq=False)
class KeyNetwork:
    """The abstract network of key nodes the UTRP solver works on."""

    nodes: tuple[int, ...]  # graph node of each key node
    labels: tuple[str, ...]  # anchor or zone names joined by "/"
    anchors: tuple[tuple[int, ...], ...]  # place indices served at each key node
    zone_key: tuple[int, ...]  # key node of each demand zone
    time_s: np.ndarray  # (n, n) road shortest travel time, seconds
    link: np.ndarray  # (n, n) bool: linked in the abstract network (symmetric)
    link_m: np.ndarray  # (n, n) road length of each link, metres (inf where unlinked)
    travel_min: np.ndarray  # (n, n) link time incl. expected dwell, minutes (inf unlinked)
    demand: np.ndarray  # (n, n) trips per day between key nodes
    sp_seconds: float = 0.0  # time spent in the shortest-path stage


def key_travel_times(rm: paths.RoadMatrix, nodes: Sequence[int]) -> np.ndarray:
    """Road shortest travel times between graph nodes (``(n, n)``, weight of ``rm``)."""
    dist, _ = paths.shortest(rm, list(nodes))
    return dist[:, rm.idx(list(nodes))]


def key_network(
    G: nx.MultiDiGraph,
    rm: paths.RoadMatrix,
    scenario: Scenario,
    places: Sequence[Place],
    zones: Sequence[Any],
    trips: np.ndarray,
    zone_nodes: Sequence[int],
    *,
    snapper: _Snapper | None = None,
    merge_radius_m: float = MERGE_RADII_M[0],
) -> KeyNetwork:
    """Build the key-node network: anchors and zone centroids, links, times and demand.

    Parameters
    ----------
    G, rm
        Road graph and its travel-time matrix.
    scenario
        The scenario (stop spacing and dwell for the link times).
    places
        Resolved anchors (all must be served).
    zones, trips, zone_nodes
        Demand zones, their ``(z, z)`` trips per day and the graph node of each zone centroid.
    snapper
        Pre-built nearest-node index (built if not given).
    merge_radius_m
        A zone whose snapped node lies this close (straight line) to an earlier key node joins
        it instead of becoming a key node of its own.

    Returns
    -------
    KeyNetwork
        Key nodes, links and demand.

    Raises
    ------
    DesignError
        If an anchor is farther than :data:`OFF_NETWORK_M` from the graph.
    """
    snap = snapper or _Snapper.build(G, rm)
    key_nodes: list[int] = []
    key_xy: list[np.ndarray] = []
    labels: list[list[str]] = []
    anchors: list[list[int]] = []
    for i, p in enumerate(places):
        x, y = geo.to_metric_xy(p.lon, p.lat)
        xy = np.array([float(x), float(y)])
        _, d = snap.nearest_any(xy)
        if d > OFF_NETWORK_M:
            msg = (
                f"Anchor {p.name_ko!r} ({p.name_en}) lies {d:.0f} m from the nearest road node "
                f"(limit {OFF_NETWORK_M:.0f} m); check its position or the network area."
            )
            raise DesignError(msg)
        node = snap.snap(xy, ANCHOR_SNAP_M)
        if node in key_nodes:
            k = key_nodes.index(node)
        else:
            k = len(key_nodes)
            key_nodes.append(node)
            key_xy.append(_xy(G, [node])[0])
            labels.append([])
            anchors.append([])
        labels[k].append(p.name_ko)
        anchors[k].append(i)
    pts = evaluate.zone_points(zones)
    zone_key = [-1] * len(zones)
    order = sorted(range(len(zones)), key=lambda z: (-int(zones[z].population), str(zones[z].code)))
    for z in order:
        base = zone_nodes[z]
        xy = _xy(G, [base])[0] if base in G else np.array(geo.to_metric_xy(*pts[z]), float)
        node = snap.snap(xy, ZONE_SNAP_M)
        nxy = _xy(G, [node])[0]
        if key_xy:
            dd = np.hypot(*(np.array(key_xy) - nxy).T)
            k = int(np.argmin(dd))
            if dd[k] <= merge_radius_m:
                zone_key[z] = k
                labels[k].append(zones[z].name_ko)
                continue
        zone_key[z] = len(key_nodes)
        key_nodes.append(node)
        key_xy.append(nxy)
        labels.append([zones[z].name_ko])
        anchors.append([])
    n = len(key_nodes)
    t0 = time.perf_counter()
    T = key_travel_times(rm, key_nodes)
    sp_s = time.perf_counter() - t0
    # links: prune i-j when some k lies in between
    S = (T + T.T) / 2.0
    via = (S[:, :, None] + S[None, :, :]).transpose(0, 2, 1)  # via[i, j, k] = S[i,k] + S[k,j]
    idx = np.arange(n)
    via[idx, :, idx] = np.inf
    via[:, idx, idx] = np.inf
    between = (via <= DETOUR * S[:, :, None]).any(axis=2)
    link = np.isfinite(S) & ~between
    np.fill_diagonal(link, False)
    link = link & link.T
    # reconnect with the shortest pruned links (Kruskal)
    ncomp, lab = connected_components(csr_matrix(link.astype(float)), directed=False)
    if ncomp > 1:
        cand = sorted(
            (float(S[i, j]), i, j)
            for i in range(n)
            for j in range(i + 1, n)
            if np.isfinite(S[i, j]) and not link[i, j]
        )
        for _, i, j in cand:
            if lab[i] != lab[j]:
                link[i, j] = link[j, i] = True
                lab[lab == lab[j]] = lab[i]
                ncomp -= 1
                if ncomp == 1:
                    break
    if ncomp > 1:
        msg = "The key nodes (anchors and zone centres) are not all reachable by road."
        raise DesignError(msg)
    # link lengths along the time-shortest road paths
    rm_nodes = list(key_nodes)
    _, pred = paths.shortest(rm, rm_nodes, predecessors=True)
    assert pred is not None
    link_m = np.full((n, n), np.inf)
    for i in range(n):
        for j in range(n):
            if link[i, j]:
                pth = paths.path_nodes(rm, pred[i], key_nodes[i], key_nodes[j])
                link_m[i, j] = sum(
                    _edge(G, rm, u, v)["length"] for u, v in zip(pth[:-1], pth[1:], strict=True)
                )
    st = scenario.stops
    mean_spacing = (st.min_spacing_m + st.max_spacing_m) / 2.0
    dwell_min = scenario.service.dwell_s / 60.0
    travel = np.where(link, T / 60.0 + dwell_min * link_m / mean_spacing, np.inf)
    np.fill_diagonal(travel, 0.0)
    D = np.zeros((n, n))
    zk = np.array(zone_key)
    np.add.at(D, (zk[:, None].repeat(len(zk), 1), zk[None, :].repeat(len(zk), 0)), trips)
    np.fill_diagonal(D, 0.0)
    return KeyNetwork(
        nodes=tuple(key_nodes),
        labels=tuple("/".join(lab_) for lab_ in labels),
        anchors=tuple(tuple(a) for a in anchors),
        zone_key=tuple(zone_key),
        time_s=T,
        link=link,
        link_m=link_m,
        travel_min=travel,
        demand=D,
        sp_seconds=sp_s,
    )


def _edge(G: nx.MultiDiGraph, rm: paths.RoadMatrix, u: int, v: int) -> dict[str, Any]:
    return G.edges[u, v, rm.edge_key[(u, v)]]


# ------------------------------------------------------------------------------------------------
# patterns


@dataclass(frozen=True, slots=True)
class _Walk:
    """A road node path with cumulative distance and time per node and its shape."""

    nodes: tuple[int, ...]
    cum_m: np.ndarray  # per node
    cum_s: np.ndarray  # per node
    pts: list[tuple[float, float, float]]  # (dist_m, lat, lon) shape vertices

    def time_at(self, d: float) -> float:
        return float(np.interp(d, self.cum_m, self.cum_s))

    def node_index_at(self, d: float) -> int:
        return int(np.searchsorted(self.cum_m, d - 1e-6, side="left"))

    def shape_between(self, d0: float, d1: float) -> list[tuple[float, float]]:
        ds = np.array([p[0] for p in self.pts])
        lat = np.array([p[1] for p in self.pts])
        lon = np.array([p[2] for p in self.pts])
        inner = [(float(la), float(lo)) for d, la, lo in self.pts if d0 < d < d1]
        out = [(float(np.interp(d0, ds, lat)), float(np.interp(d0, ds, lon)))]
        out += inner
        out.append((float(np.interp(d1, ds, lat)), float(np.interp(d1, ds, lon))))
        dedup = [out[0]]
        for p in out[1:]:
            if p != dedup[-1]:
                dedup.append(p)
        return [(round(a, 6), round(b, 6)) for a, b in dedup]


def _walk(G: nx.MultiDiGraph, rm: paths.RoadMatrix, nodes: Sequence[int]) -> _Walk:
    cum_m = [0.0]
    cum_s = [0.0]
    u0 = nodes[0]
    pts: list[tuple[float, float, float]] = [(0.0, G.nodes[u0]["y"], G.nodes[u0]["x"])]
    for u, v in zip(nodes[:-1], nodes[1:], strict=True):
        d = _edge(G, rm, u, v)
        length = float(d["length"])
        geom = d.get("geometry")
        if geom is not None:
            coords = list(geom.coords)  # lon, lat
            if geo.haversine_m(coords[0][1], coords[0][0], G.nodes[u]["y"], G.nodes[u]["x"]) > 1.0:
                coords.reverse()
        else:
            coords = [(G.nodes[u]["x"], G.nodes[u]["y"]), (G.nodes[v]["x"], G.nodes[v]["y"])]
        seg = [
            geo.haversine_m(a[1], a[0], b[1], b[0])
            for a, b in zip(coords[:-1], coords[1:], strict=True)
        ]
        tot = sum(seg) or 1.0
        acc = 0.0
        for (lo, la), s in zip(coords[1:], seg, strict=True):
            acc += s
            pts.append((cum_m[-1] + length * acc / tot, la, lo))
        cum_m.append(cum_m[-1] + length)
        cum_s.append(cum_s[-1] + float(d["travel_time"]))
    return _Walk(tuple(int(n) for n in nodes), np.array(cum_m), np.array(cum_s), pts)


# ------------------------------------------------------------------------------------------------
# KPIs


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
) -> DesignKPIs:
    """Figures of a design.

    Per route: one-way length (mean of the directions), one-way time incl. a dwell of
    ``service.dwell_s`` at every intermediate stop (mean of the directions), cycle time (both
    directions plus two layovers of ``service.layover_min``) and distinct stops. Network: ATT
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

    Returns
    -------
    DesignKPIs
        The figures, rounded for stable output.
    """
    sv = scenario.service
    rk = []
    cycles = []
    for r in routes:
        ones = [p.run_time_s + sv.dwell_s * max(0, len(p.stop_ids) - 2) for p in r.patterns]
        cycle = sum(ones) + (2 if len(r.patterns) > 1 else 1) * round(sv.layover_min * 60)
        cycles.append(cycle)
        ids = {s for p in r.patterns for s in p.stop_ids}
        rk.append(
            RouteKPI(
                route_id=r.route_id,
                length_m=round(sum(p.length_m for p in r.patterns) / len(r.patterns), 1),
                one_way_s=round(sum(ones) / len(ones)),
                cycle_s=int(cycle),
                stops=len(ids),
            )
        )
    del stops
    att = evaluation.att_min
    return DesignKPIs(
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


# ------------------------------------------------------------------------------------------------
# the designer


@dataclass(frozen=True, slots=True)
class _Built:
    routes: tuple[Route, ...]
    stops: dict[str, Stop]
    bad: tuple[str, ...]  # bound violations of the expanded routes


def _check_settings(scenario: Scenario, method: str) -> None:
    ds = scenario.design
    f = scenario.source_file or "the scenario"
    if method not in ALGORITHMS:
        msg = (
            f"{f}: design.method: {method!r} is not a design method; "
            f"choose one of {sorted(ALGORITHMS)}."
        )
        raise ConfigError(msg)
    if ds.routes < 1:
        msg = f"{f}: design.routes must be at least 1, got {ds.routes}."
        raise ConfigError(msg)
    if not 0.0 <= ds.operator_weight <= 1.0:
        msg = f"{f}: design.operator_weight must be in [0, 1], got {ds.operator_weight}."
        raise ConfigError(msg)
    one_way = (ds.max_cycle_min - 2 * scenario.service.layover_min) / 2.0
    if one_way <= 0:
        msg = (
            f"design.max_cycle_min = {ds.max_cycle_min:g} in {f} leaves no running time after two "
            f"layovers of {scenario.service.layover_min:g} min; raise design.max_cycle_min."
        )
        raise DesignError(msg)
    max_stops = int(ds.max_route_km * 1000.0 // scenario.stops.min_spacing_m) + 1
    if ds.min_stops > max_stops:
        msg = (
            f"design.min_stops = {ds.min_stops} in {f} cannot fit on a route of at most "
            f"design.max_route_km = {ds.max_route_km:g} km with stops at least "
            f"{scenario.stops.min_spacing_m:g} m apart (at most {max_stops} stops); lower "
            "design.min_stops or raise design.max_route_km."
        )
        raise DesignError(msg)


def design_network(
    G: nx.MultiDiGraph,
    scenario: Scenario,
    *,
    method: str | None = None,
    progress: ProgressFn | None = None,
) -> Design:
    """Design the scenario's K shuttle routes on the road graph.

    Parameters
    ----------
    G
        Road graph (``shuttle.network.load_graph``): MultiDiGraph in EPSG:4326 whose edges carry
        ``length`` (m) and ``travel_time`` (s).
    scenario
        The scenario; ``scenario.design`` holds K, the method, the seed and the bounds.
    method
        ``"greedy"`` (constructive) or ``"anneal"`` (simulated annealing from the greedy set);
        ``None`` uses ``scenario.design.method``.
    progress
        Optional ``progress(stage, done, total)`` callback.

    Returns
    -------
    Design
        Places, stops (sorted by id), routes ``R1..RK`` and their KPIs.

    Raises
    ------
    ConfigError
        If the method or a design setting is invalid.
    DesignError
        If an anchor is off the network, K exceeds what the demand allows, the bounds are
        infeasible or an anchor cannot be served.

    Notes
    -----
    See the module docstring for the stages, the terminal rule and the objective. The result
    depends only on the graph, the scenario and the seed.
    """
    from . import demand as demand_mod
    from . import places as places_mod
    from . import stops as stops_mod

    method = scenario.design.method if method is None else method
    _check_settings(scenario, method)
    ds = scenario.design
    fname = scenario.source_file or "the scenario"
    stage = f"design ({method})"
    step(progress, stage, 0, 5)
    t_start = time.perf_counter()

    places = tuple(places_mod.resolve_places(scenario))
    G = shuttle_graph(G, ds.avoid_classes)
    rm = paths.road_matrix(G, "travel_time")
    snap = _Snapper.build(G, rm)
    for p in places:  # off-network anchors fail before the (slower) demand model
        x, y = geo.to_metric_xy(p.lon, p.lat)
        _, d = snap.nearest_any(np.array([float(x), float(y)]))
        if d > OFF_NETWORK_M:
            msg = (
                f"Anchor {p.name_ko!r} ({p.name_en}) lies {d:.0f} m from the nearest road node "
                f"(limit {OFF_NETWORK_M:.0f} m); check its position or the network area."
            )
            raise DesignError(msg)
    dem = demand_mod.build_demand(G, scenario, places)
    zones = tuple(dem.zones)
    trips = np.asarray(dem.trips, dtype=float)
    router = UTurnFreeRouter(G, rm)
    index = stops_mod.build_stop_index(
        G, stops_mod.read_bus_stops(scenario), landmarks=places_mod.landmarks(scenario)
    )
    step(progress, stage, 1, 5)
    cnodes = tuple(int(v) for v in dem.centroid_nodes)
    failure: DesignError | None = None
    for radius in MERGE_RADII_M:
        kn = key_network(
            G, rm, scenario, places, zones, trips, cnodes, snapper=snap, merge_radius_m=radius
        )
        log.info(
            "key network (merge radius %.0f m): %d key nodes, %d links, %.0f trips/day",
            radius,
            len(kn.nodes),
            int(kn.link.sum() // 2),
            kn.demand.sum(),
        )
        try:
            problem, key_routes, built = _solve(
                G, rm, router, kn, places, index, scenario, method, progress
            )
            break
        except _Infeasible as e:
            failure = e.error
            log.info("no feasible design over %d key nodes: %s", len(kn.nodes), e.error)
    else:
        assert failure is not None
        msg = (
            f"No feasible set of design.routes = {ds.routes} routes in {fname} covers every "
            f"anchor and zone ({failure}); change design.routes or relax design.max_route_km / "
            "design.max_cycle_min."
        )
        raise DesignError(msg) from failure
    step(progress, stage, 3, 5)

    # every anchor served
    served = {s.anchor for s in built.stops.values() if s.anchor}
    for p in places:
        if p.name_ko not in served:
            msg = (
                f"Anchor {p.name_ko!r} ({p.name_en}) got no stop on any route; check its position."
            )
            raise DesignError(msg)

    ev = utrp.evaluate(problem, key_routes)
    if method == "greedy":
        ref = ev
    else:
        ref = utrp.evaluate(problem, utrp.design(problem, method="greedy", seed=ds.seed))
    w = ds.operator_weight
    objective = (
        (1 - w) * ev.att / max(ref.att, 1e-9)
        + w * ev.trt / max(ref.trt, 1e-9)
        + UNREACH_WEIGHT * ev.dun / 100.0
    )
    stops_sorted = tuple(built.stops[k] for k in sorted(built.stops))
    routes = label_routes(built.routes, built.stops, places, zones)
    net_ev = evaluate.evaluate_network(routes, stops_sorted, zones, trips, scenario)
    cat_area, share, by_gu = stops_mod.catchment(stops_sorted, scenario, zones)
    step(progress, stage, 4, 5)
    kpis = design_kpis(
        routes,
        stops_sorted,
        scenario,
        method=method,
        objective=objective,
        evaluation=net_ev,
        coverage=share,
        coverage_by_district=tuple((int(a), int(b), int(c)) for a, b, c in by_gu),
    )
    step(progress, stage, 5, 5)
    log.info(
        "design %s: %d routes, %d stops, objective %.4f, ATT %.1f min, %.1f s",
        method,
        len(routes),
        len(stops_sorted),
        objective,
        kpis.att_min,
        time.perf_counter() - t_start,
    )
    return Design(places=places, stops=stops_sorted, routes=routes, kpis=kpis, catchment=cat_area)


def terminal_label(stop: Stop, places: Sequence[Place], zones: Sequence[Any]) -> tuple[str, str]:
    """Korean and English destination label of a terminal stop.

    A terminal serving an anchor is named after the anchor ("연신내", "Yeonsinnae Station");
    any other after the dong it lies in ("상암동", "Sangam-dong"), which is what a destination
    sign shows; outside every dong, after the stop itself.
    """
    from . import demand as demand_mod
    from . import names

    if stop.anchor:
        for p in places:
            if p.name_ko == stop.anchor:
                return p.name_ko, p.name_en
    z = demand_mod.zone_of(stop.lat, stop.lon, zones)
    if z is not None:
        return z.name_ko, names.english_name(z.name_ko)
    return stop.name_ko, stop.name_en


def label_routes(
    routes: Sequence[Route],
    stops: dict[str, Stop],
    places: Sequence[Place],
    zones: Sequence[Any],
) -> tuple[Route, ...]:
    """Name routes "A–B" and head-sign their trips after their terminals' places or dongs.

    Where both terminals of a route get the same label, the terminal stops' own names are used.
    """
    out = []
    for r in routes:
        first = stops[r.patterns[0].stop_ids[0]]
        last = stops[r.patterns[0].stop_ids[-1]]
        a, b = terminal_label(first, places, zones), terminal_label(last, places, zones)
        if a == b:
            a, b = (first.name_ko, first.name_en), (last.name_ko, last.name_en)
        pats = []
        for p in r.patterns:  # direction 0 runs towards b, direction 1 back towards a
            ko, en = b if p.direction_id == 0 else a
            pats.append(dataclasses.replace(p, headsign_ko=ko, headsign_en=en))
        out.append(
            dataclasses.replace(
                r,
                long_name_ko=f"{a[0]}–{b[0]}",
                long_name_en=f"{a[1]} – {b[1]}",
                patterns=tuple(pats),
            )
        )
    return tuple(out)


def shuttle_graph(G: nx.MultiDiGraph, avoid: Sequence[str]) -> nx.MultiDiGraph:
    """The part of the road graph a stopping shuttle drives on.

    Edges of the ``avoid`` classes (by default motorway and trunk: in Seoul the urban
    expressways such as 강변북로 and 내부순환로, where a bus cannot stop) are dropped, and the
    largest strongly connected component of the rest is kept.

    Raises
    ------
    DesignError
        If nothing is left.
    """
    if not avoid:
        return G
    bad = set(avoid)
    keep = [(u, v, k) for u, v, k, h in G.edges(keys=True, data="highway") if h not in bad]
    H = G.edge_subgraph(keep)
    comps = list(nx.strongly_connected_components(H))
    if not comps:
        msg = f"No road is left after leaving out design.avoid_classes {sorted(bad)}."
        raise DesignError(msg)
    big = max(comps, key=lambda c: (len(c), -min(c)))
    out = H.subgraph(big).copy()
    log.info(
        "shuttle graph: %d of %d nodes, %d of %d edges (without %s)",
        out.number_of_nodes(),
        G.number_of_nodes(),
        out.number_of_edges(),
        G.number_of_edges(),
        ", ".join(sorted(bad)),
    )
    return out


class _Infeasible(Exception):
    """Internal: no feasible design on this key network (carries the reason)."""

    def __init__(self, error: DesignError) -> None:
        super().__init__(str(error))
        self.error = error


def _solve(
    G: nx.MultiDiGraph,
    rm: paths.RoadMatrix,
    router: UTurnFreeRouter,
    kn: KeyNetwork,
    places: Sequence[Place],
    index: Any,
    scenario: Scenario,
    method: str,
    progress: ProgressFn | None,
) -> tuple[utrp.Problem, tuple[tuple[int, ...], ...], _Built]:
    """Solve the UTRP on a key network and expand it, tightening the time cap if needed.

    Raises
    ------
    DesignError
        If the settings cannot work on this network at all (K, max_route_km, max_cycle_min).
    _Infeasible
        If no feasible route set was found on this key network.
    """
    ds = scenario.design
    fname = scenario.source_file or "the scenario"
    n = len(kn.nodes)
    dsym = kn.demand + kn.demand.T
    pairs_with_demand = int((np.triu(dsym, 1) > 0).sum())
    if ds.routes > pairs_with_demand:
        msg = (
            f"design.routes = {ds.routes} in {fname} exceeds the {pairs_with_demand} key-node "
            "pairs with demand; lower design.routes."
        )
        raise DesignError(msg)
    finite_m = kn.link_m[np.isfinite(kn.link_m)]
    if finite_m.size == 0 or finite_m.min() / 1000.0 > ds.max_route_km:
        msg = (
            f"design.max_route_km = {ds.max_route_km:g} in {fname} is shorter than the shortest "
            f"road link between two key nodes ({finite_m.min() / 1000.0:.2f} km); raise it."
        )
        raise DesignError(msg)

    cap_cycle = (ds.max_cycle_min - 2 * scenario.service.layover_min) / 2.0
    lk = kn.link & np.isfinite(kn.travel_min)
    pace = float(kn.travel_min[lk].sum() / (kn.link_m[lk].sum() / 1000.0))  # min per km
    cap = min(cap_cycle, ds.max_route_km * pace)
    min_link_min = float(kn.travel_min[lk].min())
    if cap < min_link_min:
        msg = (
            f"design.max_cycle_min = {ds.max_cycle_min:g} in {fname} allows {cap_cycle:.1f} min "
            f"one way, less than the quickest link between key nodes ({min_link_min:.1f} min); "
            "raise design.max_cycle_min."
        )
        raise DesignError(msg)
    mean_link_m = float(kn.link_m[lk].mean())
    mean_spacing = (scenario.stops.min_spacing_m + scenario.stops.max_spacing_m) / 2.0
    stops_per_link = max(1.0, mean_link_m / mean_spacing)
    min_nodes = min(n, max(2, 1 + math.ceil((ds.min_stops - 1) / stops_per_link)))
    max_nodes = min(n, max(min_nodes, 40))
    half_hw = evaluate.half_headway_min(scenario)
    penalty = ds.transfer_penalty_min + half_hw

    built: _Built | None = None
    problem: utrp.Problem | None = None
    key_routes: tuple[tuple[int, ...], ...] = ()
    for attempt in range(MAX_ATTEMPTS):
        problem = utrp.Problem(
            name=f"{scenario.name}-key",
            travel_min=kn.travel_min,
            demand=kn.demand,
            n_routes=ds.routes,
            min_nodes=min_nodes,
            max_nodes=max_nodes,
            max_route_min=cap,
            transfer_penalty=penalty,
        )
        try:
            key_routes = utrp.design(
                problem,
                method=ALGORITHMS[method],
                seed=ds.seed,
                iterations=ds.iterations,
                operator_weight=ds.operator_weight,
                progress=progress,
            )
        except DesignError as e:
            raise _Infeasible(e) from e
        built = _build_routes(G, rm, router, kn, key_routes, places, index, scenario)
        if not built.bad:
            break
        log.info("attempt %d: %s; tightening the cap %.1f min", attempt + 1, built.bad[0], cap)
        cap *= TIGHTEN
    assert built is not None
    assert problem is not None
    if built.bad:
        msg = f"{built.bad[0]} after {MAX_ATTEMPTS} attempts"
        raise _Infeasible(DesignError(msg))
    return problem, key_routes, built


def _build_routes(
    G: nx.MultiDiGraph,
    rm: paths.RoadMatrix,
    router: UTurnFreeRouter,
    kn: KeyNetwork,
    key_routes: Sequence[Sequence[int]],
    places: Sequence[Place],
    index: Any,
    scenario: Scenario,
) -> _Built:
    """Expand key-node routes to road paths, place stops and build the routes."""
    from . import stops as stops_mod

    ds = scenario.design
    sv = scenario.service
    # 1. road paths and stops per direction
    legs: list[list[tuple[list[int], _Walk, tuple[Any, ...]]]] = []
    all_ps: list[Any] = []
    for kr in key_routes:
        anchor_places = tuple(places[a] for k in kr for a in kn.anchors[k])
        dirs = []
        for seq in (list(kr), list(reversed(kr))):
            gnodes = [kn.nodes[k] for k in seq]
            lim = (
                3.0 * float(max(kn.time_s[a, b] for a, b in zip(seq[:-1], seq[1:], strict=True)))
                + 600.0
            )
            path = router.route(gnodes, limit_s=lim, via_radius_m=VIA_RADIUS_M)
            pstops = tuple(stops_mod.place_stops(G, path, index, scenario, anchors=anchor_places))
            if len(pstops) < 2:
                msg = f"A route got {len(pstops)} stop(s) on {len(path)} road nodes; need two."
                raise DesignError(msg)
            all_ps.extend(pstops)
            dirs.append((path, _walk(G, rm, path), pstops))
        legs.append(dirs)
    merged = {s.stop_id: s for s in stops_mod.stops_from_path_stops(all_ps, scenario)}
    # 2. patterns and routes
    routes: list[Route] = []
    bad: list[str] = []
    for r, dirs in enumerate(legs):
        rid = f"R{r + 1}"
        pats: list[Pattern] = []
        for direction, (path, wk, pstops) in enumerate(dirs):
            ids = [stops_mod.stop_id_of(ps) for ps in pstops]
            dists = [float(ps.dist_m) for ps in pstops]
            d0, d1 = dists[0], dists[-1]
            run = [
                max(1, round(wk.time_at(b) - wk.time_at(a)))
                for a, b in zip(dists[:-1], dists[1:], strict=True)
            ]
            last = merged[ids[-1]]
            pats.append(
                Pattern(
                    direction_id=direction,
                    headsign_ko=last.name_ko,
                    headsign_en=last.name_en,
                    stop_ids=tuple(ids),
                    run_times_s=tuple(run),
                    stop_dist_m=tuple(round(d - d0, 1) for d in dists),
                    shape=tuple(wk.shape_between(d0, d1)),
                    length_m=round(d1 - d0, 1),
                    node_path=tuple(path),
                )
            )
        s0 = merged[pats[0].stop_ids[0]]
        s1 = merged[pats[0].stop_ids[-1]]
        color = _route_color(r)
        routes.append(
            Route(
                route_id=rid,
                short_name=str(r + 1),
                long_name_ko=f"{s0.name_ko}–{s1.name_ko}",
                long_name_en=f"{s0.name_en} – {s1.name_en}",
                color=color,
                text_color=text_color_for(color),
                patterns=tuple(pats),
            )
        )
        km = max(p.length_m for p in pats) / 1000.0
        if km > ds.max_route_km + 1e-9:
            bad.append(f"Route {rid} is {km:.2f} km long, over design.max_route_km")
        ones = [p.run_time_s + sv.dwell_s * max(0, len(p.stop_ids) - 2) for p in pats]
        cyc = (sum(ones) + 2 * sv.layover_min * 60) / 60.0
        if cyc > ds.max_cycle_min + 1e-9:
            bad.append(f"Route {rid} takes {cyc:.1f} min per cycle, over design.max_cycle_min")
        if min(len(set(p.stop_ids)) for p in pats) < ds.min_stops:
            bad.append(f"Route {rid} has fewer than design.min_stops stops")
    return _Built(routes=tuple(routes), stops=merged, bad=tuple(bad))


# ------------------------------------------------------------------------------------------------
# output


def design_to_json(design: Design) -> dict[str, Any]:
    """The route set as a JSON-ready dict.

    Keys: ``method``, ``kpis`` (network figures), ``places``, ``stops`` (id, names, position,
    ARS, district, anchor) and ``routes``: per route its id, names, colours, KPIs and per direction
    the stop ids and names, run times, stop distances, length and the road node path.
    """
    k = design.kpis
    rkpi = {r.route_id: r for r in k.routes}
    stops = {s.stop_id: s for s in design.stops}
    routes = []
    for r in design.routes:
        rk = rkpi.get(r.route_id)
        routes.append(
            {
                "route_id": r.route_id,
                "short_name": r.short_name,
                "long_name_ko": r.long_name_ko,
                "long_name_en": r.long_name_en,
                "color": r.color,
                "text_color": r.text_color,
                "is_loop": r.is_loop,
                "kpi": None
                if rk is None
                else {
                    "length_m": rk.length_m,
                    "one_way_s": rk.one_way_s,
                    "cycle_s": rk.cycle_s,
                    "stops": rk.stops,
                },
                "patterns": [
                    {
                        "direction_id": p.direction_id,
                        "headsign_ko": p.headsign_ko,
                        "headsign_en": p.headsign_en,
                        "stop_ids": list(p.stop_ids),
                        "stop_names_ko": [stops[s].name_ko for s in p.stop_ids],
                        "stop_names_en": [stops[s].name_en for s in p.stop_ids],
                        "run_times_s": list(p.run_times_s),
                        "stop_dist_m": list(p.stop_dist_m),
                        "length_m": p.length_m,
                        "node_path": list(p.node_path),
                    }
                    for p in r.patterns
                ],
            }
        )
    return {
        "method": k.method,
        "kpis": {
            "objective": k.objective,
            "att_min": k.att_min,
            "d0": k.d0,
            "d1": k.d1,
            "d2": k.d2,
            "dun": k.dun,
            "vehicle_hours": k.vehicle_hours,
            "coverage": k.coverage,
            "coverage_by_district": [list(row) for row in k.coverage_by_district],
        },
        "places": [
            {
                "name_ko": p.name_ko,
                "name_en": p.name_en,
                "kind": p.kind,
                "lat": p.lat,
                "lon": p.lon,
                "district": p.district,
            }
            for p in design.places
        ],
        "stops": [
            {
                "stop_id": s.stop_id,
                "name_ko": s.name_ko,
                "name_en": s.name_en,
                "lat": s.lat,
                "lon": s.lon,
                "node": s.node,
                "ars": s.ars,
                "district": s.district,
                "anchor": s.anchor,
            }
            for s in design.stops
        ],
        "routes": routes,
    }


def design_to_geojson(design: Design) -> dict[str, Any]:
    """The route set as a GeoJSON FeatureCollection (lon/lat, RFC 7946).

    One LineString per route direction (properties: route id, names, colour, direction,
    headsign, length, run time, stop count) and one Point per stop (properties: id, names, ARS,
    district, anchor and the routes serving it).
    """
    feats: list[dict[str, Any]] = []
    serving: dict[str, list[str]] = {}
    for r in design.routes:
        for p in r.patterns:
            for s in p.stop_ids:
                lst = serving.setdefault(s, [])
                if r.route_id not in lst:
                    lst.append(r.route_id)
            feats.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[lon, lat] for lat, lon in p.shape],
                    },
                    "properties": {
                        "kind": "route",
                        "route_id": r.route_id,
                        "short_name": r.short_name,
                        "long_name_ko": r.long_name_ko,
                        "long_name_en": r.long_name_en,
                        "color": f"#{r.color}",
                        "text_color": f"#{r.text_color}",
                        "direction_id": p.direction_id,
                        "headsign_ko": p.headsign_ko,
                        "headsign_en": p.headsign_en,
                        "length_m": p.length_m,
                        "run_time_s": p.run_time_s,
                        "stops": len(p.stop_ids),
                    },
                }
            )
    for st in design.stops:
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [st.lon, st.lat]},
                "properties": {
                    "kind": "stop",
                    "stop_id": st.stop_id,
                    "name_ko": st.name_ko,
                    "name_en": st.name_en,
                    "ars": st.ars,
                    "district": st.district,
                    "anchor": st.anchor,
                    "routes": sorted(serving.get(st.stop_id, [])),
                },
            }
        )
    return {"type": "FeatureCollection", "features": feats}
