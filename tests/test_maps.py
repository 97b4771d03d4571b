"""The public map: departures per stop, escaping, byte-stable output, index, size, and the page in
a real headless Chromium with no internet (``@pytest.mark.browser``)."""

from __future__ import annotations

import dataclasses
import html
import json
import math
import re
from pathlib import Path

import pytest
from mapplan import XSS_IMG, XSS_SCRIPT, hand_timetable, toy_plan

from shuttle import maps
from shuttle.config import DAY_TYPES, PERIODS, Scenario
from shuttle.errors import ExportError
from shuttle.model import Pattern, Plan, Route, Stop

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
HOSTILE_S0009 = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def plan(scenario: Scenario) -> Plan:
    """The toy plan with the hostile extra stop S0010 and route R4."""
    return toy_plan(scenario, hostile=True)


@pytest.fixture(scope="module")
def page_html(plan: Plan) -> str:
    return maps.render_html(plan)


def _stop_json(text: str) -> dict:
    m = re.search(r"var D = (\{.*?\});\n", text)
    assert m, "stop data block not found"
    return json.loads(m.group(1))


# ----------------------------------------------------------------------------------------------
# departures


def test_departures_follow_the_timetable(scenario: Scenario, plan: Plan) -> None:
    tt = hand_timetable(plan.routes, scenario.service.dwell_s)
    p = dataclasses.replace(plan, timetable=tt)
    deps = maps.stop_departures(p)
    pats = {(r.route_id, q.direction_id): q for r in p.routes for q in r.patterns}
    for stop_id, rows in deps.items():
        for d in rows:
            pat = pats[(d.route_id, d.direction_id)]
            i = pat.stop_ids.index(stop_id)
            expected = sorted(
                t.departure_s[i]
                for t in tt.trips
                if (t.route_id, t.direction_id, t.service_id)
                == (d.route_id, d.direction_id, d.service_id)
            )
            assert list(d.times_s) == expected
            assert d.first_s == expected[0]
            assert d.last_s == expected[-1]
    # the hand timetable runs every 10/15/20 min on weekdays: the same gaps at every stop
    s1 = {(d.route_id, d.direction_id, d.service_id): d for d in deps["S0001"]}
    wk = s1[("R1", 0, "weekday")]
    assert dict(wk.headways_min) == {"peak": 10.0, "offpeak": 15.0, "evening": 20.0}
    assert [d.service_id for d in deps["S0001"] if d.route_id == "R1"] == list(DAY_TYPES)
    assert [p for p, _ in wk.headways_min] == list(PERIODS)


def test_last_stop_of_a_direction_has_no_departures_of_it(plan: Plan) -> None:
    deps = maps.stop_departures(plan)
    # S0003 ends R1 direction 0 and starts direction 1
    r1 = {(d.direction_id, d.service_id) for d in deps["S0003"] if d.route_id == "R1"}
    assert r1 == {(1, day) for day in DAY_TYPES}


def test_trip_of_unknown_route_is_an_export_error(plan: Plan) -> None:
    bad = dataclasses.replace(plan.timetable.trips[0], route_id="R9")
    tt = dataclasses.replace(plan.timetable, trips=(bad,))
    with pytest.raises(ExportError, match="R9"):
        maps.stop_departures(dataclasses.replace(plan, timetable=tt))


def test_bad_route_colour_is_an_export_error(plan: Plan) -> None:
    r = dataclasses.replace(plan.routes[0], color="red;background:url(x)")
    with pytest.raises(ExportError, match="six hex digits"):
        maps.render_map(dataclasses.replace(plan, routes=(r, *plan.routes[1:])))


# ----------------------------------------------------------------------------------------------
# the page as text


def test_render_is_byte_identical(plan: Plan, tmp_path: Path) -> None:
    a = maps.save_map(plan, tmp_path / "a").read_bytes()
    b = maps.save_map(plan, tmp_path / "b").read_bytes()
    assert a == b
    assert a.decode() == maps.render_html(plan)
    # folium's random uuid4-hex ids are all replaced by numbers
    assert not re.search(rb"_[0-9a-f]{32}\b", a)


def test_hostile_names_never_appear_as_markup(page_html: str) -> None:
    for raw in (HOSTILE_S0009, XSS_IMG, "<script>window", "<i>4</i>"):
        assert raw not in page_html, raw
    # no JS template literal carries markup (folium's Popup/Tooltip use them; we do not)
    assert "(`" not in page_html
    # exactly one closing script tag per script element (nothing from data closes one)
    assert page_html.count("</script>") == page_html.count("<script")
    # the escaped form is present: the names are shown, not dropped
    assert html.escape(XSS_IMG) in page_html


def test_page_data_has_every_stop_and_both_names(plan: Plan, page_html: str) -> None:
    data = _stop_json(page_html)
    by_id = {s["id"]: s for s in data["stops"]}
    assert sorted(by_id) == sorted(s.stop_id for s in plan.stops)
    s1 = by_id["S0001"]
    assert (s1["ko"], s1["en"], s1["ars"]) == ("신촌역", "Sinchon Station", "13001")
    assert by_id["S0010"]["ko"] == XSS_SCRIPT
    assert by_id["S0010"]["en"] == XSS_IMG
    # routes serving S0001: R1 and R2
    assert [data["routes"][i]["id"] for i in s1["routes"]] == ["R1", "R2"]
    # first/last bus in minutes equal the departures from the timetable
    deps = {
        (d.route_id, d.direction_id, d.service_id): d for d in maps.stop_departures(plan)["S0001"]
    }
    for pidx, rows in s1["deps"]:
        ri, _, _ = data["patterns"][pidx]
        rid = data["routes"][ri]["id"]
        direction = next(
            q.direction_id
            for r in plan.routes
            if r.route_id == rid
            for q in r.patterns
            if [ri, q.headsign_ko, q.headsign_en] == data["patterns"][pidx]
        )
        for day, row in zip(DAY_TYPES, rows, strict=True):
            d = deps[(rid, direction, day)]
            assert row[:2] == [d.first_s // 60, d.last_s // 60]
    # coordinates are rounded to 6 decimals
    for s in data["stops"]:
        assert s["lat"] == round(s["lat"], 6)
        assert s["lon"] == round(s["lon"], 6)


def test_credits_title_and_data_date(plan: Plan, page_html: str) -> None:
    for needle in (
        "OpenStreetMap",
        "ODbL",
        "KOGL Type 1",
        "공공누리 제1유형",
        "vuski/admdongkor",
        "SGIS",
        "2021 Q2",
        "southkorea/seoul-maps",
        plan.scenario.network.data_date,
        plan.scenario.title_ko,
        '<html lang="ko">',
    ):
        assert needle in page_html, needle
    # every bilingual legend entry comes in both languages
    assert page_html.count('<span lang="ko">') == page_html.count('<span lang="en">')


def test_page_loads_only_the_listed_assets(page_html: str) -> None:
    found = re.findall(r'<script src="([^"]+)"|<link rel="stylesheet" href="([^"]+)"', page_html)
    urls = {a or b for a, b in found}
    assert urls == {u for _, u in maps.ASSET_URLS}


def test_write_index_lists_maps_sorted_and_escaped(plan: Plan, tmp_path: Path) -> None:
    maps.save_map(plan, tmp_path)
    (tmp_path / "b<script>.html").write_text("<title>x</title>", encoding="utf-8")
    (tmp_path / "a.html").write_text("<title>A &amp; <b>B</b></title>", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a map", encoding="utf-8")
    text = maps.write_index(tmp_path).read_text(encoding="utf-8")
    hrefs = re.findall(r'<a href="([^"]+)"', text)
    assert hrefs == ["a.html", "b%3Cscript%3E.html", f"{plan.scenario.name}.html"]
    assert "<script>" not in text
    assert "<b>B</b>" not in text
    assert "index.html" not in hrefs


def test_index_is_not_a_scenario_name(plan: Plan, tmp_path: Path) -> None:
    sc = dataclasses.replace(plan.scenario, name="index")
    with pytest.raises(ExportError, match="index"):
        maps.save_map(dataclasses.replace(plan, scenario=sc), tmp_path)


def _big_plan(scenario: Scenario) -> Plan:
    """A plan of Seoul size: 10 routes x 30 stops, 1,500-point shapes, real district outlines."""
    from mapplan import _catchment, timetable_for

    from shuttle.pipeline import district_areas

    stops: list[Stop] = []
    routes: list[Route] = []
    lat0, lon0 = 37.56, 126.90
    for k in range(10):
        ids = []
        pts = []
        for j in range(30):
            lat = lat0 + 0.004 * j * math.cos(k / 3)
            lon = lon0 + 0.004 * j * math.sin(k / 3 + 0.3) + 0.001 * k
            sid = f"S{k * 30 + j + 1:04d}"
            stops.append(
                Stop(
                    sid,
                    f"정류장 {sid}",
                    f"Stop {sid}",
                    lat,
                    lon,
                    k * 30 + j,
                    f"{10000 + k * 30 + j}",
                    11440,
                    None,
                )
            )
            ids.append(sid)
            pts.append((lat, lon))
        shape = []
        for (a, b), (c, d) in zip(pts, pts[1:], strict=False):
            shape += [(a + (c - a) * t / 50, b + (d - b) * t / 50) for t in range(50)]
        shape.append(pts[-1])
        dist = tuple(float(400 * j) for j in range(30))

        def pat(
            direction: int,
            ids: list[str] = ids,
            shape: list = shape,
            dist: tuple[float, ...] = dist,
        ) -> Pattern:
            order = ids if direction == 0 else ids[::-1]
            return Pattern(
                direction,
                order[-1],
                order[-1],
                tuple(order),
                (60,) * 29,
                dist,
                tuple(shape if direction == 0 else shape[::-1]),
                11600.0,
            )

        routes.append(
            Route(
                f"R{k + 1:02d}",
                str(k + 1),
                f"노선 {k + 1}",
                f"Route {k + 1}",
                f"{(k * 40) % 256:02X}5080",
                "FFFFFF",
                (pat(0), pat(1)),
            )
        )
    base = toy_plan(scenario)
    return dataclasses.replace(
        base,
        stops=tuple(stops),
        routes=tuple(routes),
        places=(),
        timetable=timetable_for(routes, scenario),
        districts=district_areas(scenario),
        catchment=_catchment(stops, 400.0),
    )


def test_page_of_seoul_size_stays_small(scenario: Scenario, tmp_path: Path) -> None:
    big = _big_plan(scenario)
    path = maps.save_map(big, tmp_path)
    size = path.stat().st_size
    assert size < 5_000_000, f"{size:,} bytes"
    assert len(_stop_json(path.read_text(encoding="utf-8"))["stops"]) == 300


# ----------------------------------------------------------------------------------------------
# in the browser


def _open(browser, url: str, width: int, height: int):  # noqa: ANN001, ANN202
    from browser.offline import PageLog, install_routes

    page = browser.new_page(viewport={"width": width, "height": height})
    log = PageLog()
    install_routes(page, log)
    page.goto(url)
    page.wait_for_selector(".stop-marker")
    page.wait_for_load_state("load")
    return page, log


@pytest.fixture(scope="module")
def chromium_browser():  # noqa: ANN201
    from browser.offline import chromium

    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def map_url(plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> str:
    return maps.save_map(plan, tmp_path_factory.mktemp("maps")).as_uri()


@pytest.mark.browser
def test_every_asset_is_in_node_modules() -> None:
    from browser.offline import asset_file, check_setup

    check_setup()
    for _, url in maps.ASSET_URLS:
        assert asset_file(url).is_file()


@pytest.mark.browser
@pytest.mark.parametrize(
    ("device", "width", "height"), [("phone", 390, 844), ("desktop", 1280, 800)]
)
def test_map_renders_offline(
    chromium_browser,
    map_url: str,
    plan: Plan,
    device: str,
    width: int,  # noqa: ANN001
    height: int,
) -> None:
    page, log = _open(chromium_browser, map_url, width, height)
    try:
        assert log.errors == []
        assert log.unexpected == []
        assert log.dialogs == []
        assert {u for _, u in maps.ASSET_URLS} <= set(log.served)
        # one line per route (both directions in one path), one marker per stop and place
        for r in plan.routes:
            assert page.locator(f"path.route-{r.route_id}").count() == 1, r.route_id
        assert page.locator("path.route-line").count() == len(plan.routes)
        assert page.locator("path.stop-marker").count() == len(plan.stops)
        for s in plan.stops:
            assert page.locator(f"path.stop-{s.stop_id}").count() == 1
        assert page.locator(".anchor-place").count() == len(plan.places)
        assert page.locator("path.district").count() == len(plan.districts)
        # direction arrows drawn along every route
        assert page.locator("svg text textPath").count() == len(plan.routes)
        # legend open on a desktop, folded on a phone
        is_open = page.locator("#legend").evaluate("e => e.open")
        assert is_open == (device == "desktop")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"map-{device}.png"))
        if device == "phone":
            page.locator("#legend summary").click()
            page.screenshot(path=str(ARTIFACTS / "map-phone-legend.png"))
        assert page.evaluate("window.__xss") is None
        assert log.errors == []
    finally:
        page.close()


@pytest.mark.browser
def test_popup_shows_stop_times_and_language_switch(chromium_browser, map_url: str) -> None:  # noqa: ANN001
    page, log = _open(chromium_browser, map_url, 390, 844)
    try:
        legend = page.locator("#legend summary")
        assert legend.inner_text().strip() == "범례"
        page.locator("path.stop-S0001").dispatch_event("click")
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        # let the fade-in finish before the screenshot (not a timing assertion)
        page.wait_for_function(
            "getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'"
        )
        assert popup.locator(".stop-name").inner_text() == "신촌역"
        assert popup.locator(".stop-name-en").inner_text() == "Sinchon Station"
        assert "13001" in popup.locator(".stop-meta").inner_text()
        # R1 and R2 serve S0001: each starts there in direction 0 and ends there in direction 1
        assert popup.locator(".stop-routes .route-chip").all_inner_texts() == ["1", "2"]
        assert popup.locator("table.dep-table").count() == 2
        rows = popup.locator("table.dep-table").first.locator("tbody tr")
        assert rows.count() == len(DAY_TYPES)
        assert rows.first.locator("th").inner_text() == "평일"
        assert re.fullmatch(r"\d\d:\d\d", rows.first.locator("td").first.inner_text())
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "map-phone-popup.png"))

        page.locator("#lang-toggle").click()
        assert legend.inner_text().strip() == "Legend"
        assert rows.first.locator("th").inner_text() == "Mon–Fri"
        assert page.locator("#lang-toggle").inner_text() == "한국어"
        assert page.evaluate("document.documentElement.lang") == "en"
        page.screenshot(path=str(ARTIFACTS / "map-phone-popup-en.png"))
        page.locator(".leaflet-control-layers").hover()  # expand the folded control
        layers = page.locator(".leaflet-control-layers-overlays").inner_text()
        assert "Stops" in layers
        assert "정류장" not in layers
        page.screenshot(path=str(ARTIFACTS / "map-phone-layers-en.png"))
        page.mouse.move(200, 780)  # leave the control: it folds again
        page.locator(".leaflet-control-layers-list").wait_for(state="hidden")
        page.locator("#lang-toggle").click()
        assert legend.inner_text().strip() == "범례"
        assert log.errors == []
        assert log.dialogs == []
    finally:
        page.close()


@pytest.mark.browser
def test_hostile_names_show_as_text_and_run_nothing(chromium_browser, map_url: str) -> None:  # noqa: ANN001
    page, log = _open(chromium_browser, map_url, 1280, 800)
    try:
        cases = (("S0009", HOSTILE_S0009, HOSTILE_S0009), ("S0010", XSS_SCRIPT, XSS_IMG))
        for sid, ko, en in cases:
            page.locator(f"path.stop-{sid}").dispatch_event("click")
            popup = page.locator(".leaflet-popup-content")
            popup.wait_for()
            assert popup.locator(".stop-name").inner_text() == ko
            assert popup.locator(".stop-name").get_attribute("lang") == "ko"
            page.locator("#lang-toggle").click()
            assert popup.locator(".stop-name-en").inner_text() == en
            page.locator("#lang-toggle").click()
            assert popup.locator("img, script, i").count() == 0
            page.locator(".leaflet-popup-close-button").click()
            page.wait_for_function("document.querySelectorAll('.leaflet-popup').length === 0")
        # the hostile route and place names in the legend and the layer control are text too
        panel = page.locator("#shuttle-panel")
        assert panel.locator("img, script, i").count() == 0
        assert page.locator(".leaflet-control-layers img, .leaflet-control-layers i").count() == 0
        assert XSS_SCRIPT in page.locator("#legend").inner_text()
        page.locator("path.route-R4").hover()
        assert page.locator(".leaflet-tooltip img").count() == 0
        assert page.evaluate("window.__xss") is None
        assert log.dialogs == []
        assert log.errors == []
        assert "<img" in page.title()  # the title shows the name as text
    finally:
        page.close()


@pytest.mark.browser
def test_layer_control_hides_a_route(chromium_browser, map_url: str) -> None:  # noqa: ANN001
    page, log = _open(chromium_browser, map_url, 1280, 800)
    try:
        page.locator(".leaflet-control-layers").hover()
        label = page.locator(".leaflet-control-layers-overlays label").filter(
            has=page.locator(".route-chip", has_text=re.compile(r"^1$"))
        )
        label.locator("input").uncheck()
        assert page.locator("path.route-R1").count() == 0
        assert page.locator("path.route-R2").count() == 1
        # the catchment layer is off by default and can be shown
        assert page.locator("path.catchment").count() == 0
        overlays = page.locator(".leaflet-control-layers-overlays label")
        overlays.filter(has_text="400 m").locator("input").check()
        assert page.locator("path.catchment").count() == 1
        assert log.errors == []
    finally:
        page.close()
