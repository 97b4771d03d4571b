"""The road-graph cache: data-only format, checksum, tampering and foreign files never executed."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import logging
import pickle
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString

from shuttle import graphcache, network
from shuttle.config import Scenario
from shuttle.errors import DataError

SENTINEL_ENV = "SHUTTLE_TEST_SENTINEL"


class _Evil:
    """Unpickling this creates a file: proof that code from the cache ran."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.path,))


def _with_osm(scenario: Scenario, path: Path) -> Scenario:
    net = dataclasses.replace(scenario.network, source="osm", path=str(path))
    return dataclasses.replace(scenario, network=net)


@pytest.fixture
def osm_scenario(scenario: Scenario, fixtures_dir: Path) -> Scenario:
    return _with_osm(scenario, fixtures_dir / "tiny.osm")


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("shuttle")
    ]


def _same(a: nx.MultiDiGraph, b: nx.MultiDiGraph) -> None:
    assert list(a.nodes(data=True)) == list(b.nodes(data=True))
    assert list(a.edges(keys=True, data=True)) == list(b.edges(keys=True, data=True))
    ga = {k: v for k, v in a.graph.items() if k != "cache_path"}
    gb = {k: v for k, v in b.graph.items() if k != "cache_path"}
    assert ga == gb
    assert all(list(a.pred[n]) == list(b.pred[n]) for n in a)


# ------------------------------------------------------------------------------- the format


def _small_graph() -> nx.MultiDiGraph:
    """Two parallel edges, a missing optional attribute, a tuple and nested graph attributes."""
    G = nx.MultiDiGraph(crs="epsg:4326", districts=(11410, 11440), report={"a": (1, 2.5)})
    G.add_node(10, x=126.9, y=37.5, street_count=2)
    G.add_node(-3, x=126.91, y=37.51, street_count=1)
    line = LineString([(126.9, 37.5), (126.905, 37.505), (126.91, 37.51)])
    G.add_edge(10, -3, length=1.5, geometry=line, name="연세로", oneway=False, osmid=2**40)
    G.add_edge(10, -3, length=2.5, geometry=line.reverse(), name="", oneway=True)
    G.add_edge(-3, 10, length=1.5, geometry=line.reverse(), name="연세로", oneway=False)
    return G


def test_round_trip_keeps_values_types_and_order() -> None:
    G = _small_graph()
    H = graphcache.decode_graph(graphcache.encode_graph(G))
    _same(G, H)
    assert H.graph["districts"] == (11410, 11440)  # a tuple again, not a list
    assert H.graph["report"] == {"a": (1, 2.5)}
    assert "osmid" not in H.edges[10, -3, 1]
    assert type(H.edges[10, -3, 0]["osmid"]) is int
    assert type(H.edges[10, -3, 0]["oneway"]) is bool
    assert H.edges[10, -3, 1]["geometry"].coords[0] == (126.91, 37.51)
    # parallel edges share their key dict between the successor and predecessor views
    assert H._succ[10][-3] is H._pred[-3][10]  # noqa: SLF001
    assert [k for _, _, k in H.in_edges(-3, keys=True)] == [0, 1]


def test_file_layout_is_magic_digest_payload() -> None:
    data = graphcache.encode_graph(_small_graph())
    assert data.startswith(graphcache.MAGIC)
    n = len(graphcache.MAGIC)
    assert hashlib.sha256(data[n + 32 :]).digest() == data[n : n + 32]
    with np.load(io.BytesIO(data[n + 32 :]), allow_pickle=False) as z:
        assert {"meta", "node.id", "edge.u", "edge.v", "edge.key"} <= set(z.files)
        assert all(z[k].dtype != object for k in z.files)


def test_unstorable_attribute_is_refused() -> None:
    G = _small_graph()
    G.edges[10, -3, 0]["extra"] = object()
    with pytest.raises(ValueError, match="extra"):
        graphcache.encode_graph(G)
    G = _small_graph()
    G.graph["when"] = object()
    with pytest.raises(ValueError, match="when"):
        graphcache.encode_graph(G)


@pytest.mark.parametrize(
    ("mangle", "needle"),
    [
        (lambda b: b[:-1], "checksum"),  # truncated
        (lambda b: b[:100], "checksum"),
        (lambda b: b[: len(graphcache.MAGIC) + 10], "checksum"),
        (lambda b: b"", "not a graph cache"),
        (lambda b: b[:-40] + bytes([b[-40] ^ 1]) + b[-39:], "checksum"),  # one bit
        (lambda b: b"SHUTTLEGRAPH\x00v99" + b[len(graphcache.MAGIC) :], "not a graph cache"),
    ],
)
def test_damaged_bytes_are_a_data_error(mangle: Any, needle: str) -> None:
    data = graphcache.encode_graph(_small_graph())
    with pytest.raises(DataError, match=needle):
        graphcache.decode_graph(mangle(data), where="x.graph")


def _sealed(payload: bytes) -> bytes:
    """A file with a valid header around any payload (as an attacker could write)."""
    return graphcache.MAGIC + hashlib.sha256(payload).digest() + payload


def test_object_array_with_valid_checksum_never_runs(tmp_path: Path) -> None:
    """An npz whose array is a pickle passes the checksum but is refused before unpickling."""
    sentinel = tmp_path / "ran"
    buf = io.BytesIO()
    evil = np.empty(1, dtype=object)
    evil[0] = _Evil(sentinel)
    np.savez(buf, meta=np.frombuffer(b"{}", dtype=np.uint8), **{"node.id": evil})
    with pytest.raises(DataError, match="malformed"):
        graphcache.decode_graph(_sealed(buf.getvalue()))
    assert not sentinel.exists()


@pytest.mark.parametrize(
    "arrays",
    [
        {"meta": b'{"format": 1, "graph": {}, "node": [], "edge": []}'},  # no node ids
        {"meta": b"not json"},
        {"meta": b'{"format": 1, "graph": {}, "node": [["x", "pickle"]], "edge": []}'},
    ],
)
def test_well_sealed_nonsense_is_a_data_error(arrays: dict[str, bytes]) -> None:
    buf = io.BytesIO()
    base = {
        "node.id": np.array([1, 2], dtype=np.int64),
        "node.x": np.array([1.0, 2.0]),
        "edge.u": np.array([1], dtype=np.int64),
        "edge.v": np.array([3], dtype=np.int64),  # an unknown node
        "edge.key": np.array([0], dtype=np.int64),
    }
    np.savez(buf, **base, **{k: np.frombuffer(v, dtype=np.uint8) for k, v in arrays.items()})
    with pytest.raises(DataError, match="malformed"):
        graphcache.decode_graph(_sealed(buf.getvalue()))


def test_edge_to_unknown_node_is_a_data_error() -> None:
    buf = io.BytesIO()
    meta = b'{"format": 1, "graph": {}, "node": [], "edge": []}'
    np.savez(
        buf,
        meta=np.frombuffer(meta, dtype=np.uint8),
        **{
            "node.id": np.array([1, 2], dtype=np.int64),
            "edge.u": np.array([1], dtype=np.int64),
            "edge.v": np.array([3], dtype=np.int64),
            "edge.key": np.array([0], dtype=np.int64),
        },
    )
    with pytest.raises(DataError, match="unknown node"):
        graphcache.decode_graph(_sealed(buf.getvalue()))


# --------------------------------------------------------------------------- load_graph


def test_cache_file_is_data_only(osm_scenario: Scenario, tmp_path: Path) -> None:
    G = network.load_graph(osm_scenario, cache_dir=tmp_path)
    path = network.cache_path(osm_scenario, tmp_path)
    assert G.graph["cache_path"] == str(path)
    assert path.suffix == ".graph"
    assert path.read_bytes().startswith(graphcache.MAGIC)
    assert b"\x80\x04\x95" not in path.read_bytes()[:64]  # no pickle stream header
    cached = network.load_graph(osm_scenario, cache_dir=tmp_path)
    _same(G, cached)
    assert isinstance(cached.graph["build_report"], network.BuildReport)
    assert cached.graph["build_report"] == G.graph["build_report"]


def _prime(scenario: Scenario, cache: Path) -> tuple[nx.MultiDiGraph, Path]:
    G = network.load_graph(scenario, cache_dir=cache)
    return G, network.cache_path(scenario, cache)


def _reload_warns_once(
    scenario: Scenario, cache: Path, caplog: pytest.LogCaptureFixture, monkeypatch: Any
) -> nx.MultiDiGraph:
    builds = []
    real = network._build

    def counting(*a: Any, **k: Any) -> nx.MultiDiGraph:
        builds.append(1)
        return real(*a, **k)

    monkeypatch.setattr(network, "_build", counting)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="shuttle"):
        G = network.load_graph(scenario, cache_dir=cache)
    assert builds == [1], "the graph was not rebuilt"
    warnings = _warnings(caplog)
    assert len(warnings) == 1, warnings
    assert "\n" not in warnings[0]
    assert "rebuilding" in warnings[0]
    return G


def test_one_changed_byte_rebuilds_with_one_warning(
    osm_scenario: Scenario, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: Any
) -> None:
    G, path = _prime(osm_scenario, tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    again = _reload_warns_once(osm_scenario, tmp_path, caplog, monkeypatch)
    assert "checksum" in _warnings(caplog)[0]
    _same(G, again)
    assert path.read_bytes().startswith(graphcache.MAGIC)  # the cache was rewritten
    assert graphcache.decode_graph(path.read_bytes()).number_of_edges() == G.number_of_edges()


def test_truncated_cache_rebuilds_with_one_warning(
    osm_scenario: Scenario, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: Any
) -> None:
    G, path = _prime(osm_scenario, tmp_path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    again = _reload_warns_once(osm_scenario, tmp_path, caplog, monkeypatch)
    _same(G, again)


def test_pickle_at_cache_path_is_never_executed(
    osm_scenario: Scenario, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: Any
) -> None:
    G, path = _prime(osm_scenario, tmp_path)
    sentinel = tmp_path / "code-ran"
    path.write_bytes(pickle.dumps(_Evil(sentinel)))
    assert not sentinel.exists()
    again = _reload_warns_once(osm_scenario, tmp_path, caplog, monkeypatch)
    assert not sentinel.exists()
    assert "not a graph cache" in _warnings(caplog)[0]
    _same(G, again)


def test_unwritable_graph_still_loads(
    osm_scenario: Scenario, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: Any
) -> None:
    """A graph the format cannot store is returned anyway; the cache is skipped with a warning."""

    def refuse(*a: Any, **k: Any) -> bytes:
        raise ValueError("graph attribute x: cannot store a set")

    monkeypatch.setattr(graphcache, "encode_graph", refuse)
    with caplog.at_level(logging.WARNING, logger="shuttle"):
        G = network.load_graph(osm_scenario, cache_dir=tmp_path)
    assert G.number_of_edges() > 0
    assert "cache_path" not in G.graph
    assert not network.cache_path(osm_scenario, tmp_path).exists()
    assert any("cannot write the graph cache" in w for w in _warnings(caplog))


def test_killed_cache_write_is_cleaned_on_the_next_load(
    osm_scenario: Scenario, tmp_path: Path
) -> None:
    """A cache write killed mid-way leaves a .part file; the next load (even from the cache)
    removes it once its process is gone."""
    import subprocess
    import sys

    from shuttle import io as sio
    from shuttle import pipeline

    pipeline.build_network(osm_scenario, cache_dir=tmp_path)  # a good cache entry
    dead = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603
    dead.wait()
    name = network.cache_path(osm_scenario, tmp_path).name
    part = tmp_path / f".{name}.{sio._HOST}-{dead.pid}.k1ll3d.part"  # noqa: SLF001
    part.write_bytes(b"half a graph")
    pipeline.build_network(osm_scenario, cache_dir=tmp_path)
    assert not part.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
