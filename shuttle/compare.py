"""Before and after: the same trips on the existing network alone and with the shuttle added.

Both networks are assigned by optimal strategies (:mod:`shuttle.assign`) over one set of stop
nodes, so a shuttle stop that is a real Seoul stop (same ARS number) is the same node as the
existing routes' stop there, and riders may change between the shuttle and the existing buses and
trains at a stop or by walking to another within
:data:`~shuttle.evaluate.TRANSFER_RADIUS_M`. Zones reach the stops within
:data:`~shuttle.evaluate.ACCESS_RADIUS_M`, and may also walk the whole way when they are that close.

:func:`before_after` returns, per zone pair, the expected door-to-door time before and after, the
trips that gain more than a threshold (5 minutes by default), the gain per origin zone, and the
shuttle's boardings when riders can also choose the existing lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import assign as assign_mod
from . import geo
from .passengers import walk_links

__all__ = ["BeforeAfter", "LineSpec", "before_after"]


@dataclass(frozen=True, slots=True)
class LineSpec:
    """A line of either network: stops (key, lon, lat), run times and headway."""

    line_id: str
    stops: tuple[tuple[str, float, float], ...]  # (stop key, lon, lat); equal keys = one node
    run_s: tuple[float, ...]  # between consecutive stops, seconds
    headway_s: float
    shuttle: bool = False  # one of the shuttle's lines


@dataclass(frozen=True, eq=False)
class BeforeAfter:
    """Zone-to-zone times without and with the shuttle (minutes) and what changes."""

    before_min: np.ndarray  # (z, z); inf where no strategy
    after_min: np.ndarray
    trips: np.ndarray  # (z, z) the demand compared
    threshold_min: float
    shuttle_boardings: float  # boardings on the shuttle's lines when every line can be chosen

    @property
    def gain_min(self) -> np.ndarray:
        """Time saved per pair (before - after), 0 where neither has a strategy."""
        b = np.where(np.isfinite(self.before_min), self.before_min, np.nan)
        a = np.where(np.isfinite(self.after_min), self.after_min, np.nan)
        g = b - a
        # a pair served only after the shuttle gains the unserved penalty: counted as gaining
        g = np.where(np.isnan(b) & ~np.isnan(a), np.inf, g)
        return np.nan_to_num(g, nan=0.0, posinf=np.inf)

    @property
    def trips_gaining(self) -> float:
        """Trips whose time drops by more than the threshold."""
        return float(self.trips[self.gain_min > self.threshold_min].sum())

    def gain_by_zone(self) -> np.ndarray:
        """Trip-weighted mean gain (minutes) of the trips leaving each zone (finite gains)."""
        g = self.gain_min
        fin = np.isfinite(g)
        w = np.where(fin, self.trips, 0.0)
        num = (np.where(fin, g, 0.0) * w).sum(axis=1)
        den = w.sum(axis=1)
        return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def _network(
    lines: Sequence[LineSpec], zone_lonlat: Sequence[tuple[float, float]], walk_speed_kmh: float
) -> tuple[int, list[assign_mod.Line], list[assign_mod.Walk], list[int], list[bool]]:
    keys: dict[str, int] = {}
    pos: list[tuple[float, float]] = []
    for ln in sorted(lines, key=lambda x: x.line_id):
        for k, lon, lat in ln.stops:
            if k not in keys:
                keys[k] = len(pos)
                pos.append((lon, lat))
    ns, nz = len(pos), len(zone_lonlat)
    out_lines = []
    is_shuttle = []
    for ln in sorted(lines, key=lambda x: x.line_id):
        nodes = tuple(keys[k] for k, _, _ in ln.stops)
        out_lines.append(assign_mod.Line(ln.line_id, nodes, ln.run_s, ln.headway_s))
        is_shuttle.append(ln.shuttle)
    walks = walk_links(
        geo.metric_points(pos),
        geo.metric_points(zone_lonlat),
        walk_speed_kmh=walk_speed_kmh,
        zone_to_zone=True,
    )
    return ns + nz, out_lines, walks, list(range(ns, ns + nz)), is_shuttle


def before_after(
    existing: Sequence[LineSpec],
    shuttle: Sequence[LineSpec],
    zone_lonlat: Sequence[tuple[float, float]],
    trips: np.ndarray,
    *,
    walk_speed_kmh: float,
    transfer_penalty_min: float,
    threshold_min: float = 5.0,
) -> BeforeAfter:
    """Assign ``trips`` on the existing lines alone and with the shuttle's lines added."""
    T = np.asarray(trips, dtype=float).copy()
    np.fill_diagonal(T, 0.0)
    res = []
    boardings = 0.0
    for lines in (list(existing), [*existing, *shuttle]):
        n, ls, ws, zn, flags = _network(lines, zone_lonlat, walk_speed_kmh)
        r = assign_mod.assign(n, ls, ws, zn, zn, T, transfer_penalty_s=transfer_penalty_min * 60)
        res.append(r)
        if lines is not existing:
            boardings = sum(ll.riders for ll, f in zip(r.lines, flags, strict=True) if f)
    before, after = res
    return BeforeAfter(
        before_min=before.time_s / 60.0,
        after_min=after.time_s / 60.0,
        trips=T,
        threshold_min=threshold_min,
        shuttle_boardings=boardings,
    )

