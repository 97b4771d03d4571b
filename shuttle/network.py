"""The drivable road graph of a scenario: build, filter, cache, describe, snap.

:func:`load_graph` returns a NetworkX ``MultiDiGraph`` in OSMnx conventions for the union of the
scenario's districts plus ``scenario.network.buffer_m`` metres, from one of the sources of
``scenario.network.source``:

``tiles``
    OpenMapTiles vector tiles (``z/x/y.pbf``), read by :mod:`shuttle.tiles`. Only the tiles over
    the buffered study area are read. A node is made at every vertex; lines join where they share
    a vertex of the global pixel grid. Bridges and tunnels join a road at a shared vertex only
    when both have the same ``brunnel`` status or the vertex is an end of one of the lines, so a
    bridge never joins the road it crosses. ``oneway`` 1/-1 gives one direction. Names come from
    the ``transportation_name`` layer. Node ids are the global z14 pixel (``x * 4096 + px``)
    shifted left by 29 bits, plus ``y`` pixel times 4 plus the level (0 ground, 1 bridge,
    2 tunnel): stable across builds and areas.
``osm`` / ``pbf`` / ``online``
    An OSM XML file (``.osm``, ``.osm.bz2``) read with :func:`osmnx.graph_from_xml`; a
    ``.osm.pbf`` converted to OSM XML with pyosmium first; or an Overpass download with
    :func:`osmnx.graph_from_polygon` (never used by the tests). OSM ``highway`` tags are mapped to
    the tile classes (:data:`OSM_CLASSES`), ``bridge``/``tunnel``/``ford`` to ``brunnel``.
``graphml``
    A GraphML file saved by OSMnx (or by :func:`save_graphml`), read with
    :func:`osmnx.load_graphml`. Its ``highway`` values may be OSM tags or tile classes.

Every source then goes the same way: keep the edges of ``scenario.network.classes``; clip to the
buffered study area (keep nodes inside it and the edges between them); keep the largest strongly
connected component; simplify with :func:`osmnx.simplify_graph` (a node also stays where
``highway``, ``name`` or ``brunnel`` change, so merged edges keep one value of each); then set
the attributes below. What each step dropped is logged and kept in
``G.graph["build_report"]`` (:class:`BuildReport`).

Graph contract (the same for a fresh build and a cached load):

* graph: ``crs`` ``"epsg:4326"``, ``simplified`` True, ``source`` (the source kind),
  ``source_path`` (str), ``districts`` (tuple of gu codes), ``buffer_m`` (float), ``classes``
  (tuple of str), ``network_version`` (str), ``build_report`` (:class:`BuildReport`).
* node: id ``int``; ``x`` lon, ``y`` lat (float); ``street_count`` (int).
* edge: ``length`` (float, m), ``geometry`` (shapely ``LineString`` lon/lat, on every edge),
  ``highway`` (str road class), ``oneway`` (bool), ``name`` (str, ``''`` if unknown),
  ``brunnel`` (str ``bridge``/``tunnel``/``ford``, ``''`` if none), ``speed_kph`` (float, from
  :meth:`~shuttle.config.NetworkConfig.speed_for`), ``travel_time`` (float, s); ``osmid`` (int,
  smallest OSM way id of the merged ways) for OSM sources only. Lists left by merging (only
  possible in GraphML input) become one value: the highest road class; the first non-empty name
  and brunnel in sorted order.

Cache: the built graph is saved to ``<cache_dir>/network-<key>.graph`` (atomic write) in the
data-only format of :mod:`shuttle.graphcache` (NumPy arrays + JSON, no pickle, with a SHA-256
checksum), keyed by a SHA-256 of the source files' identity (path, size, mtime; for tiles, of
every tile read), the boundary file's identity, the districts, buffer, classes, speeds,
:data:`NETWORK_VERSION`, the cache format and a hash of the code of this module and
:mod:`shuttle.tiles`. ``G.graph["cache_path"]`` then names the cache file (set on the returned
graph, not stored in the cache). A cache file that is truncated, altered or of another format
(e.g. a pickle) is never executed: the graph is rebuilt with one warning. The cache loads in
under a second, where :func:`osmnx.load_graphml` takes 4-6 s for nw3 (see ``bench/network.py``);
:func:`save_graphml` exports GraphML for GIS users. Cache folder: ``cache_dir``, else
``$SHUTTLE_CACHE``, else ``~/.cache/shuttle``.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import tempfile
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import osmnx as ox
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from . import areas, geo, graphcache, roads, tiles
from .config import Scenario
from .errors import DataError, GraphError, ShuttleError
from .io import atomic_path, atomic_write_bytes
from .log import ProgressFn, step

__all__ = [
    "NETWORK_VERSION",
    "OSM_CLASSES",
    "BuildReport",
    "DropCount",
    "NetworkInfo",
    "cache_path",
    "default_cache_dir",
    "format_info",
    "graph_info",
    "load_graph",
    "nearest_nodes",
    "save_graphml",
]

log = logging.getLogger(__name__)

#: Bump when the build changes what it produces; old cache entries are then ignored.
NETWORK_VERSION = "1"

#: OSM ``highway`` tag -> road class (the OpenMapTiles ``transportation`` classes): one table,
#: :data:`shuttle.roads.OSM_CLASSES`.
OSM_CLASSES: dict[str, str] = roads.OSM_CLASSES
#: Road classes from the most to the least important (picks the class of a merged edge).
CLASS_RANK: tuple[str, ...] = roads.CLASS_RANK
MAJOR_CLASSES: tuple[str, ...] = ("primary", "secondary", "tertiary")
#: Classes whose junctions with kept roads stay graph nodes (access points), unless kept.
ACCESS_CLASSES: tuple[str, ...] = ("service",)
_ACCESS = "access"  # temporary node attribute: keep this node when simplifying
_OTHER = "other"  # class of edges whose highway tag maps to no road class
_LEVEL = {"bridge": 1, "tunnel": 2}  # brunnel -> level; ford and none are ground (0)


# ----------------------------------------------------------------------------------------------
# report types


@dataclass(frozen=True, slots=True)
class DropCount:
    """What one build step removed: nodes, directed edges and road km (two-way roads once)."""

    nodes: int
    edges: int
    km: float


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What the build read and dropped; counts are of the graph before simplification."""

    source: str  # source kind
    path: str  # source file or folder ('' for online)
    input_nodes: int  # nodes with an edge, as read
    input_edges: int  # directed edges as read (after removing exact duplicates)
    input_km: float
    dropped: tuple[tuple[str, DropCount], ...]  # ("class" | "clip" | "component", count)
    nodes: int  # final graph, simplified
    edges: int
    km: float

    def dropped_for(self, reason: str) -> DropCount:
        """Return the drop count of a reason (``class``, ``clip`` or ``component``)."""
        return dict(self.dropped).get(reason, DropCount(0, 0, 0.0))

    def to_json(self) -> str:
        """Return the report as a JSON string (for GraphML export)."""
        d = dataclasses.asdict(self)
        d["dropped"] = {k: dataclasses.asdict(v) for k, v in self.dropped}
        return json.dumps(d, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True, slots=True)
class NetworkInfo:
    """Statistics of a road graph (see :func:`graph_info`); km count two-way roads once."""

    source: str
    nodes: int
    edges: int
    road_km: float
    nodes_by_district: tuple[tuple[int, str, int], ...]  # (gu code, English name, nodes)
    km_by_district: tuple[tuple[int, str, float], ...]  # gu code 0 = outside (the buffer)
    km_by_class: tuple[tuple[str, float], ...]  # most important class first
    named_share: float  # share of road length with a name
    named_share_major: float  # the same for primary + secondary + tertiary
    dropped: tuple[tuple[str, DropCount], ...]  # from the build report, if any


# ----------------------------------------------------------------------------------------------
# edge table: the filtering steps shared by every source


@dataclass(slots=True, eq=False)
class _Edges:
    """A directed graph as arrays: nodes (ids, lon, lat) and edges (node indices + attributes)."""

    node_id: np.ndarray  # int64
    lon: np.ndarray
    lat: np.ndarray
    u: np.ndarray  # int64 index into node arrays
    v: np.ndarray
    cls: np.ndarray  # object (str)
    oneway: np.ndarray  # bool
    length: np.ndarray  # float64 metres


def _km(e: _Edges, mask: np.ndarray) -> float:
    return float((e.length[mask] * np.where(e.oneway[mask], 1.0, 0.5)).sum() / 1000.0)


def _n_nodes(e: _Edges, mask: np.ndarray) -> int:
    return int(np.unique(np.concatenate([e.u[mask], e.v[mask]])).size)


def _filter_edges(
    e: _Edges, scenario: Scenario, area: BaseGeometry, where: str
) -> tuple[np.ndarray, tuple[tuple[str, DropCount], ...]]:
    """Return the mask of edges kept (classes, clip, largest SCC) and what each step dropped."""
    net = scenario.network
    masks = [np.ones(e.u.size, dtype=bool)]
    masks.append(masks[-1] & np.isin(e.cls, np.asarray(net.classes, dtype=object)))
    shapely.prepare(area)
    inside = shapely.contains_xy(area, e.lon, e.lat)
    masks.append(masks[-1] & inside[e.u] & inside[e.v])
    if not masks[-1].any():
        names = ", ".join(f"{c}" for c in scenario.districts)
        msg = (
            f"{where}: no roads of classes {', '.join(net.classes)} inside the study area of "
            f"districts {names} (buffer {net.buffer_m:g} m); does the source cover them?"
        )
        raise GraphError(msg)
    m = masks[-1]
    n = e.node_id.size
    adj = coo_matrix((np.ones(int(m.sum())), (e.u[m], e.v[m])), shape=(n, n))
    _, label = connected_components(adj, directed=True, connection="strong")
    used = np.unique(np.concatenate([e.u[m], e.v[m]]))
    sizes = np.bincount(label[used], minlength=int(label.max()) + 1)
    big = int(np.argmax(sizes))
    masks.append(m & (label[e.u] == big) & (label[e.v] == big))
    if not masks[-1].any():  # e.g. one-way streets only, none leading back
        msg = (
            f"{where}: no roads of classes {', '.join(net.classes)} in the study area lead "
            "back to where they start (no strongly connected part); check the one-way streets."
        )
        raise GraphError(msg)
    dropped = []
    reasons = ("class", "clip", "component")
    for reason, before, after in zip(reasons, masks[:-1], masks[1:], strict=True):
        gone = before & ~after
        dropped.append(
            (
                reason,
                DropCount(
                    nodes=_n_nodes(e, before) - _n_nodes(e, after),
                    edges=int(gone.sum()),
                    km=round(_km(e, gone), 3),
                ),
            )
        )
    for reason, d in dropped:
        log.info("dropped (%s): %d nodes, %d edges, %.1f km", reason, d.nodes, d.edges, d.km)
    return masks[-1], tuple(dropped)


def _access_nodes(e: _Edges, keep: np.ndarray) -> np.ndarray:
    """Return indices of kept nodes where a dropped service, track or path edge meets them."""
    minor = np.isin(e.cls, np.asarray(ACCESS_CLASSES, dtype=object)) & ~keep
    touched = np.zeros(e.node_id.size, dtype=bool)
    touched[e.u[minor]] = True
    touched[e.v[minor]] = True
    kept = np.zeros(e.node_id.size, dtype=bool)
    kept[e.u[keep]] = True
    kept[e.v[keep]] = True
    return np.flatnonzero(touched & kept)


# ----------------------------------------------------------------------------------------------
# sources


def _tiles_graph(
    scenario: Scenario, area: BaseGeometry, progress: ProgressFn | None
) -> tuple[nx.MultiDiGraph, tuple[tuple[str, DropCount], ...], _Edges]:
    zoom_dir, zoom = tiles.find_zoom_dir(scenario.data_path(scenario.network.path))
    need = tiles.tiles_for_area(area, zoom)
    _check_tiles(zoom_dir, zoom, need)
    seg = tiles.read_road_segments(zoom_dir, need, progress=progress)
    if len(seg) == 0:
        msg = f"{zoom_dir}: the tiles over the study area hold no roads"
        raise GraphError(msg)
    # node keys: the grid point, plus the level (bridge/tunnel) unless a line ends there
    lvl = np.asarray([_LEVEL.get(b, 0) for b in tiles.BRUNNELS], dtype=np.int64)[seg.brunnel]
    pa = tiles.point_keys(seg.ax, seg.ay)
    pb = tiles.point_keys(seg.bx, seg.by)
    ka = (pa << 2) | np.where(np.isin(pa, seg.endpoints), 0, lvl)
    kb = (pb << 2) | np.where(np.isin(pb, seg.endpoints), 0, lvl)
    ok = ka != kb
    fwd = ok & (seg.oneway >= 0)
    rev = ok & (seg.oneway <= 0)
    u = np.concatenate([ka[fwd], kb[rev]])
    v = np.concatenate([kb[fwd], ka[rev]])
    sidx = np.concatenate([np.flatnonzero(fwd), np.flatnonzero(rev)])
    # remove exact duplicates (overlapping lines): keep the named, more important one
    order = np.lexsort((sidx, seg.cls[sidx], seg.name[sidx] == 0, v, u))
    u, v, sidx = u[order], v[order], sidx[order]
    first = np.r_[True, (u[1:] != u[:-1]) | (v[1:] != v[:-1])]
    if (~first).any():
        log.debug("removed %d duplicate tile segments", int((~first).sum()))
    u, v, sidx = u[first], v[first], sidx[first]
    node_id, inv = np.unique(np.concatenate([u, v]), return_inverse=True)
    ui, vi = inv[: u.size], inv[u.size :]
    gx = node_id >> (2 + 27)
    gy = (node_id >> 2) & ((1 << 27) - 1)
    lon, lat = tiles.global_to_lonlat(gx, gy, zoom, seg.extent)
    length = _haversine(lon[ui], lat[ui], lon[vi], lat[vi])
    classes = np.asarray(seg.classes, dtype=object)
    e = _Edges(
        node_id=node_id,
        lon=lon,
        lat=lat,
        u=ui,
        v=vi,
        cls=classes[seg.cls[sidx]],
        oneway=seg.oneway[sidx] != 0,
        length=length,
    )
    keep, dropped = _filter_edges(e, scenario, area, str(zoom_dir))
    G = nx.MultiDiGraph(crs="epsg:4326")
    k = np.flatnonzero(keep)
    used = np.unique(np.concatenate([ui[k], vi[k]]))
    G.add_nodes_from(
        (int(node_id[i]), {"x": float(lon[i]), "y": float(lat[i])}) for i in used.tolist()
    )
    nx.set_node_attributes(G, {int(node_id[i]): True for i in _access_nodes(e, keep)}, _ACCESS)
    names = seg.names
    G.add_edges_from(
        (
            int(node_id[ui[j]]),
            int(node_id[vi[j]]),
            {
                "highway": seg.classes[seg.cls[s]],
                "oneway": bool(seg.oneway[s] != 0),
                "name": names[seg.name[s]],
                "brunnel": tiles.BRUNNELS[seg.brunnel[s]],
                "length": float(length[j]),
            },
        )
        for j, s in zip(k.tolist(), sidx[k].tolist(), strict=True)
    )
    return G, dropped, e


def _check_tiles(zoom_dir: Path, zoom: int, need: list[tuple[int, int]]) -> None:
    missing = [t for t in need if not tiles.tile_path(zoom_dir, *t).is_file()]
    if not missing:
        return
    x, y = missing[0]
    have = [t for t in need if t not in set(missing)]
    if not have:
        msg = (
            f"{zoom_dir}: holds none of the {len(need)} z{zoom} tiles over the study area "
            f"(e.g. {x}/{y}.pbf); the districts lie outside the tile data"
        )
    else:
        msg = (
            f"{tiles.tile_path(zoom_dir, x, y)}: tile missing ({len(missing)} of the "
            f"{len(need)} tiles over the study area are absent)"
        )
    raise DataError(msg)


def _haversine(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    """Great-circle distance in metres (earth radius 6,371,009 m, as osmnx)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(lon2 - lon1)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6_371_009.0 * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def _read_osm_xml(path: Path) -> nx.MultiDiGraph:
    if not path.is_file():
        msg = f"{path}: OSM file not found"
        raise DataError(msg)
    try:
        return ox.graph_from_xml(path, simplify=False, retain_all=True)
    except Exception as e:  # SAXParseException, bz2/OSError, KeyError on broken references
        msg = f"{path}: not a readable OSM XML file ({type(e).__name__}: {e})"
        raise DataError(msg) from e


def _read_pbf(path: Path) -> nx.MultiDiGraph:
    import osmium

    if not path.is_file():
        msg = f"{path}: OSM PBF file not found"
        raise DataError(msg)
    with tempfile.TemporaryDirectory(prefix="shuttle-pbf-") as td:
        xml = Path(td) / "data.osm"
        try:
            with osmium.SimpleWriter(str(xml)) as w:
                for obj in osmium.FileProcessor(str(path)):
                    w.add(obj)
        except Exception as e:  # osmium raises RuntimeError on a corrupt file
            msg = f"{path}: not a readable OSM PBF file ({e})"
            raise DataError(msg) from e
        return _read_osm_xml(xml)


def _read_graphml(path: Path) -> nx.MultiDiGraph:
    if not path.is_file():
        msg = f"{path}: GraphML file not found"
        raise DataError(msg)
    try:
        G = ox.load_graphml(path)
    except Exception as e:  # ParseError, ValueError, KeyError from malformed content
        msg = f"{path}: not a readable OSMnx GraphML file ({type(e).__name__}: {e})"
        raise DataError(msg) from e
    if not isinstance(G, nx.MultiDiGraph) or G.number_of_edges() == 0:
        msg = f"{path}: GraphML file holds no directed road graph"
        raise DataError(msg)
    for _, d in G.nodes(data=True):
        if "x" not in d or "y" not in d:
            msg = f"{path}: GraphML nodes lack x/y coordinates"
            raise DataError(msg)
    return G


def _read_online(area: BaseGeometry, cache_root: Path) -> nx.MultiDiGraph:
    ox.settings.use_cache = True
    ox.settings.cache_folder = str(cache_root / "osmnx")
    try:
        return ox.graph_from_polygon(
            area, network_type="drive", simplify=False, retain_all=True, truncate_by_edge=True
        )
    except Exception as e:  # network errors, Overpass errors
        msg = f"Overpass download of the study area failed ({type(e).__name__}: {e})"
        raise DataError(msg) from e


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple | set):
        return list(value)
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        with contextlib.suppress(ValueError, SyntaxError):
            parsed = ast.literal_eval(value)
            if isinstance(parsed, list):
                return parsed
    return [value]


def _road_class(highway: Any) -> str:
    return roads.class_of_tag(highway)


def _first_str(value: Any) -> str:
    vals = sorted({str(x).strip() for x in _as_list(value) if x is not None} - {"", "nan"})
    return vals[0] if vals else ""


def _osm_bool(value: Any) -> bool:
    return any(str(x).lower() in ("true", "1", "yes", "-1", "reversible") for x in _as_list(value))


def _brunnel(d: dict[str, Any]) -> str:
    if "brunnel" in d:
        return _first_str(d["brunnel"])
    for tag, val in (("bridge", "bridge"), ("tunnel", "tunnel"), ("ford", "ford")):
        v = _first_str(d.get(tag))
        if v and v != "no":
            return val
    return ""


def _prepare_osm(
    G: nx.MultiDiGraph, scenario: Scenario, area: BaseGeometry, where: str
) -> tuple[nx.MultiDiGraph, tuple[tuple[str, DropCount], ...], _Edges]:
    """Normalise an OSMnx graph to road classes and filter it like the tile graph."""
    nodes = list(G.nodes)
    try:
        node_id = np.asarray(nodes, dtype=np.int64)
    except (TypeError, ValueError) as err:
        msg = f"{where}: node ids must be integers"
        raise DataError(msg) from err
    index = {n: i for i, n in enumerate(nodes)}
    lon = np.fromiter((float(G.nodes[n]["x"]) for n in nodes), dtype=np.float64, count=len(nodes))
    lat = np.fromiter((float(G.nodes[n]["y"]) for n in nodes), dtype=np.float64, count=len(nodes))
    edges = list(G.edges(keys=True, data=True))
    attrs = []
    for _, _, _, d in edges:
        a = {
            "highway": _road_class(d.get("highway")),
            "oneway": _osm_bool(d.get("oneway", False)),
            "name": _first_str(d.get("name")),
            "brunnel": _brunnel(d),
            "length": float(_as_list(d.get("length", 0.0))[0] or 0.0),
        }
        osmid = [int(x) for x in _as_list(d.get("osmid")) if str(x).lstrip("-").isdigit()]
        if osmid:
            a["osmid"] = min(osmid)
        if isinstance(d.get("geometry"), LineString):
            a["geometry"] = d["geometry"]
        attrs.append(a)
    e = _Edges(
        node_id=node_id,
        lon=lon,
        lat=lat,
        u=np.fromiter((index[u] for u, _, _, _ in edges), dtype=np.int64, count=len(edges)),
        v=np.fromiter((index[v] for _, v, _, _ in edges), dtype=np.int64, count=len(edges)),
        cls=np.asarray([a["highway"] for a in attrs], dtype=object),
        oneway=np.asarray([a["oneway"] for a in attrs], dtype=bool),
        length=np.asarray([a["length"] for a in attrs], dtype=np.float64),
    )
    keep, dropped = _filter_edges(e, scenario, area, where)
    H = nx.MultiDiGraph(crs="epsg:4326")
    if G.graph.get("simplified"):
        H.graph["simplified"] = True
    k = np.flatnonzero(keep).tolist()
    used = np.unique(np.concatenate([e.u[k], e.v[k]])).tolist()
    H.add_nodes_from((nodes[i], {"x": float(lon[i]), "y": float(lat[i])}) for i in used)
    nx.set_node_attributes(H, {nodes[i]: True for i in _access_nodes(e, keep)}, _ACCESS)
    H.add_edges_from((edges[j][0], edges[j][1], attrs[j]) for j in k)
    return H, dropped, e


# ----------------------------------------------------------------------------------------------
# building


def _finalise(G: nx.MultiDiGraph, scenario: Scenario) -> nx.MultiDiGraph:
    """Simplify if needed and set the attribute contract (see the module docstring)."""
    if not G.graph.get("simplified"):
        G = ox.simplify_graph(
            G, node_attrs_include=[_ACCESS], edge_attrs_differ=["highway", "name", "brunnel"]
        )
    net = scenario.network
    xy = {n: (float(d["x"]), float(d["y"])) for n, d in G.nodes(data=True)}
    H = nx.MultiDiGraph()
    H.add_nodes_from((int(n), {"x": x, "y": y}) for n, (x, y) in sorted(xy.items()))
    speeds = {c: float(net.speed_for(c)) for c in CLASS_RANK}
    # straight geometries for the edges simplification left alone, made in one vectorised call
    bare = [(u, v) for u, v, g in G.edges(data="geometry") if not isinstance(g, LineString)]
    straight = iter(
        shapely.linestrings(np.asarray([(xy[u], xy[v]) for u, v in bare]).reshape(-1, 2, 2))
        if bare
        else []
    )
    out = []
    for u, v, d in G.edges(data=True):
        cls = _road_class(d.get("highway"))
        geom = d.get("geometry")
        if not isinstance(geom, LineString):
            geom = next(straight)
        length = float(sum(float(x) for x in _as_list(d.get("length", 0.0))))
        speed = speeds.get(cls, float(net.speed_for(cls)))
        a: dict[str, Any] = {
            "highway": cls,
            "oneway": _osm_bool(d.get("oneway", False)),
            "name": _first_str(d.get("name")),
            "brunnel": _first_str(d.get("brunnel")),
            "length": length,
            "geometry": geom,
            "speed_kph": speed,
            "travel_time": length / (speed / 3.6),
        }
        osmid = [int(x) for x in _as_list(d.get("osmid")) if x is not None]
        if osmid:
            a["osmid"] = min(osmid)
        out.append((int(u), int(v), a))
    out.sort(key=lambda t: (t[0], t[1], t[2]["highway"], t[2]["name"], t[2]["length"]))
    H.add_edges_from(out)
    sc = ox.stats.count_streets_per_node(H)
    nx.set_node_attributes(H, {n: int(c) for n, c in sc.items()}, name="street_count")
    H.graph.update(
        {
            "crs": "epsg:4326",
            "simplified": True,
            "source": net.source,
            "source_path": "" if net.source == "online" else str(scenario.data_path(net.path)),
            "districts": tuple(int(c) for c in scenario.districts),
            "buffer_m": float(net.buffer_m),
            "classes": tuple(net.classes),
            "network_version": NETWORK_VERSION,
        }
    )
    return H


def _build(scenario: Scenario, cache_root: Path, progress: ProgressFn | None) -> nx.MultiDiGraph:
    net = scenario.network
    area = areas.study_area(scenario)
    path = scenario.data_path(net.path) if net.path else Path()
    where = str(path) if net.source != "online" else "online"
    step(progress, "network", 0, 3)
    if net.source == "tiles":
        G, dropped, e = _tiles_graph(scenario, area, progress)
    else:
        if net.source == "osm":
            raw = _read_osm_xml(path)
        elif net.source == "pbf":
            raw = _read_pbf(path)
        elif net.source == "graphml":
            raw = _read_graphml(path)
        elif net.source == "online":
            raw = _read_online(area, cache_root)
        else:  # pragma: no cover - config.py validates the source
            msg = f"unknown network source {net.source!r}"
            raise DataError(msg)
        G, dropped, e = _prepare_osm(raw, scenario, area, where)
        del raw
    step(progress, "network", 1, 3)
    H = _finalise(G, scenario)
    step(progress, "network", 2, 3)
    all_edges = np.ones(e.u.size, dtype=bool)
    report = BuildReport(
        source=net.source,
        path=where if net.source != "online" else "",
        input_nodes=_n_nodes(e, all_edges),
        input_edges=int(e.u.size),
        input_km=round(_km(e, all_edges), 3),
        dropped=dropped,
        nodes=H.number_of_nodes(),
        edges=H.number_of_edges(),
        km=round(_graph_km(H), 3),
    )
    H.graph["build_report"] = report
    log.info(
        "road graph from %s: %d nodes, %d edges, %.1f km", where, report.nodes, report.edges,
        report.km,
    )  # fmt: skip
    step(progress, "network", 3, 3)
    return H


def _graph_km(G: nx.MultiDiGraph) -> float:
    return sum(d["length"] * (1.0 if d["oneway"] else 0.5) for _, _, d in G.edges(data=True)) / 1e3


# ----------------------------------------------------------------------------------------------
# cache


def default_cache_dir() -> Path:
    """Return ``$SHUTTLE_CACHE`` or ``~/.cache/shuttle``."""
    env = os.environ.get("SHUTTLE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "shuttle"


def _identity(p: Path) -> list[Any]:
    try:
        st = p.stat()
    except OSError:
        return [str(p), None, None]
    return [str(p), st.st_size, st.st_mtime_ns]


def _source_files(scenario: Scenario) -> list[list[Any]]:
    net = scenario.network
    files = [_identity(scenario.data_path(areas.DISTRICTS_FILE))]
    if net.source == "online":
        return files
    path = scenario.data_path(net.path)
    if net.source == "tiles":
        zoom_dir, zoom = tiles.find_zoom_dir(path)
        need = tiles.tiles_for_area(areas.study_area(scenario), zoom)
        _check_tiles(zoom_dir, zoom, need)
        files += [_identity(tiles.tile_path(zoom_dir, x, y)) for x, y in need]
    else:
        files.append(_identity(path))
    return files


def _code_hash() -> str:
    """Hash of this module and :mod:`shuttle.tiles`: a code change invalidates the cache."""
    h = hashlib.sha256()
    for mod in (__file__, tiles.__file__):
        with contextlib.suppress(OSError):
            h.update(Path(mod).read_bytes())
    return h.hexdigest()[:16]


def cache_path(scenario: Scenario, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the cache file of a scenario's graph (it may not exist yet).

    Raises
    ------
    DataError
        If the tile folder is missing or lacks tiles of the study area.
    """
    net = scenario.network
    payload = {
        "version": NETWORK_VERSION,
        "format": graphcache.FORMAT,
        "code": _code_hash(),
        "osmnx": ox.__version__ if net.source != "tiles" else "",
        "source": net.source,
        "files": _source_files(scenario),
        "districts": list(scenario.districts),
        "buffer_m": net.buffer_m,
        "classes": list(net.classes),
        "speeds": [list(s) for s in net.speeds_kph],
    }
    key = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    return root / f"network-{key}.graph"


def _graph_attrs_plain(G: nx.MultiDiGraph) -> dict[str, Any]:
    """The graph attributes with the build report as a plain dict (for the cache file)."""
    attrs = dict(G.graph)
    attrs.pop("cache_path", None)
    br = attrs.get("build_report")
    if isinstance(br, BuildReport):
        attrs["build_report"] = dataclasses.asdict(br)
    return attrs


def _load_cached(path: Path) -> nx.MultiDiGraph | None:
    """Return the cached graph, or None (with one warning) if the file is absent or unusable."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        log.warning("ignoring unreadable cache file %s (%s); rebuilding", path, e.strerror or e)
        return None
    try:
        G = graphcache.decode_graph(data, where=str(path))
        br = G.graph.get("build_report")
        if isinstance(br, dict):
            dropped = tuple((str(k), DropCount(**c)) for k, c in br.pop("dropped", ()))
            G.graph["build_report"] = BuildReport(**br, dropped=dropped)
    except (DataError, TypeError, ValueError) as e:  # truncated, altered or foreign: rebuild
        log.warning("ignoring cache file: %s; rebuilding", str(e).splitlines()[0])
        return None
    if G.graph.get("network_version") != NETWORK_VERSION:
        log.warning("ignoring stale cache file %s; rebuilding", path)
        return None
    return G


def load_graph(
    scenario: Scenario,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    refresh: bool = False,
    use_cache: bool = True,
    progress: ProgressFn | None = None,
) -> nx.MultiDiGraph:
    """Return the drivable road graph of a scenario, from the cache when it is there.

    Parameters
    ----------
    scenario
        The scenario; ``scenario.network`` says where the roads come from and how to filter them.
    cache_dir
        Cache folder; default ``$SHUTTLE_CACHE`` or ``~/.cache/shuttle``.
    refresh
        Rebuild even when a cached graph exists (and overwrite it).
    use_cache
        Read and write the cache at all.
    progress
        Progress callback (stages ``"tiles"`` and ``"network"``).

    Returns
    -------
    networkx.MultiDiGraph
        One strongly connected graph following the contract in the module docstring.

    Raises
    ------
    ConfigError
        If a district of the scenario is not in the boundary file.
    DataError
        If a source file or tile is missing or corrupt, or the tiles do not cover the districts.
    GraphError
        If no road of the chosen classes lies in the study area, or none of them leads back to
        where it starts (one-way streets only: no strongly connected part).
    """
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    cpath = cache_path(scenario, root) if use_cache else None
    if cpath is not None and not refresh:
        G = _load_cached(cpath)
        if G is not None:
            log.info("road graph loaded from cache %s", cpath)
            G.graph["cache_path"] = str(cpath)
            return G
    G = _build(scenario, root, progress)
    if cpath is not None:
        try:
            atomic_write_bytes(cpath, graphcache.encode_graph(G, _graph_attrs_plain(G)))
            log.info("road graph cached in %s", cpath)
            G.graph["cache_path"] = str(cpath)
        except (ShuttleError, ValueError, OverflowError) as e:  # never fail the build
            log.warning("cannot write the graph cache: %s", e)
    return G


# ----------------------------------------------------------------------------------------------
# export


def save_graphml(G: nx.MultiDiGraph, path: str | os.PathLike[str]) -> Path:
    """Write the graph as OSMnx GraphML (atomically) for GIS tools, and return the path.

    Graph attributes that are not strings (districts, classes, the build report) are written
    as text; :func:`osmnx.load_graphml` and the ``graphml`` source read the file back.

    Raises
    ------
    ExportError
        If the file cannot be written.
    """
    H = G.copy()
    for k, val in list(H.graph.items()):
        if isinstance(val, BuildReport):
            H.graph[k] = val.to_json()
        elif isinstance(val, tuple | list):
            H.graph[k] = ",".join(str(x) for x in val)
    target = Path(path)
    with atomic_path(target) as tmp:
        ox.save_graphml(H, tmp)
    return target


# ----------------------------------------------------------------------------------------------
# info


def graph_info(G: nx.MultiDiGraph, scenario: Scenario) -> NetworkInfo:
    """Return statistics of a road graph: size, km by district and class, named shares.

    Edges are assigned to the district holding the midpoint of their geometry; nodes to the
    district holding them. Road km count each two-way road once (a oneway edge fully, each
    direction of a two-way road half).

    Raises
    ------
    GraphError
        If the graph has no edges.
    """
    if G.number_of_edges() == 0:
        msg = "The road graph has no edges."
        raise GraphError(msg)
    polys = areas.district_polygons(scenario)
    names = dict((c, en) for c, _, en in scenario.district_names())
    data = [d for _, _, d in G.edges(data=True)]
    geoms = np.asarray([d["geometry"] for d in data], dtype=object)
    mid = shapely.line_interpolate_point(geoms, 0.5, normalized=True)
    mx, my = shapely.get_x(mid), shapely.get_y(mid)
    nxy = np.asarray([(d["x"], d["y"]) for _, d in G.nodes(data=True)], dtype=np.float64)
    w = np.asarray([d["length"] * (1.0 if d["oneway"] else 0.5) for d in data]) / 1000.0
    district = np.zeros(len(data), dtype=np.int64)
    by_node = []
    for code, poly in polys.items():
        shapely.prepare(poly)
        inside = shapely.contains_xy(poly, mx, my) & (district == 0)
        district[inside] = code
        n_in = int(shapely.contains_xy(poly, nxy[:, 0], nxy[:, 1]).sum())
        by_node.append((code, names[code], n_in))
    km_d = [(c, names[c], round(float(w[district == c].sum()), 3)) for c in polys]
    km_d.append((0, "outside", round(float(w[district == 0].sum()), 3)))
    cls = np.asarray([d["highway"] for d in data], dtype=object)
    named = np.asarray([bool(d.get("name")) for d in data])
    km_c = [(c, round(float(w[cls == c].sum()), 3)) for c in CLASS_RANK if (cls == c).any()]
    major = np.isin(cls, np.asarray(MAJOR_CLASSES, dtype=object))
    report = G.graph.get("build_report")
    return NetworkInfo(
        source=str(G.graph.get("source", "")),
        nodes=G.number_of_nodes(),
        edges=G.number_of_edges(),
        road_km=round(float(w.sum()), 3),
        nodes_by_district=tuple(by_node),
        km_by_district=tuple(km_d),
        km_by_class=tuple(km_c),
        named_share=float(w[named].sum() / w.sum()),
        named_share_major=float(w[named & major].sum() / w[major].sum()) if major.any() else 0.0,
        dropped=report.dropped if isinstance(report, BuildReport) else (),
    )


def format_info(info: NetworkInfo) -> str:
    """Format :class:`NetworkInfo` as a plain-text table."""
    lines = [
        f"source       {info.source}",
        f"nodes        {info.nodes:,}",
        f"edges        {info.edges:,}",
        f"road km      {info.road_km:,.1f}",
        f"named        {info.named_share:.1%} of length "
        f"({info.named_share_major:.1%} of primary+secondary+tertiary)",
        "",
        f"{'district':<24}{'nodes':>8}{'km':>10}",
    ]
    nodes = {c: n for c, _, n in info.nodes_by_district}
    for code, name, km in info.km_by_district:
        label = f"{code} {name}" if code else "outside (buffer)"
        n = f"{nodes[code]:,}" if code in nodes else "-"
        lines.append(f"{label:<24}{n:>8}{km:>10.1f}")
    lines += ["", f"{'class':<24}{'km':>18}"]
    lines += [f"{c:<24}{km:>18.1f}" for c, km in info.km_by_class]
    if info.dropped:
        lines += ["", f"{'dropped':<16}{'nodes':>8}{'edges':>9}{'km':>9}"]
        lines += [f"{r:<16}{d.nodes:>8,}{d.edges:>9,}{d.km:>9.1f}" for r, d in info.dropped]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------
# snapping

_TREES: weakref.WeakKeyDictionary[nx.MultiDiGraph, tuple[int, cKDTree, np.ndarray]] = (
    weakref.WeakKeyDictionary()
)


def nearest_nodes(
    G: nx.MultiDiGraph, lats: Iterable[float] | float, lons: Iterable[float] | float
) -> np.ndarray:
    """Return the id of the node nearest each point (Euclidean in EPSG:5179 metres).

    The KD-tree is kept per graph (until its node count changes).

    Parameters
    ----------
    G
        A lon/lat graph (node ``x``/``y``).
    lats, lons
        WGS84 degrees, scalars or sequences of equal length.

    Returns
    -------
    numpy.ndarray
        Node ids (int64), one per point.

    Raises
    ------
    GraphError
        If the graph has no nodes.
    """
    if G.number_of_nodes() == 0:
        msg = "The road graph has no nodes to snap to."
        raise GraphError(msg)
    cached = _TREES.get(G)
    if cached is None or cached[0] != G.number_of_nodes():
        ids = np.fromiter(G.nodes, dtype=np.int64, count=G.number_of_nodes())
        x = np.fromiter((d["x"] for _, d in G.nodes(data=True)), dtype=np.float64)
        y = np.fromiter((d["y"] for _, d in G.nodes(data=True)), dtype=np.float64)
        mx, my = geo.to_metric_xy(x, y)
        cached = (G.number_of_nodes(), cKDTree(np.column_stack([mx, my])), ids)
        _TREES[G] = cached
    qx, qy = geo.to_metric_xy(np.atleast_1d(np.asarray(lons, dtype=np.float64)),
                              np.atleast_1d(np.asarray(lats, dtype=np.float64)))  # fmt: skip
    _, idx = cached[1].query(np.column_stack([qx, qy]))
    return cached[2][idx]
