"""Route designer: the default network (greedy and anneal), a hand-built grid, bad inputs."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import re
import zipfile

import networkx as nx
import numpy as np
import pytest

from shuttle import colors, design, geo, router, runtime
from shuttle import stops as stops_mod
from shuttle.config import Anchor, Scenario
from shuttle.errors import ConfigError, DesignError

# ------------------------------------------------------------------------------------------------
# fixtures: at most two designs of the default network per session


@pytest.fixture(params=sorted(design.ALGORITHMS))
def method(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _with_design(scenario: Scenario, **changes: object) -> Scenario:
    return dataclasses.replace(scenario, design=dataclasses.replace(scenario.design, **changes))


def _distinct_succ(G: nx.MultiDiGraph, n: int) -> int:
    return len(set(G.successors(n)) - {n})


# ------------------------------------------------------------------------------------------------
# the default network


def test_k_routes_with_ids_colours_and_contrast(designs, scenario, method) -> None:
    d = designs[method]
    assert [r.route_id for r in d.routes] == [f"R{i}" for i in range(1, scenario.design.routes + 1)]
    # numbers and colours follow the scenario's scheme (nw3: Seoul's branch-bus green, 1..K)
    rc = scenario.routes
    for i, r in enumerate(d.routes):
        style = colors.route_style(
            i, rc.scheme, prefix=rc.number_prefix, start=rc.number_start, width=rc.number_width
        )
        assert (r.short_name, r.color, r.text_color) == style
    assert len({r.short_name for r in d.routes}) == len(d.routes)
    for r in d.routes:
        assert design.contrast_ratio(r.color, r.text_color) >= 4.5
        assert len(r.patterns) == 2
        assert [p.direction_id for p in r.patterns] == [0, 1]
        assert "–" in r.long_name_ko
        assert r.long_name_en


def test_every_anchor_served(designs, method) -> None:
    d = designs[method]
    served = {s.anchor for s in d.stops if s.anchor}
    assert {p.name_ko for p in d.places} <= served
    on_route = {s for r in d.routes for p in r.patterns for s in p.stop_ids}
    assert {s.stop_id for s in d.stops} == on_route
    assert list(d.stops) == sorted(d.stops, key=lambda s: s.stop_id)


def test_routes_stay_in_graph_without_uturns_or_repeats(designs, road_graph, method) -> None:
    G = road_graph
    stops = {s.stop_id: s for s in designs[method].stops}
    for r in designs[method].routes:
        for p in r.patterns:
            nodes = p.node_path
            edges = list(zip(nodes[:-1], nodes[1:], strict=True))
            assert all(G.has_edge(u, v) for u, v in edges), r.route_id
            assert not any(a == c for a, c in zip(nodes[:-2], nodes[2:], strict=True)), r.route_id
            assert len(set(edges)) == len(edges), f"{r.route_id} repeats a road edge"
            assert all(stops[s].node in set(nodes) for s in p.stop_ids)


def test_directions_share_their_terminal_stops(designs, method) -> None:
    # each trip ends at the stop where the next trip of its bus starts (after the turnaround)
    for r in designs[method].routes:
        fwd, back = r.patterns
        assert fwd.stop_ids[-1] == back.stop_ids[0], r.route_id
        assert back.stop_ids[-1] == fwd.stop_ids[0], r.route_id
        assert fwd.shape[-1] == back.shape[0], r.route_id
        assert back.shape[-1] == fwd.shape[0], r.route_id


def test_clean_paths(designs, method) -> None:
    """Within one direction no road segment is driven twice (either way), no stop served twice."""
    for r in designs[method].routes:
        for p in r.patterns:
            segs = [frozenset(uv) for uv in zip(p.node_path[:-1], p.node_path[1:], strict=True)]
            twice = sorted({tuple(sorted(s)) for s in segs if segs.count(s) > 1})
            assert not twice, f"{r.route_id} direction {p.direction_id} drives {twice} twice"
            assert len(set(p.stop_ids)) == len(p.stop_ids), r.route_id


def test_bus_roads_only(designs, scenario, method) -> None:
    """nw3 allows no minor street (design.minor_access_m = 0): 0 km on them, none reported."""
    assert scenario.design.minor_access_m == 0.0
    bus = set(scenario.design.bus_classes)
    for rk, r in zip(designs[method].kpis.routes, designs[method].routes, strict=True):
        classes = dict(rk.km_by_class)
        assert set(classes) <= bus, (r.route_id, classes)
        assert rk.minor_uses == ()
        # the km by class add up to both directions' road length (node path, incl. the part of
        # the first and last edge beyond the terminal stops)
        assert sum(classes.values()) >= sum(p.length_m for p in r.patterns) / 1000.0 - 0.01


def test_detour_ratio_bounded(designs, scenario, method) -> None:
    for rk in designs[method].kpis.routes:
        assert rk.detour_ratio >= 1.0
        if rk.detour_ratio > scenario.design.max_detour_ratio:
            assert rk.detour_anchor, rk.route_id  # only where an anchor forces it
        assert len(rk.turnarounds) == 2
        assert all(kind in ("terminal", "block") for kind, _, _ in rk.turnarounds)


def _stop_positions(p, stops) -> list[int]:  # noqa: ANN001
    """Index in the node path of each stop's node, in order along the path."""
    out = []
    start = 0
    for sid in p.stop_ids:
        i = p.node_path.index(stops[sid].node, start)
        out.append(i)
        start = i
    return out


def test_pattern_geometry_and_spacing(designs, road_graph, scenario, method) -> None:
    G = road_graph
    st = scenario.stops
    stops = {s.stop_id: s for s in designs[method].stops}
    for r in designs[method].routes:
        for p in r.patterns:
            assert p.stop_dist_m[0] == 0.0
            assert math.isclose(p.stop_dist_m[-1], p.length_m, abs_tol=0.2)
            assert all(t > 0 for t in p.run_times_s)
            # shape length agrees with the road length between the terminal stops
            shape_m = geo.path_length_m(p.shape)
            assert abs(shape_m - p.length_m) <= 0.02 * p.length_m + 5.0
            gaps = np.diff(p.stop_dist_m)
            # longer gaps only where the road between the stops has nowhere to stop (expressway,
            # tunnel, bridge: the forced case of stops.place_stops)
            pos = _stop_positions(p, stops)
            for i, g in enumerate(gaps):
                # 1 m: stop distances are rounded
                if g > st.max_spacing_m + 1.0:
                    seg = p.node_path[max(0, pos[i] - 1) : pos[i + 1] + 2]
                    assert any(
                        not stops_mod.stoppable(d)
                        for u, v in zip(seg[:-1], seg[1:], strict=True)
                        for d in G[u][v].values()
                    ), f"{r.route_id}: gap of {g:.0f} m on stoppable road"
            other = next(q for q in r.patterns if q is not p)
            paired = _paired(p, other, stops, st.real_stop_snap_m)
            ends = {p.stop_ids[0], p.stop_ids[-1]}
            for i, g in enumerate(gaps):
                # never two stops within stops.real_stop_snap_m but at a route end (the terminal
                # stop is where the turnaround loop lets both directions meet); below
                # min_spacing_m only next to a stop the spacing cannot move: a route end, an
                # anchor's stop, one of a pair across the road (a new stop's partner, or the bus
                # stop there: the real stop wins over the spacing), or a new stop kept clear of
                # bus stops (at least min_spacing_m / 2 from its neighbours)
                a, b = p.stop_ids[i], p.stop_ids[i + 1]
                at_end = a in ends or b in ends
                assert g >= st.real_stop_snap_m or at_end, (r.route_id, p.direction_id, i, g)
                if g < st.min_spacing_m - 1.0:
                    fixed = {x for x in (a, b) if x in ends or stops[x].anchor or x in paired}
                    kept_clear = g >= st.min_spacing_m / 2 and (
                        stops[a].ars is None or stops[b].ars is None
                    )
                    assert fixed or kept_clear, (r.route_id, p.direction_id, i, round(g))


def _paired(p, other, stops, snap_m: float) -> set[str]:  # noqa: ANN001
    """Stops of pattern ``p`` with a partner across the road in ``other``: a new stop with a new
    stop of its name within 60 m, a bus stop within ``snap_m`` + 25 m of a new stop."""
    out = set()
    mine = [stops[i] for i in p.stop_ids]
    theirs = [stops[i] for i in other.stop_ids]
    for s in mine:
        for t in theirs:
            d = geo.haversine_m(s.lat, s.lon, t.lat, t.lon)
            both_new = s.ars is None and t.ars is None
            if (both_new and s.name_ko == t.name_ko and d <= 60.0) or (
                (s.ars is None) != (t.ars is None) and d <= snap_m + 25.0
            ):
                out.add(s.stop_id)
    return out


def test_bounds_hold(designs, scenario, method) -> None:
    ds = scenario.design
    k = designs[method].kpis
    for rk, r in zip(k.routes, designs[method].routes, strict=True):
        assert rk.route_id == r.route_id
        assert max(p.length_m for p in r.patterns) <= ds.max_route_km * 1000.0
        assert rk.cycle_s <= ds.max_cycle_min * 60.0
        # the bound holds at the slowest period (peak x1.35), dwell and layovers included
        assert runtime.cycle_time_s(r, scenario.service) <= ds.max_cycle_min * 60.0
        assert min(len(set(p.stop_ids)) for p in r.patterns) >= ds.min_stops
        assert rk.cycle_s > 2 * rk.one_way_s - 2  # cycle includes both ways and layovers


def test_kpis_consistent(designs, method) -> None:
    k = designs[method].kpis
    assert k.method == method
    for v in (k.d0, k.d1, k.d2, k.dun):
        assert 0.0 <= v <= 100.0
    assert abs(k.d0 + k.d1 + k.d2 + k.dun - 100.0) <= 0.01
    assert 0.0 < k.coverage < 1.0
    assert k.att_min > 0
    assert k.vehicle_hours > 0
    assert {row[0] for row in k.coverage_by_district} == {11410, 11380, 11440}
    assert designs[method].catchment is not None


def test_anneal_beats_greedy(designs) -> None:
    assert designs["anneal"].kpis.objective <= designs["greedy"].kpis.objective


def test_json_and_geojson(designs) -> None:
    d = designs["greedy"]
    js = design.design_to_json(d)
    text = json.dumps(js, ensure_ascii=False, sort_keys=True)
    assert json.loads(text) == js
    assert [r["route_id"] for r in js["routes"]] == [r.route_id for r in d.routes]
    p0 = js["routes"][0]["patterns"][0]
    assert len(p0["stop_ids"]) == len(p0["stop_names_ko"]) == len(p0["run_times_s"]) + 1
    assert p0["node_path"]
    gj = design.design_to_geojson(d)
    assert gj["type"] == "FeatureCollection"
    lines = [f for f in gj["features"] if f["geometry"]["type"] == "LineString"]
    points = [f for f in gj["features"] if f["geometry"]["type"] == "Point"]
    assert len(lines) == sum(len(r.patterns) for r in d.routes)
    assert len(points) == len(d.stops)
    lon, lat = lines[0]["geometry"]["coordinates"][0]
    assert 126.8 < lon < 127.0  # lon/lat order
    assert 37.5 < lat < 37.7
    assert all(f["properties"]["routes"] for f in points)


def test_deterministic(road_graph, scenario) -> None:
    small = _with_design(scenario, iterations=300)
    a = design.design_network(road_graph, small, method="anneal")
    b = design.design_network(road_graph, small, method="anneal")
    assert a == b
    assert design.design_to_json(a) == design.design_to_json(b)


# ------------------------------------------------------------------------------------------------
# bad input


def test_anchor_off_network(road_graph, scenario) -> None:
    # inside Eunpyeong-gu (Bukhansan), about 1.9 km from the nearest road node
    far = Anchor(kind="point", name="북한산 비봉", name_en="Bibong Peak", lat=37.630, lon=126.960)
    sc = dataclasses.replace(scenario, anchors=(*scenario.anchors, far))
    with pytest.raises(DesignError, match="북한산 비봉"):
        design.design_network(road_graph, sc, method="greedy")


def test_too_many_routes(road_graph, scenario) -> None:
    with pytest.raises(DesignError, match=r"design\.routes = 5000 in .*nw3\.toml"):
        design.design_network(road_graph, _with_design(scenario, routes=5000), method="greedy")


def test_route_km_too_short(road_graph, scenario) -> None:
    sc = _with_design(scenario, max_route_km=0.5, min_stops=2)
    with pytest.raises(DesignError, match=r"design\.max_route_km = 0\.5"):
        design.design_network(road_graph, sc, method="greedy")


def test_min_stops_impossible(road_graph, scenario) -> None:
    with pytest.raises(DesignError, match=r"design\.min_stops = 80"):
        design.design_network(road_graph, _with_design(scenario, min_stops=80), method="greedy")


def test_cycle_too_short(road_graph, scenario) -> None:
    with pytest.raises(DesignError, match=r"design\.max_cycle_min = 10"):
        design.design_network(road_graph, _with_design(scenario, max_cycle_min=10.0))


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ("max_turn_deg = 200.0", "design.max_turn_deg"),
        ('bus_classes = ["lane"]', "design.bus_classes"),
        ("bus_classes = []", "design.bus_classes"),
        ("max_detour_ratio = 0.9", "design.max_detour_ratio"),
        ("minor_access_m = -5.0", "design.minor_access_m"),
    ],
)
def test_bad_design_keys(tmp_path, new: str, expected: str) -> None:  # noqa: ANN001
    from shuttle.config import load_scenario, scenario_path

    text = scenario_path("nw3").read_text(encoding="utf-8")
    p = tmp_path / "bad.toml"
    key = new.split(" = ")[0]
    text = re.sub(rf"^{key} = .*$", new, text, count=1, flags=re.MULTILINE)
    assert new in text
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_scenario(p)
    assert expected in str(e.value)
    assert str(p) in str(e.value)


def test_unknown_terminal(tmp_path) -> None:  # noqa: ANN001
    from shuttle.config import load_scenario, scenario_path

    text = scenario_path("nw3").read_text(encoding="utf-8")
    p = tmp_path / "t.toml"
    p.write_text(text + '\n[[terminals]]\nname = "없는차고지"\n', encoding="utf-8")
    sc = load_scenario(p)
    assert sc.terminals[0].name == "없는차고지"
    with pytest.raises(ConfigError, match=r"terminals\[0\].*없는차고지"):
        design.resolve_terminals(sc, stops_mod.read_bus_stops(sc))
    # a real one resolves to its stop: 진관공영차고지 (ARS 12469, 126.9080, 37.6467 in the list)
    p.write_text(text + '\n[[terminals]]\nname = "진관공영차고지"\n', encoding="utf-8")
    sc = load_scenario(p)
    ((name, lat, lon),) = design.resolve_terminals(sc, stops_mod.read_bus_stops(sc))
    assert name == "진관공영차고지"
    assert (round(lat, 3), round(lon, 3)) == (37.647, 126.908)


def test_unknown_method(road_graph, scenario) -> None:
    with pytest.raises(ConfigError, match=r"design\.method"):
        design.design_network(road_graph, scenario, method="genetic")


def test_text_colour_contrast() -> None:
    for c in colors.PALETTE:
        assert design.contrast_ratio(c, design.text_color_for(c)) >= 4.5
    assert design.text_color_for("FFFF00") == "000000"
    assert design.text_color_for("000075") == "FFFFFF"


# ------------------------------------------------------------------------------------------------
# the default feed: no turn above the limit along any bus's day


def _read(z: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    with z.open(name) as f:
        return list(csv.DictReader(io.TextIOWrapper(f, encoding="utf-8-sig")))


def _thin(pts: list[tuple[float, float]], min_m: float) -> list[tuple[float, float]]:
    """Shape points at least ``min_m`` apart (rounding to 1e-6 degree makes tiny segments)."""
    out = [pts[0]]
    for p in pts[1:]:
        if geo.haversine_m(*out[-1], *p) >= min_m:
            out.append(p)
    return out


def _heading(a: tuple[float, float], b: tuple[float, float]) -> float:
    return router.bearing_deg(*a, *b)


def test_feed_blocks_turn_at_most_the_limit(default_feed, scenario) -> None:  # noqa: ANN001
    """Walk every block shape point to shape point and trip to trip: no turn above the limit."""
    limit = scenario.design.max_turn_deg
    z = zipfile.ZipFile(default_feed)
    raw: dict[str, list[tuple[int, float, float]]] = {}
    for row in _read(z, "shapes.txt"):
        raw.setdefault(row["shape_id"], []).append(
            (int(row["shape_pt_sequence"]), float(row["shape_pt_lat"]), float(row["shape_pt_lon"]))
        )
    shapes = {k: _thin([(a, b) for _, a, b in sorted(v)], 1.0) for k, v in raw.items()}
    worst = 0.0
    for sid, pts in shapes.items():  # inside each trip
        for a, b, c in zip(pts, pts[1:], pts[2:], strict=False):
            t = router.turn_deg(_heading(a, b), _heading(b, c))
            assert t <= limit + 1e-6, f"shape {sid} turns {t:.0f} deg at {b}"
            worst = max(worst, t)
    first: dict[str, int] = {}
    for row in _read(z, "stop_times.txt"):
        h, m, s = (int(x) for x in row["departure_time"].split(":"))
        first[row["trip_id"]] = min(first.get(row["trip_id"], 10**9), h * 3600 + m * 60 + s)
    blocks: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for t in _read(z, "trips.txt"):
        assert t["block_id"], t["trip_id"]
        blocks.setdefault((t["service_id"], t["block_id"]), []).append(
            (first[t["trip_id"]], t["shape_id"])
        )
    joins = 0
    for key, trips in blocks.items():  # from one trip to the next of the same bus
        trips.sort()
        for (_, s1), (_, s2) in zip(trips, trips[1:], strict=False):
            a, b = shapes[s1], shapes[s2]
            assert geo.haversine_m(*a[-1], *b[0]) < 1.0, f"{key}: {s2} starts where {s1} ended"
            t = router.turn_deg(_heading(a[-2], a[-1]), _heading(b[0], b[1]))
            assert t <= limit + 1e-6, f"{key}: {s1} -> {s2} turns {t:.0f} deg"
            joins += 1
    assert joins > 0
    assert worst > 60.0  # the walk does see real turns (a city bus turns at right angles)


def test_feed_trips_serve_each_stop_once(default_feed) -> None:  # noqa: ANN001
    z = zipfile.ZipFile(default_feed)
    seen: dict[str, list[str]] = {}
    for row in _read(z, "stop_times.txt"):
        seen.setdefault(row["trip_id"], []).append(row["stop_id"])
    for trip, stops in seen.items():
        assert len(set(stops)) == len(stops), trip


def test_report_has_route_roads(designs) -> None:  # noqa: ANN001
    js = design.design_to_json(designs["anneal"])
    for r in js["routes"]:
        k = r["kpi"]
        assert k["detour_ratio"] >= 1.0
        assert set(k["km_by_class"]) <= {"primary", "secondary", "tertiary"}
        assert len(k["turnarounds"]) == 2


def test_route_ids_sort_in_route_order() -> None:
    from shuttle.model import route_id

    assert [route_id(i, 8) for i in range(8)] == [f"R{i}" for i in range(1, 9)]
    ids = [route_id(i, 14) for i in range(14)]
    assert ids[0] == "R01"
    assert ids[9] == "R10"
    assert ids[13] == "R14"
    # a listing sorted by id (the feed's route_sort_order, the map, the report) keeps the order
    assert sorted(ids) == ids
    assert sorted(route_id(i, 120) for i in range(120)) == [route_id(i, 120) for i in range(120)]
