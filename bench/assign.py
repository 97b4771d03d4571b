"""Benchmark the optimal-strategies assignment on nw3 and on a network ten times larger.

For each network it prints the time of :func:`shuttle.assign.assign` (all destinations, demand
loaded) beside a plain baseline run in the same process: an all-or-nothing shortest-path
assignment of the same links with :func:`scipy.sparse.csgraph.dijkstra` (each boarding link costs
half its line's headway; no combined waiting). Usage::

    python bench/assign.py [scenario] [--cache DIR] [--scale 10]

The nw3 network is the default plan's weekday peak (routes, stops and the dong centres), alone
and with the existing bus and metro lines of the peak as competition
(:func:`shuttle.existing.existing_lines`, the ``background`` of
:func:`shuttle.passengers.plan_network`); the large one is a random network with ``scale`` times
the stops, lines and zones.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from shuttle import assign, evaluate, existing, pipeline
from shuttle.config import load_scenario
from shuttle.passengers import plan_network


def _baseline(n_stops: int, lines, walks, zones, demand) -> float:  # noqa: ANN001
    """All-or-nothing shortest paths over the same expanded links; returns seconds taken."""
    t = time.perf_counter()
    net = assign._Net(n_stops, lines, walks, transfer_penalty_s=0.0, boarding_penalty_s=0.0)
    w = net.total_cost.copy()
    fin = np.isfinite(net.freq)
    w[fin] += 0.5 / net.freq[fin]
    m = csr_matrix((w + 1e-6, (net.tail, net.head)), shape=(net.n_nodes, net.n_nodes))
    src = np.asarray([n_stops + z for z in zones])
    d = dijkstra(m, indices=src)
    dz = d[:, zones]
    ok = np.isfinite(dz)
    _ = float((dz[ok] * demand[ok]).sum())
    return time.perf_counter() - t


def _random(scale: int, seed: int = 0):  # noqa: ANN202
    rng = np.random.default_rng(seed)
    ns, nl, nz = 300 * scale, 16 * scale, 46 * scale
    lines = []
    for k in range(nl):
        st = rng.choice(ns, 40, replace=False)
        lines.append(assign.Line(f"L{k}", tuple(int(s) for s in st),
                                 tuple(float(x) for x in rng.uniform(60, 120, 39)), 600.0))
    walks = []
    for z in range(ns, ns + nz):
        for s in rng.choice(ns, 30, replace=False):
            t = float(rng.uniform(60, 600))
            walks += [assign.Walk(z, int(s), t), assign.Walk(int(s), z, t)]
    zones = list(range(ns, ns + nz))
    return ns + nz, lines, walks, zones, rng.uniform(0, 10, (nz, nz))


def _run(label: str, n, lines, walks, zones, demand) -> None:  # noqa: ANN001
    t = time.perf_counter()
    r = assign.assign(n, lines, walks, zones, zones, demand, transfer_penalty_s=300.0)
    ta = time.perf_counter() - t
    tb = _baseline(n, lines, walks, zones, demand)
    print(
        f"{label}: {n} stop nodes, {len(lines)} lines, {len(walks)} walks, {len(zones)} zones | "
        f"optimal strategies {ta:.3f} s | all-or-nothing baseline {tb:.3f} s | "
        f"ratio {ta / tb:.1f}x | riders {r.riders:.0f} of {r.total:.0f}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default="nw3")
    ap.add_argument("--cache", default=None, help="graph cache folder")
    ap.add_argument("--scale", type=int, default=10)
    args = ap.parse_args(argv)
    # compile the kernel once so the timings compare steady states
    n, lines, walks, zones, dem = _random(1)
    assign.assign(n, lines, walks, zones, zones, dem)

    sc = load_scenario(args.scenario)
    design = pipeline.make_design(sc, cache_dir=args.cache)
    dm = pipeline.design_demand(sc, cache_dir=args.cache)
    pts = evaluate.zone_points(dm.zones)
    wd = sc.service.day("weekday")
    heads = {r.route_id: wd.headway("peak") * 60.0 for r in design.routes}
    net = plan_network(design.routes, design.stops, pts, headways_s=heads,
                       factor=sc.service.time_factor("peak"), dwell_s=sc.service.dwell_s,
                       walk_speed_kmh=sc.design.walk_speed_kmh)
    _run(f"{sc.name} weekday peak", net.n_nodes, net.lines, net.walks, list(net.zone_nodes),
         np.asarray(dm.trips, dtype=float))
    # the same with the existing bus and metro lines of the period as competition
    base, why = pipeline.try_baseline(sc, cache_dir=args.cache)
    if base is None:
        print(f"{sc.name} weekday peak + existing lines: no existing network ({why})")
    else:
        bg = existing.existing_lines(base, sc, "peak", pts)
        t = time.perf_counter()
        netb = plan_network(design.routes, design.stops, pts, headways_s=heads,
                            factor=sc.service.time_factor("peak"), dwell_s=sc.service.dwell_s,
                            walk_speed_kmh=sc.design.walk_speed_kmh, background=bg)
        tn = time.perf_counter() - t
        _run(f"{sc.name} weekday peak + {len(bg)} existing lines (network built in {tn:.2f} s)",
             netb.n_nodes, netb.lines, netb.walks, list(netb.zone_nodes),
             np.asarray(dm.trips, dtype=float))
    _run("random x1", *_random(1))
    _run(f"random x{args.scale}", *_random(args.scale))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
