"""Benchmark the road network stage: cold build from the tiles, cached load, GraphML export/load.

The cached load reads the data-only cache (:mod:`shuttle.graphcache`); the same graph pickled
and unpickled in the same process (the cache format before) is timed beside it. The three loads
are timed REPEAT times, interleaved, and the best time is shown (the machine may be busy).

Run: ``python bench/network.py [--scenario nw3] [--data-dir DIR]``. Prints wall times, the graph
size, and each time as a ratio of two baselines run in the same process: plain osmnx loading a
GraphML of the same graph (``osmnx.load_graphml``, what a GraphML cache would cost), and
plain osmnx loading the pre-built three-district GraphML in the data directory
(``osm/seoul_nw3_drive_from_vt14_2021-08.graphml``, derived from the same tiles by a one-off
conversion). Also the ratio of the target budget (TARGET_S). A fresh temporary cache folder is
used, so the first build is always cold.
"""

from __future__ import annotations

import argparse
import logging
import pickle
import sys
import tempfile
import time
from pathlib import Path

from shuttle import graphcache, network
from shuttle.config import load_scenario

#: The pre-built three-district graph in the data directory (baseline for a cold build).
PREBUILT = "osm/seoul_nw3_drive_from_vt14_2021-08.graphml"
#: Budget from the issue.
TARGET_S = {"cold build": 60.0, "cached load": 5.0}
#: Each load is timed this many times (interleaved); the best time is shown.
REPEAT = 3


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="nw3")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    sc = load_scenario(args.scenario, data_dir=args.data_dir)
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="shuttle-bench-") as td:
        cache = Path(td) / "cache"
        t = time.perf_counter()
        G = network.load_graph(sc, cache_dir=cache)
        times["cold build"] = time.perf_counter() - t
        G2 = network.load_graph(sc, cache_dir=cache)
        assert G2.number_of_edges() == G.number_of_edges()
        old = Path(td) / "graph.pickle"
        old.write_bytes(pickle.dumps(G, protocol=pickle.HIGHEST_PROTOCOL))
        new = network.cache_path(sc, cache)
        loads = {
            "cached load": lambda: network.load_graph(sc, cache_dir=cache),
            "cache file read + decode only (new format)": lambda: graphcache.decode_graph(
                new.read_bytes()
            ),
            "pickle read + load only (old cache format)": lambda: pickle.loads(  # noqa: S301
                old.read_bytes()  # our own file, the old cache format
            ),
        }
        for _ in range(REPEAT):  # interleaved, best of REPEAT: fair on a busy machine
            for k, fn in loads.items():
                t = time.perf_counter()
                fn()
                times[k] = min(times.get(k, float("inf")), time.perf_counter() - t)
        gml = Path(td) / "graph.graphml"
        t = time.perf_counter()
        network.save_graphml(G, gml)
        times["graphml save"] = time.perf_counter() - t
        import osmnx as ox

        t = time.perf_counter()
        ox.load_graphml(gml)
        times["graphml load"] = time.perf_counter() - t
        prebuilt = sc.data_path(PREBUILT)
        if prebuilt.is_file():
            t = time.perf_counter()
            ox.load_graphml(prebuilt)
            times["osmnx load of the pre-built graphml (baseline)"] = time.perf_counter() - t
        size_mb = {
            "data-only cache": new.stat().st_size / 1e6,
            "pickle (old)": old.stat().st_size / 1e6,
            "graphml": gml.stat().st_size / 1e6,
        }
    info = network.graph_info(G, sc)
    out = sys.stdout
    out.write(f"scenario {sc.name}: source {sc.network.source}, districts {sc.districts}\n")
    out.write(f"graph: {G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges, "
              f"{info.road_km:,.1f} road km\n")  # fmt: skip
    base_gml = times["graphml load"]
    base_pre = times.get("osmnx load of the pre-built graphml (baseline)", float("nan"))
    out.write(
        f"{'step':<48}{'seconds':>9}{'x graphml load':>16}"
        f"{'x pre-built load':>18}{'x target':>10}\n"
    )
    for k, s in times.items():
        tgt = f"{s / TARGET_S[k]:>10.2f}" if k in TARGET_S else f"{'-':>10}"
        out.write(f"{k:<48}{s:>9.2f}{s / base_gml:>16.2f}{s / base_pre:>18.2f}{tgt}\n")
    out.write("files: " + ", ".join(f"{k} {v:.1f} MB" for k, v in size_mb.items()) + "\n")
    ok = all(times[k] <= TARGET_S[k] for k in TARGET_S)
    out.write("within target\n" if ok else "OVER TARGET\n")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
