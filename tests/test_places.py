"""Anchor resolution (places.py) and the bus stop / station readers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from shuttle import geo, places
from shuttle.config import Anchor, Scenario
from shuttle.errors import ConfigError, DataError
from shuttle.tiles import Poi


@pytest.fixture(scope="module")
def nw3_places(scenario: Scenario) -> dict[str, places.Place]:
    return {p.name_ko: p for p in places.resolve_places(scenario)}


def with_anchors(scenario: Scenario, *anchors: Anchor) -> Scenario:
    return dataclasses.replace(scenario, anchors=tuple(anchors))


def test_all_nw3_anchors_resolve_in_order(scenario: Scenario) -> None:
    got = places.resolve_places(scenario)
    assert [p.name_ko for p in got] == [a.name for a in scenario.anchors]
    assert [p.name_en for p in got] == [a.name_en for a in scenario.anchors]
    assert all(p.district in scenario.districts for p in got)


def test_district_offices_lie_in_their_own_district(nw3_places: dict) -> None:
    assert nw3_places["서대문구청"].district == 11410
    assert nw3_places["은평구청"].district == 11380
    assert nw3_places["마포구청"].district == 11440
    assert all(nw3_places[n].kind == "poi" for n in ("서대문구청", "은평구청", "마포구청"))


@pytest.mark.parametrize(
    ("name", "lat", "lon", "tol_m"),
    [
        ("연신내", 37.6190, 126.9210, 150),  # lines 3, 6 and GTX-A
        ("홍대입구", 37.5572, 126.9250, 250),  # lines 2, AREX, Gyeongui
        ("신촌", 37.5551, 126.9369, 30),  # line 2 only (the Gyeongui 신촌 is 700 m away)
        ("디지털미디어시티", 37.5768, 126.9001, 250),
        ("홍제", 37.5891, 126.9437, 30),
        ("공덕", 37.5434, 126.9517, 150),
    ],
)
def test_stations_near_their_known_position(
    nw3_places: dict, name: str, lat: float, lon: float, tol_m: float
) -> None:
    p = nw3_places[name]
    assert p.kind == "station"
    assert geo.haversine_m(p.lat, p.lon, lat, lon) < tol_m


def test_line_filter_picks_that_lines_rows(scenario: Scenario) -> None:
    (gy,) = places.resolve_places(
        with_anchors(scenario, Anchor(kind="station", name="신촌", line="경의중앙선"))
    )
    (l2,) = places.resolve_places(
        with_anchors(scenario, Anchor(kind="station", name="신촌역", line="2호선"))
    )
    assert geo.haversine_m(gy.lat, gy.lon, 37.559733, 126.942597) < 1
    assert geo.haversine_m(gy.lat, gy.lon, l2.lat, l2.lon) > 500
    assert l2.name_en == "Sinchon Station"  # english_name of the station when not given


def test_misspelt_station_names_anchor_and_files(scenario: Scenario) -> None:
    anchors = list(scenario.anchors)
    anchors[3] = Anchor(kind="station", name="홍대입규")
    with pytest.raises(ConfigError) as e:
        places.resolve_places(with_anchors(scenario, *anchors))
    msg = str(e.value)
    assert "anchors[3]" in msg
    assert "'홍대입규'" in msg
    assert scenario.source_file in msg
    assert places.STATIONS_FILE in msg


def test_unknown_line_lists_the_lines(scenario: Scenario) -> None:
    with pytest.raises(ConfigError, match=r"anchors\[0\].*not on line '9호선'.*2호선"):
        places.resolve_places(
            with_anchors(scenario, Anchor(kind="station", name="신촌", line="9호선"))
        )


def test_unknown_poi(scenario: Scenario) -> None:
    a = Anchor(kind="poi", name="없는구청")
    with pytest.raises(ConfigError, match=r"anchors\[0\]: no point of interest named '없는구청'"):
        places.resolve_places(with_anchors(scenario, a), pois=())


def test_poi_choice_prefers_inside_and_town_hall(scenario: Scenario) -> None:
    pois = [
        Poi("마포구청", "", "town_hall", "townhall", 37.4979, 127.0276),  # Gangnam: outside
        Poi("마포구청", "", "", "", 37.5660, 126.9014),  # inside, no class
        Poi("마포구청", "", "railway", "subway", 37.5635, 126.9033),  # inside, other class
        Poi("마포구청", "", "town_hall", "townhall", 37.5663, 126.9017),  # inside, town hall
    ]
    a = Anchor(kind="poi", name="마포구청")
    (p,) = places.resolve_places(with_anchors(scenario, a), pois=pois)
    assert (p.lat, p.lon) == (37.5663, 126.9017)
    (p,) = places.resolve_places(with_anchors(scenario, a), pois=pois[:3])
    assert (p.lat, p.lon) == (37.5635, 126.9033)
    assert p.name_en == "Mapo-gu Office"


def test_bus_stop_anchor_by_ars(scenario: Scenario) -> None:
    (p,) = places.resolve_places(
        with_anchors(scenario, Anchor(kind="bus_stop", name="13775", ars="13775"))
    )
    assert p.kind == "bus_stop"
    assert p.name_ko == "서대문구청"  # the stop's name replaces the bare ARS number
    assert p.district == 11410


def test_bus_stop_anchor_outside_the_study_area(scenario: Scenario) -> None:
    # 01001 (written 1001 upstream) is 종로2가사거리 in Jongno-gu
    a = Anchor(kind="bus_stop", name="1001", ars="1001")
    with pytest.raises(
        ConfigError, match=r"anchors\[0\]: '종로2가사거리' .* outside the study area"
    ):
        places.resolve_places(with_anchors(scenario, a))


def test_unknown_ars(scenario: Scenario) -> None:
    with pytest.raises(ConfigError, match=r"no bus stop with ARS number '99999'"):
        places.resolve_places(
            with_anchors(scenario, Anchor(kind="bus_stop", name="99999", ars="99999"))
        )


def test_point_anchor(scenario: Scenario) -> None:
    inside = Anchor(kind="point", name="상암동", lat=37.5790, lon=126.8890)
    (p,) = places.resolve_places(with_anchors(scenario, inside))
    assert (p.lat, p.lon, p.district, p.name_en) == (37.579, 126.889, 11440, "Sangam-dong")
    gangnam = Anchor(kind="point", name="강남역", lat=37.4979, lon=127.0276)
    with pytest.raises(ConfigError, match=r"'강남역' at \(37.49790, 127.02760\) lies outside"):
        places.resolve_places(with_anchors(scenario, inside, gangnam))


def test_point_in_the_buffer_has_no_district(scenario: Scenario) -> None:
    # Jongno-gu, 200 m east of the Seodaemun border near Dongnimmun (inside the 500 m buffer)
    a = Anchor(kind="point", name="buffer", lat=37.5745, lon=126.9638)
    (p,) = places.resolve_places(with_anchors(scenario, a))
    assert p.district is None


def test_bus_stop_file_reader(fixtures_dir: Path) -> None:
    stops = places.read_bus_stop_file(str(fixtures_dir / "bus_stops_sample.csv"))
    by_ars = {s.ars: s for s in stops}
    assert [s.ars for s in stops] == sorted(by_ars) == ["01001", "01301", "12001", "12002"]
    assert by_ars["12001"].name_ko == "불광역,3호선"  # quoted comma
    assert by_ars["12002"].name_ko == "서부경찰서,은평구청"  # unquoted comma: 7 fields
    assert by_ars["12002"].lon == 126.9290
    assert by_ars["12002"].lat == 37.6030
    assert by_ars["01301"].kind == "가상정류장"
    assert by_ars["01001"].node_id == "100000001"


def test_bus_stop_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "stops.csv"
    bad.write_text(
        "1,12001,a,126.9,37.6,일반차로\n2,12002,b,east,37.6,일반차로\n", encoding="utf-8"
    )
    with pytest.raises(DataError, match=r"stops.csv: line 2: X/Y 'east'"):
        places.read_bus_stop_file(str(bad))
    with pytest.raises(DataError, match="bus stop file not found"):
        places.read_bus_stop_file(str(tmp_path / "missing.csv"))


def test_missing_station_file_is_a_data_error(scenario: Scenario, tmp_path: Path) -> None:
    sc = dataclasses.replace(scenario, data_dir=str(tmp_path))
    with pytest.raises(DataError, match="station file not found"):
        places.read_stations(sc)


def test_normalize_ars() -> None:
    assert places.normalize_ars("1001") == "01001"
    assert places.normalize_ars(13001) == "13001"
    assert places.normalize_ars(" 01001 ") == "01001"
    assert places.normalize_ars("V-1") == "V-1"
