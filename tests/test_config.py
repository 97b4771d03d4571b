"""Scenario files: the default loads; bad files name the key and the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shuttle.config import DISTRICTS, load_scenario, parse_hhmm, scenario_path
from shuttle.errors import ConfigError

DEFAULT = scenario_path("nw3").read_text(encoding="utf-8")


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "s.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_default_scenario(scenario) -> None:
    assert scenario.name == "nw3"
    assert scenario.districts == (11410, 11380, 11440)
    assert scenario.network.source == "tiles"
    assert scenario.data_path(scenario.network.path).is_dir()
    assert len(scenario.anchors) >= 3
    wk = scenario.service.day("weekday")
    assert wk.start_s < wk.end_s
    assert all(h > 0 for _, h in wk.headways_min)
    assert scenario.service.period_at(8 * 3600) == "peak"
    assert scenario.service.period_at(12 * 3600) == "offpeak"
    assert scenario.service.period_at(21 * 3600) == "evening"
    assert scenario.service.period_at(24 * 3600 + 600) == "evening"


def test_district_table_matches_boundary_file(data_dir: Path) -> None:
    feats = json.loads(
        (data_dir / "boundaries/seoul_municipalities_juso2015_simple.geojson").read_text("utf-8")
    )["features"]
    from_file = {int(f["properties"]["SIG_CD"]): f["properties"]["SIG_KOR_NM"] for f in feats}
    assert {k: v[0] for k, v in DISTRICTS.items()} == from_file


def test_data_dir_override(tmp_path: Path) -> None:
    s = load_scenario("nw3", data_dir=tmp_path)
    assert s.data_path("osm/x") == tmp_path.resolve() / "osm/x"


def test_env_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SHUTTLE_DATA", str(tmp_path))
    assert load_scenario("nw3").data_dir == str(tmp_path.resolve())


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("buffer_m = 500.0", "buffer_m = 500.0\nbufer = 3", "network.bufer"),
        ("routes = 8", 'routes = "six"', "design.routes"),
        ("districts = [11410, 11380, 11440]", "districts = [11410, 99999]", "99999"),
        ('source = "tiles"', 'source = "shapefile"', "network.source"),
        ("headways_min = { peak = 20,", "headways_min = { peak = 0,", "weekday.headways_min.peak"),
        ('span = ["06:00", "23:00"]', 'span = ["23:00", "06:00"]', "weekday.span"),
        ('span = ["06:00", "23:00"]', 'span = ["6h", "23:00"]', "weekday.span"),
        ("fleet = 30", "fleet = 0", "budget.fleet"),
        ("dwell_s = 20", "dwell_s = 20\nfleet_cap = 90", "service.fleet_cap"),
        ("operator_weight = 0.3", "operator_weight = 1.5", "design.operator_weight"),
        ('method = "anneal"', 'method = "magic"', "design.method"),
        (
            'kind = "poi"\nname = "서대문구청"',
            'kind = "shop"\nname = "서대문구청"',
            "anchors[0].kind",
        ),
        ("end_date = 2027-12-31", "end_date = 2026-12-31", "service.end_date"),
        ("max_spacing_m = 800.0", "max_spacing_m = 100.0", "stops.max_spacing_m"),
        ("[demand]", "[demand]\nod_file = 3", "demand.od_file"),
        ("max_route_km = 14.0", "max_route_km = nan", "design.max_route_km"),
        ("buffer_m = 500.0", "buffer_m = inf", "network.buffer_m"),
    ],
)
def test_bad_values_name_key_and_file(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in DEFAULT
    p = write(tmp_path, DEFAULT.replace(old, new, 1))
    with pytest.raises(ConfigError) as e:
        load_scenario(p)
    msg = str(e.value)
    assert str(p) in msg
    assert expected in msg
    assert "\n" not in msg


def test_unknown_top_level_table(tmp_path: Path) -> None:
    p = write(tmp_path, DEFAULT + "\n[extras]\nx = 1\n")
    with pytest.raises(ConfigError, match="unknown key 'extras'"):
        load_scenario(p)


def test_malformed_and_missing(tmp_path: Path) -> None:
    p = write(tmp_path, "[scenario\nname=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_scenario(p)
    with pytest.raises(ConfigError, match="not found"):
        load_scenario(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="scenario.districts"):
        load_scenario(write(tmp_path, '[scenario]\nname = "x"\n'))


def test_minimal_scenario_gets_defaults(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, '[scenario]\nname = "mini"\ndistricts = [11440]\n'))
    assert s.districts == (11440,)
    assert s.design.routes >= 1
    assert [d for d, _ in s.service.days] == ["weekday", "saturday", "sunday"]


def test_point_anchor(tmp_path: Path) -> None:
    text = DEFAULT + '\n[[anchors]]\nname = "X"\nlat = 37.56\nlon = 126.92\n'
    s = load_scenario(write(tmp_path, text))
    assert s.anchors[-1].kind == "point"
    assert (s.anchors[-1].lat, s.anchors[-1].lon) == (37.56, 126.92)


def test_parse_hhmm() -> None:
    assert parse_hhmm("06:30") == 6 * 3600 + 1800
    assert parse_hhmm("24:00") == 86400
    with pytest.raises(ConfigError):
        parse_hhmm("6.30")
