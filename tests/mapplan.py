"""Toy plans for the map and report tests: the toy design plus a timetable, areas and hostile data.

The timetable comes from :func:`shuttle.timetable.build_timetable` when that module exists;
until then a small hand-made one (regular headways per period, one block per trip) stands in.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from shapely.geometry import Point
from shapely.ops import unary_union
from toyplan import toy_design, toy_routes, toy_stops

from shuttle import geo
from shuttle.config import DAY_TYPES, Scenario
from shuttle.model import (
    Area,
    Block,
    DesignKPIs,
    FleetRow,
    Pattern,
    Place,
    Plan,
    Route,
    RouteKPI,
    Stop,
    Timetable,
    Trip,
)

#: Extra hostile names: markup in HTML text, script end tags, JS template-literal syntax.
XSS_IMG = '<img src=x onerror="window.__xss=1">'
XSS_SCRIPT = "</script><script>window.__xss=1</script>`${window.__xss=1}`"

HEADWAYS = {  # day type -> (peak, offpeak, evening) minutes
    "weekday": (10, 15, 20),
    "saturday": (15, 15, 20),
    "sunday": (20, 20, 30),
}
SPAN = (6 * 3600, 23 * 3600)  # first and last departure from the first stop


def _hostile_route(stops: dict[str, Stop]) -> tuple[Stop, Route]:
    extra = Stop(
        stop_id="S0010",
        name_ko=XSS_SCRIPT,
        name_en=XSS_IMG,
        lat=37.5650,
        lon=126.9150,
        node=10,
        ars="'\"><b>1</b>",
        district=11440,
        anchor=None,
    )
    a, b = stops["S0009"], extra
    d = geo.haversine_m(a.lat, a.lon, b.lat, b.lon)
    run = max(1, round(d / (20 / 3.6)))

    def pat(first: Stop, last: Stop, direction: int) -> Pattern:
        return Pattern(
            direction_id=direction,
            headsign_ko=last.name_ko,
            headsign_en=last.name_en,
            stop_ids=(first.stop_id, last.stop_id),
            run_times_s=(run,),
            stop_dist_m=(0.0, d),
            shape=((first.lat, first.lon), (last.lat, last.lon)),
            length_m=d,
        )

    route = Route(
        route_id="R4",
        short_name="<i>4</i>",
        long_name_ko=XSS_SCRIPT,
        long_name_en=XSS_IMG,
        color="9467BD",
        text_color="FFFFFF",
        patterns=(pat(a, b, 0), pat(b, a, 1)),
    )
    return extra, route


def _period(t: int) -> int:
    h = (t // 3600) % 24
    if 7 <= h < 9 or 17 <= h < 19:
        return 0
    if h >= 20:
        return 2
    return 1


def hand_timetable(routes: Sequence[Route], dwell_s: int = 20) -> Timetable:
    """A regular timetable: departures from each terminal every headway of the period."""
    trips: list[Trip] = []
    blocks: list[Block] = []
    fleet: list[FleetRow] = []
    names = ("peak", "offpeak", "evening")
    for route in routes:
        for day in DAY_TYPES:
            heads = HEADWAYS[day]
            n_trips = 0
            hours = 0.0
            km = 0.0
            for pat in route.patterns:
                t = SPAN[0]
                while t <= SPAN[1]:
                    arr, dep = [], []
                    clock = t
                    for i, _ in enumerate(pat.stop_ids):
                        if i:
                            clock += pat.run_times_s[i - 1]
                        arr.append(clock)
                        if 0 < i < len(pat.stop_ids) - 1:
                            clock += dwell_s
                        dep.append(clock)
                    tid = f"{route.route_id}_{day[:3]}_{pat.direction_id}_{t // 60:04d}"
                    trips.append(
                        Trip(
                            trip_id=tid,
                            route_id=route.route_id,
                            service_id=day,
                            direction_id=pat.direction_id,
                            block_id=f"B_{tid}",
                            period=names[_period(t)],
                            arrival_s=tuple(arr),
                            departure_s=tuple(dep),
                        )
                    )
                    blocks.append(Block(f"B_{tid}", day, route.route_id, (tid,)))
                    n_trips += 1
                    hours += (arr[-1] - t) / 3600
                    km += pat.length_m / 1000
                    t += heads[_period(t)] * 60
            cycle = sum(p.run_time_s for p in route.patterns) + 16 * 60
            fleet.append(
                FleetRow(
                    route_id=route.route_id,
                    service_id=day,
                    vehicles=math.ceil(cycle / (heads[0] * 60)),
                    trips=n_trips,
                    vehicle_hours=round(hours, 3),
                    vehicle_km=round(km, 3),
                    headways_min=tuple(zip(names, map(float, heads), strict=True)),
                )
            )
    return Timetable(trips=tuple(trips), blocks=tuple(blocks), fleet=tuple(fleet), holidays=())


def timetable_for(routes: Sequence[Route], scenario: Scenario) -> Timetable:
    """The real timetable builder when it exists, else :func:`hand_timetable`."""
    try:
        from shuttle import timetable
    except ImportError:
        return hand_timetable(routes, scenario.service.dwell_s)
    return timetable.build_timetable(tuple(routes), scenario)


def _catchment(stops: Sequence[Stop], radius_m: float) -> Area:
    xs, ys = geo.to_metric_xy([s.lon for s in stops], [s.lat for s in stops])
    union = unary_union([Point(x, y).buffer(radius_m) for x, y in zip(xs, ys, strict=True)])
    geom = geo.to_wgs84(union)
    polys = list(getattr(geom, "geoms", [geom]))
    return Area(
        code=0,
        name_ko="도보권",
        name_en="catchment",
        polygons=tuple(
            tuple(tuple((y, x) for x, y in ring.coords) for ring in (p.exterior, *p.interiors))
            for p in polys
        ),
    )


def _square(code: int, lat: float, lon: float, d: float, ko: str, en: str) -> Area:
    ring = ((lat, lon), (lat, lon + d), (lat + d, lon + d), (lat + d, lon), (lat, lon))
    return Area(code=code, name_ko=ko, name_en=en, polygons=((ring,),), population=10000)


def toy_plan(
    scenario: Scenario,
    *,
    hostile: bool = False,
    districts: tuple[Area, ...] | None = None,
) -> Plan:
    """The toy design as a plan; ``hostile`` adds stop S0010 and route R4 with hostile names."""
    design = toy_design()
    stops = list(toy_stops())
    routes = list(toy_routes())
    places = list(design.places)
    kpis = design.kpis
    if hostile:
        extra, r4 = _hostile_route({s.stop_id: s for s in stops})
        stops.append(extra)
        routes.append(r4)
        places.append(Place(XSS_SCRIPT, XSS_IMG, "poi", 37.5640, 126.9160, 11440))
        rk = RouteKPI(
            "R4",
            r4.patterns[0].length_m,
            r4.patterns[0].run_time_s,
            2 * r4.patterns[0].run_time_s + 960,
            2,
        )
        kpis = dataclasses.replace(kpis, routes=(*kpis.routes, rk))
        scenario = dataclasses.replace(
            scenario, title_en=f"{scenario.title_en} {XSS_IMG}", name=f"{scenario.name}-hostile"
        )
    if districts is None:
        districts = (
            _square(11410, 37.552, 126.928, 0.03, "서대문구", "Seodaemun-gu"),
            _square(11440, 37.548, 126.896, 0.032, "마포구", "Mapo-gu"),
        )
    kpis = dataclasses.replace(kpis)
    assert isinstance(kpis, DesignKPIs)
    return Plan(
        scenario=scenario,
        places=tuple(places),
        stops=tuple(stops),
        routes=tuple(routes),
        kpis=kpis,
        timetable=timetable_for(routes, scenario),
        districts=districts,
        catchment=_catchment(stops, scenario.stops.catchment_m),
    )
