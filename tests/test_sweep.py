"""Scenario sweeps with Dask: grid expansion, bad keys, and a two-variant run on the real graph."""

from __future__ import annotations

import dataclasses
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
