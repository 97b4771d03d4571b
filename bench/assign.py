"""Benchmark the optimal-strategies assignment on nw3, a network ten times larger and all Seoul.

For each network it prints the time of :func:`shuttle.assign.assign` (all destinations, demand
loaded) beside a plain baseline run in the same process: an all-or-nothing shortest-path
assignment of the same links with :func:`scipy.sparse.csgraph.dijkstra` (each boarding link costs
half its line's headway; no combined waiting). Usage::

    python bench/assign.py [scenario] [--cache DIR] [--scale 10] [--cases scenario random seoul]

The nw3 network is the default plan's weekday peak (routes, stops and the dong centres), alone
and with the existing bus and metro lines of the peak as competition
(:func:`shuttle.existing.existing_lines`, the ``background`` of
:func:`shuttle.passengers.plan_network`); the large one is a random network with ``scale`` times
the stops, lines and zones.

The all-Seoul case is the existing network alone as the before/after comparison assigns it
(:func:`shuttle.compare.before_after`) for the ``seoul`` scenario: every bus route
:func:`shuttle.pipeline.make_baseline` places (the routes of the route-stop file with a stop in
Seoul) with a weekday peak headway, and the metro, each cut to its span near the zones
(:func:`shuttle.existing.existing_lines`); the zones are the ``seoul`` scenario's demand zones
(all Seoul dongs) and the demand its gravity model's daily trips
(:func:`shuttle.pipeline.design_demand`). It prints the time to read the inputs (baseline and
demand, from the cache folder when they are there), to build the assignment network, and to
assign it in one thread and in one thread per core (checking both give the same bytes).
Only that case::

    python bench/assign.py --cases seoul
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from shuttle import assign, evaluate, existing, pipeline
from shuttle.config import load_scenario
from shuttle.passengers import line_network, plan_network


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
        lines.append(
            assign.Line(
                f"L{k}",
                tuple(int(s) for s in st),
                tuple(float(x) for x in rng.uniform(60, 120, 39)),
                600.0,
            )
        )
    walks = []
    for z in range(ns, ns + nz):
        for s in rng.choice(ns, 30, replace=False):
            t = float(rng.uniform(60, 600))
            walks += [assign.Walk(z, int(s), t), assign.Walk(int(s), z, t)]
    zones = list(range(ns, ns + nz))
    return ns + nz, lines, walks, zones, rng.uniform(0, 10, (nz, nz))


def _run(label: str, n, lines, walks, zones, demand) -> None:  # noqa: ANN001
    t, c = time.perf_counter(), time.process_time()
    r = assign.assign(n, lines, walks, zones, zones, demand, transfer_penalty_s=300.0)
    ta, ca = time.perf_counter() - t, time.process_time() - c
    tb = _baseline(n, lines, walks, zones, demand)
    print(
        f"{label}: {n} stop nodes, {len(lines)} lines, {len(walks)} walks, {len(zones)} zones | "
        f"optimal strategies {ta:.3f} s ({ca:.3f} s CPU) | all-or-nothing baseline {tb:.3f} s | "
        f"ratio {ta / tb:.1f}x | riders {r.riders:.0f} of {r.total:.0f}"
    )


def _same(a: assign.Assignment, b: assign.Assignment) -> bool:
    """Whether two assignments hold the same bytes (times, components and line loads)."""
    fields = ("time_s", "walk_s", "wait_s", "in_vehicle_s", "penalty_s", "boardings")
    return all(getattr(a, f).tobytes() == getattr(b, f).tobytes() for f in fields) and all(
        (x.boardings, x.alightings, x.load) == (y.boardings, y.alightings, y.load)
        for x, y in zip(a.lines, b.lines, strict=True)
    )


def _seoul(cache: str | None) -> None:
    """The existing network of all Seoul (see the module docstring)."""
    sc = load_scenario("seoul")
    t = time.perf_counter()
    base = pipeline.make_baseline(sc, cache_dir=cache)
    dm = pipeline.design_demand(sc, cache_dir=cache)
    t_in = time.perf_counter() - t
    t = time.perf_counter()
    pts = evaluate.zone_points(dm.zones)
    lines = existing.existing_lines(base, sc, "peak", pts)
    net = line_network(
        sorted(lines, key=lambda x: x.line_id), pts,
        walk_speed_kmh=sc.design.walk_speed_kmh, zone_to_zone=True,
    )  # fmt: skip
    t_build = time.perf_counter() - t
    zones = list(net.zone_nodes)
    trips = np.asarray(dm.trips, dtype=float).copy()
    np.fill_diagonal(trips, 0.0)
    pen = sc.design.transfer_penalty_min * 60.0
    n_rail = sum(1 for ln in lines if ln.line_id.startswith("rail:"))
    print(
        f"all Seoul existing network, weekday peak: {len(base.routes)} bus routes placed, "
        f"{len(lines) - n_rail} bus lines with a peak headway + {n_rail} metro chain directions, "
        f"{len(zones)} zones (all Seoul dongs), {trips.sum():.0f} trips/day | inputs read in "
        f"{t_in:.1f} s | network built in {t_build:.2f} s ({net.n_nodes} stop nodes, "
        f"{len(net.walks)} walks)"
    )
    runs = {}
    for threads in (1, None):
        t, c = time.perf_counter(), time.process_time()
        runs[threads] = assign.assign(
            net.n_nodes, net.lines, net.walks, zones, zones, trips,
            transfer_penalty_s=pen, threads=threads,
        )  # fmt: skip
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        label = "1 thread" if threads == 1 else f"{os.cpu_count()} threads"
        print(
            f"  optimal strategies, {label}: {wall:.1f} s wall, {cpu:.1f} s CPU "
            f"(machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
        )
    tb = _baseline(net.n_nodes, net.lines, net.walks, zones, trips)
    r = runs[None]
    print(
        f"  all-or-nothing baseline {tb:.1f} s | ratio {wall / tb:.1f}x | threaded run "
        f"{'identical to' if _same(runs[1], r) else 'DIFFERS from'} the one-thread run | "
        f"served {r.total - r.unserved:.0f} of {r.total:.0f} trips, mean "
        f"{r.mean() / 60.0:.1f} min"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default="nw3")
    ap.add_argument("--cache", default=None, help="graph cache folder")
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--cases", nargs="+", default=["scenario", "random", "seoul"],
                    choices=["scenario", "random", "seoul"])  # fmt: skip
    args = ap.parse_args(argv)
    # compile the kernel once so the timings compare steady states
    n, lines, walks, zones, dem = _random(1)
    assign.assign(n, lines, walks, zones, zones, dem)
    if "scenario" in args.cases:
        _scenario(args.scenario, args.cache)
    if "random" in args.cases:
        _run("random x1", *_random(1))
        _run(f"random x{args.scale}", *_random(args.scale))
    if "seoul" in args.cases:
        _seoul(args.cache)
    return 0


def _scenario(name: str, cache: str | None) -> None:
    """The scenario's default plan alone and with the existing lines (see the module docstring)."""
    sc = load_scenario(name)
    design = pipeline.make_design(sc, cache_dir=cache)
    dm = pipeline.design_demand(sc, cache_dir=cache)
    pts = evaluate.zone_points(dm.zones)
    wd = sc.service.day("weekday")
    heads = {r.route_id: wd.headway("peak") * 60.0 for r in design.routes}

    def network(background=None):  # noqa: ANN001, ANN202 - the weekday peak plan network
        return plan_network(
            design.routes,
            design.stops,
            pts,
            headways_s=heads,
            factor=sc.service.time_factor("peak"),
            dwell_s=sc.service.dwell_s,
            walk_speed_kmh=sc.design.walk_speed_kmh,
            background=background,
        )

    net = network()
    _run(
        f"{sc.name} weekday peak",
        net.n_nodes,
        net.lines,
        net.walks,
        list(net.zone_nodes),
        np.asarray(dm.trips, dtype=float),
    )
    # the same with the existing bus and metro lines of the period as competition
    base, why = pipeline.try_baseline(sc, cache_dir=cache)
    if base is None:
        print(f"{sc.name} weekday peak + existing lines: no existing network ({why})")
    else:
        bg = existing.existing_lines(base, sc, "peak", pts)
        t = time.perf_counter()
        netb = network(bg)
        tn = time.perf_counter() - t
        _run(
            f"{sc.name} weekday peak + {len(bg)} existing lines (network built in {tn:.2f} s)",
            netb.n_nodes,
            netb.lines,
            netb.walks,
            list(netb.zone_nodes),
            np.asarray(dm.trips, dtype=float),
        )


if __name__ == "__main__":
    raise SystemExit(main())
