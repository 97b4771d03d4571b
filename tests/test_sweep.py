"""Scenario sweeps with Dask: grid expansion, bad keys, and a two-variant run on the real graph."""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

import pytest

from shuttle import sweep
from shuttle.config import Scenario
from shuttle.errors import ConfigError


def test_parse_assignment() -> None:
    assert sweep.parse_assignment("design.routes=4,6") == ("design.routes", [4, 6])
    assert sweep.parse_assignment("design.operator_weight=0.1, 0.5") == (
        "design.operator_weight",
        [0.1, 0.5],
    )
    assert sweep.parse_assignment("demand.inter_district_only=false") == (
        "demand.inter_district_only",
        [False],
    )
    with pytest.raises(ConfigError, match="section.key=value"):
        sweep.parse_assignment("design.routes")


def test_expand_grid_is_the_product(scenario: Scenario) -> None:
    vs = sweep.expand_grid(scenario, {"design.routes": [4, 6], "service.layover_min": [6, 10]})
    assert len(vs) == 4
    assert [(v.design.routes, v.service.layover_min) for v in vs] == [
        (4, 6.0),
        (4, 10.0),
        (6, 6.0),
        (6, 10.0),
    ]
    assert len({v.name for v in vs}) == 4
    assert all(isinstance(v.service.layover_min, float) for v in vs)


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("design.nope", 1, "has no field 'nope'"),
        ("weather.rain", 1, "section"),
        ("design.routes", "six", "does not match"),
        ("design.routes", 4.5, "does not match"),
        ("service.start_date", "2027-02-01", "can be swept"),
        ("network.classes", "primary", "can be swept"),
        ("stops.min_spacing_m", -5, "negative"),
        ("design.max_cycle_min", float("nan"), "finite"),
    ],
)
def test_bad_grid_keys(scenario: Scenario, key: str, value: object, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        sweep.expand_grid(scenario, {key: [value]})


def test_sweep_runs_variants_with_dask(scenario: Scenario, road_graph, cache_dir: Path) -> None:  # noqa: ANN001
    """Two variants (5 and 6 routes) as Dask tasks: one row each, figures of their own plans."""
    base = dataclasses.replace(
        scenario, design=dataclasses.replace(scenario.design, iterations=300)
    )
    variants = sweep.expand_grid(base, {"design.routes": [5, 6]})
    rows = sweep.run_sweep(base, variants, cache_dir=cache_dir)
    assert [r.routes for r in rows] == [5, 6]
    assert rows[0].variant.startswith("nw3-v1[design.routes=5")
    for r in rows:
        assert 0 < r.coverage < 1
        assert r.d0 + r.d1 + r.d2 + r.dun == pytest.approx(100.0, abs=0.01)
        assert r.fleet > 0
        assert r.vehicle_hours > 0
    text = sweep.rows_to_csv(rows)
    assert text.splitlines()[0].startswith("variant,routes,stops")
    assert len(text.splitlines()) == 3


# ------------------------------------------------------------------ spreadsheet formulas


def _row(variant: str, **kw: float) -> sweep.SweepRow:
    base = dict(
        routes=4, stops=50, objective=-1.5, att_min=40.0, d0=50.0, d1=30.0, d2=10.0, dun=10.0,
        coverage=0.5, vehicle_hours=-2.0, fleet=10,
    )  # fmt: skip
    base.update(kw)
    return sweep.SweepRow(variant=variant, **base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name",
    [
        '=HYPERLINK("http://x","y")',
        "+1+1",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_csv_neutralises_formulas_in_text(name: str) -> None:
    text = sweep.rows_to_csv([_row(name)])
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 2
    assert rows[1][0] == "'" + name  # shown as the same text, after an apostrophe
    assert rows[1][1:3] == ["4", "50"]


def test_csv_keeps_numbers_and_plain_text() -> None:
    text = sweep.rows_to_csv([_row("nw3-v1[design.routes=4]", objective=-1.5)])
    row = next(csv.reader(io.StringIO(text.splitlines()[1])))
    assert row[0] == "nw3-v1[design.routes=4]"  # '=' inside a cell is harmless
    assert row[1:4] == ["4", "50", "-1.5"]  # a negative number stays a number
    assert row[-2:] == ["-2.0", "10"]
    assert [sweep.csv_cell(v) for v in (-3, -0.5, True, "a-b", "")] == [-3, -0.5, True, "a-b", ""]


def test_written_sweep_file_is_neutralised(tmp_path: Path) -> None:
    p = sweep.write_sweep([_row("=1+1"), _row("ok")], tmp_path / "s.csv")
    lines = p.read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("'=1+1,")
    assert lines[2].startswith("ok,")


# ---------------------------------------------------------------- processes == threads


def test_sweep_in_processes_equals_threads(scenario: Scenario, road_graph, cache_dir: Path) -> None:  # noqa: ANN001
    """Worker processes (spawned, each with its own hash seed) give the threads' table."""
    base = dataclasses.replace(scenario, design=dataclasses.replace(scenario.design, iterations=60))
    variants = sweep.expand_grid(base, {"design.routes": [3, 4]})
    threads = sweep.run_sweep(base, variants, cache_dir=cache_dir)
    procs = sweep.run_sweep(base, variants, cache_dir=cache_dir, scheduler="processes")
    assert [r.routes for r in threads] == [3, 4]
    assert sweep.rows_to_csv(procs) == sweep.rows_to_csv(threads)


def test_unknown_scheduler(scenario: Scenario) -> None:
    with pytest.raises(ConfigError, match="scheduler 'gpu'"):
        sweep.run_sweep(scenario, (), scheduler="gpu")
