"""Demand: gravity model between dongs, OD CSV, zone lookup."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from shuttle import areas, demand, places
from shuttle.config import Scenario
from shuttle.errors import ConfigError, DataError


def with_demand(scenario: Scenario, **changes: object) -> Scenario:
    return dataclasses.replace(scenario, demand=dataclasses.replace(scenario.demand, **changes))


@pytest.fixture(scope="module")
def nw3_places(scenario: Scenario) -> tuple:
    return places.resolve_places(scenario)


@pytest.fixture(scope="module")
def full(road_graph: nx.MultiDiGraph, scenario: Scenario, nw3_places: tuple) -> demand.Demand:
    """Gravity demand without the inter-district filter."""
    return demand.build_demand(
        road_graph, with_demand(scenario, inter_district_only=False), nw3_places
    )


def test_gravity_is_singly_constrained(full: demand.Demand, scenario: Scenario) -> None:
    z = len(full.zones)
    assert z == 46
    assert full.trips.shape == (z, z)
    assert [q.code for q in full.zones] == sorted(q.code for q in full.zones)
    pop = np.array([q.population for q in full.zones], dtype=float)
    np.testing.assert_allclose(full.trips.sum(axis=1), scenario.demand.trip_rate * pop, rtol=1e-9)
    assert full.total == pytest.approx(0.05 * (317_699 + 479_409 + 379_984))
    assert (full.trips >= 0).all()
    assert (np.diag(full.trips) == 0).all()


def test_gravity_decays_with_travel_time(full: demand.Demand) -> None:
    t = full.travel_min
    assert t is not None
    assert np.isfinite(t).all()
    assert (np.diag(t) == 0).all()
    assert (t[~np.eye(len(t), dtype=bool)] > 0).all()
    # per origin, trips per unit of attraction fall with time: the nearest beats the farthest
    pop = np.array([q.population for q in full.zones], dtype=float)
    per_attr = full.trips / pop[None, :]
    for i in range(len(t)):
        others = [j for j in range(len(t)) if j != i]
        near = min(others, key=lambda j: t[i, j])
        far = max(others, key=lambda j: t[i, j])
        assert per_attr[i, near] > per_attr[i, far]


def test_inter_district_only_zeroes_intra_district_pairs(
    road_graph: nx.MultiDiGraph, scenario: Scenario, nw3_places: tuple, full: demand.Demand
) -> None:
    assert scenario.demand.inter_district_only
    d = demand.build_demand(road_graph, scenario, nw3_places)
    gu = np.array([q.district for q in d.zones])
    same = gu[:, None] == gu[None, :]
    assert (d.trips[same] == 0).all()
    np.testing.assert_allclose(d.trips[~same], full.trips[~same])  # not redistributed
    assert 0 < d.total < full.total
    np.testing.assert_array_equal(d.centroid_nodes, full.centroid_nodes)


def test_anchors_attract(
    road_graph: nx.MultiDiGraph, scenario: Scenario, nw3_places: tuple, full: demand.Demand
) -> None:
    plain = demand.build_demand(road_graph, with_demand(scenario, inter_district_only=False), ())
    gongdeok = demand.zone_of(37.5433, 126.9517, full.zones)
    assert gongdeok is not None
    assert gongdeok.name_ko == "공덕동"
    j = full.index(gongdeok.code)
    assert full.trips[:, j].sum() > plain.trips[:, j].sum()
    assert full.total == pytest.approx(plain.total)  # attraction moves trips, never adds any


def test_centroid_nodes_lie_in_or_near_their_zone(
    full: demand.Demand, road_graph: nx.MultiDiGraph
) -> None:
    import shapely

    for z, n in zip(full.zones, full.centroid_nodes, strict=True):
        p = shapely.Point(road_graph.nodes[int(n)]["x"], road_graph.nodes[int(n)]["y"])
        assert z.geometry.distance(p) < 0.003, z.name_ko  # ~300 m


def test_zone_of(scenario: Scenario) -> None:
    zones = areas.read_zones(scenario)
    z = demand.zone_of(37.5790, 126.8890, zones)  # DMC, Sangam-dong
    assert z is not None
    assert (z.name_ko, z.district) == ("상암동", 11440)
    assert demand.zone_of(37.4979, 127.0276, zones) is None  # Gangnam


def test_od_csv(road_graph: nx.MultiDiGraph, scenario: Scenario, fixtures_dir: Path) -> None:
    sc = with_demand(
        scenario, model="csv", od_file=str(fixtures_dir / "od_small.csv"), inter_district_only=False
    )
    d = demand.build_demand(road_graph, sc)
    i, j, k = d.index("1141058500"), d.index("1144066000"), d.index("1138051000")
    assert d.trips[i, j] == 150.0  # two rows add up
    assert d.trips[j, i] == 110.5
    assert d.trips[k, d.index("1144074000")] == 80.0
    assert (np.diag(d.trips) == 0).all()  # the intra-zone row is dropped
    assert d.total == pytest.approx(340.5)


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ("1141058500,1199999999,5", r"line 3: unknown zone code '1199999999'"),
        ("1141058500,1144066000,-1", r"line 3: trips '-1' must be a number >= 0"),
        ("1141058500,1144066000,many", r"line 3: trips 'many' is not a number"),
        ("1141058500,1144066000", r"line 3: expected 3 fields"),
    ],
)
def test_bad_od_csv(scenario: Scenario, tmp_path: Path, row: str, match: str) -> None:
    f = tmp_path / "od.csv"
    f.write_text(f"origin,destination,trips\n1138051000,1144074000,1\n{row}\n", encoding="utf-8")
    with pytest.raises(DataError, match=match) as e:
        demand.read_od_csv(str(f), areas.read_zones(scenario))
    assert str(f) in str(e.value)


def test_od_csv_header_and_missing(scenario: Scenario, tmp_path: Path) -> None:
    zones = areas.read_zones(scenario)
    f = tmp_path / "od.csv"
    f.write_text("from,to,n\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 1: expected the header"):
        demand.read_od_csv(str(f), zones)
    with pytest.raises(DataError, match="OD file not found"):
        demand.read_od_csv(str(tmp_path / "nope.csv"), zones)


def test_csv_model_needs_a_file(road_graph: nx.MultiDiGraph, scenario: Scenario) -> None:
    with pytest.raises(ConfigError, match="demand.od_file is required"):
        demand.build_demand(road_graph, with_demand(scenario, model="csv", od_file=None))
