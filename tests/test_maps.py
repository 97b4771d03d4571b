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

from shuttle import colors, maps
from shuttle.config import (
    DAY_TYPES,
    PERIODS,
    ROUTE_SCHEMES,
    MapConfig,
    Scenario,
    load_scenario,
    scenario_path,
)
from shuttle.errors import ConfigError, ExportError
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


# ----------------------------------------------------------------------------------------------
# pinch zoom, base map from the scenario


def test_page_allows_pinch_zoom(page_html: str) -> None:
    metas = re.findall(r"<meta name=\"viewport\"[^>]*>", page_html)
    assert metas == ['<meta name="viewport" content="width=device-width, initial-scale=1">']
    # WCAG 1.4.4: nothing may forbid or cap zooming the page
    assert "user-scalable" not in page_html
    assert "maximum-scale" not in page_html


def test_base_map_comes_from_the_scenario(plan: Plan) -> None:
    base = MapConfig(
        tile_url="https://tiles.example.go.kr/base/{z}/{x}/{y}.png",
        tile_attribution='지도 <b>서울</b> & "Map" <script>window.__xss=1</script>',
        tile_attribution_url='https://example.go.kr/credits?a=1&b="2"',
        max_zoom=18,
    )
    sc = dataclasses.replace(plan.scenario, map=base)
    text = maps.render_html(dataclasses.replace(plan, scenario=sc))
    assert '"https://tiles.example.go.kr/base/{z}/{x}/{y}.png"' in text
    assert "tile.openstreetmap.org" not in text
    assert '"maxZoom": 18' in text
    # the credits list names the base map, as text
    assert '<li><a href="https://example.go.kr/credits?a=1&amp;b=&quot;2&quot;"' in text
    assert "Base map: 지도 &lt;b&gt;서울&lt;/b&gt; &amp; &quot;Map&quot;" in text
    assert "<b>서울</b>" not in text
    # the credit (Leaflet shows it as HTML) is the scenario's text escaped, in one link
    m = re.search(r'"attribution": ("(?:[^"\\]|\\.)*")', text)
    assert m, "attribution option not found"
    credit = json.loads(m.group(1))
    assert credit == (
        '<a href="https://example.go.kr/credits?a=1&amp;b=&quot;2&quot;" target="_blank" '
        'rel="noopener">지도 &lt;b&gt;서울&lt;/b&gt; &amp; &quot;Map&quot; '
        "&lt;script&gt;window.__xss=1&lt;/script&gt;</a>"
    )


def _scenario_text(extra: str) -> str:
    return scenario_path("nw3").read_text(encoding="utf-8") + "\n" + extra


def _replace_table(name: str, body: str) -> str:
    text = scenario_path("nw3").read_text(encoding="utf-8")
    start = text.index(f"[{name}]")
    end = text.index("\n[", start + 1)
    return text[:start] + f"[{name}]\n{body}\n" + text[end:]


def test_nw3_sets_branch_green_and_a_base_map(scenario: Scenario) -> None:
    assert scenario.routes.scheme == "branch"
    assert "{z}" in scenario.map.tile_url
    assert scenario.map.tile_attribution
    assert (scenario.routes.number_start, scenario.routes.number_width) == (1, 0)


def test_map_table_defaults_when_absent(tmp_path: Path) -> None:
    text = _replace_table("map", "")
    f = tmp_path / "s.toml"
    f.write_text(text, encoding="utf-8")
    base = load_scenario(f).map
    assert base == MapConfig()
    assert base.tile_url == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


@pytest.mark.parametrize(
    ("table", "body", "needle"),
    [
        ("map", 'tile_url = "https://t.example/{z}/{x}.png"', "map.tile_url"),
        ("map", 'tile_url = "ftp://t.example/{z}/{x}/{y}.png"', "map.tile_url"),
        ("map", 'tile_url = "https://t.example/{z}/{x}/{y}.png?a=\\"b"', "map.tile_url"),
        ("map", 'tile_url = "https://t.example/{z}/{x}/{y}.png"', "map.tile_attribution"),
        (
            "map",
            'tile_url = "https://t.example/{z}/{x}/{y}.png"\ntile_attribution = "  "',
            "map.tile_attribution",
        ),
        ("map", 'tile_attribution_url = "javascript:alert(1)"', "map.tile_attribution_url"),
        ("map", "max_zoom = 30", "map.max_zoom"),
        ("map", "tile_size = 512", "map.tile_size"),
        ("routes", 'scheme = "rainbow"', "routes.scheme"),
        ("routes", "number_start = -1", "routes.number_start"),
        ("routes", "number_width = 9", "routes.number_width"),
        ("routes", 'number_prefix = "서 북"', "routes.number_prefix"),
        ("routes", 'number_prefix = "<b>"', None),
    ],
)
def test_bad_map_and_routes_keys_name_the_key(
    tmp_path: Path, table: str, body: str, needle: str | None
) -> None:
    f = tmp_path / "s.toml"
    f.write_text(_replace_table(table, body), encoding="utf-8")
    if needle is None:  # allowed: the prefix is data, escaped wherever it is shown
        assert load_scenario(f).routes.number_prefix == "<b>"
        return
    with pytest.raises(ConfigError) as err:
        load_scenario(f)
    msg = str(err.value)
    assert needle in msg
    assert str(f) in msg
    assert "\n" not in msg


def test_custom_tile_server_with_its_credit_loads(tmp_path: Path) -> None:
    body = (
        'tile_url = "https://tiles.example.go.kr/{z}/{x}/{y}.png"\n'
        'tile_attribution = "서울시 배경지도"\n'
    )
    f = tmp_path / "s.toml"
    f.write_text(_replace_table("map", body), encoding="utf-8")
    base = load_scenario(f).map
    assert base.tile_attribution == "서울시 배경지도"
    assert base.tile_attribution_url == ""  # no OSM link for a server that is not OSM's
    assert base.max_zoom == 19


# ----------------------------------------------------------------------------------------------
# route numbers and colours

# Seoul route-type colours and, worked by hand from the WCAG 2 luminance formula, the text colour
# that reaches 4.5:1 on each: 0068B7 L=0.133 (white 5.7, black 3.7); 5BB025 L=0.334 (white 2.7,
# black 7.7); F2B70A L=0.53 (black 11.6); E60012 L=0.169 (white 4.8, black 4.4).
SEOUL = {
    "trunk": ("0068B7", "FFFFFF"),
    "branch": ("5BB025", "000000"),
    "circular": ("F2B70A", "000000"),
    "express": ("E60012", "FFFFFF"),
    "village": ("5BB025", "000000"),
}


@pytest.mark.parametrize("scheme", sorted(SEOUL))
def test_seoul_schemes_colour_every_route_alike(scheme: str) -> None:
    color, text = SEOUL[scheme]
    for i in range(12):
        short, c, tc = colors.route_style(i, scheme)
        assert (short, c, tc) == (str(i + 1), color, text)
        assert colors.contrast_ratio(c, tc) >= 4.5


def test_palette_scheme_gives_distinct_readable_colours() -> None:
    styles = [colors.route_style(i, "palette") for i in range(30)]
    assert len({c for _, c, _ in styles}) == 30
    for _, c, tc in styles:
        assert re.fullmatch(r"[0-9A-F]{6}", c)
        assert colors.contrast_ratio(c, tc) >= 4.5


@pytest.mark.parametrize(
    ("index", "kwargs", "expected"),
    [
        (0, {}, "1"),
        (7, {}, "8"),
        (0, {"prefix": "서대문", "start": 15, "width": 2}, "서대문15"),
        (0, {"prefix": "마포", "start": 8, "width": 2}, "마포08"),
        (2, {"prefix": "서북", "width": 2}, "서북03"),
        (0, {"start": 7011}, "7011"),
    ],
)
def test_route_numbers(index: int, kwargs: dict, expected: str) -> None:
    assert colors.route_number(index, **kwargs) == expected
    assert colors.route_style(index, "branch", **kwargs)[0] == expected


def test_route_style_rejects_unknown_scheme_and_negative_index() -> None:
    with pytest.raises(ConfigError, match="rainbow"):
        colors.route_style(0, "rainbow")
    with pytest.raises(ConfigError, match="-1"):
        colors.route_style(-1, "branch")
    assert set(colors.SEOUL_COLORS) | {"palette"} == set(ROUTE_SCHEMES)


# ----------------------------------------------------------------------------------------------
# route pages


def test_route_pages_list_stops_in_order_with_terminal_times(
    scenario: Scenario, plan: Plan
) -> None:
    tt = hand_timetable(plan.routes, scenario.service.dwell_s)
    data = _stop_json(maps.render_html(dataclasses.replace(plan, timetable=tt)))
    stop_ids = [s["id"] for s in data["stops"]]
    pages = {r["id"]: r for r in data["routes"]}
    assert sorted(pages) == ["R1", "R2", "R3", "R4"]
    r1 = pages["R1"]
    assert (r1["short"], r1["ko"]) == ("1", "신촌역–서대문구청")
    assert r1["en"] == "Sinchon Station – Seodaemun-gu Office"
    # toy route R1 runs S0001 S0002 S0008 S0003 and back (tests/toyplan.py)
    fwd, back = r1["dirs"]
    assert [stop_ids[i] for i in fwd[1]] == ["S0001", "S0002", "S0008", "S0003"]
    assert [stop_ids[i] for i in back[1]] == ["S0003", "S0008", "S0002", "S0001"]
    assert data["patterns"][fwd[0]][1:] == ["서대문구청", "Seodaemun-gu Office"]
    assert data["patterns"][back[0]][1:] == ["신촌역", "Sinchon Station"]
    # the hand timetable leaves each terminal at 06:00 every 10/15/20 min on weekdays
    # (15/15/20 Saturday, 20/20/30 Sunday): the route page shows that at the first stop
    for d in (fwd, back):
        rows = dict(zip(DAY_TYPES, d[2], strict=True))
        assert rows["weekday"][0] == 6 * 60
        assert rows["weekday"][2:] == [10.0, 15.0, 20.0]
        assert rows["saturday"][2:] == [15.0, 15.0, 20.0]
        assert rows["sunday"][2:] == [20.0, 20.0, 30.0]
        assert 22 * 60 <= rows["weekday"][1] <= 23 * 60
    # trip time end to end: run times plus a dwell at each of the two middle stops
    pat = plan.routes[0].patterns[0]
    assert fwd[3] == round((sum(pat.run_times_s) + 2 * scenario.service.dwell_s) / 60)
    assert fwd[4] == round(pat.length_m / 1000, 1)
    # no busyness is invented before a model provides it
    assert all("busy" not in r for r in data["routes"])


def test_loop_route_page_has_one_direction(scenario: Scenario, plan: Plan) -> None:
    r1 = plan.routes[0]
    loop = dataclasses.replace(r1, patterns=r1.patterns[:1], is_loop=True)
    routes = (loop, *plan.routes[1:])
    tt = hand_timetable(routes, scenario.service.dwell_s)
    data = _stop_json(maps.render_html(dataclasses.replace(plan, routes=routes, timetable=tt)))
    page = next(r for r in data["routes"] if r["id"] == r1.route_id)
    assert page["loop"] is True
    assert len(page["dirs"]) == 1
    assert [data["stops"][i]["id"] for i in page["dirs"][0][1]] == list(r1.patterns[0].stop_ids)


def test_legend_entries_open_route_pages_and_escape_ids(plan: Plan) -> None:
    rid = '"><img src=x onerror="window.__xss=1">'
    r = dataclasses.replace(plan.routes[0], route_id=rid)
    tt = dataclasses.replace(
        plan.timetable,
        trips=tuple(
            dataclasses.replace(t, route_id=rid) if t.route_id == plan.routes[0].route_id else t
            for t in plan.timetable.trips
        ),
    )
    text = maps.render_html(dataclasses.replace(plan, routes=(r, *plan.routes[1:]), timetable=tt))
    assert rid not in text
    assert f'data-route="{html.escape(rid)}"' in text
    for other in plan.routes[1:]:
        assert f'data-route="{other.route_id}"' in text
    assert text.count('id="route-page"') == 1


def test_route_stop_missing_from_the_plan_is_an_export_error(plan: Plan) -> None:
    stops = tuple(s for s in plan.stops if s.stop_id != "S0002")
    with pytest.raises(ExportError, match="S0002"):
        maps.render_map(dataclasses.replace(plan, stops=stops))


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


def _open(browser, url: str, width: int, height: int, ready: str = ".stop-marker"):  # noqa: ANN001, ANN202
    from browser.offline import PageLog, install_routes

    page = browser.new_page(viewport={"width": width, "height": height})
    log = PageLog()
    install_routes(page, log)
    page.goto(url)
    page.wait_for_selector(ready)
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
        # direction arrows and route numbers along every route, once they can be read
        zoom = page.evaluate("window.shuttleMap.getZoom()")
        labels = page.locator("svg text textPath")
        assert labels.count() == (len(plan.routes) if zoom >= 14 else 0)
        page.evaluate("window.shuttleMap.setZoom(14, {animate: false})")  # all toy lines in view
        assert labels.count() == len(plan.routes)
        texts = labels.evaluate_all("ns => ns.map(n => n.textContent.replace(/\\u00a0/g, ' '))")
        for r in plan.routes:  # each line carries its own number (one colour for all routes)
            assert sum(f"\u25b6 {r.short_name} " in x for x in texts) == 1, r.route_id
        # panned away and back, the labels are drawn again for what is now in view
        page.evaluate("window.shuttleMap.panBy([3000, 0], {animate: false})")
        page.evaluate("window.shuttleMap.panBy([-3000, 0], {animate: false})")
        texts = labels.evaluate_all("ns => ns.map(n => n.textContent)")
        assert all(texts), texts
        page.evaluate(f"window.shuttleMap.setZoom({zoom}, {{animate: false}})")
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
def test_popup_fits_a_phone_screen(chromium_browser, map_url: str) -> None:  # noqa: ANN001
    """On a 390 px phone the stop popup, close button included, lies inside the screen: its
    width is capped by the screen (a 340 px content plus Leaflet's margins would not fit)."""
    page, log = _open(chromium_browser, map_url, 390, 844)
    try:
        page.locator("path.stop-S0001").dispatch_event("click")
        page.locator(".leaflet-popup-content").wait_for()
        page.wait_for_function(
            "getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'"
        )
        page.wait_for_timeout(400)  # let the auto-pan settle (positions, not timing, are checked)
        for sel in (".leaflet-popup-content-wrapper", ".leaflet-popup-close-button"):
            box = page.locator(sel).bounding_box()
            assert box is not None
            assert box["x"] >= 0, sel
            assert box["x"] + box["width"] <= 390, (sel, box)
        assert log.errors == []
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
        # the page of a hidden route still opens (and the map pans and zooms) without errors
        page.mouse.move(640, 700)
        page.locator('button.legend-route[data-route="R1"]').click()
        page.locator("#route-page").wait_for(state="visible")
        page.evaluate("window.shuttleMap.setZoom(16, {animate: false})")
        page.locator(".rp-close").click()
        assert page.locator("path.route-R1").count() == 0
        page.locator(".leaflet-control-layers").hover()
        label.locator("input").check()
        assert page.locator("path.route-R1").count() == 1
        page.evaluate("window.shuttleMap.setZoom(15, {animate: false})")
        assert log.errors == []
    finally:
        page.close()


@pytest.mark.browser
def test_route_page_opens_from_the_legend_on_a_phone(chromium_browser, map_url: str) -> None:  # noqa: ANN001
    page, log = _open(chromium_browser, map_url, 390, 844)
    try:
        viewport = page.evaluate("document.querySelector('meta[name=viewport]').content")
        assert viewport == "width=device-width, initial-scale=1"
        page.locator("#legend summary").click()
        rp = page.locator("#route-page")
        assert rp.is_hidden()
        page.locator('button.legend-route[data-route="R1"]').click()
        rp.wait_for(state="visible")
        assert "route=R1" in page.evaluate("location.hash")
        assert rp.locator("h2").inner_text() == "신촌역–서대문구청"
        dirs = rp.locator("section.rp-dir")
        assert dirs.count() == 2
        # both directions, stops in order, Korean name first and English second
        assert dirs.nth(0).locator(".rp-stop-ko").all_inner_texts() == [
            "신촌역",
            "연세대앞",
            "연희동",
            "서대문구청",
        ]
        assert dirs.nth(0).locator(".rp-stop-en").all_inner_texts() == [
            "Sinchon Station",
            "Yonsei Univ.",
            "Yeonhui-dong",
            "Seodaemun-gu Office",
        ]
        assert dirs.nth(1).locator(".rp-stop-ko").first.inner_text() == "서대문구청"
        assert dirs.nth(0).locator("h3").inner_text() == "서대문구청 방면"
        # first/last bus and headways at the first stop, one row per day type
        table = dirs.nth(0).locator("table.dep-table")
        assert table.locator("tbody tr").count() == len(DAY_TYPES)
        assert re.fullmatch(r"\d\d:\d\d", table.locator("tbody tr td").first.inner_text())
        # S0001 is also on route 2: the rider sees where to change
        first = dirs.nth(0).locator(".rp-stop").first
        assert first.locator(".route-chip").all_inner_texts() == ["2"]
        # the sheet leaves the top of the map visible and fits a phone
        box = rp.bounding_box()
        assert box is not None
        assert box["y"] > 300
        assert box["width"] <= 390
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "map-phone-route.png"))
        page.locator(".rp-close").click()
        rp.wait_for(state="hidden")
        assert "route=" not in page.evaluate("location.hash")
        # a stop's popup links its routes to their pages
        page.locator("path.stop-S0004").dispatch_event("click")
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        popup.locator(".stop-routes button.route-link", has_text="3").click()
        rp.wait_for(state="visible")
        assert rp.locator(".rp-head .route-chip").inner_text() == "3"
        # the popup closes (it fades out: wait for it rather than race the animation)
        page.wait_for_function("document.querySelectorAll('.leaflet-popup').length === 0")
        assert log.errors == []
        assert log.dialogs == []
    finally:
        page.close()


@pytest.mark.browser
def test_route_line_tap_opens_its_page_and_a_stop_tap_shows_the_stop(
    chromium_browser,  # noqa: ANN001
    map_url: str,
) -> None:
    page, log = _open(chromium_browser, map_url, 1280, 800)
    try:
        page.locator("path.route-R2").dispatch_event("click")
        rp = page.locator("#route-page")
        rp.wait_for(state="visible")
        assert rp.locator(".rp-head .route-chip").inner_text() == "2"
        # the chosen route stands out, the others fade
        assert page.locator("path.route-R1").get_attribute("stroke-opacity") == "0.25"
        assert page.locator("path.route-R2").get_attribute("stroke-opacity") == "0.9"
        page.locator(".rp-stop[data-stop='S0005']").first.click()
        rp.wait_for(state="hidden")
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        assert popup.locator(".stop-name").inner_text() == "서교동"
        assert page.locator("path.route-R1").get_attribute("stroke-opacity") == "0.9"
        page.keyboard.press("Escape")
        assert log.errors == []
    finally:
        page.close()


@pytest.mark.browser
def test_route_page_deep_link_in_english(chromium_browser, map_url: str) -> None:  # noqa: ANN001
    page, log = _open(chromium_browser, map_url + "#route=R3&en", 390, 844, ".stop-S0004")
    try:
        rp = page.locator("#route-page")
        rp.wait_for(state="visible")
        assert page.evaluate("document.documentElement.lang") == "en"
        assert rp.locator("h2").inner_text() == "Hongik Univ. Station – Yeonhui-dong"
        assert rp.locator("section.rp-dir h3").first.inner_text() == "to Yeonhui-dong"
        # in English the Korean names stay, first, as on Seoul's bus-stop signs
        assert rp.locator(".rp-stop-ko").first.is_visible()
        page.keyboard.press("Escape")
        rp.wait_for(state="hidden")
        assert log.errors == []
        # an unknown route in the address opens nothing and breaks nothing
        page.evaluate("location.hash = 'route=R99'")
        assert rp.is_hidden()
        assert log.errors == []
    finally:
        page.close()


@pytest.mark.browser
def test_hostile_route_page_shows_text_and_runs_nothing(chromium_browser, map_url: str) -> None:  # noqa: ANN001
    page, log = _open(chromium_browser, map_url, 1280, 800)
    try:
        page.locator('button.legend-route[data-route="R4"]').click()
        rp = page.locator("#route-page")
        rp.wait_for(state="visible")
        assert rp.locator(".rp-head .route-chip").inner_text() == "<i>4</i>"
        assert rp.locator("h2").inner_text() == XSS_SCRIPT
        names = rp.locator("section.rp-dir").first.locator(".rp-stop-ko").all_inner_texts()
        assert names == [HOSTILE_S0009, XSS_SCRIPT]
        assert rp.locator(".rp-stop-en").nth(1).inner_text() == XSS_IMG
        assert rp.locator("img, script, i, b").count() == 0
        assert page.evaluate("window.__xss") is None
        assert log.dialogs == []
        assert log.errors == []
    finally:
        page.close()


@pytest.mark.browser
def test_base_map_tiles_come_from_the_scenario_server(
    chromium_browser,  # noqa: ANN001
    plan: Plan,
    tmp_path: Path,
) -> None:
    base = MapConfig(
        tile_url="https://tiles.example.go.kr/base/{z}/{x}/{y}.png",
        tile_attribution="서울 <b>배경</b>",
        tile_attribution_url="",
        max_zoom=18,
    )
    sc = dataclasses.replace(plan.scenario, map=base)
    url = maps.save_map(dataclasses.replace(plan, scenario=sc), tmp_path).as_uri()
    page, log = _open(chromium_browser, url, 390, 844)
    try:
        assert log.tiles > 0
        assert log.unexpected == []
        tiles = page.locator("img.leaflet-tile")
        srcs = tiles.evaluate_all("ts => ts.map(t => t.src)")
        assert srcs
        assert all(s.startswith("https://tiles.example.go.kr/base/") for s in srcs), srcs
        credit = page.locator(".leaflet-control-attribution")
        assert "서울 <b>배경</b>" in credit.inner_text()
        assert credit.locator("b").count() == 0
        assert log.errors == []
    finally:
        page.close()


def test_period_note_follows_each_day_types_span(page_html: str, plan: Plan) -> None:
    """nw3 runs weekdays 06:00-23:00 and weekends 07:00-22:00 with peaks 07:00-09:30 and
    17:00-19:30 and the evening from 20:00: the evening ends when each day's service does (never
    "20:00–00:00"), and the weekend days, alike, share one entry."""
    assert [(d, (s.start_s, s.end_s)) for d, s in plan.scenario.service.days] == [
        ("weekday", (6 * 3600, 23 * 3600)),
        ("saturday", (7 * 3600, 22 * 3600)),
        ("sunday", (7 * 3600, 22 * 3600)),
    ]
    assert _stop_json(page_html)["periodNote"] == [
        "평일: 출퇴근 07:00–09:30, 17:00–19:30; 저녁 20:00–23:00 / "
        "토요일·일·공휴일: 출퇴근 07:00–09:30, 17:00–19:30; 저녁 20:00–22:00",
        "Mon–Fri: Peak 07:00–09:30, 17:00–19:30; Eve. 20:00–23:00 / "
        "Saturday, Sun & hol.: Peak 07:00–09:30, 17:00–19:30; Eve. 20:00–22:00",
    ]
    # a span past midnight counts on: an evening to 00:30 reads 24:30
    svc = plan.scenario.service
    late = dataclasses.replace(
        svc,
        days=tuple(
            (d, dataclasses.replace(s, end_s=24 * 3600 + 1800)) if d == "weekday" else (d, s)
            for d, s in svc.days
        ),
    )
    p = dataclasses.replace(plan, scenario=dataclasses.replace(plan.scenario, service=late))
    note = _stop_json(maps.render_html(p))["periodNote"][1]
    assert note.startswith("Mon–Fri: Peak 07:00–09:30, 17:00–19:30; Eve. 20:00–24:30 / ")
