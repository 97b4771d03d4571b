"""Benchmark the road network stage: cold build from the tiles, cached load, GraphML export/load.

Run: ``python bench/network.py [--scenario nw3] [--data-dir DIR]``. Prints wall times, the graph
size, and each time as a ratio of the baseline measured on the 2-core development machine
(BASELINE_S) and of the target budget (TARGET_S). A fresh temporary cache folder is used, so the
first build is always cold.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

from shuttle import network
from shuttle.config import load_scenario

#: Seconds measured on the 2-core development machine (nw3, tiles) when this bench was written.
BASELINE_S = {"cold build": 11.5, "cached load": 0.95, "graphml save": 7.2, "graphml load": 5.7}
#: Budget from the issue.
TARGET_S = {"cold build": 60.0, "cached load": 5.0}


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
        t = time.perf_counter()
        G2 = network.load_graph(sc, cache_dir=cache)
        times["cached load"] = time.perf_counter() - t
        assert G2.number_of_edges() == G.number_of_edges()
        gml = Path(td) / "graph.graphml"
        t = time.perf_counter()
        network.save_graphml(G, gml)
        times["graphml save"] = time.perf_counter() - t
        import osmnx as ox

        t = time.perf_counter()
        ox.load_graphml(gml)
        times["graphml load"] = time.perf_counter() - t
        size_mb = {
            "pickle cache": network.cache_path(sc, cache).stat().st_size / 1e6,
            "graphml": gml.stat().st_size / 1e6,
        }
    info = network.graph_info(G, sc)
    out = sys.stdout
    out.write(f"scenario {sc.name}: source {sc.network.source}, districts {sc.districts}\n")
    out.write(f"graph: {G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges, "
              f"{info.road_km:,.1f} road km\n")  # fmt: skip
    out.write(f"{'step':<14}{'seconds':>9}{'x baseline':>12}{'x target':>10}\n")
    for k, s in times.items():
        tgt = f"{s / TARGET_S[k]:>10.2f}" if k in TARGET_S else f"{'-':>10}"
        out.write(f"{k:<14}{s:>9.2f}{s / BASELINE_S[k]:>12.2f}{tgt}\n")
    out.write("files: " + ", ".join(f"{k} {v:.1f} MB" for k, v in size_mb.items()) + "\n")
    ok = all(times[k] <= TARGET_S[k] for k in TARGET_S)
    out.write("within target\n" if ok else "OVER TARGET\n")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
