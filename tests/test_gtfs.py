"""GTFS feed of the toy plan: validation (MobilityData rules), read-back, determinism, failures."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from feedcheck import assert_feed_clean, check_readback
from toyplan import HOSTILE, toy_design

from shuttle import gtfs
from shuttle.config import Scenario, load_scenario
from shuttle.errors import ExportError
from shuttle.model import Plan
from shuttle.timetable import build_timetable

#: Validator samples kept per notice code in these tests (enough to see every notice).
SAMPLES = 10_000


def make_plan(scenario: Scenario, design=None) -> Plan:  # noqa: ANN001
    """A plan from a design (default: the toy design) and :func:`build_timetable`."""
    d = design or toy_design()
    tt = build_timetable(d.routes, scenario)
    return Plan(
        scenario=scenario,
        places=d.places,
        stops=d.stops,
        routes=d.routes,
        kpis=d.kpis,
        timetable=tt,
    )


@pytest.fixture(scope="module")
def scen() -> Scenario:
    """nw3 service settings (service year 2027, from Monday 4 January)."""
    sc = load_scenario("nw3")
    assert sc.service.start_date == dt.date(2027, 1, 4)
    return sc


@pytest.fixture(scope="module")
def plan(scen: Scenario) -> Plan:
    return make_plan(scen)


@pytest.fixture(scope="module")
def feed(plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gtfs.write_feed(plan, tmp_path_factory.mktemp("gtfs") / "toy.zip")


@pytest.fixture(scope="module")
def summary(feed: Path) -> gtfs.ValidationSummary:
    return gtfs.validate_feed(feed, samples=SAMPLES)


def _read(path: Path, name: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(path) as zf:
        return list(csv.DictReader(io.StringIO(zf.read(name).decode("utf-8"))))


# ----------------------------------------------------------------------------------------------
# gtfs-validator (MobilityData's rules)


def test_toy_feed_passes_validator(summary: gtfs.ValidationSummary, feed: Path) -> None:
    # The hostile stop name is all lower-case Latin: a true mixed-case warning, and the only
    # one with cased letters.
    assert_feed_clean(summary, feed, allow_values={HOSTILE})
    assert_feed_clean(summary, allow_values={HOSTILE})  # the same from the report's samples
    mixed = {
        dict(s)["fieldValue"]
        for n in summary.notices
        for s in n.samples
        if n.code == "mixed_case_recommended_field"
    }
    assert HOSTILE in mixed


def test_toy_feed_without_hostile_name_is_clean(scen: Scenario, tmp_path: Path) -> None:
    d = toy_design()
    stops = tuple(
        dataclasses.replace(s, name_ko="망원시장", name_en="Mangwon Market")
        if s.name_ko == HOSTILE
        else s
        for s in d.stops
    )
    p = gtfs.write_feed(make_plan(scen, dataclasses.replace(d, stops=stops)), tmp_path)
    summary = gtfs.validate_feed(p, samples=SAMPLES)
    assert_feed_clean(summary, p)  # no allowance beyond caseless Hangul text
    text = gtfs.format_summary(summary)
    assert text.startswith(f"{p.name}: 0 errors, ")


def test_frequencies_feed_validates(plan: Plan, tmp_path: Path) -> None:
    p = gtfs.write_feed(plan, tmp_path / "freq.zip", frequencies=True)
    assert_feed_clean(gtfs.validate_feed(p, samples=SAMPLES), p, allow_values={HOSTILE})
    rows = _read(p, "frequencies.txt")
    trips = _read(p, "trips.txt")
    assert "block_id" not in trips[0]
    assert {r["trip_id"] for r in rows} == {t["trip_id"] for t in trips}

    # the templates expand to exactly the scheduled departures of the plan
    def secs(hms: str) -> int:
        h, m, s = map(int, hms.split(":"))
        return h * 3600 + m * 60 + s

    expanded = set()
    for r in rows:
        assert r["exact_times"] == "1"
        h = int(r["headway_secs"])
        t, end = secs(r["start_time"]), secs(r["end_time"])
        assert h > 0
        assert t < end
        tid = r["trip_id"]
        route, service, direction = tid.split("_")[:3]
        while t < end:
            expanded.add((route, service, int(direction), t))
            t += h
    planned = {
        (t.route_id, t.service_id, t.direction_id, t.departure_s[0]) for t in plan.timetable.trips
    }
    assert expanded == planned


def test_validate_feed_errors(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="not found"):
        gtfs.validate_feed(tmp_path / "missing.zip")
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ExportError, match="cannot open the feed"):
        gtfs.validate_feed(bad)


def test_validate_feed_as_of(feed: Path) -> None:
    late = gtfs.validate_feed(feed, as_of=dt.date(2027, 12, 20))
    assert late.as_of == "2027-12-20"
    assert late.by_code("WARNING").get("feed_expiration_date30_days") == 1


# ----------------------------------------------------------------------------------------------
# independent readers


def test_reads_back_with_partridge_and_gtfs_kit(plan: Plan, feed: Path) -> None:
    check_readback(plan, feed)


def test_content(plan: Plan, feed: Path, scen: Scenario) -> None:
    agency = _read(feed, "agency.txt")[0]
    assert agency["agency_timezone"] == "Asia/Seoul"
    assert agency["agency_lang"] == "ko"
    # one name for the service: the scenario's title names the agency (nw3 sets no agency_ko/en)
    assert agency["agency_name"] == scen.title_ko == "서북권 3개구 공동 셔틀"
    en = {
        (r["table_name"], r["field_name"]): r["translation"]
        for r in _read(feed, "translations.txt")
        if r["table_name"] in ("agency", "feed_info")
    }
    assert en == {
        ("agency", "agency_name"): "Northwest Seoul Joint Shuttle",
        ("feed_info", "feed_publisher_name"): "Northwest Seoul Joint Shuttle",
    }
    assert _read(feed, "feed_info.txt")[0]["feed_publisher_name"] == scen.title_ko
    assert agency["agency_url"] == scen.agency_url
    stops = {s["stop_id"]: s for s in _read(feed, "stops.txt")}
    for s in plan.stops:
        assert stops[s.stop_id]["stop_name"] == s.name_ko  # Korean, hostile text unchanged
        assert stops[s.stop_id]["stop_code"] == (s.ars or "")
    for r in _read(feed, "routes.txt"):
        assert r["route_type"] == "3"
        assert gtfs.contrast_ratio(r["route_color"], r["route_text_color"]) >= 4.5
    st = _read(feed, "stop_times.txt")
    trips = {t["trip_id"]: t for t in _read(feed, "trips.txt")}
    assert all(t["block_id"] and t["shape_id"] for t in trips.values())
    by_trip: dict[str, list[dict[str, str]]] = {}
    for r in st:
        by_trip.setdefault(r["trip_id"], []).append(r)
    for rows in by_trip.values():
        rows.sort(key=lambda r: int(r["stop_sequence"]))
        assert [r["timepoint"] for r in rows] == ["1"] + ["0"] * (len(rows) - 2) + ["1"]
        inner = rows[1:-1]
        assert all(r["arrival_time"] != r["departure_time"] for r in inner)  # dwell
        d = [float(r["shape_dist_traveled"]) for r in rows]
        assert d == sorted(d)
        assert d[0] < 1.0
    info = _read(feed, "feed_info.txt")[0]
    assert info["feed_lang"] == "ko"
    assert "default_lang" not in info
    assert (info["feed_start_date"], info["feed_end_date"]) == ("20270104", "20271231")


def test_route_colours_adjusted_for_contrast(feed: Path) -> None:
    routes = {r["route_id"]: r for r in _read(feed, "routes.txt")}
    # toy R3 is 2CA02C with white text: contrast 3.3, so the text turns black
    assert gtfs.contrast_ratio("2CA02C", "FFFFFF") < 4.5
    assert (routes["R3"]["route_color"], routes["R3"]["route_text_color"]) == ("2CA02C", "000000")
    assert routes["R1"]["route_text_color"] == "FFFFFF"
    for c, t in [("FFFF00", "FFFFFF"), ("777777", "888888"), ("123456", "123456")]:
        c2, t2 = gtfs.readable_colors(c, t)
        assert gtfs.contrast_ratio(c2, t2) >= 4.5


def test_calendar_and_holidays(feed: Path) -> None:
    """Weekly flags; the holiday exceptions are checked date by date in test_calendar.py."""
    cal = {r["service_id"]: r for r in _read(feed, "calendar.txt")}
    assert [cal["weekday"][d] for d in ("monday", "friday", "saturday", "sunday")] == [
        "1",
        "1",
        "0",
        "0",
    ]
    assert cal["saturday"]["saturday"] == "1"
    assert cal["sunday"]["sunday"] == "1"
    exc = {
        (r["service_id"], r["date"], r["exception_type"]) for r in _read(feed, "calendar_dates.txt")
    }
    assert len(exc) == 38  # 19 holidays off a Sunday from 2027-01-04, two rows each
    assert {("weekday", "20270915", "2"), ("sunday", "20270915", "1")} <= exc  # Chuseok, Wed
    assert {("saturday", "20270501", "2"), ("weekday", "20270503", "2")} <= exc  # 노동절
    assert not [r for r in exc if r[1] == "20271003"]  # 개천절 is a Sunday


# ----------------------------------------------------------------------------------------------
# vehicles and accessibility


def test_wheelchair_fields(feed: Path, plan: Plan, tmp_path: Path) -> None:
    assert plan.scenario.vehicle.low_floor
    trips = _read(feed, "trips.txt")
    assert {t["wheelchair_accessible"] for t in trips} == {"1"}
    # the Seoul stop list says nothing about kerbs: unknown, never a guess
    assert {s["wheelchair_boarding"] for s in _read(feed, "stops.txt")} == {"0"}
    high = dataclasses.replace(
        plan.scenario, vehicle=dataclasses.replace(plan.scenario.vehicle, low_floor=False)
    )
    known = tuple(
        dataclasses.replace(s, wheelchair_boarding=1) if s.stop_id == "S0001" else s
        for s in plan.stops
    )
    other = gtfs.write_feed(dataclasses.replace(plan, scenario=high, stops=known), tmp_path)
    assert {t["wheelchair_accessible"] for t in _read(other, "trips.txt")} == {"2"}
    boarding = {s["stop_id"]: s["wheelchair_boarding"] for s in _read(other, "stops.txt")}
    assert boarding["S0001"] == "1"
    assert set(boarding.values()) == {"0", "1"}
    bad = tuple(dataclasses.replace(s, wheelchair_boarding=3) for s in plan.stops)
    with pytest.raises(ExportError, match="wheelchair_boarding 3 is not 0, 1 or 2"):
        gtfs.build_tables(dataclasses.replace(plan, stops=bad))


# ----------------------------------------------------------------------------------------------
# what the validator is


def test_validator_is_named(summary: gtfs.ValidationSummary) -> None:
    import importlib.metadata
    import importlib.resources
    import json

    version = importlib.metadata.version("gtfs-validator")
    data = importlib.resources.files("gtfs_validator") / "data" / "canonical_notices.json"
    tag = json.loads(data.read_text(encoding="utf-8"))["_meta"]["tag"]
    assert gtfs.validator_version() == (version, tag)
    assert tag.startswith("v")
    assert f"gtfs-validator {version}" in summary.validator
    assert f"MobilityData's validator {tag} rules" in summary.validator
    assert summary.validator in gtfs.format_summary(summary).splitlines()[0]


def test_mixed_case_false_positive_on_hangul(summary: gtfs.ValidationSummary) -> None:
    """Evidence for the documented false positive: a caseless Korean route name is flagged."""
    flagged = {
        (dict(s)["fieldName"], dict(s)["fieldValue"])
        for n in summary.notices
        if n.code == "mixed_case_recommended_field"
        for s in n.samples
    }
    assert ("route_long_name", "신촌역–서대문구청") in flagged
    assert "신촌역–서대문구청".upper() == "신촌역–서대문구청".lower()  # Hangul has no case


def test_translations_follow_spec(feed: Path, plan: Plan) -> None:
    rows = _read(feed, "translations.txt")
    keys = {
        "agency": {r["agency_id"] for r in _read(feed, "agency.txt")},
        "stops": {r["stop_id"] for r in _read(feed, "stops.txt")},
        "routes": {r["route_id"] for r in _read(feed, "routes.txt")},
    }
    headsigns = {t["trip_headsign"] for t in _read(feed, "trips.txt")}
    tables = set()
    for r in rows:
        assert r["language"] == "en"
        assert r["translation"]
        tables.add((r["table_name"], r["field_name"]))
        if r["table_name"] == "feed_info":
            assert r["record_id"] == ""
            assert r["field_value"] == ""
        elif r["field_value"]:
            assert r["record_id"] == ""
            assert r["table_name"] == "trips"
            assert r["field_value"] in headsigns
        else:
            assert r["record_id"] in keys[r["table_name"]]
    assert {
        ("agency", "agency_name"),
        ("stops", "stop_name"),
        ("routes", "route_long_name"),
        ("trips", "trip_headsign"),
    } <= tables
    en = {r["record_id"]: r["translation"] for r in rows if r["table_name"] == "stops"}
    assert en == {s.stop_id: s.name_en for s in plan.stops}


# ----------------------------------------------------------------------------------------------
# determinism


def test_byte_identical(plan: Plan, feed: Path, tmp_path: Path) -> None:
    again = gtfs.write_feed(plan, tmp_path / "again.zip")
    assert again.read_bytes() == feed.read_bytes()
    with zipfile.ZipFile(feed) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == [n for n in gtfs.FEED_FILES if n != "frequencies.txt"]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 & 0o777 for i in infos} == {0o644}


def test_feed_version_follows_content(plan: Plan, feed: Path, tmp_path: Path) -> None:
    v1 = _read(feed, "feed_info.txt")[0]["feed_version"]
    changed = dataclasses.replace(
        plan, stops=tuple(dataclasses.replace(s, name_ko=s.name_ko + "앞") for s in plan.stops)
    )
    v2 = _read(gtfs.write_feed(changed, tmp_path / "c.zip"), "feed_info.txt")[0]["feed_version"]
    assert v1 != v2
    assert v1.startswith("20270104-")


def test_folder_target(plan: Plan, tmp_path: Path) -> None:
    out = gtfs.write_feed(plan, tmp_path / "out")
    assert out == tmp_path / "out" / f"{plan.scenario.name}_gtfs.zip"
    assert zipfile.is_zipfile(out)


# ----------------------------------------------------------------------------------------------
# failures leave nothing behind


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.suffix in (".zip", ".part"))


def test_unwritable_folder(plan: Plan, tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file, not a folder")
    with pytest.raises(ExportError, match="cannot write output folder") as e:
        gtfs.write_feed(plan, blocker / "sub" / "feed.zip")
    assert str(blocker / "sub") in str(e.value)
    assert "\n" not in str(e.value)
    assert _leftovers(tmp_path) == []


def test_stop_off_its_shape_is_refused(plan: Plan, tmp_path: Path) -> None:
    moved = tuple(
        dataclasses.replace(s, lon=s.lon + 0.0015) if s.stop_id == "S0002" else s
        for s in plan.stops
    )  # about 130 m east of route 1, which runs north there
    with pytest.raises(ExportError, match=r"shape R1_0: stops more than 20 m .*S0002 \(1\d\d m\)"):
        gtfs.write_feed(dataclasses.replace(plan, stops=moved), tmp_path / "feed.zip")
    assert _leftovers(tmp_path) == []


def test_failure_while_writing_leaves_nothing(
    plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "feed.zip"
    calls = {"shapes.txt": 0}
    real = gtfs.Table.to_bytes

    def flaky(self: gtfs.Table) -> bytes:
        calls[self.name] = calls.get(self.name, 0) + 1
        # the first call hashes the table for feed_version; the second writes it into the zip
        if self.name == "shapes.txt" and calls["shapes.txt"] == 2:
            raise OSError(28, "No space left on device")
        return real(self)

    monkeypatch.setattr(gtfs.Table, "to_bytes", flaky)
    with pytest.raises(ExportError, match="No space left"):
        gtfs.write_feed(plan, target)
    assert calls["stop_times.txt"] == 2  # the zip was half written
    assert _leftovers(tmp_path) == []


def test_overlapping_block_is_refused(plan: Plan) -> None:
    tt = plan.timetable
    b1, b2 = [b for b in tt.blocks if b.route_id == "R1" and b.service_id == "weekday"][:2]
    merged = dataclasses.replace(
        b1,
        trip_ids=tuple(
            sorted(
                (*b1.trip_ids, *b2.trip_ids),
                key=lambda i: next(t.departure_s[0] for t in tt.trips if t.trip_id == i),
            )
        ),
    )
    blocks = tuple(merged if b is b1 else b for b in tt.blocks if b is not b2)
    bad = dataclasses.replace(plan, timetable=dataclasses.replace(tt, blocks=blocks))
    problems = gtfs.feed_problems(bad, gtfs.build_tables(bad))
    assert any("trips overlap" in m or "terminal" in m for _, m, _, _ in problems)
    assert gtfs.feed_problems(plan, gtfs.build_tables(plan)) == []


def test_times_past_midnight(scen: Scenario) -> None:
    days = tuple(
        (d, dataclasses.replace(s, end_s=25 * 3600) if d == "weekday" else s)
        for d, s in scen.service.days
    )
    late = dataclasses.replace(scen, service=dataclasses.replace(scen.service, days=days))
    tables = gtfs.build_tables(make_plan(late))
    times = tables["stop_times.txt"].column("departure_time")
    assert max(times) > "25:00:00"
    assert gtfs.feed_problems(make_plan(late), tables) == []


def test_stop_distances_measured_on_the_shape(scen: Scenario) -> None:
    """Dense road shapes and stop distances on another scale (projected metres) still agree."""
    d = toy_design()

    def dense(p):  # noqa: ANN001, ANN202
        pts = [p.shape[0]]
        for a, b in zip(p.shape, p.shape[1:], strict=False):
            pts += [
                (a[0] + (b[0] - a[0]) * k / 10, a[1] + (b[1] - a[1]) * k / 10) for k in range(1, 11)
            ]
        return dataclasses.replace(
            p,
            shape=tuple(pts),
            stop_dist_m=tuple(x * 1.003 for x in p.stop_dist_m),
            length_m=p.length_m * 1.003,
        )

    routes = tuple(
        dataclasses.replace(r, patterns=tuple(dense(p) for p in r.patterns)) for r in d.routes
    )
    plan = make_plan(scen, dataclasses.replace(d, routes=routes))
    tables = gtfs.build_tables(plan)
    assert gtfs.feed_problems(plan, tables) == []
    shape_d: dict[tuple[str, str, str], float] = {}
    for sid, lat, lon, _seq, dist in tables["shapes.txt"].rows:
        shape_d.setdefault((sid, lat, lon), float(dist))
    stops = {r[0]: (r[3], r[4]) for r in tables["stops.txt"].rows}
    trip_shape = dict(
        zip(
            tables["trips.txt"].column("trip_id"),
            tables["trips.txt"].column("shape_id"),
            strict=True,
        )
    )
    for trip_id, _a, _d, stop_id, _seq, dist, _tp in tables["stop_times.txt"].rows[:200]:
        # every toy stop is a shape vertex: its distance is that vertex's distance
        at = shape_d[(trip_shape[trip_id], *stops[stop_id])]
        assert abs(float(dist) - at) <= 0.011
