"""Internals of :mod:`shuttle.utrp`: fast evaluation, route pool, greedy and annealing.

Fast evaluation ("ride graph"): for a route set, ``D0[a, b]`` is the least in-vehicle time from
``a`` to ``b`` on one route (``inf`` if no route serves both). Every ride of a trip costs its
in-vehicle time plus one penalty, so the least trip cost over the route set is the all-pairs
shortest path over ``D0 + penalty`` minus one penalty, and the number of rides on it is one more
than the number of transfers. This is exactly the route-expanded graph of the reference
evaluator, folded onto ``n`` nodes. The annealer scores a candidate with one compiled call
(:func:`score_kernel`: ``D0``, Floyd-Warshall and the three-ride reachability, about 0.1 ms on
Mumford0 and 1 ms on Mumford3); the numba kernels fall back to plain Python/scipy without numba.

The annealer's moves (:data:`MOVES`): add or delete a terminal node, shift a route, exchange the
tails of two routes at a shared node, replace a route by the shortest path of a badly served
pair or by a pool route, insert a node between two linked stops, delete or replace an inner
node, and reroute a segment (shortcut along the road shortest path, or a detour via a
neighbour). The move distribution adapts to each move's recent rate of improving moves, mixed
with a fixed prior (the adaptive selection of selection hyper-heuristics, Ahmed et al. 2019).
At the operator end (``operator_weight > 0``) a minimum spanning tree cut into ``n_routes``
paths is also tried as the start (:func:`tree_routes`).

Against an existing network (``Problem.baseline_min``): a pair's trip cost is the lesser of the
route set's cost and the existing network's, so the ATT a route set reaches is that of the city
with the shuttle added, and a route earns only what it gains over what riders have today (a trip
already as fast by the existing network counts neither for nor against it). The greedy start,
the pool weights and the "badly served pair" move then weigh each pair's demand by the share of
its existing time the road shortest path could save. ``Problem.route_cost_min`` prices the
operator term (TRT) per link, for example dearer where the link runs alongside frequent existing
service. Both default to the plain UTRP (no existing network, TRT = in-vehicle minutes).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import (
    connected_components,
    dijkstra,
    floyd_warshall,
    minimum_spanning_tree,
)

from .errors import DesignError
from .log import ProgressFn, step

try:  # optional accelerator: about 3x faster all-pairs shortest paths
    import numba
except ImportError:  # pragma: no cover - depends on the environment
    numba = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

#: A route set: each route a tuple of 0-based node ids.
RouteSet = tuple[tuple[int, ...], ...]


@dataclass(frozen=True, eq=False)
class Problem:
    """A UTRP instance: network, demand and route-set constraints.

    Attributes
    ----------
    name
        Instance name (used in logs and file names).
    travel_min
        ``(n, n)`` direct link travel time in minutes; ``np.inf`` where there is no link, 0 on
        the diagonal. May be asymmetric (one-way streets).
    demand
        ``(n, n)`` trips from row node to column node; 0 on the diagonal.
    n_routes
        Number of routes in a route set.
    min_nodes, max_nodes
        Bounds on the number of nodes of one route.
    terminals
        Boolean ``(n,)`` mask of the nodes where a route may start or end; ``None`` = all.
    max_route_min
        Optional cap on the one-way time of a route (each direction), minutes.
    transfer_penalty
        Minutes added to a trip per transfer.
    coords
        Optional ``(n, 2)`` node coordinates, for plots and heuristics.
    baseline_min
        Optional ``(n, n)`` trip cost by an existing network, in the route set's cost units
        (``inf`` where it has none): each pair costs the lesser of the two (module docstring).
    route_cost_min
        Optional ``(n, n)`` operator cost of each link in minutes, counted in TRT instead of
        ``travel_min`` (``inf`` where there is no link).
    must_cover
        Optional boolean ``(n,)`` mask of the nodes every route set must cover; ``None`` = all
        (the UTRP benchmarks). A trip from or to a node left uncovered costs
        :data:`UNSERVED_FACTOR` x (its road time + the transfer penalty) in the optimiser (the
        existing network's cost if lower) and is unserved (dun) in the evaluation.
    """

    name: str
    travel_min: np.ndarray
    demand: np.ndarray
    n_routes: int
    min_nodes: int
    max_nodes: int
    terminals: np.ndarray | None = None
    max_route_min: float | None = None
    transfer_penalty: float = 5.0
    coords: np.ndarray | None = None
    baseline_min: np.ndarray | None = None
    route_cost_min: np.ndarray | None = None
    must_cover: np.ndarray | None = None

    def __post_init__(self) -> None:
        """Check shapes and bounds; raise :class:`DesignError` on an inconsistent problem."""
        t = np.asarray(self.travel_min, dtype=float)
        d = np.asarray(self.demand, dtype=float)
        n = t.shape[0] if t.ndim == 2 else -1
        if t.ndim != 2 or t.shape != (n, n) or n < 2:
            msg = f"Problem {self.name!r}: travel_min must be a square (n, n) matrix, n >= 2."
            raise DesignError(msg)
        if d.shape != (n, n):
            msg = f"Problem {self.name!r}: demand has shape {d.shape}, expected {(n, n)}."
            raise DesignError(msg)
        if np.any(np.isnan(t)) or np.any(t < 0):
            msg = f"Problem {self.name!r}: travel_min has NaN or negative entries."
            raise DesignError(msg)
        if np.any(~np.isfinite(d)) or np.any(d < 0):
            msg = f"Problem {self.name!r}: demand must be finite and non-negative."
            raise DesignError(msg)
        if not 2 <= self.min_nodes <= self.max_nodes:
            msg = (
                f"Problem {self.name!r}: need 2 <= min_nodes <= max_nodes, got "
                f"{self.min_nodes}..{self.max_nodes}."
            )
            raise DesignError(msg)
        if self.n_routes < 1:
            msg = f"Problem {self.name!r}: n_routes must be >= 1, got {self.n_routes}."
            raise DesignError(msg)
        if self.transfer_penalty < 0:
            msg = f"Problem {self.name!r}: transfer_penalty must be >= 0."
            raise DesignError(msg)
        if self.terminals is not None and np.asarray(self.terminals).shape != (n,):
            msg = f"Problem {self.name!r}: terminals must be a boolean mask of length {n}."
            raise DesignError(msg)
        if self.coords is not None and np.asarray(self.coords).shape != (n, 2):
            msg = f"Problem {self.name!r}: coords must have shape {(n, 2)}."
            raise DesignError(msg)
        for field in ("baseline_min", "route_cost_min"):
            m = getattr(self, field)
            if m is None:
                continue
            a = np.array(m, dtype=float)
            if a.shape != (n, n) or np.isnan(a).any() or (a < 0).any():
                msg = f"Problem {self.name!r}: {field} must be an (n, n) matrix of times >= 0."
                raise DesignError(msg)
            a.flags.writeable = False
            object.__setattr__(self, field, a)
        t = t.copy()
        np.fill_diagonal(t, 0.0)
        d = d.copy()
        np.fill_diagonal(d, 0.0)
        t.flags.writeable = False
        d.flags.writeable = False
        object.__setattr__(self, "travel_min", t)
        object.__setattr__(self, "demand", d)
        if self.terminals is not None:
            term = np.asarray(self.terminals, dtype=bool).copy()
            term.flags.writeable = False
            object.__setattr__(self, "terminals", term)
        if self.must_cover is not None:
            must = np.asarray(self.must_cover)
            if must.shape != (n,):
                msg = f"Problem {self.name!r}: must_cover must be a boolean mask of length {n}."
                raise DesignError(msg)
            must = must.astype(bool)
            must.flags.writeable = False
            object.__setattr__(self, "must_cover", must)

    @property
    def n(self) -> int:
        """Number of nodes."""
        return int(self.travel_min.shape[0])


_TIE_EPS = 1e-7
_DEFAULT_ITERATIONS = 20_000
#: Weight (in units of the normalised objective) of the share of demand that cannot reach its
#: destination with at most two transfers (default of the ``unreach_weight`` arguments).
UNREACH_WEIGHT = 5.0
#: A trip from or to a node a route set leaves uncovered (``Problem.must_cover``) costs this
#: factor x (its road time + the transfer penalty) in the optimiser: worse than any trip a
#: route set with at most two transfers serves.
UNSERVED_FACTOR = 3.0
# Start temperature = factor x median objective increase of random moves from the start set;
# end temperature = start x ratio, geometric in between.
_T0_FACTOR = 0.25
_T_RATIO = 1e-2
_T_FALLBACK = 5e-4
# Iterations per annealing cycle, per route node slot (n_routes * max_nodes).
_CYCLE_FACTOR = 400


# --------------------------------------------------------------------------------------------
# Small helpers shared with the reference evaluator
# --------------------------------------------------------------------------------------------


def route_times(t: np.ndarray, r: Sequence[int]) -> tuple[float, float]:
    """Return the forward and backward one-way times of route ``r`` (``inf`` on a missing link)."""
    s = np.asarray(r, dtype=np.intp)
    if len(s) < 2:
        return 0.0, 0.0
    return float(t[s[:-1], s[1:]].sum()), float(t[s[1:], s[:-1]].sum())


def summarise(
    demand: np.ndarray, cost: np.ndarray, transfers: np.ndarray
) -> tuple[float, tuple[float, float, float, float]]:
    """ATT over served demand and the percent shares d0, d1, d2, dun.

    Parameters
    ----------
    demand
        ``(n, n)`` trips.
    cost
        ``(n, n)`` trip cost in minutes (``inf`` = no path).
    transfers
        ``(n, n)`` transfers on the counted path (ignored where ``cost`` is ``inf``).
    """
    total = float(demand.sum())
    if total <= 0:
        return 0.0, (100.0, 0.0, 0.0, 0.0)
    pos = demand > 0
    served = pos & np.isfinite(cost)
    dem_served = float(demand[served].sum())
    att = float((demand[served] * cost[served]).sum() / dem_served) if dem_served > 0 else math.inf
    tr = np.where(served, transfers, -1)
    d0 = float(demand[served & (tr == 0)].sum())
    d1 = float(demand[served & (tr == 1)].sum())
    d2 = float(demand[served & (tr == 2)].sum())
    dun = total - d0 - d1 - d2
    shares = tuple(100.0 * v / total for v in (d0, d1, d2, dun))
    return att, (shares[0], shares[1], shares[2], max(0.0, shares[3]))


# --------------------------------------------------------------------------------------------
# Fast evaluator over the ride graph
# --------------------------------------------------------------------------------------------


def fw_kernel(d: np.ndarray) -> np.ndarray:
    """Floyd-Warshall in place on a dense matrix (``inf`` = no edge); returns ``d``.

    Plain Python, compiled by numba when it is installed. Same k-i-j order as scipy's, so the
    results are bit-identical.
    """
    n = d.shape[0]
    for k in range(n):
        dk = d[k].copy()
        for i in range(n):
            dik = d[i, k]
            if dik == np.inf:
                continue
            di = d[i]
            for j in range(n):
                di[j] = min(di[j], dik + dk[j])
    return d


def fw_scipy(d: np.ndarray) -> np.ndarray:
    """Floyd-Warshall by :func:`scipy.sparse.csgraph.floyd_warshall` (``inf`` = no edge)."""
    w = np.where(d == 0, 1e-300, d)  # dense csgraph input: 0 means "no edge"
    np.fill_diagonal(w, 0.0)
    return floyd_warshall(w, directed=True)


def reach3_kernel(a: np.ndarray) -> np.ndarray:
    """Boolean ``(A A A) > 0`` of a boolean matrix with a true diagonal, by packed bit rows.

    Plain Python, compiled by numba when it is installed (the fallback uses a matrix product).
    """
    n = a.shape[0]
    nw = (n + 63) // 64
    one = np.uint64(1)
    p1 = np.zeros((n, nw), dtype=np.uint64)
    for i in range(n):
        for j in range(n):
            if a[i, j]:
                p1[i, j >> 6] |= one << np.uint64(j & 63)
    p2 = np.zeros((n, nw), dtype=np.uint64)
    for i in range(n):
        for k in range(n):
            if a[i, k]:
                for w in range(nw):
                    p2[i, w] |= p1[k, w]
    out = np.zeros((n, n), dtype=np.bool_)
    for i in range(n):
        row = np.zeros(nw, dtype=np.uint64)
        for k in range(n):
            if (p2[i, k >> 6] >> np.uint64(k & 63)) & one:
                for w in range(nw):
                    row[w] |= p1[k, w]
        for j in range(n):
            out[i, j] = (row[j >> 6] >> np.uint64(j & 63)) & one
    return out


def score_kernel(
    t: np.ndarray,
    flat: np.ndarray,
    offs: np.ndarray,
    demand: np.ndarray,
    pen: float,
    strict: bool = False,
    base: np.ndarray | None = None,
) -> tuple[float, float, np.ndarray]:
    """Demand-weighted trip cost, demand beyond two transfers and the trip-cost matrix.

    One pass for the annealer: the one-route in-vehicle times ``D0`` of the route set (routes
    concatenated in ``flat``, route ``r`` is ``flat[offs[r]:offs[r + 1]]``), Floyd-Warshall over
    ``D0 + pen`` and the three-ride reachability. Returns ``(sum(demand * cost), unreach2,
    cost)``; the sum is ``inf`` if some pair has no path. With ``strict`` the second figure is
    the convention's dun instead (demand whose fastest path, fewest transfers among equally
    fast ones, has more than two transfers, or no path): a second Floyd-Warshall with the
    tie-break weight ``_TIE_EPS`` per ride counts the rides. With ``base`` (an existing
    network's costs) a pair counts the lesser cost and is never unreachable where ``base`` is
    finite; the returned matrix stays the route set's own. Plain Python, compiled by numba.
    """
    n = t.shape[0]
    d = np.full((n, n), np.inf)
    for r in range(offs.shape[0] - 1):
        s, e = offs[r], offs[r + 1]
        for a in range(s, e):
            i = flat[a]
            acc = 0.0
            for b in range(a + 1, e):
                acc += t[flat[b - 1], flat[b]]
                j = flat[b]
                if acc < d[i, j]:
                    d[i, j] = acc
            acc = 0.0
            for b in range(a - 1, s - 1, -1):
                acc += t[flat[b + 1], flat[b]]
                j = flat[b]
                if acc < d[i, j]:
                    d[i, j] = acc
    one = np.empty((n, n), dtype=np.bool_)
    for i in range(n):
        for j in range(n):
            one[i, j] = d[i, j] < np.inf or i == j
            d[i, j] = 0.0 if i == j else d[i, j] + pen
    if strict:
        reach = np.ones((1, 1), dtype=np.bool_)
        de = d.copy()
        for i in range(n):
            for j in range(n):
                if i != j:
                    de[i, j] += _TIE_EPS
        _fw_impl(de)
    else:
        reach = _reach3_impl(one)
        de = np.empty((1, 1))
    _fw_impl(d)
    total = 0.0
    un = 0.0
    for i in range(n):
        for j in range(n):
            if strict and demand[i, j] > 0:
                far = not de[i, j] < np.inf or np.rint((de[i, j] - d[i, j]) / _TIE_EPS) > 3
            elif demand[i, j] > 0:
                far = not reach[i, j]
            else:
                far = False
            d[i, j] -= pen
            if demand[i, j] > 0:
                c = d[i, j]
                if base is not None and base[i, j] < c:
                    c = base[i, j]
                    far = False
                total += demand[i, j] * c
                if far:
                    un += demand[i, j]
    return total, un, d


if numba is not None:
    _fw_jit = numba.njit(cache=True, nogil=True)(fw_kernel)
    _reach3_jit = numba.njit(cache=True, nogil=True)(reach3_kernel)
    _fw_impl, _reach3_impl = _fw_jit, _reach3_jit  # called by the compiled score_kernel
    _score_jit = numba.njit(cache=True, nogil=True)(score_kernel)
else:  # pragma: no cover - depends on the environment
    _fw_jit = _reach3_jit = _score_jit = None
    _fw_impl, _reach3_impl = fw_kernel, reach3_kernel


def reach3(a: np.ndarray) -> np.ndarray:
    """Pairs joined by at most three rides, given the one-ride matrix ``a`` (true diagonal)."""
    if _reach3_jit is not None:
        return _reach3_jit(np.ascontiguousarray(a, dtype=np.bool_))
    f = a.astype(np.float32)
    return ((f @ f) @ f) > 0


def all_pairs(d: np.ndarray) -> np.ndarray:
    """All-pairs shortest path costs of the dense matrix ``d`` (a new array)."""
    if _fw_jit is not None:
        return _fw_jit(np.array(d, dtype=np.float64, order="C"))
    return fw_scipy(d)


class Net:
    """Precomputed data of a problem for the design heuristics."""

    def __init__(self, problem: Problem) -> None:
        p = problem
        self.p = p
        self.n = n = p.n
        t = np.asarray(p.travel_min, dtype=float)
        self.t = t
        two_way = np.isfinite(t) & np.isfinite(t.T)
        np.fill_diagonal(two_way, False)
        self.two_way = two_way
        self.adj = [np.flatnonzero(two_way[i]) for i in range(n)]
        self.demand = np.asarray(p.demand, dtype=float)
        self.dsym = self.demand + self.demand.T
        self.total = float(self.demand.sum())
        self.pen = float(p.transfer_penalty)
        self.term = np.ones(n, dtype=bool) if p.terminals is None else np.asarray(p.terminals, bool)
        # Road shortest paths over the two-way links (routes must be drivable both ways).
        g = np.where(two_way, t, 0.0)
        g = np.where(two_way & (g == 0), 1e-9, g)
        self.sp, self.pred = dijkstra(csr_matrix(g), directed=True, return_predecessors=True)
        self.base = None if p.baseline_min is None else np.asarray(p.baseline_min, dtype=float)
        self.tc = t if p.route_cost_min is None else np.asarray(p.route_cost_min, dtype=float)
        if self.base is not None:  # demand weighed by the share of its time a route could save
            with np.errstate(invalid="ignore", divide="ignore"):
                save = np.where(
                    np.isfinite(self.base), (self.base - self.sp) / self.base, 1.0
                )
            save = np.clip(np.nan_to_num(save, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
            gain = self.demand * save
            self.dsym = gain + gain.T
        self.must = np.ones(n, dtype=bool) if p.must_cover is None else p.must_cover
        self.optional = not bool(self.must.all())
        if self.optional:  # trips of uncovered nodes: a finite fallback cost (UNSERVED_FACTOR)
            sp = np.where(np.isfinite(self.sp), self.sp, np.nanmax(self.sp[np.isfinite(self.sp)]))
            fall = UNSERVED_FACTOR * (sp + self.pen)
            opt = ~self.must
            fall = np.where(opt[:, None] | opt[None, :], fall, np.inf)
            self.base = fall if self.base is None else np.minimum(self.base, fall)

    def route_cost(self, r: Sequence[int]) -> float:
        """Operator cost of route ``r`` in TRT (one way, ``route_cost_min`` or minutes)."""
        return route_times(self.tc, r)[0]

    def trip_costs(self, cost: np.ndarray) -> np.ndarray:
        """Trip costs with the existing network as the alternative (``cost`` if none)."""
        return cost if self.base is None else np.minimum(cost, self.base)

    # ---- single routes ----------------------------------------------------------------------

    def path(self, i: int, j: int) -> list[int] | None:
        """Road shortest path ``i -> j`` over two-way links, or ``None``."""
        if not np.isfinite(self.sp[i, j]):
            return None
        out = [j]
        while out[-1] != i:
            out.append(int(self.pred[i, out[-1]]))
        out.reverse()
        return out

    def route_ok(self, r: Sequence[int]) -> bool:
        """Route-level constraints: length, simple, two-way links, terminals, time cap."""
        p = self.p
        k = len(r)
        if not p.min_nodes <= k <= p.max_nodes or len(set(r)) != k:
            return False
        if not (self.term[r[0]] and self.term[r[-1]]):
            return False
        s = np.asarray(r, dtype=np.intp)
        if not self.two_way[s[:-1], s[1:]].all():
            return False
        if p.max_route_min is not None:
            fwd, bwd = route_times(self.t, r)
            if max(fwd, bwd) > p.max_route_min + 1e-9:
                return False
        return True

    def pairs(self, r: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Flat indices ``a*n+b`` and in-vehicle times of all stop pairs of route ``r``."""
        s = np.asarray(r, dtype=np.intp)
        t = self.t
        f = np.concatenate(([0.0], np.cumsum(t[s[:-1], s[1:]])))
        b = np.concatenate(([0.0], np.cumsum(t[s[1:], s[:-1]])))
        k = len(s)
        ii, jj = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
        tt = np.where(jj > ii, f[None, :] - f[:, None], b[:, None] - b[None, :])
        return (s[:, None] * self.n + s[None, :]).ravel(), tt.ravel()

    # ---- route sets -------------------------------------------------------------------------

    def direct(self, cached: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """``D0``: least one-route in-vehicle time for each pair (``inf`` if none)."""
        d0 = np.full(self.n * self.n, np.inf)
        for idx, vals in cached:
            d0[idx] = np.minimum(d0[idx], vals)
        return d0.reshape(self.n, self.n)

    def costs(self, d0: np.ndarray, eps: float = 0.0) -> np.ndarray:
        """All-pairs trip cost (``inf`` = no path) over the ride graph ``D0 + penalty``."""
        w = d0 + (self.pen + eps)
        np.fill_diagonal(w, 0.0)
        return all_pairs(w) - (self.pen + eps)

    def metrics(
        self, routes: Sequence[Sequence[int]]
    ) -> tuple[float, tuple[float, float, float, float]]:
        """ATT and d0..dun by the fast evaluator (same convention as the reference)."""
        d0 = self.direct([self.pairs(r) for r in routes if len(r) > 0])
        c = self.costs(d0)
        ce = self.costs(d0, _TIE_EPS)
        with np.errstate(invalid="ignore"):
            # ce - c = eps * (rides - 1): costs() subtracts one (penalty + eps).
            transfers = np.rint((ce - c) / _TIE_EPS)
        if self.base is not None:  # a pair the existing network serves faster: no transfer
            transfers = np.where(self.base < c, 0.0, transfers)
        return summarise(self.demand, self.trip_costs(c), transfers)

    def unreach2(self, d0: np.ndarray) -> float:
        """Demand (trips) that cannot reach its destination with at most two transfers."""
        a = np.isfinite(d0)
        np.fill_diagonal(a, True)
        return float(self.demand[~reach3(a)].sum())

    def connected(self, routes: Sequence[Sequence[int]]) -> tuple[int, np.ndarray]:
        """Number of route-graph components among covered nodes, and the covered mask."""
        n = self.n
        rows: list[int] = []
        cols: list[int] = []
        covered = np.zeros(n, dtype=bool)
        for r in routes:
            covered[list(r)] = True
            rows.extend(r[:-1])
            cols.extend(r[1:])
        g = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
        _, labels = connected_components(g, directed=False)
        comps = len(set(labels[covered].tolist())) if covered.any() else 0
        return comps, covered


def _key(r: Sequence[int]) -> tuple[int, ...]:
    t = tuple(r)
    rt = t[::-1]
    return t if t <= rt else rt


# --------------------------------------------------------------------------------------------
# Candidate route pool and the greedy constructive heuristic
# --------------------------------------------------------------------------------------------


def _extend_to(net: Net, r: list[int], target_len: int) -> list[int] | None:
    """Extend ``r`` at its ends, one neighbour at a time, by the node with most demand to it."""
    r = list(r)
    inr = set(r)
    while len(r) < target_len:
        best = None
        for end in (0, -1):
            for nb in net.adj[r[end]]:
                v = int(nb)
                if v in inr:
                    continue
                gain = float(net.dsym[v, r].sum())
                cand = (gain, -v, end)
                if best is None or cand > best:
                    best = cand
        if best is None:
            return None
        _, negv, end = best
        v = int(-negv)
        if end == 0:
            r.insert(0, v)
        else:
            r.append(v)
        inr.add(v)
    # Ends must be terminals: trim non-terminal ends is not possible without breaking length,
    # so give up in that case.
    return r if net.route_ok(r) else None


def build_pool(net: Net) -> list[tuple[int, ...]]:
    """Candidate routes: road shortest paths between node pairs, lengthened to ``min_nodes``.

    Paths with more than ``max_nodes`` nodes are dropped. Deterministic order.
    """
    p = net.p
    n = net.n
    sym = bool(np.array_equal(net.t, net.t.T))
    seen: set[tuple[int, ...]] = set()
    pool: list[tuple[int, ...]] = []
    for i in range(n):
        if not net.term[i]:
            continue
        for j in range(i + 1 if sym else 0, n):
            if j == i or not net.term[j]:
                continue
            r = net.path(i, j)
            if r is None or len(r) > p.max_nodes:
                continue
            if len(r) < p.min_nodes:
                r = _extend_to(net, r, p.min_nodes)
                if r is None:
                    continue
            elif not net.route_ok(r):
                continue
            k = _key(r)
            if k not in seen:
                seen.add(k)
                pool.append(tuple(r))
    return pool


def _greedy_select(net: Net, pool: list[tuple[int, ...]], k: int) -> list[list[int]]:
    """Pick ``k`` pool routes, each time the one serving most not-yet-direct demand."""
    n = net.n
    m = np.zeros((len(pool), n), dtype=np.float64)
    for c, r in enumerate(pool):
        m[c, list(r)] = 1.0
    u = net.dsym.copy()
    covered = np.zeros(n, dtype=bool)
    used = np.zeros(len(pool), dtype=bool)
    # Tiny bonus per newly covered node to break ties towards coverage.
    bonus = 1e-6 * max(net.total, 1.0)
    chosen: list[list[int]] = []
    for _ in range(k):
        gain = ((m @ u) * m).sum(axis=1) / 2.0 + bonus * (m @ (~covered).astype(float))
        gain[used] = -np.inf
        c = int(np.argmax(gain))
        if not np.isfinite(gain[c]):
            break
        used[c] = True
        sel = list(pool[c])
        chosen.append(sel)
        u[np.ix_(sel, sel)] = 0.0
        covered[sel] = True
    return chosen


def _try_extend_path(net: Net, r: list[int], u: int) -> list[int] | None:
    """Extend route ``r`` at one end along the road shortest path to ``u``, if it fits."""
    best = None
    inr = set(r)
    for end in (0, -1):
        pth = net.path(r[end], u)
        if pth is None:
            continue
        adds = [pth[1:]]
        if not net.term[u]:  # u cannot end a route: one step on to a terminal beyond it
            adds = [[*pth[1:], int(w)] for w in net.adj[u] if net.term[w] and w not in pth]
        for add in adds:
            if inr.intersection(add) or len(r) + len(add) > net.p.max_nodes:
                continue
            new = (add[::-1] + r) if end == 0 else (r + add)
            if net.route_ok(new) and (best is None or len(new) < len(best)):
                best = new
    return best


def _repair(
    net: Net, routes: list[list[int]], pool: list[tuple[int, ...]], rng: np.random.Generator
) -> list[list[int]]:
    """Make the route set cover every node (of ``must_cover``) and be connected (local search)."""
    n = net.n
    must = net.must

    def score(rs: list[list[int]]) -> int:
        comps, cov = net.connected(rs)
        keys = {_key(r) for r in rs}
        return int((must & ~cov).sum()) + max(comps - 1, 0) + (len(rs) - len(keys))

    cur = [list(r) for r in routes]
    s = score(cur)
    last_gain = 0
    for it in range(20_000):
        if s == 0 or it - last_gain > 500:
            break
        comps, cov = net.connected(cur)
        counts = np.zeros(n, dtype=int)
        for r in cur:
            counts[r] += 1
        if (must & ~cov).any():
            targets = np.flatnonzero(must & ~cov)
        else:
            # Nodes of the components other than the one of route 0.
            rows = [a for r in cur for a in r[:-1]]
            cols = [b for r in cur for b in r[1:]]
            g = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
            _, lab = connected_components(g, directed=False)
            targets = np.flatnonzero((lab != lab[cur[0][0]]) & cov)
            if targets.size == 0:  # connected, only a duplicate route left to fix
                targets = np.flatnonzero(cov)
        u = int(rng.choice(targets))
        move = rng.random()
        new = [list(r) for r in cur]
        if move < 0.6:
            # Extend the route whose end is closest to u.
            order = sorted(
                range(len(cur)), key=lambda k: min(net.sp[cur[k][0], u], net.sp[cur[k][-1], u])
            )
            done = False
            for k in order[: 1 + int(rng.integers(len(cur)))]:
                ext = _try_extend_path(net, cur[k], u)
                if ext is not None:
                    new[k] = ext
                    done = True
                    break
            if not done:
                continue
        elif move < 0.8:
            # Trim a redundant end node of a random route to make room.
            k = int(rng.integers(len(cur)))
            r = new[k]
            end = 0 if rng.random() < 0.5 else -1
            if len(r) <= net.p.min_nodes or counts[r[end]] < 2:
                continue
            r.pop(end)
            if not net.route_ok(r):
                continue
        else:
            # Replace a random route by a pool route through u.
            hits = [c for c in range(len(pool)) if u in pool[c]]
            if not hits:
                continue
            k = int(rng.integers(len(cur)))
            new[k] = list(pool[int(rng.choice(hits))])
        s_new = score(new)
        if s_new < s:
            last_gain = it
        if s_new <= s:
            cur, s = new, s_new
    if s != 0:
        msg = (
            f"Problem {net.p.name!r}: could not build a route set that covers every "
            f"{'node' if not net.optional else 'required node'} and is "
            f"connected with {net.p.n_routes} routes of {net.p.min_nodes}..{net.p.max_nodes} nodes."
        )
        raise DesignError(msg)
    return cur


def greedy_routes(net: Net, seed: int = 0) -> tuple[list[list[int]], list[tuple[int, ...]]]:
    """Greedy route set (feasible) and the candidate pool it was drawn from."""
    p = net.p
    if p.n_routes * p.max_nodes < int(net.must.sum()):
        msg = (
            f"Problem {p.name!r}: {p.n_routes} routes of at most {p.max_nodes} nodes cannot "
            f"cover all {int(net.must.sum())} nodes."
        )
        raise DesignError(msg)
    pool = build_pool(net)
    if len(pool) < p.n_routes:
        msg = (
            f"Problem {p.name!r}: only {len(pool)} candidate routes of {p.min_nodes}.."
            f"{p.max_nodes} nodes exist, fewer than the {p.n_routes} routes required."
        )
        raise DesignError(msg)
    routes = _greedy_select(net, pool, p.n_routes)
    # Cheap coverage fix first: extend routes along shortest paths to uncovered nodes.
    comps, cov = net.connected(routes)
    for node in np.flatnonzero(net.must & ~cov):
        u = int(node)
        if any(u in r for r in routes):
            continue
        order = sorted(
            range(len(routes)),
            key=lambda k: min(net.sp[routes[k][0], u], net.sp[routes[k][-1], u]),
        )
        for k in order:
            ext = _try_extend_path(net, routes[k], u)
            if ext is not None:
                routes[k] = ext
                break
    routes = _repair(net, routes, pool, np.random.default_rng(seed))
    return routes, pool


def _random_matching(items: list[int], rng: np.random.Generator) -> list[tuple[int, int]]:
    """A random maximal matching of ``items`` (pairs of incident tree edges at a node)."""
    order = [items[i] for i in rng.permutation(len(items))]
    return [(order[i], order[i + 1]) for i in range(0, len(order) - 1, 2)]


def tree_routes(net: Net, rng: np.random.Generator, samples: int = 300) -> list[list[int]] | None:
    """Operator-end start: the minimum spanning tree of the links cut into ``n_routes`` paths.

    Every route set whose routes cover all nodes and connect them contains a spanning tree,
    so its TRT is at least the tree's weight; a set of edge-disjoint paths that partitions a
    minimum spanning tree reaches that bound. A partition is drawn by pairing, at every node,
    the tree edges a route passes through (a random maximal matching, then random pairs undone
    until there are ``n_routes`` paths). Of ``samples`` draws that meet the route rules, the
    one with the least demand beyond two transfers, then the least ATT, is returned; ``None``
    if no draw meets them (e.g. ``min_nodes`` too large for a tree).
    """
    p = net.p
    n = net.n
    w = np.where(net.two_way, net.t, 0.0)
    w = np.where(net.two_way & (w == 0), 1e-9, w)
    mst = minimum_spanning_tree(csr_matrix(np.minimum(w, w.T))).tocoo()
    edges = [(int(a), int(b)) for a, b in zip(mst.row, mst.col, strict=True)]
    if len(edges) != n - 1:
        return None
    inc: list[list[int]] = [[] for _ in range(n)]
    for e, (a, b) in enumerate(edges):
        inc[a].append(e)
        inc[b].append(e)
    best: tuple[float, float] | None = None
    best_routes: list[list[int]] | None = None
    for _ in range(samples):
        pairs = [_random_matching(inc[v], rng) for v in range(n)]
        n_paths = sum(len(inc[v]) - 2 * len(pairs[v]) for v in range(n)) // 2
        extra = p.n_routes - n_paths
        paired = [(v, i) for v in range(n) for i in range(len(pairs[v]))]
        if extra < 0 or extra > len(paired):
            continue
        for c in sorted(rng.choice(len(paired), size=extra, replace=False).tolist(), reverse=True):
            v, i = paired[c]
            del pairs[v][i]
        link: dict[tuple[int, int], int] = {}  # (edge, node) -> edge it continues into
        for v in range(n):
            for x, y in pairs[v]:
                link[(x, v)] = y
                link[(y, v)] = x
        routes: list[list[int]] = []
        seen: set[int] = set()
        for v in range(n):
            for e in inc[v]:
                if e in seen or (e, v) in link:
                    continue
                path, node, cur = [v], v, e
                while True:
                    seen.add(cur)
                    a, b = edges[cur]
                    node = b if a == node else a
                    path.append(node)
                    if (cur, node) not in link:
                        break
                    cur = link[(cur, node)]
                routes.append(path)
        if len(routes) != p.n_routes or not all(net.route_ok(r) for r in routes):
            continue
        if len({_key(r) for r in routes}) != len(routes):
            continue
        sc = _score(net, routes, [0.0])
        if sc is None:  # pragma: no cover - a spanning tree is connected
            continue
        key = (sc[2], sc[0])
        if best is None or key < best:
            best, best_routes = key, routes
    return best_routes


def design_greedy(
    problem: Problem,
    *,
    seed: int = 0,
    time_limit_s: float | None = None,
    iterations: int | None = None,
    operator_weight: float = 0.0,
    progress: ProgressFn | None = None,
    unreach_weight: float = UNREACH_WEIGHT,
    strict_dun: bool = False,
) -> RouteSet:
    """Constructive heuristic (budgets, ``operator_weight``, ``unreach_weight`` and
    ``strict_dun`` are ignored).

    Candidate routes are road shortest paths between node pairs (lengthened to ``min_nodes``);
    the route serving the most demand not yet served without transfer is taken, ``n_routes``
    times (Mumford 2013's heuristic construction). Uncovered nodes are then added by extending
    routes along shortest paths, and a local search restores connectivity if needed.
    """
    del time_limit_s, iterations, operator_weight, unreach_weight, strict_dun
    step(progress, "utrp greedy", 0, 1)
    net = Net(problem)
    routes, _ = greedy_routes(net, seed)
    step(progress, "utrp greedy", 1, 1)
    return tuple(tuple(int(v) for v in r) for r in routes)


# --------------------------------------------------------------------------------------------
# Simulated annealing
# --------------------------------------------------------------------------------------------


class _State:
    """A route set with coverage counts, duplicate keys and route times."""

    def __init__(self, net: Net, routes: list[list[int]]) -> None:
        self.net = net
        self.routes = [list(r) for r in routes]
        self.counts = np.zeros(net.n, dtype=np.int64)
        for r in self.routes:
            self.counts[r] += 1
        self.keys = [_key(r) for r in self.routes]
        self.times = [net.route_cost(r) for r in self.routes]


def _score(
    net: Net, routes: Sequence[Sequence[int]], times: Sequence[float], strict: bool = False
) -> tuple[float, float, float, np.ndarray] | None:
    """ATT, TRT, unreachable-in-2 demand and the cost matrix; ``None`` if disconnected.

    With ``strict`` the third figure is the demand counted in dun (see :func:`score_kernel`).
    """
    flat = np.fromiter((v for r in routes for v in r), dtype=np.int64)
    offs = np.zeros(len(routes) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in routes], out=offs[1:])
    kern = _score_jit if _score_jit is not None else score_kernel
    tot, un, c = kern(net.t, flat, offs, net.demand, net.pen, strict, net.base)
    if not np.isfinite(tot):
        return None
    if net.optional:  # nodes left uncovered have no path; the covered ones must be connected
        cov = np.zeros(net.n, dtype=bool)
        cov[flat] = True
        if not np.isfinite(c[np.ix_(cov, cov)]).all():
            return None
    elif not np.isfinite(c).all():
        return None
    att = tot / net.total if net.total > 0 else 0.0
    return float(att), float(sum(times)), float(un), c


#: Names of the annealing moves, in the order of :data:`_MOVE_PRIOR` (see :func:`_propose`).
MOVES: tuple[str, ...] = (
    "extend",
    "trim",
    "shift",
    "exchange",
    "demand_path",
    "pool",
    "insert",
    "remove",
    "swap_node",
    "reroute",
)
# Prior (and floor-mixed) probabilities of the moves; the first six are the original move set.
_MOVE_PRIOR = np.array([0.14, 0.09, 0.09, 0.13, 0.09, 0.06, 0.10, 0.08, 0.10, 0.12])
# Adaptive selection: every _ADAPT_EVERY attempts the probabilities become
# _ADAPT_FLOOR x prior + (1 - _ADAPT_FLOOR) x (smoothed improvement rate share).
_ADAPT_EVERY = 400
_ADAPT_FLOOR = 0.35
_ADAPT_MEMORY = 0.7


def _pick_end(rng: np.random.Generator) -> int:
    return 0 if rng.random() < 0.5 else -1


def _propose(
    net: Net,
    st: _State,
    pool: list[tuple[int, ...]],
    pool_w: np.ndarray,
    cost: np.ndarray,
    rng: np.random.Generator,
    move_cdf: np.ndarray | None = None,
) -> tuple[int, dict[int, list[int]] | None]:
    """One random neighbour: the move index and ``{route index: new route}`` (``None``: void).

    ``move_cdf`` is the cumulative move distribution over :data:`MOVES` (default: the prior).
    Every move keeps each changed route a simple path on two-way links; :func:`_apply` then
    checks the length, terminal, coverage, duplicate and time-cap rules.
    """
    p = net.p
    nr = len(st.routes)
    cdf = _MOVE_CDF if move_cdf is None else move_cdf
    k = int(rng.integers(nr))
    mv = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), len(MOVES) - 1)
    r = st.routes[k]
    name = MOVES[mv]
    if name == "extend":  # add a node at a terminal
        if len(r) >= p.max_nodes:
            return mv, None
        end = _pick_end(rng)
        nb = [int(v) for v in net.adj[r[end]] if v not in r]
        if not nb:
            return mv, None
        v = nb[int(rng.integers(len(nb)))]
        return mv, {k: ([v, *r] if end == 0 else [*r, v])}
    if name == "trim":  # delete a terminal node
        if len(r) <= p.min_nodes:
            return mv, None
        end = _pick_end(rng)
        if st.counts[r[end]] < 2 and net.must[r[end]]:
            return mv, None
        return mv, {k: (r[1:] if end == 0 else r[:-1])}
    if name == "shift":  # delete at one end, extend at the other
        end = _pick_end(rng)
        if st.counts[r[end]] < 2 and net.must[r[end]]:
            return mv, None
        rest = r[1:] if end == 0 else r[:-1]
        other = -1 if end == 0 else 0
        nb = [int(v) for v in net.adj[rest[other]] if v not in rest and v != r[end]]
        if not nb:
            return mv, None
        v = nb[int(rng.integers(len(nb)))]
        return mv, {k: ([v, *rest] if other == 0 else [*rest, v])}
    if name == "exchange":  # exchange tails of two routes at a shared node
        x = r[int(rng.integers(len(r)))]
        others = [j for j in range(nr) if j != k and x in st.routes[j]]
        if not others:
            return mv, None
        j = others[int(rng.integers(len(others)))]
        r2 = st.routes[j] if rng.random() < 0.5 else st.routes[j][::-1]
        i1, i2 = r.index(x), r2.index(x)
        a = r[: i1 + 1] + r2[i2 + 1 :]
        b = r2[: i2 + 1] + r[i1 + 1 :]
        if len(set(a)) != len(a) or len(set(b)) != len(b):
            return mv, None
        return mv, {k: a, j: b}
    if name == "demand_path":  # shortest path of a badly served, high-demand pair
        excess = net.demand * (net.trip_costs(cost) - net.sp)
        flat = np.maximum(excess.ravel(), 0.0)
        tot = flat.sum()
        if tot <= 0:
            return mv, None
        idx = int(np.searchsorted(np.cumsum(flat), rng.random() * tot, side="right"))
        idx = min(idx, flat.size - 1)
        i, j = divmod(idx, net.n)
        new = net.path(i, j)
        if new is None or len(new) > p.max_nodes:
            return mv, None
        if len(new) < p.min_nodes:
            new = _extend_to(net, new, p.min_nodes)
            if new is None:
                return mv, None
        return mv, {k: new}
    if name == "pool":  # a pool route drawn by the demand it serves directly
        c = int(np.searchsorted(pool_w, rng.random() * pool_w[-1], side="right"))
        c = min(c, len(pool) - 1)
        return mv, {k: list(pool[c])}
    if name == "insert":  # a-b becomes a-v-b (v a common neighbour of a and b)
        if len(r) >= p.max_nodes or len(r) < 2:
            return mv, None
        i = int(rng.integers(len(r) - 1))
        cand = np.flatnonzero(net.two_way[r[i]] & net.two_way[r[i + 1]])
        nb = [int(v) for v in cand if v not in r]
        if not nb:
            return mv, None
        v = nb[int(rng.integers(len(nb)))]
        return mv, {k: [*r[: i + 1], v, *r[i + 1 :]]}
    if name == "remove":  # a-v-b becomes a-b (a and b linked)
        if len(r) <= max(p.min_nodes, 2):
            return mv, None
        i = 1 + int(rng.integers(len(r) - 2))
        if st.counts[r[i]] < 2 and net.must[r[i]] or not net.two_way[r[i - 1], r[i + 1]]:
            return mv, None
        return mv, {k: [*r[:i], *r[i + 1 :]]}
    if name == "swap_node":  # a-v-b becomes a-u-b (u a common neighbour of a and b)
        if len(r) < 3:
            return mv, None
        i = 1 + int(rng.integers(len(r) - 2))
        if st.counts[r[i]] < 2 and net.must[r[i]]:
            return mv, None
        cand = np.flatnonzero(net.two_way[r[i - 1]] & net.two_way[r[i + 1]])
        nb = [int(v) for v in cand if v not in r]
        if not nb:
            return mv, None
        u = nb[int(rng.integers(len(nb)))]
        return mv, {k: [*r[:i], u, *r[i + 1 :]]}
    # reroute: the part between positions i < j goes via a neighbour of r[i] (a detour) or
    # along the road shortest path (a shortcut); dropped nodes must stay covered.
    if len(r) < 3:
        return mv, None
    i = int(rng.integers(len(r) - 2))
    j = int(rng.integers(i + 2, min(len(r), i + 2 + max(2, p.max_nodes // 3))))
    a, b = r[i], r[j]
    if rng.random() < 0.5:
        seg = net.path(a, b)
    else:
        nb = [int(v) for v in net.adj[a] if v != r[i + 1]]
        if not nb:
            return mv, None
        v = nb[int(rng.integers(len(nb)))]
        tail = net.path(v, b)
        seg = None if tail is None else [a, *tail]
    if seg is None:
        return mv, None
    new = [*r[:i], *seg, *r[j + 1 :]]
    if new == r or len(set(new)) != len(new):
        return mv, None
    dropped = set(r[i + 1 : j]) - set(seg)
    if any(st.counts[u] < 2 and net.must[u] for u in dropped):
        return mv, None
    return mv, {k: new}


_MOVE_CDF = np.cumsum(_MOVE_PRIOR)


def _apply(
    net: Net, st: _State, move: dict[int, list[int]]
) -> tuple[list[list[int]], list[float], np.ndarray, list] | None:
    """Routes, times, counts and keys after ``move``; ``None`` if it breaks a rule."""
    counts = st.counts.copy()
    keys = list(st.keys)
    for k, r in move.items():
        if not net.route_ok(r):
            return None
        counts[st.routes[k]] -= 1
        counts[r] += 1
        keys[k] = _key(r)
    if (counts[net.must] == 0).any() or len(set(keys)) != len(keys):
        return None
    routes = list(st.routes)
    times = list(st.times)
    for k, r in move.items():
        routes[k] = r
        times[k] = net.route_cost(r)
    return routes, times, counts, keys


def _median_uphill(
    net: Net,
    st: _State,
    pool: list[tuple[int, ...]],
    pool_w: np.ndarray,
    cost: np.ndarray,
    cur_f: float,
    objective: Callable[[float, float, float], float],
    rng: np.random.Generator,
    samples: int = 200,
    strict: bool = False,
) -> float:
    """Median objective increase over up to ``samples`` random feasible moves from ``st``."""
    ups = []
    for _ in range(samples):
        _, move = _propose(net, st, pool, pool_w, cost, rng)
        app = None if move is None else _apply(net, st, move)
        if app is None:
            continue
        sc = _score(net, app[0], app[1], strict)
        if sc is not None:
            d = objective(sc[0], sc[1], sc[2]) - cur_f
            if d > 0:
                ups.append(d)
    return float(np.median(ups)) if ups else _T_FALLBACK / _T0_FACTOR


def _adapt(tries: np.ndarray, gains: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """New cumulative move distribution from the improvement rates of the last window.

    ``rate`` (smoothed improving-move rate share per move) is updated in place; ``tries`` and
    ``gains`` (attempts and improving moves since the last call) are reset.
    """
    recent = gains / np.maximum(tries, 1.0)
    if recent.sum() > 0:
        recent = recent / recent.sum()
        rate *= _ADAPT_MEMORY
        rate += (1.0 - _ADAPT_MEMORY) * recent
        rate /= rate.sum()
    tries[:] = 0.0
    gains[:] = 0.0
    return np.cumsum(_ADAPT_FLOOR * _MOVE_PRIOR + (1.0 - _ADAPT_FLOOR) * rate)


def anneal_routes(
    net: Net,
    start: list[list[int]],
    pool: list[tuple[int, ...]],
    *,
    seed: int,
    time_limit_s: float | None,
    iterations: int | None,
    operator_weight: float,
    progress: ProgressFn | None,
    unreach_weight: float = UNREACH_WEIGHT,
    refs: tuple[float, float] | None = None,
    strict_dun: bool = False,
) -> list[list[int]]:
    """Simulated annealing from ``start`` (feasible); returns the best feasible set seen.

    Moves (:func:`_propose`, :data:`MOVES`): extend a route at a terminal, delete a terminal
    node, shift a route (delete at one end, extend at the other), exchange the tails of two
    routes at a shared node, replace a route by the shortest path of an OD pair drawn by its
    demand times its excess time, or by a pool route drawn by the demand it serves directly,
    insert a node between two linked stops, delete or replace an inner node, reroute a segment.
    Every ``_ADAPT_EVERY`` attempts the move distribution becomes ``_ADAPT_FLOOR`` x the prior
    plus the rest in proportion to each move's smoothed rate of improving moves. Moves that
    break a route rule, uncover a node, duplicate a route or disconnect the set are rejected.

    The objective is ``(1-w) ATT/ATT_ref + w TRT/TRT_ref`` plus 5 x the share of demand with
    no path of at most two transfers (with ``strict_dun``: the demand counted in dun); the
    references are ``refs`` (default: the start set's ATT
    and TRT). The start temperature
    is 0.25 x the median objective increase of 200 random moves, cooled geometrically by a
    factor 100 over a cycle; the budget is split into cycles of about
    ``400 * n_routes * max_nodes`` iterations, each restarting from the best set.
    """
    t0 = time.thread_time()  # the budget includes the first evaluation (and JIT compile)
    rng = np.random.default_rng(seed)
    if time_limit_s is None and iterations is None:
        iterations = _DEFAULT_ITERATIONS
    w = float(operator_weight)
    st = _State(net, start)
    sc = _score(net, st.routes, st.times, strict_dun)
    if sc is None:  # pragma: no cover - start is repaired to be connected
        msg = f"Problem {net.p.name!r}: the start route set is not connected."
        raise DesignError(msg)
    att_ref, trt_ref = refs if refs is not None else (sc[0], sc[1])
    att_ref, trt_ref = max(att_ref, 1e-9), max(trt_ref, 1e-9)
    tot = max(net.total, 1e-9)

    def objective(att: float, trt: float, un: float) -> float:
        return (1 - w) * att / att_ref + w * trt / trt_ref + unreach_weight * un / tot

    cur_f = objective(sc[0], sc[1], sc[2])
    cost = sc[3]
    best_f, best = cur_f, [list(r) for r in st.routes]
    # Pool weights: demand served directly by each pool route (sampling distribution).
    m = np.zeros((len(pool), net.n))
    for c, r in enumerate(pool):
        m[c, list(r)] = 1.0
    pool_w = np.cumsum(((m @ net.dsym) * m).sum(axis=1) + 1e-9)
    best_cost = cost
    t_start = _T0_FACTOR * _median_uphill(
        net, st, pool, pool_w, cost, cur_f, objective, rng, strict=strict_dun
    )
    t_end = t_start * _T_RATIO
    # The budget is split into annealing cycles of about cycle_iters iterations; each cycle
    # restarts from the best route set at the start temperature (one cycle on large instances).
    cycle_iters = _CYCLE_FACTOR * net.p.n_routes * net.p.max_nodes
    n_cycles = max(1, iterations // cycle_iters) if iterations else 1
    n_cycles_fixed = time_limit_s is None
    cycle = 0
    mark = 0.0
    it = 0
    move_cdf = _MOVE_CDF
    tries = np.zeros(len(MOVES))
    gains = np.zeros(len(MOVES))
    rate = _MOVE_PRIOR.copy()
    accepted = 0
    last_report = -1
    while True:
        frac_t = (time.thread_time() - t0) / time_limit_s if time_limit_s else 0.0
        frac_i = it / iterations if iterations else (0.0 if iterations is None else 1.0)
        frac = max(frac_t, frac_i)
        if frac >= 1.0:
            break
        if not n_cycles_fixed and it == 300:
            mark = frac_t  # rate is measured after warm-up (JIT compile, caches)
        if not n_cycles_fixed and it > 300 and frac_t >= mark + 0.03:
            n_cycles_fixed = True
            est = it + (it - 300) / (frac_t - mark) * (1.0 - frac_t)
            if iterations:
                est = min(est, iterations)
            n_cycles = max(1, int(est // cycle_iters))
            log.debug(
                "anneal %s: about %d iterations, %d cycle(s), T0 %.2e",
                net.p.name,
                est,
                n_cycles,
                t_start,
            )
        pos = frac * n_cycles if n_cycles_fixed else 0.0
        if int(pos) > cycle:
            cycle = int(pos)
            st = _State(net, best)
            cur_f, cost = best_f, best_cost
        frac_c = pos - int(pos)
        pct = int(frac * 100)
        if pct != last_report:
            last_report = pct
            step(progress, "utrp anneal", pct, 100)
            if pct % 10 == 0:
                log.debug(
                    "anneal %s %d%%: it %d, T %.2e, current %.5f, best %.5f, accepted %d",
                    net.p.name,
                    pct,
                    it,
                    t_start * (t_end / t_start) ** frac_c,
                    cur_f,
                    best_f,
                    accepted,
                )
        it += 1
        if it % _ADAPT_EVERY == 0:
            move_cdf = _adapt(tries, gains, rate)
        temp = t_start * (t_end / t_start) ** frac_c
        mv, move = _propose(net, st, pool, pool_w, cost, rng, move_cdf)
        tries[mv] += 1
        if move is None:
            continue
        app = _apply(net, st, move)
        if app is None:
            continue
        routes, times, counts, keys = app
        sc = _score(net, routes, times, strict_dun)
        if sc is None:
            continue
        f = objective(sc[0], sc[1], sc[2])
        delta = f - cur_f
        if delta < 0:
            gains[mv] += 1.0
        if delta <= 0 or rng.random() < math.exp(-delta / temp):
            st.routes, st.counts, st.keys, st.times = routes, counts, keys, times
            cur_f, cost = f, sc[3]
            accepted += 1
            if f < best_f - 1e-12:
                best_f, best, best_cost = f, [list(r) for r in routes], cost
    step(progress, "utrp anneal", 100, 100)
    log.info(
        "anneal %s: %d iterations, %d accepted, objective %.5f -> %.5f",
        net.p.name,
        it,
        accepted,
        objective(att_ref, trt_ref, 0.0),
        best_f,
    )
    log.debug(
        "anneal %s: move shares %s",
        net.p.name,
        ", ".join(f"{m} {v:.2f}" for m, v in zip(MOVES, rate, strict=True)),
    )
    return best


def design_anneal(
    problem: Problem,
    *,
    seed: int = 0,
    time_limit_s: float | None = None,
    iterations: int | None = None,
    operator_weight: float = 0.0,
    progress: ProgressFn | None = None,
    unreach_weight: float = UNREACH_WEIGHT,
    strict_dun: bool = False,
) -> RouteSet:
    """Greedy start improved by simulated annealing (see :func:`shuttle.utrp.design`).

    ``time_limit_s`` covers the whole call (construction and annealing), in CPU seconds of
    the designing thread, so a loaded machine takes longer but designs the same way.
    """
    t0 = time.thread_time()
    net = Net(problem)
    start, pool = greedy_routes(net, seed)
    refs = None
    if operator_weight > 0:
        # The spanning-tree start wins at the operator end (same references as the greedy's).
        tree = tree_routes(net, np.random.default_rng([seed, 1]))
        sc_g = _score(net, start, [net.route_cost(r) for r in start], strict_dun)
        sc_t = (
            None
            if tree is None
            else _score(net, tree, [net.route_cost(r) for r in tree], strict_dun)
        )
        if sc_g is not None and sc_t is not None:
            refs = (sc_g[0], sc_g[1])
            w = operator_weight

            def f(sc: tuple[float, float, float, np.ndarray]) -> float:
                return (
                    (1 - w) * sc[0] / max(refs[0], 1e-9)
                    + w * sc[1] / max(refs[1], 1e-9)
                    + unreach_weight * sc[2] / max(net.total, 1e-9)
                )

            if f(sc_t) < f(sc_g):
                log.debug("anneal %s: starting from the spanning-tree route set", problem.name)
                start = tree
    if time_limit_s is not None:
        time_limit_s -= time.thread_time() - t0
        if time_limit_s <= 0:
            log.warning("anneal %s: no time left after the construction phase", problem.name)
            return tuple(tuple(int(v) for v in r) for r in start)
    best = anneal_routes(
        net,
        start,
        pool,
        seed=seed,
        time_limit_s=time_limit_s,
        iterations=iterations,
        operator_weight=operator_weight,
        progress=progress,
        unreach_weight=unreach_weight,
        refs=refs,
        strict_dun=strict_dun,
    )
    return tuple(tuple(int(v) for v in r) for r in best)
