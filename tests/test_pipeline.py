"""The whole chain on the default scenario nw3: feed, fleet, report, map, CLI byte-identity."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from feedcheck import assert_feed_clean, check_blocks, check_fleet_covers_cycle, check_readback

from shuttle import gtfs, maps, report
from shuttle.cli import main
from shuttle.model import Plan
from shuttle.timetable import fleet_summary

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def nw3_feed(nw3_plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gtfs.write_feed(nw3_plan, tmp_path_factory.mktemp("gtfs") / "nw3.zip")


def test_plan_serves_every_anchor_and_district(nw3_plan: Plan) -> None:
    served = {s.anchor for s in nw3_plan.stops if s.anchor}
    assert {p.name_ko for p in nw3_plan.places} <= served
    assert {s.district for s in nw3_plan.stops} >= set(nw3_plan.scenario.districts)
    # design.routes is an upper bound: the budget keeps the routes it can run
    assert 1 <= len(nw3_plan.routes) <= nw3_plan.scenario.design.routes
    assert [r.route_id for r in nw3_plan.routes] == [
        f"R{i}" for i in range(1, len(nw3_plan.routes) + 1)
    ]
    assert [a.code for a in nw3_plan.districts] == list(nw3_plan.scenario.districts)
    assert all(a.population > 0 for a in nw3_plan.districts)


def test_att_components_add_up(nw3_plan: Plan) -> None:
    k = nw3_plan.kpis
    parts = k.walk_min + k.wait_min + k.in_vehicle_min + k.transfer_min
    assert parts == pytest.approx(k.att_min, abs=0.01)
    assert min(k.walk_min, k.wait_min, k.in_vehicle_min) > 0
    assert 0 < k.access_pct <= 100
    assert k.d0 + k.d1 + k.d2 + k.dun == pytest.approx(100.0, abs=0.01)


def test_default_feed_passes_canonical_rules(nw3_feed: Path, data_dir: Path) -> None:
    summary = gtfs.validate_feed(nw3_feed)
    # a real Seoul bus stop keeps its published name, Latin capitals included ("SBS.YTN" in
    # 상암동): those names, read from the stop list itself, may carry the mixed-case warning
    import csv

    with (data_dir / "stops" / "seoul_bus_stop_locations_2024-01.csv").open(encoding="utf-8") as f:
        published = {row[2].strip() for row in csv.reader(f)}
    assert "SBS.YTN" in published
    assert_feed_clean(summary, nw3_feed, allow_values=published)


def test_default_feed_reads_back(nw3_plan: Plan, nw3_feed: Path) -> None:
    """partridge and gtfs-kit read the same counts; every stop within 20 m of its shape."""
    check_readback(nw3_plan, nw3_feed, max_offset_m=20.0)


def test_default_fleet_and_blocks(nw3_plan: Plan) -> None:
    tt = nw3_plan.timetable
    check_blocks(tt, nw3_plan.routes, nw3_plan.scenario.service, nw3_plan.stops)
    check_fleet_covers_cycle(tt, nw3_plan.routes, nw3_plan.scenario.service)
    budget = nw3_plan.scenario.budget.fleet
    assert budget is not None
    for total in fleet_summary(tt):
        assert 0 < total.vehicles <= budget
    # every headway run is at or under the day type's policy headway
    for f in tt.fleet:
        for period, minutes in f.headways_min:
            assert minutes <= nw3_plan.scenario.service.day(f.service_id).headway(period) + 1e-9


def test_report_figures_equal_the_plan(nw3_plan: Plan, tmp_path: Path) -> None:
    html_path, json_path = report.write_report([nw3_plan], tmp_path)
    (data,) = json.loads(json_path.read_text("utf-8"))["plans"]
    k = nw3_plan.kpis
    assert data["kpis"]["att_min"] == pytest.approx(k.att_min)
    assert data["kpis"]["coverage"] == pytest.approx(k.coverage)
    for key in ("d0", "d1", "d2", "dun", "vehicle_hours", "walk_min", "wait_min", "access_pct"):
        assert data["kpis"][key] == pytest.approx(getattr(k, key))
    by_route = {r["route_id"]: r for r in data["routes"]}
    for rk in k.routes:
        assert by_route[rk.route_id]["length_m"] == pytest.approx(rk.length_m)
        assert by_route[rk.route_id]["cycle_s"] == rk.cycle_s
    fleet = {(f["route_id"], f["service_id"]): f for f in data["fleet"]}
    for f in nw3_plan.timetable.fleet:
        assert fleet[(f.route_id, f.service_id)]["vehicles"] == f.vehicles
        assert fleet[(f.route_id, f.service_id)]["vehicle_hours"] == pytest.approx(f.vehicle_hours)
    trips = sum(f.trips for f in nw3_plan.timetable.fleet if f.service_id == "weekday")
    per_hour = data["departures_per_hour"]["by_day"]["weekday"]
    assert sum(sum(v) for v in per_hour.values()) == trips
    assert html_path.read_text("utf-8").count("<svg") >= 3  # a chart per day type


@pytest.mark.browser
def test_default_map_in_browser(nw3_plan: Plan, tmp_path: Path) -> None:
    """The real map offline in Chromium: no errors, a line per route, a marker per stop."""
    from browser.offline import PageLog, chromium, install_routes

    path = maps.save_map(nw3_plan, tmp_path)
    assert path.stat().st_size < 5_000_000
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        log = PageLog()
        install_routes(page, log)
        page.goto(path.as_uri())
        page.wait_for_selector(".stop-marker")
        page.wait_for_load_state("load")
        assert log.errors == []
        assert log.unexpected == []
        assert log.dialogs == []
        assert page.locator("path.route-line").count() == len(nw3_plan.routes)
        assert page.locator("path.stop-marker").count() == len(nw3_plan.stops)
        stop = next(s for s in nw3_plan.stops if s.anchor)
        page.locator(f"path.stop-{stop.stop_id}").dispatch_event("click")
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        assert stop.name_ko in popup.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.wait_for_timeout(500)  # let the popup's fade-in finish before the screenshot
        page.screenshot(path=str(ARTIFACTS / "nw3-phone-popup.png"))
        page.close()


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_cli_plan_twice_is_byte_identical(tmp_path: Path, cache_dir: Path) -> None:
    runner = CliRunner()
    trees = []
    for run in ("a", "b"):
        out = tmp_path / run
        r = runner.invoke(
            main,
            [
                "--cache-dir",
                str(cache_dir),
                "plan",
                "--gtfs-dir",
                str(out / "gtfs"),
                "--maps-dir",
                str(out / "maps"),
            ],
        )
        assert r.exit_code == 0, r.output
        assert "GTFS feed:" in r.output
        trees.append(_tree(out))
    a, b = trees
    assert sorted(a) == sorted(b)
    assert {
        "gtfs/nw3.zip",
        "maps/nw3.html",
        "maps/index.html",
        "maps/nw3.report.html",
        "maps/nw3.report.json",
        "gtfs/nw3.routes.json",
        "gtfs/nw3.routes.geojson",
    } <= set(a)
    for name in a:
        assert a[name] == b[name], name
    with zipfile.ZipFile(tmp_path / "a" / "gtfs" / "nw3.zip") as z:
        names = set(z.namelist())
    assert {
        "agency.txt",
        "stops.txt",
        "routes.txt",
        "trips.txt",
        "stop_times.txt",
        "calendar.txt",
        "calendar_dates.txt",
        "shapes.txt",
        "feed_info.txt",
        "translations.txt",
    } <= names


def test_cli_failure_leaves_no_partial_output(tmp_path: Path, cache_dir: Path) -> None:
    """A budget too small for one route fails with one line after the design; nothing written."""
    from shuttle.config import scenario_path

    p = tmp_path / "capped.toml"
    p.write_text(
        scenario_path("nw3").read_text("utf-8").replace("fleet = 30", "fleet = 2"),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    r = CliRunner().invoke(
        main,
        [
            "--cache-dir",
            str(cache_dir),
            "plan",
            "-s",
            str(p),
            "--gtfs-dir",
            str(out / "gtfs"),
            "--maps-dir",
            str(out / "maps"),
        ],
    )
    assert r.exit_code == 1, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1, r.output
    assert lines[0].startswith("Error: ")
    assert "budget" in lines[0]
    written = [q for q in out.rglob("*") if q.is_file()] if out.exists() else []
    assert written == []
