"""The existing-network readers on the real data.

Expected values are read from the files with the csv module (independently of shuttle.transit) or
are the figures published in SOURCES.md and FIELD_NOTES.md.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from shuttle import areas, transit
from shuttle.config import Scenario
from shuttle.errors import DataError

STOPS = "transit/seoul_bus_route_stops_OA-1095_2024.csv"
INFO = "transit/seoul_bus_route_info_2024.csv"
STATUS = "transit/seoul_bus_route_status_TOPIS_2023-03.xlsx"
METRO = "transit/seoul_metro_graph_2020-12.gml"


@pytest.fixture(scope="module")
def route_stops(data_dir: Path) -> tuple[transit.RouteStops, ...]:
    return transit.read_route_stops(data_dir / STOPS)


@pytest.fixture(scope="module")
def info(data_dir: Path) -> dict[str, transit.RouteInfo]:
    return transit.read_route_info(data_dir / INFO)


@pytest.fixture(scope="module")
def status(data_dir: Path) -> dict[str, transit.RouteStatus]:
    return transit.read_route_status(data_dir / STATUS)


@pytest.fixture(scope="module")
def imported(
    route_stops: tuple[transit.RouteStops, ...],
    info: dict[str, transit.RouteInfo],
    status: dict[str, transit.RouteStatus],
) -> tuple[tuple[transit.BusRoute, ...], tuple[transit.Issue, ...]]:
    return transit.import_bus_routes(
        route_stops,
        info,
        status,
        keep=lambda r: transit.serves_ars(r, ("12", "13", "14")),
        exclude=("1234테스트",),
    )


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_route_stop_sequence_equals_the_csv(data_dir: Path, route_stops) -> None:  # noqa: ANN001
    rows = [r for r in _csv_rows(data_dir / STOPS) if r["노선명"] == "7612"]
    rows.sort(key=lambda r: int(r["순번"]))
    (r7612,) = [r for r in route_stops if r.name == "7612"]
    assert len(r7612.stops) == len(rows) == 47
    assert [s.node_id for s in r7612.stops] == [r["NODE_ID"] for r in rows]
    assert [s.ars for s in r7612.stops] == [r["ARS_ID"] for r in rows]
    assert r7612.stops[-1].name == "홍연2교현대교통종점"  # the terminal of FIELD_NOTES.md
    assert not r7612.has_gap


def test_all_routes_read(route_stops) -> None:  # noqa: ANN001
    # SOURCES.md: 789 routes, 47,061 rows
    assert len(route_stops) == 789
    assert sum(len(r.stops) for r in route_stops) == 47061
    # ARS numbers keep their leading zeros (read as text)
    assert any(s.ars.startswith("0") for r in route_stops for s in r.stops)


def test_route_table_row(info) -> None:  # noqa: ANN001
    # FIELD_NOTES.md: 7612 (홍연2교-영등포구청역): 17 buses, 10 min, 20 km, 92 min
    r = info["7612"]
    assert (r.origin, r.terminal, r.buses) == ("홍연2교", "영등포구청역", 17)
    assert (r.headway_min, r.length_km, r.run_min) == (10, 20, 92)
    assert (r.min_headway_min, r.max_headway_min) == (5, 14)  # the CSV row
    assert (r.first_s, r.last_s) == (4 * 3600 + 33 * 60, 23 * 3600 + 40 * 60)
    assert r.color == "598526"
    # joint route: one row per operator in the CSV, merged
    assert info["750A"].operators == ("신촌교통", "유성운수")


def test_headways_by_period_follow_the_table(imported) -> None:  # noqa: ANN001
    routes, _ = imported
    (r,) = [r for r in routes if r.name == "7612"]
    assert r.headways_min == (("peak", 5.0), ("offpeak", 10.0), ("evening", 14.0))
    assert r.kind_ko == "지선"
    (v,) = [r for r in routes if r.name == "서대문15"]
    assert v.kind_ko == "마을"
    assert v.first_s == 6 * 3600  # 06:00 to 00:00 (next day)
    assert v.last_s == 86400


def test_running_time_from_topis_when_missing(imported, status) -> None:  # noqa: ANN001
    routes, issues = imported
    (r,) = [r for r in routes if r.name == "7011"]
    assert r.run_min == status["7011"].round_trip_min == 160  # the 2024 row has no 운행시간
    assert r.run_min_source == "TOPIS 2023-03"
    assert any(i.route == "7011" and i.kind == "running time from TOPIS" for i in issues)


def test_topis_sheet(status) -> None:  # noqa: ANN001
    # SOURCES.md: 436 rows (joint routes once per operator); 7011 35.8 km, 160 min in the sheet
    assert len(status) == 391
    s = status["7011"]
    assert (s.length_km, s.round_trip_min, s.trips_per_day) == (35.8, 160, 114)
    assert (s.first_s, s.last_s) == (4 * 3600 + 30 * 60, 23 * 3600 + 10 * 60)  # as the 2024 table


def test_every_route_serving_the_districts_is_imported_or_listed(
    data_dir: Path, imported
) -> None:  # noqa: ANN001
    routes, issues = imported
    serving = {
        r["노선명"]
        for r in _csv_rows(data_dir / STOPS)
        if r["ARS_ID"][:2] in ("12", "13", "14") and len(r["ARS_ID"]) == 5
    }
    assert len(serving) == 203  # SOURCES.md
    taken = {r.name for r in routes}
    left = {i.route for i in issues if not i.imported}
    assert serving == taken | left
    assert not taken & left
    # a route with no row in either table is left out, with its reason
    assert any(i.route == "은평01" and i.kind == "not in route table" for i in issues)


def test_rail_lines_serving_the_districts(data_dir: Path, scenario: Scenario) -> None:
    stations, links = transit.read_metro(data_dir / METRO)
    assert len(stations) == 741  # SOURCES.md
    polys = areas.district_polygons(scenario)
    from shapely.geometry import Point

    def district_of(lat: float, lon: float) -> int | None:
        return next((c for c, g in polys.items() if g.contains(Point(lon, lat))), None)

    lines = transit.import_rail_lines(
        stations, links, district_of, headways={"*": (("peak", 4.0),)}, speed_kph={"*": 33.0}
    )
    # station master (SOURCES.md): lines 2, 3, 5, 6, 경의중앙 (K) and 공항철도 (A) stop in them
    assert {r.line for r in lines} == {"2", "3", "5", "6", "A", "K"}
    (six,) = [r for r in lines if r.line == "6"]
    assert len(six.stations) == 39  # Line 6 has 39 stations
    names = {s.station_id: s.name for s in six.stations}
    pairs = {frozenset((names[a], names[b])) for a, b, _ in six.links}
    assert frozenset(("응암", "역촌")) in pairs  # the Eungam loop
    assert six.districts == (11380, 11440)
    # 1 km at 33 km/h is 109 s
    a, b, m = six.links[0]
    assert six.run_s(a, b) == round(m / (33 / 3.6))


def test_bad_input_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        transit.read_route_stops(tmp_path / "missing.csv")
    bad = tmp_path / "stops.csv"
    bad.write_text("ROUTE_ID,노선명\n1,2\n", encoding="utf-8")
    with pytest.raises(DataError, match="missing column '순번'"):
        transit.read_route_stops(bad)
    bad.write_text(
        "ROUTE_ID,노선명,순번,NODE_ID,ARS_ID,정류소명,X좌표,Y좌표\n1,A,x,1,12001,S,126.9,37.5\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError, match=r"line 2: 순번 = 'x'"):
        transit.read_route_stops(bad)
    info = tmp_path / "info.csv"
    info.write_text(
        "업체명,노선번호,유형,기점명,종점명,인가대수,배차간격,거리,운행시간,최소배차,최대배차,첫차시간,막차시간\n"
        "X,1,#598526,A,B,3,ten,4,24,12,15,06:00,00:00\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError, match="배차간격 = 'ten'"):
        transit.read_route_info(info)
    with pytest.raises(DataError, match="not a readable .xlsx"):
        transit.read_route_status(info)
    with pytest.raises(DataError, match="not a GML graph"):
        transit.read_metro(info)
