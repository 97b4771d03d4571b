"""Route designer: K shuttle routes on the road graph from stops, anchors and demand.

:func:`design_network` turns the road graph, the scenario's anchor places and the zone demand into
a :class:`~shuttle.model.Design` in five stages:

Routes run only on the *bus graph* (:func:`bus_graph`): the roads of ``design.bus_classes``
(primary, secondary, tertiary in nw3; motorway and trunk stay out through
``design.avoid_classes``), plus minor streets within ``design.minor_access_m`` of a scenario
``[[terminals]]`` place. ``network.classes`` stays the content of the road graph (the demand
model, walking and the existing-network importer use the minor streets).

1. **Key nodes** (:mod:`shuttle.keynet`). The anchors (which must be served) and the demand zones
   (administrative dongs, from :func:`shuttle.demand.build_demand`) are snapped to *turnable*
   intersections of the bus graph (see "Terminals" below). A zone whose snapped point lies within
   a merge radius of an earlier key node joins that node (anchors first, then zones by
   population), so the abstract network stays small enough for K routes to cover it: the radii of
   :data:`MERGE_RADII_M` are tried in turn until the solver finds a feasible route set.
2. **Abstract problem.** Key nodes ``i, j`` are linked when both road travel times are finite and
   no third key node lies "in between" (``s(i,k) + s(k,j) <= 1.1 s(i,j)`` on the symmetric mean
   ``s`` prunes ``i-j``); the shortest pruned links are put back until the link graph is
   connected. A link's time (minutes) is the road shortest travel time plus the expected dwell
   (``dwell_s`` per ``(min_spacing_m + max_spacing_m) / 2`` metres of road). Demand between key
   nodes is the zone OD summed over the zones of each key node. The route constraints come from
   the scenario: ``max_route_min = (max_cycle_min - 2 layover) / 2 / f`` with ``f`` the slowest
   period's run-time factor (:func:`shuttle.runtime.slowest_factor`), ``max_route_km`` through
   the average pace of the links, ``min_nodes`` from ``min_stops``. The problem goes to
   :func:`shuttle.utrp.design`.
3. **Road paths** (:mod:`shuttle.router`). Each key-node route is routed as one closed walk by
   :meth:`shuttle.router.TurnRouter.cycle`: direction 0 through the key nodes, a turnaround loop at
   the far end, direction 1 back, a loop at the near end, never turning by more than
   ``design.max_turn_deg`` (by the edges' geometry, mid-route, at stops and at the joins). A route
   end within :data:`TERMINAL_REACH_M` of a terminal (the scenario's ``[[terminals]]`` first, then
   Seoul bus stops named 차고지/종점/회차, not village-bus stops) is moved there; an end at an
   anchor's bare road node (see "Terminals") moves on to one of the :data:`END_CANDIDATES`
   nearest turnable intersections beyond it; where the router finds no turnaround without a
   reversal at that place, the next one is tried, last a loop round a block at the key node
   itself (:func:`_route_walk`). No reversal is excused anywhere, terminals included.
4. **Stops and patterns.** :func:`shuttle.stops.place_route_stops` places the stops along both
   directions (real Seoul bus stops where possible, new stops in pairs across the road, each
   anchor of the route flagged). The two directions
   share their terminal stops on the departure side of each turnaround (:func:`_join`): a bus's
   next trip starts where its last ended, heading on. Run times come from the graph's
   ``travel_time`` between stop positions, the shape from the edge geometries. A route that
   breaks ``max_route_km``, ``max_cycle_min`` (by :func:`shuttle.runtime.cycle_time_s`, the
   slowest period with dwell and layovers), ``min_stops`` or ``design.max_detour_ratio`` (unless
   a served anchor lies off the shortest road path between its ends) tightens the abstract time
   cap by :data:`TIGHTEN` and the design is repeated (at most :data:`MAX_ATTEMPTS` times).
   A route whose only closed walk turns back through a short connector
   (:class:`shuttle.router.ReversalError`), or that ends where a bus cannot turn round, does not
   tighten the cap: that key link is taken out of the key network, or that key node may no
   longer end a route, and the design is repeated (at most :data:`MAX_BAN_ROUNDS` times).
   With ``design.max_key_nodes`` only the anchors' key nodes must be on a route
   (``utrp.Problem.must_cover``); the other key nodes' trips count as unserved when left out.
5. **Figures** (:mod:`shuttle.kpis`). :class:`~shuttle.model.DesignKPIs` (see
   :func:`design_kpis`), per route also km by road class, minor-street uses, detour ratio and
   the two turnarounds; the passenger figures come from
   :func:`shuttle.evaluate.evaluate_network` on the built routes and stops. The JSON and GeoJSON
   of the route set are written by :mod:`shuttle.designio`.

Terminals
---------
Every key node, hence every route end, is an intersection with at least three distinct
successors in the largest strongly connected part of the bus graph where a bus arriving from any
side can turn round (a loop back to the departure side within :data:`TURNAROUND_LIMIT_S`); an
anchor with no such node in reach (``design.max_key_nodes`` only) keeps its own road node
(``KeyNetwork.turnable`` False), which a route passes; a route ending there turns round at a
turnable intersection beyond it (stage 3), or, where none serves, no longer ends there (stage
4). All routes run in both directions (``is_loop`` is False).

Objective
---------
The designer minimises the UTRP objective of :mod:`shuttle.utrp`::

    f = (1 - w) ATT / ATT_ref + w TRT / TRT_ref + 5 dun / 100

with ``w = design.operator_weight``, ATT the demand-weighted in-vehicle time plus, per transfer,
``transfer_penalty_min`` plus half the weekday off-peak headway (the wait at the transfer), TRT the
sum of the routes' one-way times (vehicle-hours per weekday are affine in TRT for fixed headways:
``vehicles = ceil(cycle / headway)``), ``dun`` the percent of demand needing more than two
transfers, and ``ATT_ref``, ``TRT_ref`` those of the greedy route set on the same problem (so the
greedy design scores 1.0 plus its ``dun`` term). The objective is reported as ``objective`` (to
compare methods on one key network).

Against the existing network (``design.versus_existing``, :class:`shuttle.existing.DesignBaseline`):
each key-node pair also gets today's door-to-door time by the existing buses and metro (optimal
strategies, weekday off-peak), expressed in the designer's units (less the shuttle's first wait,
half its off-peak headway, and divided by the off-peak run-time factor), and a pair counts the
lesser of the shuttle's cost and today's (``utrp.Problem.baseline_min``). ATT is then the time
with the shuttle added, and minimising it maximises the gain over today: a route that only
repeats what riders already have earns nothing. The operator term prices each link's minutes at
``1 + design.duplicate_weight x`` the share of its road path along frequent existing service (6 or
more buses an hour the same way, :func:`shuttle.overlap.frequent_shares`), so among equally
useful routes the designer avoids the trunk corridors. Trips that combine a shuttle ride with an
existing line are not in this key-level objective (the plan's before/after assignment has them).

Reported passenger figures
--------------------------
``att_min``, ``d0``, ``d1``, ``d2`` and ``dun`` are *not* the key-level figures above: they are
evaluated by :func:`shuttle.evaluate.evaluate_network` on the routes and stops actually built, for
the full zone OD matrix (also the demand inside merged key nodes; without intra-district pairs
when ``demand.inter_district_only``). Passengers walk from the zone centre to a stop within 800 m,
wait half the off-peak headway per boarding, ride the patterns' run times plus dwell, pay
``transfer_penalty_min`` per transfer, may cross the street to another stop within 250 m to
change, and walk to the destination. So these figures include detours, the real stops and the
walks, and are comparable between scenarios with different key networks.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
import weakref
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import networkx as nx
import numpy as np
from scipy.spatial import cKDTree

from . import colors, evaluate, geo, paths, roads, runtime, utrp
from .colors import contrast_ratio, text_color_for
from .config import Scenario
from .designio import design_to_geojson, design_to_json
from .errors import ConfigError, DesignError
from .keynet import (
    BUS_ROAD_CLASSES,
    MERGE_RADII_M,
    OFF_NETWORK_M,
    TURNAROUND_LIMIT_S,
    KeyNetwork,
    Snapper,
    edge_data,
    key_network,
    key_travel_times,
    node_xy,
    turnable_nodes,
)
from .kpis import design_kpis, route_facts
from .log import ProgressFn, step
from .model import Design, Pattern, Place, Route, Stop, route_id
from .router import TurnRouter, WalkError

__all__ = [
    "ALGORITHMS",
    "BUS_ROAD_CLASSES",
    "MAX_ATTEMPTS",
    "MERGE_RADII_M",
    "OFF_NETWORK_M",
    "KeyNetwork",
    "Terminal",
    "TurnRouter",
    "TERMINAL_REACH_M",
    "TURNAROUND_LIMIT_S",
    "VIA_RADIUS_M",
    "bus_graph",
    "contrast_ratio",
    "design_kpis",
    "design_network",
    "design_to_geojson",
    "design_to_json",
    "find_terminals",
    "key_network",
    "key_travel_times",
    "resolve_terminals",
    "route_facts",
    "shuttle_graph",
    "terminal_stops",
    "text_color_for",
    "turnable_nodes",
]

log = logging.getLogger(__name__)

#: Design methods: the name given to ``method=`` -> the :mod:`shuttle.utrp` method it runs.
ALGORITHMS: dict[str, str] = {"greedy": "greedy", "anneal": "anneal"}

VIA_RADIUS_M = 200.0
#: Factor applied to the abstract time cap when an expanded route breaks a bound.
TIGHTEN = 0.92
#: Designs tried with tightening caps before giving up.
MAX_ATTEMPTS = 5
#: Designs again (the time cap unchanged) after leaving out the key links and route ends where
#: a bus could only turn back through a short connector (:class:`shuttle.router.ReversalError`),
#: or find no turn-bounded walk at all (:class:`shuttle.router.WalkError`).
MAX_BAN_ROUNDS = 12
#: A route end moves to a terminal or garage this close to its end key node (metres).
TERMINAL_REACH_M = 800.0
#: Turnable intersections tried beyond a route end where no bus turns round (nearest first).
END_CANDIDATES = 3
#: A shared terminal stop may stand this far from the split of a turnaround (metres).
JOIN_REACH_M = 400.0
#: A stop of the next direction this close after a new split stop is dropped (metres).
SPLIT_STOP_GAP_M = 100.0
#: Stop types of village-bus (마을버스) stops: their termini are on streets too small for 11 m.
VILLAGE_KINDS = frozenset({"마을버스"})
#: Words of a Seoul bus stop at a terminal or garage (차고지 garage, 종점 terminus, 회차 turn).
TERMINAL_WORDS: tuple[str, ...] = ("차고지", "종점", "회차")
#: Weight of the percent of demand unreachable with <= 2 transfers (as in utrp's annealer).
UNREACH_WEIGHT = 5.0


# ------------------------------------------------------------------------------------------------
# colours


# ------------------------------------------------------------------------------------------------
# patterns


@dataclass(frozen=True, slots=True)
class _Walk:
    """A road node path with cumulative distance and time per node and its shape."""

    nodes: tuple[int, ...]
    cum_m: np.ndarray  # per node
    cum_s: np.ndarray  # per node
    pts: list[tuple[float, float, float]]  # (dist_m, lat, lon) shape vertices

    def time_at(self, d: float) -> float:
        return float(np.interp(d, self.cum_m, self.cum_s))

    def node_index_at(self, d: float) -> int:
        return int(np.searchsorted(self.cum_m, d - 1e-6, side="left"))

    def shape_between(self, d0: float, d1: float) -> list[tuple[float, float]]:
        ds = np.array([p[0] for p in self.pts])
        lat = np.array([p[1] for p in self.pts])
        lon = np.array([p[2] for p in self.pts])
        inner = [(float(la), float(lo)) for d, la, lo in self.pts if d0 < d < d1]
        out = [(float(np.interp(d0, ds, lat)), float(np.interp(d0, ds, lon)))]
        out += inner
        out.append((float(np.interp(d1, ds, lat)), float(np.interp(d1, ds, lon))))
        dedup = [out[0]]
        for p in out[1:]:
            if p != dedup[-1]:
                dedup.append(p)
        return [(round(a, 6), round(b, 6)) for a, b in dedup]


def _walk(G: nx.MultiDiGraph, rm: paths.RoadMatrix, nodes: Sequence[int]) -> _Walk:
    cum_m = [0.0]
    cum_s = [0.0]
    u0 = nodes[0]
    pts: list[tuple[float, float, float]] = [(0.0, G.nodes[u0]["y"], G.nodes[u0]["x"])]
    for u, v in zip(nodes[:-1], nodes[1:], strict=True):
        d = edge_data(G, rm, u, v)
        length = float(d["length"])
        geom = d.get("geometry")
        if geom is not None:
            coords = list(geom.coords)  # lon, lat
            if geo.haversine_m(coords[0][1], coords[0][0], G.nodes[u]["y"], G.nodes[u]["x"]) > 1.0:
                coords.reverse()
        else:
            coords = [(G.nodes[u]["x"], G.nodes[u]["y"]), (G.nodes[v]["x"], G.nodes[v]["y"])]
        seg = [
            geo.haversine_m(a[1], a[0], b[1], b[0])
            for a, b in zip(coords[:-1], coords[1:], strict=True)
        ]
        tot = sum(seg) or 1.0
        acc = 0.0
        for (lo, la), s in zip(coords[1:], seg, strict=True):
            acc += s
            pts.append((cum_m[-1] + length * acc / tot, la, lo))
        cum_m.append(cum_m[-1] + length)
        cum_s.append(cum_s[-1] + float(d["travel_time"]))
    return _Walk(tuple(int(n) for n in nodes), np.array(cum_m), np.array(cum_s), pts)


# ------------------------------------------------------------------------------------------------
# the designer


@dataclass(frozen=True, slots=True)
class _Built:
    routes: tuple[Route, ...]
    stops: dict[str, Stop]
    bad: tuple[str, ...]  # bound violations of the expanded routes
    facts: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)  # RouteKPI extras
    # where a route could only turn back through a short connector (or not turn round at all),
    # by key nodes: ``(k,)`` a route end that cannot be a terminal, ``(i, j)`` a key link with
    # no reversal-free walk
    bans: tuple[tuple[int, ...], ...] = ()
    missed: tuple[int, ...] = ()  # key nodes with an anchor that got no stop


def _check_settings(scenario: Scenario, method: str) -> None:
    ds = scenario.design
    f = scenario.source_file or "the scenario"
    if method not in ALGORITHMS:
        msg = (
            f"{f}: design.method: {method!r} is not a design method; "
            f"choose one of {sorted(ALGORITHMS)}."
        )
        raise ConfigError(msg)
    if ds.routes < 1:
        msg = f"{f}: design.routes must be at least 1, got {ds.routes}."
        raise ConfigError(msg)
    if not 0.0 <= ds.operator_weight <= 1.0:
        msg = f"{f}: design.operator_weight must be in [0, 1], got {ds.operator_weight}."
        raise ConfigError(msg)
    one_way = (ds.max_cycle_min - 2 * scenario.service.layover_min) / 2.0
    if one_way <= 0:
        msg = (
            f"design.max_cycle_min = {ds.max_cycle_min:g} in {f} leaves no running time after two "
            f"layovers of {scenario.service.layover_min:g} min; raise design.max_cycle_min."
        )
        raise DesignError(msg)
    max_stops = int(ds.max_route_km * 1000.0 // scenario.stops.min_spacing_m) + 1
    if ds.min_stops > max_stops:
        msg = (
            f"design.min_stops = {ds.min_stops} in {f} cannot fit on a route of at most "
            f"design.max_route_km = {ds.max_route_km:g} km with stops at least "
            f"{scenario.stops.min_spacing_m:g} m apart (at most {max_stops} stops); lower "
            "design.min_stops or raise design.max_route_km."
        )
        raise DesignError(msg)


def design_network(
    G: nx.MultiDiGraph,
    scenario: Scenario,
    *,
    method: str | None = None,
    progress: ProgressFn | None = None,
    existing: Any = None,
) -> Design:
    """Design the scenario's K shuttle routes on the road graph.

    Parameters
    ----------
    G
        Road graph (``shuttle.network.load_graph``): MultiDiGraph in EPSG:4326 whose edges carry
        ``length`` (m) and ``travel_time`` (s).
    scenario
        The scenario; ``scenario.design`` holds K, the method, the seed and the bounds.
    method
        ``"greedy"`` (constructive) or ``"anneal"`` (simulated annealing from the greedy set);
        ``None`` uses ``scenario.design.method``.
    progress
        Optional ``progress(stage, done, total)`` callback.
    existing
        Optional :class:`shuttle.existing.DesignBaseline`: design for the gain over the existing
        network (see "Against the existing network" in the module docstring).

    Returns
    -------
    Design
        Places, stops (sorted by id), routes ``R1..RK`` and their KPIs.

    Raises
    ------
    ConfigError
        If the method or a design setting is invalid.
    DesignError
        If an anchor is off the network, K exceeds what the demand allows, the bounds are
        infeasible or an anchor cannot be served.

    Notes
    -----
    See the module docstring for the stages, the terminal rule and the objective. The result
    depends only on the graph, the scenario and the seed.
    """
    from . import demand as demand_mod
    from . import places as places_mod
    from . import stops as stops_mod

    method = scenario.design.method if method is None else method
    _check_settings(scenario, method)
    ds = scenario.design
    fname = scenario.source_file or "the scenario"
    stage = f"design ({method})"
    step(progress, stage, 0, 5)
    t_start = time.perf_counter()

    places = tuple(places_mod.resolve_places(scenario))
    G = shuttle_graph(G, ds.avoid_classes)
    bus_stops = stops_mod.read_bus_stops(scenario)
    named = resolve_terminals(scenario, bus_stops)
    Gb = bus_graph(G, scenario, [(la, lo) for _, la, lo in named])
    rm = paths.road_matrix(Gb, "travel_time")
    router = TurnRouter(Gb, max_turn_deg=ds.max_turn_deg)
    snap = Snapper.build(Gb, rm, router)
    for p in places:  # off-network anchors fail before the (slower) demand model
        x, y = geo.to_metric_xy(p.lon, p.lat)
        _, d = snap.nearest_any(np.array([float(x), float(y)]))
        if d > OFF_NETWORK_M:
            msg = (
                f"Anchor {p.name_ko!r} ({p.name_en}) lies {d:.0f} m from the nearest road node "
                f"(limit {OFF_NETWORK_M:.0f} m); check its position or the network area."
            )
            raise DesignError(msg)
    dem = demand_mod.build_demand(G, scenario, places)
    zones = tuple(dem.zones)
    trips = np.asarray(dem.trips, dtype=float)
    ctx = _Ctx(
        G=Gb,
        rm=rm,
        rm_len=paths.road_matrix(Gb, "length"),
        router=router,
        index=stops_mod.build_stop_index(Gb, bus_stops, landmarks=places_mod.landmarks(scenario)),
        terminals=find_terminals(Gb, named, bus_stops),
        snap=snap,
    )
    step(progress, stage, 1, 5)
    cnodes = tuple(int(v) for v in dem.centroid_nodes)
    failure: DesignError | None = None
    for radius in MERGE_RADII_M:
        kn = key_network(
            Gb, rm, scenario, places, zones, trips, cnodes, snapper=snap, merge_radius_m=radius
        )
        log.info(
            "key network (merge radius %.0f m): %d key nodes, %d links, %.0f trips/day",
            radius,
            len(kn.nodes),
            int(kn.link.sum() // 2),
            kn.demand.sum(),
        )
        try:
            problem, key_routes, built = _solve(
                ctx, kn, places, scenario, method, progress, existing
            )
            break
        except _Infeasible as e:
            failure = e.error
            log.info("no feasible design over %d key nodes: %s", len(kn.nodes), e.error)
    else:
        assert failure is not None
        msg = (
            f"No feasible set of design.routes = {ds.routes} routes in {fname} covers every "
            f"anchor and zone ({failure}); change design.routes or relax design.max_route_km / "
            "design.max_cycle_min."
        )
        raise DesignError(msg) from failure
    step(progress, stage, 3, 5)

    # every anchor served
    served = {s.anchor for s in built.stops.values() if s.anchor}
    for p in places:
        if p.name_ko not in served:
            msg = (
                f"Anchor {p.name_ko!r} ({p.name_en}) got no stop on any route; check its position."
            )
            raise DesignError(msg)

    ev = utrp.evaluate(problem, key_routes)
    ref_routes = (
        key_routes if method == "greedy" else utrp.design(problem, method="greedy", seed=ds.seed)
    )
    ref = ev if method == "greedy" else utrp.evaluate(problem, ref_routes)
    w = ds.operator_weight
    objective = (
        (1 - w) * ev.att / max(ref.att, 1e-9)
        + w * utrp.route_cost(problem, key_routes) / max(utrp.route_cost(problem, ref_routes), 1e-9)
        + UNREACH_WEIGHT * ev.dun / 100.0
    )
    stops_sorted = tuple(built.stops[k] for k in sorted(built.stops))
    routes = label_routes(built.routes, built.stops, places, zones)
    net_ev = evaluate.evaluate_network(routes, stops_sorted, zones, trips, scenario)
    cat_area, share, by_gu = stops_mod.catchment(stops_sorted, scenario, zones)
    step(progress, stage, 4, 5)
    kpis = design_kpis(
        routes,
        stops_sorted,
        scenario,
        method=method,
        objective=objective,
        evaluation=net_ev,
        coverage=share,
        coverage_by_district=tuple((int(a), int(b), int(c)) for a, b, c in by_gu),
        facts=built.facts,
        versus_existing=existing is not None,
    )
    step(progress, stage, 5, 5)
    log.info(
        "design %s: %d routes, %d stops, objective %.4f, ATT %.1f min, %.1f s",
        method,
        len(routes),
        len(stops_sorted),
        objective,
        kpis.att_min,
        time.perf_counter() - t_start,
    )
    return Design(places=places, stops=stops_sorted, routes=routes, kpis=kpis, catchment=cat_area)


def terminal_label(stop: Stop, places: Sequence[Place], zones: Sequence[Any]) -> tuple[str, str]:
    """Korean and English destination label of a terminal stop.

    A terminal serving an anchor is named after the anchor ("연신내", "Yeonsinnae Station");
    any other after the dong it lies in ("상암동", "Sangam-dong"), which is what a destination
    sign shows; outside every dong, after the stop itself.
    """
    from . import demand as demand_mod
    from . import names

    if stop.anchor:
        for p in places:
            if p.name_ko == stop.anchor:
                return p.name_ko, p.name_en
    z = demand_mod.zone_of(stop.lat, stop.lon, zones)
    if z is not None:
        return z.name_ko, names.english_name(z.name_ko)
    return stop.name_ko, stop.name_en


def label_routes(
    routes: Sequence[Route],
    stops: dict[str, Stop],
    places: Sequence[Place],
    zones: Sequence[Any],
) -> tuple[Route, ...]:
    """Name routes "A–B" and head-sign their trips after their terminals' places or dongs.

    Where both terminals of a route get the same label, the terminal stops' own names are used.
    """
    out = []
    for r in routes:
        first = stops[r.patterns[0].stop_ids[0]]
        last = stops[r.patterns[0].stop_ids[-1]]
        a, b = terminal_label(first, places, zones), terminal_label(last, places, zones)
        if a == b:
            a, b = (first.name_ko, first.name_en), (last.name_ko, last.name_en)
        pats = []
        for p in r.patterns:  # direction 0 runs towards b, direction 1 back towards a
            ko, en = b if p.direction_id == 0 else a
            pats.append(dataclasses.replace(p, headsign_ko=ko, headsign_en=en))
        out.append(
            dataclasses.replace(
                r,
                long_name_ko=f"{a[0]}–{b[0]}",
                long_name_en=f"{a[1]} – {b[1]}",
                patterns=tuple(pats),
            )
        )
    return tuple(out)


def shuttle_graph(G: nx.MultiDiGraph, avoid: Sequence[str]) -> nx.MultiDiGraph:
    """The part of the road graph a stopping shuttle drives on.

    Edges of the ``avoid`` classes (by default motorway and trunk: in Seoul the urban
    expressways such as 강변북로 and 내부순환로, where a bus cannot stop) are dropped, and the
    largest strongly connected component of the rest is kept.

    The result is computed once per graph object and ``avoid`` (the design, the plan's demand
    and the existing-network comparison all ask for it) and is frozen (:func:`networkx.freeze`):
    copy it before changing it.

    Raises
    ------
    DesignError
        If nothing is left.
    """
    if not avoid:
        return G
    memo = _SHUTTLE_GRAPHS.setdefault(G, {})
    key = tuple(sorted(set(avoid)))
    if key not in memo:
        memo[key] = nx.freeze(_shuttle_graph(G, avoid))
    return memo[key]


#: shuttle_graph's results per road graph (dropped with the graph) and avoided classes.
_SHUTTLE_GRAPHS: weakref.WeakKeyDictionary[nx.MultiDiGraph, dict[tuple[str, ...], Any]] = (
    weakref.WeakKeyDictionary()
)


def _shuttle_graph(G: nx.MultiDiGraph, avoid: Sequence[str]) -> nx.MultiDiGraph:
    """``G.edge_subgraph(kept).subgraph(largest strong component).copy()``, built directly.

    The components come from :func:`scipy.sparse.csgraph.connected_components` and the copy
    walks ``G``'s own dicts instead of two layers of views (about 5x faster on all Seoul); the
    result has the same nodes, edges, keys, data and order as the view copy. When the component
    is less than half the kept nodes, or those less than half of ``G``'s (where the views
    iterate a node set, not ``G``), the components and the view copy are those of networkx.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    bad = set(avoid)
    keep = [(u, v, k) for u, v, k, h in G.edges(keys=True, data="highway") if h not in bad]
    if not keep:
        msg = f"No road is left after leaving out design.avoid_classes {sorted(bad)}."
        raise DesignError(msg)
    ends = np.unique(np.array([(u, v) for u, v, _ in keep], dtype=np.int64))
    uv = np.searchsorted(ends, np.array([(u, v) for u, v, _ in keep], dtype=np.int64))
    m = csr_matrix((np.ones(len(uv)), (uv[:, 0], uv[:, 1])), shape=(len(ends), len(ends)))
    _, lab = connected_components(m, directed=True, connection="strong")
    size = np.bincount(lab)
    low = np.full(len(size), np.iinfo(np.int64).max)
    np.minimum.at(low, lab, ends)
    best = max(range(len(size)), key=lambda c: (int(size[c]), -int(low[c])))
    big = set(ends[lab == best].tolist())
    if 2 * len(big) < len(ends) or 2 * len(ends) < len(G):  # as before, in the sets' order
        H = G.edge_subgraph(keep)
        comps = list(nx.strongly_connected_components(H))
        out = H.subgraph(max(comps, key=lambda c: (len(c), -min(c)))).copy()
    else:
        out = G.__class__()
        out.graph.update(G.graph)
        out.add_nodes_from((n, d.copy()) for n, d in G._node.items() if n in big)
        out.add_edges_from(
            (u, v, k, d.copy())
            for u, nbrs in G._adj.items()
            if u in big
            for v, kd in nbrs.items()
            if v in big
            for k, d in kd.items()
            if d.get("highway") not in bad
        )
    log.info(
        "shuttle graph: %d of %d nodes, %d of %d edges (without %s)",
        out.number_of_nodes(),
        G.number_of_nodes(),
        out.number_of_edges(),
        G.number_of_edges(),
        ", ".join(sorted(bad)),
    )
    return out


class _Infeasible(Exception):
    """Internal: no feasible design on this key network (carries the reason)."""

    def __init__(self, error: DesignError) -> None:
        super().__init__(str(error))
        self.error = error


def _versus_existing(
    ctx: _Ctx, kn: KeyNetwork, scenario: Scenario, existing: Any
) -> tuple[np.ndarray, np.ndarray]:
    """``baseline_min`` and ``route_cost_min`` of the key problem (module docstring)."""
    G = ctx.G
    pts = [(float(G.nodes[v]["x"]), float(G.nodes[v]["y"])) for v in kn.nodes]
    t0 = time.perf_counter()
    today = np.asarray(existing.times_min(pts), dtype=float)
    half_hw = evaluate.half_headway_min(scenario)
    factor = scenario.service.time_factor("offpeak")
    base = np.maximum(today - half_hw, 0.0) / factor
    np.fill_diagonal(base, 0.0)
    n = len(kn.nodes)
    ii, jj = np.nonzero(kn.link & np.isfinite(kn.travel_min))
    _, pred = paths.shortest(ctx.rm, list(kn.nodes), predecessors=True)
    assert pred is not None
    shapes = []
    for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
        nodes = paths.path_nodes(ctx.rm, pred[i], kn.nodes[i], kn.nodes[j])
        shapes.append([(float(G.nodes[v]["y"]), float(G.nodes[v]["x"])) for v in nodes])
    share = np.zeros((n, n))
    if shapes:
        share[ii, jj] = existing.frequent_shares(shapes)
    cost = np.where(
        np.isfinite(kn.travel_min),
        kn.travel_min * (1.0 + scenario.design.duplicate_weight * share),
        np.inf,
    )
    fin = np.isfinite(today[~np.eye(n, dtype=bool)])
    log.info(
        "existing network between %d key nodes: %.0f%% of pairs served, median %.1f min; "
        "%.0f%% of link length along frequent service; %.1f s",
        n,
        100.0 * fin.mean() if fin.size else 0.0,
        float(np.median(today[~np.eye(n, dtype=bool)][fin])) if fin.any() else math.nan,
        100.0 * float((share[ii, jj] * kn.link_m[ii, jj]).sum() / max(kn.link_m[ii, jj].sum(), 1)),
        time.perf_counter() - t0,
    )
    return base, cost


def _solve(
    ctx: _Ctx,
    kn: KeyNetwork,
    places: Sequence[Place],
    scenario: Scenario,
    method: str,
    progress: ProgressFn | None,
    existing: Any = None,
) -> tuple[utrp.Problem, tuple[tuple[int, ...], ...], _Built]:
    """Solve the UTRP on a key network and expand it, tightening the time cap if needed.

    Raises
    ------
    DesignError
        If the settings cannot work on this network at all (K, max_route_km, max_cycle_min).
    _Infeasible
        If no feasible route set was found on this key network.
    """
    ds = scenario.design
    fname = scenario.source_file or "the scenario"
    n = len(kn.nodes)
    dsym = kn.demand + kn.demand.T
    pairs_with_demand = int((np.triu(dsym, 1) > 0).sum())
    if ds.routes > pairs_with_demand:
        msg = (
            f"design.routes = {ds.routes} in {fname} exceeds the {pairs_with_demand} key-node "
            "pairs with demand; lower design.routes."
        )
        raise DesignError(msg)
    finite_m = kn.link_m[np.isfinite(kn.link_m)]
    if finite_m.size == 0 or finite_m.min() / 1000.0 > ds.max_route_km:
        msg = (
            f"design.max_route_km = {ds.max_route_km:g} in {fname} is shorter than the shortest "
            f"road link between two key nodes ({finite_m.min() / 1000.0:.2f} km); raise it."
        )
        raise DesignError(msg)

    # one way at the slowest period's run-time factor (the link times are free-flow + dwell)
    factor = runtime.slowest_factor(scenario.service)
    cap_cycle = (ds.max_cycle_min - 2 * scenario.service.layover_min) / 2.0 / factor
    lk = kn.link & np.isfinite(kn.travel_min)
    pace = float(kn.travel_min[lk].sum() / (kn.link_m[lk].sum() / 1000.0))  # min per km
    cap = min(cap_cycle, ds.max_route_km * pace)
    min_link_min = float(kn.travel_min[lk].min())
    if cap < min_link_min:
        msg = (
            f"design.max_cycle_min = {ds.max_cycle_min:g} in {fname} allows {cap_cycle:.1f} min "
            f"one way, less than the quickest link between key nodes ({min_link_min:.1f} min); "
            "raise design.max_cycle_min."
        )
        raise DesignError(msg)
    mean_link_m = float(kn.link_m[lk].mean())
    mean_spacing = (scenario.stops.min_spacing_m + scenario.stops.max_spacing_m) / 2.0
    stops_per_link = max(1.0, mean_link_m / mean_spacing)
    min_nodes = min(n, max(2, 1 + math.ceil((ds.min_stops - 1) / stops_per_link)))
    max_nodes = min(n, max(min_nodes, 40))
    half_hw = evaluate.half_headway_min(scenario)
    penalty = ds.transfer_penalty_min + half_hw
    base = route_cost = None
    if existing is not None:
        base, route_cost = _versus_existing(ctx, kn, scenario, existing)

    built: _Built | None = None
    problem: utrp.Problem | None = None
    key_routes: tuple[tuple[int, ...], ...] = ()
    # with design.max_key_nodes coverage is an objective: only the anchors' key nodes must be
    # on a route, the trips of the others count as unserved when left out
    must_cover = None
    if ds.max_key_nodes:
        must_cover = np.array([bool(kn.anchors[k]) for k in range(n)], dtype=bool)
    # key links and route ends where a bus could only turn back through a short connector
    travel = np.array(kn.travel_min, dtype=float)
    terminals = np.ones(n, dtype=bool)
    attempt = rounds = 0
    close_keys: set[int] = set()
    while attempt < MAX_ATTEMPTS:
        fin = np.isfinite(travel)
        problem = utrp.Problem(
            name=f"{scenario.name}-key",
            travel_min=travel,
            demand=kn.demand,
            n_routes=ds.routes,
            min_nodes=min_nodes,
            max_nodes=max_nodes,
            terminals=None if terminals.all() else terminals,
            max_route_min=cap,
            transfer_penalty=penalty,
            baseline_min=base,
            route_cost_min=None if route_cost is None else np.where(fin, route_cost, np.inf),
            must_cover=must_cover,
        )
        try:
            key_routes = utrp.design(
                problem,
                method=ALGORITHMS[method],
                seed=ds.seed,
                iterations=ds.iterations,
                operator_weight=ds.operator_weight,
                progress=progress,
            )
        except DesignError as e:
            raise _Infeasible(e) from e
        try:
            no_end = frozenset(int(k) for k in np.flatnonzero(~terminals))
            built = _build_routes(ctx, kn, key_routes, places, scenario, no_end, close_keys)
            if built.missed and not built.bans and not set(built.missed) <= close_keys:
                # an anchor passed at a distance: the same routes closely past its key node
                close_keys |= set(built.missed)
                log.info("anchors missed at key nodes %s: passing them closely", built.missed)
                built = _build_routes(ctx, kn, key_routes, places, scenario, no_end, close_keys)
        except DesignError as e:  # a route with no turn-bounded closed walk
            built = _Built(routes=(), stops={}, bad=(str(e),))
        if not built.bad:
            break
        for ban in built.bans:  # left out of every later design too
            if len(ban) == 2:
                travel[ban[0], ban[1]] = travel[ban[1], ban[0]] = np.inf
            else:
                terminals[ban[0]] = False
        if built.bans and rounds < MAX_BAN_ROUNDS:  # route round them, the cap unchanged
            rounds += 1
            log.info(
                "%s: %d key link(s) and %d route end(s) left out (%s), designing again",
                built.bad[0],
                int((~np.isfinite(travel) & np.isfinite(kn.travel_min)).sum() // 2),
                int((~terminals).sum()),
                ", ".join(
                    f"{kn.labels[k]} ({int(np.isfinite(travel[k]).sum()) - 1} links)"
                    for k in np.flatnonzero(~terminals)
                ),
            )
            continue
        attempt += 1
        log.info("attempt %d: %s; tightening the cap %.1f min", attempt, built.bad[0], cap)
        cap *= TIGHTEN
    assert built is not None
    assert problem is not None
    if built.bad:
        msg = f"{built.bad[0]} after {MAX_ATTEMPTS} attempts and {rounds} re-routings"
        raise _Infeasible(DesignError(msg))
    return problem, key_routes, built


@dataclass(frozen=True, slots=True)
class Terminal:
    """A place where a route may end and turn: a scenario terminal or a Seoul garage/terminus."""

    name_ko: str
    lat: float
    lon: float
    node: int  # node of the bus-road graph it is reached at
    named: bool  # listed in the scenario's [[terminals]] (preferred over found ones)


def terminal_stops(bus_stops: Sequence[Any]) -> list[Any]:
    """Seoul bus stops at a terminal or garage: names with a word of :data:`TERMINAL_WORDS`
    (village-bus stops left out)."""
    return [
        b
        for b in bus_stops
        if any(w in b.name_ko for w in TERMINAL_WORDS) and b.kind not in VILLAGE_KINDS
    ]


def resolve_terminals(
    scenario: Scenario, bus_stops: Sequence[Any]
) -> list[tuple[str, float, float]]:
    """Scenario ``[[terminals]]`` as ``(name, lat, lon)``: by position, ARS or stop name.

    Raises
    ------
    ConfigError
        If a terminal names an ARS or a name no bus stop has.
    """
    fname = scenario.source_file or "the scenario"
    out = []
    for i, t in enumerate(scenario.terminals):
        if t.lat is not None and t.lon is not None:
            out.append((t.name, float(t.lat), float(t.lon)))
            continue
        if t.ars is not None:
            hits = [b for b in bus_stops if b.ars == t.ars.zfill(5) or b.ars == t.ars]
            what = f"ars {t.ars!r}"
        else:
            hits = sorted((b for b in bus_stops if t.name in b.name_ko), key=lambda b: b.ars)
            what = f"name {t.name!r}"
        if not hits:
            msg = f"{fname}: terminals[{i}]: no bus stop in the study area has {what}."
            raise ConfigError(msg)
        out.append((t.name, float(hits[0].lat), float(hits[0].lon)))
    return out


def bus_graph(
    G: nx.MultiDiGraph, scenario: Scenario, access: Sequence[tuple[float, float]] = ()
) -> nx.MultiDiGraph:
    """The roads a full-size bus route runs on: ``design.bus_classes`` (largest strong component).

    Minor streets are added only within ``design.minor_access_m`` of the ``access`` points
    ``(lat, lon)`` (the scenario's terminals).

    Raises
    ------
    DesignError
        If no road of those classes is left.
    """
    ds = scenario.design
    bus = set(ds.bus_classes) - set(ds.avoid_classes)
    reach = ds.minor_access_m
    pts = (
        np.array([geo.to_metric_xy(lon, lat) for lat, lon in access], dtype=float)
        if access and reach > 0
        else None
    )
    tree = cKDTree(pts) if pts is not None else None
    keep = []
    for u, v, k, d in G.edges(keys=True, data=True):
        c = roads.road_class(d)
        if c in bus:
            keep.append((u, v, k))
        elif c == "minor" and tree is not None:
            xy = node_xy(G, [u, v])
            if (tree.query(xy)[0] <= reach).all():
                keep.append((u, v, k))
    H = G.edge_subgraph(keep)
    comps = list(nx.strongly_connected_components(H)) if keep else []
    if not comps:
        fname = scenario.source_file or "the scenario"
        msg = f"{fname}: design.bus_classes {sorted(bus)}: no such road in the graph."
        raise DesignError(msg)
    big = max(comps, key=lambda c: (len(c), -min(c)))
    out = H.subgraph(big).copy()
    log.info("bus graph: %d nodes, %d edges", out.number_of_nodes(), out.number_of_edges())
    return out


def find_terminals(
    G: nx.MultiDiGraph,
    named: Sequence[tuple[str, float, float]],
    bus_stops: Sequence[Any],
    snap_m: float = 150.0,
) -> tuple[Terminal, ...]:
    """Terminals on the bus graph: the scenario's, then Seoul's garage and terminus stops.

    A place farther than ``snap_m`` from every graph node is left out (a garage on a side road
    the bus graph does not reach), one terminal per node, the scenario's first.
    """
    nodes = np.array(sorted(G.nodes), dtype=np.int64)
    tree = cKDTree(node_xy(G, nodes))
    out: dict[int, Terminal] = {}
    cands = [(n, la, lo, True) for n, la, lo in named]
    cands += [
        (b.name_ko, b.lat, b.lon, False)
        for b in sorted(terminal_stops(bus_stops), key=lambda b: b.ars)
    ]
    for name, lat, lon, is_named in cands:
        d, i = tree.query(np.array(geo.to_metric_xy(lon, lat), dtype=float))
        if d > snap_m and not is_named:
            continue
        node = int(nodes[i])
        if node not in out:
            out[node] = Terminal(name, float(lat), float(lon), node, is_named)
    return tuple(sorted(out.values(), key=lambda t: (not t.named, t.name_ko, t.node)))


@dataclass(frozen=True, eq=False)
class _Ctx:
    """What route building needs besides the key network."""

    G: nx.MultiDiGraph  # the bus graph
    rm: paths.RoadMatrix  # travel time on it
    rm_len: paths.RoadMatrix  # length on it
    router: TurnRouter
    index: Any  # stop index
    terminals: tuple[Terminal, ...]
    snap: Snapper | None = None  # turnable intersections (a route end beyond a bare anchor node)


def _end_terminal(ctx: _Ctx, node: int, others: Sequence[int]) -> Terminal | None:
    """The terminal a route end at ``node`` moves to (scenario ones first), if one is in reach."""
    if not ctx.terminals:
        return None
    xy = node_xy(ctx.G, [node])[0]
    best: tuple[bool, float, Terminal] | None = None
    for t in ctx.terminals:
        if t.node in others and t.node != node:
            continue
        if ctx.router.turnaround_s(t.node, TURNAROUND_LIMIT_S) > TURNAROUND_LIMIT_S:
            continue
        d = float(np.hypot(*(np.array(geo.to_metric_xy(t.lon, t.lat), dtype=float) - xy)))
        if d <= TERMINAL_REACH_M and (best is None or (not t.named, d) < (not best[0], best[1])):
            best = (t.named, d, t)
    return None if best is None else best[2]


def _shift(ps: Any, d_m: float, e_i: int, *, terminal: bool) -> Any:
    return dataclasses.replace(
        ps, dist_m=round(ps.dist_m + d_m, 2), edge_index=ps.edge_index + e_i, terminal=terminal
    )


def _join(
    G: nx.MultiDiGraph,
    rm: paths.RoadMatrix,
    prev: tuple[list[int], list[Any]],
    nxt: tuple[list[int], list[Any]],
    max_gap_m: float,
    reach_m: float = JOIN_REACH_M,
    split: Callable[[list[int], list[int]], tuple[Sequence[Any], Sequence[Any]]] | None = None,
    crowded: Callable[[Any], bool] | None = None,
) -> tuple[tuple[list[int], list[Any]], tuple[list[int], list[Any]]]:
    """Join two consecutive directions at one shared terminal stop.

    Each is ``(node path, path stops)``, split by the router halfway round the turnaround. The
    shared stop is one of the next direction's stops within ``reach_m`` of its start (the
    previous direction drives on to it) or one of the previous direction's within ``reach_m``
    of its end (the next one starts back there). The first join, nearest the split, that
    drives no road segment twice within a direction is kept, else the one with the fewest. A
    stop of either direction next to the shared one is dropped only when it stands within
    :data:`SPLIT_STOP_GAP_M` of it and the gap left stays within ``max_gap_m``; a real bus stop
    is never dropped for a new shared stop (where the loop's real stop would make a direction
    drive its approach road out and back, the shared stop is a new one on the loop, and the
    real stop before it stays).

    ``split(prev path, next path)`` gives the terminal stops the loop itself offers
    (:func:`shuttle.stops.turnaround_stops` on the previous direction's end and the next one's
    start): its real bus stops are tried first, nearest the split first; then the placed stops
    and the loop's new stops, those ``crowded`` (a new stop within ``stops.real_stop_snap_m``
    of a bus stop, :func:`shuttle.stops.near_bus_stop`) last.
    """
    loop_prev, loop_next = split(prev[0], nxt[0]) if split is not None else ((), ())
    crowd = crowded if crowded is not None else (lambda _: False)
    loop_real = sorted(
        [(_dist_to(p, prev[0][-1], G), 1, p) for p in loop_prev if p.ars]
        + [(_dist_to(p, nxt[0][0], G), 0, p) for p in loop_next if p.ars],
        key=lambda t: (t[0], t[1], t[2].dist_m),
    )
    cands = []
    nd = [float(p.dist_m) for p in nxt[1]]
    pd = [float(p.dist_m) for p in prev[1]]
    plen = float(_cum_m(G, rm, prev[0])[-1])
    for j, d in enumerate(nd[:-1]):
        if j == 0 or d <= reach_m:
            cands.append((d, 0, j))
    for j in range(len(pd) - 1, 0, -1):
        if j == len(pd) - 1 or plen - pd[j] <= reach_m:
            cands.append((plen - pd[j], 1, j))

    def placed(kind: int, j: int) -> Any:
        return (
            _join_at_next(G, rm, prev, nxt, j, max_gap_m)
            if kind == 0
            else _join_at_prev(G, rm, prev, nxt, j, max_gap_m)
        )

    def on_loop(f: Any) -> Any:
        side = 0 if any(f is p for p in loop_next) else 1
        return _join_at_stop(G, rm, prev, nxt, f, side, max_gap_m, crowded)

    def is_crowded(kind: int, j: int) -> bool:
        q = (nxt[1] if kind == 0 else prev[1])[j]
        return not q.ars and crowd(q)

    loop_new = [p for p in (*loop_next, *loop_prev) if not p.ars]
    # in order: the loop's bus stops; the placed stops (nearest the split first) and the loop's
    # new stops, each clear of bus stops first
    tries: list[Callable[[], Any]] = [partial(on_loop, f) for _, _, f in loop_real]
    for late in (False, True):
        tries += [partial(placed, k, j) for _, k, j in sorted(cands) if is_crowded(k, j) == late]
        tries += [partial(on_loop, f) for f in loop_new if bool(crowd(f)) == late]
    best = None
    for attempt in tries:
        got = attempt()
        if got is None or len(got[0][1]) < 2 or len(got[1][1]) < 2:
            continue
        got = tuple(
            (path, _clear_ends(ps, crowded, max_gap_m)) for path, ps in _untwin(got, max_gap_m)
        )
        rep = _repeats(got[0][0]) + _repeats(got[1][0]) + _twins(got)
        if best is None or rep < best[0]:
            best = (rep, got)
        if rep == 0:
            break
    if best is None or best[0] > 0:
        # no stop near the split that keeps both directions clean: a new stop at the split
        f = _split_stop(G, rm, nxt[0])
        own = [dataclasses.replace(p, terminal=False) for p in nxt[1][:-1]]
        own.append(nxt[1][-1])
        near = [p for p in own[:-1] if p.dist_m < SPLIT_STOP_GAP_M]
        rest = [p for p in own if p.dist_m >= SPLIT_STOP_GAP_M] or own[-1:]
        middle = _fill(0.0, [p for p in near if p is not rest[0]], rest[0].dist_m, max_gap_m)
        got = _join_at_next(G, rm, prev, (nxt[0], [f, *middle, *rest]), 0, max_gap_m)
        rep = _repeats(got[0][0]) + _repeats(got[1][0])
        if best is None or rep < best[0]:
            best = (rep, got)
    return best[1]


def _served_once(cands: list[Any], kept: Sequence[Any]) -> list[Any]:
    """The candidates, those serving an anchor a kept stop of the direction serves already
    turned into plain stops (one stop per anchor and direction)."""
    served = {p.anchor for p in kept if p.anchor}
    return [
        dataclasses.replace(p, anchor=None, anchor_m=None) if p.anchor in served else p
        for p in cands
    ]


def _untwin(got: Any, max_gap_m: float) -> Any:
    """Of two consecutive stops of one name in a joined direction, drop the one that is neither
    terminal nor the only stop of its anchor, where the gap left stays within ``max_gap_m``."""
    out = []
    for path, ps in got:
        ps = list(ps)
        i = 0
        while i < len(ps) - 1:
            a, b = ps[i], ps[i + 1]
            if a.name_ko != b.name_ko:
                i += 1
                continue
            for k, keep in ((i + 1, a), (i, b)):
                drop = ps[k]
                if drop.terminal or not 0 < k < len(ps) - 1:
                    continue
                if drop.anchor and drop.anchor != keep.anchor:
                    continue
                if ps[k + 1].dist_m - ps[k - 1].dist_m > max_gap_m:
                    continue
                del ps[k]
                break
            else:
                i += 1
        out.append((path, ps))
    return tuple(out)


def _twins(got: Any) -> int:
    """Consecutive stops of one name in the two joined directions."""
    return sum(
        a.name_ko == b.name_ko for _, ps in got for a, b in zip(ps[:-1], ps[1:], strict=True)
    )


def _dist_to(ps: Any, node: int, G: nx.MultiDiGraph) -> float:
    """Straight-line metres from a placed stop to a graph node."""
    return geo.haversine_m(ps.lat, ps.lon, float(G.nodes[node]["y"]), float(G.nodes[node]["x"]))


def _join_at_stop(
    G: nx.MultiDiGraph,
    rm: paths.RoadMatrix,
    prev: tuple[list[int], list[Any]],
    nxt: tuple[list[int], list[Any]],
    f: Any,
    side: int,
    max_gap_m: float,
    crowded: Callable[[Any], bool] | None = None,
) -> tuple[tuple[list[int], list[Any]], tuple[list[int], list[Any]]] | None:
    """Join at a loop stop ``f`` that is not among the placed stops: on the next direction's
    start (``side`` 0) or the previous one's end (1). Placed stops within
    :data:`SPLIT_STOP_GAP_M` of it are dropped (not anchors, nor real bus stops where ``f`` is
    new: :func:`_stays`); None if a direction keeps < 2."""
    fid = stops_id(f)
    same = [p for p in (*prev[1], *nxt[1]) if stops_id(p) == fid and p.anchor]
    if same:  # the loop's stop is a placed one: it keeps serving its anchor
        f = dataclasses.replace(f, anchor=same[0].anchor, anchor_m=same[0].anchor_m)
    if side == 0:
        own = [p for p in nxt[1] if stops_id(p) != fid]
        keep = [p for p in own if _stays(p, f)]
        last = nxt[1][-1]
        keep = [p if p is last else dataclasses.replace(p, terminal=False) for p in keep]
        j = sum(p.dist_m < f.dist_m for p in keep)
        if len(keep) - j < 1:
            return None
        ps, j = _clear_beside([*keep[:j], f, *keep[j:]], j, crowded, max_gap_m)
        got = _join_at_next(G, rm, prev, (nxt[0], ps), j, max_gap_m)
    else:
        own = [p for p in prev[1] if stops_id(p) != fid]
        keep = [p for p in own if _stays(p, f)]
        first = prev[1][0]
        keep = [p if p is first else dataclasses.replace(p, terminal=False) for p in keep]
        j = sum(p.dist_m <= f.dist_m for p in keep)
        if j < 1:
            return None
        ps, j = _clear_beside([*keep[:j], f, *keep[j:]], j, crowded, max_gap_m)
        got = _join_at_prev(G, rm, (prev[0], ps), nxt, j, max_gap_m)
    if len(got[0][1]) < 2 or len(got[1][1]) < 2:
        return None
    return got


def _stays(p: Any, f: Any) -> bool:
    """Whether placed stop ``p`` stays beside the shared terminal stop ``f``: an anchor's
    stop, a real bus stop where ``f`` is a new one, or a stop :data:`SPLIT_STOP_GAP_M` or more
    from it."""
    return (
        bool(p.anchor) or bool(p.ars and not f.ars) or abs(p.dist_m - f.dist_m) >= SPLIT_STOP_GAP_M
    )


def _clear_beside(
    ps: list[Any], k: int, crowded: Callable[[Any], bool] | None, max_gap_m: float
) -> tuple[list[Any], int]:
    """Drop the new stops next to stop ``k`` that stand within ``stops.real_stop_snap_m`` of a
    bus stop (``crowded``; not anchors or terminals) where the gap left stays within
    ``max_gap_m``; return the stops and the new index of stop ``k``."""
    if crowded is None:
        return ps, k
    k = k % len(ps)
    for n in (k + 1, k - 1):
        if not 0 < n < len(ps) - 1:
            continue
        q = ps[n]
        if q.ars or q.anchor or q.terminal or not crowded(q):
            continue
        if ps[n + 1].dist_m - ps[n - 1].dist_m <= max_gap_m:
            del ps[n]
            k -= n < k
    return ps, k


def _clear_ends(
    ps: Sequence[Any], crowded: Callable[[Any], bool] | None, max_gap_m: float
) -> list[Any]:
    """:func:`_clear_beside` both terminal stops of a direction."""
    out, _ = _clear_beside(list(ps), 0, crowded, max_gap_m)
    return _clear_beside(out, len(out) - 1, crowded, max_gap_m)[0]


def _split_stop(G: nx.MultiDiGraph, rm: paths.RoadMatrix, path: Sequence[int]) -> Any:
    """A new terminal stop at the first node of ``path`` (named after its road + 회차지)."""
    from . import stops as stops_mod

    u = int(path[0])
    road = roads.road_name(edge_data(G, rm, u, int(path[1])))
    lat, lon = float(G.nodes[u]["y"]), float(G.nodes[u]["x"])
    return stops_mod.PathStop(
        dist_m=0.0,
        lat=round(lat, 7),
        lon=round(lon, 7),
        node=u,
        ars=None,
        name_ko=f"{road} 회차지" if road else "회차지",
        edge_index=0,
        terminal=True,
        road_ko=road,
    )


def _cum_m(G: nx.MultiDiGraph, rm: paths.RoadMatrix, path: Sequence[int]) -> np.ndarray:
    """Distance (metres, edge ``length``) of each node of a path from its first node."""
    lengths = [
        float(edge_data(G, rm, u, v)["length"]) for u, v in zip(path[:-1], path[1:], strict=True)
    ]
    return np.concatenate([[0.0], np.cumsum(lengths)])


def _repeats(path: Sequence[int]) -> int:
    segs = [frozenset(uv) for uv in zip(path[:-1], path[1:], strict=True)]
    return len(segs) - len(set(segs))


def _fill(start: float, cands: Sequence[Any], end: float, max_gap_m: float) -> list[Any]:
    """The candidate stops kept between two fixed stops at ``start`` and ``end`` (metres).

    Anchor stops always stay; between the fixed points the farthest candidate within
    ``max_gap_m`` is taken while a gap is longer than that (fewest stops, widest spacing).
    """
    cands = sorted(cands, key=lambda p: p.dist_m)
    fixed = [start, *(p.dist_m for p in cands if p.anchor), end]
    out = [p for p in cands if p.anchor]
    for a, b in zip(fixed[:-1], fixed[1:], strict=True):
        cur = a
        inner = [p for p in cands if a < p.dist_m < b and not p.anchor]
        while b - cur > max_gap_m:
            reach = [p for p in inner if cur < p.dist_m <= cur + max_gap_m]
            if not reach:
                break
            pick = reach[-1]
            out.append(pick)
            cur = pick.dist_m
    return sorted(out, key=lambda p: p.dist_m)


def _join_at_next(
    G: nx.MultiDiGraph,
    rm: paths.RoadMatrix,
    prev: tuple[list[int], list[Any]],
    nxt: tuple[list[int], list[Any]],
    j: int,
    max_gap_m: float,
) -> tuple[tuple[list[int], list[Any]], tuple[list[int], list[Any]]]:
    """The previous direction drives on to the next one's stop ``j`` and ends there; the next
    direction starts at that stop. On the way between, the previous direction's own last stop
    and the next one's stops before ``j`` stay where an anchor or the spacing needs them."""
    ppath, pstops = prev
    npath, nstops = nxt
    f = nstops[j]
    fid = stops_id(f)
    i = int(f.edge_index)
    plen = float(_cum_m(G, rm, ppath)[-1])
    ncum = _cum_m(G, rm, npath)
    last = _shift(f, plen, len(ppath) - 1, terminal=True)
    keep = list(pstops[:-1])
    taken = {stops_id(p) for p in keep} | {fid}
    cands = [dataclasses.replace(pstops[-1], terminal=False)]
    # the next direction's stops before stop j stand on the way the previous one drives on
    cands += [_shift(p, plen, len(ppath) - 1, terminal=False) for p in nstops[:j]]
    cands = _served_once([p for p in cands if stops_id(p) not in taken], [*keep, f])
    start = keep[-1].dist_m if keep else 0.0
    fill = _fill(start, cands, last.dist_m, max_gap_m)
    # a new terminal stop never displaces the real bus stop the direction reached before it
    own = cands[0] if cands and stops_id(cands[0]) == stops_id(pstops[-1]) else None
    if own is not None and own.ars and not f.ars and all(p is not own for p in fill):
        fill = sorted([*fill, own], key=lambda p: p.dist_m)
    keep += fill
    new_prev = (list(ppath) + list(npath[1 : i + 2]), [*keep, last])
    off = -float(ncum[i])
    new_next = (
        list(npath[i:]),
        [_shift(f, off, -i, terminal=True)]
        + [_shift(p, off, -i, terminal=p.terminal) for p in nstops[j + 1 :]],
    )
    return new_prev, new_next


def _join_at_prev(
    G: nx.MultiDiGraph,
    rm: paths.RoadMatrix,
    prev: tuple[list[int], list[Any]],
    nxt: tuple[list[int], list[Any]],
    j: int,
    max_gap_m: float,
) -> tuple[tuple[list[int], list[Any]], tuple[list[int], list[Any]]]:
    """The previous direction ends at its stop ``j``; the next starts back there. On the way
    between, the previous direction's stops after ``j`` and the next one's own first stop stay
    where an anchor or the spacing needs them."""
    ppath, pstops = prev
    npath, nstops = nxt
    own = pstops[j]
    i = int(own.edge_index)
    head = list(ppath[i:])
    pcum = _cum_m(G, rm, ppath)
    off = float(pcum[-1] - pcum[i])
    first = _shift(own, -float(pcum[i]), -i, terminal=True)
    rest = [_shift(p, off, len(head) - 1, terminal=p.terminal) for p in nstops]
    # the previous direction's stops after stop j stand on the way the next one starts on
    cands = [_shift(p, -float(pcum[i]), -i, terminal=False) for p in pstops[j + 1 :]]
    cands.append(dataclasses.replace(rest[0], terminal=False))
    rest = rest[1:]
    taken = {stops_id(p) for p in rest} | {stops_id(own)}
    cands = _served_once([p for p in cands if stops_id(p) not in taken], [*rest, own])
    end = rest[0].dist_m if rest else (cands[-1].dist_m if cands else first.dist_m)
    if not rest and cands:  # the next direction's only other stop is its last
        rest = [dataclasses.replace(cands.pop(), terminal=True)]
    middle = _fill(first.dist_m, cands, end, max_gap_m)
    # a new terminal stop never displaces the real bus stop the next direction started at
    start = cands[-1] if cands and stops_id(cands[-1]) == stops_id(nstops[0]) else None
    if start is not None and start.ars and not own.ars and all(p is not start for p in middle):
        middle = sorted([*middle, start], key=lambda p: p.dist_m)
    new_prev = (
        list(ppath[: i + 2]),
        [*pstops[:j], dataclasses.replace(own, terminal=True)],
    )
    return new_prev, (head + list(npath[1:]), [first, *middle, *rest])


def stops_id(ps: Any) -> str:
    """Stop id of a placed stop (:func:`shuttle.stops.stop_id_of`)."""
    from . import stops as stops_mod

    return stops_mod.stop_id_of(ps)


def _detour(
    ctx: _Ctx, pat: Pattern, places: Sequence[Place], served: Sequence[str]
) -> tuple[float, str]:
    """Detour ratio of a pattern and the served anchor off the shortest path that forces it."""
    a, b = pat.node_path[0], pat.node_path[-1]
    dist, pred = paths.shortest(ctx.rm_len, [a], predecessors=True)
    sp = float(dist[0, ctx.rm_len.index[b]])
    if not np.isfinite(sp) or sp <= 0:
        return 1.0, ""
    ratio = float(pat.length_m) / sp
    assert pred is not None
    sp_nodes = paths.path_nodes(ctx.rm_len, pred[0], a, b)
    xy = node_xy(ctx.G, sp_nodes)
    tree = cKDTree(xy)
    forcing = ""
    for p in places:
        if p.name_ko not in served:
            continue
        d, _ = tree.query(np.array(geo.to_metric_xy(p.lon, p.lat), dtype=float))
        if d > 300.0:
            forcing = p.name_ko
            break
    return ratio, forcing


def _ban_of(
    kn: KeyNetwork, kr: Sequence[int], gnodes: Sequence[int], at: tuple[int, ...]
) -> tuple[int, ...]:
    """Key-node form of :attr:`shuttle.router.ReversalError.at` on key route ``kr``.

    ``gnodes`` are the graph nodes routed (``kr``'s, with the terminals the ends were extended
    to). A turnaround, or a leg from a route end to its terminal, bans that route end as a
    terminal ``(k,)``; a leg between two key nodes bans their link ``(i, j)``, ``i < j``.
    """
    key = {int(kn.nodes[k]): int(k) for k in kr}
    ends = {int(gnodes[0]): int(kr[0]), int(gnodes[-1]): int(kr[-1])}
    ks = sorted({key.get(v, ends.get(v, -1)) for v in at} - {-1})
    return tuple(ks) if ks else (int(kr[0]),)


def _end_options(
    ctx: _Ctx, kn: KeyNetwork, k: int, route_nodes: Sequence[int]
) -> list[Terminal | None]:
    """Where a route ending at key node ``k`` may turn round, in order of preference: a terminal
    or garage in reach (:func:`_end_terminal`); for a key node where no bus turns round (an
    anchor's bare road node, :attr:`KeyNetwork.turnable`) the nearest turnable intersections
    within :data:`TERMINAL_REACH_M` beyond it (unnamed: a loop round a block there); last, a
    loop round a block at ``k`` itself (``None``)."""
    node = int(kn.nodes[k])
    out: list[Terminal | None] = []
    t = _end_terminal(ctx, node, route_nodes)
    if t is not None:
        out.append(t)
    if kn.turnable and not kn.turnable[k] and ctx.snap is not None:
        xy = node_xy(ctx.G, [node])[0]
        dd, ii = ctx.snap.turn_tree.query(
            xy, k=END_CANDIDATES, distance_upper_bound=TERMINAL_REACH_M
        )
        for d, i in zip(np.atleast_1d(dd), np.atleast_1d(ii), strict=True):
            if not np.isfinite(d):
                continue
            v = int(ctx.snap.turn_nodes[int(i)])
            if v in route_nodes or (t is not None and v == t.node):
                continue
            nd = ctx.G.nodes[v]
            out.append(Terminal("", float(nd["y"]), float(nd["x"]), v, named=False))
    out.append(None)
    return out


def _route_walk(
    ctx: _Ctx,
    kn: KeyNetwork,
    kr: Sequence[int],
    no_end: Collection[int],
    close_keys: Collection[int],
) -> tuple[Terminal | None, Terminal | None, Any]:
    """The closed road walk of key route ``kr``: where it turns round at its far and near end
    (:func:`_end_options`; ``None``: a loop round a block at the end key node) and the router's
    :class:`~shuttle.router.Cycle`.

    The options of each end are tried in turn while the router finds no walk turning round
    there without a reversal. Raises :class:`~shuttle.router.WalkError` with ``at`` in key-node
    form (:func:`_ban_of`) when no option is left.
    """
    router = ctx.router
    route_nodes = [int(kn.nodes[k]) for k in kr]
    options = [
        _end_options(ctx, kn, int(kr[-1]), route_nodes),
        _end_options(ctx, kn, int(kr[0]), route_nodes),
    ]
    pick = [0, 0]
    lim = 3.0 * float(max(kn.time_s[a, b] for a, b in zip(kr[:-1], kr[1:], strict=True))) + 900.0
    while True:
        far, near = options[0][pick[0]], options[1][pick[1]]
        gnodes = list(route_nodes)
        if far is not None and far.node != gnodes[-1]:
            gnodes.append(far.node)
        if near is not None and near.node != gnodes[0]:
            gnodes.insert(0, near.node)
        # an anchor's key node that may not end a route (no bus turns round there), or whose
        # anchor got no stop before, is passed closely (router.CLOSE_RADIUS_M, both
        # carriageways): the anchor stays within reach
        inner = set(gnodes[1:-1])
        close = [
            int(kn.nodes[k])
            for k in kr
            if kn.anchors[k] and (k in no_end or k in close_keys) and int(kn.nodes[k]) in inner
        ]
        try:
            cy = router.cycle(gnodes, via_radius_m=VIA_RADIUS_M, limit_s=lim, close=close)
        except WalkError as e:
            # an end the bus cannot turn round at: the next option of that end
            stuck = [
                i
                for i, t in enumerate((far, near))
                if t is not None and t.node in e.at and pick[i] + 1 < len(options[i])
            ]
            if stuck:
                log.info("key route %s: no turnaround at %s", list(kr), (far, near)[stuck[0]])
                pick[stuck[0]] += 1
                continue
            raise WalkError(str(e), _ban_of(kn, kr, gnodes, e.at)) from e
        return far, near, cy


def _build_routes(
    ctx: _Ctx,
    kn: KeyNetwork,
    key_routes: Sequence[Sequence[int]],
    places: Sequence[Place],
    scenario: Scenario,
    no_end: Collection[int] = frozenset(),
    close_keys: Collection[int] = frozenset(),
) -> _Built:
    """Expand key-node routes to closed turn-bounded road walks, place stops, build the routes.

    ``no_end``: key nodes left out as route ends (:attr:`_Built.bans`); the anchors' key nodes
    among them and in ``close_keys`` are passed closely (both carriageways) inside a route.
    """
    from . import stops as stops_mod

    G, rm = ctx.G, ctx.rm
    ds = scenario.design
    sv = scenario.service
    legs: list[tuple[list[tuple[list[int], list[Any]]], tuple[tuple[str, str, float], ...]]] = []
    all_ps: list[Any] = []
    bans: list[tuple[int, ...]] = []
    cycles: list[tuple[tuple[Place, ...], Terminal | None, Terminal | None, Any]] = []
    for kr in key_routes:
        anchor_places = tuple(places[a] for k in kr for a in kn.anchors[k])
        try:
            far, near, cy = _route_walk(ctx, kn, kr, no_end, close_keys)
        except WalkError as e:  # a reversal, or no walk at all, on a leg or at an end
            log.info("key route %s: %s", list(kr), e)
            bans.append(e.at)
            continue
        cycles.append((anchor_places, far, near, cy))
    if bans:  # designed again without them: no stops placed for nothing
        msg = f"{len(bans)} route(s) turn back through a short connector or cannot turn round"
        return _Built(routes=(), stops={}, bad=(msg,), bans=tuple(sorted(set(bans))))
    for anchor_places, far, near, cy in cycles:
        ends = tuple(
            ("terminal", t.name_ko, round(m, 1))
            if t is not None and t.name_ko
            else ("block", "", round(m, 1))
            for t, m in ((far, cy.loop_m[0]), (near, cy.loop_m[1]))
        )
        # both directions at once: a new stop on one side has its partner on the other
        out_ps, back_ps = (
            list(ps)
            for ps in stops_mod.place_route_stops(
                G, [cy.out_nodes, cy.back_nodes], ctx.index, scenario, anchors=anchor_places
            )
        )
        if len(out_ps) < 2 or len(back_ps) < 2:
            msg = f"A route got too few stops on {len(cy.out_nodes)} road nodes; need two."
            raise DesignError(msg)
        # the terminal stops are shared: each direction ends at the next one's first stop
        dir0, dir1 = (list(cy.out_nodes), out_ps), (list(cy.back_nodes), back_ps)
        gap = scenario.stops.max_spacing_m

        def loop(a: list[int], b: list[int]) -> tuple[Sequence[Any], Sequence[Any]]:
            return (
                stops_mod.turnaround_stops(G, a, ctx.index, scenario, at_end=True),
                stops_mod.turnaround_stops(G, b, ctx.index, scenario, at_end=False),
            )

        def crowded(ps: Any) -> bool:
            return stops_mod.near_bus_stop(ctx.index, ps, scenario)

        dir0, dir1 = _join(G, rm, dir0, dir1, gap, split=loop, crowded=crowded)
        dir1, dir0 = _join(G, rm, dir1, dir0, gap, split=loop, crowded=crowded)
        all_ps.extend(dir0[1])
        all_ps.extend(dir1[1])
        legs.append(([dir0, dir1], ends))
    merged = {s.stop_id: s for s in stops_mod.stops_from_path_stops(all_ps, scenario)}
    routes: list[Route] = []
    facts: dict[str, dict[str, Any]] = {}
    bad: list[str] = []
    for r, (dirs, ends) in enumerate(legs):
        rid = route_id(r, len(legs))
        pats: list[Pattern] = []
        for direction, (path, pstops) in enumerate(dirs):
            wk = _walk(G, rm, path)
            ids = [stops_mod.stop_id_of(ps) for ps in pstops]
            dists = [float(ps.dist_m) for ps in pstops]
            d0, d1 = dists[0], dists[-1]
            run = [
                max(1, round(wk.time_at(b) - wk.time_at(a)))
                for a, b in zip(dists[:-1], dists[1:], strict=True)
            ]
            last = merged[ids[-1]]
            pats.append(
                Pattern(
                    direction_id=direction,
                    headsign_ko=last.name_ko,
                    headsign_en=last.name_en,
                    stop_ids=tuple(ids),
                    run_times_s=tuple(run),
                    stop_dist_m=tuple(round(d - d0, 1) for d in dists),
                    shape=tuple(wk.shape_between(d0, d1)),
                    length_m=round(d1 - d0, 1),
                    node_path=tuple(path),
                )
            )
        # the shared terminal stops: the same point in both shapes (interpolation and rounding
        # along two paths may differ by 1e-6 degree)
        a, b = pats
        b = dataclasses.replace(b, shape=(a.shape[-1], *b.shape[1:-1], a.shape[0]))
        pats = [a, b]
        s0 = merged[pats[0].stop_ids[0]]
        s1 = merged[pats[0].stop_ids[-1]]
        rc = scenario.routes
        short, color, text = colors.route_style(
            r, rc.scheme, prefix=rc.number_prefix, start=rc.number_start, width=rc.number_width
        )
        route = Route(
            route_id=rid,
            short_name=short,
            long_name_ko=f"{s0.name_ko}–{s1.name_ko}",
            long_name_en=f"{s0.name_en} – {s1.name_en}",
            color=color,
            text_color=text,
            patterns=tuple(pats),
        )
        routes.append(route)
        km_cls, minor = route_facts(G, rm, pats)
        served = sorted(
            {str(merged[i].anchor) for p in pats for i in p.stop_ids if merged[i].anchor}
        )
        det = [_detour(ctx, p, places, served) for p in pats]
        ratio, forcing = max(det)
        facts[rid] = {
            "km_by_class": km_cls,
            "minor_uses": minor,
            "detour_ratio": round(ratio, 3),
            "detour_anchor": forcing if ratio > ds.max_detour_ratio else "",
            "turnarounds": ends,
        }
        km = max(p.length_m for p in pats) / 1000.0
        if km > ds.max_route_km + 1e-9:
            bad.append(f"Route {rid} is {km:.2f} km long, over design.max_route_km")
        cyc = runtime.cycle_time_s(route, sv) / 60.0
        if cyc > ds.max_cycle_min + 1e-9:
            bad.append(
                f"Route {rid} takes {cyc:.1f} min per cycle at the slowest period, over "
                "design.max_cycle_min"
            )
        if min(len(set(p.stop_ids)) for p in pats) < ds.min_stops:
            bad.append(f"Route {rid} has fewer than design.min_stops stops")
        if ratio > ds.max_detour_ratio + 1e-9 and not forcing:
            bad.append(
                f"Route {rid} drives {ratio:.2f} times the shortest road path between its ends, "
                "over design.max_detour_ratio"
            )
    served_all = {s.anchor for s in merged.values() if s.anchor}
    missed = tuple(
        sorted(
            {
                int(k)
                for k in range(len(kn.nodes))
                for a in kn.anchors[k]
                if places[a].name_ko not in served_all
            }
        )
    )
    bad += [
        f"Anchor {p.name_ko!r} got no stop on any route"
        for p in places
        if p.name_ko not in served_all
    ]
    return _Built(routes=tuple(routes), stops=merged, bad=tuple(bad), facts=facts, missed=missed)
