"""Bus stops: read Seoul's stops, snap them to the road graph, place shuttle stops along a route.

Reading. :data:`BUS_STOPS_FILE` (Seoul TOPIS stop locations, no header: NODE_ID, ARS_ID, name,
X lon, Y lat, type) is read with :mod:`csv`; a name containing commas spans several fields, so
the name is everything between the ARS number and the last three fields. ARS numbers are text;
the upstream copy dropped the leading zero of Jongno's ``0xxxx`` numbers, so all-digit numbers are
padded to Seoul's five digits (:func:`normalize_ars`).

Snapping (:func:`build_stop_index`). Every stop except virtual ones (type 가상정류장) is snapped to
the directed road edge it stands beside: the candidates are the edges within ``max_snap_m``
(40 m) in EPSG:5179 metres, found with a shapely STRtree. Korea drives on the right, so a stop to
the right of the directed edge ``u -> v`` serves that direction; on a two-way road the stop goes to
``(u, v)`` and not to ``(v, u)``. The chosen edge minimises ``distance + penalty`` where the
penalty is :data:`WRONG_SIDE_PENALTY_M` when the stop lies to the left of the edge (on a two-way
road the reverse edge then wins; a one-way road still takes a stop on its left when nothing better
is near, as on a divided road mapped as one carriageway) plus :data:`MINOR_ROAD_PENALTY_M` on
``minor`` roads (stops at a corner belong to the main road). Expressways (``motorway``,
``trunk``: 내부순환로, 강변북로), tunnels and bridges take no stops (:func:`stoppable`): a stop
beside an elevated expressway belongs to the surface road below it. Stops with no edge in reach
are kept out of the index and counted.

Placement (:func:`place_stops`). Along a routed node path the candidates are the stops snapped to
the path's edges (the cheapest parallel edge by travel time, as :mod:`shuttle.paths`), at their
distance along the path. Forced stops come first:

* the two terminals: the candidate nearest the path end within ``new_stop_radius_m`` along the
  path, else a new stop at the end;
* each anchor whose nearest path point is within ``anchor_reach_m`` (300 m): a forced stop
  already within ``new_stop_radius_m`` (150 m) of it, else the nearest candidate within that
  radius, else a new stop at the path point nearest the anchor.

Between consecutive forced stops a dynamic programme picks candidates so that every gap is in
``[min_spacing_m, max_spacing_m]`` and the sum of squared deviations from the target spacing
``sqrt(min * max)`` (490 m for 300/800) is least. A gap longer than ``max_spacing_m`` costs as the
``k = ceil(gap / max)`` equal pieces it will be cut into by ``k - 1`` new stops, each new stop
adding :data:`NEW_STOP_PENALTY_M` of deviation, so real bus stops win whenever they fit.
New stops go only on stoppable edges: a fill stop moves to the nearest stoppable point that keeps
``min_spacing_m`` to its neighbours, an anchor stop to the nearest one within ``new_stop_radius_m``
along the path (an anchor passed only on an expressway is not served by that path; logged).

Forced cases (documented exceptions to the spacing): a gap between two forced stops shorter than
``min_spacing_m`` is kept (a terminal or anchor close to another one); when ``max < 2 * min`` the
pieces of a filled gap may be shorter than ``min_spacing_m``; and a gap stays longer than
``max_spacing_m`` where the path runs on an expressway, tunnel or bridge with nowhere to stop.

Identifiers (:func:`make_stop_id`): real stops ``"S" + ARS``, new stops ``"N"`` + 8 hex digits of
the SHA-1 of the position rounded to 1e-5 degrees (about 1 m), so the same stop used by several
routes is one :class:`~shuttle.model.Stop`.

Catchment (:func:`catchment`): the union of ``catchment_m`` circles around the stops, a
straight-line (crow-fly) approximation of the walk to the stop, which overstates the walking
catchment where the street grid is sparse (rivers, hills, rail lines). Each dong's population is
spread uniformly over its area.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import networkx as nx
import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from . import areas, geo, names, places
from .config import Scenario
from .errors import DesignError
from .model import Area, Place, Stop
from .places import BUS_STOPS_FILE, BusStop, normalize_ars, read_all_bus_stops

__all__ = [
    "BUS_STOPS_FILE",
    "MINOR_ROAD_PENALTY_M",
    "NEW_STOP_PENALTY_M",
    "WRONG_SIDE_PENALTY_M",
    "BusStop",
    "PathStop",
    "SnappedStop",
    "StopIndex",
    "build_stop_index",
    "catchment",
    "make_stop_id",
    "normalize_ars",
    "stoppable",
    "place_stops",
    "read_all_bus_stops",
    "read_bus_stops",
    "stop_id_of",
    "stops_from_path_stops",
]

log = logging.getLogger(__name__)

VIRTUAL_KIND = "가상정류장"
#: Extra snapping distance (m) for a stop on the left of a directed edge.
WRONG_SIDE_PENALTY_M = 25.0
#: Extra snapping distance (m) for an edge of class ``minor``.
MINOR_ROAD_PENALTY_M = 5.0
#: Farthest a published stop position stands from its road's centreline, metres. A bus stop at
#: the kerb of a wide road can lie 20-40 m from the centreline of the OSM carriageway; its
#: published position is moved along the perpendicular to this offset (keeping its side) so that
#: it lies within GTFS's stop-to-shape tolerance. The original position is kept in ``BusStop``.
MAX_STOP_OFFSET_M = 15.0
#: Deviation from the target spacing (m) charged for each new stop in the placement programme.
NEW_STOP_PENALTY_M = 300.0
NEW_SUFFIX = " (신설)"
#: A new stop is named after a landmark within this distance, metres.
LANDMARK_M = 150.0
#: Road classes and ``brunnel`` values where no stop is snapped or created.
NO_STOP_CLASSES = frozenset({"motorway", "trunk"})
NO_STOP_BRUNNELS = frozenset({"tunnel", "bridge"})


# ----------------------------------------------------------------------------------------------
# reading


def read_bus_stops(scenario: Scenario) -> tuple[BusStop, ...]:
    """Return the bus stops inside the study area (districts + ``network.buffer_m``), by ARS.

    Raises
    ------
    DataError
        If the file is missing or a row is malformed.
    """
    area = areas.study_area(scenario)
    stops = read_all_bus_stops(scenario)
    mask = shapely.covers(area, shapely.points([s.lon for s in stops], [s.lat for s in stops]))
    out = tuple(s for s, m in zip(stops, mask, strict=True) if m)
    log.debug("%d of %d bus stops in the study area", len(out), len(stops))
    return out


# ----------------------------------------------------------------------------------------------
# edge geometry


def _edge_lonlat(
    G: nx.MultiDiGraph, u: int, v: int, data: dict[str, Any]
) -> list[tuple[float, float]]:
    """The edge's (lon, lat) vertices from u to v (node coordinates when it has no geometry)."""
    pu = (float(G.nodes[u]["x"]), float(G.nodes[u]["y"]))
    pv = (float(G.nodes[v]["x"]), float(G.nodes[v]["y"]))
    geom = data.get("geometry")
    if geom is None:
        return [pu, pv]
    pts = [(float(x), float(y)) for x, y in geom.coords]
    d0 = (pts[0][0] - pu[0]) ** 2 + (pts[0][1] - pu[1]) ** 2
    d1 = (pts[-1][0] - pu[0]) ** 2 + (pts[-1][1] - pu[1]) ** 2
    if d1 < d0:
        pts.reverse()
    return pts


def _metric_lines(coords: Sequence[Sequence[tuple[float, float]]]) -> np.ndarray:
    """Project many lon/lat polylines to EPSG:5179 LineStrings at once."""
    counts = np.array([len(c) for c in coords])
    flat = np.array([p for c in coords for p in c], dtype=float).reshape(-1, 2)
    x, y = geo.to_metric_xy(flat[:, 0], flat[:, 1])
    idx = np.repeat(np.arange(len(coords)), counts)
    return shapely.linestrings(np.column_stack([x, y]), indices=idx)


def _road_class(data: dict[str, Any]) -> str:
    h = data.get("highway", "")
    if isinstance(h, list):
        h = sorted(h)[0] if h else ""
    return str(h)


def stoppable(data: dict[str, Any]) -> bool:
    """Whether a bus may stop on an edge: not an expressway (motorway, trunk), tunnel or bridge."""
    return _road_class(data) not in NO_STOP_CLASSES and str(data.get("brunnel") or "") not in (
        NO_STOP_BRUNNELS
    )


def _road_name(data: dict[str, Any]) -> str:
    n = data.get("name")
    if isinstance(n, list):
        n = sorted(str(x) for x in n if x)[0] if n else None
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return ""
    return str(n).strip()


# ----------------------------------------------------------------------------------------------
# snapping


@dataclass(frozen=True, slots=True)
class SnappedStop:
    """A bus stop snapped to the directed road edge whose direction it serves."""

    stop: BusStop
    u: int
    v: int
    key: int
    offset_m: float  # along the edge from u, in the edge's 'length' metres
    lateral_m: float  # distance from the edge line, metres
    side: str  # "right" (serves u -> v) or "left" (one-way edge with the stop on its left)
    x: float  # EPSG:5179 position of the stop
    y: float
    pub_lat: float = 0.0  # published position: within MAX_STOP_OFFSET_M of the edge line
    pub_lon: float = 0.0


@dataclass(frozen=True, eq=False)
class StopIndex:
    """Bus stops snapped to the road graph."""

    by_edge: dict[tuple[int, int, int], tuple[SnappedStop, ...]]  # sorted by offset, then ARS
    snapped: tuple[SnappedStop, ...]  # sorted by ARS
    unsnapped: tuple[BusStop, ...]  # no edge within reach (and virtual stops), sorted by ARS
    tree: cKDTree | None  # over (x, y) of ``snapped``, to name new stops
    landmark_names: tuple[str, ...] = ()  # landmarks to name new stops after
    landmark_tree: cKDTree | None = None  # over their EPSG:5179 (x, y)

    @property
    def share_snapped(self) -> float:
        """Share of the indexed stops that were snapped (0..1)."""
        n = len(self.snapped) + len(self.unsnapped)
        return len(self.snapped) / n if n else 0.0

    def nearest(self, x: float, y: float, max_m: float) -> SnappedStop | None:
        """The snapped stop nearest an EPSG:5179 point within ``max_m``, else None."""
        if self.tree is None:
            return None
        d, i = self.tree.query([x, y], distance_upper_bound=max_m)
        return None if not np.isfinite(d) else self.snapped[int(i)]


def _landmark_index(landmarks: Sequence[Any]) -> tuple[tuple[str, ...], cKDTree | None]:
    lm = sorted({(p.name, round(p.lat, 7), round(p.lon, 7)) for p in landmarks})
    if not lm:
        return (), None
    lx, ly = geo.to_metric_xy(np.array([p[2] for p in lm]), np.array([p[1] for p in lm]))
    return tuple(p[0] for p in lm), cKDTree(np.column_stack([lx, ly]))


def build_stop_index(
    G: nx.MultiDiGraph,
    bus_stops: Sequence[BusStop],
    *,
    max_snap_m: float = 40.0,
    landmarks: Sequence[Any] = (),
) -> StopIndex:
    """Snap bus stops to the directed road edges they serve.

    Parameters
    ----------
    G
        Road graph (lon/lat nodes ``x``/``y``; edges with ``length`` and optional ``geometry``).
    bus_stops
        Stops to snap, e.g. :func:`read_bus_stops`.
    max_snap_m
        Farthest a stop may stand from its edge, metres.
    landmarks
        Named places (``name``, ``lat``, ``lon``) to name new stops after, e.g.
        :func:`shuttle.places.landmarks`.

    Returns
    -------
    StopIndex
        Snapped stops per directed edge ``(u, v, key)`` and the stops that could not be snapped.
    """
    edges = sorted((u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if stoppable(d))
    real = [s for s in sorted(bus_stops) if s.kind != VIRTUAL_KIND]
    virtual = [s for s in sorted(bus_stops) if s.kind == VIRTUAL_KIND]
    if not edges or not real:
        log.warning("nothing to snap: %d edges, %d stops", len(edges), len(real))
        return StopIndex({}, (), tuple(sorted(real + virtual)), None, *_landmark_index(landmarks))
    data = [G.edges[e] for e in edges]
    lines = _metric_lines(
        [_edge_lonlat(G, u, v, d) for (u, v, _), d in zip(edges, data, strict=True)]
    )
    tree = shapely.STRtree(lines)
    sx, sy = geo.to_metric_xy(np.array([s.lon for s in real]), np.array([s.lat for s in real]))
    pts = shapely.points(sx, sy)
    si, ei = tree.query(pts, predicate="dwithin", distance=max_snap_m)
    lat_d = shapely.distance(pts[si], lines[ei])
    off = shapely.line_locate_point(lines[ei], pts[si])
    llen = shapely.length(lines[ei])
    a = shapely.line_interpolate_point(lines[ei], np.clip(off - 0.5, 0, llen))
    b = shapely.line_interpolate_point(lines[ei], np.clip(off + 0.5, 0, llen))
    ax, ay = shapely.get_x(a), shapely.get_y(a)
    bx, by = shapely.get_x(b), shapely.get_y(b)
    cross = (bx - ax) * (sy[si] - ay) - (by - ay) * (sx[si] - ax)
    right = cross <= 0
    # published positions: pulled toward the edge line to at most MAX_STOP_OFFSET_M
    foot = shapely.line_interpolate_point(lines[ei], off)
    fx, fy = shapely.get_x(foot), shapely.get_y(foot)
    shrink = np.where(lat_d > MAX_STOP_OFFSET_M, MAX_STOP_OFFSET_M / np.maximum(lat_d, 1e-9), 1.0)
    px = fx + (sx[si] - fx) * shrink
    py = fy + (sy[si] - fy) * shrink
    plon, plat = geo.to_wgs84_xy(px, py)
    minor = np.array([_road_class(data[j]) == "minor" for j in ei], dtype=bool)
    score = (
        lat_d
        + np.where(right, 0.0, WRONG_SIDE_PENALTY_M)
        + np.where(minor, MINOR_ROAD_PENALTY_M, 0.0)
    )
    # best pair per stop: sort by (stop, score, edge order) and keep the first of each stop
    order = np.lexsort((ei, score, si))
    first = order[np.r_[True, si[order][1:] != si[order][:-1]]] if len(order) else order
    by_edge: dict[tuple[int, int, int], list[SnappedStop]] = {}
    snapped: list[SnappedStop] = []
    done = np.zeros(len(real), dtype=bool)
    for p in first.tolist():
        i, j = int(si[p]), int(ei[p])
        u, v, k = edges[j]
        length = float(data[j].get("length", llen[p]))
        scale = length / llen[p] if llen[p] > 0 else 0.0
        s = SnappedStop(
            stop=real[i],
            u=u,
            v=v,
            key=k,
            offset_m=float(min(max(off[p] * scale, 0.0), length)),
            lateral_m=float(lat_d[p]),
            side="right" if right[p] else "left",
            x=float(sx[i]),
            y=float(sy[i]),
            pub_lat=float(plat[p]),
            pub_lon=float(plon[p]),
        )
        snapped.append(s)
        by_edge.setdefault((u, v, k), []).append(s)
        done[i] = True
    unsnapped = [s for s, ok in zip(real, done, strict=True) if not ok]
    snapped.sort(key=lambda s: (s.stop.ars, s.stop.node_id))
    log.info(
        "snapped %d of %d bus stops to the road graph (%d beyond %.0f m, %d virtual left out)",
        len(snapped),
        len(real),
        len(unsnapped),
        max_snap_m,
        len(virtual),
    )
    lm_names, lm_tree = _landmark_index(landmarks)
    return StopIndex(
        landmark_names=lm_names,
        landmark_tree=lm_tree,
        by_edge={
            e: tuple(sorted(v, key=lambda s: (s.offset_m, s.stop.ars))) for e, v in by_edge.items()
        },
        snapped=tuple(snapped),
        unsnapped=tuple(sorted(unsnapped + virtual)),
        tree=cKDTree(np.array([[s.x, s.y] for s in snapped])) if snapped else None,
    )


# ----------------------------------------------------------------------------------------------
# placement along a path


@dataclass(frozen=True, slots=True)
class PathStop:
    """A shuttle stop chosen along a routed path."""

    dist_m: float  # along the path from its first node, metres (sum of edge 'length')
    lat: float  # the bus stop's own position; for a new stop the point on the road
    lon: float
    node: int  # the path node nearest along the path (start or end node of its edge)
    ars: str | None  # ARS number of a real bus stop, None for a new stop
    name_ko: str
    anchor: str | None = None  # Korean name of the anchor it serves
    edge_index: int = 0  # i of the path edge (node_path[i], node_path[i + 1]) it lies on
    terminal: bool = False  # first or last stop of the path


@dataclass(slots=True)
class _Sel:
    d: float
    edge: int
    cand: SnappedStop | None  # None: a new stop
    anchor: str | None = None
    name: str | None = None  # name of a new stop
    terminal: bool = False


class _Path:
    """A node path with its chosen edges, cumulative lengths and metric geometry."""

    def __init__(self, G: nx.MultiDiGraph, node_path: Sequence[int]) -> None:
        if len(node_path) < 2:
            msg = f"A path needs at least two nodes, got {len(node_path)}."
            raise DesignError(msg)
        self.nodes = [int(n) for n in node_path]
        self.keys: list[int] = []
        self.data: list[dict[str, Any]] = []
        for u, v in zip(self.nodes, self.nodes[1:], strict=False):
            if u not in G or v not in G[u]:
                msg = f"Path nodes {u} and {v} are not joined by a road edge."
                raise DesignError(msg)
            k, d = min(
                G[u][v].items(), key=lambda kv: (float(kv[1].get("travel_time", 0.0)), kv[0])
            )
            self.keys.append(int(k))
            self.data.append(d)
        self.length = np.array([float(d.get("length", 0.0)) for d in self.data])
        self.cum = np.r_[0.0, np.cumsum(self.length)]
        self.total = float(self.cum[-1])
        self.lines = _metric_lines(
            [
                _edge_lonlat(G, u, v, d)
                for u, v, d in zip(self.nodes, self.nodes[1:], self.data, strict=False)
            ]
        )
        self.line_len = shapely.length(self.lines)

    def nearest_ok(self, d: float, lo: float, hi: float) -> tuple[float, int] | None:
        """Distance nearest ``d`` within ``[lo, hi]`` on a stoppable edge and that edge, or None."""
        best: tuple[float, int] | None = None
        for i, data in enumerate(self.data):
            a, b = max(self.cum[i], lo), min(self.cum[i + 1], hi)
            if a > b or not stoppable(data):
                continue
            c = float(min(max(d, a), b))
            if best is None or abs(c - d) < abs(best[0] - d):
                best = (c, i)
        return best

    def edge_at(self, d: float) -> int:
        i = int(np.searchsorted(self.cum, d, side="right")) - 1
        return min(max(i, 0), len(self.data) - 1)

    def point_at(self, d: float, edge: int | None = None) -> tuple[float, float]:
        """Metric (x, y) of the path point at distance ``d``."""
        i = self.edge_at(d) if edge is None else edge
        f = (d - self.cum[i]) / self.length[i] if self.length[i] > 0 else 0.0
        p = shapely.line_interpolate_point(self.lines[i], min(max(f, 0.0), 1.0), normalized=True)
        return float(shapely.get_x(p)), float(shapely.get_y(p))

    def locate(self, x: float, y: float) -> tuple[float, float, int]:
        """Distance from the path, distance along it and edge index of the point nearest (x, y)."""
        pt = shapely.points(x, y)
        dist = shapely.distance(self.lines, pt)
        i = int(np.argmin(dist))
        off = float(shapely.line_locate_point(self.lines[i], pt))
        f = off / self.line_len[i] if self.line_len[i] > 0 else 0.0
        return float(dist[i]), float(self.cum[i] + f * self.length[i]), i

    def node_near(self, d: float, edge: int) -> int:
        mid = self.cum[edge] + self.length[edge] / 2
        return self.nodes[edge] if d <= mid else self.nodes[edge + 1]


def _target(min_m: float, max_m: float) -> float:
    return math.sqrt(min_m * max_m)


def _gap_cost(s: float, min_m: float, max_m: float) -> tuple[float, int]:
    """Cost of a gap of ``s`` metres between chosen stops and the new stops it needs."""
    k = max(1, math.ceil(s / max_m - 1e-9))
    piece = s / k
    t = _target(min_m, max_m)
    cost = k * ((piece - t) / 100.0) ** 2 + (k - 1) * (NEW_STOP_PENALTY_M / 100.0) ** 2
    return cost, k - 1


def _choose_between(
    a: float, b: float, inner: Sequence[tuple[float, int]], min_m: float, max_m: float
) -> tuple[list[int], list[float]]:
    """Pick candidates strictly between forced stops at ``a`` and ``b``.

    ``inner`` holds ``(distance, candidate id)`` sorted by distance. Returns the chosen candidate
    ids and the distances of the new stops that fill gaps longer than ``max_m``.
    """
    pos = [a] + [d for d, _ in inner] + [b]
    n = len(pos)
    best = [math.inf] * n
    back = [-1] * n
    best[0] = 0.0
    for j in range(1, n):
        for i in range(j):
            if best[i] == math.inf:
                continue
            s = pos[j] - pos[i]
            if s < min_m and not (i == 0 and j == n - 1):
                continue
            c = best[i] + _gap_cost(s, min_m, max_m)[0]
            if c < best[j] - 1e-12:
                best[j], back[j] = c, i
    chain = [n - 1]
    while chain[-1] != 0:
        chain.append(back[chain[-1]])
    chain.reverse()
    chosen = [inner[j - 1][1] for j in chain[1:-1]]
    fills: list[float] = []
    for i, j in zip(chain, chain[1:], strict=False):
        s = pos[j] - pos[i]
        _, extra = _gap_cost(s, min_m, max_m)
        fills.extend(pos[i] + s * m / (extra + 1) for m in range(1, extra + 1))
    return chosen, fills


def _new_name(path: _Path, index: StopIndex, edge: int, x: float, y: float) -> str:
    """Name a new stop as residents would: the nearest landmark, else the road, else a stop.

    Names are one word where possible (a landmark such as "가재울초등학교", or the road name
    "성산로"), which is also what the canonical GTFS mixed-case rule accepts for Hangul text.
    """
    if index.landmark_tree is not None:
        d, i = index.landmark_tree.query([x, y], distance_upper_bound=LANDMARK_M)
        if np.isfinite(d):
            return index.landmark_names[int(i)]
    road = _road_name(path.data[edge])
    if road:
        return road
    near = index.nearest(x, y, 300.0)
    if near is not None:
        return f"{near.stop.name_ko} 부근{NEW_SUFFIX}"
    return "신설 정류장"


def place_stops(
    G: nx.MultiDiGraph,
    node_path: Sequence[int],
    index: StopIndex,
    scenario: Scenario,
    *,
    anchors: Iterable[Place] = (),
    anchor_reach_m: float = 300.0,
) -> tuple[PathStop, ...]:
    """Choose the stops of a routed path: terminals, anchors, then real bus stops at even spacing.

    Parameters
    ----------
    G
        Road graph the path runs on.
    node_path
        Graph nodes of the path in order; consecutive nodes must be joined by an edge (the
        cheapest parallel edge by ``travel_time`` is used).
    index
        Bus stops snapped to ``G`` (:func:`build_stop_index`).
    scenario
        Supplies ``stops.min_spacing_m``, ``max_spacing_m`` and ``new_stop_radius_m``.
    anchors
        Places the route must serve when it passes within ``anchor_reach_m`` of them.
    anchor_reach_m
        Farthest (straight line, metres) an anchor may be from the path to be served by it.

    Returns
    -------
    tuple of PathStop
        Stops sorted by distance along the path; the first is at the start terminal, the last at
        the end terminal. Gaps next to terminals and anchors may be shorter than
        ``min_spacing_m`` when two forced stops are that close.

    Raises
    ------
    DesignError
        If the path has fewer than two nodes or two consecutive nodes are not joined.
    """
    cfg = scenario.stops
    radius = cfg.new_stop_radius_m
    path = _Path(G, node_path)
    L = path.total

    cands: list[tuple[float, int, SnappedStop]] = []
    for i, (u, v, k) in enumerate(zip(path.nodes, path.nodes[1:], path.keys, strict=False)):
        for s in index.by_edge.get((u, v, k), ()):
            cands.append((float(path.cum[i] + s.offset_m), i, s))
    cands.sort(key=lambda c: (c[0], c[2].stop.ars))

    def sel_xy(sel: _Sel) -> tuple[float, float]:
        if sel.cand is not None:
            return sel.cand.x, sel.cand.y
        return path.point_at(sel.d, sel.edge)

    forced: list[_Sel] = []
    for place in anchors:
        ax, ay = (float(c) for c in geo.to_metric_xy(place.lon, place.lat))
        off_path, d_a, _ = path.locate(ax, ay)
        if off_path > anchor_reach_m:
            continue
        reuse = [f for f in forced if math.dist(sel_xy(f), (ax, ay)) <= radius]
        if reuse:
            f = min(reuse, key=lambda f: (math.dist(sel_xy(f), (ax, ay)), f.d))
            log.debug("anchor %r shares the stop of anchor %r", place.name_ko, f.anchor)
            continue
        near = [c for c in cands if math.dist((c[2].x, c[2].y), (ax, ay)) <= radius]
        if near:
            d, i, s = min(near, key=lambda c: (math.dist((c[2].x, c[2].y), (ax, ay)), c[0]))
            forced.append(_Sel(d, i, s, anchor=place.name_ko))
        else:
            ok = path.nearest_ok(d_a, d_a - radius, d_a + radius)
            if ok is None or math.dist(path.point_at(*ok), (ax, ay)) > anchor_reach_m:
                log.warning(
                    "anchor %r: the path passes it only on an expressway, tunnel or bridge; "
                    "no stop",
                    place.name_ko,
                )
                continue
            forced.append(_Sel(ok[0], ok[1], None, anchor=place.name_ko, name=place.name_ko))
    # terminals: an anchor stop near a path end serves as the terminal, else the bus stop
    # nearest the end within the radius, else a new stop at the end
    head = [f for f in forced if f.d <= radius]
    if head:
        start = min(head, key=lambda f: f.d)
    else:
        near_start = [c for c in cands if c[0] <= radius]
        if near_start:
            d, i, s = near_start[0]
            start = _Sel(d, i, s)
        else:
            start = _Sel(0.0, 0, None)
        forced.append(start)
    start.terminal = True
    taken = {id(f.cand) for f in forced if f.cand is not None}
    tail = [f for f in forced if f.d >= L - radius and f is not start]
    if tail:
        max(tail, key=lambda f: f.d).terminal = True
    else:
        near_end = [c for c in cands if c[0] >= L - radius and id(c[2]) not in taken]
        if near_end:
            d, i, s = near_end[-1]
            forced.append(_Sel(d, i, s, terminal=True))
        else:
            forced.append(_Sel(L, len(path.data) - 1, None, terminal=True))
    forced.sort(key=lambda f: (f.d, not f.terminal))

    chosen: list[_Sel] = list(forced)
    used = {id(f.cand) for f in forced if f.cand is not None}
    for a, b in zip(forced, forced[1:], strict=False):
        inner_c = [c for c in cands if a.d < c[0] < b.d and id(c[2]) not in used]
        ids, fills = _choose_between(
            a.d,
            b.d,
            [(c[0], j) for j, c in enumerate(inner_c)],
            cfg.min_spacing_m,
            cfg.max_spacing_m,
        )
        gap = [_Sel(inner_c[j][0], inner_c[j][1], inner_c[j][2]) for j in ids]
        gap += [_Sel(d, path.edge_at(d), None) for d in fills]
        gap.sort(key=lambda f: f.d)
        prev = a.d
        for n, sel in enumerate(gap):
            if sel.cand is None:
                nxt = gap[n + 1].d if n + 1 < len(gap) else b.d
                ok = path.nearest_ok(sel.d, prev + cfg.min_spacing_m, nxt - cfg.min_spacing_m)
                if ok is None:
                    log.debug("no stoppable road for a new stop near %.0f m; gap left long", sel.d)
                    continue
                sel.d, sel.edge = ok
            chosen.append(sel)
            prev = sel.d
    chosen.sort(key=lambda f: (f.d, not f.terminal))

    out = []
    for sel in chosen:
        if sel.cand is not None:
            bus = sel.cand.stop
            lat, lon = sel.cand.pub_lat, sel.cand.pub_lon
            ars, name = bus.ars, bus.name_ko
        else:
            x, y = path.point_at(sel.d, sel.edge)
            lo, la = geo.to_wgs84_xy(x, y)
            lat, lon, ars = float(la), float(lo), None
            name = sel.name or _new_name(path, index, sel.edge, x, y)
        out.append(
            PathStop(
                dist_m=round(float(sel.d), 2),
                lat=round(lat, 7),
                lon=round(lon, 7),
                node=path.node_near(sel.d, sel.edge),
                ars=ars,
                name_ko=name,
                anchor=sel.anchor,
                edge_index=sel.edge,
                terminal=sel.terminal,
            )
        )
    log.debug(
        "placed %d stops (%d real) on a %.0f m path",
        len(out),
        sum(p.ars is not None for p in out),
        L,
    )
    return tuple(out)


# ----------------------------------------------------------------------------------------------
# identifiers and Stop objects


def make_stop_id(ars: str | None, lat: float, lon: float) -> str:
    """Return the stable id of a stop: ``"S" + ARS`` for a bus stop, else ``"N" + hash``.

    The hash is the first 8 hex digits of the SHA-1 of ``"lat,lon"`` rounded to 5 decimals.
    """
    if ars:
        return f"S{ars}"
    key = f"{round(lat, 5):.5f},{round(lon, 5):.5f}"
    return "N" + hashlib.sha1(key.encode("ascii")).hexdigest()[:8]


def stop_id_of(ps: PathStop) -> str:
    """Return the stop id of a placed stop (see :func:`make_stop_id`)."""
    return make_stop_id(ps.ars, ps.lat, ps.lon)


def stops_from_path_stops(path_stops: Iterable[PathStop], scenario: Scenario) -> tuple[Stop, ...]:
    """Merge placed stops of all routes into unique :class:`~shuttle.model.Stop` objects.

    Stops with the same id (same ARS, or the same new position) become one; the first occurrence
    gives name and node, the first non-empty anchor is kept. English names come from
    :func:`shuttle.names.english_name`.

    Returns
    -------
    tuple of Stop
        Sorted by ``stop_id``.
    """
    merged: dict[str, Stop] = {}
    for ps in path_stops:
        sid = stop_id_of(ps)
        cur = merged.get(sid)
        if cur is None:
            merged[sid] = Stop(
                stop_id=sid,
                name_ko=ps.name_ko,
                name_en=names.english_name(ps.name_ko),
                lat=ps.lat,
                lon=ps.lon,
                node=ps.node,
                ars=ps.ars,
                district=places.district_of(scenario, ps.lat, ps.lon),
                anchor=ps.anchor,
            )
        elif cur.anchor is None and ps.anchor is not None:
            merged[sid] = dataclasses.replace(cur, anchor=ps.anchor)
    return tuple(merged[k] for k in sorted(merged))


# ----------------------------------------------------------------------------------------------
# catchment


class _HasLatLon(Protocol):
    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...


def _rings(geom: BaseGeometry) -> tuple[tuple[tuple[tuple[float, float], ...], ...], ...]:
    parts = [
        g for g in getattr(geom, "geoms", [geom]) if not g.is_empty and g.geom_type == "Polygon"
    ]
    parts.sort(key=lambda p: (p.bounds[1], p.bounds[0]))
    return tuple(
        tuple(
            tuple((round(y, 6), round(x, 6)) for x, y in ring.coords)
            for ring in (p.exterior, *p.interiors)
        )
        for p in parts
    )


def catchment(
    stops: Iterable[_HasLatLon],
    scenario: Scenario,
    zones: Sequence[areas.Zone] | None = None,
    *,
    simplify_m: float = 5.0,
) -> tuple[Area, float, tuple[tuple[int, int, int], ...]]:
    """Return the stops' walking catchment and the share of the districts' population in it.

    The catchment is the union of straight-line circles of ``stops.catchment_m`` around the
    stops (a crow-fly approximation of the walk). A dong's residents are taken as spread evenly
    over its area, so a dong contributes ``population * area share inside the catchment``.

    Parameters
    ----------
    stops
        Objects with ``lat`` and ``lon`` (Stop, PathStop, BusStop).
    scenario
        Supplies ``stops.catchment_m``; zones are read from it when not given.
    zones
        The dongs with their population (:func:`shuttle.areas.read_zones`).
    simplify_m
        Tolerance of the outline simplification for the map, metres.

    Returns
    -------
    area, coverage, by_district
        The catchment as an :class:`~shuttle.model.Area` (code 0, ``population`` = residents
        covered), the covered share of the zones' population (0..1), and
        ``(gu, covered, population)`` per district of the scenario.
    """
    if zones is None:
        zones = areas.read_zones(scenario)
    r = scenario.stops.catchment_m
    pts = [(s.lon, s.lat) for s in stops]
    if pts:
        arr = np.array(pts, dtype=float)
        x, y = geo.to_metric_xy(arr[:, 0], arr[:, 1])
        union = unary_union(shapely.buffer(shapely.points(x, y), r, quad_segs=16))
    else:
        union = shapely.Polygon()
    covered: dict[int, float] = {}
    total: dict[int, int] = {}
    for z in zones:
        total[z.district] = total.get(z.district, 0) + z.population
        zm = geo.to_metric(z.geometry)
        share = zm.intersection(union).area / zm.area if zm.area > 0 and not union.is_empty else 0.0
        covered[z.district] = covered.get(z.district, 0.0) + z.population * share
    by_district = tuple(
        (gu, int(round(covered.get(gu, 0.0))), total.get(gu, 0))
        for gu in scenario.districts
        if gu in total
    )
    pop = sum(t for _, _, t in by_district)
    cov_people = sum(c for _, c, _ in by_district)
    coverage = cov_people / pop if pop else 0.0
    outline = geo.to_wgs84(union.simplify(simplify_m)) if not union.is_empty else union
    area = Area(
        code=0,
        name_ko=f"정류장 도보권 ({r:g} m)",
        name_en=f"Stop catchment ({r:g} m)",
        polygons=_rings(outline),
        population=cov_people,
    )
    log.info("catchment %.0f m covers %.1f%% of %d residents", r, 100 * coverage, pop)
    return area, coverage, by_district
