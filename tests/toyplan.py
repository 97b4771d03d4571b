"""A small hand-made design (3 routes, 9 stops near Sinchon/Hongdae) for stage tests.

Positions are real Seoul coordinates; shapes are straight segments between the stops, so every
stop lies on its shape and distances can be checked by hand. Stop S0009 carries a hostile name to
test escaping.
"""

from __future__ import annotations

import re
from pathlib import Path

from shuttle import geo
from shuttle.config import scenario_path
from shuttle.model import Design, DesignKPIs, Pattern, Place, Route, RouteKPI, Stop

HOSTILE = "<img src=x onerror=alert(1)>"

_STOPS = (
    # id, name_ko, name_en, lat, lon, ars, district, anchor
    ("S0001", "신촌역", "Sinchon Station", 37.55513, 126.93693, "13001", 11410, "신촌"),
    ("S0002", "연세대앞", "Yonsei Univ.", 37.55920, 126.93650, "13002", 11410, None),
    ("S0003", "서대문구청", "Seodaemun-gu Office", 37.57920, 126.93680, None, 11410, "서대문구청"),
    (
        "S0004",
        "홍대입구역",
        "Hongik Univ. Station",
        37.55719,
        126.92538,
        "14001",
        11440,
        "홍대입구",
    ),
    ("S0005", "서교동", "Seogyo-dong", 37.55300, 126.91900, "14002", 11440, None),
    ("S0006", "망원역", "Mangwon Station", 37.55610, 126.91030, "14003", 11440, None),
    ("S0007", "마포구청", "Mapo-gu Office", 37.56630, 126.90170, None, 11440, "마포구청"),
    ("S0008", "연희동", "Yeonhui-dong", 37.56660, 126.93140, "13003", 11410, None),
    ("S0009", HOSTILE, HOSTILE, 37.56200, 126.92100, "14004", 11440, None),
)


def toy_stops() -> tuple[Stop, ...]:
    """The nine toy stops (node ids are 1..9)."""
    return tuple(
        Stop(
            stop_id=sid,
            name_ko=ko,
            name_en=en,
            lat=lat,
            lon=lon,
            node=i,
            ars=ars,
            district=gu,
            anchor=anc,
        )
        for i, (sid, ko, en, lat, lon, ars, gu, anc) in enumerate(_STOPS, start=1)
    )


def _pattern(stops: dict[str, Stop], ids: tuple[str, ...], direction: int) -> Pattern:
    pts = tuple((stops[s].lat, stops[s].lon) for s in ids)
    dists = [0.0]
    run = []
    for a, b in zip(pts, pts[1:], strict=False):
        d = geo.haversine_m(a[0], a[1], b[0], b[1])
        dists.append(dists[-1] + d)
        run.append(max(1, round(d / (20 / 3.6))))  # 20 km/h
    last = stops[ids[-1]]
    return Pattern(
        direction_id=direction,
        headsign_ko=last.name_ko,
        headsign_en=last.name_en,
        stop_ids=ids,
        run_times_s=tuple(run),
        stop_dist_m=tuple(dists),
        shape=pts,
        length_m=dists[-1],
    )


_ROUTES = (
    ("R1", "1", "#1f77b4", ("S0001", "S0002", "S0008", "S0003")),
    ("R2", "2", "#d62728", ("S0001", "S0004", "S0005", "S0006", "S0007")),
    ("R3", "3", "#2ca02c", ("S0004", "S0009", "S0008")),
)


def toy_routes() -> tuple[Route, ...]:
    """Three two-way routes over the toy stops."""
    stops = {s.stop_id: s for s in toy_stops()}
    out = []
    for rid, short, color, ids in _ROUTES:
        fwd = _pattern(stops, ids, 0)
        back = _pattern(stops, tuple(reversed(ids)), 1)
        first, last = stops[ids[0]], stops[ids[-1]]
        out.append(
            Route(
                route_id=rid,
                short_name=short,
                long_name_ko=f"{first.name_ko}–{last.name_ko}",
                long_name_en=f"{first.name_en} – {last.name_en}",
                color=color.lstrip("#").upper(),
                text_color="FFFFFF",
                patterns=(fwd, back),
            )
        )
    return tuple(out)


def toy_design() -> Design:
    """A complete Design over the toy stops and routes (KPIs are rough but consistent)."""
    routes = toy_routes()
    stops = toy_stops()
    places = tuple(
        Place(
            name_ko=s.anchor,
            name_en=s.name_en,
            kind="poi",
            lat=s.lat,
            lon=s.lon,
            district=s.district,
        )
        for s in stops
        if s.anchor
    )
    rk = []
    for r in routes:
        one_way = round(sum(p.run_time_s for p in r.patterns) / len(r.patterns))
        rk.append(
            RouteKPI(
                route_id=r.route_id,
                length_m=sum(p.length_m for p in r.patterns) / len(r.patterns),
                one_way_s=one_way,
                cycle_s=2 * one_way + 2 * 480,
                stops=len(set(r.patterns[0].stop_ids)),
            )
        )
    kpis = DesignKPIs(
        method="toy",
        objective=1.0,
        att_min=12.0,
        d0=80.0,
        d1=15.0,
        d2=5.0,
        dun=0.0,
        vehicle_hours=40.0,
        coverage=0.1,
        routes=tuple(rk),
        coverage_by_district=((11410, 1000, 10000), (11440, 2000, 20000)),
    )
    return Design(places=places, stops=stops, routes=routes, kpis=kpis)


def nw3_variant(folder: Path, name: str, **keys: str) -> Path:
    """The packaged nw3 scenario as ``<folder>/<name>.toml`` with ``name`` and the first line of
    each of ``keys`` (``routes="4"``: ``routes = 4``) set; each must be found once."""
    text = scenario_path("nw3").read_text(encoding="utf-8")
    subs = [(r'(?m)^name = "nw3"', f'name = "{name}"')]
    subs += [(rf"(?m)^{k} = (\[[^\]]*\]|\S+)", f"{k} = {v}") for k, v in keys.items()]
    for pat, rep in subs:
        text, n = re.subn(pat, rep, text, count=1)
        assert n == 1, pat
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path
