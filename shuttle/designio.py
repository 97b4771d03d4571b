"""The route set as JSON and GeoJSON (what ``shuttle design`` writes)."""

from __future__ import annotations

from typing import Any

from .model import Design

__all__ = ["design_to_geojson", "design_to_json"]


def design_to_json(design: Design) -> dict[str, Any]:
    """The route set as a JSON-ready dict.

    Keys: ``method``, ``kpis`` (network figures), ``places``, ``stops`` (id, names, position,
    ARS, district, anchor) and ``routes``: per route its id, names, colours, KPIs and per direction
    the stop ids and names, run times, stop distances, length and the road node path.
    """
    k = design.kpis
    rkpi = {r.route_id: r for r in k.routes}
    stops = {s.stop_id: s for s in design.stops}
    routes = []
    for r in design.routes:
        rk = rkpi.get(r.route_id)
        routes.append(
            {
                "route_id": r.route_id,
                "short_name": r.short_name,
                "long_name_ko": r.long_name_ko,
                "long_name_en": r.long_name_en,
                "color": r.color,
                "text_color": r.text_color,
                "is_loop": r.is_loop,
                "kpi": None
                if rk is None
                else {
                    "length_m": rk.length_m,
                    "one_way_s": rk.one_way_s,
                    "cycle_s": rk.cycle_s,
                    "stops": rk.stops,
                    "km_by_class": dict(rk.km_by_class),
                    "minor_uses": [list(u) for u in rk.minor_uses],
                    "detour_ratio": rk.detour_ratio,
                    "detour_anchor": rk.detour_anchor,
                    "turnarounds": [
                        {"kind": k_, "terminal": n_, "loop_m": m_} for k_, n_, m_ in rk.turnarounds
                    ],
                },
                "patterns": [
                    {
                        "direction_id": p.direction_id,
                        "headsign_ko": p.headsign_ko,
                        "headsign_en": p.headsign_en,
                        "stop_ids": list(p.stop_ids),
                        "stop_names_ko": [stops[s].name_ko for s in p.stop_ids],
                        "stop_names_en": [stops[s].name_en for s in p.stop_ids],
                        "run_times_s": list(p.run_times_s),
                        "stop_dist_m": list(p.stop_dist_m),
                        "length_m": p.length_m,
                        "node_path": list(p.node_path),
                    }
                    for p in r.patterns
                ],
            }
        )
    return {
        "method": k.method,
        "kpis": {
            "objective": k.objective,
            "versus_existing": k.versus_existing,
            "att_min": k.att_min,
            "d0": k.d0,
            "d1": k.d1,
            "d2": k.d2,
            "dun": k.dun,
            "vehicle_hours": k.vehicle_hours,
            "coverage": k.coverage,
            "coverage_by_district": [list(row) for row in k.coverage_by_district],
        },
        "places": [
            {
                "name_ko": p.name_ko,
                "name_en": p.name_en,
                "kind": p.kind,
                "lat": p.lat,
                "lon": p.lon,
                "district": p.district,
            }
            for p in design.places
        ],
        "stops": [
            {
                "stop_id": s.stop_id,
                "name_ko": s.name_ko,
                "name_en": s.name_en,
                "lat": s.lat,
                "lon": s.lon,
                "node": s.node,
                "ars": s.ars,
                "district": s.district,
                "anchor": s.anchor,
            }
            for s in design.stops
        ],
        "routes": routes,
    }


def design_to_geojson(design: Design) -> dict[str, Any]:
    """The route set as a GeoJSON FeatureCollection (lon/lat, RFC 7946).

    One LineString per route direction (properties: route id, names, colour, direction,
    headsign, length, run time, stop count) and one Point per stop (properties: id, names, ARS,
    district, anchor and the routes serving it).
    """
    feats: list[dict[str, Any]] = []
    serving: dict[str, list[str]] = {}
    for r in design.routes:
        for p in r.patterns:
            for s in p.stop_ids:
                lst = serving.setdefault(s, [])
                if r.route_id not in lst:
                    lst.append(r.route_id)
            feats.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[lon, lat] for lat, lon in p.shape],
                    },
                    "properties": {
                        "kind": "route",
                        "route_id": r.route_id,
                        "short_name": r.short_name,
                        "long_name_ko": r.long_name_ko,
                        "long_name_en": r.long_name_en,
                        "color": f"#{r.color}",
                        "text_color": f"#{r.text_color}",
                        "direction_id": p.direction_id,
                        "headsign_ko": p.headsign_ko,
                        "headsign_en": p.headsign_en,
                        "length_m": p.length_m,
                        "run_time_s": p.run_time_s,
                        "stops": len(p.stop_ids),
                    },
                }
            )
    for st in design.stops:
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [st.lon, st.lat]},
                "properties": {
                    "kind": "stop",
                    "stop_id": st.stop_id,
                    "name_ko": st.name_ko,
                    "name_en": st.name_en,
                    "ars": st.ars,
                    "district": st.district,
                    "anchor": st.anchor,
                    "routes": sorted(serving.get(st.stop_id, [])),
                },
            }
        )
    return {"type": "FeatureCollection", "features": feats}
