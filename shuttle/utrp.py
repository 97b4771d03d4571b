"""Urban Transit Routing Problem (UTRP): design and evaluate abstract bus route sets.

A :class:`Problem` is a node/link network with an origin-destination demand matrix and the
route-set constraints of the UTRP benchmarks (Mandl 1979; Mumford 2013). :func:`evaluate` scores
a route set the way the literature does; :func:`design` builds one with a constructive heuristic
(``"greedy"``) or improves it by simulated annealing (``"anneal"``).

Evaluation convention (Mumford 2013, see ``benchmarks/RESULTS.md`` in the shared data): every
route is a simple path of nodes, run in both directions. A passenger takes the fastest path over
the route set, where the cost is in-vehicle time plus ``transfer_penalty`` minutes per transfer
and waiting time is ignored. ATT is the demand-weighted mean of that cost; TRT is the sum of the
one-way route times; d0, d1 and d2 are the shares of demand (percent) whose fastest path needs 0,
1 or 2 transfers and dun the rest (more transfers, or no path at all). Among equally fast paths
the one with the fewest transfers counts.

The reference evaluator builds the route-expanded transit graph (one node per route stop and one
hub per physical stop; boarding costs the penalty, alighting nothing) and runs
:func:`scipy.sparse.csgraph.dijkstra` from every hub at once. The optimiser uses a faster
equivalent (all-pairs shortest paths over the "ride" graph, see :mod:`shuttle._utrp_ops`).

References
----------
.. [1] C. L. Mumford, "New heuristic and evolutionary operators for the multi-objective urban
   transit routing problem", IEEE CEC 2013, 939-946.
.. [2] M. P. John, C. L. Mumford, R. Lewis, "An improved multi-objective algorithm for the urban
   transit routing problem", EvoCOP 2014, LNCS 8600, 49-60.
.. [3] L. Ahmed, C. L. Mumford, A. Kheiri, "Solving urban transit route design problem using
   selection hyper-heuristics", Eur. J. Oper. Res. 274 (2019) 545-559.
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from . import _utrp_ops as ops
from ._utrp_ops import Problem, RouteSet
from .errors import DataError, DesignError
from .log import ProgressFn

__all__ = [
    "ALGORITHMS",
    "BENCHMARK_CONSTRAINTS",
    "Evaluation",
    "Problem",
    "RouteSet",
    "check_routes",
    "design",
    "evaluate",
    "load_instance",
    "read_route_file",
    "route_cost",
    "write_route_file",
]

log = logging.getLogger(__name__)


#: Standard constraints (routes, min nodes, max nodes) of the benchmark instances (Mumford 2013).
BENCHMARK_CONSTRAINTS: dict[str, tuple[int, int, int]] = {
    "mandl": (6, 2, 8),
    "mandl1": (6, 2, 8),
    "mandl2": (6, 2, 8),
    "mumford0": (12, 2, 15),
    "mumford1": (15, 10, 30),
    "mumford2": (56, 10, 22),
    "mumford3": (60, 12, 25),
}

# Tie-break weight added to every boarding so that, among equally fast paths, the one with the
# fewest transfers is found. Path costs closer than about 1e-6 min x boardings count as ties.
_TIE_EPS = 1e-7


@dataclass(frozen=True)
class Evaluation:
    """Scores of one route set (Mumford 2013 convention).

    Attributes
    ----------
    att
        Average travel time, minutes (in-vehicle + penalty per transfer), over the demand that
        has a path; ``inf`` if none has. With ``Problem.baseline_min`` each pair counts the
        lesser of the route set's cost and the existing network's.
    trt
        Total route time: sum of the one-way (forward) route times, minutes.
    d0, d1, d2, dun
        Percent of demand whose fastest path has 0, 1, 2 transfers; more or no path. A pair the
        existing network serves faster counts in d0 (its transfers are not modelled).
    feasible
        True if no constraint is violated.
    violations
        One sentence per violated constraint.
    """

    att: float
    trt: float
    d0: float
    d1: float
    d2: float
    dun: float
    feasible: bool
    violations: tuple[str, ...]


# --------------------------------------------------------------------------------------------
# Instances and route files
# --------------------------------------------------------------------------------------------


def _read_csv_rows(path: Path, ncols: int) -> list[list[str]]:
    try:
        with open(path, newline="") as f:
            rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    except OSError as e:
        msg = f"{path}: cannot read instance file ({e.strerror or e})."
        raise DataError(msg) from e
    if not rows:
        msg = f"{path}: instance file is empty."
        raise DataError(msg)
    body = rows[1:]
    for i, r in enumerate(body, start=2):
        if len(r) < ncols:
            msg = f"{path}: line {i} has {len(r)} fields, expected {ncols}."
            raise DataError(msg)
    return body


def _find_one(folder: Path, suffix: str) -> Path:
    hits = sorted(folder.glob(f"*{suffix}"))
    if len(hits) != 1:
        msg = f"{folder}: expected exactly one '*{suffix}' file, found {len(hits)}."
        raise DataError(msg)
    return hits[0]


def load_instance(
    folder: str | os.PathLike[str],
    *,
    name: str | None = None,
    n_routes: int | None = None,
    min_nodes: int | None = None,
    max_nodes: int | None = None,
    transfer_penalty: float = 5.0,
    max_route_min: float | None = None,
) -> Problem:
    """Read a benchmark instance in the CSV format (``*_nodes``, ``*_links``, ``*_demand``).

    Parameters
    ----------
    folder
        Folder holding exactly one ``*_nodes.txt``, ``*_links.txt`` and ``*_demand.txt``
        (``id,lat,lon,terminal``; ``from,to,travel_time``; ``from,to,demand``; 1-based ids).
    name
        Instance name; default: the folder name. Picks the standard constraints from
        :data:`BENCHMARK_CONSTRAINTS` (case-insensitive).
    n_routes, min_nodes, max_nodes
        Override the standard constraints (required for an instance not in the table).
    transfer_penalty
        Minutes per transfer.
    max_route_min
        Optional cap on one-way route time.

    Returns
    -------
    Problem
        The instance with 0-based node ids.

    Raises
    ------
    DataError
        If a file is missing or malformed, or the constraints are unknown and not given.
    """
    folder = Path(folder)
    name = name or folder.name
    std = BENCHMARK_CONSTRAINTS.get(name.lower())
    if std is None and None in (n_routes, min_nodes, max_nodes):
        msg = (
            f"No standard constraints for instance {name!r}; pass n_routes, min_nodes and "
            "max_nodes."
        )
        raise DataError(msg)
    nr, lo, hi = std if std is not None else (0, 0, 0)
    nodes_path = _find_one(folder, "_nodes.txt")
    links_path = _find_one(folder, "_links.txt")
    demand_path = _find_one(folder, "_demand.txt")
    try:
        nodes = _read_csv_rows(nodes_path, 4)
        ids = [int(r[0]) for r in nodes]
        coords = np.array([[float(r[1]), float(r[2])] for r in nodes])
        term = np.array([int(r[3]) != 0 for r in nodes])
    except ValueError as e:
        msg = f"{nodes_path}: non-numeric field ({e})."
        raise DataError(msg) from e
    n = len(ids)
    if sorted(ids) != list(range(1, n + 1)):
        msg = f"{nodes_path}: node ids must be 1..{n} (each once)."
        raise DataError(msg)
    order = np.argsort(ids)
    coords, term = coords[order], term[order]

    def triples(path: Path) -> list[tuple[int, int, float]]:
        out = []
        try:
            for r in _read_csv_rows(path, 3):
                a, b, v = int(r[0]), int(r[1]), float(r[2])
                if not (1 <= a <= n and 1 <= b <= n):
                    msg = f"{path}: node id out of range 1..{n} in row {r}."
                    raise DataError(msg)
                if not np.isfinite(v) or v < 0:
                    msg = f"{path}: value must be finite and >= 0 in row {r}."
                    raise DataError(msg)
                out.append((a - 1, b - 1, v))
        except ValueError as e:
            if isinstance(e, DataError):
                raise
            msg = f"{path}: non-numeric field ({e})."
            raise DataError(msg) from e
        return out

    travel = np.full((n, n), np.inf)
    np.fill_diagonal(travel, 0.0)
    for a, b, v in triples(links_path):
        if a != b:
            travel[a, b] = v
    demand = np.zeros((n, n))
    for a, b, v in triples(demand_path):
        if a != b:
            demand[a, b] += v
    return Problem(
        name=name,
        travel_min=travel,
        demand=demand,
        n_routes=n_routes if n_routes is not None else nr,
        min_nodes=min_nodes if min_nodes is not None else lo,
        max_nodes=max_nodes if max_nodes is not None else hi,
        terminals=None if term.all() else term,
        max_route_min=max_route_min,
        transfer_penalty=transfer_penalty,
        coords=coords,
    )


def read_route_file(path: str | os.PathLike[str]) -> RouteSet:
    """Read a route set: one route per line, 1-based node ids joined by ``-``.

    Blank lines and lines starting with ``#`` are ignored.

    Raises
    ------
    DataError
        If the file cannot be read or a line is not ``id-id-...``.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        msg = f"{path}: cannot read route file ({e.strerror or e})."
        raise DataError(msg) from e
    routes = []
    for i, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        try:
            ids = [int(t) for t in s.split("-")]
        except ValueError as e:
            msg = f"{path}: line {i} is not a '-'-joined list of node ids: {s!r}."
            raise DataError(msg) from e
        if any(v < 1 for v in ids):
            msg = f"{path}: line {i} has a node id < 1 (ids are 1-based)."
            raise DataError(msg)
        routes.append(tuple(v - 1 for v in ids))
    return tuple(routes)


def write_route_file(path: str | os.PathLike[str], routes: Sequence[Sequence[int]]) -> Path:
    """Write a route set (0-based ids) as one ``-``-joined line of 1-based ids per route.

    Returns
    -------
    Path
        The written file.
    """
    from .io import atomic_write_text

    text = "".join("-".join(str(int(v) + 1) for v in r) + "\n" for r in routes)
    path = Path(path)
    atomic_write_text(path, text)
    return path


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


def check_routes(problem: Problem, routes: Sequence[Sequence[int]]) -> tuple[str, ...]:
    """Return one sentence per constraint the route set violates (empty if feasible).

    Checks: route count; each route a simple path on links that exist in both directions, with
    ``min_nodes..max_nodes`` nodes, terminal ends and the time cap; no duplicate routes (a
    reversed route is the same route); every node covered (those of ``must_cover`` if
    given); the route set connected.

    Raises
    ------
    DesignError
        If a node id is not an integer in ``0..n-1``.
    """
    p = problem
    n = p.n
    rs = _as_routes(p, routes)
    out: list[str] = []
    if len(rs) != p.n_routes:
        out.append(f"The route set has {len(rs)} routes, expected {p.n_routes}.")
    seen: dict[tuple[int, ...], int] = {}
    t = p.travel_min
    for k, r in enumerate(rs):
        if not p.min_nodes <= len(r) <= p.max_nodes:
            out.append(f"Route {k} has {len(r)} nodes, outside {p.min_nodes}..{p.max_nodes}.")
        if len(set(r)) != len(r):
            out.append(f"Route {k} visits a node more than once (not a simple path).")
        for a, b in zip(r[:-1], r[1:], strict=True):
            if not (np.isfinite(t[a, b]) and np.isfinite(t[b, a])) or a == b:
                out.append(f"Route {k} uses link {a + 1}-{b + 1}, which is not a two-way link.")
        if p.terminals is not None and r and not (p.terminals[r[0]] and p.terminals[r[-1]]):
            out.append(f"Route {k} starts or ends at a node that is not a terminal.")
        if p.max_route_min is not None and len(r) > 1:
            fwd, bwd = ops.route_times(t, r)
            if max(fwd, bwd) > p.max_route_min + 1e-9:
                out.append(
                    f"Route {k} takes {max(fwd, bwd):g} min one way, over the cap of "
                    f"{p.max_route_min:g} min."
                )
        key = min(tuple(r), tuple(reversed(r)))
        if key in seen:
            out.append(f"Route {k} duplicates route {seen[key]}.")
        else:
            seen[key] = k
    covered = np.zeros(n, dtype=bool)
    for r in rs:
        covered[list(r)] = True
    must = np.ones(n, dtype=bool) if p.must_cover is None else p.must_cover
    if not covered[must].all():
        missing = ", ".join(str(v + 1) for v in np.flatnonzero(must & ~covered)[:10])
        out.append(
            f"{int((must & ~covered).sum())} node(s) that must be covered are on no route "
            f"(1-based: {missing})."
        )
    # Connectivity of the transit graph: nodes joined when they share a route.
    rows: list[int] = []
    cols: list[int] = []
    for r in rs:
        if len(r) > 1:
            rows.extend(r[:-1])
            cols.extend(r[1:])
    g = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    ncomp, labels = connected_components(g, directed=False)
    comps = len(set(labels[covered].tolist())) if covered.any() else 0
    if comps > 1:
        out.append(f"The route set falls into {comps} disconnected parts.")
    return tuple(out)


def _as_routes(problem: Problem, routes: Sequence[Sequence[int]]) -> list[tuple[int, ...]]:
    rs = []
    for k, r in enumerate(routes):
        try:
            rr = tuple(int(v) for v in r)
        except (TypeError, ValueError) as e:
            msg = f"Route {k} has a node id that is not an integer: {r!r}."
            raise DesignError(msg) from e
        if any(not 0 <= v < problem.n for v in rr):
            msg = f"Route {k} has a node id outside 0..{problem.n - 1}: {list(rr)}."
            raise DesignError(msg)
        rs.append(rr)
    return rs


def _transit_graph(
    problem: Problem, routes: list[tuple[int, ...]], board: float
) -> tuple[csr_matrix, int]:
    """Route-expanded graph: hubs 0..n-1, then one node per route stop."""
    n = problem.n
    t = problem.travel_min
    rows: list[int] = []
    cols: list[int] = []
    w: list[float] = []
    nxt = n
    for r in routes:
        ids = list(range(nxt, nxt + len(r)))
        nxt += len(r)
        for i, v in enumerate(r):
            rows += [v, ids[i]]  # board (hub -> stop), alight (stop -> hub)
            cols += [ids[i], v]
            w += [board, 0.0]
        for i in range(len(r) - 1):
            a, b = r[i], r[i + 1]
            if np.isfinite(t[a, b]):
                rows.append(ids[i])
                cols.append(ids[i + 1])
                w.append(float(t[a, b]))
            if np.isfinite(t[b, a]):
                rows.append(ids[i + 1])
                cols.append(ids[i])
                w.append(float(t[b, a]))
    g = csr_matrix((np.asarray(w, float), (rows, cols)), shape=(nxt, nxt))
    return g, nxt


def route_cost(problem: Problem, routes: Sequence[Sequence[int]]) -> float:
    """TRT as the designer's operator term prices it: the one-way routes summed over
    ``Problem.route_cost_min`` where the problem has it, else over ``travel_min`` (= ``trt``)."""
    t = problem.travel_min if problem.route_cost_min is None else problem.route_cost_min
    return float(sum(ops.route_times(t, r)[0] for r in routes if len(r) > 1))


def evaluate(problem: Problem, routes: Sequence[Sequence[int]]) -> Evaluation:
    """Score a route set: ATT, TRT, d0/d1/d2/dun and constraint violations.

    Parameters
    ----------
    problem
        The instance.
    routes
        Routes as sequences of 0-based node ids, each run in both directions.

    Returns
    -------
    Evaluation
        The scores; an infeasible route set is still scored (``feasible=False``).

    Raises
    ------
    DesignError
        If a node id is not an integer in ``0..n-1``.

    Notes
    -----
    Shortest paths run over the route-expanded graph (see the module docstring) with
    :func:`scipy.sparse.csgraph.dijkstra` from all hubs at once; a second run adds a tiny
    tie-break to each boarding so that transfers are counted on the fastest path with the
    fewest transfers.
    """
    p = problem
    n = p.n
    rs = _as_routes(p, routes)
    violations = check_routes(p, rs)
    trt = float(sum(ops.route_times(p.travel_min, r)[0] for r in rs if len(r) > 1))
    pen = float(p.transfer_penalty)
    g, _ = _transit_graph(p, rs, pen)
    dist = dijkstra(g, directed=True, indices=np.arange(n))[:, :n]
    g_eps, _ = _transit_graph(p, rs, pen + _TIE_EPS)
    dist_eps = dijkstra(g_eps, directed=True, indices=np.arange(n))[:, :n]
    with np.errstate(invalid="ignore"):
        boardings = np.rint((dist_eps - dist) / _TIE_EPS)
    cost = dist - pen
    transfers = boardings - 1
    if p.baseline_min is not None:  # the existing network where it is faster (no transfer)
        faster = p.baseline_min < cost
        cost = np.where(faster, p.baseline_min, cost)
        transfers = np.where(faster, 0.0, transfers)
    att, shares = ops.summarise(p.demand, cost, transfers)
    return Evaluation(
        att=att,
        trt=trt,
        d0=shares[0],
        d1=shares[1],
        d2=shares[2],
        dun=shares[3],
        feasible=not violations,
        violations=violations,
    )


# --------------------------------------------------------------------------------------------
# Design
# --------------------------------------------------------------------------------------------

#: Design methods: ``name -> f(problem, *, seed, time_limit_s, iterations, operator_weight,
#: progress, unreach_weight, strict_dun) -> RouteSet``.
ALGORITHMS: dict[str, Callable[..., RouteSet]] = {
    "greedy": ops.design_greedy,
    "anneal": ops.design_anneal,
}


def design(
    problem: Problem,
    *,
    method: str = "anneal",
    seed: int = 0,
    time_limit_s: float | None = None,
    iterations: int | None = None,
    operator_weight: float = 0.0,
    progress: ProgressFn | None = None,
    unreach_weight: float | None = None,
    strict_dun: bool = False,
) -> RouteSet:
    """Design a route set for ``problem``.

    Parameters
    ----------
    problem
        The instance.
    method
        A key of :data:`ALGORITHMS`: ``"greedy"`` (constructive: routes along shortest paths
        that serve the most demand directly, then a coverage/connectivity repair) or
        ``"anneal"`` (greedy start, or at the operator end a spanning tree cut into routes,
        improved by simulated annealing with end-node, inner-node, segment-reroute,
        tail-exchange and route-replacement moves chosen adaptively; see
        :func:`shuttle._utrp_ops.anneal_routes`).
    seed
        Seed of the random generator; the same seed and budget give the same route set.
    time_limit_s
        Budget of the improvement phase in CPU seconds of the designing thread (on an idle
        machine, wall-clock seconds; on a loaded one the run takes longer but is not cut
        short). A time-limited run still depends on machine speed; pass ``iterations`` alone
        for a reproducible run.
    iterations
        Iteration budget of the improvement phase. If neither budget is given, 20,000
        iterations.
    operator_weight
        ``w`` in ``[0, 1]``; minimise ``(1-w)*ATT/ATT_ref + w*TRT/TRT_ref`` where the
        references are the greedy route set's ATT and TRT. ``0`` = passenger-oriented.
    progress
        Optional callback ``progress(stage, done, total)``.
    unreach_weight
        Weight of the share of demand that needs more than two transfers, added to the
        objective; default 5. A large value (e.g. 1000) keeps dun at 0 at the operator end.
    strict_dun
        Penalise the demand counted in dun (fastest path with more than two transfers) rather
        than the demand with no path of at most two transfers; about twice as slow per
        iteration. Needed at the operator end, where fast paths with many transfers are common.

    Returns
    -------
    tuple of tuple of int
        ``problem.n_routes`` routes of 0-based node ids.

    Raises
    ------
    ValueError
        If ``method`` is unknown or ``operator_weight`` is outside ``[0, 1]``.
    DesignError
        If no feasible route set is found.
    """
    try:
        algo = ALGORITHMS[method]
    except KeyError as e:
        msg = f"{method!r} is not a valid UTRP design method; choose one of {sorted(ALGORITHMS)}."
        raise ValueError(msg) from e
    if not 0.0 <= operator_weight <= 1.0:
        msg = f"operator_weight must be in [0, 1], got {operator_weight}."
        raise ValueError(msg)
    if time_limit_s is not None and time_limit_s <= 0:
        msg = f"time_limit_s must be positive, got {time_limit_s}."
        raise ValueError(msg)
    if iterations is not None and iterations < 0:
        msg = f"iterations must be >= 0, got {iterations}."
        raise ValueError(msg)
    if unreach_weight is not None and not (np.isfinite(unreach_weight) and unreach_weight >= 0):
        msg = f"unreach_weight must be finite and >= 0, got {unreach_weight}."
        raise ValueError(msg)
    return algo(
        problem,
        seed=seed,
        time_limit_s=time_limit_s,
        iterations=iterations,
        operator_weight=operator_weight,
        progress=progress,
        unreach_weight=ops.UNREACH_WEIGHT if unreach_weight is None else float(unreach_weight),
        strict_dun=strict_dun,
    )
