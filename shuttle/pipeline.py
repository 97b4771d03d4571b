"""The stages in order: network -> design -> timetable -> GTFS + map + report.

Each function takes a :class:`~shuttle.config.Scenario` and returns the frozen result of its stage,
so the CLI (and a Dask sweep, one task per scenario) can run any prefix of the chain.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import areas, io
from .config import DISTRICTS, Scenario
from .log import ProgressFn
from .model import Area, Design, Plan

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "Outputs",
    "build_network",
    "district_areas",
    "make_design",
    "make_plan",
    "run_plan",
    "scenario_with_source",
    "write_design",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outputs:
    """Where ``run_plan`` wrote each output."""

    feed: Path
    map: Path
    index: Path
    report: tuple[Path, ...]
    design: tuple[Path, ...]


def build_network(
    scenario: Scenario,
    *,
    cache_dir: str | Path | None = None,
    refresh: bool = False,
    progress: ProgressFn | None = None,
) -> nx.MultiDiGraph:
    """Build (or load from the cache) the scenario's road graph."""
    from . import network

    return network.load_graph(scenario, cache_dir=cache_dir, refresh=refresh, progress=progress)


def make_design(
    scenario: Scenario,
    G: nx.MultiDiGraph | None = None,
    *,
    method: str | None = None,
    cache_dir: str | Path | None = None,
    progress: ProgressFn | None = None,
) -> Design:
    """Design the scenario's routes (building the road graph first if not given)."""
    from . import design

    if G is None:
        G = build_network(scenario, cache_dir=cache_dir, progress=progress)
    return design.design_network(G, scenario, method=method, progress=progress)


def district_areas(scenario: Scenario) -> tuple[Area, ...]:
    """The scenario's districts as map areas with their population."""
    polys = areas.district_polygons(scenario)
    pop: dict[int, int] = {}
    for z in areas.read_zones(scenario):
        pop[z.district] = pop.get(z.district, 0) + z.population
    out = []
    for code in scenario.districts:
        geom = polys[code].simplify(0.00005)
        parts = list(getattr(geom, "geoms", [geom]))
        polygons = tuple(
            tuple(
                tuple((round(y, 6), round(x, 6)) for x, y in ring.coords)
                for ring in (p.exterior, *p.interiors)
            )
            for p in parts
        )
        ko, en = DISTRICTS[code]
        out.append(
            Area(code=code, name_ko=ko, name_en=en, polygons=polygons, population=pop.get(code, 0))
        )
    return tuple(out)


def make_plan(
    scenario: Scenario,
    G: nx.MultiDiGraph | None = None,
    *,
    design: Design | None = None,
    cache_dir: str | Path | None = None,
    progress: ProgressFn | None = None,
) -> Plan:
    """Run network, design and timetable; return the plan the writers take."""
    from . import timetable

    if design is None:
        design = make_design(scenario, G, cache_dir=cache_dir, progress=progress)
    tt = timetable.build_timetable(design.routes, scenario)
    return Plan(
        scenario=scenario,
        places=design.places,
        stops=design.stops,
        routes=design.routes,
        kpis=design.kpis,
        timetable=tt,
        districts=district_areas(scenario),
        catchment=design.catchment,
    )


def write_design(design: Design, scenario: Scenario, out_dir: str | Path) -> tuple[Path, Path]:
    """Write the route set as JSON and GeoJSON (atomically); return both paths."""
    from . import design as design_mod

    out = Path(out_dir)
    js = design_mod.design_to_json(design)
    gj = design_mod.design_to_geojson(design)
    p1 = io.atomic_write_text(
        out / f"{scenario.name}.routes.json",
        json.dumps(js, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
    )
    p2 = io.atomic_write_text(
        out / f"{scenario.name}.routes.geojson",
        json.dumps(gj, ensure_ascii=False, sort_keys=True) + "\n",
    )
    return p1, p2


def run_plan(
    scenario: Scenario,
    *,
    gtfs_dir: str | Path = "gtfs_out",
    maps_dir: str | Path = "maps",
    cache_dir: str | Path | None = None,
    frequencies: bool = False,
    progress: ProgressFn | None = None,
) -> Outputs:
    """Run the whole chain and write the feed, the design, the map and the report."""
    from . import gtfs, maps, report

    G = build_network(scenario, cache_dir=cache_dir, progress=progress)
    design = make_design(scenario, G, progress=progress)
    plan = make_plan(scenario, G, design=design)
    feed = gtfs.write_feed(plan, Path(gtfs_dir) / f"{scenario.name}.zip", frequencies=frequencies)
    design_paths = write_design(design, scenario, gtfs_dir)
    map_path = maps.save_map(plan, maps_dir, index=False)
    reports = report.write_report([plan], maps_dir)
    index = maps.write_index(maps_dir)  # after the report, which the index lists too
    return Outputs(feed=feed, map=map_path, index=index, report=tuple(reports), design=design_paths)


def scenario_with_source(scenario: Scenario, source: str, path: str | None = None) -> Scenario:
    """Return the scenario with another road-data source (``--online``, ``--source``)."""
    net = replace(scenario.network, source=source, path=path if path is not None else "")
    return replace(scenario, network=net)
