"""How much of a shuttle route the existing bus network already runs, weighted by frequency.

For every shuttle route (both directions) :func:`route_overlap` measures:

- road overlap: the share of its length that runs within ``buffer_m`` of an existing route's path
  in the same direction of travel (a bearing within 45 degrees), and the mean number of existing
  buses per hour along its length (each existing route counts ``60 / headway``);
- stop overlap: the share of its stops at which an existing route stops (the same ARS number, so
  only real Seoul stops can match), and the mean existing buses per hour at its stops;
- the existing routes it shares the most length with.

The geometry is compared in EPSG:5179 metres, so a route need not use the same road graph as the
existing network (which covers all of Seoul) to be compared with it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.strtree import STRtree

from . import geo
from .model import Route, Stop

__all__ = ["ExistingLine", "RouteOverlap", "route_overlap"]

_SAME_WAY_DEG = 45.0
_STEP_M = 25.0  # the shuttle path is sampled every this many metres


@dataclass(frozen=True, slots=True)
class ExistingLine:
    """One direction (or a whole loop) of an existing route, as the overlap needs it."""

    route_id: str  # e.g. "7019"
    name: str  # route number as riders know it
    headway_min: float  # typical headway
    stop_ars: tuple[str, ...]  # ARS numbers of its stops, in order
    shape: tuple[tuple[float, float], ...]  # (lat, lon) path


@dataclass(frozen=True, slots=True)
class RouteOverlap:
    """The overlap of one shuttle route with the existing network."""

    route_id: str
    length_km: float  # both directions
    road_share: float  # share of the length run by at least one existing route (same way)
    frequent_share: float  # share run by existing service of >= 6 buses an hour (<= 10 min)
    buses_per_hour: float  # mean existing buses per hour along the length
    stop_share: float  # share of the route's stops where an existing route stops
    stop_buses_per_hour: float  # mean existing buses per hour at its stops
    top: tuple[tuple[str, float], ...]  # (existing route name, km shared), most first


def _samples(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points every ``_STEP_M`` along a polyline, their bearing and the length each stands for."""
    pts, brg, w = [], [], []
    for a, b in zip(xy[:-1], xy[1:], strict=True):
        seg = b - a
        length = float(np.hypot(*seg))
        if length <= 0:
            continue
        n = max(1, math.ceil(length / _STEP_M))
        for k in range(n):
            pts.append(a + seg * (k + 0.5) / n)
            brg.append(math.atan2(seg[0], seg[1]))
            w.append(length / n)
    return np.array(pts).reshape(-1, 2), np.array(brg), np.array(w)


def route_overlap(
    route: Route,
    stops: Mapping[str, Stop],
    existing: Sequence[ExistingLine],
    *,
    buffer_m: float = 20.0,
    top_n: int = 5,
) -> RouteOverlap:
    """Measure a shuttle route's overlap with the existing routes (see the module docstring)."""
    lines = [e for e in existing if len(e.shape) >= 2 and e.headway_min > 0]
    geoms = [shapely.LineString(geo.metric_path(e.shape)) for e in lines]
    tree = STRtree(geoms) if geoms else None
    per_h = np.array([60.0 / e.headway_min for e in lines])
    total = covered = frequent = bus_len = 0.0
    shared: dict[str, float] = {}
    for pat in route.patterns:
        xy = geo.metric_path(pat.shape)
        if len(xy) < 2:
            continue
        pts, brg, w = _samples(xy)
        total += float(w.sum())
        if tree is None or not len(pts):
            continue
        for p, b, wt in zip(pts, brg, w, strict=True):
            here = shapely.Point(p)
            buses = 0.0
            for gi in tree.query(here.buffer(buffer_m)):
                g = geoms[gi]
                if g.distance(here) > buffer_m:
                    continue
                s = g.project(here)
                q0 = g.interpolate(max(s - 5.0, 0.0))
                q1 = g.interpolate(min(s + 5.0, g.length))
                eb = math.atan2(q1.x - q0.x, q1.y - q0.y)
                diff = abs((math.degrees(b - eb) + 180.0) % 360.0 - 180.0)
                if diff > _SAME_WAY_DEG:
                    continue
                buses += per_h[gi]
                name = lines[gi].name
                shared[name] = shared.get(name, 0.0) + wt
            if buses > 0:
                covered += wt
                bus_len += wt * buses
            if buses >= 6.0 - 1e-9:
                frequent += wt
    at_stop: dict[str, float] = {}
    for e, f in zip(lines, per_h, strict=True):
        for a in set(e.stop_ars):
            at_stop[a] = at_stop.get(a, 0.0) + float(f)
    ids = [s for p in route.patterns for s in p.stop_ids]
    served = [at_stop.get(stops[s].ars or "", 0.0) for s in ids]
    top = sorted(shared.items(), key=lambda kv: (-kv[1], kv[0]))[:top_n]
    return RouteOverlap(
        route_id=route.route_id,
        length_km=total / 1000.0,
        road_share=covered / total if total else 0.0,
        frequent_share=frequent / total if total else 0.0,
        buses_per_hour=bus_len / total if total else 0.0,
        stop_share=sum(1 for x in served if x > 0) / len(served) if served else 0.0,
        stop_buses_per_hour=float(np.mean(served)) if served else 0.0,
        top=tuple((n, km / 1000.0) for n, km in top),
    )
