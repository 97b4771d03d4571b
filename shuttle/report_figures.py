"""The report's budget sections: service plan, riders, loads, cost and its split, calibration.

:func:`figures_data` turns a plan's :class:`~shuttle.figures.PlanFigures` into JSON-ready data and
:func:`figures_html` into bilingual HTML (every name from data escaped; the load profiles are
inline SVG). Both are empty for a plan made without demand.
"""

from __future__ import annotations

from typing import Any

from .config import DISTRICTS
from .html_parts import bi as _bi
from .html_parts import esc as _e
from .html_parts import num as _n
from .html_parts import table as _table
from .model import Plan

__all__ = ["figures_data", "figures_html", "kpi_rows"]

_DAY = {
    "weekday": ("평일", "Weekday"),
    "saturday": ("토요일", "Saturday"),
    "sunday": ("일요일·공휴일", "Sunday/holiday"),
}
_PERIOD = {
    "peak": ("첨두", "Peak"),
    "offpeak": ("비첨두", "Off-peak"),
    "evening": ("저녁", "Evening"),
}


_L = {
    "dropped": (
        "예산 때문에 제외한 설계 노선",
        "Designed routes the budget drops",
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
}


def _gu(code: int) -> tuple[str, str]:
    if code == 0:
        return ("구역 밖", "outside the districts")
    return DISTRICTS.get(code, (str(code), str(code)))


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
    return {
        "service_plan": {
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
        f'<svg class="load" width="{width}" height="{height + bottom}" role="img" '
        f'aria-label="load profile">'
        f'<text x="0" y="12" font-size="10">{_n(top)}</text>{bars}'
        f'<line x1="{left}" x2="{width - 10}" y1="{y(cap):.1f}" y2="{y(cap):.1f}" '
        f'stroke="#c00" stroke-dasharray="4 2"/>'
        f'<text x="0" y="{height:.0f}" font-size="10">0</text></svg>'
    )


def figures_html(d: dict[str, Any], colors: dict[str, str], names: dict[str, str]) -> str:
    """Bilingual HTML of the budget sections (``colors``/``names`` by route id, escaped)."""
    if not d:
        return ""
    out = []
    sp = d["service_plan"]
    out.append(f"<h3>{_bi('예산과 운행 계획', 'Budget and service plan')}</h3>")
    fleet = ", ".join(
        f"{_bi(*_DAY[x['day']])} {x['buses']}" for x in sp["fleet_planned"] if x["day"] in _DAY
    )
    out.append(
        f"<p>{_bi('차량 예산', 'Fleet budget')}: {_n(sp['fleet_budget'])}; "
        f"{_bi('계획 차량(시간대 최대)', 'buses planned (busiest period)')}: {fleet}</p>"
    )
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
    if sp["overloaded"]:
        out.append(f'<p class="warn">{_bi(*_L["over"])}:</p>')
        out.append(
            _table(
                [
                    _bi("노선", "Route"),
                    _bi("요일", "Day"),
                    _bi("시간대", "Period"),
                    _bi("최대 재차인원(명/시)", "Busiest load (riders/h)"),
                    _bi("수송력(명/시)", "Capacity (riders/h)"),
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
                    _bi("수송력(명/시)", "Capacity/h"),
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
