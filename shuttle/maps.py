"""The public web map of a plan: routes, stops, timetable popups, districts, catchment.

This is the only module that imports :mod:`folium`. The page is meant for residents on a phone as
much as on a desktop:

* each route is one coloured line (both directions, drawn a few pixels apart) with arrows along it
  showing the direction of travel, in its own layer of the layer control;
* every stop is a circle marker; a tap opens a popup with the stop name in Korean and English, its
  ARS number, the routes serving it and, per route direction and day type, the first and last bus
  and the headway of each period at that stop (derived from the timetable by
  :func:`stop_departures`);
* a route page per route, as a rider knows it from Seoul's own route pages: its number and
  name, then per direction the first and last bus and the headway of each period and day type at
  its first stop, and its stops in order (Korean name first, English second, the ARS number and
  the other routes to change to). It opens from the legend, from a tap on the route line, or from
  the address (``#route=R1``, with ``&en`` for English); on a phone it is a sheet over the lower
  half of the screen and the map fits the route into the upper half. A tap on a stop shows it on
  the map. Expected busyness per route has its place in the page data (``busy``), left empty
  until a ridership model provides it;
* every route is one colour under Seoul's scheme (:mod:`shuttle.colors`), so each line carries
  its number with the direction arrows once zoomed in, and the other lines fade while a route
  page is open;
* the anchor places, the district boundaries and (off by default) the 400 m walking catchment with
  the share of the population it covers;
* a legend, a Korean/English switch (Korean by default; ``#en`` in the address opens English) and
  the credits of the open data used;
* the base map the scenario sets (``[map]``: tile URL, credit, deepest zoom); the page may be
  pinch-zoomed (:data:`VIEWPORT`; folium's own viewport forbids it, a WCAG 1.4.4 failure).

Every text that comes from data is escaped: the legend and layer names are built here with
:func:`html.escape`, and the stop popups are built in the browser from one JSON block with DOM
``textContent`` (never ``innerHTML``), so a stop name can never become markup or script.

The page loads only Leaflet and two small Leaflet plugins (:data:`ASSET_URLS`) from the jsDelivr
CDN; the browser test serves the same files from ``tests/browser/node_modules``. Element ids are
numbered in tree order, so the same plan always gives a byte-identical file.
"""

from __future__ import annotations

import html
import itertools
import json
import logging
import os
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement
from folium.template import Template

from . import budget
from .config import DAY_TYPES, DISTRICTS, OSM_TILE_URL, PERIODS, MapConfig
from .errors import ExportError
from .io import atomic_write_text
from .model import Area, Pattern, Plan, Route

__all__ = [
    "ASSET_URLS",
    "TILE_URL",
    "VIEWPORT",
    "Departures",
    "map_filename",
    "render_html",
    "render_map",
    "save_map",
    "stop_departures",
    "write_index",
]

log = logging.getLogger(__name__)

_CDN = "https://cdn.jsdelivr.net/npm"
#: Every script and style sheet the page loads (name, URL); all on jsDelivr's npm mirror.
ASSET_URLS: tuple[tuple[str, str], ...] = (
    ("leaflet", f"{_CDN}/leaflet@1.9.3/dist/leaflet.js"),
    ("leaflet_polylineoffset", f"{_CDN}/leaflet-polylineoffset@1.1.1/leaflet.polylineoffset.js"),
    ("leaflet_textpath", f"{_CDN}/leaflet-textpath@1.2.3/leaflet.textpath.js"),
    ("leaflet_css", f"{_CDN}/leaflet@1.9.3/dist/leaflet.css"),
)
#: The default base map (OpenStreetMap standard tiles); a scenario sets its own in ``[map]``.
TILE_URL = OSM_TILE_URL
#: The page's viewport: pinch zoom allowed (folium's default ``user-scalable=no`` fails WCAG 1.4.4).
VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'
_VIEWPORT_RE = re.compile(r'<meta name="viewport"[^>]*>')

_DIGITS = 6  # coordinate decimals of points and lines (~0.1 m)
_AREA_TOLERANCE_DEG = 1e-5  # simplification of district and catchment outlines (~1 m)
_HEX = re.compile(r"^[0-9A-Fa-f]{6}$")

_DAY_LABELS = {
    "weekday": ("평일", "Mon–Fri"),
    "saturday": ("토요일", "Saturday"),
    "sunday": ("일·공휴일", "Sun & hol."),
}
_PERIOD_LABELS = {
    "peak": ("출퇴근", "Peak"),
    "offpeak": ("평시", "Day"),
    "evening": ("저녁", "Eve."),
}
_POPUP_LABELS = {
    "ars": ("정류소 번호", "Stop no."),
    "routes": ("노선", "Routes"),
    "to": ("방면", "to"),
    "first": ("첫차", "First"),
    "last": ("막차", "Last"),
    "headway": ("배차간격(분)", "Minutes between buses"),
    "none": ("운행 없음", "No service"),
    "anchor": ("주요 거점", "Key place"),
    "stops": ("정류소", "Stops"),
    "service": ("기점 출발 시각", "Times at the first stop"),
    "close": ("닫기", "Close"),
    "transfer": ("갈아타기", "Change to"),
    "loop": ("순환", "Loop"),
}

_ARROWS_NOTE = (
    "▶ 1: 운행 방향과 노선 번호 (확대하면 표시)",
    "▶ 1: direction of travel and route number (shown when zoomed in)",
)
_ROUTE_HINT = ("노선을 누르면 정류소와 시간표", "Tap a route for its stops and times")

# Credits of every data set behind the plan (Korean, English, URL).
_CREDITS: tuple[tuple[str, str, str], ...] = (
    (
        "도로망: © OpenStreetMap 기여자, ODbL",
        "Road network: © OpenStreetMap contributors, ODbL",
        "https://www.openstreetmap.org/copyright",
    ),
    (
        "버스정류소 위치·지하철 역사 정보: 서울 열린데이터광장 (공공누리 제1유형)",
        "Bus stop locations and station list: Seoul Open Data Plaza (KOGL Type 1)",
        "https://data.seoul.go.kr/",
    ),
    (
        "행정동 경계: 통계청 SGIS, 가공 vuski/admdongkor",
        "Administrative dong boundaries: Statistics Korea SGIS, processed by vuski/admdongkor",
        "https://github.com/vuski/admdongkor",
    ),
    (
        "주민등록인구 (동별, 2021년 2분기): 서울 열린데이터광장 (공공누리 제1유형)",
        "Resident population by dong, 2021 Q2: Seoul Open Data Plaza (KOGL Type 1)",
        "https://data.seoul.go.kr/",
    ),
    (
        "자치구 경계: southkorea/seoul-maps (서울시 행정구역, 2015)",
        "District boundaries: southkorea/seoul-maps (Seoul administrative areas, 2015)",
        "https://github.com/southkorea/seoul-maps",
    ),
)


# ----------------------------------------------------------------------------------------------
# departures at each stop


@dataclass(frozen=True, slots=True)
class Departures:
    """The departures of one route direction at one stop on one day type."""

    route_id: str
    direction_id: int
    service_id: str  # a DAY_TYPE
    times_s: tuple[int, ...]  # departure times at the stop, ascending, seconds after midnight
    headways_min: tuple[tuple[str, float | None], ...]  # (period, median gap) in PERIODS order

    @property
    def first_s(self) -> int:
        """First departure, seconds after midnight."""
        return self.times_s[0]

    @property
    def last_s(self) -> int:
        """Last departure, seconds after midnight (may pass 86400)."""
        return self.times_s[-1]


def _pattern_index(routes: Iterable[Route]) -> dict[tuple[str, int], Pattern]:
    return {(r.route_id, p.direction_id): p for r in routes for p in r.patterns}


def stop_departures(plan: Plan) -> dict[str, tuple[Departures, ...]]:
    """Return the departures of every route direction and day type at each stop.

    A trip departs from every stop of its pattern but the last. The headway of a period is the
    median gap between consecutive departures at the stop that both fall in that period (None
    when fewer than two do).

    Parameters
    ----------
    plan
        The plan; its timetable trips are matched to the route patterns by route and direction.

    Returns
    -------
    dict
        ``stop_id -> Departures`` sorted by route, direction and day type (``DAY_TYPES`` order);
        stops with no departure are absent.

    Raises
    ------
    ExportError
        If a trip names a route direction that the plan does not have or has the wrong number of
        stop times.
    """
    patterns = _pattern_index(plan.routes)
    times: dict[tuple[str, str, int, str], list[int]] = defaultdict(list)
    for trip in plan.timetable.trips:
        pat = patterns.get((trip.route_id, trip.direction_id))
        if pat is None:
            msg = (
                f"Trip {trip.trip_id} runs route {trip.route_id} direction {trip.direction_id}, "
                "which the plan does not have; rebuild the timetable from the plan's routes."
            )
            raise ExportError(msg)
        if len(trip.departure_s) != len(pat.stop_ids):
            msg = (
                f"Trip {trip.trip_id} has {len(trip.departure_s)} stop times but its pattern has "
                f"{len(pat.stop_ids)} stops; rebuild the timetable from the plan's routes."
            )
            raise ExportError(msg)
        for sid, t in zip(pat.stop_ids[:-1], trip.departure_s[:-1], strict=True):
            times[(sid, trip.route_id, trip.direction_id, trip.service_id)].append(t)

    day_rank = {d: i for i, d in enumerate(DAY_TYPES)}
    service = plan.scenario.service
    out: dict[str, list[Departures]] = defaultdict(list)
    for (sid, rid, direction, day), ts in sorted(
        times.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], day_rank.get(kv[0][3], 99))
    ):
        ts = sorted(ts)
        by_period: dict[str, list[int]] = defaultdict(list)
        for t in ts:
            by_period[service.period_at(t)].append(t)
        heads: list[tuple[str, float | None]] = []
        for period in PERIODS:
            pts = by_period.get(period, [])
            gaps = [b - a for a, b in itertools.pairwise(pts)]
            heads.append((period, round(statistics.median(gaps) / 60, 1) if gaps else None))
        out[sid].append(
            Departures(
                route_id=rid,
                direction_id=direction,
                service_id=day,
                times_s=tuple(ts),
                headways_min=tuple(heads),
            )
        )
    return {sid: tuple(v) for sid, v in out.items()}


# ----------------------------------------------------------------------------------------------
# small helpers


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _bi(ko: str, en: str) -> str:
    """Bilingual inline HTML; the CSS shows one language at a time."""
    return f'<span lang="ko">{_esc(ko)}</span><span lang="en">{_esc(en)}</span>'


def _js(value: Any) -> str:
    """JSON that is safe inside an HTML ``<script>`` element and a JS expression."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _color(route: Route) -> tuple[str, str]:
    for value in (route.color, route.text_color):
        if not _HEX.match(value):
            msg = (
                f"Route {route.route_id} has colour {value!r}; colours must be six hex digits "
                "like '1F77B4'."
            )
            raise ExportError(msg)
    return f"#{route.color.upper()}", f"#{route.text_color.upper()}"


def _pt(lat: float, lon: float) -> list[float]:
    return [round(lat, _DIGITS), round(lon, _DIGITS)]


def _line(shape: Sequence[tuple[float, float]]) -> list[list[float]]:
    out: list[list[float]] = []
    for lat, lon in shape:
        p = _pt(lat, lon)
        if not out or out[-1] != p:
            out.append(p)
    return out


def _area_locations(area: Area) -> list[list[list[list[float]]]]:
    """Leaflet multi-polygon locations of an area, simplified to about a metre."""
    from shapely.geometry import Polygon

    out = []
    for rings in area.polygons:
        if not rings or len(rings[0]) < 3:
            continue
        poly = Polygon(rings[0], rings[1:]).simplify(_AREA_TOLERANCE_DEG, preserve_topology=True)
        if poly.is_empty:
            continue
        parts = [poly.exterior, *poly.interiors]
        out.append([[_pt(lat, lon) for lat, lon in ring.coords[:-1]] for ring in parts])
    return out


def _attribution(base: MapConfig) -> str:
    """The base-map credit as HTML: the scenario's text escaped, linked when it has a URL."""
    text = _esc(base.tile_attribution)
    if not base.tile_attribution_url:
        return text
    return f'<a href="{_esc(base.tile_attribution_url)}" target="_blank" rel="noopener">{text}</a>'


def _pct(share: float) -> str:
    return f"{100 * share:.1f}%"


def _district_name(code: int, area: Area | None = None) -> tuple[str, str]:
    if area is not None and area.name_ko:
        return area.name_ko, area.name_en or area.name_ko
    return DISTRICTS.get(code, (str(code), str(code)))


# ----------------------------------------------------------------------------------------------
# folium elements of our own


class _LineExtras(MacroElement):
    """Tooltip and direction arrows (leaflet-textpath) of the route line it is added to."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (line, id, text, options) {
          line.bindTooltip({{ this.tooltip }}, {sticky: true});
          line.setText(text, options);
          line.shuttleText = [text, options];
          (window.shuttleLines = window.shuttleLines || {})[id] = line;
          line.on('click', function (e) {
            L.DomEvent.stopPropagation(e);
            if (window.shuttleOpenRoute) { window.shuttleOpenRoute(id); }
          });
        })({{ this._parent.get_name() }}, {{ this.route_id }}, {{ this.text }},
           {{ this.text_options }});
        {% endmacro %}
        """
    )

    def __init__(
        self, route_id: str, tooltip_html: str, text: str, text_options: dict[str, Any]
    ) -> None:
        super().__init__()
        self._name = "LineExtras"
        self.route_id = _js(route_id)
        self.tooltip = _js(tooltip_html)
        self.text = _js(text)
        self.text_options = _js(text_options)


class _RouteLine(folium.PolyLine):
    """A route polyline with the leaflet-polylineoffset ``offset`` option (pixels)."""

    def __init__(self, locations: Any, *, offset: float, **kwargs: Any) -> None:
        super().__init__(locations, **kwargs)
        if offset:
            self.options["offset"] = offset


def _area_polygon(locations: list[list[list[list[float]]]], **kwargs: Any) -> folium.Polygon:
    """One non-interactive Leaflet (multi-)polygon; taps go through to the stops below.

    ``locations`` holds polygons, each as rings of ``[lat, lon]``. folium validates only one
    polygon with holes, so each polygon is validated by itself and the list is set afterwards
    (``L.polygon`` takes the nested multi-polygon form).
    """
    poly = folium.Polygon(locations[0], **kwargs)
    if len(locations) > 1:
        poly.locations = [folium.Polygon(p).locations for p in locations]  # type: ignore[assignment]
    poly.options["interactive"] = False
    return poly


class _Panes(MacroElement):
    """Map panes: the stops above the route lines, the place stars above them (taps go through)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.createPane('shuttlePlaces').style.zIndex = 460;
        {{ this._parent.get_name() }}.getPane('shuttlePlaces').style.pointerEvents = 'none';
        {{ this._parent.get_name() }}.createPane('shuttleStops').style.zIndex = 450;
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "Panes"


class _Stops(MacroElement):
    """All stop markers and their popups, built in the browser from one JSON block."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
          var D = {{ this.data }};
          var group = {{ this._parent.get_name() }};
          var markers = {};
          function el(tag, cls, parent, text) {
            var e = document.createElement(tag);
            if (cls) { e.className = cls; }
            if (text !== undefined) { e.textContent = text; }
            if (parent) { parent.appendChild(e); }
            return e;
          }
          function bi(parent, pair) {
            el('span', null, parent, pair[0]).lang = 'ko';
            el('span', null, parent, pair[1]).lang = 'en';
            return parent;
          }
          function hhmm(m) {
            var h = Math.floor(m / 60) % 24, mm = m % 60;
            return (h < 10 ? '0' : '') + h + ':' + (mm < 10 ? '0' : '') + mm;
          }
          function chip(parent, r) {
            var c = el('span', 'route-chip', parent, r.short);
            c.style.background = r.color; c.style.color = r.text;
            return c;
          }
          function routeLink(parent, r) {  // a route number in a popup opens its route page
            var b = el('button', 'route-link', parent);
            b.type = 'button'; chip(b, r);
            b.addEventListener('click', function () {
              map.closePopup();
              if (window.shuttleOpenRoute) { window.shuttleOpenRoute(r.id); }
            });
            return b;
          }
          function depTable(parent, rows) {
            var L10 = D.labels, t = el('table', 'dep-table', el('div', 'dep-wrap', parent));
            var tr = el('tr', null, el('thead', null, t));
            el('th', null, tr);
            bi(el('th', null, tr), L10.first); bi(el('th', null, tr), L10.last);
            D.periods.forEach(function (pl) { bi(el('th', 'hw', tr), pl); });
            var body = el('tbody', null, t);
            rows.forEach(function (row, di) {
              var r2 = el('tr', null, body);
              bi(el('th', null, r2), D.days[di]);
              if (!row) {
                bi(el('td', 'no-service', r2), L10.none).colSpan = 2 + D.periods.length;
                return;
              }
              el('td', null, r2, hhmm(row[0])); el('td', null, r2, hhmm(row[1]));
              for (var k = 2; k < row.length; k++) {
                el('td', 'hw', r2, row[k] === null ? '–' : String(row[k]));
              }
            });
            return t;
          }
          function depNote(parent) {
            var note = el('div', 'dep-note', parent);
            bi(note, D.labels.headway); el('span', null, note, ': ');
            bi(note, D.periodNote);
            return note;
          }
          function popup(s) {
            var L10 = D.labels, root = el('div', 'stop-popup');
            el('div', 'stop-name', root, s.ko).lang = 'ko';
            el('div', 'stop-name-en', root, s.en).lang = 'en';
            var meta = el('div', 'stop-meta', root);
            if (s.ars) { bi(meta, L10.ars); el('span', null, meta, ' ' + s.ars); }
            if (s.anchor) { el('span', 'stop-anchor-tag', meta, '★ ' + s.anchor); }
            var rl = el('div', 'stop-routes', root);
            bi(el('span', null, rl), L10.routes); rl.appendChild(document.createTextNode(' '));
            s.routes.forEach(function (ri) { routeLink(rl, D.routes[ri]); });
            if (s.existing && s.existing.length) {  // existing bus routes near the stop
              var ex = el('div', 'stop-existing', root);
              bi(el('span', null, ex), D.existingLabel);
              el('span', null, ex, ': ' + s.existing.join(', '));
            }
            if (!s.deps.length) { bi(el('div', 'no-service', root), L10.none); }
            s.deps.forEach(function (dep) {
              var p = D.patterns[dep[0]], r = D.routes[p[0]];
              var h = el('div', 'dep-head', root); chip(h, r);
              h.appendChild(document.createTextNode(' → '));
              el('span', null, h, p[1]).lang = 'ko';
              el('span', null, h, p[2]).lang = 'en';
              depTable(root, dep[1]);
            });
            if (s.deps.length) { depNote(root); }
            return root;
          }
          // zoomed out, small stops leave the route lines readable; zoomed in, easy to tap
          var map = {{ this._parent._parent.get_name() }};
          function size(s) {
            var z = map.getZoom(), k = z >= 15 ? 0 : z >= 13 ? 1 : 2;
            return s.anchor ? [[7, 3], [6, 2], [4.5, 2]][k] : [[5, 2], [3.5, 1.5], [2, 1]][k];
          }
          D.stops.forEach(function (s) {
            var cls = 'stop-marker stop-' + s.id + (s.anchor ? ' stop-anchor' : '');
            var m = L.circleMarker([s.lat, s.lon], {
              radius: size(s)[0], weight: size(s)[1], color: '#222222',
              fillColor: s.anchor ? '#FFD400' : '#FFFFFF', fillOpacity: 1, className: cls,
              pane: 'shuttleStops'
            });
            // the popup (content plus Leaflet's 44 px of margins) and the pan padding fit a
            // phone's width
            var wide = Math.max(200, Math.min(340, window.innerWidth - 24 - 44));
            m.bindPopup(function () { return popup(s); }, {maxWidth: wide,
              minWidth: Math.min(220, wide),
              maxHeight: Math.max(240, Math.round(window.innerHeight * 0.6)),
              autoPanPadding: [12, 60]});
            m.on('popupopen', function () { m.closeTooltip(); });
            var tip = el('span', 'stop-tip');
            el('span', null, tip, s.ko).lang = 'ko'; el('span', null, tip, s.en).lang = 'en';
            m.bindTooltip(tip, {direction: 'top', offset: [0, -6]});
            m.addTo(group);
            markers[s.id] = m;
          });
          map.on('zoomend', function () {
            D.stops.forEach(function (s) {
              var z = size(s);
              markers[s.id].setRadius(z[0]).setStyle({weight: z[1]});
            });
          });
          window.shuttleStops = {data: D, markers: markers, el: el, bi: bi, chip: chip,
                                 depTable: depTable, depNote: depNote};
        })();
        {% endmacro %}
        """
    )

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__()
        self._name = "Stops"
        self.data = _js(data)


class _Places(MacroElement):
    """Anchor places as stars just above their point; they take no taps (stop popups name them)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
          var group = {{ this._parent.get_name() }};
          {{ this.data }}.forEach(function (p) {
            var icon = L.divIcon({className: 'anchor-place', html: '', iconSize: [18, 18],
                                  iconAnchor: [9, 21]});
            var m = L.marker([p[0], p[1]], {icon: icon, keyboard: false, interactive: false,
                                            pane: 'shuttlePlaces'});
            m.on('add', function () {
              var e = m.getElement();
              e.setAttribute('role', 'img');
              e.setAttribute('aria-label', p[2] + ' / ' + p[3]);
            });
            m.addTo(group);
          });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, data: list[list[Any]]) -> None:
        super().__init__()
        self._name = "Places"
        self.data = _js(data)


class _Page(MacroElement):
    """Title, legend, credits, language switch and the page style."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>{{ this.css }}</style>
        {% endmacro %}
        {% macro html(this, kwargs) %}
        {{ this.panel }}
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
          var btn = document.getElementById('lang-toggle');
          function setLang(l) {
            document.body.classList.toggle('lang-en', l === 'en');
            document.documentElement.lang = l;
            btn.textContent = l === 'en' ? '한국어' : 'English';
            btn.setAttribute('aria-pressed', l === 'en' ? 'true' : 'false');
          }
          btn.addEventListener('click', function () {
            setLang(document.body.classList.contains('lang-en') ? 'ko' : 'en');
          });
          setLang(/(^#|[#&])en\\b/.test(window.location.hash) ? 'en' : 'ko');
          var narrow = window.matchMedia('(max-width: 600px)');
          var legend = document.getElementById('legend');
          function foldLegend() {  // on a phone the open legend would hide what was asked for
            if (narrow.matches) { legend.removeAttribute('open'); }
          }
          foldLegend();

          // route pages: legend entry or line tap -> #route=<id> -> the page of that route
          var map = {{ this._parent.get_name() }}, S = window.shuttleStops;
          var D = S.data, el = S.el, bi = S.bi, L10 = D.labels;
          var page = document.getElementById('route-page'), byId = {}, shown = null;
          D.routes.forEach(function (r) { byId[r.id] = r; });
          function isEn() { return document.body.classList.contains('lang-en'); }
          function hashRoute() {
            var m = /(?:^#|&)route=([^&]*)/.exec(window.location.hash);
            if (!m) { return null; }
            try { return decodeURIComponent(m[1]); } catch (e) { return null; }
          }
          var lines = window.shuttleLines || {}, focused = null;
          function labels() {  // arrows and numbers only where they can be read
            // leaflet-textpath fits the repeated text to the part of the line in view when it
            // is set, so it is set again after every move
            var z = map.getZoom();
            Object.keys(lines).forEach(function (k) {
              if (!map.hasLayer(lines[k])) { return; }  // hidden in the layer control
              var on = z >= 14 && (focused === null || focused === k);
              lines[k].setText(null);
              if (on) { lines[k].setText(lines[k].shuttleText[0], lines[k].shuttleText[1]); }
            });
          }
          function focusLines(id) {
            focused = id;
            Object.keys(lines).forEach(function (k) {
              lines[k].setStyle({opacity: id === null || k === id ? 0.9 : 0.25});
            });
            labels();
            if (id !== null && lines[id]) {
              if (map.hasLayer(lines[id])) { lines[id].bringToFront(); }
              // fit the route into the part of the map that the panels leave free
              var box = document.getElementById('shuttle-panel').getBoundingClientRect();
              var tl = narrow.matches ? [16, Math.round(box.bottom) + 8]
                                      : [Math.round(box.right) + 16, 16];
              var br = narrow.matches ? [16, page.offsetHeight + 16] : [page.offsetWidth + 30, 16];
              map.fitBounds(lines[id].getBounds(), {paddingTopLeft: tl, paddingBottomRight: br});
            }
          }
          function stopItem(list, r, si) {
            var s = D.stops[si], li = el('li', null, list);
            var b = el('button', 'rp-stop', li);
            b.type = 'button'; b.setAttribute('data-stop', s.id);
            el('span', 'rp-stop-ko', b, s.ko).lang = 'ko';
            el('span', 'rp-stop-en', b, s.en).lang = 'en';
            var meta = el('span', 'rp-stop-meta', b);
            if (s.ars) { el('span', 'rp-ars', meta, s.ars); }
            var others = s.routes.filter(function (ri) { return D.routes[ri].id !== r.id; });
            if (others.length) {
              bi(el('span', 'rp-transfer', meta), L10.transfer);
              others.forEach(function (ri) { S.chip(meta, D.routes[ri]); });
            }
            b.addEventListener('click', function () { showStop(s.id); });
          }
          function render(r) {
            while (page.firstChild) { page.removeChild(page.firstChild); }
            var head = el('div', 'rp-head', page);
            S.chip(head, r).classList.add('rp-chip');
            var h = el('h2', null, head);
            h.id = 'rp-title'; h.tabIndex = -1;
            bi(h, [r.ko, r.en]);
            var close = el('button', 'rp-close', head, '×');
            close.type = 'button'; close.setAttribute('aria-label', L10.close.join(' / '));
            close.addEventListener('click', closePage);
            if (r.busy) {  // expected busyness (issue 8), when a model provides it
              var busy = el('div', 'rp-busy', page);
              r.busy.forEach(function (row) {
                var d = el('div', null, busy); bi(d, [row[0], row[1]]);
                el('span', null, d, ': ' + row[2]);
              });
            }
            r.dirs.forEach(function (dir) {
              var p = D.patterns[dir[0]], sec = el('section', 'rp-dir', page);
              var h3 = el('h3', null, sec);
              el('span', null, h3, r.loop ? L10.loop[0] : p[1] + ' ' + L10.to[0]).lang = 'ko';
              el('span', null, h3, r.loop ? L10.loop[1] : L10.to[1] + ' ' + p[2]).lang = 'en';
              var trip = el('div', 'rp-trip', sec);
              if (dir[3] !== null) {
                el('span', null, trip, '약 ' + dir[3] + '분 · ' + dir[4] + ' km').lang = 'ko';
                el('span', null, trip, 'About ' + dir[3] + ' min · ' + dir[4] + ' km').lang = 'en';
              } else {
                el('span', null, trip, dir[4] + ' km');
              }
              bi(el('div', 'rp-sub', sec), L10.service);
              S.depTable(sec, dir[2]);
              bi(el('div', 'rp-sub', sec), L10.stops);
              var list = el('ol', 'rp-stops', sec);
              list.style.borderLeftColor = r.color;
              dir[1].forEach(function (si) { stopItem(list, r, si); });
            });
            S.depNote(page);
          }
          function sync() {
            var id = hashRoute(), r = id !== null && byId.hasOwnProperty(id) ? byId[id] : null;
            if (r === shown) { return; }
            shown = r;
            if (!r) { page.hidden = true; focusLines(null); return; }
            render(r);
            foldLegend();
            page.hidden = false;
            page.scrollTop = 0;
            focusLines(r.id);
            document.getElementById('rp-title').focus({preventScroll: true});
          }
          function openRoute(id) {
            window.location.hash = 'route=' + encodeURIComponent(id) + (isEn() ? '&en' : '');
            sync();
          }
          function closePage() {
            window.location.hash = isEn() ? 'en' : '';
            sync();
          }
          function showStop(id) {
            closePage();
            var m = S.markers[id];
            if (!m) { return; }
            map.setView(m.getLatLng(), Math.max(map.getZoom(), 16));
            m.openPopup();
          }
          window.shuttleOpenRoute = openRoute;
          window.shuttleMap = map;
          map.on('popupopen', foldLegend);
          map.on('moveend overlayadd', labels);
          Array.prototype.forEach.call(document.querySelectorAll('button[data-route]'),
            function (b) {
              b.addEventListener('click', function () {
                openRoute(b.getAttribute('data-route'));
              });
            });
          document.addEventListener('keydown', function (e) {
            if (e.key === 'Escape' && shown) { closePage(); }
          });
          window.addEventListener('hashchange', sync);
          // the whole network first, without animation (a zoom animation still running would
          // undo the fit to a route that a #route= link opens)
          map.fitBounds({{ this.bounds }}, {padding: [20, 20], animate: false});
          sync();
        })();
        {% endmacro %}
        """
    )

    def __init__(self, panel: str, css: str, bounds: list[list[float]]) -> None:
        super().__init__()
        self._name = "Page"
        self.panel = panel
        self.css = css
        self.bounds = _js(bounds)


_CSS = """
body:not(.lang-en) span[lang="en"]:not(.rp-stop-en),
body.lang-en span[lang="ko"]:not(.rp-stop-ko) { display: none !important; }
body { font-family: "Noto Sans KR", "Apple SD Gothic Neo", "Malgun Gothic", "NanumGothic",
  system-ui, sans-serif; }
.shuttle-panel { position: absolute; z-index: 999; top: 10px; left: 56px; width: 330px;
  max-width: calc(100vw - 120px); max-height: calc(100vh - 60px); overflow: auto;
  background: rgba(255,255,255,0.95); border-radius: 6px; box-shadow: 0 1px 5px rgba(0,0,0,0.4);
  padding: 6px 10px; font-size: 13px; line-height: 1.35; color: #111; }
.panel-head { display: flex; align-items: flex-start; gap: 8px; }
.panel-head h1 { font-size: 15px; margin: 0; flex: 1; }
#lang-toggle { font: inherit; font-size: 12px; padding: 2px 8px; border: 1px solid #555;
  border-radius: 4px; background: #fff; cursor: pointer; white-space: nowrap; }
.shuttle-panel summary { cursor: pointer; font-weight: bold; margin-top: 4px; }
.shuttle-panel ul { list-style: none; margin: 4px 0; padding: 0; }
.shuttle-panel li { margin: 2px 0; }
.swatch { display: inline-block; width: 22px; height: 6px; border-radius: 3px;
  vertical-align: middle; margin-right: 4px; }
.route-chip { display: inline-block; min-width: 18px; padding: 0 4px; border-radius: 3px;
  text-align: center; font-weight: bold; margin-right: 3px; }
.sym { display: inline-block; width: 12px; height: 12px; vertical-align: middle;
  margin-right: 6px; }
.sym-stop { border: 2px solid #222; border-radius: 50%; background: #fff; width: 8px;
  height: 8px; }
.sym-stop-anchor { background: #FFD400; border-width: 3px; width: 9px; height: 9px; }
.sym-anchor { color: #C0392B; text-align: center; font-size: 14px; line-height: 12px; }
.sym-district { border: 2px dashed #555; width: 10px; height: 10px; }
.sym-catch { background: rgba(31,119,180,0.25); border: 1px solid #1F77B4; }
.cov-table, .dep-table { border-collapse: collapse; font-size: 12px; }
.cov-table td, .cov-table th { padding: 1px 6px 1px 0; text-align: left; }
.cov-table td.num { text-align: right; }
.credits { font-size: 11px; color: #333; }
.credits li { margin: 3px 0; }
.stop-popup { font-size: 12px; line-height: 1.3; }
.stop-name { font-size: 15px; font-weight: bold; }
.stop-name-en { font-size: 13px; color: #333; margin-bottom: 2px; }
.stop-meta, .stop-routes { margin: 2px 0; color: #333; }
.stop-anchor-tag { margin-left: 6px; color: #C0392B; }
.dep-head { margin-top: 6px; font-weight: bold; }
.dep-table th, .dep-table td { padding: 1px 4px; border-bottom: 1px solid #ddd;
  text-align: center; white-space: nowrap; }
.dep-table tbody th { text-align: left; font-weight: normal; }
.dep-wrap { overflow-x: auto; max-width: 100%; }
.dep-note { font-size: 11px; color: #444; margin-top: 6px; }
.leaflet-control-layers { font-size: 13px; max-width: calc(100vw - 70px); }
.anchor-place { background: none; border: none; }
.anchor-place::before { content: "★"; display: block; font-size: 18px; line-height: 18px;
  color: #C0392B; text-shadow: 0 0 2px #fff, 0 0 2px #fff; text-align: center; }
.leaflet-pane > svg text { pointer-events: none; }
.leaflet-control-layers-overlays label { margin: 3px 0; }
.legend-route { display: flex; align-items: center; gap: 4px; width: 100%; min-height: 32px;
  padding: 3px 2px; font: inherit; color: inherit; text-align: left; background: none;
  border: 0; border-radius: 4px; cursor: pointer; }
.legend-route:hover, .legend-route:focus-visible { background: #EAF2E4; }
.legend-route .go { margin-left: auto; padding-left: 6px; color: #555; font-size: 18px; }
.legend-hint { font-size: 11px; color: #444; margin: 0 0 6px; }
.route-page { position: absolute; z-index: 1001; top: 10px; right: 10px; bottom: 28px;
  width: 360px; max-width: calc(100vw - 20px); overflow: auto; box-sizing: border-box;
  background: #fff; border-radius: 8px; box-shadow: 0 2px 10px rgba(0,0,0,0.45);
  padding: 0 12px 12px; font-size: 13px; line-height: 1.35; color: #111; }
.route-page[hidden] { display: none; }
.rp-head { display: flex; align-items: center; gap: 8px; position: sticky; top: 0; z-index: 1;
  background: #fff; padding: 8px 0 6px; border-bottom: 1px solid #ccc; }
.rp-head h2 { font-size: 15px; margin: 0; flex: 1; }
.rp-head h2:focus { outline: none; }
.rp-chip { font-size: 17px; padding: 3px 8px; border-radius: 4px; }
.rp-close { flex: none; width: 40px; height: 40px; font-size: 24px; line-height: 1;
  border: 1px solid #777; border-radius: 50%; background: #fff; color: #111; cursor: pointer; }
.rp-busy { margin: 6px 0; }
.rp-dir h3 { font-size: 15px; margin: 14px 0 2px; }
.rp-trip { color: #333; }
.route-link { padding: 2px 0; margin: 0 2px 0 0; font: inherit; background: none; border: 0;
  cursor: pointer; }
.route-link .route-chip { padding: 2px 8px; }
.rp-sub { font-weight: bold; margin: 8px 0 3px; color: #333; }
.rp-stops { list-style: none; margin: 0 0 0 6px; padding: 0; border-left: 4px solid #888; }
.rp-stops li { position: relative; margin: 0; }
.rp-stops li::before { content: ""; position: absolute; left: -9px; top: 14px; width: 10px;
  height: 10px; border: 2px solid #222; border-radius: 50%; background: #fff; }
.rp-stop { display: block; width: 100%; min-height: 44px; padding: 6px 4px 6px 14px;
  font: inherit; color: inherit; text-align: left; background: none; border: 0;
  border-bottom: 1px solid #e4e4e4; cursor: pointer; }
.rp-stop:hover, .rp-stop:focus-visible { background: #F1F5EE; }
.rp-stop-ko { display: block; font-size: 14px; font-weight: bold; }
.rp-stop-en { display: block; font-size: 12px; color: #333; }
.rp-stop-meta { display: block; font-size: 11px; color: #444; margin-top: 2px; }
.rp-ars { margin-right: 8px; }
.rp-transfer { margin-right: 4px; }
.rp-stop-meta .route-chip { font-size: 11px; }
@media (max-width: 600px) {
  .route-page { top: auto; left: 0; right: 0; bottom: 0; width: auto; max-width: none;
    height: 50vh; border-radius: 12px 12px 0 0; }
  .shuttle-panel { left: 50px; right: 50px; width: auto; max-width: none;
    max-height: calc(100vh - 120px); font-size: 12px; padding: 4px 8px; }
  .panel-head h1 { font-size: 13px; }
}
"""


# ----------------------------------------------------------------------------------------------
# the map


def _route_label(route: Route) -> str:
    color, text = _color(route)
    return (
        f'<span class="route-chip" style="background:{color};color:{text}">'
        f"{_esc(route.short_name)}</span> {_bi(route.long_name_ko, route.long_name_en)}"
    )


def _period_note(plan: Plan) -> tuple[str, str]:
    """When the peak and evening periods are on each day type, in Korean and English.

    From the same windows as the planner and the report (:func:`shuttle.budget.period_times`):
    the periods within each day type's span, so an evening ends when that day's service does.
    """
    svc = plan.scenario.service
    configured = dict(svc.days)
    days = [d for d in DAY_TYPES if d in configured]
    return budget.period_note(budget.period_times(svc, days), _DAY_LABELS, _PERIOD_LABELS)


def _stop_data(plan: Plan) -> dict[str, Any]:
    """The JSON block the stop popups are built from (shared labels, routes, patterns)."""
    deps = stop_departures(plan)
    routes = sorted(plan.routes, key=lambda r: r.route_id)
    r_index = {r.route_id: i for i, r in enumerate(routes)}
    patterns: list[list[Any]] = []
    p_index: dict[tuple[str, int], int] = {}
    for r in routes:
        for p in sorted(r.patterns, key=lambda p: p.direction_id):
            p_index[(r.route_id, p.direction_id)] = len(patterns)
            patterns.append([r_index[r.route_id], p.headsign_ko, p.headsign_en])
    serving: dict[str, set[str]] = defaultdict(set)
    for r in routes:
        for p in r.patterns:
            for sid in p.stop_ids:
                serving[sid].add(r.route_id)
    s_index = {s.stop_id: i for i, s in enumerate(sorted(plan.stops, key=lambda s: s.stop_id))}
    ex = plan.existing
    near = dict(ex.near_stops) if ex is not None and not ex.missing else {}
    stops = []
    rows_at: dict[str, dict[tuple[str, int], list[Any]]] = {}
    for s in sorted(plan.stops, key=lambda s: s.stop_id):
        rows: dict[tuple[str, int], list[Any]] = {}
        rows_at[s.stop_id] = rows
        for d in deps.get(s.stop_id, ()):
            key = (d.route_id, d.direction_id)
            row = rows.setdefault(key, [None] * len(DAY_TYPES))
            if d.service_id in DAY_TYPES:
                row[DAY_TYPES.index(d.service_id)] = [
                    d.first_s // 60,
                    d.last_s // 60,
                    *(h for _, h in d.headways_min),
                ]
        stops.append(
            {
                "id": s.stop_id,
                "lat": round(s.lat, _DIGITS),
                "lon": round(s.lon, _DIGITS),
                "ko": s.name_ko,
                "en": s.name_en,
                "ars": s.ars,
                "anchor": s.anchor,
                "routes": sorted(r_index[r] for r in serving.get(s.stop_id, ())),
                "deps": [[p_index[k], v] for k, v in sorted(rows.items())],
                "existing": list(near.get(s.stop_id, ())),  # existing routes within 100 m
            }
        )
    minutes = _trip_minutes(plan)
    return {
        "labels": {k: list(v) for k, v in _POPUP_LABELS.items()},
        "days": [list(_DAY_LABELS.get(d, (d, d))) for d in DAY_TYPES],
        "periods": [list(_PERIOD_LABELS.get(p, (p, p))) for p in PERIODS],
        "periodNote": list(_period_note(plan)),
        "existingLabel": ["100 m 안 기존 노선", "Existing routes within 100 m"],
        "routes": [_route_page(r, p_index, s_index, rows_at, minutes) for r in routes],
        "patterns": patterns,
        "stops": stops,
    }


def _trip_minutes(plan: Plan) -> dict[tuple[str, int], int]:
    """Median end-to-end minutes of each route direction's trips, weekday trips first."""
    by_day: dict[tuple[str, int], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for trip in plan.timetable.trips:
        span = trip.arrival_s[-1] - trip.departure_s[0]
        by_day[(trip.route_id, trip.direction_id)][trip.service_id].append(span)
    out = {}
    for key, days in by_day.items():
        spans = next((days[d] for d in (*DAY_TYPES, *sorted(days)) if days.get(d)), [])
        if spans:
            out[key] = round(statistics.median(spans) / 60)
    return out


def _route_page(
    route: Route,
    p_index: dict[tuple[str, int], int],
    s_index: dict[str, int],
    rows_at: dict[str, dict[tuple[str, int], list[Any]]],
    durations: dict[tuple[str, int], int],
) -> dict[str, Any]:
    """One route's entry of the page data: its chip, names and, per direction, its stops in
    order and the first/last bus and headways at its first stop (the rider's route page).

    Expected busyness per route (issue 8) belongs here as ``"busy": [[label_ko, label_en,
    text], ...]``; the page shows such rows when present. It is left out until a ridership
    model provides it: no figure is invented.
    """
    color, text = _color(route)
    dirs = []
    for pat in sorted(route.patterns, key=lambda p: p.direction_id):
        missing = [sid for sid in pat.stop_ids if sid not in s_index]
        if missing:
            msg = (
                f"Route {route.route_id} direction {pat.direction_id} stops at {missing[0]}, "
                "which is not among the plan's stops; rebuild the plan from one design."
            )
            raise ExportError(msg)
        key = (route.route_id, pat.direction_id)
        days = rows_at.get(pat.stop_ids[0], {}).get(key, [None] * len(DAY_TYPES))
        dirs.append(
            [
                p_index[key],
                [s_index[sid] for sid in pat.stop_ids],
                days,
                durations.get(key),
                round(pat.length_m / 1000, 1),
            ]
        )
    return {
        "id": route.route_id,
        "short": route.short_name,
        "color": color,
        "text": text,
        "ko": route.long_name_ko,
        "en": route.long_name_en,
        "loop": route.is_loop,
        "dirs": dirs,
    }


def _panel(plan: Plan) -> str:
    sc = plan.scenario
    title_ko = sc.title_ko or sc.name
    title_en = sc.title_en or title_ko
    k = plan.kpis
    parts = [
        '<div class="shuttle-panel" id="shuttle-panel">',
        '<div class="panel-head">',
        f"<h1>{_bi(title_ko, title_en)}</h1>",
        '<button id="lang-toggle" type="button" aria-pressed="false">English</button>',
        "</div>",
        '<details id="legend" open>',
        f"<summary>{_bi('범례', 'Legend')}</summary>",
        '<ul class="legend-routes">',
    ]
    for r in sorted(plan.routes, key=lambda r: r.route_id):
        parts.append(
            f'<li><button type="button" class="legend-route" data-route="{_esc(r.route_id)}">'
            f'{_route_label(r)}<span class="go" aria-hidden="true">›</span></button></li>'
        )
    parts += [
        "</ul>",
        f'<p class="legend-hint">{_bi(*_ROUTE_HINT)}</p>',
        '<ul class="legend-symbols">',
        f'<li><span class="sym sym-stop"></span>'
        f"{_bi('정류장 (누르면 시간표)', 'Stop (tap for times)')}</li>",
        f'<li><span class="sym sym-stop sym-stop-anchor"></span>'
        f"{_bi('주요 거점 정류장', 'Stop at a key place')}</li>",
        f'<li><span class="sym sym-anchor">★</span>{_bi("주요 거점", "Key places")}</li>',
        f'<li><span class="sym sym-district"></span>{_bi("자치구 경계", "District boundary")}</li>',
        f'<li><span class="sym sym-catch"></span>'
        f"{_bi('정류장 400 m 도보권', '400 m walk to a stop')}"
        "</li>",
        f"<li>{_bi(*_ARROWS_NOTE)}</li>",
        "</ul>",
        f'<p class="coverage">{_bi("400 m 도보권 인구 비율", "Population within 400 m")}: '
        f"<b>{_pct(k.coverage)}</b></p>",
    ]
    if k.coverage_by_district:
        areas = {a.code: a for a in plan.districts}
        parts.append('<table class="cov-table"><tbody>')
        for code, covered, pop in k.coverage_by_district:
            ko, en = _district_name(code, areas.get(code))
            share = covered / pop if pop else 0.0
            parts.append(
                f'<tr><th>{_bi(ko, en)}</th><td class="num">{covered:,} / {pop:,}</td>'
                f'<td class="num">{_pct(share)}</td></tr>'
            )
        parts.append("</tbody></table>")
    parts += [
        "</details>",
        '<details class="credits">',
        f"<summary>{_bi('자료 출처', 'Data sources')}</summary><ul>",
    ]
    base = sc.map
    credits = [
        *_CREDITS,
        (
            f"배경지도: {base.tile_attribution}",
            f"Base map: {base.tile_attribution}",
            base.tile_attribution_url,
        ),
    ]
    for ko, en, url in credits:
        item = _bi(ko, en)
        if url:
            item = f'<a href="{_esc(url)}" target="_blank" rel="noopener">{item}</a>'
        parts.append(f"<li>{item}</li>")
    parts += [
        f"<li>{_bi('도로망 자료 기준일', 'Road data as of')}: {_esc(sc.network.data_date)}</li>",
        "</ul></details>",
        "</div>",
        '<section id="route-page" class="route-page" aria-labelledby="rp-title" hidden></section>',
    ]
    return "\n".join(parts)


def _bounds(plan: Plan) -> list[list[float]]:
    lats = [s.lat for s in plan.stops] + [p.lat for p in plan.places]
    lons = [s.lon for s in plan.stops] + [p.lon for p in plan.places]
    for r in plan.routes:
        for p in r.patterns:
            lats += [a for a, _ in p.shape]
            lons += [b for _, b in p.shape]
    if not lats:
        msg = "The plan has no stops or routes to map; design routes before writing the map."
        raise ExportError(msg)
    return [_pt(min(lats), min(lons)), _pt(max(lats), max(lons))]


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in element._children.values():
        yield from _walk(child)


def _number_ids(root: Element) -> None:
    """Replace folium's random element ids by numbers in tree order (byte-stable output)."""
    for i, element in enumerate(_walk(root)):
        element._id = f"{i:04d}"


def _gain_layer(plan: Plan, m: folium.Map) -> None:
    """Off by default: each dong shaded by the mean off-peak time its trips save with the
    shuttle against the existing network (``plan.existing``; darker saves more)."""
    from .existing import gain_by_zone

    ex = plan.existing
    if ex is None or ex.missing or not ex.zones:
        return
    comp = next((c for c in ex.comparisons if c.period == "offpeak"), None)
    if comp is None:
        return
    gain = gain_by_zone(comp.result)
    top = max(float(gain.max()), 1e-9)
    name = _bi("동별 통행시간 단축(비첨두)", "Time saved by dong (off-peak)") + _esc(
        f" (0–{top:.1f} min)"
    )
    fg = folium.FeatureGroup(name=name, show=False)
    for z, g in zip(ex.zones, gain, strict=True):
        locs = [[[list(pt) for pt in ring] for ring in poly] for poly in z.polygons]
        if locs:
            _area_polygon(
                locs,
                color="#6A3D9A",
                weight=1,
                fill_color="#6A3D9A",
                fill_opacity=round(0.05 + 0.6 * max(float(g), 0.0) / top, 3),
                class_name=f"gain-dong gain-{_esc(z.code)}",
            ).add_to(fg)
    fg.add_to(m)


def render_map(plan: Plan) -> folium.Map:
    """Build the public map of a plan.

    Parameters
    ----------
    plan
        The plan to show: routes, stops, places, districts, catchment, KPIs and timetable.

    Returns
    -------
    folium.Map
        The map inside its figure; its element ids are numbered, so rendering it twice gives the
        same HTML (see :func:`render_html`).

    Raises
    ------
    ExportError
        If the plan has nothing to map, a route colour is not a hex colour, or the timetable does
        not match the routes.
    """
    bounds = _bounds(plan)
    center = [
        round((bounds[0][0] + bounds[1][0]) / 2, _DIGITS),
        round((bounds[0][1] + bounds[1][1]) / 2, _DIGITS),
    ]
    # quarter zoom steps: a route fits the part of a phone screen its page leaves free
    m = folium.Map(location=center, zoom_start=13, tiles=None, zoom_snap=0.25)
    # only Leaflet and the two plugins we use; folium's bootstrap/jQuery/awesome-markers are not
    # needed by any element here (instance attributes: the class lists stay untouched)
    m.default_js = [(n, u) for n, u in ASSET_URLS if u.endswith(".js")]
    m.default_css = [(n, u) for n, u in ASSET_URLS if u.endswith(".css")]
    _Panes().add_to(m)
    sc = plan.scenario
    figure = m.get_root()
    assert isinstance(figure, Figure)
    figure.title = _esc(" | ".join(t for t in (sc.title_ko, sc.title_en) if t) or sc.name)

    base = sc.map
    folium.TileLayer(
        tiles=base.tile_url,
        attr=_attribution(base),
        name="base",
        max_zoom=base.max_zoom,
        control=False,
    ).add_to(m)

    areas = {a.code: a for a in plan.districts}
    if plan.districts:
        fg = folium.FeatureGroup(name=_bi("자치구 경계", "District boundaries"))
        for code in sorted(areas):
            locs = _area_locations(areas[code])
            if locs:
                _area_polygon(
                    locs,
                    color="#555555",
                    weight=2,
                    dash_array="6 4",
                    fill=False,
                    class_name=f"district district-{code}",
                ).add_to(fg)
        fg.add_to(m)

    if plan.catchment is not None:
        locs = _area_locations(plan.catchment)
        if locs:
            name = (
                _bi("정류장 400 m 도보권", "400 m walk to a stop")
                + f" ({_pct(plan.kpis.coverage)})"
            )
            fg = folium.FeatureGroup(name=name, show=False)
            _area_polygon(
                locs,
                color="#1F77B4",
                weight=1,
                fill_color="#1F77B4",
                fill_opacity=0.18,
                class_name="catchment",
            ).add_to(fg)
            fg.add_to(m)

    _gain_layer(plan, m)

    for route in sorted(plan.routes, key=lambda r: r.route_id):
        color, text = _color(route)
        fg = folium.FeatureGroup(name=_route_label(route))
        lines = [_line(p.shape) for p in sorted(route.patterns, key=lambda p: p.direction_id)]
        line = _RouteLine(
            lines,
            offset=0 if len(lines) == 1 else 3,
            color=color,
            weight=6,
            opacity=0.9,
            class_name=f"route-line route-{route.route_id}",
        )
        line.add_to(fg)
        tip = f"<b>{_esc(route.short_name)}</b> {_bi(route.long_name_ko, route.long_name_en)}"
        arrows = {
            "repeat": True,
            "offset": 4,
            "attributes": {"fill": text, "font-size": "11", "font-weight": "bold"},
        }
        label = f"   \u25b6 {route.short_name}   "
        line.add_child(_LineExtras(route.route_id, tip, label, arrows))
        fg.add_to(m)

    if plan.places:
        fg = folium.FeatureGroup(name=_bi("주요 거점", "Key places"))
        _Places(
            [[*_pt(p.lat, p.lon), p.name_ko, p.name_en or p.name_ko] for p in plan.places]
        ).add_to(fg)
        fg.add_to(m)

    fg = folium.FeatureGroup(name=_bi("정류장", "Stops"))
    _Stops(_stop_data(plan)).add_to(fg)
    fg.add_to(m)

    folium.LayerControl(collapsed=True).add_to(m)
    _Page(_panel(plan), _CSS, bounds).add_to(m)
    _number_ids(figure)
    return m


def render_html(plan: Plan) -> str:
    """Return the map page of a plan as HTML text (byte-stable for the same plan)."""
    m = render_map(plan)
    text = m.get_root().render()
    # folium's map template forbids zooming the page; riders who need larger text must be able to
    text, n = _VIEWPORT_RE.subn(VIEWPORT, text)
    if n != 1:
        msg = f"folium {folium.__version__} wrote {n} viewport tags (expected 1); update maps.py."
        raise ExportError(msg)
    # the figure template has no language; Korean is the default language of the page
    return text.replace("<html>", '<html lang="ko">', 1)


def map_filename(plan: Plan) -> str:
    """File name of a plan's map: ``<scenario>.html``."""
    return f"{plan.scenario.name}.html"


def save_map(plan: Plan, maps_dir: str | os.PathLike[str], *, index: bool = True) -> Path:
    """Write ``<maps_dir>/<scenario>.html`` atomically (and refresh ``index.html``).

    Parameters
    ----------
    plan
        The plan to map.
    maps_dir
        Output folder, created if needed.
    index
        Also rewrite ``index.html`` listing every map in the folder.

    Returns
    -------
    Path
        The map file.

    Raises
    ------
    ExportError
        If the plan cannot be mapped or the folder cannot be written.
    """
    name = map_filename(plan)
    if name == "index.html":
        msg = "A scenario named 'index' would overwrite the map index; rename the scenario."
        raise ExportError(msg)
    text = render_html(plan)
    path = atomic_write_text(Path(maps_dir) / name, text)
    log.info("map written: %s (%d bytes)", path, len(text.encode("utf-8")))
    if index:
        write_index(maps_dir)
    return path


_INDEX_TITLE = ("셔틀 노선 지도", "Shuttle route maps")


def _index_items(files: Sequence[Path]) -> str:
    items = []
    for p in files:
        title = ""
        try:
            head = p.read_text(encoding="utf-8", errors="replace")[:4096]
        except OSError:
            head = ""
        found = re.search(r"<title>(.*?)</title>", head, re.S)
        if found:
            title = html.unescape(found.group(1)).strip()
        stem = p.name.removesuffix(".html")
        label = _esc(stem) + (f" — {_esc(title)}" if title else "")
        href = _esc(_url_quote(p.name))
        items.append(f'<li><a href="{href}">{label}</a></li>')
    return "\n".join(items) if items else "<li>–</li>"


def write_index(maps_dir: str | os.PathLike[str]) -> Path:
    """Write ``<maps_dir>/index.html`` listing the scenario maps (and reports) in the folder.

    Every ``*.html`` file but ``index.html`` is listed, sorted by name, with its page title when
    it has one; ``*.report.html`` files (see :mod:`shuttle.report`) come in a second list.

    Returns
    -------
    Path
        The index file.

    Raises
    ------
    ExportError
        If the folder cannot be read or written.
    """
    folder = Path(maps_dir)
    try:
        files = sorted(p for p in folder.glob("*.html") if p.name != "index.html" and p.is_file())
    except OSError as e:
        msg = f"{folder}: cannot list the maps folder ({e.strerror or e})"
        raise ExportError(msg) from e
    reports = [p for p in files if p.name.endswith(".report.html")]
    maps_ = [p for p in files if not p.name.endswith(".report.html")]
    ko, en = _INDEX_TITLE
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="ko">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(ko)} | {_esc(en)}</title>\n"
        "<style>body{font-family:system-ui,sans-serif;margin:1.5em;line-height:1.5}"
        "li{margin:.4em 0}</style>\n"
        "</head>\n<body>\n"
        f"<h1>{_esc(ko)} <small>{_esc(en)}</small></h1>\n"
        f'<ul class="maps">\n{_index_items(maps_)}\n</ul>\n'
    )
    if reports:
        page += (
            f"<h2>{_esc('보고서')} <small>{_esc('Reports')}</small></h2>\n"
            f'<ul class="reports">\n{_index_items(reports)}\n</ul>\n'
        )
    page += "</body>\n</html>\n"
    return atomic_write_text(folder / "index.html", page)


def _url_quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)
