"""Many shortest paths on the road graph with :mod:`scipy.sparse.csgraph`.

NetworkX stays the graph model; for the thousands of shortest paths the designer and the demand
model need, the graph is turned once into a CSR matrix (parallel edges reduced to the cheapest)
and searched with compiled Dijkstra.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from .errors import DesignError

__all__ = ["RoadMatrix", "path_nodes", "road_matrix", "shortest"]


@dataclass(frozen=True, eq=False)
class RoadMatrix:
    """The road graph as a sparse matrix of one edge weight."""

    matrix: csr_matrix  # (n, n) cheapest edge weight between consecutive nodes
    nodes: np.ndarray  # (n,) graph node id of each matrix index
    index: dict[int, int]  # graph node id -> matrix index
    weight: str  # the edge attribute used
    edge_key: dict[tuple[int, int], int]  # (u, v) -> key of the cheapest parallel edge

    def idx(self, nodes: Sequence[int]) -> np.ndarray:
        """Matrix indices of graph nodes.

        Raises
        ------
        DesignError
            If a node is not in the graph.
        """
        try:
            return np.fromiter((self.index[n] for n in nodes), dtype=np.int64, count=len(nodes))
        except KeyError as e:
            msg = f"Node {e.args[0]} is not in the road graph."
            raise DesignError(msg) from e


def road_matrix(G: nx.MultiDiGraph, weight: str = "travel_time") -> RoadMatrix:
    """Build the CSR matrix of ``weight`` over the graph (cheapest of parallel edges).

    Parameters
    ----------
    G
        Road graph; every edge must carry ``weight``.
    weight
        Edge attribute, e.g. ``"travel_time"`` (s) or ``"length"`` (m).

    Returns
    -------
    RoadMatrix
        Matrix, node order and the key of the cheapest parallel edge per node pair.

    Raises
    ------
    DesignError
        If an edge lacks the weight.
    """
    nodes = np.array(sorted(G.nodes), dtype=np.int64)
    index = {int(n): i for i, n in enumerate(nodes)}
    best: dict[tuple[int, int], tuple[float, int]] = {}
    for u, v, k, w in G.edges(keys=True, data=weight):
        if w is None:
            msg = f"Edge ({u}, {v}, {k}) has no {weight!r}; build the graph with shuttle.network."
            raise DesignError(msg)
        w = float(w)
        cur = best.get((u, v))
        if u != v and (cur is None or w < cur[0] or (w == cur[0] and k < cur[1])):
            best[(u, v)] = (w, k)
    rows = np.fromiter((index[u] for u, _ in best), dtype=np.int64, count=len(best))
    cols = np.fromiter((index[v] for _, v in best), dtype=np.int64, count=len(best))
    # csgraph treats explicit zeros as missing edges: keep zero-weight edges as tiny positives
    vals = np.fromiter((max(w, 1e-6) for w, _ in best.values()), dtype=float, count=len(best))
    m = csr_matrix((vals, (rows, cols)), shape=(len(nodes), len(nodes)))
    return RoadMatrix(
        matrix=m,
        nodes=nodes,
        index=index,
        weight=weight,
        edge_key={uv: k for uv, (_, k) in best.items()},
    )


def shortest(
    rm: RoadMatrix,
    sources: Sequence[int],
    *,
    predecessors: bool = False,
    limit: float = np.inf,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Shortest-path costs from graph nodes ``sources`` to every node.

    Returns
    -------
    dist, pred
        ``dist[i, j]`` cost from ``sources[i]`` to matrix index ``j`` (``inf`` if unreachable);
        ``pred`` the predecessor matrix when asked for, else None.
    """
    idx = rm.idx(sources)
    if predecessors:
        d, p = dijkstra(
            rm.matrix, directed=True, indices=idx, return_predecessors=True, limit=limit
        )
        return np.atleast_2d(d), np.atleast_2d(p)
    d = dijkstra(rm.matrix, directed=True, indices=idx, limit=limit)
    return np.atleast_2d(d), None


def path_nodes(rm: RoadMatrix, pred_row: np.ndarray, source: int, target: int) -> list[int]:
    """Graph node path from ``source`` to ``target`` given the predecessor row of ``source``.

    Raises
    ------
    DesignError
        If ``target`` is unreachable from ``source``.
    """
    s, t = rm.index[source], rm.index[target]
    out = [t]
    while out[-1] != s:
        p = int(pred_row[out[-1]])
        if p < 0:
            msg = f"No drivable path from node {source} to node {target}."
            raise DesignError(msg)
        out.append(p)
    return [int(rm.nodes[i]) for i in reversed(out)]
