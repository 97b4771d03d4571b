"""The report's existing-network section: before/after, overlap, example trips.

:func:`existing_data` turns a plan's :class:`~shuttle.existing.ExistingFigures` (``plan.existing``)
into JSON-ready data and :func:`existing_html` into bilingual HTML (every name from data escaped).
A plan made without the step has no section; a plan whose existing network could not be built
has a section that says why.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import html_parts
from .config import DISTRICTS
from .existing import gain_by_zone
from .html_parts import bi as _bi
from .html_parts import esc as _e
from .html_parts import num as _n
from .html_parts import table as _table
from .model import Plan

__all__ = ["existing_data", "existing_html", "gain_by_zone"]

_PERIOD = html_parts.PERIOD_LABELS
_L = {
    "none": ("기존 노선망 비교 없음", "No comparison with the existing network"),
    "how": (
        "최적전략 배정, 하루 통행을 각 시간대 운행으로",
        "optimal-strategies assignment of the daily trips at each period's service",
    ),
    "dong": ("동별 평균 단축(비첨두, 상위 10)", "Mean gain by dong (off-peak, top 10)"),
}


def _f(x: float) -> float | None:
    """A finite float rounded for JSON, None for inf/nan."""
    return round(float(x), 3) if math.isfinite(float(x)) else None


def existing_data(plan: Plan) -> dict[str, Any]:
    """JSON-ready existing-network figures (empty when the step did not run)."""
    ef = plan.existing
    if ef is None:
        return {}
    if ef.missing:
        return {"missing": ef.missing}
    periods = []
    for c in ef.comparisons:
        r = c.result
        g = r.gain_min
        fin = np.isfinite(g)
        w = float(r.trips[fin].sum())
        mean = float((g[fin] * r.trips[fin]).sum() / w) if w > 0 else 0.0
        by_zone = gain_by_zone(r)
        periods.append(
            {
                "day": c.day,
                "period": c.period,
                "trips": round(float(r.trips.sum()), 1),
                "trips_gaining": round(r.trips_gaining, 1),
                "threshold_min": r.threshold_min,
                "mean_gain_min": round(mean, 3),
                "newly_served_trips": round(float(r.trips[np.isinf(g)].sum()), 1),
                "shuttle_boardings": round(float(r.shuttle_boardings), 1),
                "gain_by_zone": [
                    {
                        "code": z.code,
                        "name_ko": z.name_ko,
                        "district": z.district,
                        "gain_min": round(float(x), 3),
                    }
                    for z, x in zip(ef.zones, by_zone, strict=True)
                ],
            }
        )
    return {
        "bus_routes": ef.bus_routes,
        "rail_lines": list(ef.rail_lines),
        "periods": periods,
        "overlap": [
            {
                "route_id": o.route_id,
                "length_km": round(float(o.length_km), 2),
                "road_share": round(float(o.road_share), 3),
                "frequent_share": round(float(o.frequent_share), 3),
                "buses_per_hour": round(float(o.buses_per_hour), 1),
                "stop_share": round(float(o.stop_share), 3),
                "stop_buses_per_hour": round(float(o.stop_buses_per_hour), 1),
                "top": [{"name": n, "km": round(float(km), 2)} for n, km in o.top],
            }
            for o in ef.overlaps
        ],
        "examples": [
            {
                "origin": x.origin,
                "destination": x.destination,
                "origin_en": x.origin_en,
                "destination_en": x.destination_en,
                "origin_zone": x.origin_zone,
                "destination_zone": x.destination_zone,
                "times": [
                    {"period": p, "before_min": _f(b), "after_min": _f(a)} for p, b, a in x.times
                ],
            }
            for x in ef.examples
        ],
    }


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def existing_html(d: dict[str, Any], colors: dict[str, str], names: dict[str, str]) -> str:
    """Bilingual HTML of the existing-network section (``colors``/``names`` by route id)."""
    if not d:
        return ""
    out = [f"<h3>{_bi('기존 노선망과 비교', 'Against the existing network')}</h3>"]
    if "missing" in d:
        out.append(f'<p class="warn">{_bi(*_L["none"])}: {_e(d["missing"])}</p>')
        return "\n".join(out)
    out.append(
        f"<p>{_bi('기존 버스', 'Existing bus routes')} {d['bus_routes']}, "
        f"{_bi('지하철', 'metro lines')} {_e(', '.join(d['rail_lines']))}; "
        f"{_bi(*_L['how'])}.</p>"
    )
    rows = []
    for p in d["periods"]:
        rows.append(
            [
                _bi(*_PERIOD.get(p["period"], (p["period"], p["period"]))),
                _n(p["trips"]),
                _n(p["trips_gaining"]),
                _n(p["mean_gain_min"], 2),
                _n(p["newly_served_trips"]),
                _n(p["shuttle_boardings"]),
            ]
        )
    thr = d["periods"][0]["threshold_min"] if d["periods"] else 5
    out.append(
        _table(
            [
                _bi("평일 시간대", "Weekday period"),
                _bi("통행(일)", "Trips/day"),
                _bi(f"{thr:g}분 넘게 단축", f"Trips gaining > {thr:g} min"),
                _bi("평균 단축(분)", "Mean gain (min)"),
                _bi("새로 연결", "Newly served"),
                _bi("셔틀 승차(기존 노선과 선택)", "Shuttle boardings (any line chosen)"),
            ],
            rows,
            "before-after",
        )
    )
    off = next((p for p in d["periods"] if p["period"] == "offpeak"), None)
    if off:
        top = sorted(off["gain_by_zone"], key=lambda z: (-z["gain_min"], z["code"]))[:10]
        out.append(f"<p>{_bi(*_L['dong'])}:</p>")
        out.append(
            _table(
                [_bi("행정동", "Dong"), _bi("자치구", "District"), _bi("분", "min")],
                [
                    [
                        _e(z["name_ko"]),
                        _bi(*DISTRICTS.get(z["district"], (str(z["district"]),) * 2)),
                        _n(z["gain_min"], 2),
                    ]
                    for z in top
                ],
                "gain-by-dong",
            )
        )
    if d["examples"]:
        per = [p["period"] for p in d["periods"]]
        head = [_bi("예시 통행(동 중심 간)", "Example trip (dong centre to dong centre)")]
        for p in per:
            ko, en = _PERIOD.get(p, (p, p))
            head.append(_bi(f"{ko} 현재 → 셔틀(분)", f"{en} today → with shuttle (min)"))
        rows = []
        for x in d["examples"]:
            t = {y["period"]: y for y in x["times"]}
            cells = [
                f"{_bi(x['origin'], x['origin_en'])} ({_e(x['origin_zone'])}) → "
                f"{_bi(x['destination'], x['destination_en'])} ({_e(x['destination_zone'])})"
            ]
            for p in per:
                y = t.get(p, {})
                cells.append(f"{_n(y.get('before_min'), 1)} → {_n(y.get('after_min'), 1)}")
            rows.append(cells)
        out.append(_table(head, rows, "examples"))
    if d["overlap"]:
        out.append(f"<h3>{_bi('기존 노선과 중복', 'Overlap with existing routes')}</h3>")
        out.append(
            _table(
                [
                    _bi("노선", "Route"),
                    _bi("길이(km, 양방향)", "Length (km, both ways)"),
                    _bi("기존 노선 구간", "Road share run today"),
                    _bi("배차 10분 이하 구간", "Share with ≥ 6 buses/h"),
                    _bi("평균 버스(대/시)", "Existing buses/h"),
                    _bi("정류장 공유", "Stop share"),
                    _bi("가장 많이 겹치는 노선(km)", "Most overlapping routes (km)"),
                ],
                [
                    [
                        f'<span style="color:{colors.get(o["route_id"], "#000")}">■</span> '
                        f"{_e(names.get(o['route_id'], o['route_id']))}",
                        _n(o["length_km"], 1),
                        _pct(o["road_share"]),
                        _pct(o["frequent_share"]),
                        _n(o["buses_per_hour"], 0),
                        _pct(o["stop_share"]),
                        _e(", ".join(f"{t['name']} {t['km']:.1f}" for t in o["top"])),
                    ]
                    for o in d["overlap"]
                ],
                "overlap",
            )
        )
    return "\n".join(out)
