"""The report's budget curve: one row per fleet budget of the scenario, planned like a sweep."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from mapplan import toy_plan

from shuttle import report, sweep
from shuttle.config import Scenario
from shuttle.errors import DesignError
from shuttle.model import Plan
from shuttle.report_figures import SweepRow

HOSTILE = '<script>alert("x")</script>'


def _rows(fleets: tuple[int, ...]) -> list[SweepRow]:
    """Hand-made rows: the smallest budget infeasible (with a hostile reason), the rest planned."""
    out = []
    for i, f in enumerate(fleets):
        if i == 0:
            out.append(SweepRow(variant=f"v[{f}]", fleet_budget=f, error=f"too small {HOSTILE}"))
            continue
        out.append(
            SweepRow(
                variant=f"v[{f}]",
                fleet_budget=f,
                fleet_used=f - 1,
                routes=8,
                routes_kept=min(8, 2 + i),
                weekday_riders=1000.0 * i,
                att_min=40.0 - i,
                coverage=0.5 + 0.05 * i,
                annual_cost_krw=1_000_000_000 * i,
            )
        )
    return out


def test_nw3_sets_the_issue_fleets(scenario: Scenario) -> None:
    # issue 10: a sweep over fleet budgets of 10, 20, 30, 45 and 60 buses on nw3
    assert scenario.budget.curve_fleets == (10, 20, 30, 45, 60)


def test_report_holds_one_curve_row_per_fleet(scenario: Scenario, tmp_path: Path) -> None:
    plan = toy_plan(scenario)
    fleets = scenario.budget.curve_fleets
    rows = _rows(fleets)
    page, js = report.write_report([plan], tmp_path, curves={scenario.name: rows})
    data = json.loads(js.read_text(encoding="utf-8"))["plans"][0]["budget_curve"]
    assert [r["fleet_budget"] for r in data] == list(fleets)
    assert data[0]["error"].startswith("too small")
    assert data[2]["weekday_riders"] == 2000.0
    text = page.read_text(encoding="utf-8")
    section = re.search(r'<section class="budget-curve">.*?</section>', text, re.S)
    assert section is not None
    body = re.search(r'<table class="budget-curve">.*?<tbody>(.*?)</tbody>', section.group(0), re.S)
    assert body is not None
    cells = re.findall(r"<tr><td>([^<]*)</td>", body.group(1))
    assert cells == [f"{f:,}" for f in fleets]  # one row per fleet, first cell the budget
    assert "<svg" in section.group(0)
    assert 'data-field="att_min"' in section.group(0)
    # the infeasible budget is shown with its reason, escaped, in a list under the table (a
    # long reason in a table cell would make the table unreadable on a phone)
    assert HOSTILE not in text
    assert "&lt;script&gt;" not in body.group(1)
    why = re.search(r'</table><ul class="infeasible">(.*?)</ul>', section.group(0), re.S)
    assert why is not None
    items = re.findall(r"<li>(.*?)</li>", why.group(1))
    assert len(items) == 1
    assert items[0].endswith(
        f"{fleets[0]}: too small &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
    )
    # 30 buses (i = 2): min(8, 4) of 8 routes, 29 buses, 2,000 riders, ATT 40 - 2 = 38.0 min,
    # coverage 0.5 + 0.1 = 60.0 %, cost 2 x 10^9 KRW
    row30 = re.findall(r"<tr>(.*?)</tr>", body.group(1))[2]
    assert row30 == (
        "<td>30</td><td>4 / 8</td><td>29</td><td>2,000</td><td>38.0</td><td>60.0%</td>"
        "<td>2,000,000,000</td>"
    )
    # byte-stable
    page2, _ = report.write_report([plan], tmp_path / "b", curves={scenario.name: rows})
    assert page2.read_bytes() == page.read_bytes()


def test_report_without_curve_has_no_section(scenario: Scenario, tmp_path: Path) -> None:
    page, js = report.write_report([toy_plan(scenario)], tmp_path)
    assert 'class="budget-curve"' not in page.read_text(encoding="utf-8")
    assert json.loads(js.read_text(encoding="utf-8"))["plans"][0]["budget_curve"] == []


@pytest.mark.parametrize("workers", [1, 2])
def test_budget_curve_plans_each_fleet_like_a_sweep(scenario: Scenario, workers: int) -> None:
    plan: Plan = toy_plan(scenario)  # the scenario's own plan (budget.fleet = 30)
    asked: list[int] = []

    def make(s: Scenario) -> Plan:
        asked.append(s.budget.fleet)
        if s.budget.fleet < 20:
            msg = f"The budget of {s.budget.fleet} buses cannot run one route.\nsecond line"
            raise DesignError(msg)
        return dataclasses.replace(plan, scenario=s)

    rows = sweep.budget_curve(scenario, make, plan, workers=workers)
    assert [r.fleet_budget for r in rows] == [10, 20, 30, 45, 60]
    # the plan's own budget is not planned again; the others are, once each
    assert sorted(asked) == [10, 20, 45, 60]
    assert rows[0].error == "The budget of 10 buses cannot run one route."
    assert all(r.ok for r in rows[1:])
    # the labels of shuttle sweep --set budget.fleet=...
    assert rows[1].variant == f"{scenario.name}-v2[budget.fleet=20]"
    # the same figures as the sweep's row of that plan
    assert rows[2] == sweep._row_of(plan, rows[2].variant)
    assert sweep.budget_curve(scenario, make, plan, fleets=()) == ()


def test_an_infeasible_row_names_the_scenario_file_without_the_machine_path() -> None:
    """The report and the sweep table must read the same on every machine."""
    from shuttle.config import load_scenario
    from shuttle.errors import DesignError
    from shuttle.sweep import plan_row

    sc = load_scenario("nw3")
    assert sc.source_file
    assert "/" in sc.source_file

    def make(s):  # noqa: ANN001, ANN202
        raise DesignError(f"The budget of 10 buses in {s.source_file} cannot run the routes.")

    row = plan_row(sc, "v1", make)
    assert row.error == "The budget of 10 buses in nw3.toml cannot run the routes."
