"""Whole plans on generated road graphs (hypothesis): written with its invariants, or one error.

Each example is a small generated city (tests/gen_city.py: a grid or a tree of streets at real
coordinates in the nw3 districts, some one-way, road classes, point anchors, a depot, spans,
policy headways, a fleet budget and design parameters), run through the real CLI
(``shuttle plan --scenario city.toml --no-existing``: network build from the GraphML file, design,
service plan, timetable, GTFS, map and report). Whatever is generated, either

- the run exits 0 and writes every output, and the feed read back from the zip keeps the
  invariants: stop times strictly increase along every trip, every stop lies within 15 m of its
  trip's shape, no block holds overlapping trips, every anchor has a stop served by a trip
  within the walking catchment of its position, no shape turns by more than
  ``design.max_turn_deg``, the fleet (blocks out at once per day type, in the feed and in the
  report) is within the budget, and the feed passes gtfs-validator; or
- the run exits 1 with the project's own error (one ``Error:`` line, no traceback) and writes
  no output file.

Besides the generated cities, one hand-made city that plans (:func:`gen_city.sample_city`) runs
every time, so the invariants of a written plan are checked in every run. The examples database
stays out of the repository (``database=None``; ``.hypothesis/`` is in .gitignore too), the run
is derandomized (CI sees the same examples every time) and does not shrink (each step would be a
whole plan; the failing city is printed as it was generated).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import math
import os
import tempfile
import tomllib
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner
from feedcheck import assert_feed_clean
from gen_city import City, Street, cities, sample_city
from hypothesis import HealthCheck, Phase, event, example, given, settings

from shuttle import geo, gtfs, network, report
from shuttle.cli import main
from shuttle.config import load_scenario
from shuttle.errors import GraphError

#: Generated examples per run (besides the explicit one): a failing run takes 2-4 s, a written
#: plan 10-25 s (most of it gtfs-validator). $SHUTTLE_PLAN_EXAMPLES runs more.
MAX_EXAMPLES = int(os.environ.get("SHUTTLE_PLAN_EXAMPLES", "8"))
#: A stop lies this close to its trip's shape (metres): the published position of a real stop
#: is pulled to 15 m of its road (shuttle.stops.MAX_STOP_OFFSET_M, in EPSG:5179 metres) ...
STOP_SHAPE_M = 15.0
#: ... and both files round to 1e-6 degrees (about 0.1 m each), measured here on another plane.
ROUNDING_M = 0.25
#: Shape segments shorter than this are left out of the turn check (rounding noise, metres).
MIN_SEGMENT_M = 1.0
#: Slack on the turn limit for coordinates rounded to 1e-6 degrees (degrees).
TURN_SLACK_DEG = 0.5

OUTPUTS = (
    "gtfs/synth.zip",
    "gtfs/synth.routes.json",
    "gtfs/synth.routes.geojson",
    "maps/synth.html",
    "maps/index.html",
    "maps/synth.report.html",
    "maps/synth.report.json",
)


def _table(zf: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(zf.read(name).decode("utf-8-sig"))))


def _secs(hms: str) -> int:
    h, m, s = (int(x) for x in hms.split(":"))
    return h * 3600 + m * 60 + s


def _xy(lat: float, lon: float, lat0: float) -> tuple[float, float]:
    """Local plane metres (equirectangular around ``lat0``): independent of shuttle.geo."""
    k = 6_371_008.8 * math.pi / 180.0
    return lon * k * math.cos(math.radians(lat0)), lat * k


def _offset_m(lat: float, lon: float, line: list[tuple[float, float]]) -> float:
    px, py = _xy(lat, lon, lat)
    pts = [_xy(a, b, lat) for a, b in line]
    best = math.inf
    for (ax, ay), (bx, by) in zip(pts, pts[1:], strict=False):
        dx, dy = bx - ax, by - ay
        d2 = dx * dx + dy * dy
        t = 0.0 if d2 == 0 else min(1.0, max(0.0, ((px - ax) * dx + (py - ay) * dy) / d2))
        best = min(best, math.hypot(ax + t * dx - px, ay + t * dy - py))
    return best


def _turns_deg(line: list[tuple[float, float]]) -> list[float]:
    """Change of heading at each vertex of a polyline (segments under MIN_SEGMENT_M skipped)."""
    lat0 = line[0][0]
    pts = [_xy(a, b, lat0) for a, b in line]
    heads = []
    for (ax, ay), (bx, by) in zip(pts, pts[1:], strict=False):
        if math.hypot(bx - ax, by - ay) >= MIN_SEGMENT_M:
            heads.append(math.degrees(math.atan2(by - ay, bx - ax)))
    return [abs((b - a + 180.0) % 360.0 - 180.0) for a, b in zip(heads, heads[1:], strict=False)]


def _busiest(spans: list[tuple[int, int]]) -> int:
    """Most intervals ``[a, e)`` open at one time."""
    return max((sum(1 for a, e in spans if a <= t < e) for t, _ in spans), default=0)


def _check_feed(scen: dict, root: Path) -> None:
    feed = root / "gtfs" / "synth.zip"
    with zipfile.ZipFile(feed) as zf:
        stops = {
            r["stop_id"]: (float(r["stop_lat"]), float(r["stop_lon"]))
            for r in _table(zf, "stops.txt")
        }
        trips = {r["trip_id"]: r for r in _table(zf, "trips.txt")}
        shapes: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
        for r in _table(zf, "shapes.txt"):
            shapes[r["shape_id"]].append(
                (int(r["shape_pt_sequence"]), float(r["shape_pt_lat"]), float(r["shape_pt_lon"]))
            )
        times: dict[str, list[tuple[int, str, int, int]]] = defaultdict(list)
        for r in _table(zf, "stop_times.txt"):
            row = (int(r["stop_sequence"]), r["stop_id"], _secs(r["arrival_time"]))
            times[r["trip_id"]].append((*row, _secs(r["departure_time"])))
    line = {k: [(a, b) for _, a, b in sorted(v)] for k, v in shapes.items()}
    assert trips, "a written plan runs trips"
    assert set(times) == set(trips)

    # stop times strictly increase along every trip (dwell: departure >= arrival at a stop)
    for tid, rows in times.items():
        rows.sort()
        for _, _, arr, dep in rows:
            assert dep >= arr, tid
        for (_, _, _, dep), (_, _, arr, _) in zip(rows, rows[1:], strict=False):
            assert arr > dep, tid

    # every stop within 15 m of the shape of each trip that serves it
    pairs = {(trips[t]["shape_id"], s) for t, rows in times.items() for _, s, _, _ in rows}
    for shape_id, stop_id in sorted(pairs):
        off = _offset_m(*stops[stop_id], line[shape_id])
        assert off <= STOP_SHAPE_M + ROUNDING_M, (shape_id, stop_id, round(off, 1))

    # no turn above the limit along any shape
    limit = scen["design"]["max_turn_deg"]
    for shape_id, pts in line.items():
        worst = max(_turns_deg(pts), default=0.0)
        assert worst <= limit + TURN_SLACK_DEG, (shape_id, round(worst, 1), limit)

    # no block holds overlapping trips; blocks stay within one day type
    blocks: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for tid, rows in times.items():
        t = trips[tid]
        assert t["block_id"], tid
        blocks[t["block_id"]].append((rows[0][3], rows[-1][2], t["service_id"]))
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for bid, seq in blocks.items():
        seq.sort()
        assert len({s for _, _, s in seq}) == 1, bid
        for (_, end, _), (start, _, _) in zip(seq, seq[1:], strict=False):
            assert start >= end, bid
        spans[seq[0][2]].append((seq[0][0], seq[-1][1]))

    # fleet within the budget: the report's vehicles per day type (blocks out at once, pull-out
    # to pull-in) are at least the blocks the feed runs at once and at most the budget
    budget = scen.get("budget", {}).get("fleet")
    report = _report(root)
    total = {f["service_id"]: f["vehicles"] for f in report["fleet_total"]}
    assert report["peak_fleet"] == max(total.values())
    for service_id, sp in spans.items():
        assert _busiest(sp) <= total[service_id], service_id
    if budget is not None:
        assert report["peak_fleet"] <= budget, (report["peak_fleet"], budget)

    # every anchor is served: a stop flagged for it, run by a trip, within the catchment
    served = {s for rows in times.values() for _, s, _, _ in rows}
    design = _json(root / "gtfs" / "synth.routes.json")
    catch = scen.get("stops", {}).get("catchment_m", 400.0)
    for a in scen.get("anchors", []):
        mine = [s for s in design["stops"] if s["anchor"] == a["name"] and s["stop_id"] in served]
        assert mine, a["name"]
        d = min(geo.haversine_m(a["lat"], a["lon"], s["lat"], s["lon"]) for s in mine)
        assert d <= catch, (a["name"], round(d))

    # the canonical rules, one warning aside when the calendar explains it
    summary = gtfs.validate_feed(feed)
    if any(n.code == NEXT7 for n in summary.notices):
        assert _next7_expected(feed), "the busiest dates start in the first week"
        summary = dataclasses.replace(
            summary, notices=tuple(n for n in summary.notices if n.code != NEXT7)
        )
    assert_feed_clean(summary, feed)


#: gtfs-validator's warning that the dates running most trips do not cover the first week of the
#: feed: MobilityData's heuristic, not an error of ours. It fires when a day type other than the
#: weekday runs far more trips (drawn headways such as 60 min on weekdays, 5 min on Saturdays).
NEXT7 = "trip_coverage_not_active_for_next7_days"
#: A date with at least this share of the busiest date's trips counts as "majority service"
#: (MobilityData's computeMajorityServiceCoverage).
MAJORITY = 0.75


def _day(yyyymmdd: str) -> dt.date:
    return dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))


def _next7_expected(feed: Path) -> bool:
    """Whether the majority-service window misses the feed's first seven days (from the files)."""
    with zipfile.ZipFile(feed) as zf:
        cal = _table(zf, "calendar.txt")
        extra = _table(zf, "calendar_dates.txt")
        trips = _table(zf, "trips.txt")
        info = _table(zf, "feed_info.txt")[0]
    names = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    active: dict[str, set[dt.date]] = defaultdict(set)
    for c in cal:
        d = _day(c["start_date"])
        while d <= _day(c["end_date"]):
            if c[names[d.weekday()]] == "1":
                active[c["service_id"]].add(d)
            d += dt.timedelta(days=1)
    for e in extra:
        op = set.add if e["exception_type"] == "1" else set.discard
        op(active[e["service_id"]], _day(e["date"]))
    per_service: dict[str, int] = defaultdict(int)
    for t in trips:
        per_service[t["service_id"]] += 1
    count: dict[dt.date, int] = defaultdict(int)
    for sid, dates in active.items():
        for d in dates:
            count[d] += per_service[sid]
    top = max(count.values())
    major = sorted(d for d, n in count.items() if n >= MAJORITY * top)
    start = _day(info["feed_start_date"])
    return major[0] > start or major[-1] < start + dt.timedelta(days=7)


def _json(path: Path) -> dict:
    return json.loads(path.read_text("utf-8"))


def _report(root: Path) -> dict:
    (plan,) = _json(root / "maps" / "synth.report.json")["plans"]
    return plan


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("plan_properties")


@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: a shrink step is a whole plan
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(city=cities())
@example(city=sample_city())  # one city that plans, so every run checks a written plan
def test_generated_city_plans_or_fails_cleanly(city: City, scratch: Path) -> None:
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        root = Path(tmp)
        scen_file = city.write(root)
        scen = tomllib.loads(scen_file.read_text("utf-8"))
        args = [
            *("--cache-dir", str(root / "cache"), "plan", "--scenario", str(scen_file)),
            *("--no-existing", "--gtfs-dir", str(root / "gtfs"), "--maps-dir", str(root / "maps")),
        ]
        r = CliRunner().invoke(main, args)
        written = sorted(
            str(p.relative_to(root))
            for d in ("gtfs", "maps")
            if (root / d).is_dir()
            for p in (root / d).iterdir()
            if p.name != ".shuttle.lock"  # the lock file of the output folders (empty, kept)
        )
        if r.exit_code == 0:
            event("plan written")
            assert written == sorted(OUTPUTS)
            _check_feed(scen, root)
        else:
            # the project's error: click turned a ShuttleError into one line and exit code 1;
            # anything else (a traceback) reaches CliRunner as the exception itself
            assert isinstance(r.exception, SystemExit), repr(r.exception)
            assert r.exit_code == 1
            errors = [ln for ln in r.output.splitlines() if ln.startswith("Error:")]
            assert len(errors) == 1, r.output[-2000:]
            assert "Traceback" not in r.output
            assert written == [], written
            event(f"error: {errors[0].replace(str(root), '<dir>')[7:60]}")


def test_report_error_names_the_figure() -> None:
    """A plan that serves no trip has an infinite mean travel time (found by the run above):
    the report refuses it with the figure's place in the JSON, not only the encoder's words."""
    doc = {"plans": [{"kpis": {"coverage": 0.1, "att_min": math.inf}, "x": [1.0, math.nan]}]}
    assert report._first_non_finite(doc) == (".plans[0].kpis.att_min", math.inf)
    where, value = report._first_non_finite({"a": (2.0, {"b": math.nan})})
    assert where == ".a[1].b"
    assert math.isnan(value)
    assert report._first_non_finite({"a": [1.0, 2]}) == ("", 0.0)


def test_one_way_streets_only_is_a_graph_error(tmp_path: Path) -> None:
    """A city whose streets are all one-way and lead nowhere back (found by the run above) has
    no strongly connected part: the build says so instead of returning an empty graph."""
    city = sample_city()
    # a comb: one eastbound street and northbound side streets, every one of them one-way
    streets = [Street((i, 0), (i + 1, 0), "primary", "", 1, False) for i in range(4)]
    streets += [Street((i, 0), (i, 1), "secondary", "", 1, True) for i in range(5)]
    scen = load_scenario(dataclasses.replace(city, streets=tuple(streets)).write(tmp_path))
    with pytest.raises(GraphError, match="lead back to where they start"):
        network.load_graph(scen, cache_dir=tmp_path / "cache")
