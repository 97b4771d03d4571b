"""Service calendar: the frozen Korean public holidays, scenario dates, calendar_dates.txt."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import sys
import zipfile
from pathlib import Path

import pytest
from test_gtfs import make_plan

from shuttle import gtfs
from shuttle.config import Scenario, load_scenario, scenario_path
from shuttle.errors import ConfigError, TimetableError
from shuttle.service_calendar import (
    HOLIDAY_YEARS,
    KR_PUBLIC_HOLIDAYS,
    check_calendar,
    day_type_of,
    public_holidays,
    service_dates,
)

D = dt.date

#: The 2027 public holidays, written out by hand from the rules (see the module docstring).
#: The issue's list, checked against the calendar: 2027-03-01 is a Monday, so 삼일절 has no
#: substitute day (no 03-02); 한글날 (Sat 10-09) and 성탄절 (Sat 12-25) do have one (10-11, 12-27:
#: national days since 2021, Christmas since 2023). 노동절 and 제헌절 (both Saturdays) are public
#: holidays from 2026 (Public Holidays Act as amended 2026-02-10), with substitutes 05-03, 07-19.
HOLIDAYS_2027 = {
    D(2027, 1, 1): "신정",
    D(2027, 2, 6): "설날 전날",
    D(2027, 2, 7): "설날",
    D(2027, 2, 8): "설날 다음날",
    D(2027, 2, 9): "설날 대체 (2/7 is a Sunday)",
    D(2027, 3, 1): "삼일절",
    D(2027, 5, 1): "노동절",
    D(2027, 5, 3): "노동절 대체",
    D(2027, 5, 5): "어린이날",
    D(2027, 5, 13): "부처님오신날",
    D(2027, 6, 6): "현충일 (Sunday, no substitute)",
    D(2027, 7, 17): "제헌절",
    D(2027, 7, 19): "제헌절 대체",
    D(2027, 8, 15): "광복절",
    D(2027, 8, 16): "광복절 대체",
    D(2027, 9, 14): "추석 전날",
    D(2027, 9, 15): "추석",
    D(2027, 9, 16): "추석 다음날",
    D(2027, 10, 3): "개천절",
    D(2027, 10, 4): "개천절 대체",
    D(2027, 10, 9): "한글날",
    D(2027, 10, 11): "한글날 대체",
    D(2027, 12, 25): "성탄절",
    D(2027, 12, 27): "성탄절 대체",
}
SATURDAY_HOLIDAYS_2027 = {
    D(2027, 2, 6),
    D(2027, 5, 1),
    D(2027, 7, 17),
    D(2027, 10, 9),
    D(2027, 12, 25),
}
SUNDAY_HOLIDAYS_2027 = {D(2027, 2, 7), D(2027, 6, 6), D(2027, 8, 15), D(2027, 10, 3)}


@pytest.fixture(scope="module")
def scen() -> Scenario:
    return load_scenario("nw3")


def _with_service(scen: Scenario, **kw: object) -> Scenario:
    return dataclasses.replace(scen, service=dataclasses.replace(scen.service, **kw))


# ----------------------------------------------------------------------------------------------
# the table


def test_2027_holidays_by_hand() -> None:
    got = public_holidays(D(2027, 1, 1), D(2027, 12, 31))
    assert sorted(got) == sorted(HOLIDAYS_2027)
    assert D(2027, 3, 1).weekday() == 0  # Monday: no substitute day
    assert D(2027, 3, 2) not in got
    # the contested dates, decided in nw3.toml: holidays with their substitute days
    assert {D(2027, 5, 1), D(2027, 5, 3), D(2027, 7, 17), D(2027, 7, 19)} <= set(got)
    assert {d for d in got if d.weekday() == 5} == SATURDAY_HOLIDAYS_2027
    assert {d for d in got if d.weekday() == 6} == SUNDAY_HOLIDAYS_2027


def test_substitute_days_follow_the_rules() -> None:
    """Each substitute is the first free weekday after a holiday that fell on a rest day."""
    table = {D.fromisoformat(d): n for d, n in KR_PUBLIC_HOLIDAYS}
    assert len(table) == len(KR_PUBLIC_HOLIDAYS), "one row per date"
    assert {d.year for d in table} == set(HOLIDAY_YEARS)
    subs = {d: n.removesuffix(" 대체 휴일") for d, n in table.items() if n.endswith("대체 휴일")}
    for day, base in subs.items():
        assert day.weekday() < 5, day
        base_days = [d for d, n in table.items() if base in n.split("; ") and d < day]
        assert base_days, (day, base)
        # every day from the base holiday to the substitute is a weekend day or a holiday
        d = max(base_days) + dt.timedelta(days=1)
        while d < day:
            assert d.weekday() >= 5 or d in table, (day, d)
            d += dt.timedelta(days=1)
    # national days on a Saturday or Sunday get a substitute; 현충일 and 신정 never do
    weekend_rule = ("삼일절", "어린이날", "노동절", "부처님오신날", "제헌절", "광복절", "개천절")
    weekend_rule += ("한글날", "기독탄신일")
    for day, name in table.items():
        if name in weekend_rule and day.weekday() >= 5:
            assert name in subs.values(), (day, name)
    assert not {"현충일", "신정연휴"} & set(subs.values())


def test_no_library_needed(scen: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    before = service_dates(scen)
    monkeypatch.setitem(sys.modules, "holidays", None)  # any import of it now fails
    assert service_dates(scen) == before


def test_frozen_table_matches_the_library() -> None:
    """The library is the checker: the release that knows the 2026 amendment agrees."""
    import holidays  # test extra, holidays>=0.109 (the first release with the 2026 amendment)

    lib = holidays.country_holidays("KR", years=HOLIDAY_YEARS, language="ko")
    assert [(d.isoformat(), str(n)) for d, n in sorted(lib.items())] == list(KR_PUBLIC_HOLIDAYS)


def test_year_without_table() -> None:
    with pytest.raises(TimetableError, match=r"no frozen public-holiday table for 2029"):
        public_holidays(D(2028, 12, 1), D(2029, 1, 31))


# ----------------------------------------------------------------------------------------------
# the nw3 calendar


def test_nw3_calendar_by_hand(scen: Scenario) -> None:
    cal = service_dates(scen)
    assert (cal.start, cal.end) == (D(2027, 1, 4), D(2027, 12, 31))
    # 362 days from Monday 4 January: 260 weekdays, 51 Saturdays, 51 Sundays; 14 holidays fall
    # on weekdays and 5 on Saturdays, all of which run the Sunday service.
    assert dict(cal.dates) == {"weekday": 246, "saturday": 46, "sunday": 70}
    expected = set()
    for day in HOLIDAYS_2027:
        if day >= D(2027, 1, 4) and day.weekday() < 6:
            ymd = day.strftime("%Y%m%d")
            kind = "saturday" if day in SATURDAY_HOLIDAYS_2027 else "weekday"
            expected |= {(ymd, kind, 2), (ymd, "sunday", 1)}
    assert set(cal.exceptions) == expected
    assert len(cal.exceptions) == 38
    assert cal.exceptions == tuple(sorted(cal.exceptions))
    assert [h.date for h in cal.holidays] == [
        d.strftime("%Y%m%d") for d in sorted(HOLIDAYS_2027) if d >= D(2027, 1, 4)
    ]
    assert day_type_of(D(2027, 9, 15)) == "weekday"


def test_extra_holidays_and_no_service_in_feed(scen: Scenario, tmp_path: Path) -> None:
    extra = (D(2027, 6, 3), D(2027, 11, 20))  # a Thursday and a Saturday
    closed = (D(2027, 6, 6), D(2027, 9, 15), D(2027, 12, 31))  # Sunday, Chuseok Wed, Friday
    sc = _with_service(scen, extra_holidays=extra, no_service=closed)
    path = gtfs.write_feed(make_plan(sc), tmp_path / "feed.zip")
    with zipfile.ZipFile(path) as zf:
        rows = list(csv.DictReader(io.StringIO(zf.read("calendar_dates.txt").decode("utf-8"))))
    got = {(r["date"], r["service_id"], r["exception_type"]) for r in rows}
    for row in [
        ("20270603", "weekday", "2"),
        ("20270603", "sunday", "1"),
        ("20271120", "saturday", "2"),
        ("20271120", "sunday", "1"),
        ("20270606", "sunday", "2"),
        ("20270915", "weekday", "2"),
        ("20271231", "weekday", "2"),
    ]:
        assert row in got, row
    for ymd in ("20270915", "20271231", "20270606"):
        assert [r for r in got if r[0] == ymd and r[2] == "1"] == [], ymd  # nothing runs
    base = service_dates(scen)
    cal = service_dates(sc)
    assert dict(cal.dates) == {
        "weekday": dict(base.dates)["weekday"] - 2,  # 06-03 to Sunday service, 12-31 closed
        "saturday": dict(base.dates)["saturday"] - 1,
        "sunday": dict(base.dates)["sunday"] + 2 - 2,  # +06-03, +11-20, -06-06, -09-15
    }
    assert cal.no_service == ("20270606", "20270915", "20271231")
    assert ("20270603", "임시공휴일") in [(h.date, h.name) for h in cal.holidays]


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"extra_holidays": (D(2026, 12, 31),)}, r"extra_holidays: 2026-12-31 is outside"),
        ({"no_service": (D(2027, 6, 1), D(2027, 6, 1))}, r"no_service: 2027-06-01 .*twice"),
        (
            {"extra_holidays": (D(2027, 6, 1),), "no_service": (D(2027, 6, 1),)},
            r"2027-06-01 is also in service\.extra_holidays",
        ),
        ({"extra_holidays": (D(2027, 5, 5),)}, r"2027-05-05 is already a public holiday \(어린이"),
        ({"no_service": ("2027-06-01",)}, r"'2027-06-01' is not a date"),
    ],
)
def test_calendar_errors_by_hand(scen: Scenario, kw: dict[str, object], match: str) -> None:
    sc = _with_service(scen, **kw)
    with pytest.raises(TimetableError, match=match) as e:
        check_calendar(sc.service, sc)
    assert "\n" not in str(e.value)
    assert "nw3.toml" in str(e.value)


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("extra_holidays = [2028-01-03]", r"service\.extra_holidays: 2028-01-03 is outside"),
        ("extra_holidays = [2027-06-03, 2027-06-03]", r"service\.extra_holidays: .* twice"),
        ('no_service = ["2027-06-03"]', r"service\.no_service: expected TOML dates"),
        ("no_service = 2027-06-03", r"service\.no_service: expected .*list"),
    ],
)
def test_scenario_file_errors(line: str, match: str, tmp_path: Path) -> None:
    text = scenario_path("nw3").read_text(encoding="utf-8")
    key = line.split(" =")[0]
    old = next(x for x in text.splitlines() if x.startswith(f"{key} ="))
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(old, line), encoding="utf-8")
    with pytest.raises(ConfigError, match=match) as e:
        load_scenario(bad)
    assert str(bad) in str(e.value)
    assert "\n" not in str(e.value)


def test_both_lists_in_scenario_file(tmp_path: Path) -> None:
    text = scenario_path("nw3").read_text(encoding="utf-8")
    text = text.replace("extra_holidays = []", "extra_holidays = [2027-06-03]")
    text = text.replace("no_service = []", "no_service = [2027-06-03]")
    bad = tmp_path / "both.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"service\.no_service: 2027-06-03 is also in extra"):
        load_scenario(bad)
    good = tmp_path / "good.toml"
    good.write_text(text.replace("no_service = [2027-06-03]", "no_service = [2027-12-31]"))
    sc = load_scenario(good)
    assert sc.service.extra_holidays == (D(2027, 6, 3),)
    assert sc.service.no_service == (D(2027, 12, 31),)


_WRITE = """
import sys
if sys.argv[2] == "block":
    sys.modules["holidays"] = None  # the library cannot be imported in this run
sys.path.insert(0, sys.argv[3])
from test_gtfs import make_plan
from shuttle import gtfs
from shuttle.config import load_scenario
gtfs.write_feed(make_plan(load_scenario("nw3")), sys.argv[1])
"""


def test_feed_byte_identical_across_runs_without_library(tmp_path: Path) -> None:
    """Two processes, one unable to import ``holidays``, write the same bytes."""
    import subprocess

    here = str(Path(__file__).resolve().parent)
    outs = []
    for mode in ("normal", "block"):
        out = tmp_path / f"{mode}.zip"
        subprocess.run(
            [sys.executable, "-c", _WRITE, str(out), mode, here], check=True, timeout=120
        )
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    with zipfile.ZipFile(tmp_path / "block.zip") as zf:
        assert b"20270503,2" in zf.read("calendar_dates.txt")  # 노동절 substitute, a Monday
