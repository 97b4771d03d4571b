"""Key network: the abstract problem the route designer solves (stage 1 and 2 of the designer).

The anchors (which must be served) and the demand zones are snapped to *turnable* intersections
of the bus-road graph (a bus arriving from any side can turn round there within
:data:`TURNAROUND_LIMIT_S`, see :meth:`shuttle.router.TurnRouter.turnaround_s`), zones merge into
nearby key nodes, and key nodes are linked when no third one lies in between. See
:mod:`shuttle.design` for the whole designer. With ``design.max_key_nodes`` (big areas), an
anchor with no turnable intersection within :data:`ANCHOR_REACH_M` (where dual carriageways meet,
as in central Seoul, the nearest can be 500 m away) takes the nearest road node instead, so that
the route through it passes its stop; without the cap (nw3) the anchors keep turnable key
nodes, as before.

Coverage of zones as an objective (``design.max_key_nodes``)
-------------------------------------------------------------
The route designer covers every key node, so with every zone a key node a big area (all Seoul:
424 dongs) cannot be served by a budget of routes. With ``design.max_key_nodes = N > 0`` the
anchors are always key nodes (coverage of anchors stays a hard constraint), and zones become key
nodes only while there are fewer than ``N``: when the zones placed by population (the rule without
a cap) would need more, they are placed again in order of their demand (trips from and to the
zone, the most first); a zone that lies within the merge radius of a key node still joins it,
any other zone is left out once the cap is reached. The trips of a zone left out are not in the
key-level demand the designer optimises (:attr:`KeyNetwork.zones_left_out`); the reported
passenger figures (:func:`shuttle.evaluate.evaluate_network`, on the full zone matrix) count
them as unserved unless a stop the routes place anyway lies within walking reach. When the
zones fit under the cap, the key network is the one without a cap.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from . import evaluate, geo, paths, roads
from .config import Scenario
from .errors import DesignError
from .model import Place
from .router import TurnRouter

__all__ = [
    "ANCHOR_REACH_M",
    "ANCHOR_SNAP_M",
    "BUS_ROAD_CLASSES",
    "MERGE_RADII_M",
    "OFF_NETWORK_M",
    "TURNAROUND_LIMIT_S",
    "ZONE_SNAP_M",
    "KeyNetwork",
    "Snapper",
    "edge_data",
    "key_network",
    "key_travel_times",
    "node_xy",
    "turnable_nodes",
]

log = logging.getLogger(__name__)

#: An anchor farther than this from every graph node is off the network (metres).
OFF_NETWORK_M = 500.0
#: Anchors snap to a bus-road intersection within this distance, else to any intersection.
ANCHOR_SNAP_M = 400.0
#: With ``design.max_key_nodes``, an anchor whose turnable key node lies farther than this takes
#: the nearest node of the (strongly connected) graph instead, where a route passes it or ends on
#: a longer turnaround loop: a route passes its key nodes within ``VIA_RADIUS_M`` (200 m) and
#: serves an anchor within ``anchor_reach_m`` (300 m, :func:`shuttle.stops.place_stops`) of its
#: path, so a key node farther than 300 - 200 m may leave the anchor without a stop.
ANCHOR_REACH_M = 100.0
#: Zone centroids snap to a bus-road intersection within this distance, else to any.
ZONE_SNAP_M = 700.0
#: A zone whose snapped node is this close to an earlier key node joins it (metres).
MERGE_RADII_M: tuple[float, ...] = (650.0, 900.0, 1200.0, 1500.0, 1900.0, 2400.0)
#: Prune link i-j when a key node k lies within this detour factor of it.
DETOUR = 1.1
#: Road classes a bus route prefers for its key nodes.
BUS_ROAD_CLASSES = frozenset(roads.BUS_CLASSES)
#: Longest turnaround (loop round a block back to the departure side) at a key node, seconds.
TURNAROUND_LIMIT_S = 240.0


def turnable_nodes(
    G: nx.MultiDiGraph, rm: paths.RoadMatrix, router: TurnRouter | None = None
) -> np.ndarray:
    """Graph nodes where a route may end or a key node sit, sorted.

    A node qualifies when it has at least three distinct successors (a real intersection, so a
    bus can turn there) and lies in the largest strongly connected component of the graph; with
    a ``router``, also when a bus arriving from any side can turn round there within
    :data:`TURNAROUND_LIMIT_S` (:meth:`shuttle.router.TurnRouter.turnaround_s`).
    """
    ncomp, labels = connected_components(rm.matrix, directed=True, connection="strong")
    big = np.bincount(labels).argmax() if ncomp else 0
    out = [
        int(n)
        for i, n in enumerate(rm.nodes)
        if labels[i] == big and sum(1 for s in G.succ[int(n)] if s != n) >= 3
    ]
    if router is not None:
        out = [n for n in out if router.turnaround_s(n, TURNAROUND_LIMIT_S) <= TURNAROUND_LIMIT_S]
    return np.array(sorted(out), dtype=np.int64)


def node_xy(G: nx.MultiDiGraph, nodes: Sequence[int] | np.ndarray) -> np.ndarray:
    lon = np.array([G.nodes[n]["x"] for n in nodes], dtype=float)
    lat = np.array([G.nodes[n]["y"] for n in nodes], dtype=float)
    x, y = geo.to_metric_xy(lon, lat)
    return np.column_stack([x, y])


@dataclass(frozen=True, eq=False)
class Snapper:
    """Nearest-node look-ups in metres (EPSG:5179) over all, turnable and bus-road nodes."""

    all_nodes: np.ndarray
    all_tree: cKDTree
    turn_nodes: np.ndarray
    turn_tree: cKDTree
    bus_nodes: np.ndarray
    bus_tree: cKDTree | None

    @classmethod
    def build(
        cls, G: nx.MultiDiGraph, rm: paths.RoadMatrix, router: TurnRouter | None = None
    ) -> Snapper:
        all_nodes = np.asarray(rm.nodes, dtype=np.int64)
        turn = turnable_nodes(G, rm, router)
        if len(turn) == 0:
            msg = "The road graph has no intersection with three exits; cannot place terminals."
            raise DesignError(msg)
        bus = np.array(
            [
                int(n)
                for n in turn
                if any(
                    roads.road_class(d) in BUS_ROAD_CLASSES
                    for _, _, d in G.out_edges(int(n), data=True)
                )
            ],
            dtype=np.int64,
        )
        return cls(
            all_nodes=all_nodes,
            all_tree=cKDTree(node_xy(G, all_nodes)),
            turn_nodes=turn,
            turn_tree=cKDTree(node_xy(G, turn)),
            bus_nodes=bus,
            bus_tree=cKDTree(node_xy(G, bus)) if len(bus) else None,
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
    zones_left_out: tuple[int, ...] = ()  # zones with no key node (design.max_key_nodes)
    # a bus can turn round at each key node (a turnable intersection); False for an anchor's
    # nearest road node (design.max_key_nodes), which a route passes but does not end at
    turnable: tuple[bool, ...] = ()


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
    snapper: Snapper | None = None,
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
        it instead of becoming a key node of its own. With ``scenario.design.max_key_nodes``
        zones may be left out (module docstring); their ``zone_key`` is -1.

    Returns
    -------
    KeyNetwork
        Key nodes, links and demand.

    Raises
    ------
    DesignError
        If an anchor is farther than :data:`OFF_NETWORK_M` from the graph.
    """
    snap = snapper or Snapper.build(G, rm)
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
        d_key = float(np.hypot(*(node_xy(G, [node])[0] - xy)))
        if scenario.design.max_key_nodes and d_key > ANCHOR_REACH_M:  # the nearest road node
            alt, d_alt = snap.nearest_any(xy)
            if d_alt < d_key:
                log.info(
                    "anchor %r: no turnable intersection within %.0f m (nearest %.0f m); its key "
                    "node is the road node %.0f m away",
                    p.name_ko,
                    ANCHOR_REACH_M,
                    d_key,
                    d_alt,
                )
                node = alt
        if node in key_nodes:
            k = key_nodes.index(node)
        else:
            k = len(key_nodes)
            key_nodes.append(node)
            key_xy.append(node_xy(G, [node])[0])
            labels.append([])
            anchors.append([])
        labels[k].append(p.name_ko)
        anchors[k].append(i)
    pts = evaluate.zone_points(zones)
    snapped: list[tuple[int, np.ndarray]] = []
    for z in range(len(zones)):
        base = zone_nodes[z]
        xy = node_xy(G, [base])[0] if base in G else np.array(geo.to_metric_xy(*pts[z]), float)
        node = snap.snap(xy, ZONE_SNAP_M)
        snapped.append((node, node_xy(G, [node])[0]))
    n_anchor_keys = len(key_nodes)
    anchor_nodes, anchor_xy, anchor_labels = tuple(key_nodes), tuple(key_xy), tuple(labels)

    def place(order: Sequence[int], cap: int) -> tuple[list[int], list[list[str]], list[int]]:
        """Key nodes, labels and zone_key after placing the zones in this order (0: no cap)."""
        nodes, xys = list(anchor_nodes), list(anchor_xy)
        labs = [list(lab_) for lab_ in anchor_labels]
        zk = [-1] * len(zones)
        for z in order:
            node, nxy = snapped[z]
            if xys:
                dd = np.hypot(*(np.array(xys) - nxy).T)
                k = int(np.argmin(dd))
                if dd[k] <= merge_radius_m:
                    zk[z] = k
                    labs[k].append(zones[z].name_ko)
                    continue
            if cap and len(nodes) >= cap:
                continue  # left out: its trips count as unserved
            zk[z] = len(nodes)
            nodes.append(node)
            xys.append(nxy)
            labs.append([zones[z].name_ko])
        return nodes, labs, zk

    by_pop = sorted(
        range(len(zones)), key=lambda z: (-int(zones[z].population), str(zones[z].code))
    )
    key_nodes, labels, zone_key = place(by_pop, 0)
    cap = scenario.design.max_key_nodes
    if cap and len(key_nodes) > cap:
        T_z = np.asarray(trips, dtype=float)
        ends = T_z.sum(axis=0) + T_z.sum(axis=1) if T_z.size else np.zeros(len(zones))
        by_demand = sorted(
            range(len(zones)),
            key=lambda z: (-float(ends[z]), -int(zones[z].population), str(zones[z].code)),
        )
        uncapped = len(key_nodes)
        key_nodes, labels, zone_key = place(by_demand, max(cap, n_anchor_keys))
        out_z = [z for z in range(len(zones)) if zone_key[z] < 0]
        log.info(
            "design.max_key_nodes = %d: %d key nodes instead of %d (%d for anchors); %d zones "
            "left out with %.0f of %.0f trip ends a day",
            cap,
            len(key_nodes),
            uncapped,
            n_anchor_keys,
            len(out_z),
            float(ends[out_z].sum()) if out_z else 0.0,
            float(ends.sum()),
        )
    anchors += [[] for _ in range(len(key_nodes) - len(anchors))]
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
                    edge_data(G, rm, u, v)["length"] for u, v in zip(pth[:-1], pth[1:], strict=True)
                )
    st = scenario.stops
    mean_spacing = (st.min_spacing_m + st.max_spacing_m) / 2.0
    dwell_min = scenario.service.dwell_s / 60.0
    travel = np.where(link, T / 60.0 + dwell_min * link_m / mean_spacing, np.inf)
    np.fill_diagonal(travel, 0.0)
    D = np.zeros((n, n))
    zk = np.array(zone_key, dtype=np.int64)
    kept = np.flatnonzero(zk >= 0)  # zones left out by design.max_key_nodes carry no key demand
    if kept.size:
        zs = zk[kept]
        sub = np.asarray(trips, dtype=float)[np.ix_(kept, kept)]
        np.add.at(D, (zs[:, None].repeat(len(zs), 1), zs[None, :].repeat(len(zs), 0)), sub)
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
        zones_left_out=tuple(int(z) for z in np.flatnonzero(zk < 0)),
        turnable=tuple(bool(t) for t in np.isin(key_nodes, snap.turn_nodes)),
    )


def edge_data(G: nx.MultiDiGraph, rm: paths.RoadMatrix, u: int, v: int) -> dict[str, Any]:
    return G.edges[u, v, rm.edge_key[(u, v)]]
