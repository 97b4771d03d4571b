"""Architecture rules: one-way imports between stages, each heavy library in one module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "shuttle"

#: Stage order: a module may import only modules listed before it.
ORDER = [
    "__init__",
    "errors",
    "log",
    "config",
    "geo",
    "roads",
    "colors",
    "io",
    "model",
    "fares",
    "service_calendar",
    "runtime",
    "areas",
    "ridership",
    "calibration",
    "transit",
    "tiles",
    "graphcache",
    "network",
    "stagecache",
    "paths",
    "router",
    "assign",
    "names",
    "places",
    "gazetteer",
    "stops",
    "demand",
    "depots",
    "_utrp_ops",
    "utrp",
    "evaluate",
    "passengers",
    "cost",
    "frequencies",
    "budget",
    "overlap",
    "compare",
    "existing",
    "figures",
    "keynet",
    "kpis",
    "designio",
    "design",
    "timetable",
    "operate",
    "gtfs",
    "maps",
    "html_parts",
    "report_figures",
    "report_existing",
    "report",
    "baseline",
    "pipeline",
    "sweep",
    "cli",
]

#: Heavy libraries and the one module allowed to import each.
OWNERS = {"osmnx": {"network"}, "folium": {"maps"}, "click": {"cli"}, "branca": {"maps"}}

#: Writers and the timetable never see the road graph.
NO_GRAPH = {"runtime", "timetable", "gtfs", "maps", "report"}
GRAPH_MODULES = {
    "network",
    "paths",
    "stops",
    "design",
    "demand",
    "depots",
    "places",
    "networkx",
    "osmnx",
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                mod = node.module.split(".")
                if mod[0] == "shuttle" and len(mod) > 1:
                    out.add(mod[1])
                else:
                    out.add(mod[0])
            elif node.level >= 1:
                if node.module:
                    out.add(node.module.split(".")[0])
                else:
                    out.update(a.name for a in node.names)
    return out


MODULES = sorted(p.stem for p in PKG.glob("*.py"))


def test_every_module_is_placed() -> None:
    assert set(MODULES) <= set(ORDER), set(MODULES) - set(ORDER)


@pytest.mark.parametrize("mod", MODULES)
def test_one_way_imports(mod: str) -> None:
    deps = imports_of(PKG / f"{mod}.py") & set(ORDER)
    later = {d for d in deps if ORDER.index(d) >= ORDER.index(mod)}
    assert not later, f"{mod} imports later stage(s) {sorted(later)}"


@pytest.mark.parametrize("mod", MODULES)
def test_heavy_libraries_have_one_home(mod: str) -> None:
    deps = imports_of(PKG / f"{mod}.py")
    for lib, owners in OWNERS.items():
        if lib in deps:
            assert mod in owners, f"{mod} imports {lib}; only {sorted(owners)} may"
    if mod in NO_GRAPH:
        assert not deps & GRAPH_MODULES, f"{mod} must not depend on the road graph"
