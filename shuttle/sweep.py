"""Scenario sweeps: many variants of a scenario, designed and scheduled in parallel with Dask.

A sweep expands a grid of overrides (``{"design.routes": [4, 6, 8]}``) into scenario variants and
runs network -> design -> timetable for each as one Dask task, returning one row of figures per
variant. The road graph is built once per distinct network setting before the tasks start and
then loaded from the GraphML cache by every task, so workers of a cluster share it through a
common ``cache_dir``. Without a ``client`` the local threaded scheduler runs the tasks; with a
``dask.distributed.Client`` they run on its cluster.
"""

from __future__ import annotations

import csv
import dataclasses
import io as _io
import itertools
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import io
from .config import Scenario
from .errors import ConfigError

__all__ = [
    "FORMULA_STARTS",
    "SweepRow",
    "csv_cell",
    "expand_grid",
    "parse_assignment",
    "rows_to_csv",
    "run_sweep",
    "run_variant",
    "write_sweep",
]

log = logging.getLogger(__name__)

SECTIONS = ("network", "stops", "demand", "design", "service")


@dataclass(frozen=True, slots=True)
class SweepRow:
    """The figures of one scenario variant."""

    variant: str  # e.g. "nw3[design.routes=4,design.operator_weight=0.5]"
    routes: int
    stops: int
    objective: float
    att_min: float
    d0: float
    d1: float
    d2: float
    dun: float
    coverage: float
    vehicle_hours: float  # weekday, from the timetable's blocks
    fleet: int  # peak vehicles over day types


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
    if isinstance(current, float) and type(value) is int:
        value = float(value)
    if not isinstance(current, (bool, int, float, str)) or current is None:
        msg = f"sweep key {key!r}: only numbers, true/false and words can be swept"
        raise ConfigError(msg)
    if type(value) is not type(current):
        msg = f"sweep key {key!r}: value {value!r} does not match the type of {current!r}"
        raise ConfigError(msg)
    if isinstance(value, float) and not math.isfinite(value):
        msg = f"sweep key {key!r}: value {value!r} is not a finite number"
        raise ConfigError(msg)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        msg = f"sweep key {key!r}: value {value!r} must not be negative"
        raise ConfigError(msg)
    return dataclasses.replace(scenario, **{section: dataclasses.replace(sub, **{field: value})})


def expand_grid(scenario: Scenario, grid: Mapping[str, Sequence[Any]]) -> tuple[Scenario, ...]:
    """Return one scenario per combination of the grid's values (in key order, then value order).

    Each variant's ``name`` gets a suffix so its outputs do not overwrite the others'.

    Raises
    ------
    ConfigError
        If a key names no scenario field or a value has the wrong type.
    """
    keys = list(grid)
    out = []
    for i, combo in enumerate(itertools.product(*(grid[k] for k in keys)), start=1):
        s = scenario
        for k, v in zip(keys, combo, strict=True):
            s = _override(s, k, v)
        out.append(dataclasses.replace(s, name=f"{scenario.name}-v{i}"))
    return tuple(out)


def _label(base: Scenario, s: Scenario) -> str:
    diffs = []
    for section in SECTIONS:
        a, b = getattr(base, section), getattr(s, section)
        for f in dataclasses.fields(a):
            if getattr(a, f.name) != getattr(b, f.name):
                diffs.append(f"{section}.{f.name}={getattr(b, f.name)}")
    return f"{s.name}[{','.join(diffs)}]"


def run_variant(scenario: Scenario, cache_dir: str | None, label: str) -> SweepRow:
    """Design and schedule one variant; return its row (runs inside a Dask task)."""
    from . import pipeline

    plan = pipeline.make_plan(scenario, cache_dir=cache_dir)
    k = plan.kpis
    wk = [f for f in plan.timetable.fleet if f.service_id == "weekday"]
    per_day: dict[str, int] = {}
    for f in plan.timetable.fleet:
        per_day[f.service_id] = per_day.get(f.service_id, 0) + f.vehicles
    return SweepRow(
        variant=label,
        routes=len(plan.routes),
        stops=len(plan.stops),
        objective=round(k.objective, 6),
        att_min=round(k.att_min, 4),
        d0=round(k.d0, 4),
        d1=round(k.d1, 4),
        d2=round(k.d2, 4),
        dun=round(k.dun, 4),
        coverage=round(k.coverage, 6),
        vehicle_hours=round(sum(f.vehicle_hours for f in wk), 3),
        fleet=max(per_day.values(), default=0),
    )


def run_sweep(
    base: Scenario,
    variants: Sequence[Scenario],
    *,
    cache_dir: str | Path | None = None,
    client: Any = None,
    scheduler: str = "threads",
) -> tuple[SweepRow, ...]:
    """Run every variant as a Dask task and return their rows in variant order.

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
        processes, each with its own hash seed: the rows are the same) or ``sync``.

    Raises
    ------
    ConfigError
        If ``scheduler`` is not one of those.
    """
    if scheduler not in ("threads", "processes", "sync"):
        msg = f"sweep scheduler {scheduler!r}: expected threads, processes or sync"
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
    tasks = [dask.delayed(run_variant, pure=True)(s, cache, _label(base, s)) for s in variants]
    log.info("sweep: %d variants", len(tasks))
    if client is not None:
        results = client.gather(client.compute(tasks))
    else:
        results = dask.compute(*tasks, scheduler=scheduler)
    return tuple(results)


#: First characters that make a spreadsheet read a cell as a formula (or hide one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """Return a CSV cell that a spreadsheet shows as text, never runs as a formula.

    Text beginning with one of :data:`FORMULA_STARTS` gets a leading apostrophe (OWASP CSV
    injection advice); numbers and booleans are returned unchanged, so they stay numbers.
    """
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
