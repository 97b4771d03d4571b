"""Fares: what a boarding costs, and the GTFS-Fares v2 files read back and validated."""

from __future__ import annotations

import csv
import dataclasses
import io
import zipfile
from pathlib import Path

import pytest
from feedcheck import assert_feed_clean
from test_gtfs import SAMPLES, make_plan
from toyplan import HOSTILE

from shuttle import gtfs
from shuttle.config import FareConfig, Scenario, load_scenario, scenario_path
from shuttle.errors import ConfigError
from shuttle.fares import fare_per_boarding, fare_rows, revenue_per_boarding

FLAT = FareConfig(policy="flat", fare_krw=1500, transfer_min=30, max_transfers=4)


@pytest.fixture(scope="module")
def scen() -> Scenario:
    return load_scenario("nw3")


def _read(path: Path, name: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(path) as zf:
        return list(csv.DictReader(io.StringIO(zf.read(name).decode("utf-8"))))


def _feed(scen: Scenario, fares: FareConfig, path: Path) -> Path:
    return gtfs.write_feed(make_plan(dataclasses.replace(scen, fares=fares)), path)


# ----------------------------------------------------------------------------------------------
# per boarding


def test_fare_per_boarding() -> None:
    assert fare_per_boarding(FareConfig()) == 0
    assert fare_per_boarding(FareConfig(), transfer=True) == 0
    assert fare_per_boarding(FLAT) == 1500
    assert fare_per_boarding(FLAT, transfer=True) == 0
    no_transfer = dataclasses.replace(FLAT, max_transfers=0)
    assert fare_per_boarding(no_transfer, transfer=True) == 1500


def test_revenue_per_boarding() -> None:
    # 100 trips with 50 transfers board 150 times and pay 100 x 1,500 won: 1,000 won a boarding
    assert revenue_per_boarding(FLAT, 0.5) == pytest.approx(1000.0)
    assert revenue_per_boarding(FLAT) == 1500.0
    assert revenue_per_boarding(FareConfig(), 0.3) == 0.0
    with pytest.raises(ConfigError, match="transfers_per_trip"):
        revenue_per_boarding(FLAT, -0.1)
    with pytest.raises(ConfigError, match="fare_krw must be >= 1"):
        fare_per_boarding(FareConfig(policy="flat", fare_krw=0))
    with pytest.raises(ConfigError, match="policy must be one of free, flat"):
        fare_rows(FareConfig(policy="zone"))


# ----------------------------------------------------------------------------------------------
# in the feed


def test_nw3_is_free(scen: Scenario) -> None:
    assert scen.fares == FareConfig(policy="free", fare_krw=0, transfer_min=30, max_transfers=4)


def test_free_fares_round_trip(scen: Scenario, tmp_path: Path) -> None:
    path = _feed(scen, scen.fares, tmp_path / "free.zip")
    assert _read(path, "fare_media.txt") == [
        {"fare_media_id": "none", "fare_media_name": "승차권 없음", "fare_media_type": "0"}
    ]
    assert _read(path, "fare_products.txt") == [
        {
            "fare_product_id": "free",
            "fare_product_name": "무료 승차",
            "fare_media_id": "none",
            "amount": "0",
            "currency": "KRW",
        }
    ]
    assert _read(path, "fare_leg_rules.txt") == [
        {"leg_group_id": "shuttle", "network_id": "", "fare_product_id": "free"}
    ]
    (rule,) = _read(path, "fare_transfer_rules.txt")
    assert (rule["transfer_count"], rule["duration_limit"], rule["fare_transfer_type"]) == (
        "-1",
        "",
        "0",
    )
    summary = gtfs.validate_feed(path, samples=SAMPLES)
    assert_feed_clean(summary, path, allow_values={HOSTILE})


def test_flat_fares_round_trip(scen: Scenario, tmp_path: Path) -> None:
    path = _feed(scen, FLAT, tmp_path / "flat.zip")
    (media,) = _read(path, "fare_media.txt")
    assert media["fare_media_type"] == "2"  # a transit card
    (product,) = _read(path, "fare_products.txt")
    assert (product["amount"], product["currency"], product["fare_media_id"]) == (
        "1500",
        "KRW",
        media["fare_media_id"],
    )
    (leg,) = _read(path, "fare_leg_rules.txt")
    assert leg["fare_product_id"] == product["fare_product_id"]
    (rule,) = _read(path, "fare_transfer_rules.txt")
    # free (no transfer product, A + AB = A) within 30 min = 1800 s from arrival to departure,
    # for up to 4 transfers
    assert rule == {
        "from_leg_group_id": leg["leg_group_id"],
        "to_leg_group_id": leg["leg_group_id"],
        "transfer_count": "4",
        "duration_limit": "1800",
        "duration_limit_type": "2",
        "fare_transfer_type": "0",
        "fare_product_id": "",
    }
    summary = gtfs.validate_feed(path, samples=SAMPLES)
    assert_feed_clean(summary, path, allow_values={HOSTILE})
    assert not [n for n in summary.notices if "fare" in n.code]


def test_no_transfer_discount_writes_no_transfer_rule(scen: Scenario, tmp_path: Path) -> None:
    path = _feed(scen, dataclasses.replace(FLAT, max_transfers=0), tmp_path / "nt.zip")
    with zipfile.ZipFile(path) as zf:
        assert "fare_transfer_rules.txt" not in zf.namelist()
        assert "fare_products.txt" in zf.namelist()
    assert_feed_clean(gtfs.validate_feed(path, samples=SAMPLES), path, allow_values={HOSTILE})


def test_validator_reads_the_fare_files(scen: Scenario, tmp_path: Path) -> None:
    """A broken transfer rule is caught: the validator does check Fares v2."""
    good = _feed(scen, FLAT, tmp_path / "flat.zip")
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "fare_transfer_rules.txt":
                data = data.replace(b"shuttle,shuttle,4,", b"shuttle,shuttle,0,")
            zout.writestr(name, data)
    summary = gtfs.validate_feed(bad)
    assert summary.by_code("ERROR").get("fare_transfer_rule_invalid_transfer_count") == 1


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        ('policy = "free"', 'policy = "zone"', r"fares\.policy: must be one of free, flat"),
        ("fare_krw = 0", "fare_krw = 1500", r"fares\.fare_krw: must be 0"),
        ('policy = "free"', 'policy = "flat"', r"fares\.fare_krw: must be whole won >= 1"),
        ("fare_krw = 0", "fare_krw = 1500.5", r"fares\.fare_krw: expected an integer"),
        ("transfer_min = 30", "transfer_min = 0", r"fares\.transfer_min: must be >= 1"),
        ("max_transfers = 4", "max_transfers = -1", r"fares\.max_transfers: must be >= 0"),
        ("max_transfers = 4", "max_transfer = 4", r"unknown key 'fares\.max_transfer'"),
    ],
)
def test_fare_config_errors(old: str, new: str, match: str, tmp_path: Path) -> None:
    text = scenario_path("nw3").read_text(encoding="utf-8")
    assert text.count(old) == 1
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(ConfigError, match=match) as e:
        load_scenario(bad)
    assert str(e.value).startswith(str(bad))
    assert "\n" not in str(e.value)


def test_flat_scenario_file(tmp_path: Path) -> None:
    text = scenario_path("nw3").read_text(encoding="utf-8")
    text = text.replace('policy = "free"', 'policy = "flat"').replace(
        "fare_krw = 0", "fare_krw = 1500"
    )
    f = tmp_path / "flat.toml"
    f.write_text(text, encoding="utf-8")
    assert load_scenario(f).fares == FLAT
