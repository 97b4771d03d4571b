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

With a ``cache_dir``, every assignment (the existing network alone, with the shuttle, a skim)
is kept in the stage cache (:mod:`shuttle.stagecache`) under the SHA-256 of exactly its inputs:
the lines (stops, positions, run times, headways), the points, the trips, the walking speed, the
transfer penalty and the code of this module, :mod:`shuttle.passengers` and
:mod:`shuttle.assign`. The "before" of a scenario and period is then computed once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import assign as assign_mod
from . import passengers, stagecache
from .passengers import LineSpec, line_network

__all__ = ["BeforeAfter", "LineSpec", "before_after", "skim"]


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


def _assign(
    lines: Sequence[LineSpec],
    points: Sequence[tuple[float, float]],
    trips: np.ndarray,
    walk_speed_kmh: float,
    transfer_penalty_min: float,
) -> tuple[assign_mod.Assignment, tuple[bool, ...]]:
    """Assign ``trips`` between ``(lon, lat)`` points over ``lines``; each line's shuttle flag.

    The network is the planner's own (:func:`shuttle.passengers.line_network`): stops with one
    ARS number are one node, and a place may walk the whole way to a close one.
    """
    net = line_network(
        sorted(lines, key=lambda x: x.line_id),
        points,
        walk_speed_kmh=walk_speed_kmh,
        zone_to_zone=True,
    )
    zn = list(net.zone_nodes)
    r = assign_mod.assign(
        net.n_nodes, net.lines, net.walks, zn, zn, trips,
        transfer_penalty_s=transfer_penalty_min * 60,
    )  # fmt: skip
    return r, tuple(net.shuttle)


def _times(
    lines: Sequence[LineSpec],
    points: Sequence[tuple[float, float]],
    trips: np.ndarray,
    walk_speed_kmh: float,
    transfer_penalty_min: float,
    cache_dir: str | os.PathLike[str] | None,
) -> tuple[np.ndarray, float]:
    """``(time_s, shuttle boardings)`` of :func:`_assign`, from the stage cache when there."""
    key = ""
    if cache_dir is not None:
        key = stagecache.key_of(
            "assign",
            sorted(lines, key=lambda x: x.line_id),
            [[float(x), float(y)] for x, y in points],
            np.asarray(trips, dtype=float),
            float(walk_speed_kmh),
            float(transfer_penalty_min),
            stagecache.code_digest(assign_mod, passengers, stagecache, __file__),
        )
        got = stagecache.load(cache_dir, "assign", key)
        if got is not None:
            arrays, meta = got
            t = arrays.get("time_s")
            n = len(points)
            if t is not None and t.shape == (n, n) and isinstance(meta, dict):
                return t, float(meta.get("shuttle_boardings", 0.0))
    r, flags = _assign(lines, points, trips, walk_speed_kmh, transfer_penalty_min)
    boardings = float(sum(ll.riders for ll, f in zip(r.lines, flags, strict=True) if f))
    t = np.asarray(r.time_s, dtype=float)
    if cache_dir is not None:
        stagecache.save(cache_dir, "assign", key, {"time_s": t}, {"shuttle_boardings": boardings})
    return t, boardings


def before_after(
    existing: Sequence[LineSpec],
    shuttle: Sequence[LineSpec],
    zone_lonlat: Sequence[tuple[float, float]],
    trips: np.ndarray,
    *,
    walk_speed_kmh: float,
    transfer_penalty_min: float,
    threshold_min: float = 5.0,
    cache_dir: str | os.PathLike[str] | None = None,
) -> BeforeAfter:
    """Assign ``trips`` on the existing lines alone and with the shuttle's lines added.

    With ``cache_dir`` both assignments go through the stage cache (module docstring).
    """
    T = np.asarray(trips, dtype=float).copy()
    np.fill_diagonal(T, 0.0)
    before, _ = _times(existing, zone_lonlat, T, walk_speed_kmh, transfer_penalty_min, cache_dir)
    after, boardings = _times(
        [*existing, *shuttle], zone_lonlat, T, walk_speed_kmh, transfer_penalty_min, cache_dir
    )
    return BeforeAfter(
        before_min=before / 60.0,
        after_min=after / 60.0,
        trips=T,
        threshold_min=threshold_min,
        shuttle_boardings=boardings,
    )


def skim(
    lines: Sequence[LineSpec],
    points: Sequence[tuple[float, float]],
    *,
    walk_speed_kmh: float,
    transfer_penalty_min: float,
    cache_dir: str | os.PathLike[str] | None = None,
) -> np.ndarray:
    """``(n, n)`` door-to-door minutes between ``(lon, lat)`` points over ``lines`` (``inf``:
    no strategy; 0 on the diagonal), by optimal strategies with no demand loaded (through the
    stage cache with ``cache_dir``)."""
    none = np.zeros((len(points), len(points)))
    t, _ = _times(lines, points, none, walk_speed_kmh, transfer_penalty_min, cache_dir)
    out = t / 60.0
    np.fill_diagonal(out, 0.0)  # a place to itself
    return out
