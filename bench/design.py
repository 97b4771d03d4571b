"""Benchmark the route designer on a scenario (default nw3): greedy vs anneal, csgraph vs NetworkX.

Prints the objective, ATT (with its walk, wait, ride and transfer components from
:func:`shuttle.evaluate.evaluate_network`) and run time of each method, and the time of the
key-node shortest-path stage with :mod:`shuttle.paths` (scipy csgraph) against a plain NetworkX
baseline (``nx.single_source_dijkstra_path_length`` from each key node) computed in the same run,
with the ratio. Usage::

    python bench/design.py [scenario] [--cache DIR]
"""

from __future__ import annotations

import argparse
import sys
import time

import networkx as nx
import numpy as np

from shuttle import demand, design, evaluate, network, paths, places
from shuttle.config import load_scenario


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default="nw3")
    ap.add_argument("--cache", default=None, help="graph cache folder")
    args = ap.parse_args(argv)
    sc = load_scenario(args.scenario)
    t = time.perf_counter()
    G = network.load_graph(sc, cache_dir=args.cache)
    print(f"graph: {len(G)} nodes, {G.number_of_edges()} edges ({time.perf_counter() - t:.1f} s)")

    # key network once, to get the key nodes (on the shuttle's part of the graph, as the designer)
    G = design.shuttle_graph(G, sc.design.avoid_classes)
    Gb = design.bus_graph(G, sc)  # the roads the routes run on (design.bus_classes)
    pl = places.resolve_places(sc)
    dem = demand.build_demand(G, sc, pl)
    rm = paths.road_matrix(Gb, "travel_time")
    kn = design.key_network(
        Gb, rm, sc, pl, dem.zones, np.asarray(dem.trips), tuple(int(v) for v in dem.centroid_nodes)
    )
    keys = list(kn.nodes)
    t = time.perf_counter()
    rm2 = paths.road_matrix(Gb, "travel_time")
    t_build = time.perf_counter() - t
    t = time.perf_counter()
    T = design.key_travel_times(rm2, keys)
    t_cs = time.perf_counter() - t
    t = time.perf_counter()
    Tnx = np.full_like(T, np.inf)
    for i, s in enumerate(keys):
        d = nx.single_source_dijkstra_path_length(Gb, s, weight="travel_time")
        for j, v in enumerate(keys):
            if v in d:
                Tnx[i, j] = d[v]
    t_nx = time.perf_counter() - t
    assert np.allclose(T, Tnx, rtol=1e-9, atol=1e-3), "csgraph and NetworkX disagree"
    print(
        f"shortest paths between {len(keys)} key nodes: csgraph {t_cs * 1000:.0f} ms "
        f"(+ {t_build * 1000:.0f} ms matrix build), NetworkX {t_nx * 1000:.0f} ms, "
        f"ratio {t_nx / t_cs:.1f}x ({t_nx / (t_cs + t_build):.1f}x incl. build)"
    )

    res = {}
    for m in ("greedy", "anneal"):
        t = time.perf_counter()
        d = design.design_network(G, sc, method=m)
        el = time.perf_counter() - t
        res[m] = d
        k = d.kpis
        print(
            f"{m:7s}: objective {k.objective:.4f}  ATT {k.att_min:.1f} min  "
            f"d0/d1/d2/dun {k.d0:.1f}/{k.d1:.1f}/{k.d2:.1f}/{k.dun:.1f} %  "
            f"veh-h {k.vehicle_hours:.0f}  coverage {k.coverage:.1%}  stops {len(d.stops)}  "
            f"time {el:.1f} s"
        )
        t = time.perf_counter()
        ev = evaluate.evaluate_network(d.routes, d.stops, dem.zones, dem.trips, sc)
        el = time.perf_counter() - t
        print(
            f"    ATT {ev.att_min:.2f} = walk {ev.walk_min:.2f} + wait {ev.wait_min:.2f} + "
            f"ride {ev.in_vehicle_min:.2f} + transfer {ev.transfer_min:.2f} min; "
            f"stop within 800 m at both ends for {ev.access_pct:.1f} % of demand "
            f"(evaluation {el * 1000:.0f} ms)"
        )
        for r, rk in zip(d.routes, k.routes, strict=True):
            print(
                f"    {r.route_id}: {rk.length_m / 1000:5.2f} km  one way {rk.one_way_s / 60:4.1f} "
                f"min  cycle {rk.cycle_s / 60:5.1f} min  {rk.stops:3d} stops  "
                f"detour {rk.detour_ratio:.2f}  loops "
                f"{'/'.join(f'{m:.0f}' for _, _, m in rk.turnarounds)} m  {r.long_name_en}"
            )
    g, a = res["greedy"].kpis.objective, res["anneal"].kpis.objective
    print(f"anneal vs greedy objective: {a:.4f} vs {g:.4f} ({(a - g) / g:+.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
