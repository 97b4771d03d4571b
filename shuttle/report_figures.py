"""The report's budget sections: service plan, riders, loads, cost and its split, calibration.

:func:`figures_data` turns a plan's :class:`~shuttle.figures.PlanFigures` into JSON-ready data and
:func:`figures_html` into bilingual HTML (every name from data escaped; the load profiles are
inline SVG). Both are empty for a plan made without demand.

The budget curve: :class:`SweepRow` holds the figures of one scenario variant (a row of
``shuttle sweep``, :mod:`shuttle.sweep`); :func:`budget_curve_svg` draws riders, ATT, coverage and
cost against the fleet budget as a small self-contained SVG (no plotting library, byte-stable for
the same rows). :func:`curve_data` and :func:`curve_html` put the rows of the scenario's
``budget.curve_fleets`` in the report: that SVG and a table, infeasible budgets with their reason.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import budget, html_parts
from .config import DAY_TYPES, DISTRICTS
from .errors import ConfigError
from .html_parts import bi as _bi
from .html_parts import esc as _e
from .html_parts import num as _n
from .html_parts import table as _table
from .model import Plan

__all__ = [
    "SweepRow",
    "budget_curve_svg",
    "curve_data",
    "curve_html",
    "figures_data",
    "figures_html",
    "fleet_html",
    "kpi_rows",
]

_DAY = html_parts.DAY_LABELS
_PERIOD = html_parts.PERIOD_LABELS


_L = {
    "dropped": (
        "예산 때문에 제외한 설계 노선",
        "Designed routes the budget drops",
    ),
    "needed": (
        "최대 요일의 시간표에서 동시에 운행하는 최대 차량, 차고지 출입고와 시간대 전환 포함",
        "the most buses out at once in the busiest day type's timetable, pull-outs from the "
        "depots and period changes included",
    ),
    "derive": (
        "시간대 최대 배차 차량: 운행 계획의 배차간격으로 가장 바쁜 시간대에 운행하는 차량(노선별 "
        "순환시간 ÷ 배차간격의 합); 나머지는 차고지 출입고와 시간대가 바뀔 때 겹치는 차량",
        "in service, busiest period: the buses the service plan's headways keep running in the "
        "day's busiest period (each route's cycle over its headway, summed); the rest are buses "
        "on their way from and to the depots and the overlap when the headways change",
    ),
    "over": (
        "예산으로 수송력이 부족한 구간",
        "Loads the budget cannot carry at the target load factor",
    ),
    "profile": (
        "정류장별 재차인원(명/시), 빨간 선은 수송력",
        "riders on board per hour after each stop; the red line is the capacity",
    ),
    "rank": (
        "행정동별 모형 통행 끝과 2022년 관측 승하차의 순위상관",
        "rank correlation of the model trip ends and the observed 2022 boardings by dong",
    ),
    "pandemic": (
        "관측치는 코로나 기간 자료로 분포만 비교",
        "the counts are pandemic-era: only their pattern is compared",
    ),
    "ppe": (
        "첨두/비첨두/저녁",
        "peak/off-peak/evening",
    ),
    "periods": (
        "시간대: 요일별 운행 시간을 나눈 구간(수요와 배차간격을 시간대별로 계획)",
        "Periods: the parts of each day type's service hours (demand and headways are planned "
        "period by period)",
    ),
    "competition": (
        "기존 버스·지하철과 함께 배정한 이용자; 기존 노선만 이용하는 통행",
        "riders assigned with the existing buses and metro as competition; trips riding only "
        "the existing lines",
    ),
    "curve": (
        "같은 설계 노선을 차량 예산마다 다시 계획한 결과 (shuttle sweep --set budget.fleet=...)",
        "the same designed routes planned again at each fleet budget, as shuttle sweep "
        "--set budget.fleet=... does",
    ),
}


def _gu(code: int) -> tuple[str, str]:
    if code == 0:
        return ("구역 밖", "outside the districts")
    return DISTRICTS.get(code, (str(code), str(code)))


def periods_html(periods: Sequence[dict[str, Any]]) -> str:
    """The table of when each period runs on each day type (``service_plan.periods``)."""
    if not periods:
        return ""

    def cell(wins: Sequence[Sequence[str]]) -> str:
        return _e(", ".join(f"{a}–{b}" for a, b in wins) or "–")

    rows = [
        [
            " · ".join(_bi(*_DAY.get(d, (d, d))) for d in x["days"]),
            cell([x["span"]]),
            *(cell(x["windows"].get(p, [])) for p in ("peak", "offpeak", "evening")),
        ]
        for x in periods
    ]
    head = [
        _bi("요일", "Day type"),
        _bi("운행 시간", "Service hours"),
        *(_bi(*_PERIOD[p]) for p in ("peak", "offpeak", "evening")),
    ]
    return f"<p>{_bi(*_L['periods'])}:</p>" + _table(head, rows, "period-windows")


def figures_data(plan: Plan) -> dict[str, Any]:
    """JSON-ready figures of the budget sections (empty without demand)."""
    f = plan.figures
    if f is None:
        return {}
    names = {s.stop_id: (s.name_ko, s.name_en) for s in plan.stops}
    sp = f.service
    loads = []
    profiles = []
    for r in f.ridership:
        for per in r.periods:
            for ld in per.loads:
                loads.append(
                    {
                        "day": r.day_type,
                        "period": per.period,
                        "route_id": ld.route_id,
                        "direction_id": ld.direction_id,
                        "boardings_per_hour": sum(ld.boardings),
                        "max_load_per_hour": ld.max_load,
                        "max_load_stop_ko": names.get(ld.max_load_stop, ("", ""))[0],
                        "max_load_stop_en": names.get(ld.max_load_stop, ("", ""))[1],
                        "capacity_per_hour": ld.capacity_per_hour,
                        "load_factor": ld.load_factor,
                    }
                )
                if r.day_type == "weekday" and per.period == "peak":
                    profiles.append(
                        {
                            "route_id": ld.route_id,
                            "direction_id": ld.direction_id,
                            "stops_ko": [names.get(s, ("", ""))[0] for s in ld.stop_ids],
                            "load": list(ld.load),
                            "capacity_per_hour": ld.capacity_per_hour,
                        }
                    )
    c = f.cost
    planned = {d for d, _ in sp.fleet}
    days = [d for d in DAY_TYPES if d in planned]
    svc = plan.scenario.service
    return {
        "service_plan": {
            # when the periods are on each day type: the windows the planner split the demand
            # by and the map's stop popups state (shuttle.budget.period_times)
            "periods": [
                {
                    "days": list(group),
                    # the days of a group have the same windows, so the same span
                    "span": [
                        budget.clock(svc.day(group[0]).start_s),
                        budget.clock(svc.day(group[0]).end_s),
                    ],
                    "windows": {
                        p: [[budget.clock(a), budget.clock(b)] for a, b in w]
                        for p, w in wins.items()
                    },
                }
                for group, wins in budget.period_times(svc, days)
            ],
            "kept": list(sp.kept),
            "dropped": [{"route_id": r, "why": w} for r, w in sp.dropped],
            "fleet_budget": plan.scenario.budget.fleet,
            "fleet_planned": [{"day": d, "buses": b} for d, b in sp.fleet],
            "headways": [
                {"route_id": r, "day": d, "period": p, "minutes": h / 60.0}
                for r, d, p, h in sp.headways_s
            ],
            "overloaded": [
                {"route_id": r, "day": d, "period": p, "load_per_hour": a, "capacity_per_hour": b}
                for r, d, p, a, b in sp.overloaded
            ],
            "decisions": list(sp.decisions),
        },
        "riders": {
            "by_day": [
                {
                    "day": r.day_type,
                    "demand": r.demand,
                    "riders": r.riders,
                    "boardings": r.boardings,
                    "peak_hour_riders": r.peak_hour_riders,
                    # trips riding only the existing lines (0 when the shuttle was assigned alone)
                    "existing_only": sum(p.existing_only for p in r.periods),
                }
                for r in f.ridership
            ],
            "weekday_half_trip_rate": f.riders_low,
            "weekday_double_trip_rate": f.riders_high,
            "annual": f.annual_riders,
            "trip_rate": plan.scenario.demand.trip_rate,
            "day_factors": dict(plan.scenario.demand.day_factors),
            "profile": list(f.profile),
            "profile_source": f.profile_source,
        },
        "loads": loads,
        "load_profiles": profiles,
        "cost": {
            "price_year": c.price_year,
            "running_krw": c.running_krw,
            "distance_krw": c.distance_krw,
            "holding_krw": c.holding_krw,
            "total_krw": c.total_krw,
            "fleet": c.fleet,
            "service_days": c.service_days,
            "per_rider_krw": f.cost_per_rider_krw,
            "fare_revenue_krw": f.fare_revenue_krw,
            "net_per_rider_krw": f.net_cost_per_rider_krw,
            "split_by_km": {str(g): v for g, v in f.split_by_km},
            "split_by_boardings": {str(g): v for g, v in f.split_by_boardings},
            "km_by_district": {str(g): v for g, v in f.km_by_district},
            "boardings_by_district": {str(g): v for g, v in f.boardings_by_district},
        },
        "calibration": None
        if f.calibration is None
        else {
            "zones": f.calibration.zones,
            "spearman": f.calibration.spearman,
            "observed_total": f.calibration.observed_total,
            "model_total": f.calibration.model_total,
        },
    }


def kpi_rows(d: dict[str, Any]) -> list[tuple[str, str]]:
    """Headline rows for the network-figures and comparison tables."""
    if not d:
        return []
    wk = next((r for r in d["riders"]["by_day"] if r["day"] == "weekday"), None)
    c = d["cost"]
    return [
        (_bi("평일 이용자(통행/일)", "Weekday riders (trips/day)"), _n(wk and wk["riders"])),
        (
            _bi("연간 운영비(원)", f"Annual operating cost (KRW, {c['price_year']} prices)"),
            _n(c["total_krw"]),
        ),
        (_bi("이용자당 비용(원)", "Cost per rider (KRW)"), _n(c["per_rider_krw"])),
    ]


def _profile_svg(p: dict[str, Any], color: str) -> str:
    """Load along a route direction (riders per hour after each stop) against its capacity."""
    load = p["load"]
    if not load:
        return ""
    cap = p["capacity_per_hour"]
    top = max(max(load), cap, 1.0) * 1.1
    bw, left, height, bottom = 14, 40, 120, 16
    width = left + len(load) * bw + 10
    y = lambda v: height - v / top * (height - 10)  # noqa: E731
    bars = "".join(
        f'<rect x="{left + i * bw}" y="{y(v):.1f}" width="{bw - 2}" '
        f'height="{height - y(v):.1f}" fill="{color}"><title>{_e(p["stops_ko"][i])}: '
        f"{v:.0f}</title></rect>"
        for i, v in enumerate(load)
    )
    return (
        f'<svg class="load" width="{width}" height="{height + bottom}" '
        f'viewBox="0 0 {width} {height + bottom}" role="img" aria-label="load profile">'
        f'<text x="0" y="12" font-size="10">{_n(top)}</text>{bars}'
        f'<line x1="{left}" x2="{width - 10}" y1="{y(cap):.1f}" y2="{y(cap):.1f}" '
        f'stroke="#c00" stroke-dasharray="4 2"/>'
        f'<text x="0" y="{height:.0f}" font-size="10">0</text></svg>'
    )


def fleet_html(sp: dict[str, Any], needed: Mapping[str, int]) -> str:
    """The fleet budget, the one fleet figure (the timetable's) and how it derives from the plan.

    ``needed`` maps each day type to the timetable's buses (the most out at once, pull-out to
    pull-in); the fleet to fund is the busiest day type's. The service plan's figure (route
    cycles over the headways of the day's busiest period) is shown as its part, and the rest as
    the buses pull-outs and period changes add, so the two never read as two fleets.
    """
    days = [x for x in sp["fleet_planned"] if x["day"] in _DAY and x["day"] in needed]
    total = max(needed.values(), default=None)
    head = (
        f"<p>{_bi('차량 예산(대)', 'Fleet budget (buses)')}: {_n(sp['fleet_budget'])}; "
        f"{_bi('필요 차량(대)', 'buses needed')}: <b>{_n(total)}</b> "
        f"<small>({_bi(*_L['needed'])})</small></p>"
    )
    if not days:
        return head
    rows = [
        [
            _bi(*_DAY[x["day"]]),
            f"<b>{_n(needed[x['day']])}</b>",
            _n(x["buses"]),
            _n(needed[x["day"]] - x["buses"]),
        ]
        for x in days
    ]
    cols = [
        _bi("요일", "Day type"),
        _bi("필요 차량", "Buses needed"),
        _bi("= 시간대 최대 배차 차량", "= in service, busiest period"),
        _bi("+ 출입고·시간대 전환", "+ pull-outs, period changes"),
    ]
    return head + _table(cols, rows, "fleet-derive") + f"<p><small>{_bi(*_L['derive'])}</small></p>"


def figures_html(
    d: dict[str, Any],
    colors: dict[str, str],
    names: dict[str, str],
    needed: Mapping[str, int] | None = None,
) -> str:
    """Bilingual HTML of the budget sections (``colors``/``names`` by route id, escaped).

    ``needed``: day type -> the timetable's buses (:func:`fleet_html`); None: the service plan's
    own figures stand for them.
    """
    if not d:
        return ""
    out = []
    sp = d["service_plan"]
    out.append(f"<h3>{_bi('예산과 운행 계획', 'Budget and service plan')}</h3>")
    if needed is None:
        needed = {x["day"]: x["buses"] for x in sp["fleet_planned"]}
    out.append(fleet_html(sp, needed))
    if sp["dropped"]:
        out.append(f"<p>{_bi(*_L['dropped'])}:</p>")
        out.append(
            "<ul>"
            + "".join(f"<li>{_e(x['route_id'])}: {_e(x['why'])}</li>" for x in sp["dropped"])
            + "</ul>"
        )
    rows = []
    for rid in sorted({h["route_id"] for h in sp["headways"]}):
        cells = [
            f'<span style="color:{colors.get(rid, "#000")}">■</span> {_e(names.get(rid, rid))}'
        ]
        for day in ("weekday", "saturday", "sunday"):
            per = {
                h["period"]: h["minutes"]
                for h in sp["headways"]
                if h["route_id"] == rid and h["day"] == day
            }
            cells.append(" / ".join(_n(per.get(p), 0) for p in ("peak", "offpeak", "evening")))
        rows.append(cells)
    head = [_bi("노선", "Route")] + [
        f"{_bi(*_DAY[d_])} <small>({_bi(*_L['ppe'])}, min)</small>"
        for d_ in ("weekday", "saturday", "sunday")
    ]
    out.append(_table(head, rows, "headways"))
    out.append(periods_html(sp.get("periods", [])))
    if sp["overloaded"]:
        out.append(f'<p class="warn">{_bi(*_L["over"])}:</p>')
        out.append(
            _table(
                [
                    _bi("노선", "Route"),
                    _bi("요일", "Day"),
                    _bi("시간대", "Period"),
                    _bi("최대 재차인원(명/시)", "Busiest load (riders/h)"),
                    # the planner's capacity: full buses times the target load factor
                    _bi("목표 재차율 수송력(명/시)", "Capacity at the target load (riders/h)"),
                ],
                [
                    [
                        _e(names.get(o["route_id"], o["route_id"])),
                        _bi(*_DAY[o["day"]]),
                        _bi(*_PERIOD[o["period"]]),
                        _n(o["load_per_hour"]),
                        _n(o["capacity_per_hour"]),
                    ]
                    for o in sp["overloaded"]
                ],
                "overloaded",
            )
        )
    r = d["riders"]
    out.append(f"<h3>{_bi('이용자', 'Riders')}</h3>")
    out.append(
        _table(
            [
                _bi("요일", "Day"),
                _bi("셔틀 통행 수요(일)", "Trips (demand, per day)"),
                _bi("이용자(통행/일)", "Riders (trips/day)"),
                _bi("승차(일)", "Boardings/day"),
                _bi("최대 시간 이용자", "Riders in the busiest hour"),
            ],
            [
                [
                    _bi(*_DAY[x["day"]]),
                    _n(x["demand"]),
                    _n(x["riders"]),
                    _n(x["boardings"]),
                    _n(x["peak_hour_riders"]),
                ]
                for x in r["by_day"]
                if x["day"] in _DAY
            ],
            "riders",
        )
    )
    other = next((x.get("existing_only", 0.0) for x in r["by_day"] if x["day"] == "weekday"), 0.0)
    if other > 0:
        out.append(
            f"<p>{_bi(*_L['competition'])}: {_n(other)} "
            f"{_bi('통행/평일', 'trips per weekday')}.</p>"
        )
    out.append(
        f"<p>{_bi('통행 발생률', 'Trip rate')} {_e(r['trip_rate'])} "
        f"({_bi('가정', 'an assumption')}): {_bi('절반이면', 'halved')} "
        f"{_n(r['weekday_half_trip_rate'])}, {_bi('두 배면', 'doubled')} "
        f"{_n(r['weekday_double_trip_rate'])} {_bi('평일 이용자', 'weekday riders')}; "
        f"{_bi('연간', 'per year')} {_n(r['annual'])}. "
        f"{_bi('시간대 분포', 'Hourly profile')}: {_e(r['profile_source'])}.</p>"
    )
    peak = [x for x in d["loads"] if x["day"] == "weekday" and x["period"] == "peak"]
    if peak:
        out.append(f"<h3>{_bi('평일 첨두 재차인원', 'Weekday peak loads')}</h3>")
        out.append(
            _table(
                [
                    _bi("노선", "Route"),
                    _bi("방향", "Direction"),
                    _bi("승차(명/시)", "Boardings/h"),
                    _bi("최대 재차(명/시)", "Busiest load/h"),
                    _bi("최대 재차 정류장", "Busiest after stop"),
                    _bi("정원 수송력(명/시)", "Capacity/h, full buses"),
                    _bi("재차율", "Load factor"),
                ],
                [
                    [
                        _e(names.get(x["route_id"], x["route_id"])),
                        _e(x["direction_id"]),
                        _n(x["boardings_per_hour"]),
                        _n(x["max_load_per_hour"]),
                        _bi(x["max_load_stop_ko"], x["max_load_stop_en"]),
                        _n(x["capacity_per_hour"]),
                        f"{100 * x['load_factor']:.0f}%",
                    ]
                    for x in peak
                ],
                "loads",
            )
        )
        for p in d["load_profiles"]:
            out.append(
                f"<figure><figcaption>{_e(names.get(p['route_id'], p['route_id']))} "
                f"({_bi('방향', 'direction')} {_e(p['direction_id'])}): "
                f"{_bi(*_L['profile'])}"
                f"</figcaption>{_profile_svg(p, colors.get(p['route_id'], '#555'))}</figure>"
            )
    c = d["cost"]
    out.append(f"<h3>{_bi('운영비와 분담', 'Operating cost and its split')}</h3>")
    out.append(
        _table(
            [_bi("항목", "Item"), _bi("원/년", "KRW/year")],
            [
                [_bi("운행비(차량시간)", "Running (vehicle-hours)"), _n(c["running_krw"])],
                [_bi("거리비(차량km)", "Distance (vehicle-km)"), _n(c["distance_krw"])],
                [_bi("보유비(차량)", f"Holding ({c['fleet']} buses)"), _n(c["holding_krw"])],
                [_bi("합계", "Total"), _n(c["total_krw"])],
                [_bi("운임 수입", "Fare revenue"), _n(c["fare_revenue_krw"])],
                [_bi("이용자당 비용", "Cost per rider"), _n(c["per_rider_krw"])],
                [_bi("이용자당 순비용", "Net cost per rider"), _n(c["net_per_rider_krw"])],
            ],
            "cost",
        )
    )
    out.append(
        f"<p>{_bi('단가 기준', 'Unit costs')}: {_e(c['price_year'])} "
        f"{_bi('서울 표준운송원가', 'Seoul standard transport cost')}.</p>"
    )
    gus = sorted(set(c["split_by_km"]) | set(c["split_by_boardings"]))
    out.append(
        _table(
            [
                _bi("자치구", "District"),
                _bi("운행 km(년)", "Vehicle-km/year"),
                _bi("km 기준 분담(원)", "Share by km (KRW)"),
                _bi("승차(년)", "Boardings/year"),
                _bi("승차 기준 분담(원)", "Share by boardings (KRW)"),
            ],
            [
                [
                    _bi(*_gu(int(g))),
                    _n(c["km_by_district"].get(g)),
                    _n(c["split_by_km"].get(g)),
                    _n(c["boardings_by_district"].get(g)),
                    _n(c["split_by_boardings"].get(g)),
                ]
                for g in gus
            ],
            "split",
        )
    )
    cal = d.get("calibration")
    if cal:
        out.append(
            f"<p>{_bi('수요 모형 검증', 'Demand model check')}: "
            f"{_bi(*_L['rank'])} "
            f"(Spearman) {_n(cal['spearman'], 2)} ({cal['zones']} "
            f"{_bi('개 동', 'dongs')}); "
            f"{_bi(*_L['pandemic'])}.</p>"
        )
    return "\n".join(out)


@dataclass(frozen=True, slots=True)
class SweepRow:
    """The figures of one scenario variant (all None but ``variant`` and ``error`` if it failed).

    ``att_min`` and the ``d*`` shares are the weekday off-peak figures with the headways the
    timetable runs; ``coverage`` is the share (0..1) of the districts' residents within the
    catchment of the stops of the routes kept; costs are KRW a year at the ``[cost]`` prices.
    """

    variant: str  # e.g. "nw3-v1[budget.fleet=10]"
    fleet_budget: int | None = None  # budget.fleet of the variant (None: no fleet budget)
    fleet_used: int | None = None  # peak fleet of the timetable (busiest day type)
    routes: int | None = None  # routes designed
    routes_kept: int | None = None  # routes the budget runs
    stops: int | None = None  # stops of the routes kept
    weekday_riders: float | None = None  # riders per weekday
    annual_riders: float | None = None
    att_min: float | None = None
    coverage: float | None = None
    annual_cost_krw: int | None = None
    cost_per_rider_krw: float | None = None
    objective: float | None = None  # the designer's objective (lower is better)
    d0: float | None = None
    d1: float | None = None
    d2: float | None = None
    dun: float | None = None
    vehicle_hours: float | None = None  # weekday, from the timetable's blocks
    error: str = ""  # first line of the error of an infeasible variant

    @property
    def ok(self) -> bool:
        """True if the variant was planned (no error)."""
        return not self.error


# ---------------------------------------------------------------------------------- budget curve

#: The panels of the budget curve: row field, Korean and English label, scale, decimals, from 0.
_PANELS = (
    ("weekday_riders", "평일 이용객 (명/일)", "Weekday riders (per day)", 1.0, 0, True),
    ("att_min", "평균 통행시간 (분, 평일 비첨두)", "ATT, weekday off-peak (min)", 1.0, 1, False),
    ("coverage", "인구 커버리지 (%)", "Coverage (% of residents)", 100.0, 1, True),
    ("annual_cost_krw", "연간 운영비 (억 원)", "Annual cost (100 M KRW)", 1e-8, 1, True),
)
_COLOURS = ("#1b6ac9", "#d9480f", "#2b8a3e", "#862e9c", "#5f3dc4", "#c2255c")
_ML, _MT, _GAP_X, _GAP_Y = 64, 96, 84, 100  # left margin, top margin, gaps between panels (px)
_PW, _PH, _PAD = 320, 200, 16  # panel plot width and height, inner margin left and right
_W = _ML + 2 * _PW + _GAP_X + 24  # figure width


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _num(v: float) -> str:
    """A coordinate with one decimal and no negative zero (byte-stable)."""
    out = f"{v:.1f}"
    return "0.0" if out == "-0.0" else out


def _nice_ticks(lo: float, hi: float, from_zero: bool) -> list[float]:
    """Four or five round tick values (1, 2 or 5 times a power of ten) spanning lo..hi."""
    if from_zero:
        lo = min(lo, 0.0)
    if hi - lo < 1e-9:
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = (lo if from_zero else lo - pad), hi + pad
    raw = (hi - lo) / 4.0
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * mag >= raw)
    start = math.floor(lo / step + 1e-9) * step
    ticks = []
    t = start
    while t < hi + step - 1e-9:
        ticks.append(round(t, 10))
        t += step
        if len(ticks) > 12:
            break
    return ticks


def _tick_label(v: float, step: float) -> str:
    decimals = next((d for d in range(4) if abs(step * 10**d - round(step * 10**d)) < 1e-6), 3)
    return f"{v:,.{decimals}f}"


def budget_curve_svg(
    rows: Sequence[SweepRow],
    *,
    title: str = "",
    series: Sequence[str] | None = None,
) -> str:
    """Draw riders, ATT, coverage and annual cost against the fleet budget as an SVG document.

    Parameters
    ----------
    rows
        Sweep rows with a ``fleet_budget`` (rows without one are left out); a failed row is
        marked with a cross in its line's colour on the budget axis of every panel.
    title
        The scenario's title for the heading (escaped).
    series
        One label per row naming its other grid settings; rows with the same label make one
        line. None: one line.

    Raises
    ------
    ConfigError
        If no row has a fleet budget, or ``series`` does not match the rows.
    """
    labels = list(series) if series is not None else [""] * len(rows)
    if len(labels) != len(rows):
        msg = f"budget curve: {len(labels)} series labels for {len(rows)} rows"
        raise ConfigError(msg)
    pts = [(r, lab) for r, lab in zip(rows, labels, strict=True) if r.fleet_budget is not None]
    if not pts:
        msg = "budget curve: no row has a fleet budget; sweep budget.fleet (--set budget.fleet=...)"
        raise ConfigError(msg)
    names = sorted({lab for _, lab in pts})
    xs = sorted({int(r.fleet_budget) for r, _ in pts if r.fleet_budget is not None})
    x_lo, x_hi = xs[0], xs[-1]
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    legend_h = 20 * (len(names) if len(names) > 1 else 0)
    height = _MT + 2 * _PH + _GAP_Y + 50 + legend_h + (10 if legend_h else 0)
    heading = "차량 예산별 효과 · Budget curve" + (f": {title}" if title else "")
    out = [
        '<svg xmlns="http://www.w3.org/2000/svg" '
        f'width="{_W}" height="{height}" viewBox="0 0 {_W} {height}" role="img" '
        f'aria-label="{_esc(heading)}" font-family="sans-serif" font-size="11">',
        f"<title>{_esc(heading)}</title>",
        f'<rect x="0" y="0" width="{_W}" height="{height}" fill="#ffffff"/>',
        f'<text x="{_ML}" y="24" font-size="15" font-weight="bold">{_esc(heading)}</text>',
        f'<text x="{_ML}" y="42" fill="#555555">'
        + _esc("가로축: 차량 예산 (대, budget.fleet) · x: fleet budget (buses); "
               "× 운행 불가 · infeasible")
        + "</text>",
    ]  # fmt: skip
    failed = sorted(
        {(names.index(lab), int(r.fleet_budget)) for r, lab in pts if not r.ok and r.fleet_budget}
    )
    for i, (field, ko, en, scale, dec, zero) in enumerate(_PANELS):
        px = _ML + (i % 2) * (_PW + _GAP_X)
        py = _MT + (i // 2) * (_PH + _GAP_Y)
        vals = [
            float(getattr(r, field)) * scale
            for r, _ in pts
            if r.ok and getattr(r, field) is not None
        ]
        ticks = _nice_ticks(min(vals, default=0.0), max(vals, default=1.0), zero)
        y_lo, y_hi = ticks[0], ticks[-1]
        step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0

        def X(v: float, px: float = px) -> float:
            return px + _PAD + (v - x_lo) / (x_hi - x_lo) * (_PW - 2 * _PAD)

        def Y(v: float, py: float = py, y_lo: float = y_lo, y_hi: float = y_hi) -> float:
            return py + _PH - (v - y_lo) / (y_hi - y_lo) * _PH

        out.append(f'<g class="panel" data-field="{_esc(field)}">')
        out.append(f'<text x="{_num(px)}" y="{_num(py - 22)}" font-weight="bold">{_esc(ko)}</text>')
        out.append(f'<text x="{_num(px)}" y="{_num(py - 8)}" fill="#555555">{_esc(en)}</text>')
        for t in ticks:
            y = _num(Y(t))
            out.append(
                f'<line x1="{_num(px)}" y1="{y}" x2="{_num(px + _PW)}" y2="{y}" stroke="#e5e5e5"/>'
            )
            out.append(
                f'<text x="{_num(px - 6)}" y="{_num(Y(t) + 4)}" text-anchor="end">'
                f"{_esc(_tick_label(t, step))}</text>"
            )
        for x in xs:
            out.append(
                f'<text x="{_num(X(x))}" y="{_num(py + _PH + 16)}" text-anchor="middle">{x}</text>'
            )
        out.append(
            f'<text x="{_num(px + _PW / 2)}" y="{_num(py + _PH + 34)}" text-anchor="middle" '
            f'fill="#555555">{_esc("차량 예산 (대) · Fleet budget (buses)")}</text>'
        )
        out.append(
            f'<rect x="{_num(px)}" y="{_num(py)}" width="{_PW}" height="{_PH}" fill="none" '
            'stroke="#999999"/>'
        )
        for j, name in enumerate(names):
            colour = _COLOURS[j % len(_COLOURS)]
            line = sorted(
                (int(r.fleet_budget), float(getattr(r, field)) * scale)
                for r, lab in pts
                if lab == name and r.ok and getattr(r, field) is not None and r.fleet_budget
            )
            if len(line) > 1:
                coords = " ".join(f"{_num(X(a))},{_num(Y(b))}" for a, b in line)
                out.append(
                    f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>'
                )
            for a, b in line:
                value = f"{b:,.{dec}f}"
                out.append(
                    f'<circle cx="{_num(X(a))}" cy="{_num(Y(b))}" r="3.5" fill="{colour}">'
                    f"<title>{_esc(f'{name} ' if name else '')}{a}: {_esc(value)}</title></circle>"
                )
        for j, x in failed:  # a cross in the colour of the line whose budget is infeasible
            cx, cy = X(x), py + _PH - 6 * j
            out.append(
                f'<path d="M{_num(cx - 5)},{_num(cy - 5)} L{_num(cx + 5)},{_num(cy + 5)} '
                f'M{_num(cx - 5)},{_num(cy + 5)} L{_num(cx + 5)},{_num(cy - 5)}" '
                f'stroke="{_COLOURS[j % len(_COLOURS)]}" stroke-width="2"/>'
            )
        out.append("</g>")
    if len(names) > 1:
        ly = _MT + 2 * _PH + _GAP_Y + 54
        for j, name in enumerate(names):
            colour = _COLOURS[j % len(_COLOURS)]
            yj = ly + 20 * j
            out.append(
                f'<line x1="{_ML}" y1="{yj}" x2="{_ML + 24}" y2="{yj}" stroke="{colour}" '
                'stroke-width="2"/>'
            )
            out.append(f'<text x="{_ML + 30}" y="{yj + 4}">{_esc(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------- report curve

#: The fields of a curve row the report keeps (the SVG's and the table's).
_CURVE_FIELDS = (
    "variant",
    "fleet_budget",
    "fleet_used",
    "routes",
    "routes_kept",
    "weekday_riders",
    "att_min",
    "coverage",
    "annual_cost_krw",
    "cost_per_rider_krw",
    "error",
)


def curve_data(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """JSON-ready rows of the budget curve (:class:`SweepRow` s), one per fleet budget."""
    return [{f: getattr(r, f) for f in _CURVE_FIELDS} for r in rows]


def curve_html(rows: Sequence[dict[str, Any]], title: str = "") -> str:
    """The budget curve of :func:`curve_data` rows: the SVG and a table (empty without rows)."""
    if not rows:
        return ""
    objs = [SweepRow(**r) for r in rows]
    svg = budget_curve_svg(objs, title=title) if any(o.fleet_budget for o in objs) else ""
    body = []
    why = []  # the reasons of the infeasible budgets, listed under the table (a phone's width)
    for r in rows:
        if r["error"]:
            body.append(
                [
                    _n(r["fleet_budget"]),
                    f'<span class="warn">{_bi("운행 불가", "infeasible")}</span> '
                    f"<small>({_bi('사유는 표 아래', 'reason below the table')})</small>",
                    *(["–"] * 5),
                ]
            )
            why.append(
                f"<li>{_bi('차량 예산', 'Fleet budget')} {_n(r['fleet_budget'])}: "
                f"{_e(r['error'])}</li>"
            )
            continue
        cov = r["coverage"]
        body.append(
            [
                _n(r["fleet_budget"]),
                f"{_n(r['routes_kept'])} / {_n(r['routes'])}",
                _n(r["fleet_used"]),
                _n(r["weekday_riders"]),
                _n(r["att_min"], 1),
                "–" if cov is None else f"{100 * cov:.1f}%",
                _n(r["annual_cost_krw"]),
            ]
        )
    head = [
        _bi("차량 예산(대)", "Fleet budget (buses)"),
        _bi("운행 노선/설계 노선", "Routes kept / designed"),
        _bi("사용 차량(대)", "Fleet used"),
        _bi("평일 이용자(통행/일)", "Riders per weekday"),
        _bi("평균 통행시간(분, 평일 비첨두)", "ATT, weekday off-peak (min)"),
        _bi("인구 커버리지", "Coverage (residents)"),
        _bi("연간 운영비(원)", "Annual cost (KRW)"),
    ]
    return (
        f'<section class="budget-curve"><h3>{_bi("차량 예산별 효과", "Budget curve")}</h3>'
        f"<p>{_bi(*_L['curve'])}</p>"
        f'<figure class="curve">{svg}</figure>'
        + _table(head, body, "budget-curve")
        + (f'<ul class="infeasible">{"".join(why)}</ul>' if why else "")
        + "</section>"
    )
