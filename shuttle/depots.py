"""Bus depots: where blocks pull out and pull in, and the deadhead table of a route set.

:func:`resolve_depots` turns the scenario's ``[[depots]]`` into positions: explicit ``lat``/``lon``,
else the bus stop of the given ``ars`` number, else the bus stops whose name contains ``name``
(Seoul's stop list names the public garages: 진관공영차고지, 은평권역공영차고지 ...; the
stops of one garage within :data:`SAME_PLACE_M` of the first match are averaged).

:func:`deadhead_table` routes, on the road graph, the fastest free-flow path between every depot
and every terminal stop of the routes, both ways (:mod:`shuttle.paths` on ``travel_time``), and
returns its time and length as :class:`~shuttle.model.DeadheadLeg` rows. A deadhead may use any
road of the graph (it carries no passengers). The timetable takes this table as an argument and
never sees the graph.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from . import geo, names, paths
from .config import Scenario
from .errors import ConfigError, DesignError
from .model import DeadheadLeg, Depot, Route, Stop
from .places import BUS_STOPS_FILE, normalize_ars, read_all_bus_stops

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["NEAREST_NODES", "SAME_PLACE_M", "deadhead_table", "resolve_depots"]

log = logging.getLogger(__name__)

#: Bus stops matching a depot name within this distance (m) of the first match are one garage.
SAME_PLACE_M = 500.0
#: A depot joins the road graph at the nearest of this many nodes that reaches every terminal.
NEAREST_NODES = 20


def resolve_depots(scenario: Scenario) -> tuple[Depot, ...]:
    """Return the scenario's depots with positions, ids ``D1``, ``D2`` ... in scenario order.

    Raises
    ------
    ConfigError
        If a depot's ARS number or name matches no bus stop (naming ``depots[i]`` and the file).
    DataError
        If the bus stop file is missing or malformed.
    """
    out = []
    for i, d in enumerate(scenario.depots):
        where = f"{scenario.source_file or scenario.name}: depots[{i}]"
        ars = None
        if d.lat is not None and d.lon is not None:
            lat, lon = d.lat, d.lon
        else:
            stops = read_all_bus_stops(scenario)
            path = scenario.data_path(BUS_STOPS_FILE)
            if d.ars is not None:
                ars = normalize_ars(d.ars)
                hit = [s for s in stops if s.ars == ars]
                if not hit:
                    msg = f"{where}.ars: no bus stop with ARS number {d.ars!r} in {path}"
                    raise ConfigError(msg)
            else:
                hit = [s for s in stops if d.name in s.name_ko]
                if not hit:
                    msg = f"{where}.name: no bus stop named like {d.name!r} in {path}"
                    raise ConfigError(msg)
                first = hit[0]
                hit = [
                    s
                    for s in hit
                    if geo.haversine_m(first.lat, first.lon, s.lat, s.lon) <= SAME_PLACE_M
                ]
            lat = sum(s.lat for s in hit) / len(hit)
            lon = sum(s.lon for s in hit) / len(hit)
            ars = ars or hit[0].ars
        out.append(
            Depot(
                depot_id=f"D{i + 1}",
                name_ko=d.name,
                name_en=d.name_en or names.english_name(d.name),
                lat=round(lat, 7),
                lon=round(lon, 7),
                ars=ars,
            )
        )
    return tuple(out)


def _terminal_stops(routes: Sequence[Route]) -> list[str]:
    return sorted({s for r in routes for p in r.patterns for s in (p.stop_ids[0], p.stop_ids[-1])})


def _path_length(G: nx.MultiDiGraph, rm: paths.RoadMatrix, nodes: Sequence[int]) -> float:
    total = 0.0
    for u, v in zip(nodes, nodes[1:], strict=False):
        total += float(G.edges[u, v, rm.edge_key[(u, v)]]["length"])
    return total


def deadhead_table(
    G: nx.MultiDiGraph,
    depots: Sequence[Depot],
    routes: Sequence[Route],
    stops: Sequence[Stop],
) -> tuple[DeadheadLeg, ...]:
    """Route every depot <-> terminal stop deadhead on the road graph (fastest free-flow path).

    Parameters
    ----------
    G
        The road graph (``travel_time`` seconds and ``length`` metres on every edge, ``x``/``y``
        lon/lat on every node).
    depots
        The resolved depots.
    routes, stops
        The designed routes and their stops (a stop's ``node`` is where the bus stands).

    Returns
    -------
    tuple of DeadheadLeg
        Pull-out (depot -> stop) and pull-in (stop -> depot) legs, sorted by depot, stop and
        direction; empty without depots.

    Raises
    ------
    DesignError
        If a depot reaches none of the terminals both ways from its nearest road nodes, or a
        terminal stop is not among ``stops``.
    """
    if not depots or not routes:
        return ()
    node_of = {s.stop_id: s.node for s in stops}
    terms = _terminal_stops(routes)
    missing = [s for s in terms if s not in node_of]
    if missing:
        msg = f"Terminal stop {missing[0]} is not among the design's stops."
        raise DesignError(msg)
    rm = paths.road_matrix(G, "travel_time")
    t_nodes = [int(node_of[s]) for s in terms]
    t_idx = rm.idx(t_nodes)
    back, back_pred = paths.shortest(rm, t_nodes, predecessors=True)  # terminal -> everything
    assert back_pred is not None
    nodes = list(G.nodes)
    xy = np.column_stack(
        geo.to_metric_xy(
            np.array([G.nodes[n]["x"] for n in nodes]), np.array([G.nodes[n]["y"] for n in nodes])
        )
    )
    tree = cKDTree(xy)
    legs: list[DeadheadLeg] = []
    for d in depots:
        x, y = geo.to_metric_xy(d.lon, d.lat)
        _, near = tree.query([float(x), float(y)], k=min(NEAREST_NODES, len(nodes)))
        chosen = None
        for k in np.atleast_1d(near):
            n = int(nodes[int(k)])
            out, out_pred = paths.shortest(rm, [n], predecessors=True)
            j = rm.index[n]
            if np.isfinite(out[0, t_idx]).all() and np.isfinite(back[:, j]).all():
                chosen = (n, out, out_pred)
                break
        if chosen is None:
            msg = (
                f"Depot {d.depot_id} {d.name_ko!r} ({d.lat:.5f}, {d.lon:.5f}): none of its "
                f"{NEAREST_NODES} nearest road nodes reaches every route terminal and back."
            )
            raise DesignError(msg)
        n, out, out_pred = chosen
        assert out_pred is not None
        for i, s in enumerate(terms):
            tn = t_nodes[i]
            p_out = paths.path_nodes(rm, out_pred[0], n, tn)
            p_in = paths.path_nodes(rm, back_pred[i], tn, n)
            legs.append(
                DeadheadLeg(
                    depot_id=d.depot_id,
                    stop_id=s,
                    to_depot=False,
                    free_s=round(float(out[0, t_idx[i]])),
                    length_m=round(_path_length(G, rm, p_out), 1),
                )
            )
            legs.append(
                DeadheadLeg(
                    depot_id=d.depot_id,
                    stop_id=s,
                    to_depot=True,
                    free_s=round(float(back[i, rm.index[n]])),
                    length_m=round(_path_length(G, rm, p_in), 1),
                )
            )
        log.debug("depot %s joins the road graph at node %d", d.depot_id, n)
    return tuple(sorted(legs, key=lambda g: (g.depot_id, g.stop_id, g.to_depot)))
