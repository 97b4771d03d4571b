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

__all__ = ["FREQUENT_PER_H", "ExistingLine", "RouteOverlap", "frequent_shares", "route_overlap"]

_SAME_WAY_DEG = 45.0
#: Existing service this frequent (buses an hour the same way, a 10-minute headway) is "frequent".
FREQUENT_PER_H = 6.0
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


class _Index:
    """The segments of the existing lines with a path and a headway, in a spatial index.

    Every segment between two consecutive path points (EPSG:5179) is indexed with its line and
    bearing, so a query returns only the few segments near a point, however long the lines.
    """

    def __init__(self, existing: Sequence[ExistingLine]) -> None:
        self.lines = [e for e in existing if len(e.shape) >= 2 and e.headway_min > 0]
        self.per_h = np.array([60.0 / e.headway_min for e in self.lines])
        a, b, owner = [], [], []
        for k, e in enumerate(self.lines):
            xy = geo.metric_path(e.shape)
            keep = np.hypot(*(xy[1:] - xy[:-1]).T) > 0
            a.append(xy[:-1][keep])
            b.append(xy[1:][keep])
            owner.append(np.full(int(keep.sum()), k, dtype=np.int64))
        self.tree = None
        if owner and sum(len(o) for o in owner):
            p0, p1 = np.concatenate(a), np.concatenate(b)
            self.owner = np.concatenate(owner)
            self.bearing = np.arctan2(p1[:, 0] - p0[:, 0], p1[:, 1] - p0[:, 1])
            self.tree = STRtree(shapely.linestrings(np.stack([p0, p1], axis=1)))

    def buses(
        self, xy: np.ndarray, buffer_m: float, shared: dict[str, float] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Length each sample of path ``xy`` stands for and the existing buses/h run there.

        An existing line counts (once) at a sample when one of its segments within ``buffer_m``
        runs the same way (bearing within ``_SAME_WAY_DEG``); ``shared`` collects metres per
        line name.
        """
        pts, brg, w = _samples(xy)
        out = np.zeros(len(w))
        if self.tree is None or not len(w):
            return w, out
        si, gi = self.tree.query(shapely.points(pts), predicate="dwithin", distance=buffer_m)
        diff = np.abs((np.degrees(brg[si] - self.bearing[gi]) + 180.0) % 360.0 - 180.0)
        keep = diff <= _SAME_WAY_DEG
        pairs = np.unique(si[keep] * len(self.lines) + self.owner[gi[keep]])
        si, li = np.divmod(pairs, len(self.lines))
        np.add.at(out, si, self.per_h[li])
        if shared is not None:
            for k, j in zip(si.tolist(), li.tolist(), strict=True):
                name = self.lines[j].name
                shared[name] = shared.get(name, 0.0) + float(w[k])
        return w, out


def frequent_shares(
    paths: Sequence[Sequence[tuple[float, float]]],
    existing: Sequence[ExistingLine],
    *,
    buffer_m: float = 20.0,
) -> np.ndarray:
    """Per ``(lat, lon)`` path, the share of its length run by frequent existing service.

    Frequent: at least :data:`FREQUENT_PER_H` existing buses an hour the same way (the
    ``frequent_share`` of :class:`RouteOverlap`). A path shorter than a metre scores 0.
    """
    idx = _Index(existing)
    out = np.zeros(len(paths))
    for k, path in enumerate(paths):
        xy = geo.metric_path(path)
        if len(xy) < 2:
            continue
        w, buses = idx.buses(xy, buffer_m)
        total = float(w.sum())
        if total >= 1.0:
            out[k] = float(w[buses >= FREQUENT_PER_H - 1e-9].sum()) / total
    return out


def route_overlap(
    route: Route,
    stops: Mapping[str, Stop],
    existing: Sequence[ExistingLine],
    *,
    buffer_m: float = 20.0,
    top_n: int = 5,
) -> RouteOverlap:
    """Measure a shuttle route's overlap with the existing routes (see the module docstring)."""
    idx = _Index(existing)
    lines, per_h = idx.lines, idx.per_h
    total = covered = frequent = bus_len = 0.0
    shared: dict[str, float] = {}
    for pat in route.patterns:
        xy = geo.metric_path(pat.shape)
        if len(xy) < 2:
            continue
        w, buses = idx.buses(xy, buffer_m, shared)
        total += float(w.sum())
        covered += float(w[buses > 0].sum())
        bus_len += float((w * buses).sum())
        frequent += float(w[buses >= FREQUENT_PER_H - 1e-9].sum())
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
