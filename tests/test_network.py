"""The road graph (shuttle.network): real tiles, small OSM/PBF/GraphML sources, cache, errors."""

from __future__ import annotations

import bz2
import dataclasses
import json
import logging
import math
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import osmium
import osmnx as ox
import pytest
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import LineString

from shuttle import areas, geo, network, tiles
from shuttle.config import Scenario
from shuttle.errors import ConfigError, DataError, GraphError

MAJOR = ("primary", "secondary", "tertiary")
OFFICES = ("서대문구청", "은평구청", "마포구청")


def _with_source(scenario: Scenario, source: str, path: str | Path, **kw: Any) -> Scenario:
    net = dataclasses.replace(scenario.network, source=source, path=str(path), **kw)
    return dataclasses.replace(scenario, network=net)


def _types(G: nx.MultiDiGraph) -> dict[str, set[str]]:
    """Attribute name -> set of type names, over the graph, nodes and edges."""
    out: dict[str, set[str]] = {}
    out["node_id"] = {type(n).__name__ for n in G.nodes}
    for _, d in G.nodes(data=True):
        for k, v in d.items():
            out.setdefault(f"node.{k}", set()).add(type(v).__name__)
    for *_, d in G.edges(keys=True, data=True):
        for k, v in d.items():
            out.setdefault(f"edge.{k}", set()).add(type(v).__name__)
    for k, v in G.graph.items():
        out.setdefault(f"graph.{k}", set()).add(type(v).__name__)
    return out


def _check_contract(G: nx.MultiDiGraph, classes: tuple[str, ...]) -> None:
    assert G.graph["crs"] == "epsg:4326"
    assert G.graph["simplified"] is True
    for n, d in G.nodes(data=True):
        assert type(n) is int
        assert type(d["x"]) is float
        assert type(d["y"]) is float
        assert type(d["street_count"]) is int
    for u, v, k, d in G.edges(keys=True, data=True):
        assert type(u) is int
        assert type(v) is int
        assert type(k) is int
        assert type(d["length"]) is float
        assert d["length"] > 0
        assert isinstance(d["geometry"], LineString)
        assert d["geometry"].coords[0] == (G.nodes[u]["x"], G.nodes[u]["y"])
        assert d["geometry"].coords[-1] == (G.nodes[v]["x"], G.nodes[v]["y"])
        assert type(d["highway"]) is str
        assert d["highway"] in classes
        assert type(d["oneway"]) is bool
        assert type(d["name"]) is str
        assert type(d["brunnel"]) is str
        assert type(d["speed_kph"]) is float
        assert type(d["travel_time"]) is float
        assert math.isclose(d["travel_time"], d["length"] / (d["speed_kph"] / 3.6))


# ----------------------------------------------------------------------------------------------
# the default build from the real tiles (built once per session)


@pytest.fixture(scope="session")
def tile_graph(road_graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """The session's road graph of nw3 from the tiles (conftest ``road_graph``, ``cache_dir``)."""
    return road_graph


@pytest.fixture(scope="session")
def tile_info(tile_graph: nx.MultiDiGraph, scenario: Scenario) -> network.NetworkInfo:
    return network.graph_info(tile_graph, scenario)


def test_tile_graph_is_one_strong_component(
    tile_graph: nx.MultiDiGraph, scenario: Scenario
) -> None:
    assert nx.is_strongly_connected(tile_graph)
    _check_contract(tile_graph, scenario.network.classes)
    assert tile_graph.graph["source"] == "tiles"
    assert tile_graph.graph["districts"] == scenario.districts


def test_tile_graph_nodes_per_district(tile_graph: nx.MultiDiGraph, scenario: Scenario) -> None:
    xy = np.array([(d["x"], d["y"]) for _, d in tile_graph.nodes(data=True)])
    for code, poly in areas.district_polygons(scenario).items():
        assert shapely.contains_xy(poly, xy[:, 0], xy[:, 1]).sum() >= 3000, code


def test_tile_graph_named_share(
    tile_graph: nx.MultiDiGraph, tile_info: network.NetworkInfo
) -> None:
    length = {c: [0.0, 0.0] for c in MAJOR}
    for *_, d in tile_graph.edges(data=True):
        if d["highway"] in MAJOR:
            w = d["length"] * (1.0 if d["oneway"] else 0.5)  # two-way roads counted once
            length[d["highway"]][0] += w
            length[d["highway"]][1] += w if d["name"] else 0.0
    total = sum(a for a, _ in length.values())
    assert sum(b for _, b in length.values()) / total >= 0.80
    assert math.isclose(tile_info.named_share_major, sum(b for _, b in length.values()) / total)


def test_tile_graph_report(tile_graph: nx.MultiDiGraph) -> None:
    r = tile_graph.graph["build_report"]
    assert [reason for reason, _ in r.dropped] == ["class", "clip", "component"]
    assert r.dropped_for("class").km > 100  # service, track and path roads
    assert r.dropped_for("clip").edges > 0
    kept_km = r.input_km - sum(d.km for _, d in r.dropped)
    assert math.isclose(kept_km, r.km, rel_tol=1e-3)  # simplification keeps every metre
    assert (r.nodes, r.edges) == (tile_graph.number_of_nodes(), tile_graph.number_of_edges())


def test_tile_graph_matches_real_osm(tile_graph: nx.MultiDiGraph, data_dir: Path) -> None:
    """Intersections of an independent real OSM graph lie within metres of our nodes."""
    R = ox.load_graphml(data_dir / "osm" / "seoul_central_drive_osmnx_2023-12.graphml")
    ours = np.array([(d["x"], d["y"]) for _, d in tile_graph.nodes(data=True)])
    hull = shapely.MultiPoint(ours).convex_hull.buffer(-0.003)  # well inside our coverage
    real = np.array(
        [(d["x"], d["y"]) for _, d in R.nodes(data=True) if int(d.get("street_count", 0)) >= 3]
    )
    real = real[shapely.contains_xy(hull, real[:, 0], real[:, 1])]
    assert len(real) > 300
    tree = cKDTree(np.column_stack(geo.to_metric_xy(ours[:, 0], ours[:, 1])))
    dist, _ = tree.query(np.column_stack(geo.to_metric_xy(real[:, 0], real[:, 1])))
    assert np.median(dist) < 5.0
    # and our y axis is not flipped: flipped, the same test is hundreds of metres off
    assert np.quantile(dist, 0.75) < 15.0


def test_offices_drive_within_detour_bounds(
    tile_graph: nx.MultiDiGraph, data_dir: Path, scenario: Scenario
) -> None:
    pois = tiles.read_pois(data_dir / scenario.network.path, (126.85, 37.53, 126.98, 37.67))
    office = {p.name: p for p in pois if p.cls == "town_hall" and p.name in OFFICES}
    assert set(office) == set(OFFICES)
    names = list(OFFICES)
    nodes = network.nearest_nodes(
        tile_graph, [office[n].lat for n in names], [office[n].lon for n in names]
    )
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if i == j:
                continue
            km = nx.shortest_path_length(tile_graph, int(nodes[i]), int(nodes[j]), weight="length")
            straight = geo.haversine_m(office[a].lat, office[a].lon, office[b].lat, office[b].lon)
            assert 1.0 <= km / straight <= 1.6, (a, b, km, straight)


def test_cached_load_is_identical(
    tile_graph: nx.MultiDiGraph,
    scenario: Scenario,
    cache_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert network.cache_path(scenario, cache_dir).is_file()

    def no_build(*a: Any, **k: Any) -> None:
        raise AssertionError("the cache was not used")

    monkeypatch.setattr(network, "_build", no_build)
    G = network.load_graph(scenario, cache_dir=cache_dir)
    assert G is not tile_graph
    assert _types(G) == _types(tile_graph)
    assert list(G.nodes(data=True)) == list(tile_graph.nodes(data=True))
    assert list(G.edges(keys=True, data=True)) == list(tile_graph.edges(keys=True, data=True))
    assert G.graph == tile_graph.graph


def test_cache_key_depends_on_parameters(scenario: Scenario, tmp_path: Path) -> None:
    base = network.cache_path(scenario, tmp_path)
    assert network.cache_path(scenario, tmp_path) == base
    other = [
        dataclasses.replace(
            scenario, network=dataclasses.replace(scenario.network, buffer_m=300.0)
        ),
        dataclasses.replace(
            scenario, network=dataclasses.replace(scenario.network, classes=("primary",))
        ),
        dataclasses.replace(scenario, districts=(11410, 11380)),
        dataclasses.replace(
            scenario, network=dataclasses.replace(scenario.network, speeds_kph=(("minor", 10.0),))
        ),
    ]
    keys = {network.cache_path(s, tmp_path) for s in other}
    assert base not in keys
    assert len(keys) == len(other)


def test_info_table(tile_info: network.NetworkInfo, scenario: Scenario) -> None:
    info = tile_info
    assert math.isclose(sum(km for *_, km in info.km_by_district), info.road_km, rel_tol=1e-6)
    assert math.isclose(sum(km for _, km in info.km_by_class), info.road_km, rel_tol=1e-6)
    assert [c for c, _, _ in info.km_by_district] == [*scenario.districts, 0]
    assert all(km > 200 for c, _, km in info.km_by_district if c)
    text = network.format_info(info)
    for word in ("Seodaemun-gu", "Eunpyeong-gu", "Mapo-gu", "primary", "minor", "component"):
        assert word in text
    assert f"{info.nodes:,}" in text


def test_nearest_nodes_returns_the_node_itself(tile_graph: nx.MultiDiGraph) -> None:
    ids = list(tile_graph.nodes)[::997]
    lats = [tile_graph.nodes[n]["y"] for n in ids]
    lons = [tile_graph.nodes[n]["x"] for n in ids]
    got = network.nearest_nodes(tile_graph, lats, lons)
    assert got.dtype == np.int64
    assert got.tolist() == ids
    one = network.nearest_nodes(tile_graph, lats[0] + 1e-6, lons[0])
    assert one.shape == (1,)
    assert int(one[0]) == ids[0]


# ----------------------------------------------------------------------------------------------
# small sources: tests/data/tiny.osm (hand-made, in Mapo-gu), a PBF and GraphML made from it


@pytest.fixture(scope="module")
def tiny_osm(fixtures_dir: Path) -> Path:
    return fixtures_dir / "tiny.osm"


@pytest.fixture(scope="module")
def osm_graph(scenario: Scenario, tiny_osm: Path) -> nx.MultiDiGraph:
    return network.load_graph(_with_source(scenario, "osm", tiny_osm), use_cache=False)


def _edge(G: nx.MultiDiGraph, u: int, v: int) -> dict[str, Any]:
    data = G.get_edge_data(u, v)
    assert data is not None, (u, v)
    return next(iter(data.values()))


def test_osm_source(osm_graph: nx.MultiDiGraph, scenario: Scenario) -> None:
    G = osm_graph
    _check_contract(G, scenario.network.classes)
    assert nx.is_strongly_connected(G)
    assert G.graph["source"] == "osm"
    hw = {d["highway"] for *_, d in G.edges(data=True)}
    assert hw == {"primary", "secondary", "tertiary", "minor"}  # service and footway dropped
    assert 17 not in G
    assert 19 not in G
    # oneway=yes: 5 -> 8 only; oneway=-1: 12 -> 9 only
    assert G.has_edge(5, 6)
    assert not G.has_edge(6, 5)
    assert G.has_edge(12, 11)
    assert not G.has_edge(11, 12)
    assert _edge(G, 1, 2)["name"] == "월드컵로"
    assert _edge(G, 1, 2)["osmid"] == 101
    assert _edge(G, 2, 6)["highway"] == "minor"  # living_street
    assert _edge(G, 10, 9)["name"] == ""
    # 16-20 is a two-way bridge; 20-21-16 a link road beside it: parallel edges 20 -> 16
    assert {d["brunnel"] for d in G.get_edge_data(16, 20).values()} == {"bridge", ""}
    assert sorted(len(d["geometry"].coords) for d in G.get_edge_data(20, 16).values()) == [2, 3]
    report = G.graph["build_report"]
    assert report.dropped_for("class").edges == 4 + 2  # service (2 segments) + footway, both ways
    assert report.dropped_for("clip").edges == 0
    assert _edge(G, 1, 2)["speed_kph"] == scenario.network.speed_for("primary")


def test_bz2_osm_source(
    osm_graph: nx.MultiDiGraph, scenario: Scenario, tiny_osm: Path, tmp_path: Path
) -> None:
    p = tmp_path / "tiny.osm.bz2"
    p.write_bytes(bz2.compress(tiny_osm.read_bytes()))
    G = network.load_graph(_with_source(scenario, "osm", p), use_cache=False)
    assert list(G.edges(data="length")) == list(osm_graph.edges(data="length"))


def test_pbf_source_equals_osm(
    osm_graph: nx.MultiDiGraph, scenario: Scenario, tiny_osm: Path, tmp_path: Path
) -> None:
    pbf = tmp_path / "tiny.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as w:
        for obj in osmium.FileProcessor(str(tiny_osm)):
            w.add(obj)
    assert pbf.read_bytes()[:4] != b"<?xm"
    G = network.load_graph(_with_source(scenario, "pbf", pbf), use_cache=False)
    assert G.graph["source"] == "pbf"
    assert list(G.nodes(data=True)) == list(osm_graph.nodes(data=True))
    assert list(G.edges(keys=True, data=True)) == list(osm_graph.edges(keys=True, data=True))


def test_graphml_source_from_osmnx(
    osm_graph: nx.MultiDiGraph, scenario: Scenario, tiny_osm: Path, tmp_path: Path
) -> None:
    """An OSMnx-simplified GraphML with raw OSM highway tags gives the same roads."""
    p = tmp_path / "tiny.graphml"
    ox.save_graphml(ox.graph_from_xml(tiny_osm), p)
    G = network.load_graph(_with_source(scenario, "graphml", p), use_cache=False)
    _check_contract(G, scenario.network.classes)
    assert G.graph["source"] == "graphml"
    assert {d["highway"] for *_, d in G.edges(data=True)} == {
        "primary",
        "secondary",
        "tertiary",
        "minor",
    }
    assert math.isclose(
        G.graph["build_report"].km, osm_graph.graph["build_report"].km, rel_tol=1e-6
    )


def test_own_graphml_export_round_trip(
    osm_graph: nx.MultiDiGraph, scenario: Scenario, tmp_path: Path
) -> None:
    p = network.save_graphml(osm_graph, tmp_path / "out" / "tiny.graphml")
    assert ox.load_graphml(p).number_of_edges() == osm_graph.number_of_edges()
    G = network.load_graph(_with_source(scenario, "graphml", p), use_cache=False)
    assert _types(G) == _types(osm_graph)
    assert sorted(G.edges(keys=False, data="name")) == sorted(
        osm_graph.edges(keys=False, data="name")
    )


def test_osm_cache_round_trip(
    scenario: Scenario, tiny_osm: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sc = _with_source(scenario, "osm", tiny_osm)
    fresh = network.load_graph(sc, cache_dir=tmp_path)
    with caplog.at_level(logging.INFO, logger="shuttle.network"):
        cached = network.load_graph(sc, cache_dir=tmp_path)
    assert "loaded from cache" in caplog.text
    assert _types(cached) == _types(fresh)
    assert list(cached.edges(keys=True, data=True)) == list(fresh.edges(keys=True, data=True))
    # a corrupt cache file is ignored and rebuilt
    network.cache_path(sc, tmp_path).write_bytes(b"garbage")
    again = network.load_graph(sc, cache_dir=tmp_path)
    assert again.number_of_edges() == fresh.number_of_edges()
    # refresh rebuilds even when the cache is good
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="shuttle.network"):
        network.load_graph(sc, cache_dir=tmp_path, refresh=True)
    assert "loaded from cache" not in caplog.text


def test_osm_info(osm_graph: nx.MultiDiGraph, scenario: Scenario) -> None:
    info = network.graph_info(osm_graph, scenario)
    mapo = dict((c, km) for c, _, km in info.km_by_district)[11440]
    assert math.isclose(mapo, info.road_km)
    assert info.road_km > 1.0
    assert 0.5 < info.named_share < 1.0
    assert info.named_share_major == 1.0


# ----------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize("source", ["osm", "pbf", "graphml"])
def test_missing_file(scenario: Scenario, tmp_path: Path, source: str) -> None:
    p = tmp_path / f"nothing.{source}"
    with pytest.raises(DataError, match=f"{p}: .* not found"):
        network.load_graph(_with_source(scenario, source, p), use_cache=False)


@pytest.mark.parametrize(
    ("source", "name", "content"),
    [
        ("osm", "bad.osm", b"<osm><node id='1' lat='37.5'"),
        ("osm", "bad.osm.bz2", b"BZh9 not bzip2"),
        ("pbf", "bad.osm.pbf", b"\x00\x00\x00\x0dOSMHeader garbage"),
        ("graphml", "bad.graphml", b"<graphml><graph><node id="),
    ],
)
def test_corrupt_file(
    scenario: Scenario, tmp_path: Path, source: str, name: str, content: bytes
) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(DataError, match=str(p)) as err:
        network.load_graph(_with_source(scenario, source, p), use_cache=False)
    assert "\n" not in str(err.value)


def test_empty_clip(scenario: Scenario, tiny_osm: Path) -> None:
    sc = dataclasses.replace(_with_source(scenario, "osm", tiny_osm), districts=(11680,))  # Gangnam
    with pytest.raises(GraphError, match="no roads .* inside the study area of districts 11680"):
        network.load_graph(sc, use_cache=False)


def test_district_not_in_boundaries(scenario: Scenario, tiny_osm: Path, tmp_path: Path) -> None:
    """A boundary file that lacks a district of the scenario: one ConfigError naming it."""
    (tmp_path / "boundaries").mkdir()
    box = [[126.90, 37.55], [126.95, 37.55], [126.95, 37.58], [126.90, 37.58], [126.90, 37.55]]
    feature = {
        "type": "Feature",
        "properties": {"SIG_CD": "11440"},
        "geometry": {"type": "Polygon", "coordinates": [box]},
    }
    (tmp_path / areas.DISTRICTS_FILE).write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8"
    )
    sc = dataclasses.replace(_with_source(scenario, "osm", tiny_osm), data_dir=str(tmp_path))
    with pytest.raises(ConfigError, match="district 11410 is not in the data"):
        network.load_graph(sc, use_cache=False)
