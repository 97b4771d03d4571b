"""Readers of the observed hourly boardings and the hourly profile."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from shuttle.errors import DataError
from shuttle.ridership import hourly_profile, read_bus_hourly, read_subway_hourly

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ridership"


def _counts(board_at: dict[int, int]) -> list[str]:
    out = []
    for h in range(24):
        out += [str(board_at.get(h, 0)), "1"]
    return out


def _zip(tmp_path: Path, rows: list[list[str]], name: str = "m.txt.zip") -> Path:
    p = tmp_path / name
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("m.txt", "\n".join(",".join(r) for r in rows) + "\n")
    return p


def test_bus_rows_with_commas_in_route_and_stop_names(tmp_path: Path) -> None:
    rows = [
        ["202201", "110B", "110번(B", "국민대", "정릉)", "01133", "세검초교", *_counts({8: 5})],
        ["202201", "1155", "1155번(가~나)", "49497", "유승한내들2차", "묘원입구", *_counts({8: 7})],
        ["202201", "7", "7번(가~나)", "1133", "세검초교", *_counts({8: 2, 9: 4})],
        ["202201", "3425", "3425번(송파~삼성)", "~", "송파공영차고지(종점가상)", *_counts({8: 99})],
    ]
    c = read_bus_hourly([_zip(tmp_path, rows)])
    # ARS 1133 written without its leading zero joins 01133; the virtual stop (~) is skipped
    assert c.keys == ("01133", "49497")
    assert c.names == ("세검초교", "유승한내들2차,묘원입구")
    assert c.boardings[0, 8] == 7.0
    assert c.boardings[0, 9] == 4.0
    assert c.boardings[1, 8] == 7.0
    assert c.alightings[0].sum() == 48.0  # one per hour on each of the two rows
    assert c.months == ("202201",)


def test_bus_bad_rows_are_one_clear_error(tmp_path: Path) -> None:
    short = _zip(tmp_path, [["202201", "7", "7번(가~나)", "01133", "x", "1", "2"]])
    with pytest.raises(DataError, match="line 1: 7 fields"):
        read_bus_hourly([short])
    bad = _zip(tmp_path, [["202201", "7", "7번(가~나)", "01133", "x", *(["a"] * 48)]], "b.zip")
    with pytest.raises(DataError, match="not a whole number"):
        read_bus_hourly([bad])
    with pytest.raises(DataError, match="not found"):
        read_bus_hourly([tmp_path / "missing.zip"])
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="cannot read"):
        read_bus_hourly([tmp_path / "junk.zip"])


def test_real_bus_counts_at_eunpyeong_gu_office() -> None:
    # January 2022, ARS 12126 (은평구청): 11 routes; their 08-09 boardings, read off the file's
    # rows (702A 722, 7734 162, 9701 19, 752 151, 702B 296, 7019 143, 7025 219, 7719 32,
    # 은평05 76, 7722 129, 7730 361), add up to 2,310.
    c = read_bus_hourly([DATA / "seoul_bus_stop_hourly_OA-12913_2022-01.txt.zip"], ars=["12126"])
    assert c.keys == ("12126",)
    assert c.boardings[0, 8] == 2310.0


def test_real_subway_counts_rebased_to_midnight() -> None:
    path = DATA / "seoul_subway_station_hourly_OA-12252_2022-01_11_cp949.csv"
    c = read_subway_hourly(path, stations=["응암"])
    i = c.keys.index("6호선|응암")
    jan = read_subway_hourly(path, stations=["응암"])
    assert jan.boardings.shape == (len(c.keys), 24)
    # the table starts at 04-05; in January 응암 had 9 boardings then and 9,447 at 05-06
    assert c.boardings[i, 4] >= 9
    assert c.boardings[i, 5] >= 9447
    assert c.boardings[i, 8] > c.boardings[i, 3]  # the morning peak over the small hours


def test_profile_sums_to_one_and_weights_shapes_equally() -> None:
    a = np.zeros(24)
    a[8] = 1000.0
    b = np.zeros(24)
    b[18] = 1.0
    p = hourly_profile(a, b)
    assert p.sum() == pytest.approx(1.0)
    assert p[8] == pytest.approx(0.5)
    assert p[18] == pytest.approx(0.5)
    with pytest.raises(DataError, match="No boardings"):
        hourly_profile(np.zeros(24))
