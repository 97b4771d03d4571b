"""The officers' report: its figures equal the plan's, files are byte-stable and escaped."""

from __future__ import annotations

import dataclasses
import html
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from mapplan import XSS_IMG, XSS_SCRIPT, toy_plan

from shuttle import report
from shuttle.config import DAY_TYPES, Scenario
from shuttle.errors import ExportError
from shuttle.model import Plan


@pytest.fixture(scope="module")
def plan(scenario: Scenario) -> Plan:
    return toy_plan(scenario, hostile=True)


@pytest.fixture(scope="module")
def plain(scenario: Scenario) -> Plan:
    return toy_plan(scenario)


def test_kpis_equal_the_plan(plan: Plan) -> None:
    d = report.report_data(plan)
    k = plan.kpis
    for name in (
        "method",
        "objective",
        "att_min",
        "d0",
        "d1",
        "d2",
        "dun",
        "vehicle_hours",
        "coverage",
    ):
        assert d["kpis"][name] == getattr(k, name), name
    assert d["kpis"]["stops"] == len(plan.stops)
    assert d["kpis"]["routes"] == len(plan.routes)
    by_id = {r["route_id"]: r for r in d["routes"]}
    assert sorted(by_id) == sorted(r.route_id for r in plan.routes)
    for rk in k.routes:
        r = by_id[rk.route_id]
        assert (r["length_m"], r["one_way_s"], r["cycle_s"], r["stops"]) == (
            rk.length_m,
            rk.one_way_s,
            rk.cycle_s,
            rk.stops,
        )
    cov = [(c["code"], c["covered"], c["population"]) for c in d["coverage_by_district"]]
    assert cov == list(k.coverage_by_district)
    for c in d["coverage_by_district"]:
        assert c["share"] == c["covered"] / c["population"]


def test_fleet_equals_the_timetable(plan: Plan) -> None:
    from shuttle import timetable

    d = report.report_data(plan)
    rows = {(f["route_id"], f["service_id"]): f for f in d["fleet"]}
    assert len(rows) == len(plan.timetable.fleet)
    for f in plan.timetable.fleet:
        r = rows[(f.route_id, f.service_id)]
        assert (r["vehicles"], r["trips"], r["vehicle_hours"], r["vehicle_km"]) == (
            f.vehicles,
            f.trips,
            f.vehicle_hours,
            f.vehicle_km,
        )
        assert r["headways_min"] == dict(f.headways_min)
    totals = {t.service_id: t for t in timetable.fleet_summary(plan.timetable)}
    for t in d["fleet_total"]:
        ref = totals[t["service_id"]]
        assert (t["vehicles"], t["trips"]) == (ref.vehicles, ref.trips)
        assert t["vehicle_hours"] == pytest.approx(ref.vehicle_hours, abs=1e-9)
        assert t["vehicle_km"] == pytest.approx(ref.vehicle_km, abs=1e-9)
    assert d["peak_fleet"] == timetable.peak_fleet(plan.timetable)


def test_departures_per_hour_count_every_trip(plan: Plan) -> None:
    dph = report.report_data(plan)["departures_per_hour"]
    trips = Counter((t.service_id, t.route_id) for t in plan.timetable.trips)
    for day, routes in dph["by_day"].items():
        for rid, counts in routes.items():
            assert len(counts) == len(dph["hours"])
            assert sum(counts) == trips[(day, rid)]
    hour0 = Counter(
        t.departure_s[0] // 3600
        for t in plan.timetable.trips
        if (t.service_id, t.route_id) == ("weekday", "R1")
    )
    counts = dph["by_day"]["weekday"]["R1"]
    assert {h: n for h, n in zip(dph["hours"], counts, strict=True) if n} == dict(hour0)


def test_json_file_is_the_report_data(plan: Plan, tmp_path: Path) -> None:
    html_path, json_path = report.write_report([plan], tmp_path)
    assert html_path.name == f"{plan.scenario.name}.report.html"
    assert json_path.name == f"{plan.scenario.name}.report.json"
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    assert doc["format"] == report.REPORT_FORMAT
    assert doc["plans"] == [json.loads(json.dumps(report.report_data(plan)))]


def test_files_are_byte_identical(plan: Plan, plain: Plan, tmp_path: Path) -> None:
    a = report.write_report([plain, plan], tmp_path / "a", basename="cmp")
    b = report.write_report([plain, plan], tmp_path / "b", basename="cmp")
    for x, y in zip(a, b, strict=True):
        assert x.read_bytes() == y.read_bytes()


def test_html_shows_figures_escaped_and_without_scripts(plan: Plan, tmp_path: Path) -> None:
    html_path, _ = report.write_report([plan], tmp_path)
    text = html_path.read_text(encoding="utf-8")
    assert "<script" not in text
    assert not re.search(r'(src|href)="https?:', text)  # self-contained: nothing loaded
    for raw in (XSS_IMG, "<i>4</i>", "</script><script>"):
        assert raw not in text
    assert "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;" in text
    assert XSS_SCRIPT.replace("<", "&lt;").replace(">", "&gt;").split("`")[0] in text
    d = report.report_data(plan)
    # the weekday total of vehicle-hours and the peak fleet appear as figures
    wk = next(t for t in d["fleet_total"] if t["service_id"] == "weekday")
    assert f"{wk['vehicle_hours']:,.1f}" in text
    assert f"<b>{d['peak_fleet']:,}</b>" in text
    # one chart per day type, one bar segment per route and hour with departures
    assert text.count("<svg") == len(DAY_TYPES)
    segments = sum(
        1
        for day in d["departures_per_hour"]["by_day"].values()
        for counts in day.values()
        for n in counts
        if n
    )
    assert text.count("<rect") == segments
    assert 'id="comparison"' not in text


def test_comparison_of_two_plans(plan: Plan, plain: Plan, tmp_path: Path) -> None:
    html_path, json_path = report.write_report([plain, plan], tmp_path)
    assert html_path.name == f"compare-{plain.scenario.name}+{plan.scenario.name}.report.html"
    text = html_path.read_text(encoding="utf-8")
    table = re.search(r'<section id="comparison">(.*?)</section>', text, re.S)
    assert table
    assert table.group(1).count("<tr>") == 1 + len(report._kpi_rows(report.report_data(plan)))
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    assert [p["scenario"]["name"] for p in doc["plans"]] == [
        plain.scenario.name,
        plan.scenario.name,
    ]
    # the route count differs between the two (3 vs 4) and shows in the comparison row
    assert re.search(r"Routes</span></td><td>3</td><td>4</td>", table.group(1))


def test_bad_input_is_an_export_error(plan: Plan, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="at least one plan"):
        report.write_report([], tmp_path)
    with pytest.raises(ExportError, match="share the scenario name"):
        report.write_report([plan, plan], tmp_path)
    with pytest.raises(ExportError, match="must use only"):
        report.write_report([plan], tmp_path, basename="../x")
    bad = dataclasses.replace(plan.routes[0], color="red")
    with pytest.raises(ExportError, match="six hex digits"):
        report.write_report([dataclasses.replace(plan, routes=(bad, *plan.routes[1:]))], tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing written, not even the JSON half


def test_one_fleet_figure_with_its_derivation() -> None:
    """The report states the timetable's fleet (27, the busiest day type) and derives it from
    the service plan's busiest-period figure (24 each day) plus pull-outs and period changes:
    27 = 24 + 3, 26 = 24 + 2, 25 = 24 + 1. No second fleet figure stands on its own."""
    from shuttle import report_figures

    sp = {
        "fleet_budget": 30,
        "fleet_planned": [{"day": d, "buses": 24} for d in ("weekday", "saturday", "sunday")],
    }
    out = report_figures.fleet_html(sp, {"weekday": 27, "saturday": 26, "sunday": 25})
    text = html.unescape(re.sub(r"<[^>]+>", "", out))
    assert "Fleet budget (buses): 30" in text
    assert '<span class="en">buses needed</span>: <b>27</b>' in out
    rows = re.findall(r"<tr>(.*?)</tr>", out.split("<tbody>")[1])
    cells = [
        [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td>(.*?)</td>", r)]
        for r in rows
    ]
    assert cells == [
        ["평일 Weekday", "27", "24", "3"],
        ["토요일 Saturday", "26", "24", "2"],
        ["일요일·공휴일 Sunday & holidays", "25", "24", "1"],
    ]
    assert "buses planned" not in text
    assert out.index("필요 차량") < out.index("buses needed")  # Korean first


def test_fleet_table_numbers_routes_as_the_route_table(plain: Plan, tmp_path: Path) -> None:
    """The fleet table shows the numbers riders see (1, 2, 3), as the route table does, not the
    feed's ids (R1, R2, R3)."""
    html_path, _ = report.write_report([plain], tmp_path)
    text = html_path.read_text(encoding="utf-8")
    table = re.search(r'<table class="fleet">.*?<tbody>(.*?)</tbody>', text, re.S)
    assert table
    first = re.findall(r"<tr><td>(.*?)</td>", table.group(1))
    routes = {re.sub(r"<[^>]+>", "", c) for c in first if "합계" not in c}
    assert routes == {"1", "2", "3"}


def test_report_is_readable_on_a_phone(plan: Plan, tmp_path: Path) -> None:
    """Wide tables scroll inside their box and charts shrink to the screen, so a 390 px phone
    never scrolls the whole page sideways (checked in Chromium by hand; here: the rules)."""
    text = report.write_report([plan], tmp_path)[0].read_text(encoding="utf-8")
    css = re.search(r"<style>(.*?)</style>", text, re.S)
    assert css
    rules = re.sub(r"\s+", " ", css.group(1))
    table = re.search(r"(?<![\w.-])table \{([^}]*)\}", rules)
    assert table
    assert "overflow-x: auto" in table.group(1)
    assert "max-width: 100%" in table.group(1)
    assert re.search(r"svg\.chart[^{]*\{[^}]*max-width: 100%", rules)
    # a chart that shrinks must scale, not crop: every chart carries a viewBox
    for svg in re.findall(r'<svg class="chart"[^>]*>', text):
        assert "viewBox=" in svg


def test_default_plan_report_names_routes_one_way(nw3_plan: Plan, tmp_path: Path) -> None:
    """In the default plan's report a route id is either one of the plan's routes or labelled as
    the design's ("design route R7 증산동–신사1동 (...)"), the service plan's headways are the
    timetable's, and the fleet is one figure (the timetable's) derived from the service plan's."""
    d = report.report_data(nw3_plan)
    sp = d["figures"]["service_plan"]
    plan_ids = {r["route_id"] for r in d["routes"]}
    assert set(sp["kept"]) == plan_ids
    for x in sp["dropped"]:
        assert re.fullmatch(r"design route R\d+ \S.* \(\S.*\)", x["route_id"]), x
    for line in [*sp["decisions"], *(x["route_id"] for x in sp["dropped"])]:
        for m in re.finditer(r"\bR\d+\b", line):
            labelled = line[: m.start()].endswith("design route ")
            assert labelled or m.group(0) in plan_ids, line
    fleet = {(f["route_id"], f["service_id"]): f["headways_min"] for f in d["fleet"]}
    for h in sp["headways"]:
        assert fleet[(h["route_id"], h["day"])][h["period"]] == h["minutes"], h
    text = report.write_report([nw3_plan], tmp_path)[0].read_text(encoding="utf-8")
    assert f"buses needed</span>: <b>{d['peak_fleet']}</b>" in text
    tt = {t["service_id"]: t["vehicles"] for t in d["fleet_total"]}
    derive = re.search(r'<table class="fleet-derive">.*?<tbody>(.*?)</tbody>', text, re.S)
    assert derive
    rows = re.findall(r"<tr>(.*?)</tr>", derive.group(1))
    assert len(rows) == len(sp["fleet_planned"])
    for x, row in zip(sp["fleet_planned"], rows, strict=True):
        nums = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td>(.*?)</td>", row)][1:]
        diff = tt[x["day"]] - x["buses"]
        assert diff >= 0  # pull-outs and period changes only add buses
        assert nums == [str(tt[x["day"]]), str(x["buses"]), str(diff)]
    assert "buses planned" not in text


def test_feed_map_and_report_name_the_service_alike(plain: Plan, tmp_path: Path) -> None:
    """The feed's agency, the map's title and the report's plan heading all give the scenario's
    title, Korean and English (nw3: 서북권 3개구 공동 셔틀, Northwest Seoul Joint Shuttle)."""
    import csv
    import io
    import zipfile

    from shuttle import gtfs, maps

    ko, en = "서북권 3개구 공동 셔틀", "Northwest Seoul Joint Shuttle"
    with zipfile.ZipFile(gtfs.write_feed(plain, tmp_path / "feed.zip")) as zf:

        def rows(name: str) -> list[dict[str, str]]:
            return list(csv.DictReader(io.StringIO(zf.read(name).decode("utf-8"))))

        assert [a["agency_name"] for a in rows("agency.txt")] == [ko]
        assert [
            t["translation"]
            for t in rows("translations.txt")
            if (t["table_name"], t["field_name"]) == ("agency", "agency_name")
        ] == [en]
    page = maps.render_html(plain)
    assert f"<title>{ko} | {en}</title>" in page
    text = report.write_report([plain], tmp_path)[0].read_text(encoding="utf-8")
    assert f'<h2>{ko} <span class="en">{en}</span>' in text


def test_default_plan_overloads_are_the_load_tables(nw3_plan: Plan) -> None:
    """The default plan's "loads the budget cannot carry" table and its period loads tables
    come from the same passenger model (the plan's routes and stops only): a route's busiest
    load in a period is the same figure in both, the larger of its two directions."""
    d = report.report_data(nw3_plan)
    sp = d["figures"]["service_plan"]
    busiest: dict[tuple[str, str, str], float] = {}
    target: dict[tuple[str, str, str], float] = {}  # the planner's capacity: full x load factor
    lf = nw3_plan.scenario.budget.target_load_factor
    for x in d["figures"]["loads"]:
        key = (x["route_id"], x["day"], x["period"])
        busiest[key] = max(busiest.get(key, 0.0), x["max_load_per_hour"])
        target[key] = x["capacity_per_hour"] * lf
    assert sp["overloaded"]  # nw3's budget leaves loads it cannot carry: the check has rows
    over = {(o["route_id"], o["day"], o["period"]): o for o in sp["overloaded"]}
    for key, o in over.items():
        assert o["load_per_hour"] == pytest.approx(busiest[key], rel=1e-6), key
        assert o["capacity_per_hour"] == pytest.approx(target[key], rel=1e-9), key
    # and every load over the planner's capacity in the loads tables is in the overloaded table
    assert {k for k, v in busiest.items() if v > target[k] + 1e-6} == set(over)


NW3_PERIODS = [
    {
        "days": ["weekday"],
        "span": ["06:00", "23:00"],
        "windows": {
            "peak": [["07:00", "09:30"], ["17:00", "19:30"]],
            "offpeak": [["06:00", "07:00"], ["09:30", "17:00"], ["19:30", "20:00"]],
            "evening": [["20:00", "23:00"]],
        },
    },
    {
        "days": ["saturday", "sunday"],
        "span": ["07:00", "22:00"],
        "windows": {
            "peak": [["07:00", "09:30"], ["17:00", "19:30"]],
            "offpeak": [["09:30", "17:00"], ["19:30", "20:00"]],
            "evening": [["20:00", "22:00"]],
        },
    },
]


def test_period_table_states_each_day_types_periods() -> None:
    """nw3's periods (weekdays 06:00-23:00, weekends 07:00-22:00; peaks 07:00-09:30 and
    17:00-19:30, evening from 20:00) as the report's service plan section shows them."""
    from shuttle import report_figures

    out = report_figures.periods_html(NW3_PERIODS)
    assert '<table class="period-windows">' in out
    rows = re.findall(r"<tr>(.*?)</tr>", out.split("<tbody>")[1])
    cells = [
        [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td>(.*?)</td>", r)]
        for r in rows
    ]
    assert cells == [
        [
            "평일 Weekday",
            "06:00–23:00",
            "07:00–09:30, 17:00–19:30",
            "06:00–07:00, 09:30–17:00, 19:30–20:00",
            "20:00–23:00",
        ],
        [
            "토요일 Saturday · 일요일·공휴일 Sunday & holidays",
            "07:00–22:00",
            "07:00–09:30, 17:00–19:30",
            "09:30–17:00, 19:30–20:00",
            "20:00–22:00",
        ],
    ]


def test_default_plan_report_states_the_periods(nw3_plan: Plan, tmp_path: Path) -> None:
    """The default plan's report gives the periods of every day type it plans (from the
    service spans of nw3.toml), in its service plan section, and the map says the same."""
    from shuttle import maps

    d = report.report_data(nw3_plan)
    assert d["figures"]["service_plan"]["periods"] == NW3_PERIODS
    text = report.write_report([nw3_plan], tmp_path)[0].read_text(encoding="utf-8")
    section = text.index("Budget and service plan")
    table = text.index('<table class="period-windows">')
    assert section < table < text.index('<h3>이용자 <span class="en">Riders</span></h3>')
    note = json.loads(re.search(r"var D = (\{.*?\});\n", maps.render_html(nw3_plan)).group(1))
    assert note["periodNote"][1] == (
        "Mon–Fri: Peak 07:00–09:30, 17:00–19:30; Eve. 20:00–23:00 / "
        "Saturday, Sun & hol.: Peak 07:00–09:30, 17:00–19:30; Eve. 20:00–22:00"
    )
