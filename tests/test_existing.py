"""The shuttle against the existing network: lines, overlap, before/after on the real data."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from toyplan import HOSTILE, toy_design

from shuttle import areas, evaluate, existing, geo, pipeline, report_existing, transit
from shuttle.compare import BeforeAfter, LineSpec, before_after
from shuttle.config import Scenario
from shuttle.model import Pattern, Route, Stop
from shuttle.overlap import route_overlap

LAT, LON0 = 37.56, 126.90


def _lonlat(east_m: float, north_m: float = 0.0) -> tuple[float, float]:
    x, y = geo.to_metric_xy(LON0, LAT)
    lon, lat = geo.to_wgs84_xy(x + east_m, y + north_m)
    return float(lon), float(lat)


# ---------------------------------------------------------------------------------------------
# hand cases


def test_chains_split_at_branches_and_keep_cycles() -> None:
    # a Y: a-b, b-c-d, b-e: b has degree 3, so three chains end there
    got = sorted(existing._chains([("a", "b"), ("b", "c"), ("c", "d"), ("b", "e")]))
    assert got == [["a", "b"], ["b", "c", "d"], ["b", "e"]]
    # a pure loop is one closed chain
    (loop,) = existing._chains([("a", "b"), ("b", "c"), ("c", "a")])
    assert loop[0] == loop[-1]
    assert sorted(loop[:-1]) == ["a", "b", "c"]


def test_span_keeps_the_stops_near_the_zones() -> None:
    stops = tuple((f"k{i}", *_lonlat(1000.0 * i)) for i in range(6))  # 0 .. 5 km east
    line = LineSpec("L", stops, (60.0, 61.0, 62.0, 63.0, 64.0), 300.0)
    (cut,) = existing._span([line], [_lonlat(0.0)], 2500.0)
    assert [k for k, _, _ in cut.stops] == ["k0", "k1", "k2"]
    assert cut.run_s == (60.0, 61.0)
    assert existing._span([line], [_lonlat(-9000.0)], 2500.0) == []  # nowhere near


def _stop(sid: str, east: float, north: float = 0.0, ars: str | None = None) -> Stop:
    lon, lat = _lonlat(east, north)
    return Stop(sid, sid, sid, lat, lon, node=0, ars=ars, district=11410)


def _pattern(direction: int, pts: list[tuple[float, float]], ids: tuple[str, ...]) -> Pattern:
    shape = tuple((lat, lon) for lon, lat in (_lonlat(e, n) for e, n in pts))
    length = sum(
        float(np.hypot(b[0] - a[0], b[1] - a[1])) for a, b in zip(pts, pts[1:], strict=False)
    )
    dist = (0.0, length) if len(ids) == 2 else (0.0, length / 2, length)
    return Pattern(direction, ids[-1], ids[-1], ids, (60,) * (len(ids) - 1), dist, shape, length)


def _placed(name: str, pts: list[tuple[float, float]], stop_ids: tuple[str, ...], head: float):
    route = transit.BusRoute(
        route_id=f"ID{name}", name=name, kind_ko="지선", kind_en="branch", color="598526",
        operators=("x",), origin="", terminal="", stops=(),
        headways_min=(("peak", head), ("offpeak", head), ("evening", head)),
        first_s=0, last_s=86000, buses=None, length_km=None, run_min=None,
    )  # fmt: skip
    return SimpleNamespace(route=route, pattern=_pattern(0, pts, stop_ids))


def test_overlap_of_a_street_run_both_ways() -> None:
    """An existing route out and back along one street, on one centre line (as the road graph
    draws an undivided street): a shuttle running that street both ways is run by it everywhere."""
    bstops = (
        transit.TransitStop("n0", "13001", "A", *reversed(_lonlat(0.0))),
        transit.TransitStop("n1", "13002", "B", *reversed(_lonlat(2000.0))),
        transit.TransitStop("n2", "13003", "A'", *reversed(_lonlat(0.0))),
    )
    placed = _placed("7019", [(0, 0), (2000, 0), (0, 0)], ("n0", "n1", "n2"), 10.0)
    base = SimpleNamespace(routes=(placed,), stops=bstops, rail=())
    stops = {s.stop_id: s for s in (_stop("S1", 0, ars="13001"), _stop("S2", 2000))}
    route = Route(
        "R1", "1", "", "", "598526", "FFFFFF",
        (_pattern(0, [(0, 0), (2000, 0)], ("S1", "S2")),
         _pattern(1, [(2000, 0), (0, 0)], ("S2", "S1"))),
    )  # fmt: skip
    ov = route_overlap(route, stops, existing.overlap_lines(base, near=route))
    # by hand: 4 km of shuttle, every metre on the street the route runs that way, 6 buses/h
    assert ov.length_km == pytest.approx(4.0, rel=1e-3)
    assert ov.road_share == pytest.approx(1.0, abs=0.01)
    assert ov.buses_per_hour == pytest.approx(6.0, rel=0.01)
    assert ov.stop_share == pytest.approx(0.5)  # S1 is the route's stop 13001; S2 has no ARS
    assert ov.top[0][0] == "7019"
    assert ov.top[0][1] == pytest.approx(4.0, rel=0.01)


def test_routes_near_stops_by_ars_or_distance() -> None:
    bstops = (
        transit.TransitStop("n0", "13001", "near", *reversed(_lonlat(60.0))),
        transit.TransitStop("n1", "13002", "far", *reversed(_lonlat(1000.0))),
        transit.TransitStop("n2", "13003", "too far", *reversed(_lonlat(0.0, 150.0))),
    )
    base = SimpleNamespace(
        routes=(
            _placed("10", [(60, 0), (1000, 0)], ("n0", "n1"), 10.0),
            _placed("9", [(1000, 0), (0, 150)], ("n1", "n2"), 10.0),
        ),
        stops=bstops,
    )
    got = existing.routes_near_stops([_stop("S1", 0.0), _stop("S2", -5000.0, ars="13002")], base)
    assert got == {"S1": ("10",), "S2": ("9", "10")}  # 60 m away; same ARS (numbers by value)


# ---------------------------------------------------------------------------------------------
# the report


def test_report_says_why_the_comparison_is_missing(scenario: Scenario, tmp_path: Path) -> None:
    bad = dataclasses.replace(
        scenario, baseline=dataclasses.replace(scenario.baseline, stops_file="transit/none.csv")
    )
    plan = pipeline.make_plan(bad, design=toy_design())
    plan = pipeline.make_existing(plan, None, toy_design())  # type: ignore[arg-type]
    assert "transit/none.csv" in plan.existing.missing
    d = report_existing.existing_data(plan)
    html = report_existing.existing_html(d, {}, {})
    assert "none.csv" in html
    assert "No comparison with the existing network" in html
    # a reason from data is escaped
    plan2 = dataclasses.replace(plan, existing=existing.missing(HOSTILE))
    html2 = report_existing.existing_html(report_existing.existing_data(plan2), {}, {})
    assert HOSTILE not in html2
    assert "&lt;img" in html2
    assert report_existing.existing_data(dataclasses.replace(plan, existing=None)) == {}


# ---------------------------------------------------------------------------------------------
# the real existing network


@pytest.fixture(scope="module")
def real(scenario: Scenario, cache_dir: Path):  # noqa: ANN201
    base = pipeline.make_baseline(scenario, cache_dir=cache_dir)
    zones = areas.read_zones(scenario)
    pts = evaluate.zone_points(zones)
    lines = existing._span(
        existing.bus_lines(base, scenario, "peak") + existing.rail_lines(base.rail, "peak"),
        pts,
        existing.SPAN_M,
    )
    trips = np.ones((len(zones), len(zones)))
    return SimpleNamespace(base=base, zones=zones, pts=pts, lines=lines, trips=trips)


def _ba(real, shuttle: list[LineSpec], scenario: Scenario):  # noqa: ANN001, ANN202
    ds = scenario.design
    return before_after(
        real.lines,
        shuttle,
        real.pts,
        real.trips,
        walk_speed_kmh=ds.walk_speed_kmh,
        transfer_penalty_min=ds.transfer_penalty_min,
    )


def test_real_network_is_modelled(real) -> None:  # noqa: ANN001
    names = {ln.line_id.split(":")[1] for ln in real.lines if ln.line_id.startswith("rail:")}
    assert {"2", "3", "5", "6"} <= names  # the metro lines through the three districts
    assert sum(ln.line_id.startswith("bus:") for ln in real.lines) > 100
    night = {p.route.route_id for p in real.base.routes if p.route.kind_ko == existing.NIGHT}
    assert not {ln.line_id[4:] for ln in real.lines} & night


def test_duplicating_a_real_frequent_route_gains_almost_nothing(
    real,
    scenario: Scenario,  # noqa: ANN001
) -> None:
    heads = {p.route.route_id: p.route.headway("peak") for p in real.base.routes}
    bus = [ln for ln in real.lines if ln.line_id.startswith("bus:")]
    # the most frequent existing route (longest first among ties), copied at a 15-minute headway
    src = min(bus, key=lambda ln: (ln.headway_s, -len(ln.stops), ln.line_id))
    h = heads[src.line_id[4:]]
    assert h <= 6
    dup = dataclasses.replace(src, line_id="dup", headway_s=900.0, shuttle=True)
    ba = _ba(real, [dup], scenario)
    # by hand: a copy only shortens the wait where the route is boarded, from h/2 to half the
    # combined headway 1/(1/h + 1/15); a trip boards it at most a few times
    per_boarding = h / 2 - 0.5 / (1 / h + 1 / 15)
    g = ba.gain_min
    assert np.isfinite(g).all()
    assert ba.trips_gaining == 0.0
    assert g.max() <= 3 * per_boarding + 1e-6
    assert g.min() >= -1e-6
    assert float((g * ba.trips).sum() / ba.trips.sum()) < 0.2


def test_a_real_pair_without_direct_service_gains_from_a_direct_link(
    real,
    scenario: Scenario,  # noqa: ANN001
) -> None:
    ds = scenario.design
    base_only = _ba(real, [], scenario)
    xy = np.array([geo.to_metric_xy(lon, lat) for lon, lat in real.pts], dtype=float)
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    ok = (d >= 3000) & (d <= 6000)
    before = np.where(ok, base_only.before_min, -np.inf)
    o, t = np.unravel_index(int(np.argmax(before)), before.shape)
    km = d[o, t] / 1000
    ride_s = km / 20 * 3600  # 20 km/h
    a = ("new:o", *real.pts[o])
    b = ("new:t", *real.pts[t])
    link = [
        LineSpec("S0", (a, b), (ride_s,), 600.0, shuttle=True),
        LineSpec("S1", (b, a), (ride_s,), 600.0, shuttle=True),
    ]
    ba = _ba(real, link, scenario)
    # by hand: the stops are at the zone centres (no walk): half the 10-minute headway + the ride
    bound = 5.0 + ride_s / 60
    assert ba.after_min[o, t] <= bound + 1e-6
    assert ba.before_min[o, t] > bound + 5  # the worst-served pair 3-6 km apart takes far longer
    assert ba.gain_min[o, t] > 5
    assert ba.trips_gaining >= 2.0  # that pair both ways (one trip each)
    assert ba.shuttle_boardings >= 2.0
    assert ds.walk_speed_kmh > 0


# ---------------------------------------------------------------------------------------------
# the map


def _figures_for(plan) -> existing.ExistingFigures:  # noqa: ANN001
    """Hand figures for the toy plan: two dongs (the first gains 6 min), hostile route names."""
    square = (((37.550, 126.930), (37.550, 126.940), (37.560, 126.940), (37.560, 126.930)),)
    other = (((37.560, 126.930), (37.560, 126.940), (37.570, 126.940), (37.570, 126.930)),)
    zones = (
        existing.ZoneArea("1141000001", "신촌동", 11410, 37.555, 126.935, (square,)),
        existing.ZoneArea("1141000002", HOSTILE, 11410, 37.565, 126.935, (other,)),
    )
    ba = BeforeAfter(
        before_min=np.array([[np.nan, 20.0], [20.0, np.nan]]),
        after_min=np.array([[np.nan, 14.0], [14.0, np.nan]]),
        trips=np.array([[0.0, 10.0], [0.0, 0.0]]),
        threshold_min=5.0,
        shuttle_boardings=10.0,
    )
    return existing.ExistingFigures(
        zones=zones,
        comparisons=(existing.PeriodComparison("weekday", "offpeak", ba),),
        near_stops=(("S0001", ("7019", HOSTILE)),),
        bus_routes=2,
    )


def test_map_data_lists_existing_routes_and_the_gain_layer(scenario: Scenario) -> None:
    import json
    import re

    from mapplan import toy_plan

    from shuttle import maps

    plan = toy_plan(scenario)
    plan = dataclasses.replace(plan, existing=_figures_for(plan))
    text = maps.render_html(plan)
    assert text == maps.render_html(plan)  # byte-stable
    data = json.loads(re.search(r"var D = (\{.*?\});\n", text).group(1))
    by_id = {s["id"]: s for s in data["stops"]}
    assert by_id["S0001"]["existing"] == ["7019", HOSTILE]
    assert by_id["S0002"]["existing"] == []
    assert HOSTILE not in text.replace(json.dumps(HOSTILE)[1:-1], "")  # only as JSON text
    assert text.count("gain-dong") == 2
    # no figures: no layer, no names
    plain = maps.render_html(toy_plan(scenario))
    assert "gain-dong" not in plain


@pytest.mark.browser
def test_popup_lists_existing_routes_as_text(scenario: Scenario, tmp_path: Path) -> None:
    from browser.offline import PageLog, chromium, install_routes
    from mapplan import toy_plan

    from shuttle import maps

    plan = toy_plan(scenario)
    plan = dataclasses.replace(plan, existing=_figures_for(plan))
    url = maps.save_map(plan, tmp_path).as_uri()
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        log = PageLog()
        install_routes(page, log)
        page.goto(url)
        page.wait_for_selector(".stop-marker")
        page.locator("path.stop-S0001").dispatch_event("click")
        box = page.locator(".leaflet-popup-content .stop-existing")
        box.wait_for()
        assert "7019" in box.inner_text()
        assert HOSTILE in box.inner_text()  # shown as text, never as markup
        assert page.locator(".leaflet-popup-content img").count() == 0
        assert page.evaluate("window.__xss") is None
        # the gain layer is off until chosen in the layer control
        assert page.locator("path.gain-dong").count() == 0
        page.locator("label", has_text="동별 통행시간 단축").locator("input").dispatch_event(
            "click"
        )
        assert page.locator("path.gain-dong").count() == 2
        assert log.errors == []
        page.close()


def test_shuttle_lines_use_the_run_time_model_and_the_timetable(scenario: Scenario) -> None:
    plan = pipeline.make_plan(scenario, design=toy_design())
    svc = scenario.service
    f = svc.time_factor("peak")
    heads = {
        r.route_id: dict(r.headways_min)["peak"]
        for r in plan.timetable.fleet
        if r.service_id == "weekday"
    }
    lines = {ln.line_id: ln for ln in existing.shuttle_lines(plan, "peak")}
    stops = {s.stop_id: s for s in plan.stops}
    for r in plan.routes:
        for p in r.patterns:
            ln = lines[f"shuttle:{r.route_id}:{p.direction_id}"]
            assert ln.shuttle
            assert ln.headway_s == heads[r.route_id] * 60
            # by hand: arrival k = round(free-flow to k x factor + dwell x stops passed)
            cum = np.cumsum([0, *p.run_times_s])
            arr = [0] + [round(c * f + svc.dwell_s * (k - 1)) for k, c in enumerate(cum[1:], 1)]
            assert ln.run_s == tuple(float(b - a) for a, b in zip(arr, arr[1:], strict=False))
            for (key, lon, lat), sid in zip(ln.stops, p.stop_ids, strict=True):
                s = stops[sid]
                assert key == (f"ars:{s.ars}" if s.ars else f"shuttle:{sid}")
                assert (lon, lat) == (s.lon, s.lat)
