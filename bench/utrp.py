"""Benchmark the UTRP designer on Mandl and Mumford0-3 against the published results.

Usage::

    python bench/utrp.py                  # full budgets (about 30 min on 2 cores)
    python bench/utrp.py --quick          # budgets x 0.1
    python bench/utrp.py Mandl1 Mumford0 --scale 0.5 --seed 1

For each instance it designs a passenger-oriented route set (``operator_weight=0``) with the
greedy constructive heuristic (baseline) and with simulated annealing (time-limited), writes the
annealed route set to ``bench/out/<instance>.txt`` (1-based ids, one route per line), and prints
ATT, TRT, d0, d1, d2, dun and run time beside the published figures.

Published figures (ATT / TRT, passenger-oriented best) are from
``../shared/data/benchmarks/RESULTS.md``: Mumford (2013), IEEE CEC 2013, 939-946, and the best
published column, Ahmed, Mumford & Kheiri (2019), EJOR 274, 545-559.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from shuttle import utrp
from shuttle.config import default_data_dir

HERE = Path(__file__).resolve().parent

# instance folder -> (time budget s, Mumford 2013 ATT, TRT, Ahmed et al. 2019 ATT, TRT)
PUBLISHED: dict[str, tuple[float, float, float, float, float]] = {
    "Mandl1": (60, 10.27, 221, 10.18, 212),
    "Mumford0": (120, 16.05, 759, 14.09, 722),
    "Mumford1": (540, 24.79, 2038, 21.69, 1956),
    "Mumford2": (540, 28.65, 5632, 25.19, 5257),
    "Mumford3": (540, 31.44, 6665, 28.05, 6119),
}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return 0 if every instance beats Mumford (2013) feasibly."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instances", nargs="*", default=list(PUBLISHED), help="instance folders")
    ap.add_argument("--quick", action="store_true", help="scale the time budgets by 0.1")
    ap.add_argument("--scale", type=float, default=None, help="scale the time budgets")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, default=None, help="shared data folder")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(message)s",
    )
    scale = args.scale if args.scale is not None else (0.1 if args.quick else 1.0)
    bench_dir = (args.data or default_data_dir()) / "benchmarks"
    head = (
        f"{'instance':9} {'method':7} {'ATT':>6} {'TRT':>6} {'d0':>6} {'d1':>6} {'d2':>5} "
        f"{'dun':>5} {'time_s':>7} {'ok':>3} | {'M2013':>12} {'best(A2019)':>12} "
        f"{'ATT/greedy':>10} {'vs M2013':>8}"
    )
    print(f"UTRP benchmark, seed {args.seed}, budget scale {scale:g}")
    print(head)
    print("-" * len(head))
    all_ok = True
    for name in args.instances:
        budget, m_att, m_trt, a_att, a_trt = PUBLISHED[name]
        problem = utrp.load_instance(bench_dir / name)
        rows = []
        for method, limit in (("greedy", None), ("anneal", budget * scale)):
            t0 = time.perf_counter()
            routes = utrp.design(problem, method=method, seed=args.seed, time_limit_s=limit)
            dt = time.perf_counter() - t0
            rows.append((method, utrp.evaluate(problem, routes), dt, routes))
        g_att = rows[0][1].att
        utrp.write_route_file(args.out / f"{name}.txt", rows[1][3])
        for method, ev, dt, _ in rows:
            beat = ev.feasible and ev.dun == 0 and round(ev.att, 2) <= m_att
            if method == "anneal":
                all_ok &= beat
            print(
                f"{name:9} {method:7} {ev.att:6.2f} {ev.trt:6.0f} {ev.d0:6.2f} {ev.d1:6.2f} "
                f"{ev.d2:5.2f} {ev.dun:5.2f} {dt:7.1f} {'yes' if ev.feasible else 'NO':>3} | "
                f"{m_att:6.2f}/{m_trt:<5.0f} {a_att:6.2f}/{a_trt:<5.0f} {ev.att / g_att:10.3f} "
                f"{'better' if beat else 'worse':>8}",
                flush=True,
            )
            for v in ev.violations:
                print(f"    violation: {v}")
    print(f"route sets written to {args.out}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
