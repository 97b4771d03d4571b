"""Wall time and peak memory of each stage of ``shuttle plan``, for nw3 and seoul, cold and cached.

Each (scenario, mode) runs :func:`shuttle.pipeline.run_plan` (what ``shuttle plan`` runs, with
the existing-network comparison) in a fresh child process, one after another, so the data read
once per process and the peak memory belong to that run alone. The modes, per scenario:

``cold``
    an empty cache folder of its own (road graphs and the existing network's placement built
    from the data, every stage computed);
``graph``
    a fresh folder holding only the road graphs and the existing network's placement (the
    ``network-*.graph`` and ``baseline-*.json.gz`` files of the cold run's folder, or of
    ``--seed DIR``): every stage computed, the stage cache (:mod:`shuttle.stagecache`) filled;
``warm``
    the ``graph`` run's folder again: every stage read from the stage cache.

Usage::

    nice -n 10 python bench/pipeline.py [--scenarios nw3 seoul] [--modes cold graph warm]
                                        [--out DIR] [--cache DIR] [--seed DIR]

``--cache DIR`` replaces the cold run's fresh folder (a ``cold`` run on a filled folder is then
not cold); ``--seed DIR`` takes the graphs of the ``graph`` mode from DIR (linked, not copied)
when no cold run filled a folder.

The stages are the pipeline functions ``run_plan`` calls. A stage called inside another counts
in the outer one, except ``network``, ``baseline`` and ``demand``, read by whichever stage first
needs them, which count in their own rows: ``network``
(:func:`pipeline.build_network`), ``baseline`` (the existing network read, or placed on the
all-Seoul graph: :func:`pipeline.make_baseline`, called by the first stage that needs it),
``design`` (:func:`pipeline.make_design`), ``demand`` (:func:`pipeline.plan_demand`),
``service plan`` (:func:`pipeline.make_plan`: budget, timetable, deadheads, riders, period
figures), ``budget curve`` (the scenario's ``budget.curve_fleets``, planned again at each fleet,
as ``shuttle plan`` does), ``existing network`` (:func:`pipeline.make_existing`: the
before/after assignment, overlaps) and ``writers`` (GTFS, design JSON, map, report, index).
``other`` is the rest of the run (imports, scenario loading). Memory: ``peak MB`` is the largest
resident set size seen during the stage (sampled every 20 ms from /proc/self/statm), ``rss MB``
the process's peak so far at the stage's end (``resource.getrusage``); the whole run's peak is
the total row's. The total row also gives the process's CPU seconds (user + system, all threads),
which a machine loaded by other work changes less than the wall time.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STAGES = (
    "network",
    "baseline",
    "design",
    "demand",
    "service plan",
    "budget curve",
    "existing network",
    "writers",
)
#: Stages counted in their own row even when another stage calls them.
OWN_ROW = frozenset({"network", "baseline", "demand"})
PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 1e6


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


class _Meter:
    """Per-stage wall time and peak RSS (a stage inside another counts in the outer one, but
    the :data:`OWN_ROW` stages count in their own row)."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, float]] = {}
        self.inner: list[float] = []  # per open stage, the time of the stages inside it
        self.peak = 0.0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._sample, daemon=True)
        self._t.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_mb())

    def wrap(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self.inner and stage not in OWN_ROW:
                return fn(*args, **kwargs)
            if not self.inner:
                self.peak = _rss_mb()
            self.inner.append(0.0)
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent = time.perf_counter() - t0
                inner = self.inner.pop()
                if self.inner:
                    self.inner[-1] += spent
                r = self.rows.setdefault(stage, {"s": 0.0, "peak_mb": 0.0, "rss_mb": 0.0})
                r["s"] += spent - inner
                r["peak_mb"] = max(r["peak_mb"], self.peak, _rss_mb())
                r["rss_mb"] = _maxrss_mb()

        return timed

    def close(self) -> None:
        self._stop.set()
        self._t.join()


def _child(scenario_name: str, cache: str, out: str) -> dict[str, Any]:
    t_start = time.perf_counter()
    from shuttle import gtfs, maps, pipeline, report
    from shuttle.config import load_scenario

    m = _Meter()
    for name, stage in (
        ("build_network", "network"),
        ("make_baseline", "baseline"),
        ("make_design", "design"),
        ("plan_demand", "demand"),
        ("make_plan", "service plan"),
        ("_curve_rows", "budget curve"),
        ("make_existing", "existing network"),
        ("write_design", "writers"),
    ):
        if hasattr(pipeline, name):
            setattr(pipeline, name, m.wrap(stage, getattr(pipeline, name)))
    for mod, name in ((gtfs, "write_feed"), (maps, "save_map"), (maps, "write_index"),
                      (report, "write_report")):  # fmt: skip
        setattr(mod, name, m.wrap("writers", getattr(mod, name)))
    scenario = load_scenario(scenario_name)
    kw: dict[str, Any] = {}
    if "curve" in inspect.signature(pipeline.run_plan).parameters:  # as `shuttle plan` does
        from shuttle import sweep

        kw["curve"] = m.wrap("budget curve", sweep.budget_curve)
    pipeline.run_plan(
        scenario,
        gtfs_dir=Path(out) / "gtfs",
        maps_dir=Path(out) / "maps",
        cache_dir=cache,
        existing=True,
        **kw,
    )
    m.close()
    total = time.perf_counter() - t_start
    staged = sum(r["s"] for r in m.rows.values())
    rows = {k: m.rows.get(k, {"s": 0.0, "peak_mb": 0.0, "rss_mb": 0.0}) for k in STAGES}
    rows["other"] = {"s": total - staged, "peak_mb": 0.0, "rss_mb": _maxrss_mb()}
    ru = resource.getrusage(resource.RUSAGE_SELF)
    cpu = ru.ru_utime + ru.ru_stime
    return {"total_s": total, "cpu_s": cpu, "peak_mb": _maxrss_mb(), "stages": rows}


def _run(scenario: str, mode: str, cache: str, out: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", scenario, "--cache", cache, "--out", out]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if p.returncode != 0:  # report it in the table and go on with the other runs
        sys.stderr.write(p.stderr[-4000:])
        last = (p.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": last[:200], "wall_s": time.perf_counter() - t0}
    res = json.loads(p.stdout.strip().splitlines()[-1])
    res["wall_s"] = time.perf_counter() - t0
    return res


def _table(results: list[tuple[str, str, dict[str, Any]]]) -> str:
    lines = [
        "| scenario | mode | stage | wall s | peak MB | rss MB |",
        "|---|---|---|---:|---:|---:|",
    ]
    for scen, mode, res in results:
        if "error" in res:
            lines.append(f"| {scen} | {mode} | failed after {res['wall_s']:.0f} s: "
                         f"{res['error']} | | | |")  # fmt: skip
            continue
        for stage, r in res["stages"].items():
            peak = f"{r['peak_mb']:.0f}" if r["peak_mb"] else ""
            lines.append(
                f"| {scen} | {mode} | {stage} | {r['s']:.1f} | {peak} | {r['rss_mb']:.0f} |"
            )
        lines.append(
            f"| {scen} | {mode} | **total** | **{res['total_s']:.1f}** | "
            f"**{res['peak_mb']:.0f}** | (process {res['wall_s']:.1f} s, "
            f"CPU {res.get('cpu_s', 0.0):.1f} s) |"
        )
    return "\n".join(lines)


def _seed(folder: str, source: str) -> None:
    """A fresh ``folder`` holding the road graphs and baseline placements of ``source``."""
    dst = Path(folder)
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    for pattern in ("network-*.graph", "baseline-*.json.gz"):
        for f in sorted(Path(source).expanduser().glob(pattern)):
            try:
                os.link(f, dst / f.name)
            except OSError:
                shutil.copy2(f, dst / f.name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenarios", nargs="+", default=["nw3", "seoul"])
    ap.add_argument(
        "--modes", nargs="+", default=["cold", "graph", "warm"], choices=["cold", "graph", "warm"]
    )
    ap.add_argument("--cache", help="cache folder (default: a fresh temporary folder)")
    ap.add_argument("--seed", help="folder with the road graphs for the graph mode")
    ap.add_argument("--out", help="output folder (default: a temporary folder)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(_child(a.child, a.cache, a.out)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        out = a.out or str(Path(tmp) / "out")
        results = []
        for scen in a.scenarios:
            cold = a.cache or str(Path(tmp) / f"cache-{scen}")  # cold: empty for each scenario
            graph = str(Path(tmp) / f"graph-{scen}")
            for mode in a.modes:
                if mode == "cold":
                    cache = cold
                elif mode == "graph":
                    _seed(graph, cold if "cold" in a.modes else a.seed or cold)
                    cache = graph
                else:  # warm: the folder the graph run filled (else the cold one)
                    cache = graph if "graph" in a.modes else cold
                res = _run(scen, mode, cache, str(Path(out) / scen))
                results.append((scen, mode, res))
                done = res.get("error") or f"{res['total_s']:.1f} s, peak {res['peak_mb']:.0f} MB"
                print(f"{scen} {mode}: {done}", file=sys.stderr, flush=True)
                print(_table([(scen, mode, res)]), file=sys.stderr, flush=True)
    print(_table(results))


if __name__ == "__main__":
    main()
