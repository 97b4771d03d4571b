"""The existing bus routes on the road graph against the route table: length and round trip.

Usage: ``python bench/baseline.py [SCENARIO]`` (default ``nw3``). Prints, for every imported
route, the modelled circuit length against the table's 거리 and the modelled round trip against
its 운행시간 (run-time factor of ``[baseline] period``, dwell ``[baseline] dwell_s``), the median
absolute percentage errors (all routes, and routes with every stop on the graph), the ten worst
routes of each with a reason, and the routes left out with theirs.

Targets (issue 11): length within 10 % median, round trip within 20 % median.
"""

from __future__ import annotations

import logging
import sys
import time

from shuttle import baseline as bl
from shuttle import geo, pipeline
from shuttle.config import load_scenario
from shuttle.transit import ARS_DISTRICT_PREFIX, read_route_stops, serves_ars


def _crow_km(p: bl.PlacedRoute) -> float:
    """Straight-line length of the whole stop sequence (km): a floor for the road length."""
    s = p.route.stops
    legs = zip(s, (*s[1:], s[0]), strict=True)
    return sum(geo.haversine_m(a.lat, a.lon, b.lat, b.lon) for a, b in legs) / 1000


def _reason(c: bl.RouteCheck, p: bl.PlacedRoute, what: str, dwell_s: int) -> str:
    if p.dropped:
        return f"{len(p.dropped)} of {len(p.route.stops)} stops off the road graph (outside Seoul)"
    crow = _crow_km(p)
    if what == "length" and c.table_km and crow > c.table_km * 1.05:
        return f"table 거리 {c.table_km:g} km < straight-line stop sequence {crow:.1f} km"
    if what == "length" and c.table_km and c.model_km > c.table_km:
        return f"road detour: model/straight line = {c.model_km / crow:.2f}"
    if what == "time" and c.table_min and c.table_km:
        v = c.table_km / (c.table_min / 60)
        if c.note:
            return c.note
        return f"table speed {v:.1f} km/h ({c.stops} stops x {dwell_s} s dwell)"
    return c.note or "-"


def main(name: str = "nw3") -> int:
    """Run the benchmark and print its figures."""
    logging.basicConfig(level=logging.WARNING)
    sc = load_scenario(name)
    t0 = time.perf_counter()
    base = pipeline.make_baseline(sc)
    t1 = time.perf_counter()
    checks = bl.check_routes(base, sc)
    placed = {p.route.route_id: p for p in base.routes}
    b = sc.baseline
    print(f"scenario {sc.name}: {len(base.routes)} routes placed, {len(base.stops)} stops, "
          f"{len(base.rail)} metro lines ({', '.join(r.line for r in base.rail)}); "
          f"{t1 - t0:.1f} s (graph load + placement)")  # fmt: skip
    print(f"run-time model: factor of '{b.period}' = {sc.service.time_factor(b.period)}, "
          f"dwell {b.dwell_s} s per stop, class speeds {dict(sc.network.speeds_kph)}")  # fmt: skip
    print()
    print(f"{'route':<12}{'stops':>6}{'tab km':>8}{'mod km':>8}{'err%':>7}"
          f"{'tab min':>9}{'mod min':>9}{'err%':>7}  note")  # fmt: skip
    for c in checks:
        le = f"{c.length_err * 100:+.1f}" if c.length_err is not None else "-"
        te = f"{c.time_err * 100:+.1f}" if c.time_err is not None else "-"
        tk = f"{c.table_km:g}" if c.table_km is not None else "-"
        tm = f"{c.table_min:g}" if c.table_min is not None else "-"
        print(f"{c.name:<12}{c.stops:>6}{tk:>8}{c.model_km:>8.1f}{le:>7}{tm:>9}"
              f"{c.model_min:>9.1f}{te:>7}  {c.note}")  # fmt: skip
    full = [c for c in checks if not placed[c.route_id].dropped]
    print()
    print(f"median |length error|:     {bl.median_ape(c.length_err for c in checks):5.1f} % "
          f"({sum(c.length_err is not None for c in checks)} routes); "
          f"{bl.median_ape(c.length_err for c in full):5.1f} % on the "
          f"{len(full)} routes with every stop on the graph   (target 10 %)")  # fmt: skip
    print(f"median |round-trip error|: {bl.median_ape(c.time_err for c in checks):5.1f} % "
          f"({sum(c.time_err is not None for c in checks)} routes); "
          f"{bl.median_ape(c.time_err for c in full):5.1f} % on the "
          f"{sum(c.time_err is not None for c in full)} routes with every stop on the graph"
          "   (target 20 %)")  # fmt: skip
    for what, key in (("length", "length_err"), ("time", "time_err")):
        worst = sorted(
            (c for c in checks if getattr(c, key) is not None),
            key=lambda c, k=key: (-abs(getattr(c, k)), c.name),
        )[:10]
        print(f"\nworst ten by {what}:")
        for c in worst:
            reason = _reason(c, placed[c.route_id], what, b.dwell_s)
            print(f"  {c.name:<12}{getattr(c, key) * 100:+7.1f} %  {reason}")
    worst = sorted(
        (c for c in full if c.time_err is not None), key=lambda c: (-abs(c.time_err), c.name)
    )[:10]
    print("\nworst ten by time among routes with every stop on the graph:")
    for c in worst:
        why = _reason(c, placed[c.route_id], "time", b.dwell_s)
        print(f"  {c.name:<12}{c.time_err * 100:+7.1f} %  {why}")
    print("\nroutes left out or taken with a caveat:")
    for i in base.issues:
        flag = "taken" if i.imported else "LEFT OUT"
        print(f"  {i.route:<12}{flag:<9}{i.kind}: {i.detail[:90]}")
    # the check of issue 11: every route serving the districts' ARS ranges is imported or listed
    prefixes = tuple(k for k, gu in ARS_DISTRICT_PREFIX.items() if gu in sc.districts)
    serving = {r.name for r in read_route_stops(sc.data_path(b.stops_file))
               if serves_ars(r, prefixes)}  # fmt: skip
    taken = {p.route.name for p in base.routes}
    listed = {i.route for i in base.issues if not i.imported}
    missing = sorted(serving - taken - listed)
    print(f"\nroutes serving ARS {'/'.join(p + 'xxx' for p in prefixes)}: {len(serving)}; "
          f"imported {len(serving & taken)}, listed as left out {len(serving & listed)}, "
          f"unaccounted {len(missing)} {missing}")  # fmt: skip
    return 0 if not missing else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
