"""Travel demand between the administrative dongs (zones) of the scenario.

Zones are the dongs of :func:`shuttle.areas.read_zones`. Each zone is represented on the road
graph by its *centroid node*: the node of the graph's largest strongly connected component nearest
to the dong polygon's centroid (its representative point when the centroid falls outside it).

Gravity model (``demand.model = "gravity"``, the default), per day::

    P_i  = trip_rate * population_i                                    (productions)
    A_j  = population_j + anchor_weight * mean_population * anchors_j   (attractions)
    T_ij = P_i * A_j * exp(-beta * t_ij) / sum_{k != i} A_k * exp(-beta * t_ik),   T_ii = 0

``t_ij`` is the free-flow road travel time in minutes between the centroid nodes (shortest path
on ``travel_time`` with :mod:`shuttle.paths`), ``anchors_j`` the number of resolved anchors lying in
zone j. The model is singly (production) constrained: every row sums to ``P_i``. Zones a zone
cannot reach by road get nothing from it.

OD file (``demand.model = "csv"``): ``demand.od_file`` (relative to the data directory unless
absolute), a CSV with the header ``origin,destination,trips``, zone codes ``adm_cd2`` (10 digits),
trips per day >= 0. Repeated pairs add up; intra-zone rows are dropped (a shuttle does not serve
them).

``inter_district_only`` (both models): after the distribution, pairs whose two zones lie in the
same district are set to 0. The trips are *not* redistributed onto inter-district pairs: the
result is the inter-district part of the full demand, so row sums drop below ``P_i``.
"""

from __future__ import annotations

import logging
import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy.spatial import cKDTree
from shapely.geometry import Point

from . import areas, geo, io, paths
from .areas import Zone
from .config import Scenario
from .errors import ConfigError, DataError, DesignError
from .model import Place

__all__ = ["Demand", "build_demand", "centroid_nodes", "read_od_csv", "zone_of"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Demand:
    """Daily trips between zones."""

    zones: tuple[Zone, ...]  # sorted by code
    trips: np.ndarray  # (z, z) trips per day, zone order of ``zones``, zero diagonal
    centroid_nodes: np.ndarray  # (z,) graph node representing each zone
    travel_min: np.ndarray | None = None  # (z, z) road time between centroid nodes, minutes

    @property
    def total(self) -> float:
        """Trips per day."""
        return float(self.trips.sum())

    def index(self, code: str) -> int:
        """Position of a zone code in ``zones``.

        Raises
        ------
        KeyError
            If the code is not a zone.
        """
        for i, z in enumerate(self.zones):
            if z.code == code:
                return i
        raise KeyError(code)


def zone_of(lat: float, lon: float, zones: Sequence[Zone]) -> Zone | None:
    """Return the zone containing a point (the first by code on a shared border), or None."""
    pt = Point(lon, lat)
    for z in sorted(zones, key=lambda z: z.code):
        if z.geometry.covers(pt):
            return z
    return None


def _largest_scc_nodes(G: nx.MultiDiGraph) -> list[int]:
    comps = list(nx.strongly_connected_components(G))
    if not comps:
        msg = "The road graph has no nodes."
        raise DesignError(msg)
    big = max(comps, key=lambda c: (len(c), -min(c)))
    return sorted(int(n) for n in big)


def centroid_nodes(G: nx.MultiDiGraph, zones: Sequence[Zone]) -> np.ndarray:
    """Return the graph node nearest each zone's centre (largest strongly connected component).

    The centre is the polygon's centroid, or its representative point when the centroid lies
    outside the polygon. Distances are measured in EPSG:5179 metres.
    """
    nodes = _largest_scc_nodes(G)
    nx_, ny_ = geo.to_metric_xy(
        np.array([G.nodes[n]["x"] for n in nodes], dtype=float),
        np.array([G.nodes[n]["y"] for n in nodes], dtype=float),
    )
    tree = cKDTree(np.column_stack([nx_, ny_]))
    centres = []
    for z in zones:
        c = z.geometry.centroid
        if not z.geometry.covers(c):
            c = z.geometry.representative_point()
        centres.append((c.x, c.y))
    cx, cy = geo.to_metric_xy(np.array([c[0] for c in centres]), np.array([c[1] for c in centres]))
    dist, idx = tree.query(np.column_stack([cx, cy]))
    for z, d in zip(zones, dist, strict=True):
        if d > 1000:
            log.warning(
                "zone %s %s: nearest road node is %.0f m from its centre", z.code, z.name_ko, d
            )
    return np.array([nodes[i] for i in idx], dtype=np.int64)


#: Centroid nodes and road minutes per frozen graph (shuttle.design.shuttle_graph's) and zones.
_ROAD_MINUTES: weakref.WeakKeyDictionary[nx.MultiDiGraph, dict[tuple[str, ...], tuple]] = (
    weakref.WeakKeyDictionary()
)


def _centres_and_minutes(
    G: nx.MultiDiGraph, zones: Sequence[Zone]
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`centroid_nodes` and the road minutes between them; computed once per zone set on a
    frozen graph (which cannot change), as read-only arrays."""
    frozen = nx.is_frozen(G)
    key = tuple(str(z.code) for z in zones)
    if frozen and key in _ROAD_MINUTES.get(G, {}):
        return _ROAD_MINUTES[G][key]
    cnodes = centroid_nodes(G, zones)
    t_min = _travel_minutes(G, cnodes)
    if frozen:
        cnodes.setflags(write=False)
        t_min.setflags(write=False)
        _ROAD_MINUTES.setdefault(G, {})[key] = (cnodes, t_min)
    return cnodes, t_min


def _travel_minutes(G: nx.MultiDiGraph, cnodes: np.ndarray) -> np.ndarray:
    rm = paths.road_matrix(G, "travel_time")
    dist, _ = paths.shortest(rm, [int(n) for n in cnodes])
    cols = rm.idx([int(n) for n in cnodes])
    return dist[:, cols] / 60.0


def _gravity(
    zones: Sequence[Zone], t_min: np.ndarray, scenario: Scenario, places: Sequence[Place]
) -> np.ndarray:
    cfg = scenario.demand
    pop = np.array([z.population for z in zones], dtype=float)
    anchors = np.zeros(len(zones))
    codes = {z.code: i for i, z in enumerate(zones)}
    for p in places:
        z = zone_of(p.lat, p.lon, zones)
        if z is not None:
            anchors[codes[z.code]] += 1
    prod = cfg.trip_rate * pop
    attr = pop + cfg.anchor_weight * pop.mean() * anchors
    with np.errstate(over="ignore"):
        w = attr[None, :] * np.exp(-cfg.beta_per_min * t_min)
    w[~np.isfinite(t_min)] = 0.0
    np.fill_diagonal(w, 0.0)
    den = w.sum(axis=1)
    trips = np.zeros_like(w)
    ok = den > 0
    trips[ok] = prod[ok, None] * w[ok] / den[ok, None]
    for i in np.flatnonzero(~ok).tolist():
        log.warning("zone %s %s reaches no other zone by road", zones[i].code, zones[i].name_ko)
    return trips


def read_od_csv(path: str, zones: Sequence[Zone]) -> np.ndarray:
    """Read an OD table ``origin,destination,trips`` (zone codes) into a (z, z) matrix.

    Raises
    ------
    DataError
        If the file is missing, lacks the header, names an unknown zone, or has trips that are
        negative or not a number; the message names the file and the line.
    """
    codes = {z.code: i for i, z in enumerate(zones)}
    trips = np.zeros((len(zones), len(zones)))
    rows = io.read_csv_rows(path, "OD file")
    if not rows or [c.strip().lower() for c in rows[0]] != ["origin", "destination", "trips"]:
        msg = f"{path}: line 1: expected the header 'origin,destination,trips'"
        raise DataError(msg)
    for n, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) != 3:
            msg = f"{path}: line {n}: expected 3 fields, got {len(row)}"
            raise DataError(msg)
        o, d, t = (c.strip() for c in row)
        for code in (o, d):
            if code not in codes:
                msg = f"{path}: line {n}: unknown zone code {code!r} (not a dong of the scenario)"
                raise DataError(msg)
        try:
            v = float(t)
        except ValueError as e:
            msg = f"{path}: line {n}: trips {t!r} is not a number"
            raise DataError(msg) from e
        if not math.isfinite(v) or v < 0:
            msg = f"{path}: line {n}: trips {t!r} must be a number >= 0"
            raise DataError(msg)
        trips[codes[o], codes[d]] += v
    dropped = float(np.trace(trips))
    if dropped:
        log.info("%s: dropped %.1f intra-zone trips", path, dropped)
    np.fill_diagonal(trips, 0.0)
    return trips


def build_demand(
    G: nx.MultiDiGraph,
    scenario: Scenario,
    places: Sequence[Place] = (),
    *,
    zones: Sequence[Zone] | None = None,
) -> Demand:
    """Build the daily zone-to-zone demand of the scenario (gravity model or OD file).

    Parameters
    ----------
    G
        Road graph with ``travel_time`` (s) on every edge.
    scenario
        Supplies ``demand`` (model, parameters, OD file) and the districts.
    places
        Resolved anchors; each adds attraction to the zone it lies in (gravity model).
    zones
        The zones; default :func:`shuttle.areas.read_zones`.

    Returns
    -------
    Demand
        Zones sorted by code, trips per day (zero diagonal; intra-district pairs zeroed when
        ``inter_district_only``), centroid nodes and centroid-to-centroid road minutes.

    Raises
    ------
    ConfigError
        If the model is unknown or ``csv`` has no ``od_file``.
    DataError
        If a data file is missing or corrupt.
    """
    cfg = scenario.demand
    zs = tuple(
        sorted(zones if zones is not None else areas.read_zones(scenario), key=lambda z: z.code)
    )
    cnodes, t_min = _centres_and_minutes(G, zs)
    if cfg.model == "gravity":
        trips = _gravity(zs, t_min, scenario, places)
    elif cfg.model == "csv":
        if not cfg.od_file:
            msg = f"{scenario.source_file}: demand.od_file is required for model = 'csv'"
            raise ConfigError(msg)
        trips = read_od_csv(str(scenario.data_path(cfg.od_file)), zs)
    else:
        msg = f"{scenario.source_file}: demand.model must be 'gravity' or 'csv', got {cfg.model!r}"
        raise ConfigError(msg)
    full = float(trips.sum())
    if cfg.inter_district_only:
        gu = np.array([z.district for z in zs])
        trips = np.where(gu[:, None] == gu[None, :], 0.0, trips)
    log.info(
        "demand (%s): %.0f trips/day, %.0f kept%s",
        cfg.model,
        full,
        trips.sum(),
        " (inter-district only)" if cfg.inter_district_only else "",
    )
    return Demand(zones=zs, trips=trips, centroid_nodes=cnodes, travel_min=t_min)
