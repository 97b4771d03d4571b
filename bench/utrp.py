"""Benchmark the UTRP designer on Mandl and Mumford0-3 against the published results.

Usage::

    python bench/utrp.py                               # 5 instances, seed 0, full budgets
    python bench/utrp.py --seeds 5                     # seeds 0..4: best and mean over seeds
    python bench/utrp.py --instances Mandl1 Mumford0 --seeds 3 --budget-scale 0.25
    python bench/utrp.py --instances Mumford0 --iterations 20000 --seeds 2   # reproducible

For each instance and seed it designs a passenger-oriented route set (``operator_weight=0``) by
simulated annealing within the instance's time budget (or a fixed iteration budget, which makes
the run independent of machine speed), then an operator-oriented one (``operator_weight=1``, no
demand allowed beyond two transfers) within ``--operator-share`` of that budget. It prints each
run, then per instance the best and mean ATT over the seeds whose route set meets every
constraint with dun = 0, and the lowest TRT reached with dun = 0, beside the published figures.

The best passenger route set of each instance is written to ``bench/out/<instance>.txt`` and the
lowest-TRT one to ``bench/out/<instance>.operator.txt``, in the published format (one route per
line, 1-based node ids joined by ``-``), so that an independent evaluator can rescore them.
``bench/out/<instance>.runs.tsv`` lists every run.

Published figures are from ``../shared/data/benchmarks/RESULTS.md``: Mumford (2013), IEEE CEC
2013, 939-946; Ahmed, Mumford & Kheiri (2019), EJOR 274, 545-559 (best published passenger ATT,
except Mumford3 where Holliday & Dudek (2024), ICRA, report 27.96); the lowest published
operator TRT (Mandl: 63 in all three papers; Mumford0-3: Ahmed et al. 2019).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

from shuttle import utrp
from shuttle.config import default_data_dir

HERE = Path(__file__).resolve().parent

# instance -> (time budget s, Mumford 2013 ATT, best published ATT, its source, best op. TRT)
PUBLISHED: dict[str, tuple[float, float, float, str, float]] = {
    "Mandl1": (60, 10.27, 10.18, "A2019", 63),
    "Mumford0": (120, 16.05, 14.09, "A2019", 94),
    "Mumford1": (540, 24.79, 21.69, "A2019", 408),
    "Mumford2": (540, 28.65, 25.19, "A2019", 1330),
    "Mumford3": (540, 31.44, 27.96, "HD2024", 1746),
}

#: Weight of the share of demand beyond two transfers in the operator-end runs (forces dun = 0).
OPERATOR_UNREACH_WEIGHT = 1000.0


def _run(
    problem: utrp.Problem,
    *,
    seed: int,
    limit: float | None,
    iterations: int | None,
    operator: bool,
) -> tuple[utrp.Evaluation, utrp.RouteSet, float]:
    t0 = time.thread_time()
    routes = utrp.design(
        problem,
        method="anneal",
        seed=seed,
        time_limit_s=limit if iterations is None else None,
        iterations=iterations,
        operator_weight=1.0 if operator else 0.0,
        unreach_weight=OPERATOR_UNREACH_WEIGHT if operator else None,
        strict_dun=operator,
    )
    return utrp.evaluate(problem, routes), routes, time.thread_time() - t0


def _ok(ev: utrp.Evaluation) -> bool:
    return ev.feasible and ev.dun == 0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 if every instance's best ATT is at or under the best published."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("positional", nargs="*", metavar="instance", help="instance folders")
    ap.add_argument("--instances", nargs="+", default=None, help="instance folders")
    ap.add_argument("--seeds", type=int, default=1, help="number of seeds (seed, seed+1, ...)")
    ap.add_argument("--seed", type=int, default=0, help="first seed")
    ap.add_argument("--budget-scale", "--scale", dest="scale", type=float, default=None)
    ap.add_argument("--quick", action="store_true", help="scale the time budgets by 0.1")
    ap.add_argument("--iterations", type=int, default=None, help="iteration budget per run")
    ap.add_argument(
        "--operator-share",
        type=float,
        default=0.25,
        help="operator-end budget as a share of the passenger budget (0 = skip)",
    )
    ap.add_argument("--data", type=Path, default=None, help="shared data folder")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(message)s",
    )
    names = args.instances or args.positional or list(PUBLISHED)
    unknown = [n for n in names if n not in PUBLISHED]
    if unknown or args.seeds < 1:
        ap.error(f"unknown instance(s) {unknown}; choose from {list(PUBLISHED)}, seeds >= 1")
    scale = args.scale if args.scale is not None else (0.1 if args.quick else 1.0)
    seeds = list(range(args.seed, args.seed + args.seeds))
    bench_dir = (args.data or default_data_dir()) / "benchmarks"
    budget_txt = f"{args.iterations} iterations" if args.iterations else f"budget x {scale:g}"
    print(f"UTRP benchmark, seeds {seeds}, {budget_txt}, operator share {args.operator_share:g}")
    head = (
        f"{'instance':9} {'end':4} {'seed':>4} {'ATT':>6} {'TRT':>6} {'d0':>6} {'d1':>6} "
        f"{'d2':>5} {'dun':>5} {'time_s':>7} {'ok':>3}"
    )
    print(head)
    print("-" * len(head))
    summary = []
    all_ok = True
    for name in names:
        budget, m_att, best_att, src, best_trt = PUBLISHED[name]
        problem = utrp.load_instance(bench_dir / name)
        ends = [("pass", budget * scale, args.iterations)]
        if args.operator_share > 0:
            its = None if args.iterations is None else int(args.iterations * args.operator_share)
            ends.append(("op", budget * scale * args.operator_share, its))
        runs: dict[str, list[tuple[int, utrp.Evaluation, utrp.RouteSet]]] = {}
        tsv = ["end\tseed\tatt\ttrt\td0\td1\td2\tdun\tfeasible\ttime_s"]
        for end, limit, its in ends:
            for seed in seeds:
                ev, routes, dt = _run(
                    problem, seed=seed, limit=limit, iterations=its, operator=end == "op"
                )
                runs.setdefault(end, []).append((seed, ev, routes))
                print(
                    f"{name:9} {end:4} {seed:4d} {ev.att:6.2f} {ev.trt:6.0f} {ev.d0:6.2f} "
                    f"{ev.d1:6.2f} {ev.d2:5.2f} {ev.dun:5.2f} {dt:7.1f} "
                    f"{'yes' if _ok(ev) else 'NO':>3}",
                    flush=True,
                )
                for v in ev.violations:
                    print(f"    violation: {v}")
                tsv.append(
                    f"{end}\t{seed}\t{ev.att:.4f}\t{ev.trt:g}\t{ev.d0:.2f}\t{ev.d1:.2f}\t"
                    f"{ev.d2:.2f}\t{ev.dun:.2f}\t{ev.feasible}\t{dt:.1f}"
                )
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / f"{name}.runs.tsv").write_text("\n".join(tsv) + "\n")
        good = [(ev.att, seed, routes) for seed, ev, routes in runs["pass"] if _ok(ev)]
        if good:
            atts = [a for a, _, _ in good]
            b_att, b_seed, b_routes = min(good)
            utrp.write_route_file(args.out / f"{name}.txt", b_routes)
            mean_att = statistics.fmean(atts)
        else:
            b_att = mean_att = float("nan")
        beat = bool(good) and len(good) == len(seeds) and round(b_att, 2) <= best_att
        all_ok &= beat
        op_trt = float("nan")
        op_good = [(ev.trt, ev.att, seed, r) for seed, ev, r in runs.get("op", []) if _ok(ev)]
        if op_good:
            op_trt, op_att, _, op_routes = min(op_good)
            utrp.write_route_file(args.out / f"{name}.operator.txt", op_routes)
        summary.append((name, len(good), b_att, mean_att, m_att, best_att, src, op_trt, best_trt))
    print()
    head = (
        f"{'instance':9} {'ok runs':>7} {'best ATT':>8} {'mean ATT':>8} {'mean/best':>9} | "
        f"{'M2013':>6} {'best pub':>8} {'src':>6} {'mean/pub':>8} {'verdict':>8} | "
        f"{'min TRT':>7} {'pub TRT':>7}"
    )
    print(head)
    print("-" * len(head))
    for name, n_ok, b_att, mean_att, m_att, best_att, src, op_trt, best_trt in summary:
        verdict = "at/under" if n_ok and round(b_att, 2) <= best_att else "above"
        print(
            f"{name:9} {n_ok:3d}/{len(seeds):<3d} {b_att:8.2f} {mean_att:8.3f} "
            f"{100 * (mean_att / b_att - 1):+8.2f}% | {m_att:6.2f} {best_att:8.2f} {src:>6} "
            f"{100 * (mean_att / best_att - 1):+7.2f}% {verdict:>8} | {op_trt:7.0f} {best_trt:7.0f}"
        )
    print(f"route sets written to {args.out}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
