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

:func:`budget_curve_svg` draws riders, ATT, coverage and cost against the fleet budget as a small
self-contained SVG (no plotting library), byte-stable for the same rows.
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import io
from .config import BudgetConfig, Scenario
from .errors import ConfigError, DesignError, TimetableError

__all__ = [
    "FORMULA_STARTS",
    "SECTIONS",
    "SweepRow",
    "budget_curve_svg",
    "csv_cell",
    "expand_grid",
    "grid_combos",
    "grid_labels",
    "parse_assignment",
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


@dataclass(frozen=True, slots=True)
class SweepRow:
    """The figures of one scenario variant (all None but ``variant`` and ``error`` if it failed).

    ``att_min`` and the ``d*`` shares are the weekday off-peak figures with the headways the
    timetable runs; ``coverage`` is the share (0..1) of the districts' residents within the
    catchment of the stops of the routes kept; costs are KRW a year at the ``[cost]`` prices.
    """

    variant: str  # e.g. "nw3-v1[budget.fleet=10]"
    fleet_budget: int | None = None  # budget.fleet of the variant (None: no fleet budget)
    fleet_used: int | None = None  # peak fleet of the timetable (busiest day type)
    routes: int | None = None  # routes designed
    routes_kept: int | None = None  # routes the budget runs
    stops: int | None = None  # stops of the routes kept
    weekday_riders: float | None = None  # riders per weekday
    annual_riders: float | None = None
    att_min: float | None = None
    coverage: float | None = None
    annual_cost_krw: int | None = None
    cost_per_rider_krw: float | None = None
    objective: float | None = None  # the designer's objective (lower is better)
    d0: float | None = None
    d1: float | None = None
    d2: float | None = None
    dun: float | None = None
    vehicle_hours: float | None = None  # weekday, from the timetable's blocks
    error: str = ""  # first line of the error of an infeasible variant

    @property
    def ok(self) -> bool:
        """True if the variant was planned (no error)."""
        return not self.error


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


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


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
        return _first_line(e)


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
        plan = pipeline.make_plan(scenario, G, design=design)
    except VARIANT_ERRORS as e:
        log.info("sweep: %s failed: %s", label, _first_line(e))
        return SweepRow(variant=label, fleet_budget=scenario.budget.fleet, error=_first_line(e))
    return _row_of(plan, label)


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


# ---------------------------------------------------------------------------------- budget curve

#: The panels of the budget curve: row field, Korean and English label, scale, decimals, from 0.
_PANELS = (
    ("weekday_riders", "평일 이용객 (명/일)", "Weekday riders (per day)", 1.0, 0, True),
    ("att_min", "평균 통행시간 (분, 평일 낮)", "ATT, weekday off-peak (min)", 1.0, 1, False),
    ("coverage", "인구 커버리지 (%)", "Coverage (% of residents)", 100.0, 1, True),
    ("annual_cost_krw", "연간 운영비 (억 원)", "Annual cost (100 M KRW)", 1e-8, 1, True),
)
_COLOURS = ("#1b6ac9", "#d9480f", "#2b8a3e", "#862e9c", "#5f3dc4", "#c2255c")
_ML, _MT, _GAP_X, _GAP_Y = 64, 96, 84, 100  # left margin, top margin, gaps between panels (px)
_PW, _PH, _PAD = 320, 200, 16  # panel plot width and height, inner margin left and right
_W = _ML + 2 * _PW + _GAP_X + 24  # figure width


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _num(v: float) -> str:
    """A coordinate with one decimal and no negative zero (byte-stable)."""
    out = f"{v:.1f}"
    return "0.0" if out == "-0.0" else out


def _nice_ticks(lo: float, hi: float, from_zero: bool) -> list[float]:
    """Four or five round tick values (1, 2 or 5 times a power of ten) spanning lo..hi."""
    if from_zero:
        lo = min(lo, 0.0)
    if hi - lo < 1e-9:
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = (lo if from_zero else lo - pad), hi + pad
    raw = (hi - lo) / 4.0
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * mag >= raw)
    start = math.floor(lo / step + 1e-9) * step
    ticks = []
    t = start
    while t < hi + step - 1e-9:
        ticks.append(round(t, 10))
        t += step
        if len(ticks) > 12:
            break
    return ticks


def _tick_label(v: float, step: float) -> str:
    decimals = next((d for d in range(4) if abs(step * 10**d - round(step * 10**d)) < 1e-6), 3)
    return f"{v:,.{decimals}f}"


def budget_curve_svg(
    rows: Sequence[SweepRow],
    *,
    title: str = "",
    series: Sequence[str] | None = None,
) -> str:
    """Draw riders, ATT, coverage and annual cost against the fleet budget as an SVG document.

    Parameters
    ----------
    rows
        Sweep rows with a ``fleet_budget`` (rows without one are left out); a failed row is
        marked with a cross in its line's colour on the budget axis of every panel.
    title
        The scenario's title for the heading (escaped).
    series
        One label per row naming its other grid settings; rows with the same label make one
        line. None: one line.

    Raises
    ------
    ConfigError
        If no row has a fleet budget, or ``series`` does not match the rows.
    """
    labels = list(series) if series is not None else [""] * len(rows)
    if len(labels) != len(rows):
        msg = f"budget curve: {len(labels)} series labels for {len(rows)} rows"
        raise ConfigError(msg)
    pts = [(r, lab) for r, lab in zip(rows, labels, strict=True) if r.fleet_budget is not None]
    if not pts:
        msg = "budget curve: no row has a fleet budget; sweep budget.fleet (--set budget.fleet=...)"
        raise ConfigError(msg)
    names = sorted({lab for _, lab in pts})
    xs = sorted({int(r.fleet_budget) for r, _ in pts if r.fleet_budget is not None})
    x_lo, x_hi = xs[0], xs[-1]
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    legend_h = 20 * (len(names) if len(names) > 1 else 0)
    height = _MT + 2 * _PH + _GAP_Y + 50 + legend_h + (10 if legend_h else 0)
    heading = "차량 예산별 효과 · Budget curve" + (f": {title}" if title else "")
    out = [
        '<svg xmlns="http://www.w3.org/2000/svg" '
        f'width="{_W}" height="{height}" viewBox="0 0 {_W} {height}" role="img" '
        f'aria-label="{_esc(heading)}" font-family="sans-serif" font-size="11">',
        f"<title>{_esc(heading)}</title>",
        f'<rect x="0" y="0" width="{_W}" height="{height}" fill="#ffffff"/>',
        f'<text x="{_ML}" y="24" font-size="15" font-weight="bold">{_esc(heading)}</text>',
        f'<text x="{_ML}" y="42" fill="#555555">'
        + _esc("가로축: 차량 예산 (대, budget.fleet) · x: fleet budget (buses); "
               "× 운행 불가 · infeasible")
        + "</text>",
    ]  # fmt: skip
    failed = sorted(
        {(names.index(lab), int(r.fleet_budget)) for r, lab in pts if not r.ok and r.fleet_budget}
    )
    for i, (field, ko, en, scale, dec, zero) in enumerate(_PANELS):
        px = _ML + (i % 2) * (_PW + _GAP_X)
        py = _MT + (i // 2) * (_PH + _GAP_Y)
        vals = [
            float(getattr(r, field)) * scale
            for r, _ in pts
            if r.ok and getattr(r, field) is not None
        ]
        ticks = _nice_ticks(min(vals, default=0.0), max(vals, default=1.0), zero)
        y_lo, y_hi = ticks[0], ticks[-1]
        step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0

        def X(v: float, px: float = px) -> float:
            return px + _PAD + (v - x_lo) / (x_hi - x_lo) * (_PW - 2 * _PAD)

        def Y(v: float, py: float = py, y_lo: float = y_lo, y_hi: float = y_hi) -> float:
            return py + _PH - (v - y_lo) / (y_hi - y_lo) * _PH

        out.append(f'<g class="panel" data-field="{_esc(field)}">')
        out.append(f'<text x="{_num(px)}" y="{_num(py - 22)}" font-weight="bold">{_esc(ko)}</text>')
        out.append(f'<text x="{_num(px)}" y="{_num(py - 8)}" fill="#555555">{_esc(en)}</text>')
        for t in ticks:
            y = _num(Y(t))
            out.append(
                f'<line x1="{_num(px)}" y1="{y}" x2="{_num(px + _PW)}" y2="{y}" stroke="#e5e5e5"/>'
            )
            out.append(
                f'<text x="{_num(px - 6)}" y="{_num(Y(t) + 4)}" text-anchor="end">'
                f"{_esc(_tick_label(t, step))}</text>"
            )
        for x in xs:
            out.append(
                f'<text x="{_num(X(x))}" y="{_num(py + _PH + 16)}" text-anchor="middle">{x}</text>'
            )
        out.append(
            f'<text x="{_num(px + _PW / 2)}" y="{_num(py + _PH + 34)}" text-anchor="middle" '
            f'fill="#555555">{_esc("차량 예산 (대) · Fleet budget (buses)")}</text>'
        )
        out.append(
            f'<rect x="{_num(px)}" y="{_num(py)}" width="{_PW}" height="{_PH}" fill="none" '
            'stroke="#999999"/>'
        )
        for j, name in enumerate(names):
            colour = _COLOURS[j % len(_COLOURS)]
            line = sorted(
                (int(r.fleet_budget), float(getattr(r, field)) * scale)
                for r, lab in pts
                if lab == name and r.ok and getattr(r, field) is not None and r.fleet_budget
            )
            if len(line) > 1:
                coords = " ".join(f"{_num(X(a))},{_num(Y(b))}" for a, b in line)
                out.append(
                    f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>'
                )
            for a, b in line:
                value = f"{b:,.{dec}f}"
                out.append(
                    f'<circle cx="{_num(X(a))}" cy="{_num(Y(b))}" r="3.5" fill="{colour}">'
                    f"<title>{_esc(f'{name} ' if name else '')}{a}: {_esc(value)}</title></circle>"
                )
        for j, x in failed:  # a cross in the colour of the line whose budget is infeasible
            cx, cy = X(x), py + _PH - 6 * j
            out.append(
                f'<path d="M{_num(cx - 5)},{_num(cy - 5)} L{_num(cx + 5)},{_num(cy + 5)} '
                f'M{_num(cx - 5)},{_num(cy + 5)} L{_num(cx + 5)},{_num(cy - 5)}" '
                f'stroke="{_COLOURS[j % len(_COLOURS)]}" stroke-width="2"/>'
            )
        out.append("</g>")
    if len(names) > 1:
        ly = _MT + 2 * _PH + _GAP_Y + 54
        for j, name in enumerate(names):
            colour = _COLOURS[j % len(_COLOURS)]
            yj = ly + 20 * j
            out.append(
                f'<line x1="{_ML}" y1="{yj}" x2="{_ML + 24}" y2="{yj}" stroke="{colour}" '
                'stroke-width="2"/>'
            )
            out.append(f'<text x="{_ML + 30}" y="{yj + 4}">{_esc(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


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
