"""Scenario sweeps: many variants of a scenario, designed, planned and scheduled with Dask.

A sweep expands a grid of overrides (``{"design.routes": [4, 6, 8]}``, ``{"budget.fleet": [10,
20, 30]}``) into scenario variants and runs network -> design -> service plan -> timetable for each
as one Dask task, returning one :class:`SweepRow` of figures per variant: the fleet budget and the
fleet the timetable uses, routes designed and kept, weekday and annual riders, the weekday
off-peak ATT, coverage, annual cost and cost per rider. A variant the budget cannot run
(:class:`~shuttle.errors.DesignError`, :class:`~shuttle.errors.TimetableError`) gives a row with
the error text instead of failing the sweep.

The road graph is built once per distinct network setting before the tasks start and then loaded
from the GraphML cache by every task, so workers of a cluster share it through a common
``cache_dir``. Without a ``client`` a local Dask scheduler runs the tasks (threads, worker
processes or one after another); with a ``dask.distributed.Client`` they run on its cluster. The
rows are the same whichever runs them.

:func:`budget_curve_svg` (from :mod:`shuttle.report_figures`, where the report draws it too)
draws riders, ATT, coverage and cost against the fleet budget as a small self-contained SVG (no
plotting library), byte-stable for the same rows. :func:`budget_curve` gives the rows of the
report's curve: the plan's own design planned at each of ``budget.curve_fleets`` the way a
``budget.fleet`` sweep plans it.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import io as _io
import itertools
import logging
import math
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import io
from .config import BudgetConfig, Scenario
from .errors import ConfigError, DesignError, TimetableError
from .report_figures import SweepRow, budget_curve_svg

__all__ = [
    "FORMULA_STARTS",
    "SECTIONS",
    "SweepRow",
    "budget_curve",
    "budget_curve_svg",
    "csv_cell",
    "expand_grid",
    "grid_combos",
    "grid_labels",
    "parse_assignment",
    "plan_row",
    "rows_to_csv",
    "run_sweep",
    "run_variant",
    "write_plot",
    "write_sweep",
]

log = logging.getLogger(__name__)

#: The scenario tables a sweep may vary.
SECTIONS = ("network", "stops", "demand", "design", "service", "budget")

#: Errors that make one variant infeasible: its row carries the text, the sweep goes on.
VARIANT_ERRORS = (DesignError, TimetableError)


def parse_assignment(text: str) -> tuple[str, list[Any]]:
    """Parse ``section.key=v1,v2`` into the key and its list of values (numbers where possible).

    Raises
    ------
    ConfigError
        If the text is not of that form.
    """
    if "=" not in text:
        msg = f"--set {text!r}: expected section.key=value[,value...]"
        raise ConfigError(msg)
    key, _, vals = text.partition("=")
    values: list[Any] = []
    for v in vals.split(","):
        v = v.strip()
        for conv in (int, float):
            try:
                values.append(conv(v))
                break
            except ValueError:
                continue
        else:
            values.append({"true": True, "false": False}.get(v.lower(), v))
    return key.strip(), values


def _field_kind(sub: Any, field: str, current: Any) -> type | None:
    """The type a swept field takes: its current value's, or for an unset optional its hint's."""
    if current is not None:
        return type(current)
    hint = typing.get_type_hints(type(sub)).get(field)
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if len(args) == 1 and args[0] in (bool, int, float, str) else None


def _override(scenario: Scenario, key: str, value: Any) -> Scenario:
    section, _, field = key.partition(".")
    if section not in SECTIONS or not field:
        msg = f"sweep key {key!r}: expected <section>.<field> with section in {', '.join(SECTIONS)}"
        raise ConfigError(msg)
    sub = getattr(scenario, section)
    names = {f.name: f for f in dataclasses.fields(sub)}
    if field not in names:
        msg = f"sweep key {key!r}: {section} has no field {field!r}"
        raise ConfigError(msg)
    current = getattr(sub, field)
    kind = _field_kind(sub, field, current)
    if kind not in (bool, int, float, str):
        msg = f"sweep key {key!r}: only numbers, true/false and words can be swept"
        raise ConfigError(msg)
    if kind is float and type(value) is int:
        value = float(value)
    if type(value) is not kind:
        msg = f"sweep key {key!r}: value {value!r} does not match the type of {current!r}"
        raise ConfigError(msg)
    if isinstance(value, float) and not math.isfinite(value):
        msg = f"sweep key {key!r}: value {value!r} is not a finite number"
        raise ConfigError(msg)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        msg = f"sweep key {key!r}: value {value!r} must not be negative"
        raise ConfigError(msg)
    if key == "budget.fleet" and isinstance(value, int) and value < 1:
        msg = f"sweep key {key!r}: value {value!r} must be at least 1 bus"
        raise ConfigError(msg)
    return dataclasses.replace(scenario, **{section: dataclasses.replace(sub, **{field: value})})


def grid_combos(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values as ``{key: value}`` (key order, then value order)."""
    keys = list(grid)
    return [dict(zip(keys, c, strict=True)) for c in itertools.product(*(grid[k] for k in keys))]


def expand_grid(scenario: Scenario, grid: Mapping[str, Sequence[Any]]) -> tuple[Scenario, ...]:
    """Return one scenario per combination of the grid's values (in key order, then value order).

    Each variant's ``name`` gets a suffix so its outputs do not overwrite the others'.

    Raises
    ------
    ConfigError
        If a key names no scenario field or a value has the wrong type.
    """
    out = []
    for i, combo in enumerate(grid_combos(grid), start=1):
        s = scenario
        for k, v in combo.items():
            s = _override(s, k, v)
        out.append(dataclasses.replace(s, name=f"{scenario.name}-v{i}"))
    return tuple(out)


def grid_labels(variants: Sequence[Scenario], grid: Mapping[str, Sequence[Any]]) -> list[str]:
    """Row labels ``<variant name>[key=value,...]`` naming every swept setting of each variant."""
    return [
        f"{s.name}[{','.join(f'{k}={v}' for k, v in combo.items())}]"
        for s, combo in zip(variants, grid_combos(grid), strict=True)
    ]


def _label(base: Scenario, s: Scenario) -> str:
    diffs = []
    for section in SECTIONS:
        a, b = getattr(base, section), getattr(s, section)
        for f in dataclasses.fields(a):
            if getattr(a, f.name) != getattr(b, f.name):
                diffs.append(f"{section}.{f.name}={getattr(b, f.name)}")
    return f"{s.name}[{','.join(diffs)}]"


def _first_line(e: BaseException, scenario: Scenario | None = None) -> str:
    """The error's first line; the scenario's file by its name only, so that the rows (and the
    report's budget curve) are the same on every machine."""
    text = str(e).strip()
    line = text.splitlines()[0] if text else type(e).__name__
    src = scenario.source_file if scenario is not None else None
    return line.replace(src, Path(src).name) if src else line


def _design_scenario(s: Scenario) -> Scenario:
    """The scenario as the route designer sees it: the budget does not change the design."""
    return dataclasses.replace(s, name="sweep", budget=BudgetConfig())


def design_variant(scenario: Scenario, cache_dir: str | None) -> Any:
    """Design one variant's routes (a Dask task); an infeasible design returns its error text."""
    from . import pipeline

    try:
        G = pipeline.build_network(scenario, cache_dir=cache_dir)
        return pipeline.make_design(scenario, G)
    except VARIANT_ERRORS as e:
        return _first_line(e, scenario)


def run_variant(
    scenario: Scenario, cache_dir: str | None, label: str, design: Any = None
) -> SweepRow:
    """Plan and schedule one variant and return its row (runs inside a Dask task).

    ``design`` is the variant's route design (from :func:`design_variant`; its error text if that
    failed; None designs here). An infeasible variant gives a row with the error's first line.
    """
    from . import pipeline

    if isinstance(design, str):
        return SweepRow(variant=label, fleet_budget=scenario.budget.fleet, error=design)
    try:
        G = pipeline.build_network(scenario, cache_dir=cache_dir)
        if design is None:
            design = pipeline.make_design(scenario, G)
    except VARIANT_ERRORS as e:
        log.info("sweep: %s failed: %s", label, _first_line(e))
        return SweepRow(
            variant=label, fleet_budget=scenario.budget.fleet, error=_first_line(e, scenario)
        )
    return plan_row(scenario, label, lambda s: pipeline.make_plan(s, G, design=design))


def plan_row(scenario: Scenario, label: str, make: Callable[[Scenario], Any]) -> SweepRow:
    """A variant's row: ``make(scenario)`` plans it (a design fixed); the error text if infeasible.

    ``make`` is :func:`shuttle.pipeline.make_plan` with the road graph and the design bound.
    """
    try:
        plan = make(scenario)
    except VARIANT_ERRORS as e:
        log.info("sweep: %s failed: %s", label, _first_line(e))
        return SweepRow(
            variant=label, fleet_budget=scenario.budget.fleet, error=_first_line(e, scenario)
        )
    return _row_of(plan, label)


def budget_curve(
    scenario: Scenario,
    make: Callable[[Scenario], Any],
    plan: Any = None,
    *,
    fleets: Sequence[int] | None = None,
    workers: int = 2,
) -> tuple[SweepRow, ...]:
    """The rows of the report's budget curve: the plan's design planned at each fleet budget.

    The variants are those of ``shuttle sweep --set budget.fleet=<fleets>``
    (:func:`expand_grid`, :func:`grid_labels`) and each is planned as a sweep plans it
    (:func:`plan_row`) with the design fixed: the budget never changes the design
    (:func:`_design_scenario`). ``plan``, the scenario's own plan, gives the row of its own
    budget without planning it again. The other variants run in ``workers`` threads (the
    assignment kernel releases the GIL); the rows are the same, in ``fleets`` order.

    Parameters
    ----------
    scenario
        The scenario of the plan.
    make
        Plans a variant with the plan's road graph and design, as the plan was made
        (``lambda s: pipeline.make_plan(s, G, design=design)``).
    plan
        The scenario's own plan (optional).
    fleets
        The fleet budgets; None: ``scenario.budget.curve_fleets``. Empty: no rows.
    workers
        Threads planning the variants (1: one after another).
    """
    fleets = list(scenario.budget.curve_fleets if fleets is None else fleets)
    if not fleets:
        return ()
    import time

    t0 = time.perf_counter()
    grid = {"budget.fleet": fleets}
    variants = expand_grid(scenario, grid)
    labels = grid_labels(variants, grid)
    own = plan.scenario.budget if plan is not None else None

    def one(i: int) -> SweepRow:
        s = variants[i]
        if own is not None and s.budget == own:
            return _row_of(plan, labels[i])
        return plan_row(s, labels[i], make)

    if workers <= 1:
        rows = [one(i) for i in range(len(variants))]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            rows = list(pool.map(one, range(len(variants))))
    log.info(
        "budget curve: %d fleet budgets, %d infeasible, %.1f s",
        len(rows),
        sum(1 for r in rows if not r.ok),
        time.perf_counter() - t0,
    )
    return tuple(rows)


def _row_of(plan: Any, label: str) -> SweepRow:
    from . import stops as stops_mod
    from . import timetable

    sc = plan.scenario
    k = plan.kpis
    figs = plan.figures
    wk = [f for f in timetable.fleet_summary(plan.timetable) if f.service_id == "weekday"]
    designed = len(plan.routes)
    coverage = k.coverage
    riders = annual = cost = per_rider = None
    if figs is not None:
        designed = len(figs.service.kept) + len(figs.service.dropped)
        if figs.service.dropped:  # the design's coverage counts the stops of routes dropped
            coverage = stops_mod.catchment(plan.stops, sc)[1]
        riders = next((round(r.riders, 1) for r in figs.ridership if r.day_type == "weekday"), 0.0)
        annual = round(figs.annual_riders, 1)
        cost = int(figs.cost.total_krw)
        per_rider = figs.cost_per_rider_krw
        per_rider = round(per_rider, 1) if math.isfinite(per_rider) else None
    return SweepRow(
        variant=label,
        fleet_budget=sc.budget.fleet,
        fleet_used=timetable.peak_fleet(plan.timetable),
        routes=designed,
        routes_kept=len(plan.routes),
        stops=len(plan.stops),
        weekday_riders=riders,
        annual_riders=annual,
        att_min=round(k.att_min, 4),
        coverage=round(coverage, 5),
        annual_cost_krw=cost,
        cost_per_rider_krw=per_rider,
        objective=round(k.objective, 6),
        d0=round(k.d0, 4),
        d1=round(k.d1, 4),
        d2=round(k.d2, 4),
        dun=round(k.dun, 4),
        vehicle_hours=round(sum(f.vehicle_hours for f in wk), 3),
    )


def run_sweep(
    base: Scenario,
    variants: Sequence[Scenario],
    *,
    cache_dir: str | Path | None = None,
    client: Any = None,
    scheduler: str = "threads",
    num_workers: int | None = None,
    labels: Sequence[str] | None = None,
) -> tuple[SweepRow, ...]:
    """Run every variant as Dask tasks and return their rows in variant order.

    Variants that differ only in ``[budget]`` share one design task (the budget does not change
    the route design); each variant's service plan and timetable is a task of its own.

    Parameters
    ----------
    base
        The scenario the variants were made from (for the labels).
    variants
        Scenario variants, e.g. from :func:`expand_grid`.
    cache_dir
        Road-graph cache shared by the tasks (on a cluster: a folder every worker can read).
    client
        A ``dask.distributed.Client``; None runs on the local ``scheduler``.
    scheduler
        The local Dask scheduler without a client: ``threads`` (default), ``processes`` (worker
        processes, each with its own hash seed: the rows are the same) or ``sync`` (one after
        another in this process).
    num_workers
        Threads or processes of the local scheduler (None: Dask's default, the CPU count).
    labels
        The rows' ``variant`` labels (e.g. from :func:`grid_labels`); None: the variant's name and
        the settings in which it differs from ``base``.

    Raises
    ------
    ConfigError
        If ``scheduler`` is not one of those.
    """
    if scheduler not in ("threads", "processes", "sync"):
        msg = f"sweep scheduler {scheduler!r}: expected threads, processes or sync"
        raise ConfigError(msg)
    names = list(labels) if labels is not None else [_label(base, s) for s in variants]
    if len(names) != len(variants):
        msg = f"sweep: {len(names)} labels for {len(variants)} variants"
        raise ConfigError(msg)
    import dask

    from . import pipeline

    cache = str(cache_dir) if cache_dir is not None else None
    seen = set()
    for s in variants:  # build each distinct road graph once, before the parallel tasks
        key = (s.districts, s.network)
        if key not in seen:
            seen.add(key)
            pipeline.build_network(s, cache_dir=cache)
    designs: list[tuple[Scenario, Any]] = []
    tasks = []
    for s, name in zip(variants, names, strict=True):
        ds = _design_scenario(s)
        task = next((t for d, t in designs if d == ds), None)
        if task is None:
            task = dask.delayed(design_variant, pure=True)(ds, cache)
            designs.append((ds, task))
        tasks.append(dask.delayed(run_variant, pure=True)(s, cache, name, task))
    log.info("sweep: %d variants, %d designs", len(tasks), len(designs))
    if client is not None:
        results = client.gather(client.compute(tasks))
    else:
        kw: dict[str, Any] = {"scheduler": scheduler}
        if num_workers is not None and scheduler != "sync":
            kw["num_workers"] = num_workers
        results = dask.compute(*tasks, **kw)
    rows = tuple(results)
    failed = sum(1 for r in rows if not r.ok)
    if failed:
        log.warning("sweep: %d of %d variants infeasible", failed, len(rows))
    return rows


#: First characters that make a spreadsheet read a cell as a formula (or hide one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """Return a CSV cell that a spreadsheet shows as text, never runs as a formula.

    Text beginning with one of :data:`FORMULA_STARTS` gets a leading apostrophe (OWASP CSV
    injection advice); numbers and booleans are returned unchanged, so they stay numbers; None
    is an empty cell.
    """
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_line(cells: Sequence[Any]) -> str:
    """One CSV line ending in LF; a cell holding CR or LF is quoted (as with CRLF line ends)."""
    buf = _io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(cells)
    return buf.getvalue()[:-2] + "\n"


def rows_to_csv(rows: Sequence[SweepRow]) -> str:
    """Format sweep rows as CSV text (header + one line per variant), formulas neutralised."""
    names = [f.name for f in dataclasses.fields(SweepRow)]
    lines = [_csv_line(names)]
    lines += [_csv_line([csv_cell(getattr(r, n)) for n in names]) for r in rows]
    return "".join(lines)


def write_sweep(rows: Sequence[SweepRow], path: str | Path) -> Path:
    """Write the sweep table as CSV (atomically)."""
    return io.atomic_write_text(path, rows_to_csv(rows))


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def write_plot(svg: str, path: str | Path, *, title: str = "") -> Path:
    """Write the budget curve as ``.svg``, or as ``.html`` (the SVG in a page), atomically.

    Raises
    ------
    ConfigError
        If the file name ends in neither.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".svg":
        return io.atomic_write_text(p, '<?xml version="1.0" encoding="UTF-8"?>\n' + svg)
    if suffix in (".html", ".htm"):
        page = (
            '<!DOCTYPE html>\n<html lang="ko">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{_esc(title or '차량 예산별 효과 · Budget curve')}</title>\n</head>\n<body>\n"
            f"{svg}</body>\n</html>\n"
        )
        return io.atomic_write_text(p, page)
    msg = f"--plot {p}: expected a file name ending in .svg or .html"
    raise ConfigError(msg)
