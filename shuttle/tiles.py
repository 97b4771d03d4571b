"""Read OpenMapTiles-schema vector tiles (a ``z/x/y.pbf`` folder): road segments and POIs.

The tiles are uncompressed Mapbox Vector Tiles in slippy-map (XYZ) numbering. Geometry is decoded
here with NumPy, one layer at a time, straight from the protobuf message of
:mod:`mapbox_vector_tile` (whose own ``decode`` is pure Python and, unless given
``default_options={"y_coord_down": True}``, flips y). MVT y runs downward, so tile pixel
``(px, py)`` of tile ``(x, y)`` is the *global pixel* ``(x * extent + px, y * extent + py)``; at
z14 with extent 4096 that is the z26 pixel grid, and vertices of adjacent tiles share it exactly.

Tile clipping. The tiles in ``osm/vt14_seoul_2021-08`` are *not* cut at their squares: a line
that leaves a tile runs on to its first vertex outside, and that vertex is a real vertex of the
neighbouring tile (checked on the 48 three-district tiles: all 5,469 outside vertices occur in the
tile that owns them). So a segment crossing a tile edge appears in both tiles. Each segment is kept
only by the tile that contains its midpoint (half-open squares), which keeps every segment exactly
once without inserting vertices, and pieces of one road join at their shared global vertices.

Road names live in the separate ``transportation_name`` layer. In these tiles its line features
have the same geometry as the ``transportation`` features of the same way, so a name is carried
onto a road feature whose class and encoded geometry are identical; roads still unnamed then take
the name of a named line that shares a segment with them (either direction).

Functions here know nothing about graphs; :mod:`shuttle.network` turns the segment table into
the road graph.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from mapbox_vector_tile.Mapbox import vector_tile_pb2
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from .errors import DataError
from .log import ProgressFn, step

__all__ = [
    "BRUNNELS",
    "ROAD_CLASSES",
    "Poi",
    "RoadSegments",
    "find_zoom_dir",
    "global_to_lonlat",
    "read_pois",
    "read_road_segments",
    "read_tile",
    "tile_bounds",
    "tile_path",
    "tiles_for_area",
]

log = logging.getLogger(__name__)

#: OpenMapTiles ``transportation`` classes read as roads, mapped to the planner's road classes.
ROAD_CLASSES: dict[str, str] = {
    "motorway": "motorway",
    "trunk": "trunk",
    "primary": "primary",
    "secondary": "secondary",
    "tertiary": "tertiary",
    "minor": "minor",
    "service": "service",
    "track": "track",
    "path": "path",
    "pedestrian": "path",
}
#: Values of ``brunnel``; index 0 means none.
BRUNNELS: tuple[str, ...] = ("", "bridge", "tunnel", "ford")

_CMD_MOVE_TO = 1
_CMD_LINE_TO = 2
_CMD_CLOSE = 7
_POINT, _LINESTRING = 1, 2
_COORD_BITS = 27  # global pixel coordinates at z14 * 4096 fit in 26 bits


@dataclass(frozen=True, slots=True)
class Poi:
    """A named point of interest of the tiles' ``poi`` layer."""

    name: str  # ``name``, else ``name:latin`` (Korean text in the Seoul 2021 build)
    name_en: str  # ``name:en`` or ``name_en``, else ''
    cls: str  # OpenMapTiles class, e.g. "town_hall" ('' when absent)
    subclass: str  # e.g. "townhall" ('' when absent)
    lat: float  # WGS84 degrees
    lon: float  # WGS84 degrees


@dataclass(frozen=True, slots=True, eq=False)
class RoadSegments:
    """Road segments of a set of tiles, each kept once (by the tile holding its midpoint).

    Coordinates are global pixels ``(x * extent + px, y * extent + py)`` of ``zoom``; arrays
    have one row per segment, directed as digitised (``oneway`` refers to that direction).
    """

    zoom: int
    extent: int
    ax: np.ndarray  # int64, start vertex
    ay: np.ndarray
    bx: np.ndarray  # int64, end vertex
    by: np.ndarray
    cls: np.ndarray  # int16 index into ``classes``
    oneway: np.ndarray  # int8: 1 forward only, -1 reverse only, 0 both ways
    brunnel: np.ndarray  # int8 index into BRUNNELS
    name: np.ndarray  # int32 index into ``names`` (0 = unnamed)
    endpoints: np.ndarray  # int64 point keys (see :func:`point_keys`) of line ends, unique
    classes: tuple[str, ...]  # road class names
    names: tuple[str, ...]  # road names, names[0] == ''

    def __len__(self) -> int:
        """Return the number of segments."""
        return int(self.ax.size)


# ----------------------------------------------------------------------------------------------
# tile addressing


def find_zoom_dir(tile_dir: str | Path, zoom: int | None = None) -> tuple[Path, int]:
    """Return the ``{z}`` folder of a tile folder and its zoom.

    ``tile_dir`` may hold zoom folders (``14/x/y.pbf``); the highest zoom is used unless
    ``zoom`` is given.

    Raises
    ------
    DataError
        If the folder is missing or holds no zoom folder.
    """
    root = Path(tile_dir)
    if not root.is_dir():
        msg = f"{root}: tile folder not found"
        raise DataError(msg)
    zooms = sorted(int(p.name) for p in root.iterdir() if p.is_dir() and p.name.isdigit())
    if zoom is None:
        if not zooms:
            msg = f"{root}: no zoom folder (expected {root}/14/<x>/<y>.pbf)"
            raise DataError(msg)
        zoom = zooms[-1]
    elif zoom not in zooms:
        msg = f"{root}: no zoom folder {zoom} (found {zooms or 'none'})"
        raise DataError(msg)
    return root / str(zoom), zoom


def tile_path(zoom_dir: Path, x: int, y: int) -> Path:
    """Return the file of tile ``(x, y)`` in a zoom folder."""
    return zoom_dir / str(x) / f"{y}.pbf"


def tile_bounds(zoom: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Return ``(min_lon, min_lat, max_lon, max_lat)`` of an XYZ tile."""
    lon0, lat1 = global_to_lonlat(np.array([x]), np.array([y]), zoom, 1)
    lon1, lat0 = global_to_lonlat(np.array([x + 1]), np.array([y + 1]), zoom, 1)
    return float(lon0[0]), float(lat0[0]), float(lon1[0]), float(lat1[0])


def _lonlat_to_tile(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    n = 2**zoom
    x = (lon + 180.0) / 360.0 * n
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return int(math.floor(x)), int(math.floor(y))


def tiles_for_area(area: BaseGeometry, zoom: int) -> list[tuple[int, int]]:
    """Return the ``(x, y)`` of the tiles whose squares intersect a lon/lat geometry, sorted."""
    min_lon, min_lat, max_lon, max_lat = area.bounds
    x0, y0 = _lonlat_to_tile(min_lon, max_lat, zoom)
    x1, y1 = _lonlat_to_tile(max_lon, min_lat, zoom)
    shapely.prepare(area)
    out = []
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            if area.intersects(box(*tile_bounds(zoom, x, y))):
                out.append((x, y))
    return out


def global_to_lonlat(
    gx: np.ndarray, gy: np.ndarray, zoom: int, extent: int
) -> tuple[np.ndarray, np.ndarray]:
    """Convert global pixel coordinates (y down) to lon/lat degrees (vectorised)."""
    n = float(2**zoom * extent)
    lon = np.asarray(gx, dtype=np.float64) / n * 360.0 - 180.0
    lat = np.degrees(np.arctan(np.sinh(np.pi * (1.0 - 2.0 * np.asarray(gy, np.float64) / n))))
    return lon, lat


def point_keys(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """Pack global pixel coordinates into one int64 key per point."""
    return (np.asarray(gx, np.int64) << _COORD_BITS) | np.asarray(gy, np.int64)


# ----------------------------------------------------------------------------------------------
# decoding


def read_tile(path: str | Path) -> dict[str, Any]:
    """Parse one ``.pbf`` tile and return its layers (protobuf messages) by name.

    Raises
    ------
    DataError
        If the file is missing, unreadable or not a vector tile.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError as e:
        msg = f"{p}: tile file not found"
        raise DataError(msg) from e
    except OSError as e:
        msg = f"{p}: cannot read tile ({e.strerror or e})"
        raise DataError(msg) from e
    if data[:2] == b"\x1f\x8b":
        msg = f"{p}: tile is gzip-compressed; unpack the tiles first (expected raw MVT)"
        raise DataError(msg)
    tile = vector_tile_pb2.tile()
    try:
        tile.ParseFromString(data)
    except Exception as e:  # google.protobuf.message.DecodeError
        msg = f"{p}: not a valid vector tile ({e})"
        raise DataError(msg) from e
    layers = {layer.name: layer for layer in tile.layers}
    if data and not layers:
        msg = f"{p}: not a valid vector tile (no layers)"
        raise DataError(msg)
    return layers


def _value(v: Any) -> Any:
    for f in ("string_value", "float_value", "double_value", "int_value", "uint_value",
              "sint_value", "bool_value"):  # fmt: skip
        if v.HasField(f):
            return getattr(v, f)
    return None


def _properties(layer: Any) -> list[dict[str, Any]]:
    keys = list(layer.keys)
    vals = [_value(v) for v in layer.values]
    out = []
    for f in layer.features:
        t = f.tags
        out.append({keys[t[i]]: vals[t[i + 1]] for i in range(0, len(t) - 1, 2)})
    return out


@dataclass(frozen=True, slots=True, eq=False)
class _Vertices:
    """Decoded vertices of a layer: local pixel x/y, feature index and part index per vertex."""

    x: np.ndarray
    y: np.ndarray
    feature: np.ndarray
    part: np.ndarray
    geom_start: np.ndarray  # per feature: offset of its commands in the layer's int stream
    geom: np.ndarray  # the layer's concatenated command stream


def _decode_vertices(features: Sequence[Any], path: Path) -> _Vertices:
    """Decode the geometry of line or point features (vectorised over the layer)."""
    lens = np.fromiter((len(f.geometry) for f in features), dtype=np.int64, count=len(features))
    starts = np.zeros(len(features) + 1, dtype=np.int64)
    np.cumsum(lens, out=starts[1:])
    total = int(starts[-1])
    g = np.fromiter((c for f in features for c in f.geometry), dtype=np.int64, count=total)
    gl = g.tolist()
    # scan the commands (a handful per feature); parameters are decoded below in bulk
    cmd_pos: list[int] = []
    cmd_cnt: list[int] = []
    cmd_move: list[bool] = []
    cmd_feat: list[int] = []
    for fi in range(len(features)):
        i, end = int(starts[fi]), int(starts[fi + 1])
        while i < end:
            c = gl[i]
            cmd, cnt = c & 7, c >> 3
            i += 1
            if cmd == _CMD_CLOSE:
                continue
            if cmd not in (_CMD_MOVE_TO, _CMD_LINE_TO) or i + 2 * cnt > end:
                msg = f"{path}: corrupt geometry in a vector tile feature"
                raise DataError(msg)
            if cnt:
                cmd_pos.append(i)
                cmd_cnt.append(cnt)
                cmd_move.append(cmd == _CMD_MOVE_TO)
                cmd_feat.append(fi)
            i += 2 * cnt
    if not cmd_pos:
        e = np.zeros(0, dtype=np.int64)
        return _Vertices(e, e, e, e, starts, g)
    pos = np.asarray(cmd_pos, dtype=np.int64)
    cnt = np.asarray(cmd_cnt, dtype=np.int64)
    nv = int(cnt.sum())
    first = np.zeros(cnt.size, dtype=np.int64)
    np.cumsum(cnt[:-1], out=first[1:])
    k = np.arange(nv, dtype=np.int64) - np.repeat(first, cnt)
    xi = np.repeat(pos, cnt) + 2 * k
    zx, zy = g[xi], g[xi + 1]
    dx = (zx >> 1) ^ -(zx & 1)
    dy = (zy >> 1) ^ -(zy & 1)
    feat = np.repeat(np.asarray(cmd_feat, dtype=np.int64), cnt)
    # the cursor restarts at (0, 0) for every feature: cumulative sums reset per feature
    cx, cy = np.cumsum(dx), np.cumsum(dy)
    fstart = np.flatnonzero(np.r_[True, feat[1:] != feat[:-1]])
    base_x = np.where(fstart > 0, cx[fstart - 1], 0)
    base_y = np.where(fstart > 0, cy[fstart - 1], 0)
    run = np.diff(np.r_[fstart, nv])
    x = cx - np.repeat(base_x, run)
    y = cy - np.repeat(base_y, run)
    # each MoveTo vertex starts a new part (a new line, or a new point)
    new_part = np.repeat(np.asarray(cmd_move), cnt)
    new_part[fstart] = True
    part = np.cumsum(new_part) - 1
    return _Vertices(x, y, feat, part, starts, g)


def _feature_name(props: dict[str, Any]) -> str:
    for key in ("name", "name:latin", "name_int"):
        v = props.get(key)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return ""


def _tile_segments(
    layers: dict[str, Any],
    tx: int,
    ty: int,
    path: Path,
    names: dict[str, int],
    cls_index: dict[str, int],
) -> tuple[dict[str, np.ndarray], int] | None:
    layer = layers.get("transportation")
    if layer is None or not len(layer.features):
        return None
    ext = int(layer.extent)
    feats = list(layer.features)
    props = _properties(layer)
    keep = [
        f.type == _LINESTRING and ROAD_CLASSES.get(str(p.get("class", ""))) is not None
        for f, p in zip(feats, props, strict=True)
    ]
    feats = [f for f, k in zip(feats, keep, strict=True) if k]
    props = [p for p, k in zip(props, keep, strict=True) if k]
    if not feats:
        return None
    v = _decode_vertices(feats, path)
    f_cls = np.array([cls_index[ROAD_CLASSES[str(p["class"])]] for p in props], dtype=np.int16)
    f_one = np.array([int(np.sign(p.get("oneway", 0) or 0)) for p in props], dtype=np.int8)
    f_brn = np.array(
        [BRUNNELS.index(b) if (b := p.get("brunnel", "")) in BRUNNELS else 0 for p in props],
        dtype=np.int8,
    )
    named = _named_lines(layers.get("transportation_name"), names)
    f_name = _match_names(named, props, v)
    gx = v.x + tx * ext
    gy = v.y + ty * ext
    same = v.part[1:] == v.part[:-1]
    ia = np.flatnonzero(same)
    ib = ia + 1
    # each segment belongs to the tile holding its midpoint
    own = ((gx[ia] + gx[ib]) // (2 * ext) == tx) & ((gy[ia] + gy[ib]) // (2 * ext) == ty)
    ia, ib = ia[own], ib[own]
    # line ends inside this tile's own square are true ends of the line (not a tile cut)
    pstart = np.flatnonzero(np.r_[True, ~same])
    pend = np.r_[pstart[1:] - 1, v.part.size - 1]
    ends = np.r_[pstart, pend]
    inside = (v.x[ends] >= 0) & (v.x[ends] < ext) & (v.y[ends] >= 0) & (v.y[ends] < ext)
    ends = ends[inside]
    fi = v.feature[ia]
    seg = {
        "ax": gx[ia],
        "ay": gy[ia],
        "bx": gx[ib],
        "by": gy[ib],
        "cls": f_cls[fi],
        "oneway": f_one[fi],
        "brunnel": f_brn[fi],
        "name": f_name[fi],
        "endpoints": point_keys(gx[ends], gy[ends]),
    }
    _fill_names_by_segment(seg, named, tx, ty, ext, path)
    return seg, ext


def _name_index(name: str, names: dict[str, int]) -> int:
    if not name:
        return 0
    i = names.get(name)
    if i is None:
        i = names[name] = len(names)
    return i


def _named_lines(name_layer: Any, names: dict[str, int]) -> list[tuple[Any, str, int]]:
    """Return ``(feature, class, name index)`` of the named lines of ``transportation_name``."""
    if name_layer is None:
        return []
    out = []
    for f, p in zip(name_layer.features, _properties(name_layer), strict=True):
        nm = _feature_name(p)
        if nm and f.type == _LINESTRING:
            out.append((f, str(p.get("class", "")), _name_index(nm, names)))
    return out


def _match_names(
    named: list[tuple[Any, str, int]], props: list[dict[str, Any]], v: _Vertices
) -> np.ndarray:
    """Name each road feature from a named line of equal class and equal encoded geometry."""
    out = np.zeros(len(props), dtype=np.int32)
    if not named:
        return out
    by_geom: dict[tuple[str, bytes], int] = {}
    for f, cls, nm in named:
        by_geom.setdefault((cls, np.asarray(f.geometry, np.uint32).tobytes()), nm)
    for i, p in enumerate(props):
        geom = v.geom[v.geom_start[i] : v.geom_start[i + 1]].astype(np.uint32).tobytes()
        out[i] = by_geom.get((str(p.get("class", "")), geom), 0)
    return out


def _fill_names_by_segment(
    seg: dict[str, np.ndarray],
    named: list[tuple[Any, str, int]],
    tx: int,
    ty: int,
    ext: int,
    path: Path,
) -> None:
    """Name still-unnamed segments that coincide (either direction) with a named line's segment."""
    unnamed = np.flatnonzero(seg["name"] == 0)
    if not named or unnamed.size == 0:
        return
    v = _decode_vertices([f for f, _, _ in named], path)
    gx, gy = v.x + tx * ext, v.y + ty * ext
    ia = np.flatnonzero(v.part[1:] == v.part[:-1])
    pa, pb = point_keys(gx[ia], gy[ia]), point_keys(gx[ia + 1], gy[ia + 1])
    lo, hi = np.minimum(pa, pb), np.maximum(pa, pb)
    nm = np.asarray([n for _, _, n in named], dtype=np.int32)[v.feature[ia]]
    order = np.lexsort((nm, hi, lo))
    lo, hi, nm = lo[order], hi[order], nm[order]
    qa = point_keys(seg["ax"][unnamed], seg["ay"][unnamed])
    qb = point_keys(seg["bx"][unnamed], seg["by"][unnamed])
    qlo, qhi = np.minimum(qa, qb), np.maximum(qa, qb)
    # look the (lo, hi) pairs up: by lo, then by hi within the (short) run of equal lo
    left = np.searchsorted(lo, qlo, side="left")
    right = np.searchsorted(lo, qlo, side="right")
    found = np.zeros(unnamed.size, dtype=np.int32)
    for j in np.flatnonzero(right > left).tolist():
        a, b = int(left[j]), int(right[j])
        k = a + int(np.searchsorted(hi[a:b], qhi[j]))
        if k < b and hi[k] == qhi[j]:
            found[j] = nm[k]
    seg["name"][unnamed] = found


def read_road_segments(
    zoom_dir: Path,
    tiles: Iterable[tuple[int, int]],
    *,
    progress: ProgressFn | None = None,
) -> RoadSegments:
    """Read the road segments of some tiles of a zoom folder.

    Parameters
    ----------
    zoom_dir
        The ``{z}`` folder (see :func:`find_zoom_dir`); its name is the zoom.
    tiles
        ``(x, y)`` of the tiles to read; each must exist.
    progress
        Progress callback, called with stage ``"tiles"``.

    Returns
    -------
    RoadSegments
        Every segment of a road class in :data:`ROAD_CLASSES` whose midpoint lies in one of
        the tiles, once.

    Raises
    ------
    DataError
        If a tile is missing or corrupt, or the tiles have different extents.
    """
    zoom = int(zoom_dir.name)
    tl = list(tiles)
    classes = tuple(dict.fromkeys(ROAD_CLASSES.values()))
    cls_index = {c: i for i, c in enumerate(classes)}
    names: dict[str, int] = {"": 0}
    parts: list[dict[str, np.ndarray]] = []
    extent: int | None = None
    step(progress, "tiles", 0, len(tl))
    for i, (x, y) in enumerate(tl, start=1):
        p = tile_path(zoom_dir, x, y)
        got = _tile_segments(read_tile(p), x, y, p, names, cls_index)
        if got is not None:
            seg, ext = got
            if extent is None:
                extent = ext
            elif ext != extent:
                msg = f"{p}: tile extent {ext} differs from the other tiles' {extent}"
                raise DataError(msg)
            parts.append(seg)
        step(progress, "tiles", i, len(tl))
    keys = ("ax", "ay", "bx", "by", "cls", "oneway", "brunnel", "name", "endpoints")
    dtypes = (np.int64,) * 4 + (np.int16, np.int8, np.int8, np.int32, np.int64)
    cat = {
        k: (np.concatenate([s[k] for s in parts]) if parts else np.zeros(0, dt))
        for k, dt in zip(keys, dtypes, strict=True)
    }
    name_list = [""] * len(names)
    for nm, i in names.items():
        name_list[i] = nm
    return RoadSegments(
        zoom=zoom,
        extent=extent or 4096,
        ax=cat["ax"],
        ay=cat["ay"],
        bx=cat["bx"],
        by=cat["by"],
        cls=cat["cls"],
        oneway=cat["oneway"],
        brunnel=cat["brunnel"],
        name=cat["name"],
        endpoints=np.unique(cat["endpoints"]),
        classes=classes,
        names=tuple(name_list),
    )


# ----------------------------------------------------------------------------------------------
# POIs

_TILE_FILE = re.compile(r"(\d+)\.pbf")


def _all_tiles(zoom_dir: Path) -> list[tuple[int, int]]:
    out = []
    for xd in zoom_dir.iterdir():
        if xd.is_dir() and xd.name.isdigit():
            for f in xd.iterdir():
                m = _TILE_FILE.fullmatch(f.name)
                if m:
                    out.append((int(xd.name), int(m.group(1))))
    return sorted(out)


def read_pois(
    tile_dir: str | Path,
    bbox_lonlat: tuple[float, float, float, float] | None = None,
    *,
    zoom: int | None = None,
) -> tuple[Poi, ...]:
    """Read the named points of interest of a tile folder.

    Parameters
    ----------
    tile_dir
        The tile folder (holding ``{z}/{x}/{y}.pbf``).
    bbox_lonlat
        ``(min_lon, min_lat, max_lon, max_lat)``: read only the tiles over it and keep only the
        POIs inside it. ``None`` reads every tile.
    zoom
        Zoom folder to read; default the highest.

    Returns
    -------
    tuple of Poi
        Named POIs (a tile's POIs outside its own square are left to the neighbour that owns
        them), deduplicated and sorted by name, class, subclass, lat, lon.

    Raises
    ------
    DataError
        If the folder is missing or a tile is corrupt.
    """
    zdir, z = find_zoom_dir(tile_dir, zoom)
    tiles = _all_tiles(zdir)
    if bbox_lonlat is not None:
        want = set(tiles_for_area(box(*bbox_lonlat), z))
        tiles = [t for t in tiles if t in want]
    out: set[Poi] = set()
    for x, y in tiles:
        p = tile_path(zdir, x, y)
        layer = read_tile(p).get("poi")
        if layer is None or not len(layer.features):
            continue
        ext = int(layer.extent)
        feats = list(layer.features)
        props = _properties(layer)
        v = _decode_vertices(feats, p)
        inside = (v.x >= 0) & (v.x < ext) & (v.y >= 0) & (v.y < ext)
        lon, lat = global_to_lonlat(v.x + x * ext, v.y + y * ext, z, ext)
        for j in np.flatnonzero(inside).tolist():
            pr = props[int(v.feature[j])]
            name = _feature_name(pr)
            if not name:
                continue
            lo, la = round(float(lon[j]), 7), round(float(lat[j]), 7)
            if bbox_lonlat is not None and not (
                bbox_lonlat[0] <= lo <= bbox_lonlat[2] and bbox_lonlat[1] <= la <= bbox_lonlat[3]
            ):
                continue
            en = pr.get("name:en") or pr.get("name_en") or ""
            out.add(
                Poi(
                    name=name,
                    name_en=str(en).strip(),
                    cls=str(pr.get("class", "") or ""),
                    subclass=str(pr.get("subclass", "") or ""),
                    lat=la,
                    lon=lo,
                )
            )
    log.debug("read %d POIs from %d tiles of %s", len(out), len(tiles), tile_dir)
    return tuple(sorted(out, key=lambda q: (q.name, q.cls, q.subclass, q.lat, q.lon)))
