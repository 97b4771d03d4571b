"""Frequency-based transit assignment: the optimal strategies of Spiess and Florian (1989).

A rider waiting at a stop does not pick one path: they board the first bus of an *attractive set*
of lines, the set that minimises their expected time to the destination. With lines arriving at
random, the expected wait at a node is ``wait_factor / F`` where ``F`` is the combined frequency of
the attractive lines there (``wait_factor = 0.5``: half the combined headway, regular headways;
``1.0``: the paper's full headway, exponential arrivals), and a line gets the share
``f_line / F`` of the riders waiting there.

The network is generic (the shuttle, the existing bus and rail network, or both), given as:

- ``n_stops`` stop nodes (zone centres are stop nodes too, with walk links to the stops);
- :class:`Line` s: one direction of a route each, the stop nodes it serves in order, the in-vehicle
  time between consecutive stops and its headway;
- :class:`Walk` links between stop nodes (access, egress, transfers), with a time.

Internally each line position gets an on-board node; a rider boards (stop -> on-board, the line's
frequency, an optional boarding penalty), rides (on-board -> next on-board, the run time, infinite
frequency), and alights (on-board -> stop, free, infinite frequency). A *transfer* penalty applies
to every boarding after the first: origins enter through a copy of every stop whose boarding links
carry no penalty, so riders who alight and board again pay it once per change.

Algorithm (per destination; Spiess & Florian 1989, section 4): links are scanned in increasing
order of ``u_j + c_a`` (the expected time to the destination through the link); a link joins the
strategy of its tail node ``i`` when it lowers ``u_i``, and then
``u_i = (wait_factor + sum_a f_a (u_j + c_a)) / F_i``. An infinite-frequency link (walk, ride,
alight) replaces the whole set at its node. Demand is then loaded in the reverse scanning order,
split by ``f_a / F_i``. The expected time of each strategy is split into its components (walk,
wait, in-vehicle, transfer penalty and the number of boardings) with the same weights.

Capacity does not feed back (no crowding model): loads above capacity are reported, not
redistributed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import DesignError

__all__ = ["Assignment", "Line", "LineLoad", "Walk", "assign"]

log = logging.getLogger(__name__)

_INF = math.inf
_EPS = 1e-9
# link kinds
_WALK, _BOARD, _RIDE, _ALIGHT = 0, 1, 2, 3
# components of the expected time
_C_WALK, _C_WAIT, _C_IVT, _C_PEN, _C_BOARD = 0, 1, 2, 3, 4


@dataclass(frozen=True, slots=True)
class Line:
    """One direction of a route in the assignment network."""

    line_id: str
    stops: tuple[int, ...]  # stop nodes served, in order (>= 2)
    run_s: tuple[float, ...]  # in-vehicle time between consecutive stops, seconds (len - 1)
    headway_s: float  # scheduled headway, seconds (> 0)
    counted: bool = True  # its boardings enter Assignment.boardings (False: background line)


@dataclass(frozen=True, slots=True)
class Walk:
    """A walking link between two stop nodes (one way)."""

    a: int
    b: int
    time_s: float


@dataclass(frozen=True, slots=True)
class LineLoad:
    """Riders on one line: boardings and alightings per stop position, load per segment."""

    line_id: str
    boardings: tuple[float, ...]  # per stop position
    alightings: tuple[float, ...]  # per stop position
    load: tuple[float, ...]  # riders on board between position k and k + 1 (len - 1)

    @property
    def riders(self) -> float:
        """Boardings on the line."""
        return float(sum(self.boardings))

    @property
    def max_load(self) -> float:
        """The load at the maximum load point."""
        return float(max(self.load, default=0.0))


@dataclass(frozen=True, eq=False)
class Assignment:
    """The result of :func:`assign` (times in seconds, demand in the unit given)."""

    origins: tuple[int, ...]
    destinations: tuple[int, ...]
    time_s: np.ndarray  # (o, d) expected door-to-door time; inf where no strategy
    walk_s: np.ndarray  # components of time_s
    wait_s: np.ndarray
    in_vehicle_s: np.ndarray
    penalty_s: np.ndarray
    boardings: np.ndarray  # (o, d) expected boardings of the counted lines (Line.counted)
    demand: np.ndarray  # (o, d) the demand assigned
    lines: tuple[LineLoad, ...]

    @property
    def total(self) -> float:
        """All demand given (off-diagonal)."""
        return float(self.demand.sum())

    @property
    def unserved(self) -> float:
        """Demand with no strategy at all (no walk or ride reaches the destination)."""
        return float(self.demand[~np.isfinite(self.time_s)].sum())

    @property
    def riders(self) -> float:
        """Demand whose strategy boards a counted line, weighted by its boarding probability."""
        ok = np.isfinite(self.time_s)
        return float((self.demand[ok] * np.minimum(self.boardings[ok], 1.0)).sum())

    @property
    def boardings_total(self) -> float:
        """All boardings of the counted lines (riders times boardings per rider)."""
        ok = np.isfinite(self.time_s)
        return float((self.demand[ok] * self.boardings[ok]).sum())

    def mean(self, what: np.ndarray | None = None) -> float:
        """Demand-weighted mean of ``what`` (default: the total time) over the served pairs."""
        arr = self.time_s if what is None else what
        ok = np.isfinite(self.time_s) & (self.demand > 0)
        w = self.demand[ok]
        return float((arr[ok] * w).sum() / w.sum()) if w.sum() > 0 else math.nan


class _Net:
    """The expanded link list: tails, heads, costs per component, frequencies, kinds."""

    def __init__(
        self,
        n_stops: int,
        lines: Sequence[Line],
        walks: Sequence[Walk],
        *,
        transfer_penalty_s: float,
        boarding_penalty_s: float,
    ) -> None:
        tail: list[int] = []
        head: list[int] = []
        cost: list[tuple[float, float, float, float]] = []  # walk, ivt, penalty, boardings
        freq: list[float] = []
        kind: list[int] = []
        ref: list[tuple[int, int]] = []  # (line index, position) for board/ride/alight

        def add(a: int, b: int, c: tuple[float, float, float, float], f: float, k: int,
                r: tuple[int, int] = (-1, -1)) -> None:
            tail.append(a)
            head.append(b)
            cost.append(c)
            freq.append(f)
            kind.append(k)
            ref.append(r)

        # node layout: stops [0, n), origin copies [n, 2n), on-board nodes after
        nxt = 2 * n_stops
        self.onboard: list[list[int]] = []
        for li, line in enumerate(lines):
            if len(line.stops) < 2 or len(line.run_s) != len(line.stops) - 1:
                msg = (
                    f"Line {line.line_id}: {len(line.stops)} stops and {len(line.run_s)} run "
                    "times; a line needs two stops or more and one run time between each pair."
                )
                raise DesignError(msg)
            if not (line.headway_s > 0 and math.isfinite(line.headway_s)):
                msg = f"Line {line.line_id}: headway must be positive, got {line.headway_s}."
                raise DesignError(msg)
            if any(not (t >= 0 and math.isfinite(t)) for t in line.run_s):
                msg = f"Line {line.line_id}: run times must be finite and non-negative."
                raise DesignError(msg)
            if any(not 0 <= s < n_stops for s in line.stops):
                msg = f"Line {line.line_id}: a stop node lies outside 0..{n_stops - 1}."
                raise DesignError(msg)
            nodes = list(range(nxt, nxt + len(line.stops)))
            nxt += len(line.stops)
            self.onboard.append(nodes)
            f = 1.0 / line.headway_s
            last = len(line.stops) - 1
            nb = 1.0 if line.counted else 0.0  # a background line's boardings are not counted
            for k, s in enumerate(line.stops):
                if k < last:
                    add(s, nodes[k], (0.0, 0.0, transfer_penalty_s + boarding_penalty_s, nb), f,
                        _BOARD, (li, k))
                    add(n_stops + s, nodes[k], (0.0, 0.0, boarding_penalty_s, nb), f, _BOARD,
                        (li, k))
                    add(nodes[k], nodes[k + 1], (0.0, float(line.run_s[k]), 0.0, 0.0), _INF, _RIDE,
                        (li, k))
                if k > 0:
                    add(nodes[k], s, (0.0, 0.0, 0.0, 0.0), _INF, _ALIGHT, (li, k))
        for w in walks:
            if not (0 <= w.a < n_stops and 0 <= w.b < n_stops):
                msg = f"Walk link {w.a} -> {w.b} names a node outside 0..{n_stops - 1}."
                raise DesignError(msg)
            if not (w.time_s >= 0 and math.isfinite(w.time_s)):
                msg = f"Walk link {w.a} -> {w.b}: time must be finite and >= 0, got {w.time_s}."
                raise DesignError(msg)
            add(w.a, w.b, (float(w.time_s), 0.0, 0.0, 0.0), _INF, _WALK)
            # an origin walks first, then boards without the transfer penalty
            add(n_stops + w.a, n_stops + w.b, (float(w.time_s), 0.0, 0.0, 0.0), _INF, _WALK)
        for s in range(n_stops):  # an origin copy is also the stop itself (to end or walk on)
            add(n_stops + s, s, (0.0, 0.0, 0.0, 0.0), _INF, _WALK)
        self.n_nodes = nxt
        self.n_stops = n_stops
        self.tail = np.asarray(tail, dtype=np.int64)
        self.head = np.asarray(head, dtype=np.int64)
        self.cost = np.asarray(cost, dtype=float).reshape(-1, 4)
        self.total_cost = self.cost[:, 0] + self.cost[:, 1] + self.cost[:, 2]
        self.freq = np.asarray(freq, dtype=float)
        self.kind = np.asarray(kind, dtype=np.int64)
        self.ref = ref
        # incoming links per head node
        order = np.argsort(self.head, kind="stable")
        self.in_order = order
        self.in_start = np.searchsorted(self.head[order], np.arange(nxt + 1))


def _heap_push(keys: np.ndarray, vals: np.ndarray, size: int, key: float, val: int) -> int:
    """Push onto a binary min-heap stored in ``keys``/``vals``; return the new size."""
    i = size
    keys[i] = key
    vals[i] = val
    while i > 0:
        p = (i - 1) // 2
        if keys[p] < keys[i] or (keys[p] == keys[i] and vals[p] <= vals[i]):
            break
        keys[p], keys[i] = keys[i], keys[p]
        vals[p], vals[i] = vals[i], vals[p]
        i = p
    return size + 1


def _heap_pop(keys: np.ndarray, vals: np.ndarray, size: int) -> tuple[float, int, int]:
    """Pop the smallest (key, value) (ties: smallest value); return it and the new size."""
    key = keys[0]
    val = vals[0]
    size -= 1
    keys[0] = keys[size]
    vals[0] = vals[size]
    i = 0
    while True:
        lft = 2 * i + 1
        rgt = lft + 1
        m = i
        if lft < size and (keys[lft] < keys[m] or (keys[lft] == keys[m] and vals[lft] < vals[m])):
            m = lft
        if rgt < size and (keys[rgt] < keys[m] or (keys[rgt] == keys[m] and vals[rgt] < vals[m])):
            m = rgt
        if m == i:
            break
        keys[m], keys[i] = keys[i], keys[m]
        vals[m], vals[i] = vals[i], vals[m]
        i = m
    return key, val, size


def _sf_kernel(
    n: int,
    tail: np.ndarray,
    head: np.ndarray,
    cost: np.ndarray,
    tot: np.ndarray,
    freq: np.ndarray,
    in_order: np.ndarray,
    in_start: np.ndarray,
    dests: np.ndarray,
    origin_nodes: np.ndarray,
    D: np.ndarray,
    wait_factor: float,
    eps: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Optimal strategies to every destination and the loading of ``D`` (see the module doc).

    Plain Python over arrays, compiled by numba when it is installed. Returns the expected times
    ``(no, nd)``, their components ``(5, no, nd)`` and the flow on every link.
    """
    n_links = tail.shape[0]
    no = origin_nodes.shape[0]
    nd = dests.shape[0]
    time_s = np.full((no, nd), np.inf)
    comps = np.zeros((5, no, nd))
    flow = np.zeros(n_links)
    cap = n_links * 4 + 16
    hkeys = np.empty(cap)
    hvals = np.empty(cap, dtype=np.int64)
    u = np.empty(n)
    F = np.empty(n)
    comp = np.empty((n, 5))
    S = np.empty((n, 5))
    closed = np.empty(n, dtype=np.bool_)
    inf_link = np.empty(n, dtype=np.int64)
    done = np.empty(n_links, dtype=np.bool_)
    selected = np.empty(n_links, dtype=np.int64)
    V = np.empty(n)
    step = np.zeros(5)
    for di in range(nd):
        d = dests[di]
        u[:] = np.inf
        F[:] = 0.0
        comp[:, :] = 0.0
        S[:, :] = 0.0
        closed[:] = False
        inf_link[:] = -1
        done[:] = False
        nsel = 0
        u[d] = 0.0
        closed[d] = True
        size = 0
        for k in range(in_start[d], in_start[d + 1]):
            a = in_order[k]
            size = _heap_push(hkeys, hvals, size, u[d] + tot[a], a)
        while size > 0:
            key, a, size = _heap_pop(hkeys, hvals, size)
            if done[a]:
                continue
            j = head[a]
            if key > u[j] + tot[a] + eps:  # stale: u_j has dropped since the push
                continue
            done[a] = True
            i = tail[a]
            if closed[i] or u[i] <= key + eps:
                continue
            step[0] = cost[a, 0]
            step[1] = 0.0
            step[2] = cost[a, 1]
            step[3] = cost[a, 2]
            step[4] = cost[a, 3]
            if freq[a] == np.inf:
                for c in range(5):
                    comp[i, c] = comp[j, c] + step[c]
                u[i] = key
                F[i] = np.inf
                closed[i] = True
                inf_link[i] = a
            else:
                fa = freq[a]
                F[i] += fa
                total = 0.0
                for c in range(5):
                    S[i, c] += fa * (comp[j, c] + step[c])
                    comp[i, c] = S[i, c] / F[i]
                comp[i, 1] += wait_factor / F[i]
                for c in range(4):
                    total += comp[i, c]
                u[i] = total
            selected[nsel] = a
            nsel += 1
            for k in range(in_start[i], in_start[i + 1]):
                b = in_order[k]
                if size >= cap:  # grow the heap (rare: many lines at one stop)
                    cap *= 2
                    nk = np.empty(cap)
                    nv = np.empty(cap, dtype=np.int64)
                    nk[:size] = hkeys[:size]
                    nv[:size] = hvals[:size]
                    hkeys = nk
                    hvals = nv
                size = _heap_push(hkeys, hvals, size, u[i] + tot[b], b)
        V[:] = 0.0
        any_demand = False
        for oi in range(no):
            o = origin_nodes[oi]
            if u[o] < np.inf:
                time_s[oi, di] = u[o]
                for c in range(5):
                    comps[c, oi, di] = comp[o, c]
                if D[oi, di] > 0:
                    V[o] += D[oi, di]
                    any_demand = True
        if not any_demand:
            continue
        for k in range(nsel - 1, -1, -1):
            a = selected[k]
            i = tail[a]
            if V[i] <= 0:
                continue
            if inf_link[i] >= 0:
                if inf_link[i] != a:
                    continue
                v = V[i]
            else:
                v = V[i] * freq[a] / F[i]
            flow[a] += v
            V[head[a]] += v
    return time_s, comps, flow


try:  # compiled when numba is installed (a declared dependency); plain Python otherwise
    import numba

    _heap_push = numba.njit(cache=True, nogil=True)(_heap_push)
    _heap_pop = numba.njit(cache=True, nogil=True)(_heap_pop)
    _sf_kernel_jit = numba.njit(cache=True, nogil=True)(_sf_kernel)
except ImportError:  # pragma: no cover - numba is a dependency
    _sf_kernel_jit = _sf_kernel


def assign(
    n_stops: int,
    lines: Sequence[Line],
    walks: Sequence[Walk],
    origins: Sequence[int],
    destinations: Sequence[int],
    demand: np.ndarray,
    *,
    wait_factor: float = 0.5,
    transfer_penalty_s: float = 0.0,
    boarding_penalty_s: float = 0.0,
) -> Assignment:
    """Assign an OD matrix to a frequency-based transit network by optimal strategies.

    Parameters
    ----------
    n_stops
        Number of stop nodes (``0 .. n_stops - 1``); zone centres are stop nodes too.
    lines
        The lines (one direction of a route each).
    walks
        One-way walking links between stop nodes (access, egress, transfer).
    origins, destinations
        Stop nodes of the matrix rows and columns.
    demand
        ``(len(origins), len(destinations))`` trips; pairs with the same node are ignored.
    wait_factor
        Expected wait as a share of the combined headway: 0.5 for regular service (the default),
        1.0 as in Spiess and Florian's paper (exponential headways).
    transfer_penalty_s
        Added to every boarding after the first.
    boarding_penalty_s
        Added to every boarding.

    Returns
    -------
    Assignment
        Expected times and their components per OD pair, and boardings, alightings and loads per
        line.

    Raises
    ------
    DesignError
        If a line, walk or the matrix does not fit the network.
    """
    D = np.asarray(demand, dtype=float)
    if D.shape != (len(origins), len(destinations)):
        msg = f"The demand matrix is {D.shape}; expected ({len(origins)}, {len(destinations)})."
        raise DesignError(msg)
    if not np.isfinite(D).all() or (D < 0).any():
        msg = "The demand matrix must hold finite, non-negative trips."
        raise DesignError(msg)
    if not 0 < wait_factor <= 1:
        msg = f"wait_factor must be in (0, 1], got {wait_factor}."
        raise DesignError(msg)
    net = _Net(
        n_stops,
        lines,
        walks,
        transfer_penalty_s=transfer_penalty_s,
        boarding_penalty_s=boarding_penalty_s,
    )
    no, nd = len(origins), len(destinations)
    D = D.copy()
    for oi, o in enumerate(origins):
        for di, d in enumerate(destinations):
            if o == d:
                D[oi, di] = 0.0
    origin_nodes = np.asarray([n_stops + o for o in origins], dtype=np.int64)
    # the origin copy of a destination is the destination itself: no trip inside one node
    time_s, comps, flow = _sf_kernel_jit(
        net.n_nodes,
        net.tail,
        net.head,
        net.cost,
        net.total_cost,
        net.freq,
        net.in_order.astype(np.int64),
        net.in_start.astype(np.int64),
        np.asarray(destinations, dtype=np.int64).reshape(-1),
        origin_nodes.reshape(-1),
        D.reshape(no, nd),
        float(wait_factor),
        _EPS,
    )
    for oi, o in enumerate(origins):
        for di, d in enumerate(destinations):
            if o == d:
                time_s[oi, di] = _INF
                comps[:, oi, di] = 0.0
    loads = []
    for line in lines:
        m = len(line.stops)
        b = np.zeros(m)
        al = np.zeros(m)
        ride = np.zeros(m - 1)
        loads.append((b, al, ride))
    for a in np.flatnonzero(flow):
        k = net.kind[a]
        if k == _WALK:
            continue
        li, pos = net.ref[a]
        b, al, ride = loads[li]
        if k == _BOARD:
            b[pos] += flow[a]
        elif k == _ALIGHT:
            al[pos] += flow[a]
        else:
            ride[pos] += flow[a]
    out_lines = tuple(
        LineLoad(
            line_id=line.line_id,
            boardings=tuple(float(x) for x in b),
            alightings=tuple(float(x) for x in al),
            load=tuple(float(x) for x in ride),
        )
        for line, (b, al, ride) in zip(lines, loads, strict=True)
    )
    return Assignment(
        origins=tuple(int(o) for o in origins),
        destinations=tuple(int(d) for d in destinations),
        time_s=time_s,
        walk_s=comps[_C_WALK],
        wait_s=comps[_C_WAIT],
        in_vehicle_s=comps[_C_IVT],
        penalty_s=comps[_C_PEN],
        boardings=comps[_C_BOARD],
        demand=D,
        lines=out_lines,
    )
