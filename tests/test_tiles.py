"""Vector tile decoding (shuttle.tiles) and the tile road graph on a hand-made tile folder."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import mapbox_vector_tile
import networkx as nx
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString

from shuttle import areas, network, tiles
from shuttle.config import Scenario
from shuttle.errors import DataError

TILES = "osm/vt14_seoul_2021-08"
# tile 14/13967/6344 lies in Mapo-gu (Mangwon / Seogyo); the hand-made roads go there
TX, TY = 13967, 6344
MAPO = 11440


def _encode(layers: dict[str, list[tuple[list[tuple[int, int]], dict]]]) -> bytes:
    return mapbox_vector_tile.encode(
        [
            {
                "name": name,
                "features": [
                    {"geometry": LineString(coords), "properties": props} for coords, props in feats
                ],
            }
            for name, feats in layers.items()
        ],
        default_options={"y_coord_down": True, "extents": 4096},
    )


# Roads of the hand-made tile (local pixels, y down; 1 px ~ 0.47 m here).
A = [(500, 2000), (1000, 2000), (1500, 2000), (2500, 2000), (3000, 2000), (3500, 2000)]
B = [(1500, 1000), (1500, 2000), (1500, 3000)]
C = [(2500, 1000), (2500, 2000), (2500, 3000)]
D = [(1500, 1000), (2000, 1000), (2500, 1000), (3000, 1000)]  # oneway east
E = [(3000, 3000), (2500, 3000), (2000, 3000), (1500, 3000)]  # oneway west
F = [(2000, 1000), (2000, 3000)]  # bridge over A, no shared vertex
T = [(3000, 1000), (3000, 2000), (3000, 3000)]  # tunnel; (3000, 2000) is also a vertex of A
H = [(1000, 2000), (1000, 1000)]  # bridge ending at an inner vertex of A: joins
IR = [(1000, 1000), (1500, 1000)]
K = [(3500, 2000), (4300, 2000)]  # crosses into tile TX+1; continued there
K2 = [(3500 - 4096, 2000), (4300 - 4096, 2000), (800, 2000)]  # K as stored in tile TX+1
S = [(500, 2000), (500, 2500)]  # service: dropped
P = [(2500, 3000), (2600, 3400)]  # path: dropped


def _write_tile_folder(root: Path, scenario: Scenario) -> Path:
    """Write the hand-made tiles plus empty tiles over the rest of the study area."""
    zdir = root / "14"
    area = areas.study_area(scenario)
    for x, y in tiles.tiles_for_area(area, 14):
        p = tiles.tile_path(zdir, x, y)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"")  # an empty vector tile
    roads = [
        (A, {"class": "primary"}),
        (B, {"class": "secondary"}),
        (C, {"class": "minor"}),
        (D, {"class": "minor", "oneway": 1}),
        (E, {"class": "minor", "oneway": 1}),
        (F, {"class": "secondary", "brunnel": "bridge"}),
        (T, {"class": "minor", "brunnel": "tunnel"}),
        (H, {"class": "minor", "brunnel": "bridge"}),
        (IR, {"class": "minor"}),
        (K, {"class": "tertiary"}),
        (S, {"class": "service", "service": "parking_aisle"}),
        (P, {"class": "path"}),
    ]
    names = [
        (A, {"class": "primary", "name:latin": "가로"}),
        (B, {"class": "secondary", "name:latin": "세로"}),
        (F, {"class": "secondary", "name:latin": "다리로"}),
        (K, {"class": "tertiary", "name:latin": "경계로"}),
        # names only the lower half of C, digitised the other way: matched by segment
        ([(2500, 3000), (2500, 2000)], {"class": "minor", "name:latin": "부분로"}),
    ]
    tiles.tile_path(zdir, TX, TY).write_bytes(
        _encode({"transportation": roads, "transportation_name": names})
    )
    tiles.tile_path(zdir, TX + 1, TY).write_bytes(
        _encode(
            {
                "transportation": [(K2, {"class": "tertiary"})],
                "transportation_name": [(K2, {"class": "tertiary", "name:latin": "경계로"})],
            }
        )
    )
    return root


def _gxy(x: int, y: int, tx: int = TX, ty: int = TY) -> tuple[int, int]:
    return tx * 4096 + x, ty * 4096 + y


def _node(G: nx.MultiDiGraph, x: int, y: int, level: int = 0, tx: int = TX) -> int:
    gx, gy = _gxy(x, y, tx)
    return int((((gx << 27) | gy) << 2) | level)


@pytest.fixture(scope="module")
def hand_scenario(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    sc = dataclasses.replace(scenario, districts=(MAPO,))
    root = _write_tile_folder(tmp_path_factory.mktemp("tiles"), sc)
    return dataclasses.replace(sc, network=dataclasses.replace(sc.network, path=str(root)))


@pytest.fixture(scope="module")
def hand_graph(
    hand_scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> nx.MultiDiGraph:
    return network.load_graph(hand_scenario, cache_dir=tmp_path_factory.mktemp("cache"))


def test_hand_tile_lies_in_study_area(hand_scenario: Scenario) -> None:
    area = areas.study_area(hand_scenario)
    pts = np.array([_gxy(x, y) for x, y in A + B + C + E + K])
    lon, lat = tiles.global_to_lonlat(pts[:, 0], pts[:, 1], 14, 4096)
    assert shapely.contains_xy(area, lon, lat).all()


def test_hand_graph_is_one_strong_component(hand_graph: nx.MultiDiGraph) -> None:
    assert nx.is_strongly_connected(hand_graph)
    assert {d["highway"] for *_, d in hand_graph.edges(data=True)} <= {
        "primary", "secondary", "tertiary", "minor"
    }  # fmt: skip
    report = hand_graph.graph["build_report"]
    assert report.dropped_for("class").edges == 2 + 2  # service and path, both ways


def test_shared_vertex_joins_and_crossing_bridge_does_not(hand_graph: nx.MultiDiGraph) -> None:
    G = hand_graph
    ab = _node(G, 1500, 2000)
    assert ab in G
    assert G.nodes[ab]["street_count"] == 4
    # the bridge F passes over A at (2000, 2000), which is no vertex of A: no node there
    for level in range(4):
        assert _node(G, 2000, 2000, level) not in G
    bridge = [d for *_, d in G.edges(data=True) if d["name"] == "다리로"]
    assert bridge
    assert all(d["brunnel"] == "bridge" for d in bridge)


def test_tunnel_sharing_an_inner_vertex_does_not_join(hand_graph: nx.MultiDiGraph) -> None:
    G = hand_graph
    # (3000, 2000) is an inner vertex of both A and the tunnel T: two levels, never joined,
    # so both pass straight through and simplification leaves no node there
    assert _node(G, 3000, 2000, 0) not in G
    assert _node(G, 3000, 2000, 2) not in G
    gx, gy = _gxy(3000, 2000)
    lon, lat = tiles.global_to_lonlat(np.array([gx]), np.array([gy]), 14, 4096)
    through = [
        d["brunnel"]
        for *_, d in G.edges(data=True)
        if (round(float(lon[0]), 9), round(float(lat[0]), 9))
        in {(round(x, 9), round(y, 9)) for x, y in list(d["geometry"].coords)[1:-1]}
    ]
    assert sorted(set(through)) == ["", "tunnel"]


def test_bridge_end_on_inner_vertex_joins(hand_graph: nx.MultiDiGraph) -> None:
    G = hand_graph
    n = _node(G, 1000, 2000)
    assert n in G
    brunnels = {d["brunnel"] for *_, d in G.in_edges(n, data=True)} | {
        d["brunnel"] for *_, d in G.out_edges(n, data=True)
    }
    assert brunnels == {"", "bridge"}


def test_oneway_honoured(hand_graph: nx.MultiDiGraph) -> None:
    G = hand_graph
    d0, d1 = _node(G, 1500, 1000), _node(G, 2000, 1000)
    assert G.has_edge(d0, d1)
    assert not G.has_edge(d1, d0)
    assert all(d["oneway"] for d in G.get_edge_data(d0, d1).values())
    e0, e1 = _node(G, 2000, 3000), _node(G, 1500, 3000)
    assert G.has_edge(e0, e1)
    assert not G.has_edge(e1, e0)


def test_names_by_geometry_and_by_segment(hand_graph: nx.MultiDiGraph) -> None:
    G = hand_graph
    c_mid, c_low, c_top = _node(G, 2500, 2000), _node(G, 2500, 3000), _node(G, 2500, 1000)
    assert {d["name"] for d in G.get_edge_data(c_mid, c_low).values()} == {"부분로"}
    assert {d["name"] for d in G.get_edge_data(c_top, c_mid).values()} == {""}
    assert {
        d["name"] for d in G.get_edge_data(_node(G, 1000, 2000), _node(G, 1500, 2000)).values()
    } == {"가로"}


def test_road_across_tile_edge_joins_once(hand_graph: nx.MultiDiGraph) -> None:
    G = hand_graph
    start = _node(G, 3500, 2000)  # end of A, start of K
    end = _node(G, 800, 2000, tx=TX + 1)  # dead end of K in the neighbouring tile
    k = [d for u, v, d in G.edges(data=True) if {u, v} == {start, end}]
    assert len(k) == 2  # one edge each way: the overlap of the two tiles is kept once
    assert all(d["name"] == "경계로" and d["highway"] == "tertiary" for d in k)
    (x0, y0), (x1, y1) = _gxy(3500, 2000), _gxy(800, 2000, TX + 1)
    lon, lat = tiles.global_to_lonlat(np.array([x0, x1]), np.array([y0, y1]), 14, 4096)
    from shuttle.geo import haversine_m

    straight = haversine_m(float(lat[0]), float(lon[0]), float(lat[1]), float(lon[1]))
    assert all(abs(d["length"] - straight) < 0.01 for d in k)
    assert all(len(d["geometry"].coords) == 3 for d in k)  # the vertex at (4300, 2000) stays


def test_missing_tile_is_a_data_error(hand_scenario: Scenario, tmp_path: Path) -> None:
    root = _write_tile_folder(tmp_path, hand_scenario)
    victim = tiles.tile_path(root / "14", TX, TY + 1)
    victim.unlink()
    sc = dataclasses.replace(
        hand_scenario, network=dataclasses.replace(hand_scenario.network, path=str(root))
    )
    with pytest.raises(DataError, match=f"{TY + 1}.pbf: tile missing"):
        network.load_graph(sc, cache_dir=tmp_path / "cache")


def test_corrupt_tile_is_a_data_error(hand_scenario: Scenario, tmp_path: Path) -> None:
    root = _write_tile_folder(tmp_path, hand_scenario)
    tiles.tile_path(root / "14", TX, TY).write_bytes(b"\xff\xfe not a tile \x00\x01")
    sc = dataclasses.replace(
        hand_scenario, network=dataclasses.replace(hand_scenario.network, path=str(root))
    )
    with pytest.raises(DataError, match=f"{TY}.pbf: not a valid vector tile"):
        network.load_graph(sc, use_cache=False)


def test_districts_outside_the_tiles(hand_scenario: Scenario, tmp_path: Path) -> None:
    root = _write_tile_folder(tmp_path, hand_scenario)
    sc = dataclasses.replace(
        hand_scenario,
        districts=(11680,),  # Gangnam-gu: no tile of it in the hand-made folder
        network=dataclasses.replace(hand_scenario.network, path=str(root)),
    )
    with pytest.raises(DataError, match="outside the tile data"):
        network.load_graph(sc, use_cache=False)


def test_missing_tile_folder(hand_scenario: Scenario, tmp_path: Path) -> None:
    sc = dataclasses.replace(
        hand_scenario,
        network=dataclasses.replace(hand_scenario.network, path=str(tmp_path / "nope")),
    )
    with pytest.raises(DataError, match="tile folder not found"):
        network.load_graph(sc, use_cache=False)


# ----------------------------------------------------------------------------------------------
# real tiles


def test_decoder_matches_mapbox_vector_tile(data_dir: Path) -> None:
    p = data_dir / TILES / "14" / "13968" / "6345.pbf"
    ref = mapbox_vector_tile.decode(p.read_bytes(), default_options={"y_coord_down": True})
    layers = tiles.read_tile(p)
    for name in ("transportation", "transportation_name", "poi"):
        feats = [f for f in layers[name].features if f.type in (1, 2)]
        v = tiles._decode_vertices(feats, p)
        mine: dict[int, list[list[list[int]]]] = {}
        for x, y, f, part in zip(
            v.x.tolist(), v.y.tolist(), v.feature.tolist(), v.part.tolist(), strict=True
        ):
            parts = mine.setdefault(f, [])
            if not parts or parts[-1][0] != part:
                parts.append([part, []])
            parts[-1][1].append([x, y])
        want = [r["geometry"] for r in ref[name]["features"] if r["geometry"]["type"] != "Polygon"]
        assert len(want) == len(feats) > 100
        for i, g in enumerate(want):
            coords = [c for _, c in mine[i]]
            if g["type"] == "LineString":
                assert coords == [g["coordinates"]]
            elif g["type"] == "MultiLineString":
                assert coords == g["coordinates"]
            else:
                assert coords == [[g["coordinates"]]]


def test_segments_are_kept_once_across_tiles(data_dir: Path) -> None:
    zdir = data_dir / TILES / "14"
    block = [(x, y) for x in (13967, 13968) for y in (6343, 6344)]
    seg = tiles.read_road_segments(zdir, block)
    # union of every tile's own copy of every segment (tiles overlap: lines run past the edge)
    union = set()
    for x, y in block:
        one = tiles.read_road_segments(zdir, [(x, y)])
        union |= set(
            zip(one.ax.tolist(), one.ay.tolist(), one.bx.tolist(), one.by.tolist(), strict=False)
        )
    both = set(
        zip(seg.ax.tolist(), seg.ay.tolist(), seg.bx.tolist(), seg.by.tolist(), strict=False)
    )
    assert both == union
    # the segments of one tile crossing its edge are also in the neighbour's own copy
    crossing = (seg.ax // 4096 != seg.bx // 4096) | (seg.ay // 4096 != seg.by // 4096)
    assert crossing.sum() > 50


def test_read_pois_finds_the_district_offices(data_dir: Path) -> None:
    pois = tiles.read_pois(data_dir / TILES, (126.85, 37.53, 126.98, 37.67))
    assert list(pois) == sorted(pois, key=lambda q: (q.name, q.cls, q.subclass, q.lat, q.lon))
    assert len(set(pois)) == len(pois) > 1000
    offices = {p.name: p for p in pois if p.cls == "town_hall" and p.name.endswith("구청")}
    assert {"서대문구청", "은평구청", "마포구청"} <= set(offices)
    sdm = offices["서대문구청"]
    assert abs(sdm.lat - 37.5792) < 0.001
    assert abs(sdm.lon - 126.9368) < 0.001
    assert all(126.85 <= p.lon <= 126.98 and 37.53 <= p.lat <= 37.67 for p in pois)


def test_tiles_for_area_covers_study_area(scenario: Scenario) -> None:
    area = areas.study_area(scenario)
    got = tiles.tiles_for_area(area, 14)
    assert got == sorted(got)
    # 40 of the 7 x 8 tiles around the three districts (the 500 m buffer reaches x = 13964)
    assert len(got) == 40
    assert all(13964 <= x <= 13970 and 6339 <= y <= 6346 for x, y in got)
    union = shapely.union_all([shapely.box(*tiles.tile_bounds(14, x, y)) for x, y in got])
    assert union.buffer(1e-9).contains(area)
