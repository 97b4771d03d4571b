"""The existing bus network on the road graph, and its frequency-based GTFS feed.

:func:`place_routes` runs every imported route (:mod:`shuttle.transit`) over the road graph
from stop to stop, with the same run-time model as the shuttle (:mod:`shuttle.runtime`:
free-flow edge ``travel_time`` x the period's factor + a dwell at every intermediate stop).

Placing a stop
    Every road edge within ``[baseline] snap_m`` metres of the stop is a candidate (both
    directions of a two-way street, both carriageways of a divided road). A route's candidates are
    chosen together, by dynamic programming over its stop sequence: the choice that minimises the
    driving time from stop to stop plus :data:`SNAP_PENALTY_S_PER_M` seconds per metre of snapping.
    So a bus stops on the carriageway it drives on, and it may turn back wherever the road graph
    lets it (real buses U-turn at their terminals, and the sequence is the whole circuit).
Between two stops
    The shortest path by travel time from the end of the first stop's edge to the start of the
    next one's (or along one edge when both lie on it), searched with compiled Dijkstra up to a
    time limit set by the straight-line gap (:data:`_LIMITS`), widened until a path is found.
The circuit
    OA-1095 lists the whole circuit; the last stop lies at or near the first. The leg from the last
    stop back to the first (:attr:`PlacedRoute.closing_m`) completes the round trip that the route
    table's length (거리) and running time (운행시간) describe.

Nothing is guessed silently: stops with no edge within ``snap_m`` are dropped from the route and
listed as issues; a route with fewer than two stops left is not imported.

:func:`feed_tables` and :func:`write_feed` give the routes as a frequency-based GTFS feed: one
agency per operator (업체명), ``route_type`` 3, the route table's colour, weekday service, one
template trip per route and run of one period, ``frequencies.txt`` with the route's headway of that
period between its first and last bus.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import logging
import math
import os
import statistics
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString
from shapely.ops import substring

from . import colors, geo, paths, runtime, transit
from . import io as shio
from .config import DAY_TYPES, DISTRICTS, Scenario
from .errors import DesignError, ExportError
from .model import Pattern

__all__ = [
    "MAX_CANDIDATES",
    "SNAP_PENALTY_S_PER_M",
    "Baseline",
    "PlacedRoute",
    "RouteCheck",
    "baseline_from_data",
    "baseline_scenario",
    "baseline_to_data",
    "baseline_to_json",
    "check_routes",
    "feed_tables",
    "issue_rows",
    "median_ape",
    "place_routes",
    "summary",
    "write_feed",
]

log = logging.getLogger(__name__)

#: Seconds of driving a metre of snapping distance is worth when choosing a stop's edge.
SNAP_PENALTY_S_PER_M = 0.5
#: Most candidate edges kept per stop (nearest first).
MAX_CANDIDATES = 6
#: Search limits between two stops, tried in turn until a path is found: (seconds, seconds per
#: metre of straight line). 0.35 s/m is 1.4x the straight line at 14 km/h; 60 s allow a U-turn.
_LIMITS = ((60.0, 0.35), (240.0, 1.4), (math.inf, 0.0))
_AGENCY_URL = "https://topis.seoul.go.kr/"  # Seoul's transit information service (TOPIS)
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class PlacedRoute:
    """An existing route on the road graph: one pattern over the whole circuit."""

    route: transit.BusRoute
    pattern: Pattern  # stop_ids are NODE_IDs; run_times_s free-flow; shape on the road graph
    closing_m: float  # road distance from the last stop back to the first
    closing_s: int  # its free-flow time
    dropped: tuple[str, ...] = ()  # NODE_IDs of stops off the graph (left out of the pattern)
    stop_nodes: tuple[int, ...] = ()  # per stop, the road node where the bus leaves it

    @property
    def circuit_m(self) -> float:
        """Modelled length of the whole circuit (pattern plus closing leg), metres."""
        return self.pattern.length_m + self.closing_m

    def circuit_s(self, factor: float, dwell_s: int) -> int:
        """Modelled round trip at a run-time factor: pattern with dwells plus the closing leg."""
        return runtime.trip_duration_s(self.pattern, factor, dwell_s) + round(
            self.closing_s * factor
        )


@dataclass(frozen=True, slots=True)
class Baseline:
    """The existing network: placed bus routes, their stops, metro lines and what was left out."""

    routes: tuple[PlacedRoute, ...]  # sorted by route name, ROUTE_ID
    stops: tuple[transit.TransitStop, ...]  # every stop of a placed route, sorted by NODE_ID
    stop_nodes: tuple[tuple[str, int], ...]  # (NODE_ID, road node where the bus leaves the stop)
    rail: tuple[transit.RailLine, ...] = ()
    issues: tuple[transit.Issue, ...] = ()


@dataclass(frozen=True, slots=True)
class RouteCheck:
    """Modelled circuit against the route table."""

    name: str
    route_id: str
    stops: int
    table_km: float | None
    model_km: float
    table_min: float | None
    model_min: float
    length_err: float | None  # (model - table) / table
    time_err: float | None
    note: str  # why the route may differ (dropped stops, running time source, ...)


# ----------------------------------------------------------------------------------------------
# graph


def baseline_scenario(scenario: Scenario) -> Scenario:
    """The scenario of the road graph the existing routes run on (``[baseline]`` districts,
    buffer and road classes; the scenario's speeds)."""
    from dataclasses import replace

    b = scenario.baseline
    districts = b.districts or tuple(sorted(DISTRICTS))
    net = replace(scenario.network, buffer_m=b.buffer_m, classes=b.classes)
    return replace(scenario, districts=districts, network=net)


@dataclass(frozen=True, slots=True)
class _Cand:
    u: int
    v: int
    key: int
    frac: float  # position along the edge, 0 at u, 1 at v
    snap_m: float


class _Placer:
    """Candidate edges of stops and the cheapest legs between them, memoised per stop pair."""

    def __init__(self, G: nx.MultiDiGraph, snap_m: float) -> None:
        self.G = G
        self.snap_m = snap_m
        self.rm = paths.road_matrix(G, "travel_time")
        edges = list(G.edges(keys=True, data=True))
        self.edge_ids = [(u, v, k) for u, v, k, _ in edges]
        self.lengths = np.array([d["length"] for *_, d in edges], dtype=float)
        self.times = np.array([d["travel_time"] for *_, d in edges], dtype=float)
        self.eidx = {e: i for i, e in enumerate(self.edge_ids)}
        geoms = np.array([d["geometry"] for *_, d in edges], dtype=object)
        self.geoms = geoms
        self.metric = shapely.transform(geoms, geo.metric_points)
        self.tree = shapely.STRtree(self.metric)
        self.cands: dict[str, tuple[_Cand, ...]] = {}
        self.legs: dict[tuple[str, str], Any] = {}

    def locate(self, stops: Iterable[transit.TransitStop]) -> None:
        todo = {s.node_id: s for s in stops if s.node_id not in self.cands}
        if not todo:
            return
        ids = sorted(todo)
        x, y = geo.to_metric_xy(
            np.array([todo[i].lon for i in ids]), np.array([todo[i].lat for i in ids])
        )
        pts = shapely.points(np.column_stack([x, y]))
        pi, ei = self.tree.query(pts, predicate="dwithin", distance=self.snap_m)
        dist = shapely.distance(pts[pi], self.metric[ei])
        loc = shapely.line_locate_point(self.metric[ei], pts[pi], normalized=True)
        found: dict[int, list[tuple[float, int, float]]] = {}
        for p, e, d, f in zip(pi.tolist(), ei.tolist(), dist.tolist(), loc.tolist(), strict=True):
            found.setdefault(p, []).append((d, e, f))
        for j, nid in enumerate(ids):
            lst = sorted(found.get(j, []), key=lambda t: (round(t[0], 3), self.edge_ids[t[1]]))
            self.cands[nid] = tuple(
                _Cand(*self.edge_ids[e], frac=min(max(f, 0.0), 1.0), snap_m=d)
                for d, e, f in lst[:MAX_CANDIDATES]
            )

    def leg(self, a: transit.TransitStop, b: transit.TransitStop) -> tuple[np.ndarray, list[Any]]:
        """Cost matrix (time + snap penalty of b) and paths between the candidates of a and b."""
        key = (a.node_id, b.node_id)
        if key in self.legs:
            return self.legs[key]
        ca, cb = self.cands[a.node_id], self.cands[b.node_id]
        crow = geo.haversine_m(a.lat, a.lon, b.lat, b.lon)
        heads = sorted({c.v for c in ca})
        cost = np.full((len(ca), len(cb)), np.inf)
        route: list[Any] = [[None] * len(cb) for _ in ca]
        for base_s, per_m in _LIMITS:
            limit = base_s + per_m * crow
            dist, pred = paths.shortest(self.rm, heads, predecessors=True, limit=limit)
            assert pred is not None
            row = {h: i for i, h in enumerate(heads)}
            for i, c1 in enumerate(ca):
                e1 = self.eidx[(c1.u, c1.v, c1.key)]
                for j, c2 in enumerate(cb):
                    e2 = self.eidx[(c2.u, c2.v, c2.key)]
                    pen = SNAP_PENALTY_S_PER_M * c2.snap_m
                    if e1 == e2 and c2.frac >= c1.frac:
                        cost[i, j] = (c2.frac - c1.frac) * self.times[e1] + pen
                        route[i][j] = ()
                        continue
                    d = dist[row[c1.v], self.rm.index[c2.u]]
                    if not np.isfinite(d):
                        continue
                    cost[i, j] = (1 - c1.frac) * self.times[e1] + d + c2.frac * self.times[e2] + pen
                    route[i][j] = (row[c1.v], pred)
            if np.isfinite(cost).any():
                break
        # resolve the predecessor rows now so the big arrays are not kept
        for i, c1 in enumerate(ca):
            for j, c2 in enumerate(cb):
                r = route[i][j]
                if r:
                    ri, pr = r
                    route[i][j] = tuple(paths.path_nodes(self.rm, pr[ri], c1.v, c2.u))
        self.legs[key] = (cost, route)
        return cost, route

    def path(self, a: int, b: int) -> tuple[int, ...] | None:
        """Node path of the quickest route from node a to node b (None if unreachable)."""
        _, pred = paths.shortest(self.rm, [a], predecessors=True)
        assert pred is not None
        try:
            return tuple(paths.path_nodes(self.rm, pred[0], a, b))
        except DesignError:
            return None

    def edge(self, u: int, v: int) -> int:
        return self.eidx[(u, v, self.rm.edge_key[(u, v)])]


def _part(geom: LineString, a: float, b: float) -> list[tuple[float, float]]:
    """Lon/lat points of the part of an edge between fractions a <= b."""
    if a <= 0.0 and b >= 1.0:
        return list(geom.coords)
    g = substring(geom, a, b, normalized=True)
    return list(g.coords) if g.geom_type == "LineString" else [g.coords[0]]


def _place_one(
    pl: _Placer, route: transit.BusRoute
) -> tuple[PlacedRoute | None, list[transit.Issue]]:
    issues: list[transit.Issue] = []
    kept = [s for s in route.stops if pl.cands[s.node_id]]
    dropped = tuple(s.node_id for s in route.stops if not pl.cands[s.node_id])
    if dropped:
        names = ", ".join(s.name for s in route.stops if not pl.cands[s.node_id])
        issues.append(
            transit.Issue(
                route.name,
                "stop off graph",
                f"{len(dropped)} of {len(route.stops)} stops have no road within snap_m: {names}"[
                    :300
                ],
                len(kept) >= 2,
            )
        )
    if len(kept) < 2:
        return None, issues
    # Viterbi over the candidates
    n = len(kept)
    first = pl.cands[kept[0].node_id]
    acc = np.array([SNAP_PENALTY_S_PER_M * c.snap_m for c in first])
    back: list[np.ndarray] = []
    legs = []
    for a, b in zip(kept, kept[1:], strict=False):
        cost, rt = pl.leg(a, b)
        legs.append(rt)
        tot = acc[:, None] + cost
        arg = np.argmin(tot, axis=0)
        acc = tot[arg, np.arange(tot.shape[1])]
        back.append(arg)
    if not np.isfinite(acc).any():  # pragma: no cover - the graph is strongly connected
        issues.append(transit.Issue(route.name, "no road path", "stops not connected", False))
        return None, issues
    choice = [int(np.argmin(acc))]
    for arg in reversed(back):
        choice.append(int(arg[choice[-1]]))
    choice.reverse()
    cands = [pl.cands[s.node_id][c] for s, c in zip(kept, choice, strict=True)]

    shape: list[tuple[float, float]] = []
    stop_dist = [0.0]
    run_s: list[int] = []
    node_path: list[int] = [cands[0].v]
    total = 0.0

    def leg_geometry(
        c1: _Cand, c2: _Cand, nodes: tuple[int, ...] | None
    ) -> tuple[float, float, list[Any]]:
        e1 = pl.eidx[(c1.u, c1.v, c1.key)]
        e2 = pl.eidx[(c2.u, c2.v, c2.key)]
        if nodes == ():
            f = c2.frac - c1.frac
            return f * pl.lengths[e1], f * pl.times[e1], _part(pl.geoms[e1], c1.frac, c2.frac)
        assert nodes is not None
        m = (1 - c1.frac) * pl.lengths[e1] + c2.frac * pl.lengths[e2]
        t = (1 - c1.frac) * pl.times[e1] + c2.frac * pl.times[e2]
        pts = _part(pl.geoms[e1], c1.frac, 1.0)
        for u, v in zip(nodes, nodes[1:], strict=False):
            e = pl.edge(u, v)
            m += pl.lengths[e]
            t += pl.times[e]
            pts += list(pl.geoms[e].coords)
        pts += _part(pl.geoms[e2], 0.0, c2.frac)
        return m, t, pts

    for k in range(n - 1):
        rt = legs[k][choice[k]][choice[k + 1]]
        m, t, pts = leg_geometry(cands[k], cands[k + 1], rt)
        if rt:
            node_path.extend(rt[1:] if node_path and rt[0] == node_path[-1] else rt)
        node_path.append(cands[k + 1].v)
        shape.extend(pts if not shape else pts[1:])
        total += m
        stop_dist.append(total)
        run_s.append(max(1, round(t)))
    # closing leg: last stop back to the first
    cost, rt = pl.leg(kept[-1], kept[0])
    r = rt[choice[-1]][choice[0]]
    if r is None:  # that pair of candidates lay beyond the search limit: search it alone
        r = pl.path(cands[-1].v, cands[0].u)
    if r is None:  # pragma: no cover - strongly connected graph
        close_m, close_t = 0.0, 0.0
        issues.append(transit.Issue(route.name, "no closing leg", "last stop to first", True))
    else:
        close_m, close_t, _ = leg_geometry(cands[-1], cands[0], r)
    rounded = [(round(lat, 6), round(lon, 6)) for lon, lat in shape]
    dedup = [rounded[0]]
    for p in rounded[1:]:
        if geo.haversine_m(*dedup[-1], *p) >= 0.05:  # drop repeated and sub-5-cm points
            dedup.append(p)
    if len(dedup) < 2:
        dedup.append(dedup[0])
    nodes_clean = [node_path[0]]
    for x in node_path[1:]:
        if x != nodes_clean[-1]:
            nodes_clean.append(x)
    pattern = Pattern(
        direction_id=0,
        headsign_ko=route.terminal or kept[-1].name,
        headsign_en="",
        stop_ids=tuple(s.node_id for s in kept),
        run_times_s=tuple(run_s),
        stop_dist_m=tuple(round(d, 1) for d in stop_dist),
        shape=tuple(dedup),
        length_m=round(total, 1),
        node_path=tuple(nodes_clean),
    )
    placed = PlacedRoute(
        route=route,
        pattern=pattern,
        closing_m=round(close_m, 1),
        closing_s=round(close_t),
        dropped=dropped,
        stop_nodes=tuple(c.v for c in cands),
    )
    return placed, issues


def place_routes(
    G: nx.MultiDiGraph,
    routes: Sequence[transit.BusRoute],
    *,
    snap_m: float = 40.0,
    rail: Sequence[transit.RailLine] = (),
    issues: Iterable[transit.Issue] = (),
) -> Baseline:
    """Place the routes on the road graph (see the module docstring).

    Parameters
    ----------
    G
        Road graph (:func:`shuttle.network.load_graph` of :func:`baseline_scenario`), with
        ``travel_time`` and ``geometry`` on every edge.
    routes
        From :func:`shuttle.transit.import_bus_routes`.
    snap_m
        Farthest a stop may lie from its road edge (metres).
    rail, issues
        Carried into the result (metro lines; the importer's issues).

    Returns
    -------
    Baseline
        Placed routes and stops; ``issues`` extended by the stops and routes left out.
    """
    pl = _Placer(G, snap_m)
    for r in routes:
        pl.locate(r.stops)
    out: list[PlacedRoute] = []
    all_issues = list(issues)
    stops: dict[str, transit.TransitStop] = {}
    nodes: dict[str, int] = {}
    for r in routes:
        placed, iss = _place_one(pl, r)
        all_issues.extend(iss)
        if placed is None:
            continue
        out.append(placed)
        for s in r.stops:
            if s.node_id in placed.pattern.stop_ids:
                stops.setdefault(s.node_id, s)
        for sid, node in zip(placed.pattern.stop_ids, placed.stop_nodes, strict=True):
            nodes.setdefault(sid, node)
    log.info(
        "baseline: %d of %d routes placed, %d stops, %d issues",
        len(out), len(routes), len(stops), len(all_issues),
    )  # fmt: skip
    return Baseline(
        routes=tuple(sorted(out, key=lambda p: (p.route.name, p.route.route_id))),
        stops=tuple(stops[k] for k in sorted(stops)),
        stop_nodes=tuple(sorted(nodes.items())),
        rail=tuple(rail),
        issues=tuple(sorted(all_issues, key=lambda i: (i.route, i.kind, i.detail))),
    )


def _tuples(x: Any) -> Any:
    return tuple(_tuples(v) for v in x) if isinstance(x, list) else x


def baseline_to_data(baseline: Baseline) -> dict[str, Any]:
    """The placed network as plain JSON data (for a cache); :func:`baseline_from_data` reverses
    it. Metro lines are not included (they are cheap to rebuild from their settings)."""
    return {
        "routes": [dataclasses.asdict(p) for p in baseline.routes],
        "stops": [dataclasses.asdict(s) for s in baseline.stops],
        "stop_nodes": [list(x) for x in baseline.stop_nodes],
        "issues": [dataclasses.asdict(i) for i in baseline.issues],
    }


def baseline_from_data(
    data: Mapping[str, Any], *, rail: Sequence[transit.RailLine] = ()
) -> Baseline:
    """Rebuild a :class:`Baseline` from :func:`baseline_to_data` output.

    Raises
    ------
    KeyError, TypeError
        If the data does not have that shape (a stale or foreign cache).
    """
    routes = []
    for d in data["routes"]:
        r = dict(d["route"])
        r["stops"] = tuple(transit.TransitStop(**s) for s in r["stops"])
        r = {k: (v if k == "stops" else _tuples(v)) for k, v in r.items()}
        pat = Pattern(**{k: _tuples(v) for k, v in d["pattern"].items()})
        routes.append(
            PlacedRoute(
                route=transit.BusRoute(**r),
                pattern=pat,
                closing_m=d["closing_m"],
                closing_s=d["closing_s"],
                dropped=_tuples(d["dropped"]),
                stop_nodes=_tuples(d["stop_nodes"]),
            )
        )
    return Baseline(
        routes=tuple(routes),
        stops=tuple(transit.TransitStop(**s) for s in data["stops"]),
        stop_nodes=tuple((str(a), int(b)) for a, b in data["stop_nodes"]),
        rail=tuple(rail),
        issues=tuple(transit.Issue(**i) for i in data["issues"]),
    )


# ----------------------------------------------------------------------------------------------
# checks against the route table


def check_routes(baseline: Baseline, scenario: Scenario) -> tuple[RouteCheck, ...]:
    """Modelled circuit length and round trip against the table's 거리 and 운행시간.

    The round trip uses the run-time factor of ``[baseline] period`` and ``[baseline] dwell_s``.
    """
    b = scenario.baseline
    factor = scenario.service.time_factor(b.period)
    out = []
    for p in baseline.routes:
        r = p.route
        km = p.circuit_m / 1000
        mins = p.circuit_s(factor, b.dwell_s) / 60
        notes = []
        if p.dropped:
            notes.append(f"{len(p.dropped)} stop(s) off graph")
        if r.run_min_source and r.run_min_source != "info 2024":
            notes.append(f"time from {r.run_min_source}")
        out.append(
            RouteCheck(
                name=r.name,
                route_id=r.route_id,
                stops=len(p.pattern.stop_ids),
                table_km=r.length_km,
                model_km=round(float(km), 2),
                table_min=r.run_min,
                model_min=round(mins, 1),
                length_err=float(km - r.length_km) / r.length_km if r.length_km else None,
                time_err=(mins - r.run_min) / r.run_min if r.run_min else None,
                note="; ".join(notes),
            )
        )
    return tuple(out)


def median_ape(errors: Iterable[float | None]) -> float:
    """Median absolute percentage error (percent) of the known relative errors."""
    vals = [abs(e) * 100 for e in errors if e is not None and math.isfinite(e)]
    return statistics.median(vals) if vals else float("nan")


# ----------------------------------------------------------------------------------------------
# GTFS


def _time(t: int) -> str:
    return f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"


def _runs(first: int, last: int, scenario: Scenario) -> list[tuple[int, int, str]]:
    """Split [first, last] into runs of one period: (start, end, period).

    The end is exclusive; the last run ends a minute after the last bus so that it is included.
    """
    svc = scenario.service
    cuts = {first, last + 60}
    for a, b in (*svc.peak, *svc.evening):
        for t in (a, b, a + 86400, b + 86400):
            if first < t <= last:
                cuts.add(t)
    if first < 86400 <= last:
        cuts.add(86400)
    pts = sorted(cuts)
    out: list[tuple[int, int, str]] = []
    for a, b in zip(pts, pts[1:], strict=False):
        p = svc.period_at(a)
        if out and out[-1][2] == p and out[-1][1] == a:
            out[-1] = (out[-1][0], b, p)
        else:
            out.append((a, b, p))
    return out


def feed_tables(baseline: Baseline, scenario: Scenario) -> dict[str, list[list[str]]]:
    """The GTFS tables of the existing bus network (header row first, rows sorted).

    Raises
    ------
    ExportError
        If no route was placed.
    """
    if not baseline.routes:
        msg = "The baseline has no placed route: nothing to write."
        raise ExportError(msg)
    svc = scenario.service
    dwell = scenario.baseline.dwell_s
    operators = sorted({op for p in baseline.routes for op in p.route.operators})
    agency_id = {op: f"OP{i + 1:03d}" for i, op in enumerate(operators)}
    used = {s for p in baseline.routes for s in p.pattern.stop_ids}
    t: dict[str, list[list[str]]] = {}
    t["agency.txt"] = [
        ["agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang"],
        *[[agency_id[op], op, _AGENCY_URL, "Asia/Seoul", "ko"] for op in operators],
    ]
    t["stops.txt"] = [
        ["stop_id", "stop_code", "stop_name", "stop_lat", "stop_lon"],
        *[
            [s.node_id, s.ars, s.name or s.ars, f"{s.lat:.6f}", f"{s.lon:.6f}"]
            for s in baseline.stops
            if s.node_id in used
        ],
    ]
    routes = [
        [
            "route_id",
            "agency_id",
            "route_short_name",
            "route_long_name",
            "route_desc",
            "route_type",
            "route_color",
            "route_text_color",
        ]
    ]
    trips = [["route_id", "service_id", "trip_id", "trip_headsign", "direction_id", "shape_id"]]
    stop_times = [
        [
            "trip_id",
            "arrival_time",
            "departure_time",
            "stop_id",
            "stop_sequence",
            "shape_dist_traveled",
        ]
    ]
    freqs = [["trip_id", "start_time", "end_time", "headway_secs", "exact_times"]]
    shapes = [
        ["shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence", "shape_dist_traveled"]
    ]
    for p in baseline.routes:
        r = p.route
        rid = r.route_id
        color = r.color or colors.SEOUL_COLORS["branch"][1]
        long_name = f"{r.origin}-{r.terminal}" if r.origin and r.terminal else ""
        desc = f"{r.kind_ko} {r.kind_en}".strip()
        if len(r.operators) > 1:
            desc += "; operators " + ", ".join(r.operators)
        routes.append(
            [
                rid,
                agency_id[r.operators[0]],
                r.name,
                long_name if long_name != r.name else "",
                desc,
                "3",
                color,
                colors.text_color_for(color),
            ]
        )
        pts = [(lat, lon) for lat, lon in p.pattern.shape]
        cum = [0.0]
        for (a1, o1), (a2, o2) in zip(pts, pts[1:], strict=False):
            cum.append(cum[-1] + geo.haversine_m(a1, o1, a2, o2))
        scale = p.pattern.length_m / cum[-1] if cum[-1] > 0 else 1.0
        for i, ((lat, lon), d) in enumerate(zip(pts, cum, strict=True)):
            shapes.append([rid, f"{lat:.6f}", f"{lon:.6f}", str(i), f"{d * scale:.2f}"])
        for k, (a, b, period) in enumerate(_runs(r.first_s, r.last_s, scenario)):
            tid = f"{rid}_{k:02d}"
            trips.append([rid, "weekday", tid, p.pattern.headsign_ko, "0", rid])
            arr, dep = runtime.stop_times(p.pattern.run_times_s, a, svc.time_factor(period), dwell)
            for seq, (sid, ta, td, dist) in enumerate(
                zip(p.pattern.stop_ids, arr, dep, p.pattern.stop_dist_m, strict=True)
            ):
                stop_times.append([tid, _time(ta), _time(td), sid, str(seq), f"{dist:.1f}"])
            head = max(60, round(r.headway(period) * 60))
            freqs.append([tid, _time(a), _time(b), str(head), "0"])
    t["routes.txt"] = routes
    t["trips.txt"] = trips
    t["stop_times.txt"] = stop_times
    t["frequencies.txt"] = freqs
    weekday = ["1", "1", "1", "1", "1", "0", "0"]
    t["calendar.txt"] = [
        [
            "service_id",
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
            "start_date",
            "end_date",
        ],
        ["weekday", *weekday, svc.start_date.strftime("%Y%m%d"), svc.end_date.strftime("%Y%m%d")],
    ]
    t["shapes.txt"] = shapes
    digest = hashlib.sha256()
    for name in sorted(t):
        digest.update(name.encode())
        digest.update(_csv(t[name]))
    t["feed_info.txt"] = [
        [
            "feed_publisher_name",
            "feed_publisher_url",
            "feed_lang",
            "feed_start_date",
            "feed_end_date",
            "feed_version",
            "feed_contact_url",
        ],
        [
            scenario.agency_ko or scenario.title_ko or scenario.name,
            scenario.agency_url,
            "ko",
            svc.start_date.strftime("%Y%m%d"),
            svc.end_date.strftime("%Y%m%d"),
            f"baseline-{digest.hexdigest()[:12]}",
            scenario.agency_url,
        ],
    ]
    assert DAY_TYPES[0] == "weekday"
    return t


def _csv(rows: Sequence[Sequence[str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def write_feed(
    baseline: Baseline, scenario: Scenario, path: str | os.PathLike[str]
) -> Path:
    """Write the baseline GTFS zip atomically (byte-stable) and return its path.

    Raises
    ------
    ExportError
        If there is nothing to write or the file cannot be written.
    """
    tables = feed_tables(baseline, scenario)
    with shio.atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as zf:
        for name, rows in tables.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, _csv(rows))
    log.info("baseline feed written to %s", path)
    return Path(path)


def baseline_to_json(baseline: Baseline, checks: Sequence[RouteCheck]) -> dict[str, Any]:
    """The import report: headline figures, every issue, and each route against its table row."""
    return {
        "summary": dict(summary(baseline, checks)),
        "issues": issue_rows(baseline.issues),
        "routes": [
            {
                "name": c.name,
                "route_id": c.route_id,
                "stops": c.stops,
                "table_km": c.table_km,
                "model_km": c.model_km,
                "table_min": c.table_min,
                "model_min": c.model_min,
                "note": c.note,
            }
            for c in checks
        ],
        "rail": [
            {
                "line": r.line,
                "stations": len(r.stations),
                "links": len(r.links),
                "districts": list(r.districts),
                "headways_min": dict(r.headways_min),
                "speed_kph": r.speed_kph,
            }
            for r in baseline.rail
        ],
    }


def issue_rows(issues: Iterable[transit.Issue]) -> list[dict[str, Any]]:
    """Issues as plain dicts (for JSON or a table)."""
    return [
        {"route": i.route, "kind": i.kind, "detail": i.detail, "imported": i.imported}
        for i in issues
    ]


def summary(baseline: Baseline, checks: Sequence[RouteCheck]) -> Mapping[str, Any]:
    """Headline figures of a baseline."""
    return {
        "routes": len(baseline.routes),
        "stops": len(baseline.stops),
        "rail_lines": [line.line for line in baseline.rail],
        "left_out": sorted({i.route for i in baseline.issues if not i.imported}),
        "length_mape_pct": round(float(median_ape(c.length_err for c in checks)), 1),
        "time_mape_pct": round(float(median_ape(c.time_err for c in checks)), 1),
    }
