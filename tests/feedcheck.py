"""Reusable checks of a timetable and a GTFS feed (used by the toy and the Seoul plan tests).

Each function asserts; call it from a test with the plan or feed under test.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from shuttle import geo
from shuttle.config import ServiceConfig
from shuttle.gtfs import ValidationSummary
from shuttle.model import Pattern, Plan, Route, Stop, Timetable, Trip

#: INFO notices a feed of ours may carry, with the reason (anything else fails the check).
KNOWN_INFOS = {
    # A day type loses consecutive dates to holidays (e.g. two Saturday holidays in a row,
    # 2026-09-26 Chuseok and 2026-10-03 Gaecheonjeol); the Sunday service runs instead.
    "big_gap_in_service",
    # A route ends in a turnaround loop (a real one, driven in the direction of traffic): the
    # trip serves the anchor it is signed for, then drives round the block to its terminal stop
    # on the departure side, so the headsign also names a stop a few hundred metres before the end.
    "trip_headsign_matches_intermediate_stop",
}


def _pattern(routes: Iterable[Route], trip: Trip) -> Pattern:
    for r in routes:
        if r.route_id == trip.route_id:
            for p in r.patterns:
                if p.direction_id == trip.direction_id:
                    return p
    raise AssertionError(f"no pattern for trip {trip.trip_id}")


def check_blocks(
    tt: Timetable,
    routes: Iterable[Route],
    svc: ServiceConfig,
    stops: Iterable[Stop] = (),
    *,
    terminal_m: float = 150.0,
) -> None:
    """No bus is in two trips at once; each next trip starts where the last ended, after layover.

    "Where the last ended" is the same stop, or (given ``stops``) a stop of the same terminal
    within ``terminal_m`` (the two directions often use stops on opposite sides of the road).
    """
    routes = tuple(routes)
    where = {s.stop_id: (s.lat, s.lon) for s in stops}
    by_id = {t.trip_id: t for t in tt.trips}
    assigned = Counter(i for b in tt.blocks for i in b.trip_ids)
    assert set(assigned) == set(by_id), "every trip is in a block"
    assert max(assigned.values()) == 1, "no trip is in two blocks"
    min_gap = round(svc.min_layover_min * 60)
    for b in tt.blocks:
        seq = [by_id[i] for i in b.trip_ids]
        for t in seq:
            assert (t.block_id, t.route_id, t.service_id) == (b.block_id, b.route_id, b.service_id)
        for a, c in zip(seq, seq[1:], strict=False):
            assert c.departure_s[0] >= a.arrival_s[-1] + min_gap, (b.block_id, a.trip_id, c.trip_id)
            pa, pc = _pattern(routes, a), _pattern(routes, c)
            end, start = pa.stop_ids[-1], pc.stop_ids[0]
            if end != start:
                assert end in where, (b.block_id, a.trip_id, c.trip_id, end, start)
                gap = geo.haversine_m(*where[end], *where[start])
                assert gap <= terminal_m, (b.block_id, a.trip_id, c.trip_id, gap)
    # the fleet rows agree with the blocks: a block runs from pull-out to pull-in, one bus can
    # run several blocks a day, so a route needs as many buses as blocks are active at one minute
    for f in tt.fleet:
        spans = [
            (b.start_s, b.end_s)
            for b in tt.blocks
            if (b.route_id, b.service_id) == (f.route_id, f.service_id)
        ]
        busiest = max(
            (sum(1 for a, e in spans if a <= t < e) for t in {a for a, _ in spans}), default=0
        )
        assert f.vehicles == busiest, (f.route_id, f.service_id, f.vehicles, busiest)
        trips = [t for t in tt.trips if (t.route_id, t.service_id) == (f.route_id, f.service_id)]
        assert f.trips == len(trips)
        km = sum(_pattern(routes, t).length_m for t in trips) / 1000
        assert math.isclose(f.revenue_km, km, abs_tol=0.01)
        assert math.isclose(f.vehicle_km, f.revenue_km + f.deadhead_km, abs_tol=0.01)
        parts = f.revenue_hours + f.layover_hours + f.deadhead_hours
        assert math.isclose(f.vehicle_hours, parts, abs_tol=0.01)
        assert f.vehicle_hours > 0


def check_fleet_covers_cycle(tt: Timetable, routes: Iterable[Route], svc: ServiceConfig) -> None:
    """For each route, day type and period: vehicles >= ceil(cycle time / headway)."""
    routes = tuple(routes)
    layover = svc.layover_min * 60
    for f in tt.fleet:
        heads = dict(f.headways_min)
        trips = [t for t in tt.trips if (t.route_id, t.service_id) == (f.route_id, f.service_id)]
        for period, h in heads.items():
            in_p = [t for t in trips if t.period == period]
            if not in_p:
                continue
            dirs = {t.direction_id for t in in_p}
            cycle = sum(
                max(t.arrival_s[-1] - t.departure_s[0] for t in in_p if t.direction_id == d)
                + layover
                for d in dirs
            )
            need = math.ceil(cycle / (h * 60))
            assert f.vehicles >= need, (f.route_id, f.service_id, period, f.vehicles, need)


def _offset_to_polyline(lat: float, lon: float, pts: list[tuple[float, float]]) -> float:
    """Shortest distance (m) from a point to a polyline, in a local plane around the point."""
    kx = math.cos(math.radians(lat)) * 111_195.0
    best = math.inf
    xy = [((p[1] - lon) * kx, (p[0] - lat) * 111_195.0) for p in pts]
    for (ax, ay), (bx, by) in zip(xy, xy[1:], strict=False):
        dx, dy = bx - ax, by - ay
        d2 = dx * dx + dy * dy
        t = 0.0 if d2 == 0 else min(1.0, max(0.0, -(ax * dx + ay * dy) / d2))
        best = min(best, math.hypot(ax + t * dx, ay + t * dy))
    return best


def check_readback(plan: Plan, path: Path, *, max_offset_m: float = 20.0) -> None:
    """Read the feed with partridge and gtfs-kit; compare counts; stops lie on their shapes."""
    import gtfs_kit as gk
    import partridge as ptg

    tt = plan.timetable
    n_stop_times = sum(len(t.arrival_s) for t in tt.trips)
    n_stops = len({s for r in plan.routes for p in r.patterns for s in p.stop_ids})

    raw = ptg.load_raw_feed(str(path))
    assert len(raw.routes) == len(plan.routes)
    assert len(raw.trips) == len(tt.trips)
    assert len(raw.stops) == n_stops
    assert len(raw.stop_times) == n_stop_times

    feed = gk.read_feed(path, dist_units="m")
    assert len(feed.routes) == len(plan.routes)
    assert len(feed.trips) == len(tt.trips)
    assert len(feed.stops) == n_stops
    assert len(feed.stop_times) == n_stop_times

    # every stop within max_offset_m of its trip's shape, and its distance inside the shape
    shapes = {
        sid: (
            list(zip(g["shape_pt_lat"], g["shape_pt_lon"], strict=True)),
            float(g["shape_dist_traveled"].max()),
        )
        for sid, g in feed.shapes.sort_values(["shape_id", "shape_pt_sequence"]).groupby("shape_id")
    }
    stops = feed.stops.set_index("stop_id")
    st = feed.stop_times.merge(feed.trips[["trip_id", "shape_id"]], on="trip_id")
    pairs = st[["shape_id", "stop_id"]].drop_duplicates()
    for shape_id, stop_id in pairs.itertuples(index=False):
        pts, _ = shapes[shape_id]
        lat, lon = float(stops.at[stop_id, "stop_lat"]), float(stops.at[stop_id, "stop_lon"])
        off = _offset_to_polyline(lat, lon, pts)
        assert off <= max_offset_m, (shape_id, stop_id, off)
    dmax = st["shape_id"].map({k: v[1] for k, v in shapes.items()})
    assert (st["shape_dist_traveled"] <= dmax + 1e-6).all()
    assert (st["shape_dist_traveled"] >= 0).all()
    # shape distances are the haversine lengths of the shape
    for shape_id, (pts, dmax_s) in shapes.items():
        assert math.isclose(geo.path_length_m(pts), dmax_s, abs_tol=0.05), shape_id


_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
#: Fields the validator checks for mixed case, in the files we write (fare names are not).
MIXED_CASE_FIELDS = {
    "agency.txt": ("agency_name",),
    "stops.txt": ("stop_name",),
    "routes.txt": ("route_short_name", "route_long_name"),
    "trips.txt": ("trip_headsign",),
}


def caseless_text(value: str) -> bool:
    """Hangul text with no all-lower-case Latin word: the mixed-case rule cannot apply to it."""
    if not _HANGUL.search(value):
        return False
    return not any(len(w) > 1 and w.islower() for w in _LATIN_WORD.findall(value))


def assert_feed_clean(
    summary: ValidationSummary,
    feed: Path | None = None,
    *,
    allow_values: Iterable[str] = (),
    allowed_infos: Iterable[str] = KNOWN_INFOS,
) -> None:
    """Zero errors and zero warnings from gtfs-validator (MobilityData's rules), one exception.

    ``mixed_case_recommended_field`` is accepted only on Hangul text (:func:`caseless_text`:
    the rule splits a value on non-letters and wants a word that mixes upper and lower case,
    which Korean names of two or more words never have) and on the values in ``allow_values``.
    Given the ``feed``, every flagged cell is found with the validator's own predicate and the
    count must match the report; otherwise the report's samples (at most 1,000) are checked.
    """
    assert summary.errors == 0, summary.notices
    allowed = set(allow_values)
    for n in summary.notices:
        if n.severity == "WARNING":
            assert n.code == "mixed_case_recommended_field", n
            if feed is not None:
                values = _flagged_values(feed)
                assert len(values) == n.count
            else:
                assert len(n.samples) == n.count, "pass the feed to see every notice"
                values = [dict(s)["fieldValue"] for s in n.samples]
            for value in values:
                assert value in allowed or caseless_text(value), value
        elif n.severity == "INFO":
            assert n.code in set(allowed_infos), n


def _flagged_values(feed: Path) -> list[str]:
    """Every cell of a mixed-case field the validator's predicate rejects."""
    from gtfs_validator.typing_checks import is_mixed_case  # test-only use of its internals

    out = []
    with zipfile.ZipFile(feed) as zf:
        for name, fields in MIXED_CASE_FIELDS.items():
            rows = csv.DictReader(io.StringIO(zf.read(name).decode("utf-8")))
            for row in rows:
                out += [row[f] for f in fields if row.get(f) and not is_mixed_case(row[f])]
    return out
