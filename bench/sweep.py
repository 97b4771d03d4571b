"""Benchmark a scenario sweep: 8 variants one after another against worker processes.

The 8 variants of nw3 are 8 design seeds (``design.seed``; 8 designs, each with its own service
plan and timetable, so no variant shares work with another). They run first one after another in
this process (Dask's ``sync`` scheduler: the baseline) and then in local worker processes (Dask's
``processes`` scheduler); the script prints both wall times, their ratio and checks that the two
tables are identical. The road graph is built (or loaded) once before either timing. Usage::

    python bench/sweep.py [scenario] [--variants 8] [--workers N] [--iterations N] [--cache DIR]

``--iterations`` lowers ``design.iterations`` to keep a run short on a busy machine (the ratio is
what matters); the speed-up is bounded by the free cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from typing import Any

from shuttle import pipeline, sweep
from shuttle.config import load_scenario


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default="nw3")
    ap.add_argument("--variants", type=int, default=8, help="design seeds to run (default 8)")
    ap.add_argument("--workers", type=int, default=None, help="worker processes (default: CPUs)")
    ap.add_argument("--iterations", type=int, default=None, help="design.iterations override")
    ap.add_argument("--cache", default=None, help="graph cache folder")
    args = ap.parse_args(argv)
    base = load_scenario(args.scenario)
    if args.iterations is not None:
        base = dataclasses.replace(
            base, design=dataclasses.replace(base.design, iterations=args.iterations)
        )
    seeds = [base.design.seed + i for i in range(args.variants)]
    grid = {"design.seed": seeds}
    variants = sweep.expand_grid(base, grid)
    labels = sweep.grid_labels(variants, grid)
    t = time.perf_counter()
    pipeline.build_network(base, cache_dir=args.cache)
    print(f"graph: {time.perf_counter() - t:.1f} s (built or loaded once)")
    workers = args.workers or os.cpu_count() or 1
    print(
        f"{len(variants)} variants of {base.name} (design.seed {seeds[0]}..{seeds[-1]}, "
        f"{base.design.method}, {base.design.iterations} iterations); {workers} workers, "
        f"{os.cpu_count()} CPUs"
    )

    def run(**kw: Any) -> tuple[float, tuple[sweep.SweepRow, ...]]:
        t0 = time.perf_counter()
        rows = sweep.run_sweep(base, variants, cache_dir=args.cache, labels=labels, **kw)
        return time.perf_counter() - t0, rows

    t_seq, seq = run(scheduler="sync")
    print(f"one after another (baseline): {t_seq:8.1f} s")
    t_par, par = run(scheduler="processes", num_workers=workers)
    print(f"worker processes:             {t_par:8.1f} s")
    print(f"speed-up: {t_seq / t_par:.2f}x")
    same = sweep.rows_to_csv(seq) == sweep.rows_to_csv(par)
    print(f"tables identical: {same}")
    failed = sum(1 for r in seq if not r.ok)
    if failed:
        print(f"{failed} variants infeasible")
    print(sweep.rows_to_csv(seq), end="")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
