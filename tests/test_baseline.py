"""Existing routes on the road graph and their GTFS feed.

A hand-built street (four nodes, three two-way edges) gives lengths and times that can be worked
out by hand; the real village route 서대문15 on the nw3 road graph is checked against its published
length (FIELD_NOTES.md: a 4 km round trip).
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
from pathlib import Path

import networkx as nx
import pytest
from shapely.geometry import LineString

from shuttle import baseline as bl
from shuttle import colors, transit
from shuttle.config import Scenario
from shuttle.errors import ExportError

LAT = 37.55
LONS = (126.900, 126.902, 126.904, 126.906)  # nodes 0..3, west to east
SPEED = 18 / 3.6  # m/s


def _edge_m() -> float:
    """Great-circle length of 0.002 degrees of longitude at 37.55 N (hand formula)."""
    r = 6_371_008.8
    dlon = math.radians(0.002)
    return 2 * r * math.asin(math.cos(math.radians(LAT)) * math.sin(dlon / 2))


def _street() -> nx.MultiDiGraph:
    G = nx.MultiDiGraph()
    for i, lon in enumerate(LONS):
        G.add_node(i, x=lon, y=LAT)
    m = _edge_m()
    for a, b in ((0, 1), (1, 2), (2, 3)):
        for u, v in ((a, b), (b, a)):
            geom = LineString([(LONS[u], LAT), (LONS[v], LAT)])
            G.add_edge(u, v, 0, length=m, travel_time=m / SPEED, geometry=geom, highway="minor")
    return G


def _stop(i: int, lon: float, lat: float = LAT + 0.00005) -> transit.TransitStop:
    return transit.TransitStop(node_id=f"N{i}", ars=f"1300{i}", name=f"정류장{i}", lat=lat, lon=lon)


def _route(stops: tuple[transit.TransitStop, ...]) -> transit.BusRoute:
    return transit.BusRoute(
        route_id="R1",
        name="서대문99",
        kind_ko="마을",
        kind_en="village",
        color="598526",
        operators=("갑운수", "을운수"),
        origin="A",
        terminal="B",
        stops=stops,
        headways_min=(("peak", 5.0), ("offpeak", 10.0), ("evening", 14.0)),
        first_s=6 * 3600,
        last_s=23 * 3600,
        buses=3,
        length_km=1.0,
        run_min=10.0,
    )


@pytest.fixture(scope="module")
def toy() -> bl.Baseline:
    # out east from the middle of edge 0-1 to the middle of 2-3, back to the middle of 2-1;
    # a fourth stop 1.1 km north is off the graph
    stops = (
        _stop(1, 126.901),
        _stop(2, 126.905),
        _stop(9, 126.905, LAT + 0.01),
        _stop(3, 126.903, LAT - 0.00005),
    )
    return bl.place_routes(_street(), [_route(stops)], snap_m=40.0)


def test_route_runs_the_street_and_turns_back(toy: bl.Baseline) -> None:
    (p,) = toy.routes
    m = _edge_m()
    # stop 1 -> 2: half of 0-1, all of 1-2, half of 2-3; stop 2 -> 3: half of 2-3, turn at node 3,
    # all of 3-2, half of 2-1; closing leg 3 -> 1: half of 2-1, all of 1-0, turn at node 0, half
    # of 0-1 (stop 1 lies on the eastbound edge, the way to stop 2)
    assert p.pattern.stop_ids == ("N1", "N2", "N3")
    assert p.pattern.stop_dist_m == pytest.approx((0.0, 2 * m, 4 * m), abs=0.2)
    assert p.pattern.length_m == pytest.approx(4 * m, abs=0.2)
    assert p.closing_m == pytest.approx(2 * m, abs=0.2)
    assert p.circuit_m == pytest.approx(6 * m, abs=0.3)
    assert p.pattern.run_times_s == (round(2 * m / SPEED), round(2 * m / SPEED))
    # run-time model: factor 1.15 and a 35 s dwell at the one intermediate stop
    assert p.circuit_s(1.15, 35) == pytest.approx(6 * m / SPEED * 1.15 + 35, abs=2)
    assert p.dropped == ("N9",)
    assert p.stop_nodes == (1, 3, 1)  # the node each stop's edge leads to
    (iss,) = [i for i in toy.issues if i.kind == "stop off graph"]
    assert iss.imported
    assert "정류장9" in iss.detail


def test_checks_against_the_table(toy: bl.Baseline, scenario: Scenario) -> None:
    (c,) = bl.check_routes(toy, scenario)
    m = _edge_m()
    assert c.model_km == pytest.approx(6 * m / 1000, abs=0.01)
    assert c.length_err == pytest.approx((6 * m / 1000 - 1.0) / 1.0, abs=0.01)
    assert bl.median_ape([0.1, -0.3, None, 0.2]) == pytest.approx(20.0)


def _table(tables: dict[str, list[list[str]]], name: str) -> list[dict[str, str]]:
    head, *rows = tables[name]
    return [dict(zip(head, r, strict=True)) for r in rows]


def test_feed_tables(toy: bl.Baseline, scenario: Scenario) -> None:
    t = bl.feed_tables(toy, scenario)
    agencies = _table(t, "agency.txt")
    assert [a["agency_name"] for a in agencies] == ["갑운수", "을운수"]  # one per operator
    (route,) = _table(t, "routes.txt")
    assert route["route_type"] == "3"
    assert route["route_color"] == "598526"  # the table's colour
    assert colors.contrast_ratio(route["route_color"], route["route_text_color"]) >= 4.5
    assert route["agency_id"] == agencies[0]["agency_id"]
    # nw3 periods: peak 07:00-09:30 and 17:00-19:30, evening from 20:00; bus 06:00-23:00
    freqs = [
        (f["start_time"], f["end_time"], f["headway_secs"]) for f in _table(t, "frequencies.txt")
    ]
    assert freqs == [
        ("06:00:00", "07:00:00", "600"),
        ("07:00:00", "09:30:00", "300"),
        ("09:30:00", "17:00:00", "600"),
        ("17:00:00", "19:30:00", "300"),
        ("19:30:00", "20:00:00", "600"),
        ("20:00:00", "23:01:00", "840"),
    ]
    st = [r for r in _table(t, "stop_times.txt") if r["trip_id"] == "R1_01"]  # the peak run
    assert [r["stop_id"] for r in st] == ["N1", "N2", "N3"]
    # whole free-flow seconds between stops, times the peak factor of nw3 (shuttle.runtime)
    run = round(2 * _edge_m() / SPEED) * 1.35
    assert st[1]["arrival_time"] == f"07:{round(run) // 60:02d}:{round(run) % 60:02d}"
    assert {s["stop_id"] for s in _table(t, "stops.txt")} == {"N1", "N2", "N3"}


def test_write_feed_is_byte_stable_and_valid(
    toy: bl.Baseline, scenario: Scenario, tmp_path: Path
) -> None:
    a = bl.write_feed(toy, scenario, tmp_path / "a.zip")
    b = bl.write_feed(toy, scenario, tmp_path / "b.zip")
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as zf:
        names = set(zf.namelist())
        rows = list(csv.DictReader(io.StringIO(zf.read("calendar.txt").decode())))
    assert {"agency.txt", "frequencies.txt", "shapes.txt", "feed_info.txt"} <= names
    assert rows[0]["saturday"] == "0"
    from shuttle import gtfs

    summary = gtfs.validate_feed(a)
    assert summary.errors == 0, gtfs.format_summary(summary)


def test_nothing_to_write(scenario: Scenario) -> None:
    with pytest.raises(ExportError, match="no placed route"):
        bl.feed_tables(bl.Baseline(routes=(), stops=(), stop_nodes=()), scenario)


def test_village_route_on_the_real_graph(road_graph, scenario: Scenario, data_dir: Path) -> None:  # noqa: ANN001
    rs = transit.read_route_stops(data_dir / scenario.baseline.stops_file)
    info = transit.read_route_info(data_dir / scenario.baseline.info_file)
    routes, _ = transit.import_bus_routes(rs, info, keep=lambda r: r.name == "서대문15")
    base = bl.place_routes(road_graph, routes, snap_m=scenario.baseline.snap_m)
    (p,) = base.routes
    assert not p.dropped  # every stop lies within 40 m of a road of the nw3 graph
    assert len(p.pattern.stop_ids) == 25  # the CSV's rows for the route
    # FIELD_NOTES.md: "a 4 km round trip"
    assert p.circuit_m == pytest.approx(4000, rel=0.15)


def test_baseline_settings_are_checked(tmp_path: Path) -> None:
    from shuttle.config import load_scenario
    from shuttle.errors import ConfigError

    f = tmp_path / "s.toml"
    f.write_text(
        '[scenario]\nname = "t"\ndistricts = [11410]\n[baseline]\nperiod = "noon"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"s\.toml: baseline\.period: must be one of"):
        load_scenario(f)
    f.write_text(
        '[scenario]\nname = "t"\ndistricts = [11410]\n[baseline.rail_headways_min]\n"6" = [4, 8]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"baseline\.rail_headways_min\.6"):
        load_scenario(f)
    f.write_text('[scenario]\nname = "t"\ndistricts = [11410]\n', encoding="utf-8")
    b = load_scenario(f).baseline
    assert b.dwell_s == 35
    assert dict(b.rail_headways_min)["6"] == (4.0, 8.0, 10.0)


def test_cli_has_the_command() -> None:
    from click.testing import CliRunner

    from shuttle.cli import main

    res = CliRunner().invoke(main, ["baseline", "--help"])
    assert res.exit_code == 0
    assert "baseline.zip" in res.output
