"""GTFS feed: build the tables of a plan, check them, write a zip, validate it.

:func:`build_tables` turns a :class:`~shuttle.model.Plan` into sorted row lists, one
:class:`Table` per GTFS file; :func:`feed_problems` checks our own invariants on them;
:func:`write_feed` writes the zip atomically and byte-identically; :func:`validate_feed` runs the
PyPI package ``gtfs-validator`` (0.1.2 when written; :func:`validator_version` reads the installed
one) and returns a :class:`ValidationSummary`. That package is an independent pure-Python port,
not made by MobilityData, of MobilityData's Java GTFS validator; it follows the rules, notice
codes and severities of a pinned release of it (v8.0.1, recorded in its
``data/canonical_notices.json``), so its verdict is that release's verdict, not the GTFS
reference's own.

Choices, documented here once:

- Korean is the feed language (``feed_lang = ko``, ``agency_lang = ko``): names in ``agency``,
  ``stops``, ``routes`` and ``trips`` are Korean; ``translations.txt`` carries English for agency,
  feed publisher, stop names, route long names and headsigns. ``default_lang`` is not written:
  the spec reserves it for the language shown when the rider's language is unknown, which only
  matters for a multilingual (``mul``) feed.
- Times are whole seconds, ``HH:MM:SS``, past 24:00:00 after midnight. Every stop has exact
  times; ``timepoint`` is 1 at the first and last stop and 0 in between, because intermediate
  times are model estimates (free-flow run time x period factor + dwell).
- ``shapes.txt`` holds each pattern's road geometry (6 decimals, consecutive duplicates dropped);
  ``shape_dist_traveled`` is the cumulative :func:`shuttle.geo.haversine_m` in metres. Each stop is
  located on its pattern's shape (nearest point, in stop order, guided by
  ``Pattern.stop_dist_m``), so its distance is measured on the same scale as the shape's.
- Route colours are kept when the text colour has a WCAG contrast >= 4.5 and a Rec. 601 luma
  difference >= 72 (the validator's rule); otherwise the text colour becomes black or white, and
  if neither passes the route colour is darkened until white text does.
- ``feed_version`` is ``<start date>-<first 10 hex of SHA-256 over all other tables>``, so it
  changes exactly when the content does.
- Calendar: :func:`shuttle.service_calendar.service_dates` (frozen public holidays, the
  scenario's ``extra_holidays`` and ``no_service``).
- Accessibility: ``trips.wheelchair_accessible`` is 1 when the scenario's ``[vehicle]`` is low
  floor, else 2. ``stops.wheelchair_boarding`` is the stop's own value (``Stop.
  wheelchair_boarding``), which is 0 (unknown) for every Seoul stop: the city's stop list
  (OA-15067) has no accessibility field, and a low-floor bus does not make a kerb accessible, so
  the feed never guesses 1.
- Fares: GTFS-Fares v2 (``fare_media``, ``fare_products``, ``fare_leg_rules``,
  ``fare_transfer_rules``) from :func:`shuttle.fares.fare_rows`; no Fares v1 files.
- Validator warnings that are false positives on Korean text: ``mixed_case_recommended_field``
  splits a value into words on non-letters and, when two or more words of two or more letters
  (without digits) remain, wants one of them to mix upper and lower case; Hangul has no letter
  case, so every such Korean name is flagged, e.g. ``route_long_name`` "신촌역–서대문구청"
  (``tests/test_gtfs.py``). The names are left as they are (``tests/feedcheck.py`` accepts this
  code only on Hangul text).
- ``frequencies=True`` writes one template trip per route, day type, direction and run of equal
  headways (one period), with ``exact_times = 1`` (the schedule is exact) and ``end_time`` half a
  headway after the last start; such a feed has no ``block_id`` (blocks are not defined over
  frequency templates).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import logging
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import geo
from .colors import contrast_ratio
from .errors import ExportError
from .fares import FARE_FILES, fare_rows
from .io import atomic_path
from .model import Pattern, Plan, Stop, Trip
from .service_calendar import service_dates

__all__ = [
    "FEED_FILES",
    "NoticeCount",
    "Problem",
    "Table",
    "ValidationSummary",
    "build_tables",
    "contrast_ratio",
    "feed_path",
    "feed_problems",
    "format_summary",
    "readable_colors",
    "validate_feed",
    "validator_version",
    "write_feed",
]

log = logging.getLogger(__name__)

#: Files in the order they are written to the zip.
FEED_FILES: tuple[str, ...] = (
    "agency.txt",
    "stops.txt",
    "routes.txt",
    "trips.txt",
    "stop_times.txt",
    "frequencies.txt",
    "calendar.txt",
    "calendar_dates.txt",
    *FARE_FILES,
    "shapes.txt",
    "feed_info.txt",
    "translations.txt",
)
TIMEZONE = "Asia/Seoul"
FEED_LANG = "ko"
STOP_TO_SHAPE_MAX_M = 20.0  # our own limit; MobilityData's rules warn at 100 m
MIN_CONTRAST = 4.5  # WCAG AA, normal text
MIN_LUMA_DIFF = 72  # MobilityData's route_color_contrast rule
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_URL_RE = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)
_COLOR_RE = re.compile(r"[0-9A-F]{6}")

#: (severity, message, table, rows): one finding of :func:`feed_problems`.
Problem = tuple[str, str, str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Table:
    """One GTFS file as a header and sorted rows of strings."""

    name: str  # file name, e.g. "stops.txt"
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def to_bytes(self) -> bytes:
        """Return the CSV text (UTF-8, no BOM, LF line ends, minimal quoting)."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        w.writerow(self.columns)
        w.writerows(self.rows)
        return buf.getvalue().encode("utf-8")

    def column(self, name: str) -> tuple[str, ...]:
        """Return the values of one column."""
        i = self.columns.index(name)
        return tuple(r[i] for r in self.rows)


# ----------------------------------------------------------------------------------------------
# formatting helpers


def _time(t: int) -> str:
    return f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"


def _coord(x: float) -> str:
    return f"{x:.6f}"


def _dist(x: float) -> str:
    return f"{x:.2f}"


def _date(d: dt.date) -> str:
    return d.strftime("%Y%m%d")


def _text(value: str | None, fallback: str = "") -> str:
    v = (value or "").strip()
    return v if v else fallback.strip()


def _wheelchair_boarding(stop: Stop) -> str:
    """GTFS ``wheelchair_boarding`` of a stop: its own value, else 0 (unknown), never a guess."""
    v = stop.wheelchair_boarding
    if v not in (0, 1, 2):
        msg = f"Stop {stop.stop_id}: wheelchair_boarding {v!r} is not 0, 1 or 2."
        raise ExportError(msg)
    return str(v)


def _luma601(hex6: str) -> int:
    r, g, b = (int(hex6[i : i + 2], 16) for i in (0, 2, 4))
    return int(0.30 * r + 0.59 * g + 0.11 * b)


def _readable(color: str, text: str) -> bool:
    return (
        contrast_ratio(color, text) >= MIN_CONTRAST
        and abs(_luma601(color) - _luma601(text)) >= MIN_LUMA_DIFF
    )


def _norm_color(value: str, route_id: str, field: str) -> str:
    c = (value or "").strip().lstrip("#").upper()
    if not _COLOR_RE.fullmatch(c):
        msg = f"Route {route_id}: {field} {value!r} is not a colour RRGGBB."
        raise ExportError(msg)
    return c


def readable_colors(color: str, text_color: str) -> tuple[str, str]:
    """Return ``(route_color, route_text_color)`` with enough contrast.

    Kept as given when the WCAG contrast is >= 4.5 and the Rec. 601 luma difference >= 72;
    otherwise the text becomes black or white (the better of the two), and if neither passes the
    route colour is darkened step by step under white text.
    """
    if _readable(color, text_color):
        return color, text_color
    for text in sorted(("FFFFFF", "000000"), key=lambda t: -contrast_ratio(color, t)):
        if _readable(color, text):
            return color, text
    r, g, b = (int(color[i : i + 2], 16) for i in (0, 2, 4))
    for _ in range(40):
        r, g, b = (int(x * 0.9) for x in (r, g, b))
        c = f"{r:02X}{g:02X}{b:02X}"
        if _readable(c, "FFFFFF"):
            return c, "FFFFFF"
    return "000000", "FFFFFF"  # unreachable: black and white always pass


# ----------------------------------------------------------------------------------------------
# shapes and stop distances


def _shape_points(pattern: Pattern) -> tuple[list[tuple[float, float]], list[float]]:
    """Rounded shape points (consecutive duplicates dropped) and their cumulative metres."""
    pts: list[tuple[float, float]] = []
    for lat, lon in pattern.shape:
        p = (round(lat, 6), round(lon, 6))
        if not pts or p != pts[-1]:
            pts.append(p)
    cum = [0.0]
    for a, b in zip(pts, pts[1:], strict=False):
        cum.append(cum[-1] + geo.haversine_m(a[0], a[1], b[0], b[1]))
    return pts, cum


def _project(
    lat: float, lon: float, a: tuple[float, float], b: tuple[float, float]
) -> tuple[float, float]:
    """Fraction along segment a-b of the nearest point to (lat, lon), and its offset in metres."""
    kx = math.cos(math.radians(lat)) * 111_195.0
    ky = 111_195.0
    ax, ay = (a[1] - lon) * kx, (a[0] - lat) * ky
    bx, by = (b[1] - lon) * kx, (b[0] - lat) * ky
    dx, dy = bx - ax, by - ay
    d2 = dx * dx + dy * dy
    t = 0.0 if d2 == 0 else min(1.0, max(0.0, -(ax * dx + ay * dy) / d2))
    px, py = ax + t * dx, ay + t * dy
    return t, math.hypot(px, py)


def _locate_stops(
    pattern: Pattern, stops: dict[str, Stop], pts: list[tuple[float, float]], cum: list[float]
) -> list[tuple[float, float]]:
    """(distance along the shape, offset from it) of each stop, ascending along the shape."""
    total = cum[-1]
    scale = total / pattern.length_m if pattern.length_m > 0 else 1.0
    out: list[tuple[float, float]] = []
    prev = 0.0
    for sid, hint_m in zip(pattern.stop_ids, pattern.stop_dist_m, strict=True):
        s = stops[sid]
        lat, lon = round(s.lat, 6), round(s.lon, 6)
        hint = hint_m * scale
        best: tuple[float, float, float] | None = None  # (score, along, offset)
        if len(pts) == 1:
            best = (0.0, 0.0, geo.haversine_m(lat, lon, pts[0][0], pts[0][1]))
        for i in range(len(pts) - 1):
            if cum[i + 1] < prev:
                continue
            t, off = _project(lat, lon, pts[i], pts[i + 1])
            along = max(prev, cum[i] + t * (cum[i + 1] - cum[i]))
            score = off + 0.02 * abs(along - hint)
            if best is None or score < best[0]:
                best = (score, along, off)
        assert best is not None
        along = min(best[1], total)
        out.append((along, best[2]))
        prev = along
    return out


# ----------------------------------------------------------------------------------------------
# tables


def _agency_names(plan: Plan) -> tuple[str, str]:
    """The agency's names (Korean, English): the scenario's titles unless it names an agency."""
    sc = plan.scenario
    ko = _text(sc.agency_ko, _text(sc.title_ko, _text(sc.agency_en, sc.name)))
    en = _text(sc.agency_en, _text(sc.title_en, ""))
    return ko, en


def _frequency_runs(trips: Sequence[Trip]) -> list[tuple[list[Trip], int]]:
    """Split trips of one route/day/direction (by departure) into runs of one period and headway."""
    runs: list[tuple[list[Trip], int]] = []
    for t in trips:
        if runs:
            run, h = runs[-1]
            gap = t.departure_s[0] - run[-1].departure_s[0]
            if t.period == run[-1].period and (len(run) == 1 or gap == h):
                run.append(t)
                runs[-1] = (run, gap)
                continue
        runs.append(([t], 0))
    return runs


def build_tables(plan: Plan, *, frequencies: bool = False) -> dict[str, Table]:
    """Build every GTFS table of a plan as sorted rows.

    Parameters
    ----------
    plan
        The plan (scenario, stops, routes and timetable).
    frequencies
        Write template trips and ``frequencies.txt`` instead of every trip.

    Returns
    -------
    dict of str to Table
        Keyed by file name, in :data:`FEED_FILES` order (``frequencies.txt`` only when asked).

    Raises
    ------
    ExportError
        If the plan cannot be expressed as a feed (unknown route or stop, bad colour or URL, no
        trips).
    """
    sc = plan.scenario
    tt = plan.timetable
    if not tt.trips:
        raise ExportError("The timetable has no trips; nothing to write to the GTFS feed.")
    if not _URL_RE.fullmatch(sc.agency_url or ""):
        msg = f"scenario.agency_url {sc.agency_url!r} is not an http(s) URL."
        raise ExportError(msg)
    routes = {r.route_id: r for r in plan.routes}
    stops = {s.stop_id: s for s in plan.stops}
    pats: dict[tuple[str, int], Pattern] = {}
    for r in plan.routes:
        for p in r.patterns:
            pats[(r.route_id, p.direction_id)] = p
            for sid in p.stop_ids:
                if sid not in stops:
                    msg = (
                        f"Route {r.route_id} direction {p.direction_id} uses unknown stop {sid!r}."
                    )
                    raise ExportError(msg)
    for t in tt.trips:
        if (t.route_id, t.direction_id) not in pats:
            msg = (
                f"Trip {t.trip_id} runs route {t.route_id!r} direction {t.direction_id}, "
                "which the plan does not have."
            )
            raise ExportError(msg)
        if len(t.arrival_s) != len(pats[(t.route_id, t.direction_id)].stop_ids):
            msg = (
                f"Trip {t.trip_id} has {len(t.arrival_s)} stop times for a pattern of "
                f"{len(pats[(t.route_id, t.direction_id)].stop_ids)} stops."
            )
            raise ExportError(msg)

    agency_id = sc.name
    agency_ko, agency_en = _agency_names(plan)
    tables: dict[str, Table] = {}
    tables["agency.txt"] = Table(
        "agency.txt",
        ("agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang"),
        ((agency_id, agency_ko, sc.agency_url, TIMEZONE, FEED_LANG),),
    )

    # trips in the feed
    if frequencies:
        groups: dict[tuple[str, str, int], list[Trip]] = {}
        for t in tt.trips:
            groups.setdefault((t.route_id, t.service_id, t.direction_id), []).append(t)
        feed_trips: list[Trip] = []
        freq_rows = []
        heads = {(f.route_id, f.service_id): dict(f.headways_min) for f in tt.fleet}
        for gkey in sorted(groups):
            trips = sorted(groups[gkey], key=lambda t: t.departure_s[0])
            for run, h in _frequency_runs(trips):
                if len(run) == 1:
                    h = round(heads.get(gkey[:2], {}).get(run[0].period, 60.0) * 60)
                h = max(h, 2)
                first, last = run[0].departure_s[0], run[-1].departure_s[0]
                feed_trips.append(run[0])
                freq_rows.append((run[0].trip_id, _time(first), _time(last + h // 2), str(h), "1"))
        tables_freq = Table(
            "frequencies.txt",
            ("trip_id", "start_time", "end_time", "headway_secs", "exact_times"),
            tuple(sorted(freq_rows)),
        )
    else:
        feed_trips = list(tt.trips)
        tables_freq = None
    feed_trips.sort(key=lambda t: t.trip_id)

    used_stops = sorted(
        {s for t in feed_trips for s in pats[(t.route_id, t.direction_id)].stop_ids}
    )
    unused = sorted(set(stops) - set(used_stops))
    if unused:
        log.info("GTFS: %d stop(s) without trips left out: %s", len(unused), ", ".join(unused[:10]))
    tables["stops.txt"] = Table(
        "stops.txt",
        ("stop_id", "stop_code", "stop_name", "stop_lat", "stop_lon", "wheelchair_boarding"),
        tuple(
            (
                sid,
                _text(stops[sid].ars),
                _text(stops[sid].name_ko, stops[sid].name_en),
                _coord(stops[sid].lat),
                _coord(stops[sid].lon),
                _wheelchair_boarding(stops[sid]),
            )
            for sid in used_stops
        ),
    )

    used_routes = sorted({t.route_id for t in feed_trips})
    route_rows = []
    for i, rid in enumerate(used_routes):
        r = routes[rid]
        color = _norm_color(r.color, rid, "color")
        text = _norm_color(r.text_color, rid, "text_color")
        c2, t2 = readable_colors(color, text)
        if (c2, t2) != (color, text):
            log.info(
                "Route %s: colours %s/%s adjusted to %s/%s for contrast.", rid, color, text, c2, t2
            )
        route_rows.append(
            (
                rid,
                agency_id,
                _text(r.short_name, rid),
                _text(r.long_name_ko, r.long_name_en),
                "3",
                c2,
                t2,
                str(i + 1),
            )
        )
    tables["routes.txt"] = Table(
        "routes.txt",
        (
            "route_id",
            "agency_id",
            "route_short_name",
            "route_long_name",
            "route_type",
            "route_color",
            "route_text_color",
            "route_sort_order",
        ),
        tuple(route_rows),
    )

    shape_id = {k: f"{k[0]}_{k[1]}" for k in pats}
    trip_cols: tuple[str, ...] = (
        "route_id",
        "service_id",
        "trip_id",
        "trip_headsign",
        "direction_id",
    )
    trip_cols += ("shape_id",) if frequencies else ("block_id", "shape_id")
    trip_cols += ("wheelchair_accessible",)
    accessible = "1" if sc.vehicle.low_floor else "2"
    trip_rows = []
    for t in feed_trips:
        p = pats[(t.route_id, t.direction_id)]
        row = [
            t.route_id,
            t.service_id,
            t.trip_id,
            _text(p.headsign_ko, p.headsign_en),
            str(t.direction_id),
        ]
        if not frequencies:
            row.append(t.block_id)
        row.append(shape_id[(t.route_id, t.direction_id)])
        row.append(accessible)
        trip_rows.append(tuple(row))
    tables["trips.txt"] = Table("trips.txt", trip_cols, tuple(trip_rows))

    # shapes and stop distances
    used_pats = sorted({(t.route_id, t.direction_id) for t in feed_trips})
    shape_rows = []
    stop_dist: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for key in used_pats:
        p = pats[key]
        pts, cum = _shape_points(p)
        stop_dist[key] = _locate_stops(p, stops, pts, cum)
        for seq, ((lat, lon), d) in enumerate(zip(pts, cum, strict=True), start=1):
            shape_rows.append((shape_id[key], _coord(lat), _coord(lon), str(seq), _dist(d)))
    shape_rows.sort(key=lambda r: (r[0], int(r[3])))
    tables["shapes.txt"] = Table(
        "shapes.txt",
        ("shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence", "shape_dist_traveled"),
        tuple(shape_rows),
    )

    st_rows = []
    for t in feed_trips:
        key = (t.route_id, t.direction_id)
        p = pats[key]
        n = len(p.stop_ids)
        for i, sid in enumerate(p.stop_ids):
            st_rows.append(
                (
                    t.trip_id,
                    _time(t.arrival_s[i]),
                    _time(t.departure_s[i]),
                    sid,
                    str(i + 1),
                    _dist(stop_dist[key][i][0]),
                    "1" if i in (0, n - 1) else "0",
                )
            )
    tables["stop_times.txt"] = Table(
        "stop_times.txt",
        (
            "trip_id",
            "arrival_time",
            "departure_time",
            "stop_id",
            "stop_sequence",
            "shape_dist_traveled",
            "timepoint",
        ),
        tuple(st_rows),
    )
    if tables_freq is not None:
        tables["frequencies.txt"] = tables_freq

    cal = service_dates(sc)
    used_services = {t.service_id for t in feed_trips}
    tables["calendar.txt"] = Table(
        "calendar.txt",
        (
            "service_id",
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
            "start_date",
            "end_date",
        ),
        tuple(
            (sid, *(str(f) for f in flags), _date(cal.start), _date(cal.end))
            for sid, flags in cal.weekdays
            if sid in used_services
        ),
    )
    tables["calendar_dates.txt"] = Table(
        "calendar_dates.txt",
        ("service_id", "date", "exception_type"),
        tuple(
            sorted(
                ((sid, d, str(e)) for d, sid, e in cal.exceptions if sid in used_services),
                key=lambda r: (r[1], r[0]),
            )
        ),
    )

    # fares (GTFS-Fares v2); a file without rows is left out
    for name, (columns, rows) in fare_rows(sc.fares).items():
        if rows:
            tables[name] = Table(name, columns, tuple(sorted(rows)))

    # translations (English)
    tr: list[tuple[str, str, str, str, str, str]] = []
    if agency_en:
        tr.append(("agency", "agency_name", "en", agency_en, agency_id, ""))
        tr.append(("feed_info", "feed_publisher_name", "en", agency_en, "", ""))
    for rid in used_routes:
        if _text(routes[rid].long_name_en):
            tr.append(("routes", "route_long_name", "en", _text(routes[rid].long_name_en), rid, ""))
    for sid in used_stops:
        if _text(stops[sid].name_en):
            tr.append(("stops", "stop_name", "en", _text(stops[sid].name_en), sid, ""))
    heads_en: dict[str, set[str]] = {}
    for key in used_pats:
        p = pats[key]
        if _text(p.headsign_en):
            heads_en.setdefault(_text(p.headsign_ko, p.headsign_en), set()).add(
                _text(p.headsign_en)
            )
    for ko, ens in sorted(heads_en.items()):
        if len(ens) == 1:
            tr.append(("trips", "trip_headsign", "en", next(iter(ens)), "", ko))
        else:  # the same Korean headsign, different English: translate trip by trip
            for t in feed_trips:
                p = pats[(t.route_id, t.direction_id)]
                if _text(p.headsign_ko, p.headsign_en) == ko and _text(p.headsign_en):
                    tr.append(("trips", "trip_headsign", "en", _text(p.headsign_en), t.trip_id, ""))
    tables["translations.txt"] = Table(
        "translations.txt",
        ("table_name", "field_name", "language", "translation", "record_id", "field_value"),
        tuple(sorted(tr, key=lambda r: (r[0], r[1], r[2], r[4], r[5], r[3]))),
    )

    # feed_info last: its version hashes everything else
    digest = hashlib.sha256()
    for name in FEED_FILES:
        if name in tables and name not in ("feed_info.txt", "translations.txt"):
            digest.update(name.encode())
            digest.update(tables[name].to_bytes())
    digest.update(tables["translations.txt"].to_bytes())
    version = f"{_date(cal.start)}-{digest.hexdigest()[:10]}"
    tables["feed_info.txt"] = Table(
        "feed_info.txt",
        (
            "feed_publisher_name",
            "feed_publisher_url",
            "feed_lang",
            "feed_start_date",
            "feed_end_date",
            "feed_version",
            "feed_contact_url",
        ),
        (
            (
                agency_ko,
                sc.agency_url,
                FEED_LANG,
                _date(cal.start),
                _date(cal.end),
                version,
                sc.agency_url,
            ),
        ),
    )
    return {name: tables[name] for name in FEED_FILES if name in tables}


# ----------------------------------------------------------------------------------------------
# our own invariants


def _secs(hms: str) -> int:
    h, m, s = (int(x) for x in hms.split(":"))
    return h * 3600 + m * 60 + s


def feed_problems(plan: Plan, tables: dict[str, Table]) -> list[Problem]:
    """Check our own invariants on the built tables (gtfs_kit style).

    Checked: every stop within 20 m of its trip's shape; shape distances strictly increasing;
    stop distances increasing and within the shape; stop times not going backwards and
    departures after arrivals; blocks whose trips overlap, change terminal or lay over less than
    ``min_layover_min``; route colour contrast; text without line breaks; references between
    tables.

    Returns
    -------
    list of Problem
        ``(severity, message, table, rows)`` with severity ``"error"`` or ``"warning"``; empty
        when the feed is sound.
    """
    out: list[Problem] = []

    # text
    for t in tables.values():
        bad = [r[0] for r in t.rows if any(("\n" in v or "\r" in v) for v in r)]
        if bad:
            out.append(("error", f"{t.name}: values contain line breaks", t.name, tuple(bad[:20])))

    # references
    stop_ids = set(tables["stops.txt"].column("stop_id"))
    trip_ids = set(tables["trips.txt"].column("trip_id"))
    shape_ids = set(tables["shapes.txt"].column("shape_id"))
    route_ids = set(tables["routes.txt"].column("route_id"))
    trips = tables["trips.txt"]
    ti = {c: i for i, c in enumerate(trips.columns)}
    for r in trips.rows:
        if r[ti["route_id"]] not in route_ids or r[ti["shape_id"]] not in shape_ids:
            out.append(
                (
                    "error",
                    "trip refers to an unknown route or shape",
                    "trips.txt",
                    (r[ti["trip_id"]],),
                )
            )
    missing = sorted({r[3] for r in tables["stop_times.txt"].rows if r[3] not in stop_ids})
    if missing:
        out.append(("error", "stop_times refer to unknown stops", "stop_times.txt", tuple(missing)))
    if set(tables["stop_times.txt"].column("trip_id")) != trip_ids:
        out.append(
            ("error", "trips without stop times or stop times without a trip", "stop_times.txt", ())
        )

    # shapes: strictly increasing distance
    shapes: dict[str, list[tuple[float, float, float]]] = {}
    for sid, s_lat, s_lon, _seq, s_d in tables["shapes.txt"].rows:
        shapes.setdefault(sid, []).append((float(s_lat), float(s_lon), float(s_d)))
    for sid, pts in shapes.items():
        if any(b[2] <= a[2] for a, b in zip(pts, pts[1:], strict=False)):
            out.append(
                (
                    "error",
                    f"shape {sid}: shape_dist_traveled does not increase",
                    "shapes.txt",
                    (sid,),
                )
            )

    # stop times: order, distances and distance to the shape (checked once per pattern)
    stops = {r[0]: (float(r[3]), float(r[4])) for r in tables["stops.txt"].rows}
    trip_shape = {r[ti["trip_id"]]: r[ti["shape_id"]] for r in trips.rows}
    by_trip: dict[str, list[tuple[str, ...]]] = {}
    for r in tables["stop_times.txt"].rows:
        by_trip.setdefault(r[0], []).append(r)
    seen_pattern: set[tuple[str, tuple[str, ...]]] = set()
    far: dict[str, set[str]] = {}
    for tid, rows in by_trip.items():
        rows.sort(key=lambda r: int(r[4]))
        times = [x for r in rows for x in (_secs(r[1]), _secs(r[2]))]
        if any(b < a for a, b in zip(times, times[1:], strict=False)):
            out.append(("error", f"trip {tid}: stop times go backwards", "stop_times.txt", (tid,)))
        dists = [float(r[5]) for r in rows]
        shape = trip_shape.get(tid)
        if shape not in shapes:
            continue
        if (
            any(b <= a for a, b in zip(dists, dists[1:], strict=False))
            or dists[-1] > shapes[shape][-1][2]
        ):
            out.append(
                (
                    "error",
                    f"trip {tid}: stop distances do not increase within the shape",
                    "stop_times.txt",
                    (tid,),
                )
            )
        key = (shape, tuple(r[3] for r in rows))
        if key in seen_pattern:
            continue
        seen_pattern.add(key)
        pts = shapes[shape]
        for r, d in zip(rows, dists, strict=True):
            lat, lon = stops[r[3]]
            off = _offset_at(pts, d, lat, lon)
            if off > STOP_TO_SHAPE_MAX_M:
                far.setdefault(shape, set()).add(f"{r[3]} ({off:.0f} m)")
    for shape, bad_stops in sorted(far.items()):
        out.append(
            (
                "error",
                f"shape {shape}: stops more than {STOP_TO_SHAPE_MAX_M:g} m from the shape",
                "stop_times.txt",
                tuple(sorted(bad_stops)),
            )
        )

    # blocks: no overlap, same terminal, minimum layover (exact feeds only)
    if "block_id" in trips.columns and plan.timetable.blocks:
        by_id = {t.trip_id: t for t in plan.timetable.trips}
        min_lay = round(plan.scenario.service.min_layover_min * 60)
        loops = {r.route_id for r in plan.routes if r.is_loop}
        for b in plan.timetable.blocks:
            seq = [by_id[i] for i in b.trip_ids if i in by_id]
            for a, c in zip(seq, seq[1:], strict=False):
                if c.departure_s[0] < a.arrival_s[-1]:
                    out.append(
                        (
                            "error",
                            f"block {b.block_id}: trips overlap",
                            "trips.txt",
                            (a.trip_id, c.trip_id),
                        )
                    )
                elif c.departure_s[0] - a.arrival_s[-1] < min_lay:
                    out.append(
                        (
                            "error",
                            f"block {b.block_id}: layover below min_layover_min",
                            "trips.txt",
                            (a.trip_id, c.trip_id),
                        )
                    )
                same_dir = a.direction_id == c.direction_id
                if (a.route_id in loops) != same_dir or a.route_id != c.route_id:
                    out.append(
                        (
                            "error",
                            f"block {b.block_id}: next trip starts at another terminal",
                            "trips.txt",
                            (a.trip_id, c.trip_id),
                        )
                    )

    # colours
    ri = {c: i for i, c in enumerate(tables["routes.txt"].columns)}
    for r in tables["routes.txt"].rows:
        if not _readable(r[ri["route_color"]], r[ri["route_text_color"]]):
            out.append(("error", "route colours lack contrast", "routes.txt", (r[0],)))
    return out


def _offset_at(pts: list[tuple[float, float, float]], d: float, lat: float, lon: float) -> float:
    """Distance (m) from a stop to the shape point at shape_dist_traveled ``d``."""
    for a, b in zip(pts, pts[1:], strict=False):
        if a[2] <= d <= b[2]:
            t = 0.0 if b[2] == a[2] else (d - a[2]) / (b[2] - a[2])
            plat, plon = a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])
            return geo.haversine_m(lat, lon, plat, plon)
    end = pts[-1] if d > pts[-1][2] else pts[0]
    return geo.haversine_m(lat, lon, end[0], end[1])


# ----------------------------------------------------------------------------------------------
# writing


def feed_path(plan: Plan, path: str | os.PathLike[str]) -> Path:
    """Return the zip a feed is written to: ``path`` if it ends in ``.zip``, else a file in it."""
    p = Path(path)
    if p.suffix.lower() == ".zip":
        return p
    return p / f"{plan.scenario.name}_gtfs.zip"


def write_feed(plan: Plan, path: str | os.PathLike[str], *, frequencies: bool = False) -> Path:
    """Write the plan's GTFS feed as a zip, atomically and byte-identically.

    Parameters
    ----------
    plan
        The plan to publish.
    path
        A ``.zip`` file, or a folder that gets ``<scenario name>_gtfs.zip``.
    frequencies
        Write ``frequencies.txt`` with template trips instead of every trip.

    Returns
    -------
    Path
        The zip written.

    Raises
    ------
    ExportError
        If the plan fails our own checks (all problems listed), or the folder cannot be written.
        Nothing is left at the target (or beside it) after a failure.
    """
    target = feed_path(plan, path)
    tables = build_tables(plan, frequencies=frequencies)
    problems = feed_problems(plan, tables)
    for sev, what, tname, rows in problems:
        if sev != "error":
            log.warning("GTFS check: %s (%s: %s)", what, tname, ", ".join(rows[:5]))
    errors = [p for p in problems if p[0] == "error"]
    if errors:
        listed = "; ".join(f"{m} [{', '.join(r[:5])}]" if r else m for _, m, _, r in errors)
        msg = f"{target}: the feed fails {len(errors)} check(s): {listed}."
        raise ExportError(msg)
    with atomic_path(target) as tmp, zipfile.ZipFile(tmp, "w") as zf:
        for name, table in tables.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            zf.writestr(info, table.to_bytes(), compresslevel=9)
    counts = {n: len(t.rows) for n, t in tables.items()}
    log.info(
        "GTFS feed %s: %d routes, %d trips, %d stops, %d stop times.",
        target,
        counts["routes.txt"],
        counts["trips.txt"],
        counts["stops.txt"],
        counts["stop_times.txt"],
    )
    return target


# ----------------------------------------------------------------------------------------------
# validation


@dataclass(frozen=True, slots=True)
class NoticeCount:
    """One notice code of a validation report."""

    code: str
    severity: str  # ERROR | WARNING | INFO
    count: int
    samples: tuple[tuple[tuple[str, str], ...], ...] = ()  # first few contexts, (field, value)


@dataclass(frozen=True, slots=True)
class ValidationSummary:
    """The ``gtfs-validator`` package's verdict on a feed (MobilityData's rules)."""

    feed: str
    as_of: str  # YYYY-MM-DD the date-dependent rules were evaluated at
    validator: str  # "gtfs-validator <version> (PyPI), a port of MobilityData's ... <tag> rules"
    notices: tuple[NoticeCount, ...]  # sorted by severity (ERROR, WARNING, INFO) then code
    system_errors: tuple[NoticeCount, ...] = ()

    def by_code(self, severity: str) -> dict[str, int]:
        """Return ``{code: count}`` of one severity."""
        return {n.code: n.count for n in self.notices if n.severity == severity}

    @property
    def errors(self) -> int:
        """Number of ERROR notices (system errors included)."""
        return sum(self.by_code("ERROR").values()) + sum(n.count for n in self.system_errors)

    @property
    def warnings(self) -> int:
        """Number of WARNING notices."""
        return sum(self.by_code("WARNING").values())

    @property
    def infos(self) -> int:
        """Number of INFO notices."""
        return sum(self.by_code("INFO").values())


_SEVERITY_ORDER = {"ERROR": 0, "WARNING": 1, "INFO": 2}


def _feed_start(path: Path) -> dt.date | None:
    try:
        with zipfile.ZipFile(path) as zf:
            text = zf.read("feed_info.txt").decode("utf-8-sig")
    except (KeyError, OSError, zipfile.BadZipFile, UnicodeDecodeError):
        return None
    rows = list(csv.DictReader(io.StringIO(text)))
    value = rows[0].get("feed_start_date", "") if rows else ""
    try:
        return dt.datetime.strptime(value or "", "%Y%m%d").date()
    except ValueError:
        return None


def _notice_counts(entries: Iterable[dict[str, object]], samples: int) -> tuple[NoticeCount, ...]:
    out = []
    for e in entries:
        ctxs = e.get("sampleNotices") or []
        assert isinstance(ctxs, list)
        out.append(
            NoticeCount(
                code=str(e.get("code", "")),
                severity=str(e.get("severity", "")),
                count=int(str(e.get("totalNotices", 0))),
                samples=tuple(
                    tuple(
                        (str(k), json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v)
                        for k, v in sorted(c.items())
                    )
                    for c in ctxs[:samples]
                    if isinstance(c, dict)
                ),
            )
        )
    return tuple(sorted(out, key=lambda n: (_SEVERITY_ORDER.get(n.severity, 3), n.code)))


def validator_version() -> tuple[str, str]:
    """Return ``(package version, MobilityData rule release)`` of the installed validator.

    For example ``("0.1.2", "v8.0.1")``: the PyPI ``gtfs-validator`` version and the tag of
    MobilityData's Java validator whose rules it follows (``_meta.tag`` of its
    ``data/canonical_notices.json``; ``"unknown"`` if the file is missing).

    Raises
    ------
    ExportError
        If the validator is not installed.
    """
    try:
        from gtfs_validator import __version__ as gv_version
    except ImportError as e:
        msg = "Validating a feed needs the gtfs-validator package: pip install gtfs-validator."
        raise ExportError(msg) from e
    from importlib import resources

    try:
        meta = json.loads(
            (resources.files("gtfs_validator") / "data" / "canonical_notices.json").read_text(
                encoding="utf-8"
            )
        ).get("_meta", {})
        tag = str(meta.get("tag") or "unknown")
    except (OSError, ValueError, AttributeError):
        tag = "unknown"
    return str(gv_version), tag


def validate_feed(
    path: str | os.PathLike[str],
    *,
    as_of: dt.date | None = None,
    country_code: str = "KR",
    samples: int = 5,
) -> ValidationSummary:
    """Check a feed with the ``gtfs-validator`` package (MobilityData's rules, see module doc).

    Parameters
    ----------
    path
        A GTFS zip.
    as_of
        The date the date-dependent rules (expiry, coverage of the next 7 days) are evaluated
        at. Default: the feed's ``feed_start_date``, so the result does not depend on the day the
        check runs; pass ``datetime.date.today()`` to check a feed about to be published.
    country_code
        ISO country code for the phone-number rules.
    samples
        Sample contexts kept per notice code.

    Returns
    -------
    ValidationSummary
        Notice counts by code and severity.

    Raises
    ------
    ExportError
        If the file does not exist, the validator is not installed, or it cannot open the feed.
    """
    p = Path(path)
    if not p.is_file():
        raise ExportError(f"{p}: GTFS feed not found.")
    try:
        from gtfs_validator import cli as gv_cli
    except ImportError as e:
        msg = "Validating a feed needs the gtfs-validator package: pip install gtfs-validator."
        raise ExportError(msg) from e
    day = as_of or _feed_start(p) or dt.date.today()
    with tempfile.TemporaryDirectory(prefix="shuttle-validate-") as out:
        argv = ["-i", str(p), "-o", out, "-d", day.isoformat(), "-c", country_code]
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(err):
            rc = gv_cli.main(argv)  # the library never prints: usage messages are captured
        try:
            report = json.loads((Path(out) / "report.json").read_text(encoding="utf-8"))
            system = json.loads((Path(out) / "system_errors.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            msg = f"{p}: the GTFS validator wrote no report (exit code {rc})."
            raise ExportError(msg) from e
    sys_notices = _notice_counts(system.get("notices", []), samples)
    if rc != 0:
        codes = ", ".join(n.code for n in sys_notices) or err.getvalue().strip() or f"exit {rc}"
        raise ExportError(f"{p}: the GTFS validator cannot open the feed ({codes}).")
    return ValidationSummary(
        feed=str(p),
        as_of=day.isoformat(),
        validator=_validator_label(),
        notices=_notice_counts(report.get("notices", []), samples),
        system_errors=sys_notices,
    )


def _validator_label() -> str:
    version, tag = validator_version()
    return f"gtfs-validator {version} (PyPI), a port of MobilityData's validator {tag} rules"


def format_summary(summary: ValidationSummary) -> str:
    """Return a short text report: totals, then one line per notice code."""
    lines = [
        f"{Path(summary.feed).name}: {summary.errors} errors, {summary.warnings} warnings, "
        f"{summary.infos} infos ({summary.validator}, as of {summary.as_of})"
    ]
    for n in (*summary.system_errors, *summary.notices):
        sev = "SYSTEM" if n in summary.system_errors else n.severity
        lines.append(f"  {sev:<7} {n.code:<50} {n.count:>7}")
    return "\n".join(lines) + "\n"
