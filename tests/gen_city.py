"""Generated small "cities" for whole-plan property tests: a road graph and a scenario.

A city is a grid or a tree of streets at real Seoul coordinates inside the nw3 districts (so the
district and dong polygons, the population, the bus stop list and the other data files of the
shared data folder apply), written as an unsimplified OSMnx GraphML file (the ``graphml`` source
of :mod:`shuttle.network`), and a scenario TOML file that reads it. Some streets are one-way,
some long streets are split by a degree-2 node (which the network build simplifies away), road
classes come from the classes the scenario allows. Anchors are ``point`` anchors near the
streets, the depot (if any) a point too; headways, spans, the fleet budget and the design
parameters are drawn.

:func:`cities` is a hypothesis strategy of :class:`City`; :meth:`City.write` writes both files.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import osmnx as ox
from hypothesis import strategies as st

from shuttle import geo

#: Centres of the generated cities (lat, lon) in the nw3 districts; the distance to the edge of
#: the district union was measured on the boundary file. A larger city (up to 3 km across)
#: is clipped by the network build to the districts + 500 m.
CENTRES = (
    (37.5943, 126.9302),  # on the Eunpyeong/Seodaemun border (Hongje), 2.0 km from the edge
    (37.5879, 126.9274),  # on the Eunpyeong/Seodaemun border (Hongeun), 1.5 km from the edge
    (37.5700, 126.9380),  # Seodaemun: Yeonhui-dong, 1.5 km from the edge
    (37.5560, 126.9150),  # Mapo: Seogyo-dong / Mangwon, 1.1 km from the edge
)
#: Road classes a generated street may have (as the tile source names them).
CLASSES = ("primary", "secondary", "tertiary", "minor")
#: Policy headways drawn (minutes); a spare bus of the budget may narrow them further.
HEADWAYS_MIN = (10, 12, 15, 20, 30, 60)
M_PER_DEG_LAT = 111_195.0


@dataclass(frozen=True)
class Street:
    """A street between two lattice points: road class, name, one-way (and which way), split."""

    a: tuple[int, int]
    b: tuple[int, int]
    highway: str
    name: str
    oneway: int  # 0 two-way, 1 a -> b, -1 b -> a
    split: bool  # a degree-2 node in the middle


@dataclass(frozen=True)
class City:
    """A generated road network (lattice streets) and the scenario parameters around it."""

    kind: str
    centre: tuple[float, float]
    spacing_m: float
    rotation_deg: float
    streets: tuple[Street, ...]
    anchors: tuple[tuple[tuple[int, int], float, float], ...]  # lattice point, offset east/north m
    depot: tuple[tuple[int, int], float, float] | None
    routes: int
    method: str
    seed: int
    iterations: int
    min_stops: int
    max_route_km: float
    max_cycle_min: float
    minor_access_m: float
    bus_classes: tuple[str, ...]
    max_turn_deg: float
    days: tuple[tuple[str, str, str, tuple[int, int, int]], ...]  # day, start, end, headways
    inter_district_only: bool
    fleet: int | None
    profile: tuple[float, ...]

    # ------------------------------------------------------------------ geometry

    def lonlat(self, p: tuple[int, int], east_m: float = 0.0, north_m: float = 0.0) -> tuple:
        """Longitude and latitude of a lattice point (plus an offset in metres)."""
        th = math.radians(self.rotation_deg)
        x, y = p[0] * self.spacing_m, p[1] * self.spacing_m
        e = x * math.cos(th) - y * math.sin(th) + east_m
        n = x * math.sin(th) + y * math.cos(th) + north_m
        lat0, lon0 = self.centre
        return (
            round(lon0 + e / (M_PER_DEG_LAT * math.cos(math.radians(lat0))), 7),
            round(lat0 + n / M_PER_DEG_LAT, 7),
        )

    def graph(self) -> nx.MultiDiGraph:
        """The unsimplified OSMnx-style road graph of the streets (node ids are ints)."""
        G = nx.MultiDiGraph(crs="epsg:4326")
        ids: dict[tuple, int] = {}

        def node(key: tuple, lonlat: tuple[float, float]) -> int:
            if key not in ids:
                ids[key] = 1000 + len(ids)
                G.add_node(ids[key], x=lonlat[0], y=lonlat[1])
            return ids[key]

        for k, s in enumerate(self.streets):
            pa, pb = self.lonlat(s.a), self.lonlat(s.b)
            chain = [node(("p", *s.a), pa)]
            if s.split:
                mid = ((pa[0] + pb[0]) / 2, (pa[1] + pb[1]) / 2)
                chain.append(node(("m", k), mid))
            chain.append(node(("p", *s.b), pb))
            if s.oneway == -1:
                chain.reverse()
            for u, v in zip(chain, chain[1:], strict=False):
                du, dv = G.nodes[u], G.nodes[v]
                length = geo.haversine_m(du["y"], du["x"], dv["y"], dv["x"])
                attrs = {
                    "osmid": 500 + k,
                    "highway": s.highway,
                    "name": s.name,
                    "oneway": bool(s.oneway),
                    "reversed": False,
                    "length": round(length, 3),
                }
                G.add_edge(u, v, **attrs)
                if not s.oneway:
                    G.add_edge(v, u, **{**attrs, "reversed": True})
        return G

    # ------------------------------------------------------------------ files

    def write(self, folder: Path) -> Path:
        """Write ``city.graphml`` and ``city.toml`` into ``folder``; return the scenario file."""
        gpath = folder / "city.graphml"
        ox.save_graphml(self.graph(), gpath)
        spath = folder / "city.toml"
        spath.write_text(self.toml(gpath), encoding="utf-8")
        return spath

    def toml(self, graphml: Path) -> str:
        """The scenario TOML of the city (nw3's districts, the generated graph and parameters)."""
        q = json.dumps  # a TOML basic string or array of strings/numbers is valid JSON here
        lines = [
            "[scenario]",
            'name = "synth"',
            'title_ko = "합성 도시"',
            'title_en = "Synthetic City"',
            'agency_ko = "합성셔틀"',
            'agency_en = "Synthetic Shuttle"',
            "districts = [11410, 11380, 11440]",
            "",
            "[network]",
            'source = "graphml"',
            f"path = {q(str(graphml))}",
            "buffer_m = 500.0",
            f"classes = {q(list(CLASSES))}",
            "",
            "[demand]",
            f"inter_district_only = {str(self.inter_district_only).lower()}",
            f"profile = {q(list(self.profile))}" if self.profile else "",
            "",
            "[design]",
            f"routes = {self.routes}",
            f"method = {q(self.method)}",
            f"seed = {self.seed}",
            f"iterations = {self.iterations}",
            f"min_stops = {self.min_stops}",
            f"max_route_km = {self.max_route_km}",
            f"max_cycle_min = {self.max_cycle_min}",
            f"minor_access_m = {self.minor_access_m}",
            f"bus_classes = {q(list(self.bus_classes))}",
            f"max_turn_deg = {self.max_turn_deg}",
            "",
            "[service]",
            "start_date = 2027-01-04",
            "end_date = 2027-03-31",
        ]
        for day, start, end, (peak, off, eve) in self.days:
            lines += [
                f"[service.{day}]",
                f'span = ["{start}", "{end}"]',
                f"headways_min = {{ peak = {peak}, offpeak = {off}, evening = {eve} }}",
            ]
        if self.fleet is not None:
            lines += ["", "[budget]", f"fleet = {self.fleet}"]
        for i, (p, de, dn) in enumerate(self.anchors):
            lon, lat = self.lonlat(p, de, dn)
            lines += [
                "",
                "[[anchors]]",
                'kind = "point"',
                f'name = "앵커{i + 1}"',
                f'name_en = "Anchor {i + 1}"',
                f"lat = {lat}",
                f"lon = {lon}",
            ]
        if self.depot is not None:
            p, de, dn = self.depot
            lon, lat = self.lonlat(p, de, dn)
            lines += [
                "",
                "[[depots]]",
                'name = "합성차고지"',
                'name_en = "Synthetic Garage"',
                f"lat = {lat}",
                f"lon = {lon}",
            ]
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------- strategies

_STEPS = ((1, 0), (-1, 0), (0, 1), (0, -1))


def _one_way(draw: st.DrawFn, share: float) -> bool:
    """One-way with probability ``share`` (an integer draw: hypothesis favours 0.0 in floats)."""
    return draw(st.integers(0, 9)) >= 10 - round(share * 10)


def _grid_streets(draw: st.DrawFn, classes: list[str], one_way_share: float) -> list[Street]:
    """A grid whose lines (rows, columns) each have one class, name and one-way direction."""
    # hypothesis starts from the first value of each choice: the likeliest to plan comes first
    nx_, ny_ = draw(st.sampled_from([8, 10, 6, 3])), draw(st.sampled_from([9, 11, 7, 4]))
    x0, y0 = -(nx_ // 2), -(ny_ // 2)
    lines = {}
    for axis, count in (("x", ny_), ("y", nx_)):  # rows run along x, columns along y
        for k in range(count):
            one_way = _one_way(draw, one_way_share)
            # minor lines are the exception when a bus class is allowed (as in a real city)
            main = [c for c in classes if c != "minor"] or classes
            lines[axis, k] = (
                draw(st.sampled_from(classes if draw(st.integers(0, 3)) == 3 else main)),
                f"합성{'로' if axis == 'x' else '대로'}{k + 1}" if draw(st.booleans()) else "",
                draw(st.sampled_from([1, -1])) if one_way else 0,
            )
    segs = []
    for i in range(nx_):
        for j in range(ny_):
            p = (x0 + i, y0 + j)
            if i + 1 < nx_:
                segs.append((p, (p[0] + 1, p[1]), lines["x", j]))
            if j + 1 < ny_:
                segs.append((p, (p[0], p[1] + 1), lines["y", i]))
    # a few missing blocks' sides; the network keeps the largest strongly connected part
    drop = draw(st.sets(st.integers(0, len(segs) - 1), max_size=3))
    return [
        Street(a, b, cls, name, way, draw(st.booleans()))
        for k, (a, b, (cls, name, way)) in enumerate(segs)
        if k not in drop
    ]


def _tree_streets(draw: st.DrawFn, classes: list[str], one_way_share: float) -> list[Street]:
    """A tree of streets on the lattice (no loop, so no bus can turn round)."""
    edges = _tree_edges(draw)
    return [
        Street(
            a=a,
            b=b,
            highway=draw(st.sampled_from(classes)),
            name=f"합성로{k % 7 + 1}길" if draw(st.booleans()) else "",
            oneway=draw(st.sampled_from([1, -1])) if _one_way(draw, one_way_share) else 0,
            split=draw(st.booleans()),
        )
        for k, (a, b) in enumerate(edges)
    ]


def _tree_edges(draw: st.DrawFn) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    n = draw(st.integers(2, 18))
    pts = [(0, 0)]
    out = []
    for _ in range(n):
        base = pts[draw(st.integers(0, len(pts) - 1))]
        free = [(base[0] + dx, base[1] + dy) for dx, dy in _STEPS]
        free = [p for p in free if p not in pts and max(abs(p[0]), abs(p[1])) <= 3]
        if not free:
            continue
        p = draw(st.sampled_from(free))
        pts.append(p)
        out.append((base, p))
    return out


@st.composite
def cities(draw: st.DrawFn) -> City:
    """A generated city (see the module docstring)."""
    kind = draw(st.sampled_from(["grid", "grid", "grid", "grid", "tree"]))
    allowed = draw(st.lists(st.sampled_from(CLASSES[:3]), min_size=1, max_size=3, unique=True))
    allowed = sorted(allowed + (["minor"] if draw(st.booleans()) else []))
    one_way_share = draw(st.sampled_from([0.0, 0.0, 0.2, 0.4]))
    make = _grid_streets if kind == "grid" else _tree_streets
    streets = make(draw, allowed, one_way_share)
    edges = [(s.a, s.b) for s in streets]
    points = sorted({p for e in edges for p in e})
    # the classes a route may run on: mostly those of the streets, sometimes any (a mismatch)
    main = sorted(set(allowed) & set(CLASSES[:3]))
    if main and draw(st.integers(0, 4)) < 4:
        bus_classes = tuple(main)
    else:
        bus_classes = tuple(
            sorted(draw(st.lists(st.sampled_from(CLASSES[:3]), min_size=1, unique=True)))
        )
    offset = st.floats(-60.0, 60.0).map(lambda v: round(v, 1))
    anchor = st.tuples(st.sampled_from(points), offset, offset)
    anchors = tuple(draw(st.lists(anchor, max_size=3, unique_by=lambda t: t[0])))
    day = st.tuples(
        st.integers(5, 9).map(lambda h: f"{h:02d}:00"),
        st.integers(10, 20).map(lambda h: f"{h:02d}:30"),  # short days: small feeds
        st.tuples(*[st.sampled_from(HEADWAYS_MIN)] * 3),
    )
    days = tuple((d, *draw(day)) for d in ("weekday", "saturday", "sunday"))
    weights = draw(st.lists(st.integers(0, 9), min_size=24, max_size=24))
    profile = (
        tuple(round(w / sum(weights), 6) for w in weights)
        if sum(weights) and draw(st.booleans())
        else ()
    )
    if profile:  # make the rounded shares sum to 1 exactly (put the rest on the largest hour)
        rest = round(1.0 - sum(profile), 6)
        i = max(range(24), key=lambda h: profile[h])
        profile = tuple(round(v + rest, 6) if h == i else v for h, v in enumerate(profile))
    return City(
        kind=kind,
        centre=draw(st.sampled_from(CENTRES)),
        spacing_m=float(draw(st.sampled_from([300, 250]))),
        rotation_deg=float(draw(st.sampled_from([0, 17, 45]))),
        streets=tuple(streets),
        anchors=anchors,
        depot=draw(st.none() | st.tuples(st.sampled_from(points), offset, offset)),
        routes=draw(st.sampled_from([1, 2, 2, 3])),
        method=draw(st.sampled_from(["greedy", "anneal"])),
        seed=draw(st.integers(0, 999)),
        iterations=draw(st.sampled_from([20, 100])),
        min_stops=draw(st.sampled_from([3, 2, 5])),
        max_route_km=float(draw(st.sampled_from([14, 8, 3]))),
        max_cycle_min=float(draw(st.sampled_from([100, 140, 45]))),
        minor_access_m=float(draw(st.sampled_from([0, 300]))),
        bus_classes=bus_classes,
        max_turn_deg=float(draw(st.sampled_from([150, 170, 120]))),
        days=days,
        inter_district_only=draw(st.integers(0, 3)) == 3,
        fleet=draw(st.none() | st.integers(1, 12)),
        profile=profile,
    )


def sample_city() -> City:
    """A hand-made city that plans: a 7 x 7 grid at 300 m, secondary rows (two of them a one-way
    pair), tertiary columns, a primary avenue, two anchors, a depot, a 12-bus budget."""
    rows = {2: 1, 4: -1}  # a one-way pair: row 2 eastbound, row 4 westbound
    streets = []
    for i in range(-3, 4):
        for j in range(-3, 4):
            if i < 3:
                way = rows.get(j + 3, 0)
                streets.append(
                    Street((i, j), (i + 1, j), "secondary", f"합성로{j + 4}", way, False)
                )
            if j < 3:
                cls = "primary" if i == 0 else "tertiary"
                streets.append(Street((i, j), (i, j + 1), cls, f"합성대로{i + 4}", 0, i == 2))
    return City(
        kind="grid",
        centre=CENTRES[0],
        spacing_m=300.0,
        rotation_deg=17.0,
        streets=tuple(streets),
        anchors=(((-2, -2), 20.0, -15.0), ((2, 2), -30.0, 10.0)),
        depot=((3, -3), 40.0, 0.0),
        routes=2,
        method="greedy",
        seed=7,
        iterations=20,
        min_stops=3,
        max_route_km=14.0,
        max_cycle_min=100.0,
        minor_access_m=0.0,
        bus_classes=("primary", "secondary", "tertiary"),
        max_turn_deg=150.0,
        days=(
            ("weekday", "06:00", "20:30", (12, 15, 20)),
            ("saturday", "07:00", "19:30", (15, 20, 30)),
            ("sunday", "08:00", "18:30", (20, 30, 30)),
        ),
        inter_district_only=False,
        fleet=12,
        profile=(),
    )
