"""Scenario sweeps with Dask: grid expansion, bad keys, error rows, the budget curve, and real runs.

The real runs share one small variant of nw3 (the greedy design of 8 routes, built once per run of
the sweep, and two fleet budgets: 10 buses, too few for the routes the anchors need, and 30), run
one after another, in worker processes and on a two-worker ``distributed.LocalCluster`` on
loopback: the three tables must be byte-identical.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from shuttle import cli, sweep
from shuttle.config import BudgetConfig, Scenario
from shuttle.errors import ConfigError, DesignError

SVG = "{http://www.w3.org/2000/svg}"


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
    assert sweep.parse_assignment("budget.fleet=10,20,30,45,60") == (
        "budget.fleet",
        [10, 20, 30, 45, 60],
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


def test_budget_fleet_can_be_swept(scenario: Scenario) -> None:
    """budget.fleet is an optional int: it can be set where the scenario has a budget or none."""
    vs = sweep.expand_grid(scenario, {"budget.fleet": [10, 20, 30, 45, 60]})
    assert [v.budget.fleet for v in vs] == [10, 20, 30, 45, 60]
    assert all(v.design == scenario.design for v in vs)
    unbudgeted = dataclasses.replace(scenario, budget=BudgetConfig())
    assert [v.budget.fleet for v in sweep.expand_grid(unbudgeted, {"budget.fleet": [12]})] == [12]
    (a,) = sweep.expand_grid(unbudgeted, {"budget.annual_krw": [5_000_000_000]})
    assert a.budget.annual_krw == 5e9
    assert isinstance(a.budget.annual_krw, float)
    assert sweep.grid_labels(vs[:2], {"budget.fleet": [10, 20]}) == [
        "nw3-v1[budget.fleet=10]",
        "nw3-v2[budget.fleet=20]",
    ]


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
        ("budget.fleet", 0, "at least 1 bus"),
        ("budget.fleet", 2.5, "does not match"),
        ("budget.fleet", "many", "does not match"),
    ],
)
def test_bad_grid_keys(scenario: Scenario, key: str, value: object, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        sweep.expand_grid(scenario, {key: [value]})


def test_unknown_scheduler(scenario: Scenario) -> None:
    with pytest.raises(ConfigError, match="scheduler 'gpu'"):
        sweep.run_sweep(scenario, (), scheduler="gpu")


# ------------------------------------------------------------ error rows and shared designs


def test_infeasible_variant_gives_an_error_row(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A DesignError of one variant becomes its row (first line of the text); others raise."""
    from shuttle import pipeline

    def boom(s: Scenario, *a: object, **k: object) -> None:
        raise DesignError(f"=budget of {s.budget.fleet} buses is too small\nsecond line")

    monkeypatch.setattr(pipeline, "build_network", lambda *a, **k: None)
    monkeypatch.setattr(pipeline, "make_plan", boom)
    (v,) = sweep.expand_grid(scenario, {"budget.fleet": [7]})
    row = sweep.run_variant(v, None, "lbl", design=object())
    assert row == sweep.SweepRow(
        variant="lbl", fleet_budget=7, error="=budget of 7 buses is too small"
    )
    assert not row.ok
    line = sweep.rows_to_csv([row]).splitlines()[1]
    cells = next(csv.reader([line]))
    assert cells[0] == "lbl"
    assert cells[1] == "7"
    assert cells[2:-1] == [""] * 16  # every figure empty
    assert cells[-1] == "'=budget of 7 buses is too small"  # neutralised
    # a failed design gives its text to every variant that shares it
    assert sweep.run_variant(v, None, "x", design="no design").error == "no design"

    def bug(*a: object, **k: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(pipeline, "make_plan", bug)
    with pytest.raises(KeyError):
        sweep.run_variant(v, None, "lbl", design=object())


def test_budget_variants_share_one_design(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Budgets do not change the design: 2 routes x 3 budgets make 2 design tasks, 6 rows."""
    from shuttle import pipeline

    designed: list[int] = []

    def fake_design(s: Scenario, cache: str | None) -> str:
        designed.append(s.design.routes)
        assert s.budget == BudgetConfig()
        return f"design of {s.design.routes}"

    def fake_run(s: Scenario, cache: str | None, label: str, design: str) -> sweep.SweepRow:
        assert design == f"design of {s.design.routes}"
        return sweep.SweepRow(variant=label, fleet_budget=s.budget.fleet, routes=s.design.routes)

    monkeypatch.setattr(pipeline, "build_network", lambda *a, **k: None)
    monkeypatch.setattr(sweep, "design_variant", fake_design)
    monkeypatch.setattr(sweep, "run_variant", fake_run)
    grid = {"design.routes": [6, 8], "budget.fleet": [10, 20, 30]}
    vs = sweep.expand_grid(scenario, grid)
    rows = sweep.run_sweep(scenario, vs, scheduler="sync", labels=sweep.grid_labels(vs, grid))
    assert sorted(designed) == [6, 8]
    assert [(r.routes, r.fleet_budget) for r in rows] == [
        (6, 10), (6, 20), (6, 30), (8, 10), (8, 20), (8, 30),
    ]  # fmt: skip
    assert rows[4].variant == "nw3-v5[design.routes=8,budget.fleet=20]"
    with pytest.raises(ConfigError, match="1 labels for 6 variants"):
        sweep.run_sweep(scenario, vs, scheduler="sync", labels=["x"])


# ------------------------------------------------------------------ spreadsheet formulas


def _row(variant: str, **kw: float) -> sweep.SweepRow:
    base = dict(
        fleet_budget=30, fleet_used=28, routes=8, routes_kept=6, stops=50, weekday_riders=1000.5,
        annual_riders=300000.0, att_min=40.0, coverage=0.5, annual_cost_krw=5_000_000_000,
        cost_per_rider_krw=16666.7, objective=-1.5, d0=50.0, d1=30.0, d2=10.0, dun=10.0,
        vehicle_hours=-2.0,
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
    text = sweep.rows_to_csv([_row(name), _row("ok", error=name)])
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 3
    assert rows[1][0] == "'" + name  # shown as the same text, after an apostrophe
    assert rows[1][1:3] == ["30", "28"]
    assert rows[2][-1] == "'" + name


def test_csv_keeps_numbers_and_plain_text() -> None:
    text = sweep.rows_to_csv([_row("nw3-v1[design.routes=4]", objective=-1.5)])
    header, line = text.splitlines()
    assert header.split(",")[:3] == ["variant", "fleet_budget", "fleet_used"]
    assert header.endswith(",error")
    row = next(csv.reader(io.StringIO(line)))
    assert row[0] == "nw3-v1[design.routes=4]"  # '=' inside a cell is harmless
    assert row[1:4] == ["30", "28", "8"]
    assert row[12] == "-1.5"  # a negative number stays a number
    assert row[-3:] == ["10.0", "-2.0", ""]
    assert [sweep.csv_cell(v) for v in (-3, -0.5, True, "a-b", "", None)] == [
        -3, -0.5, True, "a-b", "", "",
    ]  # fmt: skip


def test_written_sweep_file_is_neutralised(tmp_path: Path) -> None:
    p = sweep.write_sweep([_row("=1+1"), _row("ok")], tmp_path / "s.csv")
    lines = p.read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("'=1+1,")
    assert lines[2].startswith("ok,")


# ---------------------------------------------------------------------------- budget curve


def _curve_rows() -> list[sweep.SweepRow]:
    return [
        sweep.SweepRow("a", fleet_budget=10, error="too few"),
        _row("b", fleet_budget=20, weekday_riders=0.0, att_min=60.0, coverage=0.2,
             annual_cost_krw=1_000_000_000),
        _row("c", fleet_budget=30, weekday_riders=500.0, att_min=55.0, coverage=0.4,
             annual_cost_krw=2_000_000_000),
        _row("d", fleet_budget=60, weekday_riders=1000.0, att_min=50.0, coverage=0.6,
             annual_cost_krw=4_000_000_000),
    ]  # fmt: skip


def _panel(root: ET.Element, field: str) -> ET.Element:
    return next(g for g in root.iter(SVG + "g") if g.get("data-field") == field)


def test_budget_curve_points_where_hand_placed() -> None:
    """Points by hand: riders 0..1000 get ticks 0, 250, .., 1000 over the panel's 200 px; budgets
    10..60 span the 320 px panel less 16 px each side (x = 64 + 16 + (b - 10) / 50 * 288)."""
    svg = sweep.budget_curve_svg(_curve_rows(), title="nw3")
    root = ET.fromstring(svg)
    riders = _panel(root, "weekday_riders")
    pts = [(float(c.get("cx")), float(c.get("cy"))) for c in riders.iter(SVG + "circle")]
    top, height = 96.0, 200.0
    assert pts == [
        (pytest.approx(64 + 16 + 10 / 50 * 288), pytest.approx(top + height)),
        (pytest.approx(64 + 16 + 20 / 50 * 288), pytest.approx(top + height / 2)),
        (pytest.approx(64 + 16 + 288), pytest.approx(top)),
    ]
    ticks = [t.text for t in riders.iter(SVG + "text") if t.get("text-anchor") == "end"]
    assert ticks == ["0", "250", "500", "750", "1,000"]
    # coverage in percent, ATT not from zero (45..60 holds 50..60 with round ticks)
    cov = [c.find(SVG + "title").text for c in _panel(root, "coverage").iter(SVG + "circle")]
    assert cov == ["20: 20.0", "30: 40.0", "60: 60.0"]
    att_ticks = [
        t.text for t in _panel(root, "att_min").iter(SVG + "text") if t.get("text-anchor") == "end"
    ]
    assert att_ticks[0] != "0"
    cost = [
        c.find(SVG + "title").text for c in _panel(root, "annual_cost_krw").iter(SVG + "circle")
    ]
    assert cost == ["20: 10.0", "30: 20.0", "60: 40.0"]  # 100 M KRW
    # the infeasible budget: one cross per panel, no point
    assert len(list(root.iter(SVG + "path"))) == 4
    assert "평일 이용객" in svg
    assert "Weekday riders" in svg


def test_budget_curve_escapes_text_and_is_byte_stable(tmp_path: Path) -> None:
    rows = _curve_rows()
    title = '<script>alert("x")</script> & co'
    series = ["design.routes=<8>"] * 2 + ["design.routes=6&"] * 2
    a = sweep.budget_curve_svg(rows, title=title, series=series)
    assert a == sweep.budget_curve_svg(list(rows), title=title, series=list(series))
    assert "<script>" not in a
    root = ET.fromstring(a)  # well-formed
    assert title in root.find(SVG + "title").text
    texts = {t.text for t in root.iter(SVG + "text")}
    assert {"design.routes=<8>", "design.routes=6&"} <= texts  # the legend, as text
    # the infeasible budget belongs to the second line (legend order: "6&" before "<8>")
    line2 = [ln.get("stroke") for ln in root.iter(SVG + "line") if ln.get("stroke-width")][1]
    assert {p.get("stroke") for p in root.iter(SVG + "path")} == {line2}
    svg_file = sweep.write_plot(a, tmp_path / "c.svg")
    assert svg_file.read_bytes().startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<svg ')
    page = sweep.write_plot(a, tmp_path / "c.html", title=title).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>&lt;script&gt;" in page
    assert a in page
    with pytest.raises(ConfigError, match="c.png"):
        sweep.write_plot(a, tmp_path / "c.png")
    with pytest.raises(ConfigError, match="no row has a fleet budget"):
        sweep.budget_curve_svg([_row("x", fleet_budget=None)])
    with pytest.raises(ConfigError, match="2 series labels for 4 rows"):
        sweep.budget_curve_svg(rows, series=["a", "b"])


# ------------------------------------------------------------------------------------- CLI


def test_cli_exit_code_counts_infeasible_variants(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    seen: dict[str, object] = {}

    def fake_sweep(base: Scenario, variants: object, **kw: object) -> tuple[sweep.SweepRow, ...]:
        seen.update(kw)
        return (
            tuple(_curve_rows()[:1])
            + (sweep.SweepRow("e", fleet_budget=20, error="=x"),)
            + (_row("f", fleet_budget=30),)
        )

    monkeypatch.setattr(sweep, "run_sweep", fake_sweep)
    runner = CliRunner()
    out, plot = tmp_path / "s.csv", tmp_path / "curve.svg"
    args = ["--data-dir", str(data_dir), "sweep", "--set", "budget.fleet=10,20,30"]
    res = runner.invoke(cli.main, [*args, "--out", str(out), "--plot", str(plot), "--processes"])
    assert res.exit_code == 2, res.output
    assert seen["scheduler"] == "processes"
    assert seen["labels"] == [f"nw3-v{i}[budget.fleet={b}]" for i, b in ((1, 10), (2, 20), (3, 30))]
    assert out.read_text(encoding="utf-8").splitlines()[2].endswith(",'=x")
    assert plot.read_bytes().startswith(b"<?xml")
    res = runner.invoke(cli.main, [*args, "--out", str(out)])
    assert res.exit_code == 2
    assert seen["scheduler"] == "threads"
    for extra, needle in [
        (["--plot", str(tmp_path / "c.png")], "ending in .svg or .html"),
        (["--processes", "--scheduler", "tcp://127.0.0.1:1"], "choose one"),
    ]:
        res = runner.invoke(cli.main, [*args, *extra])
        assert res.exit_code == 1
        assert needle in res.output
    res = runner.invoke(
        cli.main,
        ["--data-dir", str(data_dir), "sweep", "--set", "design.routes=6", "--plot", "x.svg"],
    )
    assert res.exit_code == 1
    assert "needs --set budget.fleet" in res.output


# --------------------------------------------------- real runs: one, processes, cluster


@pytest.fixture(scope="module")
def small(scenario: Scenario, road_graph, cache_dir: Path):  # noqa: ANN001, ANN201
    """The greedy 8-route design of nw3 under budgets of 10 and 30 buses, run one after another."""
    base = dataclasses.replace(
        scenario, design=dataclasses.replace(scenario.design, method="greedy", routes=8)
    )
    grid = {"budget.fleet": [10, 30]}
    variants = sweep.expand_grid(base, grid)
    labels = sweep.grid_labels(variants, grid)
    rows = sweep.run_sweep(base, variants, cache_dir=cache_dir, scheduler="sync", labels=labels)
    return base, variants, labels, rows


def test_sweep_rows_of_a_real_budget_sweep(small) -> None:  # noqa: ANN001
    base, _, _, (low, ok) = small
    assert low.variant == "nw3-v1[budget.fleet=10]"
    assert not low.ok
    assert "10 buses" in low.error
    assert low.fleet_budget == 10
    assert low.att_min is None
    assert ok.ok, ok.error
    assert ok.fleet_budget == 30
    assert 0 < ok.fleet_used <= 30  # the budget holds
    assert 1 <= ok.routes_kept <= ok.routes <= 8
    assert 0 < ok.coverage < 1
    assert ok.d0 + ok.d1 + ok.d2 + ok.dun == pytest.approx(100.0, abs=0.01)
    assert ok.weekday_riders > 0
    # 2027 from Jan 4: at least 240 weekdays; weekends carry fewer trips (factors 0.8, 0.65)
    assert 240 * ok.weekday_riders <= ok.annual_riders <= 365 * ok.weekday_riders
    assert ok.cost_per_rider_krw == pytest.approx(ok.annual_cost_krw / ok.annual_riders, abs=0.1)
    # by hand from nw3.toml [cost]: holding 49,477,940 KRW a bus-year over 362 of 365 days, and
    # 27,177 KRW a vehicle-hour on at least 240 weekdays
    holding = ok.fleet_used * 49_477_940 * 362 / 365
    assert ok.annual_cost_krw >= holding + 240 * ok.vehicle_hours * 27_177 - 1
    assert ok.att_min > 0
    assert math.isfinite(ok.objective)


def test_sweep_in_processes_equals_one_after_another(small, cache_dir: Path) -> None:  # noqa: ANN001
    """Worker processes (spawned, each with its own hash seed) give the same table."""
    base, variants, labels, rows = small
    procs = sweep.run_sweep(
        base, variants, cache_dir=cache_dir, scheduler="processes", num_workers=2, labels=labels
    )
    assert sweep.rows_to_csv(procs) == sweep.rows_to_csv(rows)


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_sweep_on_a_cluster_equals_one_after_another(small, cache_dir: Path) -> None:  # noqa: ANN001
    """A two-worker LocalCluster on loopback (worker processes) gives a byte-identical table."""
    import distributed  # test extra
    base, variants, labels, rows = small
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert len(client.scheduler_info()["workers"]) == 2
        remote = sweep.run_sweep(base, variants, cache_dir=cache_dir, client=client, labels=labels)
    assert sweep.rows_to_csv(remote) == sweep.rows_to_csv(rows)
