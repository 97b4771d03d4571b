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
wait, in-vehicle, transfer penalty and the number of boardings) with the same weights. Ties in
the scanning order go to the link listed first, and a link whose tail node is already closed
(its strategy fixed by a walk or ride) is never queued.

The kernel is compiled by numba and releases the GIL: destinations are assigned in chunks on
several threads (``threads``), each chunk returning its link flows per destination, and the flows
are summed over the destinations in their order, so the results are the same to the bit whatever
the number of threads.

Capacity does not feed back (no crowding model): loads above capacity are reported, not
redistributed.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .errors import DesignError

__all__ = ["Assignment", "Line", "LineLoad", "Walk", "assign"]

log = logging.getLogger(__name__)

_INF = math.inf
_EPS = 1e-9
# destinations x links below which the assignment runs in one thread
_THREADED_WORK = 2_000_000
# destinations per call of the kernel (at most; their flows are held until summed)
_CHUNK = 16
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
        # node layout: stops [0, n), origin copies [n, 2n), on-board nodes after
        for line in lines:
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
        wa = np.asarray([w.a for w in walks], dtype=np.int64)
        wb = np.asarray([w.b for w in walks], dtype=np.int64)
        wt = np.asarray([w.time_s for w in walks], dtype=float)
        bad = ~((wa >= 0) & (wa < n_stops) & (wb >= 0) & (wb < n_stops))
        if bad.any():
            w = walks[int(np.argmax(bad))]
            msg = f"Walk link {w.a} -> {w.b} names a node outside 0..{n_stops - 1}."
            raise DesignError(msg)
        bad = ~(np.isfinite(wt) & (wt >= 0))
        if bad.any():
            w = walks[int(np.argmax(bad))]
            msg = f"Walk link {w.a} -> {w.b}: time must be finite and >= 0, got {w.time_s}."
            raise DesignError(msg)
        # per line position k: board (k < last), board from the origin copy (k < last), ride to
        # k + 1 (k < last), alight (k > 0), in this order; lines in their order
        m = np.asarray([len(line.stops) for line in lines], dtype=np.int64)
        n_pos = int(m.sum())
        li = np.repeat(np.arange(len(lines), dtype=np.int64), m)
        first = np.cumsum(m) - m  # index of each line's first position
        k = np.arange(n_pos, dtype=np.int64) - np.repeat(first, m)
        last = np.repeat(m - 1, m)
        st = np.fromiter((s for line in lines for s in line.stops), np.int64, n_pos)
        run = np.fromiter(
            (t for line in lines for t in (*line.run_s, 0.0)), float, n_pos
        )  # 0 after the last stop (no ride)
        f = np.repeat(np.asarray([1.0 / line.headway_s for line in lines]), m)
        nb = np.repeat(np.asarray([1.0 if line.counted else 0.0 for line in lines]), m)
        ob = 2 * n_stops + np.arange(n_pos, dtype=np.int64)  # on-board node of each position
        zero = np.zeros(n_pos)
        pen = transfer_penalty_s + boarding_penalty_s
        blocks = (  # tail, head, cost (walk, ivt, penalty, boardings), freq, kind
            (st, ob, (zero, zero, zero + pen, nb), f, _BOARD),
            (n_stops + st, ob, (zero, zero, zero + boarding_penalty_s, nb), f, _BOARD),
            (ob, ob + 1, (zero, run, zero, zero), zero + _INF, _RIDE),
            (ob, st, (zero, zero, zero, zero), zero + _INF, _ALIGHT),
        )
        keep = np.stack([k < last, k < last, k < last, k > 0], axis=1).reshape(-1)

        def weave(parts: Sequence[np.ndarray]) -> np.ndarray:
            return np.stack(parts, axis=1).reshape(-1)[keep]

        lt = weave([b[0] for b in blocks])
        lh = weave([b[1] for b in blocks])
        lc = np.stack([weave([b[2][c] for b in blocks]) for c in range(4)], axis=1)
        lf = weave([b[3] for b in blocks])
        lk = weave([np.full(n_pos, b[4], dtype=np.int64) for b in blocks])
        lref = weave([li] * 4)
        lpos = weave([k] * 4)
        # each walk, then its copy between origin copies (an origin walks first, then boards
        # without the transfer penalty); then origin copy -> stop (to end there or walk on)
        nw = len(wa)
        wt2 = np.repeat(wt, 2)
        s_all = np.arange(n_stops, dtype=np.int64)
        self.tail = np.concatenate(
            [lt, np.stack([wa, n_stops + wa], 1).reshape(-1), n_stops + s_all]
        )
        self.head = np.concatenate([lh, np.stack([wb, n_stops + wb], 1).reshape(-1), s_all])
        wc = np.zeros((2 * nw + n_stops, 4))
        wc[: 2 * nw, 0] = wt2
        self.cost = np.concatenate([lc, wc]).reshape(-1, 4)
        self.total_cost = self.cost[:, 0] + self.cost[:, 1] + self.cost[:, 2]
        self.freq = np.concatenate([lf, np.full(2 * nw + n_stops, _INF)])
        self.kind = np.concatenate([lk, np.full(2 * nw + n_stops, _WALK, dtype=np.int64)])
        self.ref_line = np.concatenate([lref, np.full(2 * nw + n_stops, -1, dtype=np.int64)])
        self.ref_pos = np.concatenate([lpos, np.full(2 * nw + n_stops, -1, dtype=np.int64)])
        nxt = 2 * n_stops + n_pos
        self.n_nodes = nxt
        self.n_stops = n_stops
        # incoming links per head node
        order = np.argsort(self.head, kind="stable")
        self.in_order = order.astype(np.int64)
        self.in_start = np.searchsorted(self.head[order], np.arange(nxt + 1)).astype(np.int64)
        self.in_tail = self.tail[order]  # tails and costs in that order (read in sequence)
        self.in_tot = self.total_cost[order]
        self.in_inf = ~np.isfinite(self.freq[order])


def _heap_push(keys: np.ndarray, vals: np.ndarray, size: int, key: float, val: int) -> int:
    """Push onto a binary min-heap stored in ``keys``/``vals``; return the new size."""
    i = size
    while i > 0:  # move the hole up while the parent is larger
        p = (i - 1) >> 1
        kp = keys[p]
        if kp < key or (kp == key and vals[p] <= val):
            break
        keys[i] = kp
        vals[i] = vals[p]
        i = p
    keys[i] = key
    vals[i] = val
    return size + 1


def _heap_pop(keys: np.ndarray, vals: np.ndarray, size: int) -> tuple[float, int, int]:
    """Pop the smallest (key, value) (ties: smallest value); return it and the new size."""
    top_key = keys[0]
    top_val = vals[0]
    size -= 1
    key = keys[size]
    val = vals[size]
    i = 0
    while True:  # move the hole down while the smaller child is smaller than the last entry
        c = 2 * i + 1
        if c >= size:
            break
        kc = keys[c]
        vc = vals[c]
        r = c + 1
        if r < size:
            kr = keys[r]
            vr = vals[r]
            if kr < kc or (kr == kc and vr < vc):
                c = r
                kc = kr
                vc = vr
        if not (kc < key or (kc == key and vc < val)):
            break
        keys[i] = kc
        vals[i] = vc
        i = c
    keys[i] = key
    vals[i] = val
    return top_key, top_val, size


def _sf_kernel(
    n: int,
    tail: np.ndarray,
    head: np.ndarray,
    cost: np.ndarray,
    tot: np.ndarray,
    freq: np.ndarray,
    in_order: np.ndarray,
    in_start: np.ndarray,
    in_tail: np.ndarray,
    in_tot: np.ndarray,
    in_inf: np.ndarray,
    dests: np.ndarray,
    origin_nodes: np.ndarray,
    D: np.ndarray,
    wait_factor: float,
    eps: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Optimal strategies to every destination and the loading of ``D`` (see the module doc).

    Plain Python over arrays, compiled by numba when it is installed (and then free of the GIL).
    Returns the expected times ``(no, nd)``, their components ``(5, no, nd)`` and the loading as
    records: destination ``di`` puts ``rec_flow[k]`` riders on link ``rec_link[k]`` for ``k`` in
    ``rec_start[di]:rec_start[di + 1]`` (each link at most once per destination), so that the
    caller sums the flows over destinations in one fixed order however they were computed.
    """
    n_links = tail.shape[0]
    no = origin_nodes.shape[0]
    nd = dests.shape[0]
    time_s = np.full((no, nd), np.inf)
    comps = np.zeros((5, no, nd))
    rcap = n_links + 16
    rec_link = np.empty(rcap, dtype=np.int64)
    rec_flow = np.empty(rcap)
    rec_start = np.zeros(nd + 1, dtype=np.int64)
    nrec = 0
    cap = n_links * 4 + 16
    hkeys = np.empty(cap)
    hvals = np.empty(cap, dtype=np.int64)
    u = np.empty(n)
    F = np.empty(n)
    comp = np.empty((n, 5))
    S = np.empty((n, 5))
    closed = np.empty(n, dtype=np.bool_)
    settled = np.empty(n, dtype=np.bool_)
    bkey = np.empty(n)  # the best key of a node's infinite-frequency links queued so far
    blink = np.empty(n, dtype=np.int64)
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
        settled[:] = False
        bkey[:] = np.inf
        blink[:] = -1
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
            if closed[i]:
                continue
            if u[i] <= key + eps:  # so for every later link out of i (keys only grow)
                settled[i] = True
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
            ui = u[i]
            for k in range(in_start[i], in_start[i + 1]):
                ti = in_tail[k]
                if closed[ti] or settled[ti]:  # it would be skipped when popped: never queued
                    continue
                b = in_order[k]
                if done[b]:
                    continue
                kb = ui + in_tot[k]
                if in_inf[k]:  # of a node's walks and rides only the first popped can count
                    if kb < bkey[ti] or (kb == bkey[ti] and b < blink[ti]):
                        bkey[ti] = kb
                        blink[ti] = b
                    else:
                        continue
                if size >= cap:  # grow the heap (rare: many lines at one stop)
                    cap *= 2
                    nk = np.empty(cap)
                    nv = np.empty(cap, dtype=np.int64)
                    nk[:size] = hkeys[:size]
                    nv[:size] = hvals[:size]
                    hkeys = nk
                    hvals = nv
                size = _heap_push(hkeys, hvals, size, kb, b)
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
            rec_start[di + 1] = nrec
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
            if nrec >= rcap:  # grow the records
                rcap *= 2
                nl = np.empty(rcap, dtype=np.int64)
                nf = np.empty(rcap)
                nl[:nrec] = rec_link[:nrec]
                nf[:nrec] = rec_flow[:nrec]
                rec_link = nl
                rec_flow = nf
            rec_link[nrec] = a
            rec_flow[nrec] = v
            nrec += 1
            V[head[a]] += v
        rec_start[di + 1] = nrec
    return time_s, comps, rec_link[:nrec], rec_flow[:nrec], rec_start


def _add_flows(flow: np.ndarray, rec_link: np.ndarray, rec_flow: np.ndarray) -> None:
    """``flow[rec_link[k]] += rec_flow[k]`` in the order of ``k``."""
    for k in range(rec_link.shape[0]):
        flow[rec_link[k]] += rec_flow[k]


try:  # compiled when numba is installed (a declared dependency); plain Python otherwise
    import numba

    _heap_push = numba.njit(cache=True, nogil=True)(_heap_push)
    _heap_pop = numba.njit(cache=True, nogil=True)(_heap_pop)
    _sf_kernel_jit = numba.njit(cache=True, nogil=True)(_sf_kernel)
    _add_flows_jit = numba.njit(cache=True, nogil=True)(_add_flows)
except ImportError:  # pragma: no cover - numba is a dependency
    _sf_kernel_jit = _sf_kernel
    _add_flows_jit = _add_flows


def _threads(threads: int | None, nd: int, n_links: int) -> int:
    """Threads to run: ``threads`` (None: one per core, or one for a small problem)."""
    if threads is not None and threads < 1:
        msg = f"threads must be 1 or more, got {threads}."
        raise DesignError(msg)
    if threads is None:
        threads = (os.cpu_count() or 1) if nd * n_links >= _THREADED_WORK else 1
    return max(1, min(threads, nd))


def _chunks(nd: int, k: int) -> list[tuple[int, int]]:
    """``nd`` destinations cut into ``k`` (or fewer) contiguous chunks of near-equal size."""
    k = max(1, min(k, nd))
    edges = [round(i * nd / k) for i in range(k + 1)]
    return [(a, b) for a, b in zip(edges, edges[1:], strict=False) if b > a]


def _line_loads(
    net: _Net, lines: Sequence[Line], flow: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Boardings, alightings and load per stop position of each line from the link flows."""
    sizes = np.asarray([len(line.stops) for line in lines], dtype=np.int64)
    stop_off = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    ride_off = np.concatenate([[0], np.cumsum(sizes - 1)]).astype(np.int64)
    n_all = int(stop_off[-1])
    b = np.zeros(n_all)
    al = np.zeros(n_all)
    ride = np.zeros(int(ride_off[-1]))
    a = np.flatnonzero(flow)  # ascending: the sums run in link order
    k = net.kind[a]
    for arr, kind, off in ((b, _BOARD, stop_off), (al, _ALIGHT, stop_off), (ride, _RIDE, ride_off)):
        m = a[k == kind]
        np.add.at(arr, off[net.ref_line[m]] + net.ref_pos[m], flow[m])
    return [
        (
            b[stop_off[i] : stop_off[i + 1]],
            al[stop_off[i] : stop_off[i + 1]],
            ride[ride_off[i] : ride_off[i + 1]],
        )
        for i in range(len(lines))
    ]


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
    threads: int | None = None,
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
    threads
        Destinations are assigned in this many threads (None: one per core, or one for a small
        problem). The results are the same, to the bit, for any number of threads.

    Returns
    -------
    Assignment
        Expected times and their components per OD pair, and boardings, alightings and loads per
        line.

    Raises
    ------
    DesignError
        If a line, walk or the matrix does not fit the network, or ``threads`` is below 1.
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
    org = np.asarray(origins, dtype=np.int64).reshape(-1)
    dst = np.asarray(destinations, dtype=np.int64).reshape(-1)
    same = org[:, None] == dst[None, :]  # no trip inside one node
    D[same] = 0.0
    origin_nodes = org + n_stops
    flow = np.zeros(len(net.tail))
    time_s = np.full((no, nd), _INF)
    comps = np.zeros((5, no, nd))
    args = (
        net.n_nodes, net.tail, net.head, net.cost, net.total_cost, net.freq,
        net.in_order, net.in_start, net.in_tail, net.in_tot, net.in_inf,
    )  # fmt: skip

    def run(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        t, c, rl, rf, _ = _sf_kernel_jit(
            *args, dst[lo:hi], origin_nodes, np.ascontiguousarray(D[:, lo:hi]),
            float(wait_factor), _EPS,
        )  # fmt: skip
        return t, c, rl, rf

    n_threads = _threads(threads, nd, len(net.tail))
    # chunks of a few destinations (their flow records are held until merged), at least four
    # per thread so that the threads finish together
    n_chunks = max(-(-nd // _CHUNK), 4 * n_threads if n_threads > 1 else 1)
    bounds = _chunks(nd, n_chunks)

    def merge(
        lo: int, hi: int, t: np.ndarray, c: np.ndarray, rl: np.ndarray, rf: np.ndarray
    ) -> None:
        time_s[:, lo:hi] = t
        comps[:, :, lo:hi] = c
        _add_flows_jit(flow, rl, rf)  # destinations in their order, whatever the threads

    if n_threads == 1:
        for lo, hi in bounds:
            merge(lo, hi, *run(lo, hi))
    else:  # the kernel releases the GIL; the chunks are merged in order as they come
        with ThreadPoolExecutor(max_workers=n_threads) as pool:
            for (lo, hi), part in zip(bounds, pool.map(lambda b: run(*b), bounds), strict=True):
                merge(lo, hi, *part)
    time_s[same] = _INF
    comps[:, same] = 0.0
    loads = _line_loads(net, lines, flow)
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
