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

Placement (:func:`place_stops`). Along a routed node path the candidates are the real stops the
path can serve on its right-hand side: those snapped to the path's edges (the cheapest parallel
edge by travel time, as :mod:`shuttle.paths`), plus those snapped to a parallel edge (a slip road,
another key) within :data:`BESIDE_M` right of the path whose published position is within
:data:`BESIDE_PUB_M` of it. No new stop stands within ``stops.real_stop_snap_m`` (100 m) of any
bus stop where the road allows another place ("clear"); a new stop that would is replaced by a
candidate within that distance. Forced stops come first:

* each anchor whose nearest path point is within ``anchor_reach_m`` (300 m): a forced stop
  already within ``new_stop_radius_m`` (150 m) of it; else the nearest candidate within that
  radius; else the nearest candidate named after the anchor within reach ("은평구청" for the
  은평구청 POI 186 m away; :func:`anchor_stops`); else a candidate within ``real_stop_snap_m`` of
  the path point nearest the anchor; else a clear new stop within the radius, else within reach;
  else the nearest candidate within reach; else a new stop at that point. Its straight-line
  distance is ``PathStop.anchor_m`` (``Stop.anchor_m``, listed by the report);
* ``partners`` (:func:`place_route_stops`): the opposite direction's new stops that this path
  passes the other way within :data:`PAIR_M`: the candidate within ``real_stop_snap_m`` +
  :data:`PARTNER_SLACK_M` there, else a new stop of the same name at this side's kerb (moved up to
  :data:`PAIR_M` along the road to be clear, else left out);
* the two terminals: a forced stop within ``max(new_stop_radius_m, min_spacing_m)`` of a path
  end; else the candidate nearest the end within ``new_stop_radius_m``; else a clear new stop
  within it; else the candidate nearest the end within ``max(...)``; else a new stop at the end.

Between consecutive forced stops a dynamic programme picks candidates so that every gap is in
``[min_spacing_m, max_spacing_m]``, no two consecutive stops share a name, and the sum of squared
deviations from the target spacing ``sqrt(min * max)`` (490 m for 300/800) is least. A gap longer
than ``max_spacing_m`` costs as the ``k = ceil(gap / max)`` equal pieces it will be cut into by
``k - 1`` new stops, each new stop adding :data:`NEW_STOP_PENALTY_M` of deviation, so real bus
stops win whenever they fit. A fill stop becomes the candidate within ``real_stop_snap_m`` of it;
else it moves to the nearest clear stoppable point that keeps ``min_spacing_m`` to its
neighbours, else half of it, else it becomes the nearest free candidate in its gap, else the
nearest stoppable point (an anchor passed only on an expressway is not served by that path;
logged). A real stop is served once per path, and of two consecutive real stops of one name the
one that is neither anchor nor terminal is dropped.

Where no point is clear of bus stops (a fill stop with no clear place even at half spacing, an
anchor or a terminal with bus stops all around and none on its side), a new stop goes to the
point with the fewest bus stops within ``real_stop_snap_m``, then the farthest from them
(:func:`_room`): one across the road then becomes the other direction's partner.

New stops stand :data:`NEW_STOP_OFFSET_M` (6 m) right of the road's centreline, at the kerb of
the direction that uses them, so the two directions never share a new stop; with
:func:`place_route_stops` they come in pairs, one per direction, where both directions run the
road: each direction is placed afresh with the other's new stops as partners until neither
changes (at most :data:`PAIR_ROUNDS` rounds, then the first direction is completed with the
last partners). The designer places every route this way.

Turnarounds (:func:`turnaround_stops`). A route end is split halfway round its loop; the
designer (:func:`shuttle.design._join`) makes one stop near the split the terminal of both
directions. The loop offers, best first: its real bus stops within ``new_stop_radius_m`` of the
split; a new stop clear of bus stops within that radius; its bus stops within ``max_spacing_m /
2``; a clear new stop there; then the least crowded points (:func:`_room`).

A new stop is named (:func:`_new_name`) after the nearest landmark within
:data:`LANDMARK_M` (tile POIs, :func:`shuttle.places.landmarks`); else after the intersection
nearest along the path within :data:`CROSSING_M`, written ``"<road>·<crossing road>교차로"``
("연희로·증가로교차로"; streets before lanes ending in 길, higher road classes first, no bridge
names); else after its road ("성산로"); a name equal to the previous stop's gets a number.
:func:`stops_from_path_stops` then renames new stops so that no name is shared by two stops more
than :data:`SAME_NAME_M` (200 m) apart (``"<name>.<road>"``, Seoul's "A.B" form, else
``"<name> 2"``).

Forced cases (documented exceptions to the spacing): a gap between two forced stops shorter than
``min_spacing_m`` is kept (a terminal, anchor or partner close to another one); when
``max < 2 * min`` the pieces of a filled gap may be shorter than ``min_spacing_m``; a fill stop
kept clear of bus stops may be as close as ``min_spacing_m / 2``; and a gap stays longer than
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
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import networkx as nx
import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from . import areas, gazetteer, geo, places, roads
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
    "near_bus_stop",
    "normalize_ars",
    "stoppable",
    "anchor_stops",
    "place_route_stops",
    "place_stops",
    "read_all_bus_stops",
    "read_bus_stops",
    "stop_id_of",
    "stops_from_path_stops",
    "turnaround_stops",
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
#: Else after the intersection within this distance along the path, metres.
CROSSING_M = 150.0
#: A new stop stands this far to the right of its road's centreline (at the kerb), metres.
NEW_STOP_OFFSET_M = 6.0
#: A real stop snapped to another edge is a candidate within this distance right of the path.
BESIDE_M = 30.0
#: ... and when its published position is this close to the path (GTFS stop-to-shape 20 m).
BESIDE_PUB_M = 18.0
#: Farthest an opposite direction's new stop may be from the path to get a partner, metres.
PAIR_M = 45.0
#: A partner takes a real stop this much farther than ``stops.real_stop_snap_m``, metres: its
#: new stop kept ``real_stop_snap_m`` from the real one, measured on the other carriageway.
PARTNER_SLACK_M = 25.0
#: New-stop positions :func:`turnaround_stops` offers on a loop crowded with bus stops.
LOOP_TRIES = 8
#: Rounds of :func:`place_route_stops` placing each direction with the other's new stops.
PAIR_ROUNDS = 3
#: Two stops of one name stand at most this far apart, metres (else one is renamed).
SAME_NAME_M = 200.0
#: Spacing of the path samples for the zones around real stops, metres.
SAMPLE_M = 5.0
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
    return roads.road_class(data)


def stoppable(data: dict[str, Any]) -> bool:
    """Whether a bus may stop on an edge: not an expressway (motorway, trunk), tunnel or bridge."""
    return _road_class(data) not in NO_STOP_CLASSES and str(data.get("brunnel") or "") not in (
        NO_STOP_BRUNNELS
    )


def _road_name(data: dict[str, Any]) -> str:
    return roads.road_name(data)


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
    real_stops: tuple[BusStop, ...] = ()  # every non-virtual stop, snapped or not, sorted
    real_tree: cKDTree | None = None  # over their EPSG:5179 (x, y)

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


def _real_index(real: Sequence[BusStop]) -> tuple[tuple[BusStop, ...], cKDTree | None]:
    if not real:
        return (), None
    x, y = geo.to_metric_xy(np.array([s.lon for s in real]), np.array([s.lat for s in real]))
    return tuple(real), cKDTree(np.column_stack([x, y]))


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
        return StopIndex(
            {},
            (),
            tuple(sorted(real + virtual)),
            None,
            *_landmark_index(landmarks),
            *_real_index(real),
        )
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
        real_stops=tuple(real),
        real_tree=cKDTree(np.column_stack([sx, sy])),
    )


# ----------------------------------------------------------------------------------------------
# placement along a path


@dataclass(frozen=True, slots=True)
class PathStop:
    """A shuttle stop chosen along a routed path."""

    dist_m: float  # along the path from its first node, metres (sum of edge 'length')
    lat: float  # the bus stop's published position; a new stop's kerb point right of the road
    lon: float
    node: int  # the path node nearest along the path (start or end node of its edge)
    ars: str | None  # ARS number of a real bus stop, None for a new stop
    name_ko: str
    anchor: str | None = None  # Korean name of the anchor it serves
    edge_index: int = 0  # i of the path edge (node_path[i], node_path[i + 1]) it lies on
    terminal: bool = False  # first or last stop of the path
    anchor_m: float | None = None  # straight-line distance from the anchor, metres
    heading_deg: float | None = None  # direction of travel at the stop, degrees from grid north
    road_ko: str = ""  # name of the road the stop stands on ("" when unnamed)


@dataclass(slots=True)
class _Sel:
    d: float
    edge: int
    cand: SnappedStop | None  # None: a new stop
    anchor: str | None = None
    name: str | None = None  # name of a new stop
    terminal: bool = False
    anchor_m: float | None = None
    forced: bool = False
    why: str = "fill"  # fill | anchor | partner | terminal | fixed (for the debug log)


@dataclass(frozen=True, slots=True)
class _Cand:
    """A real bus stop the path passes on its right: snapped to a path edge or just beside it."""

    d: float  # distance along the path
    edge: int
    stop: SnappedStop


class _Path:
    """A node path with its chosen edges, cumulative lengths and metric geometry."""

    def __init__(self, G: nx.MultiDiGraph, node_path: Sequence[int]) -> None:
        if len(node_path) < 2:
            msg = f"A path needs at least two nodes, got {len(node_path)}."
            raise DesignError(msg)
        self.G = G
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
        self.ok = np.array([stoppable(d) for d in self.data], dtype=bool)
        self._tree: shapely.STRtree | None = None
        # samples every SAMPLE_M metres (and the path end), for the new-stop exclusion zones
        sd = np.r_[np.arange(0.0, self.total, SAMPLE_M), self.total]
        se = np.clip(np.searchsorted(self.cum, sd, side="right") - 1, 0, len(self.data) - 1)
        frac = np.divide(
            sd - self.cum[se],
            self.length[se],
            out=np.zeros_like(sd),
            where=self.length[se] > 0,
        )
        pts = shapely.line_interpolate_point(self.lines[se], np.clip(frac, 0, 1), normalized=True)
        self.sample_d: np.ndarray = sd
        self.sample_edge: np.ndarray = np.asarray(se, dtype=int)
        self.sample_xy = np.column_stack([shapely.get_x(pts), shapely.get_y(pts)])

    def nearest_ok(
        self,
        d: float,
        lo: float,
        hi: float,
        avoid: np.ndarray | None = None,
        *,
        strict: bool = False,
    ) -> tuple[float, int] | None:
        """Distance nearest ``d`` within ``[lo, hi]`` on a stoppable edge and that edge, or None.

        With ``avoid`` (a mask over the path samples) the position is the nearest sample outside
        the masked zones; when every stoppable sample in range is masked, the zones are ignored
        (or, with ``strict``, None is returned).
        """
        if avoid is not None:
            ok = (
                ~avoid
                & self.ok[self.sample_edge]
                & (self.sample_d >= lo - 1e-9)
                & (self.sample_d <= hi + 1e-9)
            )
            if ok.any():
                hits = np.flatnonzero(ok)
                j = int(hits[np.argmin(np.abs(self.sample_d[hits] - d))])
                return float(self.sample_d[j]), int(self.sample_edge[j])
            if strict:
                return None
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

    def heading(self, d: float, edge: int) -> tuple[float, float]:
        """Unit vector (metric x, y) of the direction of travel at distance ``d`` on ``edge``."""
        line, n = self.lines[edge], float(self.line_len[edge])
        f = (d - self.cum[edge]) / self.length[edge] if self.length[edge] > 0 else 0.0
        off = min(max(f, 0.0), 1.0) * n
        a = shapely.line_interpolate_point(line, max(off - 1.0, 0.0))
        b = shapely.line_interpolate_point(line, min(off + 1.0, n))
        dx = float(shapely.get_x(b) - shapely.get_x(a))
        dy = float(shapely.get_y(b) - shapely.get_y(a))
        norm = math.hypot(dx, dy)
        return (dx / norm, dy / norm) if norm > 0 else (1.0, 0.0)

    def kerb_point(self, d: float, edge: int) -> tuple[float, float]:
        """Metric (x, y) of a new stop: :data:`NEW_STOP_OFFSET_M` right of the path at ``d``."""
        x, y = self.point_at(d, edge)
        hx, hy = self.heading(d, edge)
        return x + hy * NEW_STOP_OFFSET_M, y - hx * NEW_STOP_OFFSET_M

    def locate(self, x: float, y: float) -> tuple[float, float, int]:
        """Distance from the path, distance along it and edge index of the point nearest (x, y)."""
        pt = shapely.points(x, y)
        dist = shapely.distance(self.lines, pt)
        i = int(np.argmin(dist))
        off = float(shapely.line_locate_point(self.lines[i], pt))
        f = off / self.line_len[i] if self.line_len[i] > 0 else 0.0
        return float(dist[i]), float(self.cum[i] + f * self.length[i]), i

    def locate_many(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
        """:meth:`locate` for many points at once: distances, distances along, edge indices."""
        pts = shapely.points(x, y)
        if self._tree is None:
            self._tree = shapely.STRtree(self.lines)
        pairs, dist = self._tree.query_nearest(pts, return_distance=True, all_matches=False)
        i = np.empty(len(pts), dtype=int)
        dd = np.empty(len(pts))
        i[pairs[0]] = pairs[1]
        dd[pairs[0]] = dist
        off = shapely.line_locate_point(self.lines[i], pts)
        f = np.divide(off, self.line_len[i], out=np.zeros_like(off), where=self.line_len[i] > 0)
        return dd, self.cum[i] + f * self.length[i], i

    def node_near(self, d: float, edge: int) -> int:
        mid = self.cum[edge] + self.length[edge] / 2
        return self.nodes[edge] if d <= mid else self.nodes[edge + 1]


def _bearing(h: tuple[float, float]) -> float:
    return round(math.degrees(math.atan2(h[0], h[1])) % 360.0, 1)


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
    a: float,
    b: float,
    inner: Sequence[tuple[float, int]],
    min_m: float,
    max_m: float,
    names_: Sequence[str | None] | None = None,
) -> tuple[list[int], list[float]]:
    """Pick candidates strictly between forced stops at ``a`` and ``b``.

    ``inner`` holds ``(distance, candidate id)`` sorted by distance. ``names_`` (one per position:
    ``a``, the candidates, ``b``; None when unknown) forbids two consecutive stops of one name.
    Returns the chosen candidate ids and the distances of the new stops that fill gaps longer
    than ``max_m``.
    """
    pos = [a] + [d for d, _ in inner] + [b]
    n = len(pos)
    nm = list(names_) if names_ is not None else [None] * n
    best = [math.inf] * n
    back = [-1] * n
    best[0] = 0.0
    for j in range(1, n):
        for i in range(j):
            if best[i] == math.inf:
                continue
            s = pos[j] - pos[i]
            whole = i == 0 and j == n - 1
            if s < min_m and not whole:
                continue
            if not whole and nm[i] is not None and nm[i] == nm[j]:
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


_CLASS_RANK = {
    c: i for i, c in enumerate(("motorway", "trunk", "primary", "secondary", "tertiary"))
}


def _cross_road(path: _Path, d: float, road: str) -> str:
    """Name of a road crossing the path within :data:`CROSSING_M` of ``d``.

    The path node nearest ``d`` with a differently named road wins; among its roads, streets
    before lanes (names ending in "길"), then the higher road class, then by name.
    """
    G = path.G
    near = [
        (abs(float(path.cum[i]) - d), i)
        for i in range(len(path.nodes))
        if abs(float(path.cum[i]) - d) <= CROSSING_M
    ]
    for _, i in sorted(near):
        n = path.nodes[i]
        found: dict[str, int] = {}
        for _, _, data in (*G.out_edges(n, data=True), *G.in_edges(n, data=True)):
            name = _road_name(data) if not data.get("brunnel") else ""  # no overpass names
            if name and not name.startswith(road):  # not the road itself or its lanes (신촌로7길)
                rank = _CLASS_RANK.get(_road_class(data), len(_CLASS_RANK))
                found[name] = min(found.get(name, rank), rank)
        if found:
            return min(found, key=lambda f: (f.endswith("길"), found[f], f))
    return ""


def _new_name(
    path: _Path,
    index: StopIndex,
    edge: int,
    x: float,
    y: float,
    d: float | None = None,
    avoid: Iterable[str] = (),
) -> str:
    """Name a new stop as residents would: a landmark, else the crossing, else the road.

    The nearest landmark within :data:`LANDMARK_M` (e.g. "가재울초등학교"); else the intersection
    nearest along the path within :data:`CROSSING_M`, written ``"<road>·<crossing road>교차로"``
    (e.g. "연희로·증가로교차로", which :func:`shuttle.names.english_name` renders "Yeonhui-ro /
    Jeungga-ro Intersection"); else the road name ("성산로"); else the nearest bus stop's name
    with "부근 (신설)". Names in ``avoid`` are skipped (so two consecutive stops differ): the
    last resort appends a number ("성산로 2").
    """
    skip = set(avoid)
    if index.landmark_tree is not None:
        k = min(8, len(index.landmark_names))
        dist, idx = index.landmark_tree.query([x, y], k=k, distance_upper_bound=LANDMARK_M)
        for dd, i in zip(np.atleast_1d(dist), np.atleast_1d(idx), strict=True):
            if np.isfinite(dd) and index.landmark_names[int(i)] not in skip:
                return index.landmark_names[int(i)]
    road = _road_name(path.data[edge])
    if road:
        cross = _cross_road(path, float(path.cum[edge]) if d is None else d, road)
        if cross and f"{road}·{cross}교차로" not in skip:
            return f"{road}·{cross}교차로"
        if road not in skip:
            return road
    near = index.nearest(x, y, 300.0)
    base = road or (f"{near.stop.name_ko} 부근{NEW_SUFFIX}" if near is not None else "신설 정류장")
    n = 2
    name = base
    while name in skip:
        name = f"{base} {n}"
        n += 1
    return name


def _names_anchor(stop_name: str, place: Place) -> bool:
    """Whether a bus stop is named after an anchor ("마포구청.마포구청역" for 마포구청)."""
    key = place.name_ko.strip()
    if place.kind == "station" and key.endswith("역") and len(key) > 2:
        key = key[:-1]
    if not key:
        return False
    for token in re.split(r"[.·,\s]+", stop_name):
        if place.kind == "station":
            rest = token[len(key) :] if token.startswith(key) else None
            if rest is not None and (rest == "" or rest.startswith(("역", "전철역"))):
                return True
        elif token == key or token.startswith(key):
            return True
    return False


def _candidates(path: _Path, index: StopIndex) -> list[_Cand]:
    """Real stops the path can serve: snapped to a path edge, or beside the path on its right.

    A stop snapped to another edge (a parallel carriageway, a slip road, the next key of a
    multi-edge) counts when it lies within :data:`BESIDE_M` to the right of a stoppable path edge,
    its published position within :data:`BESIDE_PUB_M` of the path, and its own edge runs within
    45 degrees of the path's direction there.
    """
    out: dict[tuple[str, str], _Cand] = {}
    for i, (u, v, k) in enumerate(zip(path.nodes, path.nodes[1:], path.keys, strict=False)):
        for s in index.by_edge.get((u, v, k), ()):
            key = (s.stop.ars, s.stop.node_id)
            c = _Cand(float(path.cum[i] + s.offset_m), i, s)
            if key not in out:
                out[key] = c
    if index.tree is not None:
        near: set[int] = set()
        for hits in index.tree.query_ball_point(path.sample_xy, BESIDE_M):
            near.update(hits)
        G = path.G
        todo = [
            index.snapped[j]
            for j in sorted(near)
            if (index.snapped[j].stop.ars, index.snapped[j].stop.node_id) not in out
        ]
        if not todo:
            return sorted(out.values(), key=lambda c: (c.d, c.stop.stop.ars, c.stop.stop.node_id))
        dists, ds, es = path.locate_many(
            np.array([s.x for s in todo]), np.array([s.y for s in todo])
        )
        qx, qy = geo.to_metric_xy(
            np.array([s.pub_lon for s in todo]), np.array([s.pub_lat for s in todo])
        )
        pub_off = path.locate_many(np.asarray(qx), np.asarray(qy))[0]
        for s, dist, d, e, q in zip(todo, dists, ds, es, pub_off, strict=True):
            d, e = float(d), int(e)
            key = (s.stop.ars, s.stop.node_id)
            if dist > BESIDE_M or not path.ok[e] or q > BESIDE_PUB_M:  # published too far off
                continue
            hx, hy = path.heading(d, e)
            px, py = path.point_at(d, e)
            if hx * (s.y - py) - hy * (s.x - px) > 0:  # left of the path
                continue
            ux, uy = geo.to_metric_xy(float(G.nodes[s.u]["x"]), float(G.nodes[s.u]["y"]))
            vx, vy = geo.to_metric_xy(float(G.nodes[s.v]["x"]), float(G.nodes[s.v]["y"]))
            ex, ey = float(vx) - float(ux), float(vy) - float(uy)
            norm = math.hypot(ex, ey)
            if norm == 0 or (ex * hx + ey * hy) / norm < math.cos(math.radians(45.0)):
                continue
            out[key] = _Cand(d, e, s)
    return sorted(out.values(), key=lambda c: (c.d, c.stop.stop.ars, c.stop.stop.node_id))


def _room(
    path: _Path,
    index: StopIndex,
    lo: float,
    hi: float,
    target: float,
    within: np.ndarray | None = None,
    reach_m: float = 100.0 + NEW_STOP_OFFSET_M,
) -> list[float]:
    """Stoppable path samples in ``[lo, hi]`` (and in the ``within`` mask), those with the fewest
    bus stops within ``reach_m`` first, then the farthest from any bus stop, then the nearest
    ``target``, at least four samples apart: for a new stop where no point is clear."""
    ok = (path.sample_d >= lo) & (path.sample_d <= hi) & path.ok[path.sample_edge]
    if within is not None:
        ok &= within
    hits = np.flatnonzero(ok)
    if index.real_tree is None or not len(hits):
        return []
    room, _ = index.real_tree.query(path.sample_xy[hits])
    # fewest bus stops within reach first (one across the road becomes the other direction's
    # partner), then the farthest from them, then the nearest the target
    crowd = index.real_tree.query_ball_point(path.sample_xy[hits], reach_m, return_length=True)
    order = np.lexsort((np.abs(path.sample_d[hits] - target), -np.round(room, 1), crowd))
    out: list[float] = []
    for k in order.tolist():
        d = float(path.sample_d[hits[k]])
        if all(abs(d - t) >= 4 * SAMPLE_M for t in out):
            out.append(d)
    return out


def _roomiest(
    path: _Path,
    index: StopIndex,
    lo: float,
    hi: float,
    target: float,
    within: np.ndarray | None = None,
    reach_m: float = 100.0 + NEW_STOP_OFFSET_M,
) -> tuple[float, int] | None:
    """The first point of :func:`_room`, or None."""
    got = _room(path, index, lo, hi, target, within, reach_m)
    return (got[0], path.edge_at(got[0])) if got else None


def _avoid_mask(path: _Path, index: StopIndex, radius: float) -> np.ndarray:
    """Path samples within ``radius`` of any real bus stop (where no new stop should stand)."""
    mask = np.zeros(len(path.sample_d), dtype=bool)
    if index.real_tree is None:
        return mask
    hits = index.real_tree.query_ball_point(path.sample_xy, radius)
    for i, h in enumerate(hits):
        if h:
            mask[i] = True
    return mask


def anchor_stops(
    index: StopIndex,
    place: Place,
    *,
    radius_m: float = 150.0,
    reach_m: float = 300.0,
) -> tuple[tuple[SnappedStop, float], ...]:
    """The real bus stops that should serve an anchor, with their distances from it.

    The stops within ``radius_m`` (``stops.new_stop_radius_m``) of the anchor, nearest first;
    when there are none, the stops named after the anchor ("은평구청", "마포구청.마포구청역";
    for a station "<name>역…" or "<name>전철역") within ``reach_m``. Each stop is snapped
    to the directed edge ``(u, v, key)`` of the direction it serves, so a router that passes the
    edge of the nearest stop of each direction serves the anchor at a real stop.

    Returns
    -------
    tuple of (SnappedStop, float)
        Sorted by distance (metres), then ARS.
    """
    if index.tree is None:
        return ()
    ax, ay = (float(c) for c in geo.to_metric_xy(place.lon, place.lat))
    hits = index.tree.query_ball_point([ax, ay], max(radius_m, reach_m))
    found = sorted(
        (
            (math.dist((index.snapped[i].x, index.snapped[i].y), (ax, ay)), index.snapped[i])
            for i in hits
        ),
        key=lambda t: (t[0], t[1].stop.ars),
    )
    near = [(s, d) for d, s in found if d <= radius_m]
    if near:
        return tuple(near)
    return tuple((s, d) for d, s in found if _names_anchor(s.stop.name_ko, place))


#: Per-thread cache of prepared paths, set while :func:`place_route_stops` runs.
_LOCAL = threading.local()


def _prepare(
    G: nx.MultiDiGraph, node_path: Sequence[int], index: StopIndex, snap_m: float
) -> tuple[_Path, list[_Cand], np.ndarray]:
    """The path, its candidate stops and its zones around bus stops (cached within one
    :func:`place_route_stops` call, which places each path several times)."""
    cache: dict[Any, Any] | None = getattr(_LOCAL, "cache", None)
    key = (id(G), id(index), snap_m, tuple(int(n) for n in node_path))
    if cache is not None and key in cache:
        hit: tuple[_Path, list[_Cand], np.ndarray] = cache[key]
        return hit
    path = _Path(G, node_path)
    out = (path, _candidates(path, index), _avoid_mask(path, index, snap_m + NEW_STOP_OFFSET_M))
    if cache is not None:
        cache[key] = out
    return out


def place_stops(
    G: nx.MultiDiGraph,
    node_path: Sequence[int],
    index: StopIndex,
    scenario: Scenario,
    *,
    anchors: Iterable[Place] = (),
    anchor_reach_m: float = 300.0,
    partners: Iterable[PathStop] = (),
    fixed: Sequence[PathStop] = (),
) -> tuple[PathStop, ...]:
    """Choose the stops of a routed path: anchors, partners, terminals, then spaced bus stops.

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
        Supplies ``stops.min_spacing_m``, ``max_spacing_m``, ``new_stop_radius_m`` and
        ``real_stop_snap_m``.
    anchors
        Places the route must serve when it passes within ``anchor_reach_m`` of them.
    anchor_reach_m
        Farthest (straight line, metres) an anchor may be from the path to be served by it.
    partners
        New stops of the opposite direction (:func:`place_route_stops`): each one that this path
        passes the other way within :data:`PAIR_M` gets its partner here, on this direction's
        right-hand kerb, with the same name (or the real bus stop within ``real_stop_snap_m``).
    fixed
        Stops placed on this path before (by this function): kept as they are, anchors and
        terminals included, and only completed with the partners that fall between its
        terminals.

    Returns
    -------
    tuple of PathStop
        Stops sorted by distance along the path; the first is at the start terminal, the last at
        the end terminal. No stop appears twice and no two consecutive stops share a name. Gaps
        next to terminals, anchors and partners may be shorter than ``min_spacing_m``.

    Raises
    ------
    DesignError
        If the path has fewer than two nodes or two consecutive nodes are not joined.
    """
    cfg = scenario.stops
    radius = cfg.new_stop_radius_m
    snap_m = cfg.real_stop_snap_m
    path, cands, avoid = _prepare(G, node_path, index, snap_m)
    L = path.total
    clear_m = snap_m + NEW_STOP_OFFSET_M

    def sel_xy(sel: _Sel) -> tuple[float, float]:
        if sel.cand is not None:
            return sel.cand.x, sel.cand.y
        return path.kerb_point(sel.d, sel.edge)

    forced: list[_Sel] = []
    used: set[int] = set()

    def take(c: _Cand, **kw: Any) -> _Sel:
        used.add(id(c.stop))
        sel = _Sel(c.d, c.edge, c.stop, forced=True, **kw)
        forced.append(sel)
        return sel

    def free_cands_near(x: float, y: float, r: float) -> list[tuple[float, _Cand]]:
        return sorted(
            (
                (math.dist((c.stop.x, c.stop.y), (x, y)), c)
                for c in cands
                if id(c.stop) not in used and math.dist((c.stop.x, c.stop.y), (x, y)) <= r
            ),
            key=lambda t: (t[0], t[1].d),
        )

    # 0. fixed stops (a direction placed before, completed with its partners)
    for q in fixed:
        e = min(max(q.edge_index, 0), len(path.data) - 1)
        sel = _Sel(
            q.dist_m,
            e,
            None,
            anchor=q.anchor,
            name=q.name_ko,
            terminal=q.terminal,
            forced=True,
            why="fixed",
        )
        sel.anchor_m = q.anchor_m
        if q.ars is not None:
            same = [c for c in cands if c.stop.stop.ars == q.ars and id(c.stop) not in used]
            if same:
                c = min(same, key=lambda c: abs(c.d - q.dist_m))
                used.add(id(c.stop))
                sel.d, sel.edge, sel.cand, sel.name = c.d, c.edge, c.stop, None
        forced.append(sel)
    lo_p, hi_p = (fixed[0].dist_m, fixed[-1].dist_m) if fixed else (-math.inf, math.inf)

    # 1. anchors: the nearest real stop within the radius, else one named after the anchor
    #    within reach, else a new stop at the path point nearest the anchor
    for place in () if fixed else anchors:
        ax, ay = (float(c) for c in geo.to_metric_xy(place.lon, place.lat))
        off_path, d_a, _ = path.locate(ax, ay)
        if off_path > anchor_reach_m:
            continue
        reuse = [f for f in forced if math.dist(sel_xy(f), (ax, ay)) <= radius]
        if reuse:
            f = min(reuse, key=lambda f: (math.dist(sel_xy(f), (ax, ay)), f.d))
            log.debug("anchor %r shares the stop of anchor %r", place.name_ko, f.anchor)
            continue
        near = free_cands_near(ax, ay, radius)
        named = [
            t
            for t in free_cands_near(ax, ay, anchor_reach_m)
            if _names_anchor(t[1].stop.stop.name_ko, place)
        ]
        if near or named:
            dist, c = (near or named)[0]
            take(c, anchor=place.name_ko, anchor_m=dist)
            continue
        # the path point nearest the anchor; a bus stop within real_stop_snap_m of it serves
        # (item: a new stop next to a real one is the real one); else a new stop within the
        # radius clear of every bus stop, else within reach and clear, else the nearest bus
        # stop on the path within reach, else a new stop at that point
        r_a = anchor_reach_m
        p0 = path.nearest_ok(d_a, d_a - radius, d_a + radius)
        if p0 is None or math.dist(path.point_at(*p0), (ax, ay)) > r_a:
            log.warning(
                "anchor %r: the path passes it only on an expressway, tunnel or bridge; no stop",
                place.name_ko,
            )
            continue
        k0 = path.kerb_point(*p0)
        real = [
            t
            for t in free_cands_near(*k0, snap_m)
            if math.dist((t[1].stop.x, t[1].stop.y), (ax, ay)) <= r_a
        ]
        if real:
            c = real[0][1]
            take(c, anchor=place.name_ko, anchor_m=math.dist((c.stop.x, c.stop.y), (ax, ay)))
            continue
        to_anchor = np.hypot(path.sample_xy[:, 0] - ax, path.sample_xy[:, 1] - ay)
        ok = path.nearest_ok(
            d_a, d_a - radius, d_a + radius, avoid | (to_anchor > radius), strict=True
        ) or path.nearest_ok(d_a, d_a - r_a, d_a + r_a, avoid | (to_anchor > r_a), strict=True)
        if ok is None:
            within = free_cands_near(ax, ay, r_a)
            if within:
                take(within[0][1], anchor=place.name_ko, anchor_m=within[0][0])
                continue
            # bus stops all around and none on this side: the point farthest from them
            ok = (
                _roomiest(path, index, d_a - r_a, d_a + r_a, d_a, to_anchor <= radius, clear_m)
                or p0
            )
        kx, ky = path.kerb_point(*ok)
        forced.append(
            _Sel(
                ok[0],
                ok[1],
                None,
                anchor=place.name_ko,
                name=place.name_ko,
                anchor_m=math.dist((kx, ky), (ax, ay)),
                forced=True,
                why="anchor",
            )
        )
    # 2. partners: the new stops of the opposite direction, mirrored to this side of the road
    for p in sorted(partners, key=lambda p: (p.lat, p.lon, p.name_ko)):
        if p.ars is not None or p.heading_deg is None:
            continue
        px, py = (float(c) for c in geo.to_metric_xy(p.lon, p.lat))
        dist, d_p, e = path.locate(px, py)
        if dist > PAIR_M or not path.ok[e] or not lo_p < d_p < hi_p:
            continue
        hx, hy = path.heading(d_p, e)
        rad = math.radians(p.heading_deg)
        if hx * math.sin(rad) + hy * math.cos(rad) > -0.7:  # not the opposite direction
            continue
        if any(abs(f.d - d_p) < snap_m for f in forced):
            continue
        kx, ky = path.kerb_point(d_p, e)
        real = free_cands_near(kx, ky, snap_m + PARTNER_SLACK_M)
        if real:
            take(real[0][1])
            continue
        # the partner keeps clear of bus stops like any new stop: moved up to PAIR_M along
        # the road, else left out (the pair is then one-sided)
        clear = path.nearest_ok(d_p, d_p - PAIR_M, d_p + PAIR_M, avoid, strict=True)
        if clear is None:
            log.debug("no partner for %r: bus stops all around", p.name_ko)
            continue
        forced.append(_Sel(clear[0], clear[1], None, name=p.name_ko, forced=True, why="partner"))
    # 3. terminals: a forced stop within end_m of a path end serves as the terminal, else the
    #    bus stop nearest the end within the radius, else a new stop within the radius clear of
    #    every bus stop, else the bus stop nearest the end within end_m, else a clear new stop
    #    within end_m, else a new stop nearest the end
    end_m = max(radius, cfg.min_spacing_m)  # a forced stop this near an end is its terminal
    head = [f for f in forced if f.d <= end_m]
    if fixed:
        pass
    elif head:
        start = min(head, key=lambda f: f.d)
    else:
        near_start = [c for c in cands if c.d <= radius and id(c.stop) not in used]
        clear = path.nearest_ok(0.0, 0.0, radius, avoid, strict=True)
        further = [c for c in cands if c.d <= end_m and id(c.stop) not in used]
        if near_start or (clear is None and further):
            start = take((near_start or further)[0])
        else:
            ok = (
                clear
                or path.nearest_ok(0.0, 0.0, end_m, avoid, strict=True)
                or _roomiest(path, index, 0.0, end_m, 0.0, None, clear_m)
                or path.nearest_ok(0.0, 0.0, radius)
                or (0.0, 0)
            )
            start = _Sel(ok[0], ok[1], None, forced=True, why="terminal")
            forced.append(start)
    if not fixed:
        start.terminal = True
    tail = [f for f in forced if f.d >= L - end_m and not f.terminal]
    if fixed:
        pass
    elif tail:
        max(tail, key=lambda f: f.d).terminal = True
    else:
        near_end = [c for c in cands if c.d >= L - radius and id(c.stop) not in used]
        clear = path.nearest_ok(L, L - radius, L, avoid, strict=True)
        further = [c for c in cands if c.d >= L - end_m and id(c.stop) not in used]
        if near_end or (clear is None and further):
            take((near_end or further)[-1], terminal=True)
        else:
            ok = (
                clear
                or path.nearest_ok(L, L - end_m, L, avoid, strict=True)
                or _roomiest(path, index, L - end_m, L, L, None, clear_m)
                or path.nearest_ok(L, L - radius, L)
                or (L, len(path.data) - 1)
            )
            forced.append(_Sel(ok[0], ok[1], None, terminal=True, forced=True, why="terminal"))
    forced.sort(key=lambda f: (f.d, not f.terminal))

    # 4. between forced stops: real stops at even spacing, new stops where a gap is too long
    chosen: list[_Sel] = list(forced)
    for a, b in zip(forced, forced[1:], strict=False):
        inner_c = [c for c in cands if a.d < c.d < b.d and id(c.stop) not in used]
        names_ = (
            [a.cand.stop.name_ko if a.cand else None]
            + [c.stop.stop.name_ko for c in inner_c]
            + [b.cand.stop.name_ko if b.cand else None]
        )
        ids, fills = _choose_between(
            a.d,
            b.d,
            [(c.d, j) for j, c in enumerate(inner_c)],
            cfg.min_spacing_m,
            cfg.max_spacing_m,
            names_,
        )
        gap = [_Sel(inner_c[j].d, inner_c[j].edge, inner_c[j].stop) for j in ids]
        used.update(id(inner_c[j].stop) for j in ids)
        gap += [_Sel(d, path.edge_at(d), None) for d in fills]
        gap.sort(key=lambda f: f.d)
        prev, prev_name = a.d, names_[0]
        for n, sel in enumerate(gap):
            after = gap[n + 1] if n + 1 < len(gap) else b
            nxt = after.d
            if sel.cand is None:
                kx, ky = path.kerb_point(sel.d, sel.edge)
                around = {prev_name, after.cand.stop.name_ko if after.cand else None}
                real = [
                    t
                    for t in free_cands_near(kx, ky, snap_m)
                    if prev < t[1].d < nxt and t[1].stop.stop.name_ko not in around
                ]
                if real:
                    c = real[0][1]
                    used.add(id(c.stop))
                    sel.d, sel.edge, sel.cand = c.d, c.edge, c.stop
                else:
                    # clear of bus stops at full spacing, else at half spacing (first within
                    # max_spacing_m of both neighbours, then anywhere between them), else the
                    # nearest free bus stop in the gap within max_spacing_m of both neighbours
                    # (a fill never jumps to a bus stop that leaves a long gap), else the
                    # least crowded point there, else at full spacing regardless
                    far_lo, far_hi = nxt - cfg.max_spacing_m, prev + cfg.max_spacing_m
                    lo_m = max(prev + cfg.min_spacing_m, far_lo)
                    hi_m = min(nxt - cfg.min_spacing_m, far_hi)
                    half = cfg.min_spacing_m / 2
                    lo_h, hi_h = max(prev + half, far_lo), min(nxt - half, far_hi)
                    ok = (
                        path.nearest_ok(sel.d, lo_m, hi_m, avoid, strict=True)
                        or path.nearest_ok(sel.d, lo_h, hi_h, avoid, strict=True)
                        or path.nearest_ok(
                            sel.d,
                            prev + cfg.min_spacing_m,
                            nxt - cfg.min_spacing_m,
                            avoid,
                            strict=True,
                        )
                        or path.nearest_ok(sel.d, prev + half, nxt - half, avoid, strict=True)
                    )
                    inside = [
                        c
                        for c in cands
                        if prev < c.d < nxt
                        and far_lo <= c.d <= far_hi
                        and id(c.stop) not in used
                        and c.stop.stop.name_ko not in around
                    ]
                    if ok is None and inside:
                        c = min(inside, key=lambda c: (abs(c.d - sel.d), c.d))
                        used.add(id(c.stop))
                        sel.d, sel.edge, sel.cand = c.d, c.edge, c.stop
                    else:
                        ok = (
                            ok
                            or _roomiest(path, index, lo_h, hi_h, sel.d, None, clear_m)
                            or path.nearest_ok(sel.d, lo_m, hi_m)
                            or path.nearest_ok(
                                sel.d, prev + cfg.min_spacing_m, nxt - cfg.min_spacing_m
                            )
                        )
                        if ok is None:
                            log.debug("no stoppable road for a new stop near %.0f m", sel.d)
                            continue
                        sel.d, sel.edge = ok
            chosen.append(sel)
            prev, prev_name = sel.d, sel.cand.stop.name_ko if sel.cand else None
    chosen.sort(key=lambda f: (f.d, not f.terminal))
    chosen = _dedupe(chosen)

    out: list[PathStop] = []
    for sel in chosen:
        h = path.heading(sel.d, sel.edge)
        if sel.cand is not None:
            bus = sel.cand.stop
            lat, lon = sel.cand.pub_lat, sel.cand.pub_lon
            ars, name = bus.ars, bus.name_ko
        else:
            x, y = path.kerb_point(sel.d, sel.edge)
            lo, la = geo.to_wgs84_xy(x, y)
            lat, lon, ars = float(la), float(lo), None
            prev_name = out[-1].name_ko if out else None
            name = sel.name or _new_name(
                path, index, sel.edge, x, y, sel.d, avoid=(prev_name,) if prev_name else ()
            )
            if index.real_tree is not None and log.isEnabledFor(logging.DEBUG):
                dd, j = index.real_tree.query([x, y])
                if dd <= snap_m:
                    log.debug(
                        "new %s stop %r at %.0f m stands %.0f m from bus stop %s %r",
                        sel.why,
                        name,
                        sel.d,
                        dd,
                        index.real_stops[int(j)].ars,
                        index.real_stops[int(j)].name_ko,
                    )
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
                anchor_m=None if sel.anchor_m is None else round(sel.anchor_m, 1),
                heading_deg=_bearing(h),
                road_ko=_road_name(path.data[sel.edge]),
            )
        )
    out = _drop_repeated_names(out)
    log.debug(
        "placed %d stops (%d real) on a %.0f m path",
        len(out),
        sum(p.ars is not None for p in out),
        L,
    )
    return tuple(out)


def _dedupe(chosen: list[_Sel]) -> list[_Sel]:
    """Keep one of each real stop (a forced or terminal occurrence over a chosen one)."""
    seen: dict[str, int] = {}
    drop: set[int] = set()
    for i, s in enumerate(chosen):
        if s.cand is None:
            continue
        key = f"{s.cand.stop.ars}/{s.cand.stop.node_id}"
        j = seen.get(key)
        if j is None:
            seen[key] = i
            continue
        first = chosen[j]
        keep_later = (s.terminal or s.forced) and not (first.terminal or first.anchor)
        if keep_later:
            drop.add(j)
            seen[key] = i
            s.anchor = s.anchor or first.anchor
            s.anchor_m = s.anchor_m if s.anchor_m is not None else first.anchor_m
        else:
            drop.add(i)
    return [s for i, s in enumerate(chosen) if i not in drop]


def _drop_repeated_names(out: list[PathStop]) -> list[PathStop]:
    """Of two consecutive bus stops of one name, drop one that is not an anchor or terminal."""
    res: list[PathStop] = []
    for p in out:
        if res and res[-1].name_ko == p.name_ko and p.ars and res[-1].ars:
            q = res[-1]
            if not (p.terminal or p.anchor):
                log.debug("dropped %r: same name as the stop before it", p.name_ko)
                continue
            if not (q.terminal or q.anchor):
                res[-1] = p
                continue
        res.append(p)
    return res


def place_route_stops(
    G: nx.MultiDiGraph,
    node_paths: Sequence[Sequence[int]],
    index: StopIndex,
    scenario: Scenario,
    *,
    anchors: Iterable[Place] = (),
    anchor_reach_m: float = 300.0,
) -> tuple[tuple[PathStop, ...], ...]:
    """Place the stops of every direction of one route, with new stops in pairs.

    The first path is placed by :func:`place_stops`; every other path is placed with the first
    one's new stops as ``partners`` (a new stop on one side of a road gets its partner on the
    other side where this direction runs the same road the other way, or the real bus stop
    there within ``stops.real_stop_snap_m``); finally the first path keeps its stops and gains
    the partners of the other paths' own new stops. A new stop is unpaired only where the other
    direction takes another road. An anchor that one direction serves at a real bus stop is not
    served by a direction that could serve it only with a new stop within
    ``stops.real_stop_snap_m`` of another bus stop.

    Returns
    -------
    tuple of tuple of PathStop
        The stops of each path, in the order of ``node_paths``.
    """
    anchors = tuple(anchors)
    if not node_paths:
        return ()
    own = [tuple(anchors) for _ in node_paths]

    def place(i: int, **kw: Any) -> tuple[PathStop, ...]:
        return place_stops(
            G, node_paths[i], index, scenario, anchors=own[i], anchor_reach_m=anchor_reach_m, **kw
        )

    outer = getattr(_LOCAL, "cache", None)
    _LOCAL.cache = {} if outer is None else outer
    try:
        return _place_route(place, own, anchors, index, scenario)
    finally:
        _LOCAL.cache = outer


def _place_route(
    place: Any,
    own: list[tuple[Place, ...]],
    anchors: tuple[Place, ...],
    index: StopIndex,
    scenario: Scenario,
) -> tuple[tuple[PathStop, ...], ...]:
    n = len(own)
    # an anchor that one direction serves at a real stop is left to it by a direction that
    # could serve it only with a new stop next to some other bus stop
    alone = [place(i) for i in range(n)]
    real_served = [{q.anchor for q in r if q.anchor and q.ars} for r in alone]
    for i, r in enumerate(alone):
        elsewhere = set().union(*(real_served[j] for j in range(n) if j != i))
        crowded = {
            q.anchor for q in r if q.anchor and q.ars is None and near_bus_stop(index, q, scenario)
        }
        if crowded & elsewhere:
            log.debug("direction %d leaves anchors %s to the other direction", i, crowded)
            own[i] = tuple(a for a in anchors if a.name_ko not in crowded & elsewhere)

    def new(stops_: Iterable[PathStop]) -> list[PathStop]:
        return [q for q in stops_ if q.ars is None]

    first = place(0)
    rest = [place(i, partners=new(first)) for i in range(1, n)]
    if not rest:
        return (first,)
    # each direction placed afresh with the other's new stops as partners, until no direction
    # changes: partners are forced stops, so the spacing programme works around them
    for _ in range(PAIR_ROUNDS):
        again = place(0, partners=new(q for r in rest for q in r))
        rest_again = [place(i, partners=new(again)) for i in range(1, n)]
        done = again == first and rest_again == rest
        first, rest = again, rest_again
        if done:
            return (first, *rest)
    log.debug("pairs not settled in %d rounds: the first direction completed", PAIR_ROUNDS)
    first = place(0, partners=new(q for r in rest for q in r), fixed=first)
    return (first, *rest)


def turnaround_stops(
    G: nx.MultiDiGraph,
    node_path: Sequence[int],
    index: StopIndex,
    scenario: Scenario,
    *,
    at_end: bool,
) -> tuple[PathStop, ...]:
    """Terminal stops a route end's turnaround loop can take, best first.

    A route end is split halfway round its loop; the shared terminal stop stands near the split,
    on ``node_path`` next to it (its first metres, or with ``at_end`` its last). In order: the
    real bus stops the path serves within ``stops.new_stop_radius_m`` (straight line) of the
    split, nearest first; a new stop at the path point nearest the split within that radius
    (along the path) that stands clear of every bus stop (``stops.real_stop_snap_m``); the real
    bus stops within ``stops.max_spacing_m / 2`` along the path, nearest the split first; a
    clear new stop within that distance; last, a new stop at the split itself. New stops are
    named as any new stop (:func:`_new_name`). Every stop is flagged ``terminal``; ``dist_m``
    and ``edge_index`` are along ``node_path``.
    """
    cfg = scenario.stops
    radius = cfg.new_stop_radius_m
    reach = max(radius, cfg.max_spacing_m / 2)
    path, cands, avoid = _prepare(G, node_path, index, cfg.real_stop_snap_m)
    L = path.total
    node = G.nodes[path.nodes[-1 if at_end else 0]]
    sx, sy = (float(c) for c in geo.to_metric_xy(node["x"], node["y"]))
    split = L if at_end else 0.0

    def span(r: float) -> tuple[float, float]:
        return (L - r, L) if at_end else (0.0, r)

    lo, hi = span(reach)
    real = [c for c in cands if lo <= c.d <= hi and path.ok[c.edge]]
    near = sorted(
        ((math.dist((c.stop.x, c.stop.y), (sx, sy)), abs(c.d - split), c) for c in real),
        key=lambda t: (t[0], t[1], t[2].stop.stop.ars),
    )
    out: list[PathStop] = []
    seen: set[Any] = set()

    def add(d: float, edge: int, cand: SnappedStop | None) -> None:
        key = id(cand) if cand is not None else (round(d, 1), edge)
        if key in seen:
            return
        seen.add(key)
        out.append(_path_stop(path, index, d, edge, cand, terminal=True))

    for dist, _, c in near:
        if dist <= radius:
            add(c.d, c.edge, c.stop)
    clear = path.nearest_ok(split, *span(radius), avoid, strict=True)
    if clear is not None:
        add(*clear, None)
    for c in sorted(real, key=lambda c: (abs(c.d - split), c.stop.stop.ars)):
        add(c.d, c.edge, c.stop)
    far = path.nearest_ok(split, lo, hi, avoid, strict=True)
    if far is not None and far != clear:
        add(*far, None)
    # a loop with bus stops all around (not on its side): the points farthest from them first
    for d in _room(
        path, index, *span(radius), split, None, cfg.real_stop_snap_m + NEW_STOP_OFFSET_M
    )[:LOOP_TRIES]:
        add(d, path.edge_at(d), None)
    at = path.nearest_ok(split, *span(radius)) or (split, len(path.data) - 1 if at_end else 0)
    add(*at, None)
    return tuple(out)


def _path_stop(
    path: _Path,
    index: StopIndex,
    d: float,
    edge: int,
    cand: SnappedStop | None,
    *,
    terminal: bool = False,
    name: str | None = None,
) -> PathStop:
    """The :class:`PathStop` of a bus stop (``cand``) or of a new stop at ``d`` on ``edge``."""
    if cand is not None:
        lat, lon, ars, nm = cand.pub_lat, cand.pub_lon, cand.stop.ars, cand.stop.name_ko
    else:
        x, y = path.kerb_point(d, edge)
        lo, la = geo.to_wgs84_xy(x, y)
        lat, lon, ars = float(la), float(lo), None
        nm = name or _new_name(path, index, edge, x, y, d)
    return PathStop(
        dist_m=round(float(d), 2),
        lat=round(lat, 7),
        lon=round(lon, 7),
        node=path.node_near(d, edge),
        ars=ars,
        name_ko=nm,
        edge_index=edge,
        terminal=terminal,
        heading_deg=_bearing(path.heading(d, edge)),
        road_ko=_road_name(path.data[edge]),
    )


def near_bus_stop(index: StopIndex, q: PathStop, scenario: Scenario) -> bool:
    """Whether a placed stop stands within ``stops.real_stop_snap_m`` of a bus stop."""
    if index.real_tree is None:
        return False
    x, y = geo.to_metric_xy(q.lon, q.lat)
    d, _ = index.real_tree.query([float(x), float(y)])
    return bool(d <= scenario.stops.real_stop_snap_m)


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


def _distinct_names(stops: dict[str, Stop], roads: dict[str, str]) -> dict[str, str]:
    """New names so that no two stops more than :data:`SAME_NAME_M` apart share a name.

    Stops of one name are grouped greedily (real stops first, then by id) into groups whose
    members all lie within :data:`SAME_NAME_M` of each other. A group with a real bus stop, or
    else the first group, keeps the name; every other group of new stops becomes
    ``"<name>.<road>"`` (the road of its first stop, Seoul's "A.B" form) or, failing that,
    ``"<name> 2"``, ``"<name> 3"``...
    """
    by_name: dict[str, list[Stop]] = {}
    for s in stops.values():
        by_name.setdefault(s.name_ko, []).append(s)
    taken = set(by_name)
    out: dict[str, str] = {}
    for name in sorted(by_name):
        members = sorted(by_name[name], key=lambda s: (s.ars is None, s.stop_id))
        groups: list[list[Stop]] = []
        for s in members:
            for g in groups:
                if all(geo.haversine_m(s.lat, s.lon, t.lat, t.lon) <= SAME_NAME_M for t in g):
                    g.append(s)
                    break
            else:
                groups.append([s])
        keeper = next((g for g in groups if any(s.ars for s in g)), groups[0])
        n = 2
        for g in groups:
            if g is keeper or any(s.ars for s in g):
                continue
            road = roads.get(g[0].stop_id, "")
            new = f"{name}.{road}" if road and road not in name else ""
            while not new or new in taken:
                new = f"{name} {n}"
                n += 1
            taken.add(new)
            for s in g:
                out[s.stop_id] = new
    return out


def stops_from_path_stops(path_stops: Iterable[PathStop], scenario: Scenario) -> tuple[Stop, ...]:
    """Merge placed stops of all routes into unique :class:`~shuttle.model.Stop` objects.

    Stops with the same id (same ARS, or the same new position) become one; the first occurrence
    gives name and node, the first non-empty anchor (with its distance) is kept. New stops of one
    name more than :data:`SAME_NAME_M` apart are renamed (:func:`_distinct_names`). English
    names come from :func:`shuttle.gazetteer.stop_name_en`.

    Returns
    -------
    tuple of Stop
        Sorted by ``stop_id``.
    """
    merged: dict[str, Stop] = {}
    roads: dict[str, str] = {}
    for ps in path_stops:
        sid = stop_id_of(ps)
        cur = merged.get(sid)
        if cur is None:
            roads[sid] = ps.road_ko
            merged[sid] = Stop(
                stop_id=sid,
                name_ko=ps.name_ko,
                name_en="",
                lat=ps.lat,
                lon=ps.lon,
                node=ps.node,
                ars=ps.ars,
                district=places.district_of(scenario, ps.lat, ps.lon),
                anchor=ps.anchor,
                anchor_m=ps.anchor_m,
            )
        elif cur.anchor is None and ps.anchor is not None:
            merged[sid] = dataclasses.replace(cur, anchor=ps.anchor, anchor_m=ps.anchor_m)
    renamed = _distinct_names(merged, roads)
    return tuple(
        dataclasses.replace(
            merged[k],
            name_ko=renamed.get(k, merged[k].name_ko),
            name_en=gazetteer.stop_name_en(
                scenario, renamed.get(k, merged[k].name_ko), merged[k].anchor
            ),
        )
        for k in sorted(merged)
    )


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
