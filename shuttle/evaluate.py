"""Passenger evaluation of a built route network: zone-to-zone travel times over the real stops.

:func:`evaluate_network` scores the routes and stops a design actually built (not the abstract
key-node problem the designer optimised): every demand zone is joined on foot to the stops near
it, passengers ride the patterns stop by stop, change at a stop or walk across the street to
another one, and take the fastest path. The result is comparable between scenarios whatever
their key networks, because it depends only on the routes, the stops, the zones and the OD.

Transit graph
-------------
One :func:`scipy.sparse.csgraph.dijkstra` run from all zone sources at once, costs in minutes,
over these nodes and edges:

- a *source* and a *sink* node per zone, at the zone's centre (:func:`zone_points`: the polygon
  centroid, or its representative point when the centroid lies outside the polygon);
- per stop a *board* hub (ready to board) and an *alight* hub (just got off);
- per pattern position ``(pattern, i)`` a *departure* node (on the bus leaving stop ``i``;
  ``i < n - 1``) and an *arrival* node (on the bus reaching stop ``i``; ``i > 0``).

======================  ================================================  ====================
edge                    cost                                              component
======================  ================================================  ====================
source -> board hub     walk to every stop within :data:`ACCESS_RADIUS_M` walk
alight hub -> sink      walk from every stop within :data:`ACCESS_RADIUS_M` walk
board hub -> departure  half the route's headway in the evaluated period   wait, transfer
                        + the transfer penalty
                        (``design.transfer_penalty_min``)
departure -> arrival    run time in the evaluated period                  in-vehicle
                        (:func:`shuttle.runtime.stop_times`)
arrival -> departure    ``service.dwell_s`` (staying on through a stop)   in-vehicle
arrival -> alight hub   0                                                 --
alight -> board hub     0 at the same stop; a walk to every other stop    walk
                        within :data:`TRANSFER_RADIUS_M` (cross the
                        street to the other direction)
======================  ================================================  ====================

Walks are crow-fly distances (EPSG:5179) times :data:`WALK_DETOUR` at ``design.walk_speed_kmh``.
The split hubs allow one walk between two rides and forbid trips on foot only or chains of
transfer walks; the split pattern nodes forbid boarding and alighting at the same stop. Dwell is
counted at the intermediate stops a passenger rides through (as in the routes' one-way times of
:func:`shuttle.design.design_kpis`), not at the boarding or alighting stop.

Period
    One evaluation is for one day type and period (default weekday off-peak): run times are the
    patterns' free-flow times times that period's factor, with dwell, exactly as the timetable's
    stop times (:mod:`shuttle.runtime`); the wait is half the headway each route actually runs in
    that period (``headways_min``: route id -> minutes, e.g. from the timetable's fleet rows after
    the fleet cap; default the scenario's headway of that day and period).
    :func:`period_figures` evaluates several periods from the timetable's fleet rows.

Conventions (as :mod:`shuttle.utrp`): the transfer penalty is paid per boarding and the first
one is subtracted afterwards (its wait is kept: every passenger waits for the first bus), so
transfers = boardings - 1. Among equally fast paths the one with the fewest boardings counts: each
boarding edge carries :data:`TIE_EPS` minutes more, and the components and boardings of the chosen
path are summed over the shortest-path tree (pointer jumping over the Dijkstra predecessors).

Figures
-------
ATT and its components (walk, wait, in-vehicle, transfer penalty) are demand-weighted means over
the OD pairs that have a path; d0, d1, d2 are the percent of *all* demand whose path has 0, 1 or 2
transfers, and dun the rest (more transfers, no path, or no stop within :data:`ACCESS_RADIUS_M` of
the origin or destination centre). Pairs inside one zone are left out.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from . import geo, runtime
from .config import Scenario
from .errors import DesignError
from .model import FleetRow, PeriodFigures, Route, Stop

__all__ = [
    "ACCESS_RADIUS_M",
    "TIE_EPS",
    "TRANSFER_RADIUS_M",
    "WALK_DETOUR",
    "NetworkEvaluation",
    "evaluate_network",
    "half_headway_min",
    "period_figures",
    "zone_points",
]

log = logging.getLogger(__name__)

#: A zone centre reaches (and is reached from) every stop within this crow-fly distance (m).
ACCESS_RADIUS_M = 800.0
#: Passengers may walk between two different stops this close (crow-fly metres) to transfer.
TRANSFER_RADIUS_M = 250.0
#: Walking distance = crow-fly distance x this factor.
WALK_DETOUR = 1.3
#: Tie-break added to every boarding edge (minutes): the fastest path with fewest boardings wins.
TIE_EPS = 1e-6


@dataclass(frozen=True, eq=False)
class NetworkEvaluation:
    """Stop-level passenger figures of a route network (see the module docstring).

    Attributes
    ----------
    att_min
        Average travel time, minutes: demand-weighted mean over the OD pairs with a path of
        ``walk_min + wait_min + in_vehicle_min + transfer_min`` (``inf`` if no pair has one).
    walk_min, wait_min, in_vehicle_min, transfer_min
        The components of ``att_min``: access, egress and transfer walks; waits (half the
        headway per boarding); riding incl. dwell; transfer penalty per transfer.
    d0, d1, d2, dun
        Percent of all demand whose path has 0, 1, 2 transfers; the rest (more transfers, no
        path, no stop near either end).
    access_pct
        Percent of all demand whose origin and destination centres both have a stop within
        :data:`ACCESS_RADIUS_M`.
    demand
        Total demand evaluated (trips per day, diagonal excluded).
    time_min
        ``(z, z)`` travel time of each OD pair, minutes (``inf`` without a path, diagonal
        ``nan``).
    transfers
        ``(z, z)`` transfers on each pair's path (``-1`` without a path or on the diagonal).
    """

    att_min: float
    walk_min: float
    wait_min: float
    in_vehicle_min: float
    transfer_min: float
    d0: float
    d1: float
    d2: float
    dun: float
    access_pct: float
    demand: float
    time_min: np.ndarray
    transfers: np.ndarray

    def figures(self) -> dict[str, float]:
        """The scalar figures by name (for logs, tables and comparisons)."""
        return {
            "att_min": self.att_min,
            "walk_min": self.walk_min,
            "wait_min": self.wait_min,
            "in_vehicle_min": self.in_vehicle_min,
            "transfer_min": self.transfer_min,
            "d0": self.d0,
            "d1": self.d1,
            "d2": self.d2,
            "dun": self.dun,
            "access_pct": self.access_pct,
            "demand": self.demand,
        }


def half_headway_min(scenario: Scenario, day: str = "weekday", period: str = "offpeak") -> float:
    """Expected wait for a bus, minutes: half the scenario's headway (0 if not run).

    The default is the weekday off-peak headway.
    """
    try:
        return scenario.service.day(day).headway(period) / 2.0
    except KeyError:
        return 0.0


def zone_points(zones: Sequence[Any]) -> list[tuple[float, float]]:
    """Centre ``(lon, lat)`` of each zone: its centroid, or its representative point if outside."""
    out = []
    for z in zones:
        g = z.geometry
        c = g.centroid
        if not g.contains(c):
            c = g.representative_point()
        out.append((float(c.x), float(c.y)))
    return out


def _pairs_within(
    a: np.ndarray, b: np.ndarray, radius: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs ``(i, j)`` with ``|a_i - b_j| <= radius`` (sorted) and their distances."""
    hits = cKDTree(a).query_ball_tree(cKDTree(b), radius)
    i = np.array([k for k, h in enumerate(hits) for _ in h], dtype=np.int64)
    j = np.array([m for h in hits for m in sorted(h)], dtype=np.int64)
    d = np.hypot(*(a[i] - b[j]).T) if len(i) else np.zeros(0)
    return i, j, d


class _Edges:
    """Edge lists of the transit graph with their cost components (minutes)."""

    def __init__(self) -> None:
        self.u: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.walk: list[np.ndarray] = []
        self.wait: list[np.ndarray] = []
        self.ivt: list[np.ndarray] = []
        self.board: list[np.ndarray] = []

    def add(
        self,
        u: np.ndarray,
        v: np.ndarray,
        *,
        walk: float | np.ndarray = 0.0,
        wait: float = 0.0,
        ivt: float | np.ndarray = 0.0,
        board: bool = False,
    ) -> None:
        n = len(u)
        self.u.append(np.asarray(u, dtype=np.int64))
        self.v.append(np.asarray(v, dtype=np.int64))
        self.walk.append(np.broadcast_to(np.asarray(walk, dtype=float), (n,)))
        self.wait.append(np.full(n, wait))
        self.ivt.append(np.broadcast_to(np.asarray(ivt, dtype=float), (n,)))
        self.board.append(np.full(n, 1.0 if board else 0.0))

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            k: np.concatenate(getattr(self, k)) if getattr(self, k) else np.zeros(0)
            for k in ("u", "v", "walk", "wait", "ivt", "board")
        }


def _path_sums(pred: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """Sum edge values along every shortest-path-tree path (pointer jumping).

    ``pred`` is ``(s, n)`` Dijkstra predecessors (negative at roots and unreached nodes);
    ``vals`` is ``(k, s, n)``: the value of the tree edge entering each node. Returns the sums
    from the root to each node, same shape as ``vals``.
    """
    s, n = pred.shape
    ptr = np.where(pred >= 0, pred, np.arange(n)[None, :])
    acc = np.where(pred[None] >= 0, vals, 0.0)
    for _ in range(max(1, math.ceil(math.log2(max(n, 2)))) + 1):
        nxt = np.take_along_axis(ptr, ptr, axis=1)
        acc = acc + np.take_along_axis(acc, np.broadcast_to(ptr, acc.shape), axis=2)
        # a root's own value is 0, so adding it once it is reached changes nothing
        if np.array_equal(nxt, ptr):
            break
        ptr = nxt
    return acc


def evaluate_network(
    routes: Sequence[Route],
    stops: Sequence[Stop],
    zones: Sequence[Any],
    trips: np.ndarray,
    scenario: Scenario,
    *,
    day: str = "weekday",
    period: str = "offpeak",
    headways_min: dict[str, float] | None = None,
) -> NetworkEvaluation:
    """Evaluate a built route network for the zone-to-zone demand (see the module docstring).

    Parameters
    ----------
    routes
        The routes; every pattern (direction) is evaluated as run.
    stops
        The stops the patterns name (more are allowed and ignored unless near a zone).
    zones
        Demand zones: objects with a lon/lat ``geometry`` (:class:`shuttle.areas.Zone`).
    trips
        ``(z, z)`` trips per day in the order of ``zones``; the diagonal is ignored.
    scenario
        Supplies ``design.transfer_penalty_min``, ``design.walk_speed_kmh``,
        ``service.dwell_s``, the period's run-time factor and the default headways.
    day, period
        The day type and period evaluated (default weekday off-peak).
    headways_min
        Route id -> headway (minutes) run in that period; routes not named (or ``None``) use
        the scenario's headway of ``day`` and ``period``.

    Returns
    -------
    NetworkEvaluation
        ATT and its components, d0/d1/d2/dun, the access share and the per-pair matrices.

    Raises
    ------
    DesignError
        If a pattern names a stop not in ``stops``, or ``trips`` does not match ``zones``.
    """
    nz = len(zones)
    T = np.asarray(trips, dtype=float)
    if T.shape != (nz, nz):
        msg = f"The OD matrix is {T.shape} but there are {nz} zones; pass the demand's own zones."
        raise DesignError(msg)
    T = T.copy()
    np.fill_diagonal(T, 0.0)
    total = float(T.sum())

    ds, sv = scenario.design, scenario.service
    speed = ds.walk_speed_kmh * 1000.0 / 60.0  # metres per minute
    pen = float(ds.transfer_penalty_min)
    wait_default = half_headway_min(scenario, day, period)
    heads = headways_min or {}
    factor = sv.time_factor(period)
    dwell = sv.dwell_s / 60.0

    st = sorted(stops, key=lambda s: s.stop_id)
    sidx = {s.stop_id: i for i, s in enumerate(st)}
    ns = len(st)
    # node numbering: sources, sinks, board hubs, alight hubs, pattern nodes
    src0, snk0, bh0, ah0 = 0, nz, 2 * nz, 2 * nz + ns
    nxt = 2 * nz + 2 * ns
    E = _Edges()
    for r in routes:
        for p in r.patterns:
            n = len(p.stop_ids)
            try:
                sp = np.array([sidx[s] for s in p.stop_ids], dtype=np.int64)
            except KeyError as e:
                msg = f"Route {r.route_id} stops at {e.args[0]!r}, which is not among the stops."
                raise DesignError(msg) from e
            dep = nxt + np.arange(n - 1)  # dep[i]: leaving stop i, i = 0..n-2
            arr = nxt + n - 1 + np.arange(n - 1)  # arr[i]: reaching stop i + 1
            nxt += 2 * (n - 1)
            t_arr, t_dep = runtime.stop_times(p.run_times_s, 0, factor, sv.dwell_s)
            run = (np.asarray(t_arr[1:], dtype=float) - np.asarray(t_dep[:-1])) / 60.0
            wait = heads[r.route_id] / 2.0 if r.route_id in heads else wait_default
            E.add(dep, arr, ivt=run)
            E.add(arr[:-1], dep[1:], ivt=dwell)  # stay on through stops 1..n-2
            E.add(bh0 + sp[:-1], dep, wait=wait, board=True)
            E.add(arr, ah0 + sp[1:])
    n_nodes = nxt

    sxy = geo.metric_points([(s.lon, s.lat) for s in st])
    zxy = geo.metric_points(zone_points(zones))
    has_access = np.zeros(nz, dtype=bool)
    E.add(ah0 + np.arange(ns), bh0 + np.arange(ns))  # change at the same stop
    if ns and nz:
        a, b, d = _pairs_within(sxy, sxy, TRANSFER_RADIUS_M)
        keep = a != b
        E.add(ah0 + a[keep], bh0 + b[keep], walk=d[keep] * WALK_DETOUR / speed)
        z, s, d = _pairs_within(zxy, sxy, ACCESS_RADIUS_M)
        w = d * WALK_DETOUR / speed
        E.add(src0 + z, bh0 + s, walk=w)
        E.add(ah0 + s, snk0 + z, walk=w)
        has_access[np.unique(z)] = True

    ed = E.arrays()
    cost = ed["walk"] + ed["wait"] + ed["ivt"] + ed["board"] * (pen + TIE_EPS)
    G = csr_matrix((cost, (ed["u"], ed["v"])), shape=(n_nodes, n_nodes))
    if G.nnz != len(cost):  # duplicate (u, v) would have been summed
        msg = "Internal error: the transit graph has parallel edges."
        raise DesignError(msg)
    # edge id lookup for the tree edges: key u * n + v, sorted
    key = ed["u"] * n_nodes + ed["v"]
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]

    time_min = np.full((nz, nz), np.inf)
    transfers = np.full((nz, nz), -1, dtype=np.int64)
    comp = np.zeros((4, nz, nz))  # walk, wait, ivt, boardings
    if nz and ed["u"].size:
        dist, pred = dijkstra(G, directed=True, indices=np.arange(nz), return_predecessors=True)
        pred = pred.astype(np.int64)
        eid = np.zeros(pred.shape, dtype=np.int64)
        ok = pred >= 0
        cols = np.broadcast_to(np.arange(n_nodes), pred.shape)
        eid[ok] = order[np.searchsorted(key_sorted, pred[ok] * n_nodes + cols[ok])]
        vals = np.stack([np.where(ok, ed[k][eid], 0.0) for k in ("walk", "wait", "ivt", "board")])
        sums = _path_sums(pred, vals)[:, :, snk0 : snk0 + nz]
        reach = np.isfinite(dist[:, snk0 : snk0 + nz])
        comp = np.where(reach[None], sums, 0.0)
        boardings = np.rint(comp[3]).astype(np.int64)
        tr_pen = np.maximum(boardings - 1, 0) * pen
        time_min = np.where(reach, comp[0] + comp[1] + comp[2] + tr_pen, np.inf)
        transfers = np.where(reach, boardings - 1, -1)
    np.fill_diagonal(time_min, np.nan)
    np.fill_diagonal(transfers, -1)

    off = ~np.eye(nz, dtype=bool)
    served = off & (transfers >= 0)
    w_served = float(T[served].sum())
    if w_served > 0:
        walk_m = float((T * np.where(served, comp[0], 0.0)).sum() / w_served)
        wait_m = float((T * np.where(served, comp[1], 0.0)).sum() / w_served)
        ivt_m = float((T * np.where(served, comp[2], 0.0)).sum() / w_served)
        pen_m = float((T * np.where(served, np.maximum(transfers, 0) * pen, 0.0)).sum() / w_served)
    else:
        walk_m = wait_m = ivt_m = pen_m = math.inf
    att = walk_m + wait_m + ivt_m + pen_m

    def pct(mask: np.ndarray) -> float:
        return 100.0 * float(T[mask & off].sum()) / total if total > 0 else 0.0

    d0, d1, d2 = (pct(transfers == k) for k in (0, 1, 2))
    dun = max(0.0, 100.0 - d0 - d1 - d2) if total > 0 else 0.0
    access = pct(has_access[:, None] & has_access[None, :])
    log.debug(
        "network evaluation: ATT %.2f min (walk %.2f, wait %.2f, ride %.2f, transfer %.2f), "
        "d0/d1/d2/dun %.1f/%.1f/%.1f/%.1f %%, access %.1f %%",
        att,
        walk_m,
        wait_m,
        ivt_m,
        pen_m,
        d0,
        d1,
        d2,
        dun,
        access,
    )
    return NetworkEvaluation(
        att_min=att,
        walk_min=walk_m,
        wait_min=wait_m,
        in_vehicle_min=ivt_m,
        transfer_min=pen_m,
        d0=d0,
        d1=d1,
        d2=d2,
        dun=dun,
        access_pct=access,
        demand=total,
        time_min=time_min,
        transfers=transfers,
    )


def period_figures(
    routes: Sequence[Route],
    stops: Sequence[Stop],
    zones: Sequence[Any],
    trips: np.ndarray,
    scenario: Scenario,
    fleet: Sequence[FleetRow],
    periods: Sequence[tuple[str, str]] = (("weekday", "peak"), ("weekday", "offpeak")),
) -> tuple[PeriodFigures, ...]:
    """Evaluate the network in each ``(day type, period)`` with the headways the timetable runs.

    Parameters
    ----------
    routes, stops, zones, trips, scenario
        As for :func:`evaluate_network`.
    fleet
        The timetable's fleet rows: ``headways_min`` of each route and day type (widened by the
        fleet cap where it had to be).
    periods
        The day types and periods to evaluate; a pair the timetable does not run is skipped.

    Returns
    -------
    tuple of PeriodFigures
        One row per evaluated pair, in the order given; figures rounded as the design's KPIs.
    """
    out = []
    for day, period in periods:
        rows = [f for f in fleet if f.service_id == day]
        if not rows:
            continue
        heads = {f.route_id: dict(f.headways_min)[period] for f in rows}
        ev = evaluate_network(
            routes, stops, zones, trips, scenario, day=day, period=period, headways_min=heads
        )
        out.append(
            PeriodFigures(
                service_id=day,
                period=period,
                att_min=round(float(ev.att_min), 3),
                walk_min=round(float(ev.walk_min), 3),
                wait_min=round(float(ev.wait_min), 3),
                in_vehicle_min=round(float(ev.in_vehicle_min), 3),
                transfer_min=round(float(ev.transfer_min), 3),
                d0=round(ev.d0, 4),
                d1=round(ev.d1, 4),
                d2=round(ev.d2, 4),
                dun=round(ev.dun, 4),
            )
        )
    return tuple(out)
