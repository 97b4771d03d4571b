"""Coordinate helpers: WGS84 <-> Korea 2000 / Unified CS (EPSG:5179, metres)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

__all__ = [
    "METRIC_CRS",
    "haversine_m",
    "metric_path",
    "metric_points",
    "to_metric",
    "to_metric_xy",
    "to_wgs84",
    "to_wgs84_xy",
]

#: Projected CRS for metric work in Korea (Korea 2000 / Unified CS, metres).
METRIC_CRS = "EPSG:5179"


@lru_cache(maxsize=4)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def to_metric_xy(lon: np.ndarray | float, lat: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Project lon/lat degrees to metric x/y (EPSG:5179)."""
    x, y = _transformer("EPSG:4326", METRIC_CRS).transform(lon, lat)
    return np.asarray(x), np.asarray(y)


def to_wgs84_xy(x: np.ndarray | float, y: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Unproject metric x/y (EPSG:5179) to lon/lat degrees."""
    lon, lat = _transformer(METRIC_CRS, "EPSG:4326").transform(x, y)
    return np.asarray(lon), np.asarray(lat)


def metric_points(lonlat: Sequence[tuple[float, float]] | np.ndarray) -> np.ndarray:
    """``(lon, lat)`` points as an ``(n, 2)`` array of EPSG:5179 metres (``(0, 2)`` when empty)."""
    arr = np.asarray(lonlat, dtype=float).reshape(-1, 2)
    if not len(arr):
        return np.zeros((0, 2))
    x, y = to_metric_xy(arr[:, 0], arr[:, 1])
    return np.column_stack([np.atleast_1d(x), np.atleast_1d(y)])


def metric_path(latlon: Sequence[tuple[float, float]]) -> np.ndarray:
    """A path of ``(lat, lon)`` points (the model's order) as :func:`metric_points` metres."""
    return metric_points([(lon, lat) for lat, lon in latlon])


def to_metric(geom: BaseGeometry) -> BaseGeometry:
    """Project a lon/lat shapely geometry to EPSG:5179 metres."""
    t = _transformer("EPSG:4326", METRIC_CRS)
    return shapely.transform(geom, lambda x, y: t.transform(x, y), interleaved=False)


def to_wgs84(geom: BaseGeometry) -> BaseGeometry:
    """Unproject an EPSG:5179 shapely geometry to lon/lat."""
    t = _transformer(METRIC_CRS, "EPSG:4326")
    return shapely.transform(geom, lambda x, y: t.transform(x, y), interleaved=False)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (mean earth radius 6,371,009 m, as osmnx)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dphi = p2 - p1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlmb / 2) ** 2
    return 2 * 6_371_009.0 * math.asin(min(1.0, math.sqrt(a)))


def path_length_m(latlons: Iterable[tuple[float, float]]) -> float:
    """Length in metres of a polyline of (lat, lon) points."""
    pts = list(latlons)
    return sum(haversine_m(a[0], a[1], b[0], b[1]) for a, b in zip(pts, pts[1:], strict=False))
