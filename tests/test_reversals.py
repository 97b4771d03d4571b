"""No U-turn made of two turns: a hand-built divided road, and the whole default feed.

A U-turn through a median gap is two left turns of 90 degrees joined by a 20 m connector: each
turn is legal on its own, together they reverse the bus. The router judges turns joined by at
most ``REVERSAL_WINDOW_M`` of road together; the feed test walks every block of the default plan
shape point to shape point, the joins between consecutive trips included, and sums the signed
changes of heading the same way (written here from the definition, not with the router's code).
"""

from __future__ import annotations

import csv
import io
import math
import zipfile

import networkx as nx
import pytest

from shuttle import geo
from shuttle.errors import DesignError
from shuttle.router import REVERSAL_WINDOW_M, ReversalError, TurnRouter

#: Shape points closer than this to the last one kept are skipped: the feed rounds coordinates
#: to 1e-6 degrees (up to ~0.07 m each way), which turns a 5 m segment by up to 1.6 degrees ...
MIN_SEGMENT_M = 5.0
#: ... so the net turn of a stretch may read up to this much above the router's (degrees).
TURN_SLACK_DEG = 2.0
# 0.00113 degrees of longitude and 0.0009 of latitude are both ~100 m at 37.55 N
DX, DY = 0.00113, 0.0009
BLOCK = 60.0  # metres between junctions along the divided road
MEDIAN = 20.0  # metres between its two carriageways
SPEED = 10.0  # m/s: an edge of 60 m takes 6 s, a connector of 20 m 2 s


def _node(G: nx.MultiDiGraph, n: str, x_m: float, y_m: float) -> None:
    G.add_node(n, x=126.9 + DX * x_m / 100.0, y=37.55 + DY * y_m / 100.0)


def _one_way(G: nx.MultiDiGraph, u: str, v: str, m: float) -> None:
    G.add_edge(u, v, length=m, travel_time=m / SPEED, highway="secondary")


def _divided_road(*, far_block: bool = True, near_block: bool = True) -> nx.MultiDiGraph:
    """A divided road running east-west, its carriageways 20 m apart, junctions every 60 m.

    ``A0 .. A8`` is the eastbound carriageway (y = 0), ``B8 .. B0`` the westbound one
    (y = 20 m); median gaps ``A8 -> B8`` and ``B0 -> A0`` let a bus U-turn at both ends, and a
    side street crosses the median at ``A7 -> B7``. With ``far_block`` a one-way block south of
    the east end (``A8 -> C8 -> C7 -> A7``) lets the bus turn round by three right turns and
    cross the median straight; with ``near_block`` one north of the west end
    (``B0 -> D0 -> D1 -> B1 -> A1``) does the same there. Node names are strings so the
    reversed node ids of the old check (``u -> v -> u``) can never match.
    """
    G = nx.MultiDiGraph(crs="epsg:4326")
    for i in range(9):
        _node(G, f"A{i}", BLOCK * i, 0.0)
        _node(G, f"B{i}", BLOCK * i, MEDIAN)
    for i in range(8):
        _one_way(G, f"A{i}", f"A{i + 1}", BLOCK)
        _one_way(G, f"B{i + 1}", f"B{i}", BLOCK)
    _one_way(G, "A8", "B8", MEDIAN)  # median gap at the east end
    _one_way(G, "B0", "A0", MEDIAN)  # median gap at the west end
    _one_way(G, "A7", "B7", MEDIAN)  # a side street's crossing
    if far_block:
        _node(G, "C8", BLOCK * 8, -BLOCK)
        _node(G, "C7", BLOCK * 7, -BLOCK)
        _one_way(G, "A8", "C8", BLOCK)
        _one_way(G, "C8", "C7", BLOCK)
        _one_way(G, "C7", "A7", BLOCK)
    if near_block:
        _node(G, "D0", 0.0, MEDIAN + BLOCK)
        _node(G, "D1", BLOCK, MEDIAN + BLOCK)
        _one_way(G, "B0", "D0", BLOCK)
        _one_way(G, "D0", "D1", BLOCK)
        _one_way(G, "D1", "B1", BLOCK)
        _one_way(G, "B1", "A1", MEDIAN)
    return nx.convert_node_labels_to_integers(G, label_attribute="name", ordering="sorted")


def _ids(G: nx.MultiDiGraph) -> dict[str, int]:
    return {d["name"]: n for n, d in G.nodes(data=True)}


def _walk(router: TurnRouter, names: list[str], G: nx.MultiDiGraph) -> list[int]:
    ids = _ids(G)
    return [router.eid[(ids[u], ids[v])] for u, v in zip(names[:-1], names[1:], strict=True)]


def _closed_names(cy, G: nx.MultiDiGraph) -> list[tuple[str, str]]:  # noqa: ANN001
    name = nx.get_node_attributes(G, "name")
    walk = list(cy.out_nodes) + list(cy.back_nodes[1:])
    return [(name[u], name[v]) for u, v in zip(walk[:-1], walk[1:], strict=True)]


def test_a_median_gap_u_turn_is_a_reversal_and_a_straight_crossing_is_not() -> None:
    G = _divided_road()
    router = TurnRouter(G, max_turn_deg=150.0)
    gap = _walk(router, ["A7", "A8", "B8", "B7"], G)
    # by hand: east (90), north (0), west (270): two left turns of 90 degrees, 180 in 20 m
    assert router.turn(gap[0], gap[1]) == pytest.approx(90.0, abs=0.5)
    assert router.turn(gap[1], gap[2]) == pytest.approx(90.0, abs=0.5)
    assert router.reversals(gap, closed=False) == {gap[1]}
    # the turn into the connector is what gets priced, not the connector
    assert router.reversal_turns(gap, closed=False) == {(gap[0], gap[1])}
    # three right turns round the block and straight across the median: 90 degrees at most
    # within any 50 m (the block's sides are 60 m)
    loop = _walk(router, ["A7", "A8", "C8", "C7", "A7", "B7", "B6"], G)
    assert router.reversals(loop, closed=False) == set()
    # the connector fits in the window (both of its turns are judged together), a side of
    # the block does not (its turns are judged apart)
    assert MEDIAN < REVERSAL_WINDOW_M < BLOCK


def test_the_router_goes_round_the_block_instead_of_through_the_median() -> None:
    G = _divided_road()
    ids = _ids(G)
    router = TurnRouter(G, max_turn_deg=150.0)
    cy = router.cycle([ids["B0"], ids["A8"]])
    legs = _closed_names(cy, G)
    assert ("A8", "B8") not in legs
    assert ("B0", "A0") not in legs
    for leg in (("A8", "C8"), ("C8", "C7"), ("C7", "A7"), ("A7", "B7")):  # far: the block
        assert leg in legs
    for leg in (("B0", "D0"), ("D0", "D1"), ("D1", "B1"), ("B1", "A1")):  # near: the block
        assert leg in legs
    edges = [router.eid[(ids[u], ids[v])] for u, v in legs]
    assert router.reversals(edges, closed=True) == set()
    # by hand: B0-D0-D1-B1 18 s, B1-A1 2 s, A1..A8 7 x 6 s, A8-C8-C7-A7 18 s, A7-B7 2 s,
    # B7..B0 7 x 6 s = 124 s; the walk through both median gaps costs 100 s
    assert cy.cost == pytest.approx(124.0)
    assert len(legs) == len(set(legs))


def test_without_a_block_the_median_u_turn_is_refused() -> None:
    G = _divided_road(far_block=False)
    ids = _ids(G)
    router = TurnRouter(G, max_turn_deg=150.0)
    # the east end has only the median gap: no loop round a block within the turn limit
    with pytest.raises(ReversalError, match="turns back through the short connector") as err:
        router.cycle([ids["B0"], ids["A8"]])
    # the refusal names where: the turnaround at the east end, A8 (the west end has its block)
    assert err.value.at == (ids["A8"],)


def test_no_repair_budget_refuses_rather_than_u_turns() -> None:
    G = _divided_road()
    ids = _ids(G)
    router = TurnRouter(G, max_turn_deg=150.0)
    with pytest.raises(DesignError, match="short connector"):
        router.cycle([ids["B0"], ids["A8"]], max_reversal_repairs=0)


# ------------------------------------------------------------------------------------------------
# the default feed: every block, trip to trip


def _read(z: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(z.read(name).decode("utf-8-sig"))))


def _bearing(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Compass bearing from ``a`` to ``b`` ((lat, lon), local plane), written out here."""
    dx = (b[1] - a[1]) * math.cos(math.radians((a[0] + b[0]) / 2.0))
    return math.degrees(math.atan2(dx, b[0] - a[0])) % 360.0


def _signed(b_in: float, b_out: float) -> float:
    return (b_out - b_in + 180.0) % 360.0 - 180.0


def _reversals(
    pts: list[tuple[float, float]], window_m: float, limit: float
) -> list[tuple[int, float]]:
    """Start index (into ``pts``) and net turn of each stretch of at most ``window_m`` of road
    whose signed changes of heading add up to more than ``limit``: a turn at point ``k`` is
    from segment ``k-1 -> k`` into ``k -> k+1``; the road between the first and the last turn
    counted is at most ``window_m``. Points closer than :data:`MIN_SEGMENT_M` to the last one
    kept are skipped (the sum of the turns over a stretch is the change from its first heading
    to its last, so skipping a point hides no reversal)."""
    keep = [0]
    for k in range(1, len(pts)):
        if geo.haversine_m(*pts[keep[-1]], *pts[k]) >= MIN_SEGMENT_M:
            keep.append(k)
    seg: list[tuple[float, float, int]] = []  # bearing, length, index of the start point
    for k0, k1 in zip(keep[:-1], keep[1:], strict=True):
        a, b = pts[k0], pts[k1]
        seg.append((_bearing(a, b), geo.haversine_m(*a, *b), k0))
    out = []
    for i in range(len(seg) - 1):
        net = _signed(seg[i][0], seg[i + 1][0])
        road = 0.0
        j = i + 1
        while abs(net) <= limit and j + 1 < len(seg):
            road += seg[j][1]
            if road > window_m:
                break
            net += _signed(seg[j][0], seg[j + 1][0])
            j += 1
        if abs(net) > limit:
            out.append((seg[i][2] + 1, net))
    return out


def test_default_feed_blocks_never_reverse(default_feed, scenario) -> None:  # noqa: ANN001
    """Walk each block's shapes point to point, joins included: no net turn above the limit
    within REVERSAL_WINDOW_M of road anywhere, at terminals and garages too."""
    limit = scenario.design.max_turn_deg + TURN_SLACK_DEG
    z = zipfile.ZipFile(default_feed)
    shapes: dict[str, list[tuple[float, float]]] = {}
    raw: dict[str, list[tuple[int, float, float]]] = {}
    for row in _read(z, "shapes.txt"):
        raw.setdefault(row["shape_id"], []).append(
            (int(row["shape_pt_sequence"]), float(row["shape_pt_lat"]), float(row["shape_pt_lon"]))
        )
    for k, v in raw.items():
        shapes[k] = [(la, lo) for _, la, lo in sorted(v)]
    trips = {t["trip_id"]: t for t in _read(z, "trips.txt")}
    first: dict[str, int] = {}
    for row in _read(z, "stop_times.txt"):
        h, m, s = (int(x) for x in row["departure_time"].split(":"))
        first[row["trip_id"]] = min(first.get(row["trip_id"], 10**9), h * 3600 + m * 60 + s)
    blocks: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for tid, t in trips.items():
        blocks.setdefault((t["service_id"], t["block_id"]), []).append((first[tid], tid))
    # every way a bus drives from one trip into the next (the trips of a route repeat their
    # two shapes, so the distinct pairs of shapes cover every block): (shape, next shape or "")
    pairs: set[tuple[str, str, str, str]] = set()  # shape, direction ending at the join, next
    for _key, seq in blocks.items():
        seq.sort()
        ts = [trips[tid] for _, tid in seq]
        for a, b in zip(ts, [*ts[1:], None], strict=True):
            nxt = b["shape_id"] if b is not None else ""
            pairs.add((a["route_id"], a["shape_id"], a["direction_id"], nxt))
    found: set[str] = set()
    joins = 0
    for route, s1, _direction, s2 in sorted(pairs):
        pts = list(shapes[s1])
        if s2:
            assert geo.haversine_m(*pts[-1], *shapes[s2][0]) < 1.0, (s1, s2)
            pts += shapes[s2][1:]
            joins += 1
        for k, net in _reversals(pts, REVERSAL_WINDOW_M, limit):
            found.add(
                f"{route} {s1}->{s2 or '-'}: {net:.0f} deg at {pts[k][0]:.5f},{pts[k][1]:.5f}"
            )
    assert joins > 0
    assert not found, f"{len(found)} reversal(s): {sorted(found)[:6]}"


# ------------------------------------------------------------------------------------------------
# stop spacing where the road has no clear place for a new stop


def test_a_fill_stop_never_jumps_to_a_bus_stop_that_leaves_a_long_gap(scenario) -> None:  # noqa: ANN001
    """The 909 m gap of the greedy design, on a straight road you can check by hand.

    A 1,300 m eastbound path; the westbound kerb has a bus stop every 150 m (8 m north of the
    centreline), so no point of the eastbound kerb is clear of bus stops (each is within
    75 m along and 14 m across of one, under real_stop_snap_m + 6 m). The eastbound side has
    two bus stops: T 10 m before the end (the terminal) and C 210 m before it. C cannot be a
    stop of its own (200 m to T is under min_spacing_m), so the 1,290 m gap is cut in two by a
    fill stop near 645 m. With no clear point anywhere, the fill must stay within max_spacing_m
    of both neighbours (between 490 m and 800 m): it used to jump to C, 1,090 m from the start.
    """
    from shuttle import stops as stops_mod

    lat0, lon0 = 37.58, 126.92
    m_lat = 111_195.0
    m_lon = m_lat * math.cos(math.radians(lat0))

    def at(east_m: float, north_m: float) -> tuple[float, float]:
        return lat0 + north_m / m_lat, lon0 + east_m / m_lon

    G = nx.MultiDiGraph(crs="epsg:4326")
    for i in range(14):
        lat, lon = at(100.0 * i, 0.0)
        G.add_node(i + 1, x=lon, y=lat)
    for i in range(1, 14):
        a, b = G.nodes[i], G.nodes[i + 1]
        m = geo.haversine_m(a["y"], a["x"], b["y"], b["x"])
        for u, v in ((i, i + 1), (i + 1, i)):
            G.add_edge(u, v, 0, length=m, highway="secondary", name="테스트로", travel_time=m / 7.5)

    def bus(ars: str, east_m: float, north_m: float) -> stops_mod.BusStop:
        lat, lon = at(east_m, north_m)
        return stops_mod.BusStop(
            ars=ars, node_id=f"1{ars}", name_ko=f"정류장{ars}", lat=lat, lon=lon, kind="일반차로"
        )

    west = [bus(f"14{i:03d}", 150.0 * i, 8.0) for i in range(9)]
    east = [bus("13001", 1090.0, -8.0), bus("13002", 1290.0, -8.0)]
    idx = stops_mod.build_stop_index(G, west + east)
    ps = stops_mod.place_stops(G, list(range(1, 15)), idx, scenario)
    st = scenario.stops
    d = [p.dist_m for p in ps]
    assert ps[-1].ars == "13002"  # T is the terminal
    assert d[-1] == pytest.approx(1290.0, abs=2.0)
    assert "13001" not in {p.ars for p in ps}  # C would leave a 1,090 m gap (or a 200 m one)
    gaps = [b - a for a, b in zip(d[:-1], d[1:], strict=True)]
    assert max(gaps) <= st.max_spacing_m + 1.0, d
    assert len(ps) == 3, d  # start, one fill, T
