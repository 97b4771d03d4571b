"""A data-only file format for the road graph cache (no pickle, nothing executable).

A cache file is ``MAGIC`` (16 bytes), the SHA-256 digest (32 bytes) of the payload, then the
payload: a NumPy ``.npz`` archive read with ``allow_pickle=False``. The archive holds

* ``meta``: UTF-8 JSON (as ``uint8``) with the format number, the graph attributes and the node
  and edge attribute columns (name and kind, in the order of the attribute dicts);
* ``node.id`` (``int64``) and one column per node attribute;
* ``edge.u``, ``edge.v``, ``edge.key`` (``int64``) and one column per edge attribute.

A column of kind ``float``/``int``/``bool`` is one array; ``str`` is ``int32`` codes into a
``<name>.vocab`` array of strings; ``line`` (a shapely ``LineString``) is ``<name>.coords``
(``float64``, n x 2) with ``<name>.offsets`` (``int64``). A column missing on some elements has a
``<name>.has`` mask. Graph attributes are JSON; a tuple is written as ``{"__tuple__": [...]}``.

Reading checks the magic and the checksum first, so a truncated or altered file (or a file of
another format, such as a pickle) is a :class:`~shuttle.errors.DataError` before any of it is
parsed, and parsing builds only numbers, strings and geometries. The checksum detects damage, not
an attacker (who can recompute it); safety comes from the format holding no code. Nodes and edges
come back in the same order with the same keys and attribute order, so iteration over the loaded
graph equals iteration over the saved one.
"""

from __future__ import annotations

import hashlib
import io as _io
import json
import numbers
import zipfile
from collections.abc import Mapping
from typing import Any

import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString

from .errors import DataError

__all__ = ["FORMAT", "MAGIC", "decode_graph", "encode_graph"]

#: Bump when the layout changes; files of another format are then rebuilt.
FORMAT = 1
MAGIC = b"SHUTTLEGRAPH\x00v" + str(FORMAT).encode().rjust(2, b"0")
_DIGEST = 32
_TUPLE = "__tuple__"
_MISSING = object()  # an element without the column


# ---------------------------------------------------------------------------------- encoding


def _json_value(value: Any, where: str) -> Any:
    if isinstance(value, tuple):
        return {_TUPLE: [_json_value(v, where) for v in value]}
    if isinstance(value, list):
        return [_json_value(v, where) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            msg = f"graph attribute {where}: dict keys must be strings"
            raise ValueError(msg)
        return {k: _json_value(v, where) for k, v in value.items()}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    msg = f"graph attribute {where}: cannot store a {type(value).__name__}"
    raise ValueError(msg)


def _kind(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, numbers.Real):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, LineString):
        return "line"
    return type(value).__name__


def _columns(
    prefix: str, rows: list[dict[str, Any]], arrays: dict[str, np.ndarray]
) -> list[list[str]]:
    """Add one column per attribute of ``rows`` to ``arrays``; return ``[[name, kind], ...]``."""
    order: dict[str, str] = {}
    for d in rows:
        for k, v in d.items():
            kind = _kind(v)
            if order.setdefault(k, kind) != kind:
                msg = f"{prefix} attribute {k!r}: mixed kinds {order[k]} and {kind}"
                raise ValueError(msg)
    out = []
    for name, kind in order.items():
        key = f"{prefix}.{name}"
        has = np.fromiter((name in d for d in rows), dtype=bool, count=len(rows))
        vals = [d[name] for d in rows if name in d]
        if not has.all():
            arrays[f"{key}.has"] = has
        if kind == "bool":
            arrays[key] = np.asarray(vals, dtype=bool)
        elif kind == "int":
            arrays[key] = np.asarray(vals, dtype=np.int64)  # OverflowError past int64
        elif kind == "float":
            arrays[key] = np.asarray(vals, dtype=np.float64)
        elif kind == "str":
            vocab, codes = np.unique(np.asarray(vals, dtype=str), return_inverse=True)
            arrays[f"{key}.vocab"] = vocab
            arrays[key] = codes.astype(np.int32)
        elif kind == "line":
            coords = shapely.get_coordinates(np.asarray(vals, dtype=object))
            counts = shapely.get_num_coordinates(np.asarray(vals, dtype=object))
            arrays[f"{key}.coords"] = coords.astype(np.float64)
            arrays[f"{key}.offsets"] = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        else:
            msg = f"{prefix} attribute {name!r}: cannot store a {kind}"
            raise ValueError(msg)
        out.append([name, kind])
    return out


def encode_graph(G: nx.MultiDiGraph, graph_attrs: Mapping[str, Any] | None = None) -> bytes:
    """Return the bytes of a cache file holding ``G`` (see the module docstring).

    Node ids and edge keys must be integers; attributes numbers, strings or LineStrings; graph
    attributes JSON values or tuples of them.

    Parameters
    ----------
    G
        The graph.
    graph_attrs
        The graph attributes to store instead of ``G.graph`` (e.g. with objects made plain).

    Raises
    ------
    ValueError
        If the graph holds something the format cannot store (then write no cache).
    OverflowError
        If an integer does not fit in 64 bits.
    """
    arrays: dict[str, np.ndarray] = {}
    nodes = list(G.nodes(data=True))
    arrays["node.id"] = np.asarray([n for n, _ in nodes], dtype=np.int64)
    node_cols = _columns("node", [d for _, d in nodes], arrays)
    edges = list(G.edges(keys=True, data=True))
    for i, name in enumerate(("u", "v", "key")):
        arrays[f"edge.{name}"] = np.asarray([e[i] for e in edges], dtype=np.int64)
    edge_cols = _columns("edge", [e[3] for e in edges], arrays)
    attrs = G.graph if graph_attrs is None else graph_attrs
    meta = {
        "format": FORMAT,
        "graph": {k: _json_value(v, k) for k, v in attrs.items()},
        "node": node_cols,
        "edge": edge_cols,
    }
    arrays["meta"] = np.frombuffer(
        json.dumps(meta, ensure_ascii=False, sort_keys=True).encode("utf-8"), dtype=np.uint8
    )
    buf = _io.BytesIO()
    np.savez(buf, allow_pickle=False, **arrays)
    payload = buf.getvalue()
    return MAGIC + hashlib.sha256(payload).digest() + payload


# ---------------------------------------------------------------------------------- decoding


def _from_json(value: Any) -> Any:
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {_TUPLE}:
            return tuple(_from_json(v) for v in value[_TUPLE])
        return {k: _from_json(v) for k, v in value.items()}
    return value


def _read_column(z: Mapping[str, np.ndarray], key: str, kind: str, n: int) -> list[Any]:
    """Return the column as a list of length ``n`` (``_MISSING`` where an element lacks it)."""
    has = z.get(f"{key}.has")
    if kind in ("bool", "int", "float"):
        arr = z[key]
        want = {"bool": np.bool_, "int": np.int64, "float": np.float64}[kind]
        if arr.dtype != want:
            msg = f"column {key}: dtype {arr.dtype}, expected {np.dtype(want)}"
            raise ValueError(msg)
        vals: list[Any] = arr.tolist()
    elif kind == "str":
        vocab = z[f"{key}.vocab"]
        if vocab.dtype.kind != "U":
            msg = f"column {key}: vocabulary is not text"
            raise ValueError(msg)
        vals = vocab[z[key].astype(np.int64)].tolist()
    elif kind == "line":
        coords = z[f"{key}.coords"].astype(np.float64, copy=False)
        offsets = z[f"{key}.offsets"].astype(np.int64, copy=False)
        counts = np.diff(offsets)
        if coords.ndim != 2 or coords.shape[1] != 2 or offsets[-1] != len(coords):
            msg = f"column {key}: coordinates do not match their offsets"
            raise ValueError(msg)
        if (counts < 2).any():
            msg = f"column {key}: a line has fewer than two points"
            raise ValueError(msg)
        idx = np.repeat(np.arange(len(counts)), counts)
        vals = list(shapely.linestrings(coords, indices=idx)) if len(counts) else []
    else:
        msg = f"column {key}: unknown kind {kind!r}"
        raise ValueError(msg)
    if has is None:
        if len(vals) != n:
            msg = f"column {key}: {len(vals)} values for {n} elements"
            raise ValueError(msg)
        return vals
    if has.dtype != np.bool_ or len(has) != n or int(has.sum()) != len(vals):
        msg = f"column {key}: mask does not match the values"
        raise ValueError(msg)
    it = iter(vals)
    return [next(it) if h else _MISSING for h in has.tolist()]


def _rows(z: Mapping[str, np.ndarray], prefix: str, cols: list[Any], n: int) -> list[dict]:
    names = [str(c[0]) for c in cols]
    data = [_read_column(z, f"{prefix}.{name}", str(kind), n) for name, kind in cols]
    if not data:
        return [{} for _ in range(n)]
    if not any(f"{prefix}.{name}.has" in z for name in names):
        return [dict(zip(names, vals, strict=True)) for vals in zip(*data, strict=True)]
    return [
        {k: v for k, v in zip(names, vals, strict=True) if v is not _MISSING}
        for vals in zip(*data, strict=True)
    ]


def _assemble(
    ids: list[int],
    node_rows: list[dict],
    u: list[int],
    v: list[int],
    k: list[int],
    edge_rows: list[dict],
) -> nx.MultiDiGraph:
    """Fill the graph's adjacency dicts directly, as ``add_edges_from`` would (3x faster).

    A successor key dict is shared with the predecessor side, as in
    :meth:`networkx.MultiDiGraph.add_edge`.
    """
    G = nx.MultiDiGraph()
    node, succ, pred = G._node, G._succ, G._pred  # noqa: SLF001
    for n, d in zip(ids, node_rows, strict=True):
        node[n] = d
        succ[n] = {}
        pred[n] = {}
    if len(node) != len(ids):
        msg = "a node id repeats"
        raise ValueError(msg)
    for a, b, key, d in zip(u, v, k, edge_rows, strict=True):
        nbrs = succ[a]  # KeyError: an edge names an unknown node
        keydict = nbrs.get(b)
        if keydict is None:
            if b not in node:
                msg = f"edge ({a}, {b}) names an unknown node"
                raise ValueError(msg)
            keydict = nbrs[b] = {}
            pred[b][a] = keydict
        if key in keydict:
            msg = f"edge ({a}, {b}, {key}) repeats"
            raise ValueError(msg)
        keydict[key] = d
    return G


def decode_graph(data: bytes, *, where: str = "graph cache") -> nx.MultiDiGraph:
    """Rebuild the graph from the bytes of a cache file.

    Raises
    ------
    DataError
        If the bytes are not a cache file of this format, fail the checksum, or do not parse.
    """
    if not data.startswith(MAGIC):
        msg = f"{where}: not a graph cache file of format {FORMAT}"
        raise DataError(msg)
    digest = data[len(MAGIC) : len(MAGIC) + _DIGEST]
    payload = data[len(MAGIC) + _DIGEST :]
    if hashlib.sha256(payload).digest() != digest:
        msg = f"{where}: checksum mismatch (truncated or altered)"
        raise DataError(msg)
    try:
        with np.load(_io.BytesIO(payload), allow_pickle=False) as npz:
            z = {k: npz[k] for k in npz.files}
        meta = json.loads(z["meta"].tobytes().decode("utf-8"))
        if meta.get("format") != FORMAT:
            msg = f"format {meta.get('format')!r}"
            raise ValueError(msg)
        ids = z["node.id"]
        u, v, k = z["edge.u"], z["edge.v"], z["edge.key"]
        if not all(a.dtype == np.int64 and a.ndim == 1 for a in (ids, u, v, k)):
            msg = "node ids and edge ends must be int64 vectors"
            raise ValueError(msg)
        if not len(u) == len(v) == len(k):
            msg = "edge columns differ in length"
            raise ValueError(msg)
        node_rows = _rows(z, "node", meta["node"], len(ids))
        edge_rows = _rows(z, "edge", meta["edge"], len(u))
        G = _assemble(ids.tolist(), node_rows, u.tolist(), v.tolist(), k.tolist(), edge_rows)
        G.graph.update({str(a): _from_json(b) for a, b in meta["graph"].items()})
    except (ValueError, KeyError, TypeError, IndexError, OSError, zipfile.BadZipFile) as e:
        msg = f"{where}: malformed graph cache ({e})"
        raise DataError(msg) from e
    return G
