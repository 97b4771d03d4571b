"""The officers' report of one or more plans: HTML (with hand-made inline SVG charts) and JSON.

:func:`report_data` gathers the figures of a plan as plain JSON data: the designer's KPIs and
per-route figures, the fleet and vehicle-hours of every route and day type (from the timetable),
departures per hour per route, and the population within the walking catchment by district.
:func:`write_report` writes ``<basename>.report.json`` (exactly those dicts) and
``<basename>.report.html``, a self-contained page (no scripts, no CDN) in Korean and English with a
comparison table when given two or more plans. Output is byte-stable: no timestamps, sorted data,
fixed number formats.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import html_parts, report_existing, report_figures, timetable
from .config import DAY_TYPES, DISTRICTS, PERIODS
from .errors import ExportError
from .html_parts import bi as _bi
from .html_parts import esc as _e
from .html_parts import table as _table
from .io import atomic_write_text
from .model import FleetRow, Plan

__all__ = ["REPORT_FORMAT", "report_data", "write_report"]

log = logging.getLogger(__name__)

#: Version of the JSON layout.
REPORT_FORMAT = 1

_HEX = re.compile(r"^[0-9A-Fa-f]{6}$")
_DAY = html_parts.DAY_LABELS
_PERIOD = html_parts.PERIOD_LABELS


# ----------------------------------------------------------------------------------------------
# data


def _departures_per_hour(plan: Plan) -> dict[str, Any]:
    """Trips leaving their first stop in each hour, per day type and route."""
    counts: dict[str, dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    hours: set[int] = set()
    for t in plan.timetable.trips:
        h = t.departure_s[0] // 3600
        hours.add(h)
        per = counts[t.service_id][t.route_id]
        per[h] = per.get(h, 0) + 1
    if not hours:
        return {"hours": [], "by_day": {}}
    span = list(range(min(hours), max(hours) + 1))
    rids = sorted(r.route_id for r in plan.routes)
    by_day = {
        day: {rid: [counts[day][rid].get(h, 0) for h in span] for rid in rids}
        for day in DAY_TYPES
        if day in counts
    }
    return {"hours": span, "by_day": by_day}


def _anchor_stops(plan: Plan) -> list[dict[str, Any]]:
    """The stop serving each anchor and its straight-line distance (``Stop.anchor_m``)."""
    order = {p.name_ko: i for i, p in enumerate(plan.places)}
    en = {p.name_ko: p.name_en for p in plan.places}
    rows = [
        {
            "anchor_ko": s.anchor,
            "anchor_en": en.get(s.anchor, ""),
            "stop_id": s.stop_id,
            "stop_ko": s.name_ko,
            "stop_en": s.name_en,
            "ars": s.ars,
            "distance_m": s.anchor_m,
        }
        for s in plan.stops
        if s.anchor
    ]
    served = {r["anchor_ko"] for r in rows}
    rows += [  # an anchor no stop serves is listed too, without stop and distance
        {
            "anchor_ko": p.name_ko,
            "anchor_en": p.name_en,
            "stop_id": "",
            "stop_ko": "",
            "stop_en": "",
            "ars": None,
            "distance_m": None,
        }
        for p in plan.places
        if p.name_ko not in served
    ]
    return sorted(rows, key=lambda r: (order.get(r["anchor_ko"], len(order)), r["stop_id"]))


def report_data(plan: Plan, curve: Sequence[Any] = ()) -> dict[str, Any]:
    """Return the figures of a plan as JSON-ready data (the content of the JSON report).

    Parameters
    ----------
    plan
        The plan: scenario, KPIs of the design and timetable.

    Returns
    -------
    dict
        ``scenario``, ``kpis`` (DesignKPIs without the routes), ``routes`` (RouteKPI joined with
        the route names and colours), ``fleet`` (one row per route and day type, as in the
        timetable), ``fleet_total`` (per day type: buses = most blocks active at once, the rest
        sums; :func:`shuttle.timetable.fleet_summary`), ``peak_fleet`` (buses of the busiest day
        type), ``departures_per_hour`` (``hours`` and ``by_day -> route -> counts``),
        ``coverage_by_district``, the timetable ``warnings``, ``periods`` (passenger figures per
        day type and period), ``depots``, ``deadheads`` (non-revenue moves) and ``duties``
        (driver shifts per day type), ``budget_curve`` (the rows of ``curve``, one per fleet
        budget, :func:`shuttle.report_figures.curve_data`). Vehicle-hours are pull-out to
        pull-in, split into ``revenue_hours``, ``layover_hours`` and ``deadhead_hours``
        (vehicle-km likewise). Numbers are the plan's own values, unrounded.
    """
    sc = plan.scenario
    k = plan.kpis
    route_kpi = {r.route_id: r for r in k.routes}
    routes = []
    for r in sorted(plan.routes, key=lambda r: r.route_id):
        rk = route_kpi.get(r.route_id)
        routes.append(
            {
                "route_id": r.route_id,
                "short_name": r.short_name,
                "long_name_ko": r.long_name_ko,
                "long_name_en": r.long_name_en,
                "color": r.color,
                "is_loop": r.is_loop,
                "length_m": rk.length_m if rk else None,
                "one_way_s": rk.one_way_s if rk else None,
                "cycle_s": rk.cycle_s if rk else None,
                "stops": rk.stops if rk else None,
                "km_by_class": dict(rk.km_by_class) if rk else {},
                "minor_uses": [list(u) for u in rk.minor_uses] if rk else [],
                "detour_ratio": rk.detour_ratio if rk else None,
                "detour_anchor": rk.detour_anchor if rk else "",
                "turnarounds": [list(t) for t in rk.turnarounds] if rk else [],
            }
        )
    day_rank = {d: i for i, d in enumerate(DAY_TYPES)}
    fleet = [
        {
            "route_id": f.route_id,
            "service_id": f.service_id,
            "vehicles": f.vehicles,
            "trips": f.trips,
            "vehicle_hours": f.vehicle_hours,
            "vehicle_km": f.vehicle_km,
            "headways_min": {p: h for p, h in f.headways_min},
            **_split(f),
        }
        for f in sorted(
            plan.timetable.fleet, key=lambda f: (f.route_id, day_rank.get(f.service_id, 99))
        )
    ]
    # the day's buses: the most blocks active at once (pull-out to pull-in), see fleet_summary
    totals: list[dict[str, Any]] = [
        {
            "service_id": t.service_id,
            "vehicles": t.vehicles,
            "trips": t.trips,
            "vehicle_hours": t.vehicle_hours,
            "vehicle_km": t.vehicle_km,
            **_split(t),
        }
        for t in timetable.fleet_summary(plan.timetable)
    ]
    areas = {a.code: a for a in plan.districts}
    coverage = []
    for code, covered, pop in k.coverage_by_district:
        a = areas.get(code)
        ko, en = (a.name_ko, a.name_en) if a else DISTRICTS.get(code, (str(code), str(code)))
        coverage.append(
            {
                "code": code,
                "name_ko": ko,
                "name_en": en,
                "covered": covered,
                "population": pop,
                "share": covered / pop if pop else None,
            }
        )
    return {
        "scenario": {
            "name": sc.name,
            "title_ko": sc.title_ko,
            "title_en": sc.title_en,
            "districts": list(sc.districts),
            "data_date": sc.network.data_date,
            "start_date": sc.service.start_date.isoformat(),
            "end_date": sc.service.end_date.isoformat(),
        },
        "kpis": {
            "method": k.method,
            "objective": k.objective,
            "versus_existing": k.versus_existing,
            "duplicate_weight": sc.design.duplicate_weight,
            "att_min": k.att_min,
            "walk_min": k.walk_min,
            "wait_min": k.wait_min,
            "in_vehicle_min": k.in_vehicle_min,
            "transfer_min": k.transfer_min,
            "access_pct": k.access_pct,
            "d0": k.d0,
            "d1": k.d1,
            "d2": k.d2,
            "dun": k.dun,
            "vehicle_hours": k.vehicle_hours,
            "coverage": k.coverage,
            "stops": len(plan.stops),
            "routes": len(plan.routes),
        },
        "routes": routes,
        "fleet": fleet,
        "fleet_total": totals,
        "peak_fleet": max((int(t["vehicles"]) for t in totals), default=0),
        "departures_per_hour": _departures_per_hour(plan),
        "coverage_by_district": coverage,
        "anchor_stops": _anchor_stops(plan),
        "warnings": list(plan.timetable.warnings),
        **_operations(plan),
        "figures": report_figures.figures_data(plan),
        "existing": report_existing.existing_data(plan),
        "budget_curve": report_figures.curve_data(curve),
    }


def _split(f: FleetRow) -> dict[str, float]:
    """Vehicle-hours and vehicle-km split into revenue, layover and deadhead."""
    return {
        "revenue_hours": f.revenue_hours,
        "layover_hours": f.layover_hours,
        "deadhead_hours": f.deadhead_hours,
        "revenue_km": f.revenue_km,
        "deadhead_km": f.deadhead_km,
    }


def _operations(plan: Plan) -> dict[str, Any]:
    """Passenger figures per period, depots, non-revenue moves and driver shifts."""
    tt = plan.timetable
    return {
        "periods": [dataclasses.asdict(p) for p in plan.periods],
        "depots": [dataclasses.asdict(d) for d in tt.depots],
        "deadheads": [dataclasses.asdict(m) for m in tt.deadheads],
        "duties": [dataclasses.asdict(u) for u in tt.duties],
    }


# ----------------------------------------------------------------------------------------------
# HTML


def _num(x: float | int | None, digits: int = 1) -> str:
    if x is None:
        return "–"
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:,.{digits}f}"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _color(value: str) -> str:
    if not _HEX.match(value):
        msg = f"Route colour {value!r} is not six hex digits like '1F77B4'; fix the route design."
        raise ExportError(msg)
    return f"#{value.upper()}"


def _chart(data: dict[str, Any], day: str, colors: dict[str, str], names: dict[str, str]) -> str:
    """Stacked bars of departures per hour of one day type, as inline SVG."""
    hours = data["departures_per_hour"]["hours"]
    by_route = data["departures_per_hour"]["by_day"].get(day, {})
    if not hours or not by_route:
        return ""
    totals = [sum(c[i] for c in by_route.values()) for i in range(len(hours))]
    top = max(max(totals), 1)
    step = 5 if top > 20 else 2 if top > 8 else 1
    top = -(-top // step) * step
    bw, gap, left, bottom, height = 22, 4, 36, 28, 180
    width = left + len(hours) * (bw + gap) + 10
    plot_h = height - bottom - 10
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{_e(_DAY[day][0])} / {_e(_DAY[day][1])}</title>",
    ]
    for v in range(0, top + 1, step):
        y = 10 + plot_h - plot_h * v / top
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 6}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{v}</text>'
        )
    for i, h in enumerate(hours):
        x = left + i * (bw + gap) + gap / 2
        base = 10 + plot_h
        for rid in sorted(by_route):
            n = by_route[rid][i]
            if not n:
                continue
            bar = plot_h * n / top
            base -= bar
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bw}" height="{bar:.1f}" '
                f'fill="{colors[rid]}"><title>{_e(names[rid])} {h % 24:02d}:00 – {n}</title></rect>'
            )
        parts.append(
            f'<text x="{x + bw / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle">'
            f"{h % 24:02d}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


_CSS = """
body { font-family: "Noto Sans KR", "Malgun Gothic", "Apple SD Gothic Neo", system-ui, sans-serif;
  margin: 1.5em auto; max-width: 1100px; padding: 0 1em; color: #111; line-height: 1.45; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
.en { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em;
  display: block; overflow-x: auto; max-width: 100%; width: fit-content; }
svg.chart, svg.load { max-width: 100%; height: auto; }
figure.curve { margin: 0.6em 0; overflow-x: auto; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; vertical-align: middle;
  margin-right: 4px; border-radius: 2px; }
.chart text { font-size: 10px; fill: #333; } .chart .grid { stroke: #ddd; stroke-width: 1; }
.legend span { margin-right: 1em; white-space: nowrap; }
.warn { color: #8a4b00; }
table.fleet td:nth-child(2) { text-align: left; }
"""


def _roads_table(d: dict[str, Any]) -> str:
    """Per route: km by road class, minor streets used, detour ratio and the two turnarounds."""
    rows = []
    for r in d["routes"]:
        kc = r.get("km_by_class") or {}
        uses = r.get("minor_uses", [])
        minor = "; ".join(f"{_e(n or '(이름 없음)')} {m:,.0f} m" for n, m in uses)
        ends = "; ".join(
            f"{_e(name) if name else _bi('블록 회차', 'block loop')} ({m:,.0f} m)"
            for _, name, m in r.get("turnarounds", [])
        )
        det = _num(r.get("detour_ratio"), 2)
        if r.get("detour_anchor"):
            det += f" ({_e(r['detour_anchor'])})"
        rows.append(
            [
                f"<b>{_e(r['short_name'])}</b>",
                ", ".join(f"{_e(c)} {v:.1f}" for c, v in kc.items()),
                minor or "–",
                det,
                ends or "–",
            ]
        )
    return f"<h3>{_bi('노선 도로', 'Route roads')}</h3>" + _table(
        [
            _bi("노선", "Route"),
            _bi("도로 등급별 km", "km by road class"),
            _bi("소로 이용", "Minor streets"),
            _bi("우회율", "Detour ratio"),
            _bi("회차", "Turnarounds"),
        ],
        rows,
        "roads",
    )


def _plan_section(d: dict[str, Any]) -> str:
    sc, k = d["scenario"], d["kpis"]
    colors = {r["route_id"]: _color(r["color"]) for r in d["routes"]}
    names = {r["route_id"]: f"{r['short_name']} {r['long_name_ko']}" for r in d["routes"]}
    out = [
        f'<section id="plan-{_e(sc["name"])}">',
        f'<h2>{_e(sc["title_ko"] or sc["name"])} <span class="en">{_e(sc["title_en"])}</span> '
        f"<small>({_e(sc['name'])})</small></h2>",
        f"<p>{_bi('운행 기간', 'Service period')}: {_e(sc['start_date'])} – {_e(sc['end_date'])}; "
        f"{_bi('도로망 자료', 'road data')}: {_e(sc['data_date'])}; "
        f"{_bi('설계 방법', 'design method')}: {_e(k['method'])}; "
        f"{_bi('설계 목표', 'design objective')}: "
        + (
            _bi(
                "기존 버스·지하철망 대비 통행시간 단축",
                "time saved over the existing bus and metro network",
            )
            + f" ({_bi('기존 빈번 노선 중복 가중치', 'weight against repeating frequent lines')}"
            f" {_num(k['duplicate_weight'], 1)})"
            if k.get("versus_existing")
            else _bi("셔틀 단독 통행시간", "travel time on the shuttle alone")
        )
        + "</p>",
        f"<h3>{_bi('노선망 지표', 'Network figures')}</h3>",
        _table(
            [_bi("지표", "Figure"), _bi("값", "Value")],
            [[lbl, val] for lbl, val in _kpi_rows(d)],
            "kpis",
        ),
        f"<h3>{_bi('노선', 'Routes')}</h3>",
    ]
    fleet = {(f["route_id"], f["service_id"]): f for f in d["fleet"]}
    rows = []
    for r in d["routes"]:
        wk = fleet.get((r["route_id"], "weekday"), {})
        heads = wk.get("headways_min", {})
        rows.append(
            [
                f'<span class="swatch" style="background:{colors[r["route_id"]]}"></span>'
                f"<b>{_e(r['short_name'])}</b> {_e(r['long_name_ko'])}"
                f'<br><span class="en">{_e(r["long_name_en"])}</span>',
                _num(None if r["length_m"] is None else r["length_m"] / 1000, 2),
                _num(None if r["one_way_s"] is None else r["one_way_s"] / 60),
                _num(None if r["cycle_s"] is None else r["cycle_s"] / 60),
                _num(r["stops"]),
                _num(wk.get("vehicles")),
                " / ".join(_num(heads.get(p), 0) for p in PERIODS),
            ]
        )
    out.append(
        _table(
            [
                _bi("노선", "Route"),
                # both as the run-time bound: the slowest period, mean of the two directions
                _bi("길이(km, 양방향 평균)", "Length (km, mean of both ways)"),
                _bi("편도(분, 최대 혼잡 시간대)", "One way (min, slowest period)"),
                _bi("순환(분, 회차 대기 포함)", "Cycle (min, layovers included)"),
                _bi("정류장", "Stops"),
                _bi("평일 차량(노선 최대)", "Weekday buses (route's busiest period)"),
                _bi("평일 배차(분)", "Weekday headway (min)")
                + "<br><small>"
                + " / ".join(_bi(*_PERIOD[p]) for p in PERIODS)
                + "</small>",
            ],
            rows,
            "routes",
        )
    )
    out.append(
        '<p class="legend">'
        + _bi(
            "노선마다 가장 바쁜 시간대가 달라 노선별 차량의 합이 필요 차량보다 많을 수 있음",
            "the routes are busiest at different times of day, so their buses may add up to more "
            "than the buses needed",
        )
        + "</p>"
    )
    out.append(_roads_table(d))
    out.append(f"<h3>{_bi('차량·운행', 'Fleet and vehicle-hours')}</h3>")
    frows = []
    short = {r["route_id"]: r["short_name"] for r in d["routes"]}
    for f in d["fleet"]:
        frows.append(
            [
                # the route's number as the rider and the other tables know it
                f"<b>{_e(short.get(f['route_id'], f['route_id']))}</b>",
                _bi(*_DAY.get(f["service_id"], (f["service_id"],) * 2)),
                _num(f["vehicles"]),
                _num(f["trips"]),
                _num(f["vehicle_hours"]),
                *_split_cells(f),
                _num(f["vehicle_km"]),
            ]
        )
    for t in d["fleet_total"]:
        frows.append(
            [
                f"<b>{_bi('합계', 'Total')}</b>",
                _bi(*_DAY.get(t["service_id"], (t["service_id"],) * 2)),
                f"<b>{_num(t['vehicles'])}</b>",
                f"<b>{_num(t['trips'])}</b>",
                f"<b>{_num(t['vehicle_hours'])}</b>",
                *(f"<b>{c}</b>" for c in _split_cells(t)),
                f"<b>{_num(t['vehicle_km'])}</b>",
            ]
        )
    out.append(
        _table(
            [
                _bi("노선", "Route"),
                _bi("요일", "Day type"),
                _bi("차량", "Buses"),
                _bi("운행 횟수", "Trips"),
                _bi("차량-시간", "Vehicle-hours"),
                _bi("└ 영업", "└ revenue"),
                _bi("└ 회차 대기", "└ layover"),
                _bi("└ 공차 회송", "└ deadhead"),
                _bi("차량-km", "Vehicle-km"),
            ],
            frows,
            "fleet",
        )
    )
    out.append(_operations_html(d))
    needed = {t["service_id"]: int(t["vehicles"]) for t in d["fleet_total"]}
    out.append(report_figures.figures_html(d.get("figures", {}), colors, names, needed))
    out.append(report_figures.curve_html(d.get("budget_curve", []), d["scenario"]["name"]))
    out.append(report_existing.existing_html(d.get("existing", {}), colors, names))
    out.append(
        f"<p>{_bi('필요 차량 (최대 요일)', 'Buses needed (busiest day type)')}: "
        f"<b>{_num(d['peak_fleet'])}</b></p>"
    )
    out.append(f"<h3>{_bi('시간대별 출발 횟수', 'Departures per hour')}</h3>")
    legend = "".join(
        f'<span><span class="swatch" style="background:{colors[r["route_id"]]}"></span>'
        f"{_e(r['short_name'])}</span>"
        for r in d["routes"]
    )
    out.append(f'<p class="legend">{legend}</p>')
    for day in DAY_TYPES:
        svg = _chart(d, day, colors, names)
        if svg:
            out.append(f"<h4>{_bi(*_DAY[day])}</h4>{svg}")
    if d["coverage_by_district"]:
        out.append(f"<h3>{_bi('400 m 도보권 인구', 'Population within 400 m of a stop')}</h3>")
        crows = [
            [
                _bi(c["name_ko"], c["name_en"]),
                _num(c["covered"]),
                _num(c["population"]),
                _pct(c["share"]),
            ]
            for c in d["coverage_by_district"]
        ]
        crows.append([f"<b>{_bi('전체', 'All')}</b>", "", "", f"<b>{_pct(k['coverage'])}</b>"])
        out.append(
            _table(
                [
                    _bi("자치구", "District"),
                    _bi("도보권 인구", "Covered"),
                    _bi("인구", "Population"),
                    _bi("비율", "Share"),
                ],
                crows,
                "coverage",
            )
        )
    if d.get("anchor_stops"):
        out.append(f"<h3>{_bi('거점 정류장', 'Stops serving the anchors')}</h3>")
        arows = [
            [
                _bi(a["anchor_ko"], a["anchor_en"]),
                _bi(a["stop_ko"], a["stop_en"]) if a["stop_id"] else _bi("없음", "not served"),
                _e(a["ars"]) if a["ars"] else _bi("신설", "new") if a["stop_id"] else "–",
                _num(a["distance_m"], 0),
            ]
            for a in d["anchor_stops"]
        ]
        heads = [_bi("거점", "Anchor"), _bi("정류장", "Stop"), "ARS"]
        heads.append(_bi("거리(m)", "Distance (m)"))
        out.append(_table(heads, arows, "anchors"))
    if d["warnings"]:
        out.append(f'<h3>{_bi("경고", "Warnings")}</h3><ul class="warn">')
        out += [f"<li>{_e(w)}</li>" for w in d["warnings"]]
        out.append("</ul>")
    out.append("</section>")
    return "\n".join(out)


def _split_cells(f: dict[str, Any]) -> list[str]:
    return [_num(f.get(k)) for k in ("revenue_hours", "layover_hours", "deadhead_hours")]


def _operations_html(d: dict[str, Any]) -> str:
    """Passenger figures per period, depots and deadheads, driver shifts."""
    out = []
    if d.get("periods"):
        out.append(f"<h3>{_bi('시간대별 승객 지표', 'Passenger figures by period')}</h3>")
        rows = [
            [
                _bi(*_DAY.get(p["service_id"], (p["service_id"],) * 2)),
                _bi(*_PERIOD.get(p["period"], (p["period"],) * 2)),
                _num(p["att_min"]),
                _num(p["walk_min"]),
                _num(p["wait_min"]),
                _num(p["in_vehicle_min"]),
                _num(p["transfer_min"]),
                _num(p["d0"]),
            ]
            for p in d["periods"]
        ]
        head = [
            _bi("요일", "Day type"),
            _bi("시간대", "Period"),
            _bi("평균 통행(분)", "Travel (min)"),
            _bi("도보", "Walk"),
            _bi("대기", "Wait"),
            _bi("차내", "In vehicle"),
            _bi("환승 벌점", "Transfer penalty"),
            _bi("환승 없이(%)", "No transfer (%)"),
        ]
        out.append(_table(head, rows, "periods"))
    if d.get("depots"):
        out.append(f"<h3>{_bi('차고지와 공차 회송', 'Depots and deadheads')}</h3>")
        rows = []
        for dep in d["depots"]:
            for day in DAY_TYPES:
                moves = [
                    m
                    for m in d["deadheads"]
                    if m["depot_id"] == dep["depot_id"] and m["service_id"] == day
                ]
                if not moves:
                    continue
                rows.append(
                    [
                        _bi(dep["name_ko"], dep["name_en"]),
                        _bi(*_DAY.get(day, (day, day))),
                        _num(sum(m["kind"] == "pull_out" for m in moves)),
                        _num(sum(m["kind"] == "pull_in" for m in moves)),
                        _num(sum(m["end_s"] - m["start_s"] for m in moves) / 3600),
                        _num(sum(m["length_m"] for m in moves) / 1000),
                    ]
                )
        head = [
            _bi("차고지", "Depot"),
            _bi("요일", "Day type"),
            _bi("출고", "Pull-outs"),
            _bi("입고", "Pull-ins"),
            _bi("회송 시간", "Deadhead hours"),
            _bi("회송 km", "Deadhead km"),
        ]
        out.append(_table(head, rows, "depots"))
    if d.get("duties"):
        out.append(f"<h3>{_bi('운전원 근무 (추정)', 'Driver shifts (estimate)')}</h3>")
        rows = [
            [
                _bi(*_DAY.get(u["service_id"], (u["service_id"],) * 2)),
                _num(u["duties"]),
                _num(u["mean_h"]),
                _num(u["longest_h"]),
                _num(u["relief_points"]),
            ]
            for u in d["duties"]
        ]
        head = [
            _bi("요일", "Day type"),
            _bi("근무 수", "Shifts"),
            _bi("평균(시간)", "Mean (h)"),
            _bi("최장(시간)", "Longest (h)"),
            _bi("교대 지점", "Reliefs"),
        ]
        out.append(_table(head, rows, "duties"))
    return "\n".join(out)


def _kpi_rows(d: dict[str, Any]) -> list[tuple[str, str]]:
    k = d["kpis"]
    totals = {t["service_id"]: t for t in d["fleet_total"]}
    wk = totals.get("weekday", {})
    return [
        (_bi("노선 수", "Routes"), _num(k["routes"])),
        (_bi("정류장 수", "Stops"), _num(k["stops"])),
        (
            _bi("평균 통행시간(분, 평일 비첨두)", "Average travel time (min, weekday off-peak)"),
            _num(k["att_min"]),
        ),
        (_bi("└ 도보(분)", "└ walk (min)"), _num(k.get("walk_min"))),
        (_bi("└ 대기(분)", "└ wait (min)"), _num(k.get("wait_min"))),
        (_bi("└ 차내(분)", "└ in vehicle (min)"), _num(k.get("in_vehicle_min"))),
        (_bi("└ 환승 벌점(분)", "└ transfer penalty (min)"), _num(k.get("transfer_min"))),
        (
            _bi("정류장 접근 가능 수요(%)", "Demand with a stop in reach (%)"),
            _num(k.get("access_pct")),
        ),
        (_bi("환승 없이(%)", "No transfer (%)"), _num(k["d0"])),
        (_bi("1회 환승(%)", "One transfer (%)"), _num(k["d1"])),
        (_bi("2회 환승(%)", "Two transfers (%)"), _num(k["d2"])),
        (_bi("미처리(%)", "Unserved (%)"), _num(k["dun"])),
        (
            _bi("평일 차량-시간 (출고~입고)", "Weekday vehicle-hours (pull-out to pull-in)"),
            _num(wk.get("vehicle_hours")),
        ),
        (_bi("필요 차량", "Buses needed"), _num(d["peak_fleet"])),
        (_bi("400 m 도보권 인구 비율", "Population within 400 m"), _pct(k["coverage"])),
        (_bi("목적함수", "Objective"), _num(k["objective"], 3)),
        *report_figures.kpi_rows(d.get("figures", {})),
    ]


def _comparison(datas: Sequence[dict[str, Any]]) -> str:
    head = [_bi("지표", "Figure")] + [_e(d["scenario"]["name"]) for d in datas]
    per = [_kpi_rows(d) for d in datas]
    rows = [[per[0][i][0], *(p[i][1] for p in per)] for i in range(len(per[0]))]
    return (
        f'<section id="comparison"><h2>{_bi("시나리오 비교", "Scenario comparison")}</h2>'
        + _table(head, rows, "comparison")
        + "</section>"
    )


def _html(datas: Sequence[dict[str, Any]]) -> str:
    title_ko = "셔틀 노선 계획 보고서"
    title_en = "Shuttle plan report"
    names = ", ".join(d["scenario"]["name"] for d in datas)
    body = [
        f"<h1>{_bi(title_ko, title_en)}</h1>",
        f"<p>{_bi('시나리오', 'Scenarios')}: {_e(names)}</p>",
    ]
    if len(datas) > 1:
        body.append(_comparison(datas))
    body += [_plan_section(d) for d in datas]
    body.append(
        '<footer><p class="en">OpenStreetMap © OpenStreetMap contributors (ODbL); Seoul Open '
        "Data Plaza (KOGL Type 1); Statistics Korea SGIS via vuski/admdongkor; "
        "southkorea/seoul-maps.</p></footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="ko">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title_ko)} | {_e(title_en)}: {_e(names)}</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


# ----------------------------------------------------------------------------------------------
# files


def _first_non_finite(x: Any, where: str = "") -> tuple[str, float]:
    """The dotted path and value of the first NaN or infinite number in a JSON-like value."""
    if isinstance(x, float) and not math.isfinite(x):
        return where or "(top)", x
    seq = isinstance(x, list | tuple)
    items = x.items() if isinstance(x, dict) else enumerate(x) if seq else ()
    for k, v in items:
        got = _first_non_finite(v, f"{where}[{k}]" if isinstance(k, int) else f"{where}.{k}")
        if got[0]:
            return got
    return "", 0.0


def write_report(
    plans: Sequence[Plan],
    out_dir: str | os.PathLike[str],
    *,
    basename: str | None = None,
    curves: Mapping[str, Sequence[Any]] | None = None,
) -> tuple[Path, ...]:
    """Write the report of one or more plans as ``<basename>.report.html`` and ``.json``.

    Parameters
    ----------
    plans
        One plan, or several to compare (a comparison table comes first).
    out_dir
        Output folder, created if needed.
    basename
        File name stem; default the scenario name, or ``compare-<a>+<b>...`` for several.
    curves
        Scenario name -> the rows of its budget curve (:func:`shuttle.sweep.budget_curve`,
        computed by the caller): the report shows them as a plot and a table.

    Returns
    -------
    tuple of Path
        The HTML and the JSON file.

    Raises
    ------
    ExportError
        If no plan is given, two plans share a scenario name, the basename is unsafe, a route
        colour is invalid, or the folder cannot be written.
    """
    if not plans:
        msg = "No plan to report on; give at least one plan."
        raise ExportError(msg)
    names = [p.scenario.name for p in plans]
    if len(set(names)) != len(names):
        msg = f"Two plans share the scenario name {names!r}; give each scenario its own name."
        raise ExportError(msg)
    if basename is None:
        basename = names[0] if len(plans) == 1 else "compare-" + "+".join(names)
    if not re.fullmatch(r"[A-Za-z0-9_.+-]+", basename) or basename.startswith("."):
        msg = f"Report name {basename!r} must use only letters, digits and . _ + -."
        raise ExportError(msg)
    datas = [report_data(p, (curves or {}).get(p.scenario.name, ())) for p in plans]
    out = Path(out_dir)
    doc = {"format": REPORT_FORMAT, "plans": datas}
    # build both texts before writing either, so a failure leaves neither file behind
    page_text = _html(datas)
    try:
        js_text = json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True, allow_nan=False)
    except ValueError as e:
        where, value = _first_non_finite(doc)
        msg = f"Report {basename!r}: the figure {where} is {value} (not a finite number)."
        raise ExportError(msg) from e
    js = atomic_write_text(out / f"{basename}.report.json", js_text + "\n")
    page = atomic_write_text(out / f"{basename}.report.html", page_text)
    log.info("report written: %s, %s", page, js)
    return page, js
