"""Fuzz the input readers: every bad input must end in a ShuttleError, nothing else.

Run: ``python bench/fuzz_scenario.py [--examples N] [--data-dir DIR] [--only NAME]``.

Targets (hypothesis, derandomized: the same inputs on every run):

``scenario``
    :func:`shuttle.config.load_scenario` on mutations of the packaged ``nw3.toml`` (values
    replaced by random TOML values of any type, lines deleted or duplicated, unknown or known
    keys and tables added, raw text inserted) and on random text.
``od``
    :func:`shuttle.demand.read_od_csv` on random OD tables (zone codes, numbers such as ``1e400``,
    ``nan``, ``-0``, full-width digits, short and long rows, quotes, long fields).
``bus_stops``
    :func:`shuttle.places.read_bus_stop_file` on random TOPIS-like rows.
``stations``
    the station master reader on random rows.
``bytes``
    the shared CSV reader (:func:`shuttle.io.read_csv_rows`) on random bytes (bad UTF-8, NUL,
    BOM, CR).
``paths``
    the same reader on odd paths (NUL, a folder, very long names, missing files).

Prints, per target, how many inputs were tried and how many raised something other than a
:class:`~shuttle.errors.ShuttleError` (with the first few of them); exit status 1 if any did.
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from shuttle import config, demand, io, places
from shuttle.areas import Zone
from shuttle.errors import ShuttleError

#: Inputs per target by default (sum >= 10,000).
DEFAULT_EXAMPLES = {
    "scenario": 4000, "od": 2500, "bus_stops": 2000, "stations": 1000, "bytes": 1000,
    "paths": 500,
}  # fmt: skip

NW3 = config.scenario_path("nw3").read_text(encoding="utf-8")
#: Keys the scenario parser asks for (found in config.py), to add known keys in odd places.
KEYS = sorted(
    set(re.findall(r"""\.(?:get|positive|table)\(\s*["']([a-z_0-9]+)["']""",
                   Path(config.__file__).read_text(encoding="utf-8")))
    | {"kind", "name", "name_en", "lat", "lon", "line", "ars", "span", "headways_min"}
)  # fmt: skip
SECTIONS = ["scenario", "network", "network.speeds_kph", "stops", "demand", "design", "service",
            "service.weekday", "service.saturday", "service.sunday", "service.periods",
            "[anchors]", "nowhere"]  # fmt: skip
ZONES = tuple(
    Zone(code=c, name_ko=f"동{i}", district=11410, geometry=box(0, 0, 1, 1), population=100)
    for i, c in enumerate(("1141051500", "1141055500", "1138055100", "1144056500"))
)

# ------------------------------------------------------------------------------- TOML values

_bare = st.sampled_from(KEYS + ["x", "peak", "offpeak", "evening", "weekday", "primary"])
_str = st.text(max_size=12) | st.sampled_from(
    ["", "07:00", "24:00", "99:99", "-1:00", "tiles", "osm", "pbf", "graphml", "online", "csv",
     "gravity", "anneal", "greedy", "poi", "station", "bus_stop", "2호선", "../../etc/passwd",
     "nw3", "a b", "https://x", "javascript:1", "=1+1"]
)  # fmt: skip
_scalar = (
    st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([0, 1, -1, 11410, 11380, 11440, 11999, 2**63, -(2**63) - 1])
    | st.floats(allow_nan=True, allow_infinity=True)
    | _str
    | st.sampled_from(
        ["DATE:2027-01-04", "DATE:2027-02-30", "DATE:1979-05-27T07:32:00", "TIME:07:00:00"]
    )  # fmt: skip
)
_value = st.recursive(
    _scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_bare, inner, max_size=3),
    max_leaves=8,
)


def toml(v: Any) -> str:
    """Render a value as a TOML literal (strings starting DATE:/TIME: become bare dates)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v != v:
            return "nan"
        if v in (float("inf"), float("-inf")):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        if v.startswith(("DATE:", "TIME:")):
            return v[5:]
        return json.dumps(v)  # a TOML basic string (lone surrogates make invalid TOML: fine)
    if isinstance(v, list):
        return "[" + ", ".join(toml(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


_op = st.one_of(
    st.tuples(st.just("set"), st.integers(0, 10_000), _value),
    st.tuples(st.just("del"), st.integers(0, 10_000), st.none()),
    st.tuples(st.just("dup"), st.integers(0, 10_000), st.none()),
    st.tuples(st.just("add"), st.integers(0, 10_000), st.tuples(_bare, _value)),
    st.tuples(st.just("table"), st.integers(0, 10_000), st.sampled_from(SECTIONS)),
    st.tuples(st.just("raw"), st.integers(0, 10_000), st.text(max_size=20)),
)
_KEY_LINE = re.compile(r"^(\s*[A-Za-z0-9_]+\s*=\s*)(.*?)(\s*#.*)?$")


def mutate(text: str, ops: list[tuple[str, int, Any]]) -> str:
    """Apply line operations to a TOML text."""
    lines = text.splitlines()
    for op, i, arg in ops:
        if not lines:
            break
        i %= len(lines)
        if op == "set":
            m = _KEY_LINE.match(lines[i])
            if m:
                lines[i] = m.group(1) + toml(arg)
        elif op == "del":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "add":
            lines.insert(i + 1, f"{arg[0]} = {toml(arg[1])}")
        elif op == "table":
            lines.insert(i, f"[{arg}]" if not arg.startswith("[") else f"[{arg}]")
        elif op == "raw":
            lines.insert(i, arg)
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------- CSV values

_cell = st.one_of(
    st.sampled_from([z.code for z in ZONES]),
    st.sampled_from(
        [
            "",
            " ",
            "1",
            "0",
            "-0",
            "-1",
            "1e400",
            "-1e400",
            "nan",
            "inf",
            "1_000",
            "０１",
            "٣",
            "1,5",
            "0x10",
            '"',
            "'",
            "origin",
            "trips",
            "126.9",
            "37.5",
            "200.0",
            "-91",
            "NaN",
            "1e-400",
            "\t",
            "=1+1",
        ]
    ),  # fmt: skip
    st.text(max_size=8),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
)
_row = st.lists(_cell, max_size=9)


def csv_text(rows: list[list[str]], header: list[str] | None, quote: bool, long: bool) -> str:
    """Render rows as CSV (raw joins or quoted), with an optional header and a huge field."""
    out = []
    if header is not None:
        out.append(",".join(header))
    for r in rows:
        out.append(",".join(f'"{c}"' if quote else c for c in r))
    if long:
        out.append('"' + "x" * 200_000 + '",1,2')  # past csv.field_size_limit()
    return "\n".join(out) + ("\n" if out else "")


_header_od = st.sampled_from(
    [None, ["origin", "destination", "trips"], ["Origin ", "destination", "TRIPS"], ["a", "b"]]
)
_header_st = st.sampled_from([None, ["역사_ID", "역사명", "호선", "위도", "경도"], ["x"]])


# ------------------------------------------------------------------------------- the harness


class Tally:
    """Counts inputs and foreign exceptions of one target."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tried = 0
        self.shuttle = 0
        self.foreign: list[tuple[str, str]] = []
        self.kinds: collections.Counter[str] = collections.Counter()

    def run(self, fn: Callable[[], Any], shown: str) -> None:
        self.tried += 1
        try:
            fn()
        except ShuttleError as e:
            self.shuttle += 1
            msg = str(e)
            if "\n" in msg.strip():
                self.foreign.append(("multi-line ShuttleError", msg[:300]))
            self.kinds[type(e).__name__] += 1
        except Exception as e:  # noqa: BLE001 - the point: find anything else
            where = "".join(traceback.format_exception(e)[-3:])
            self.foreign.append((f"{type(e).__name__}: {e}"[:300], f"{shown[:200]!r}\n{where}"))


def _fuzz(name: str, n: int, strategy: st.SearchStrategy, body: Callable[[Any], None]) -> None:
    @settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def test(x: Any) -> None:
        body(x)

    test()


def main(argv: list[str] | None = None) -> int:
    """Run every target and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=float, default=1.0, help="scale the default counts")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--only", default=None, choices=sorted(DEFAULT_EXAMPLES))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)  # the readers' warnings are expected here
    data_dir = args.data_dir or str(config.default_data_dir())
    tallies: dict[str, Tally] = {}
    counts = {k: max(1, round(v * args.examples)) for k, v in DEFAULT_EXAMPLES.items()}
    if args.only:
        counts = {args.only: counts[args.only]}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="shuttle-fuzz-") as td:
        tmp = Path(td)
        seq = iter(range(10**9))

        def fresh(suffix: str, data: str | bytes) -> str:
            p = tmp / f"in{next(seq)}{suffix}"
            if isinstance(data, bytes):
                p.write_bytes(data)
            else:
                p.write_text(data, encoding="utf-8", errors="surrogatepass")
            return str(p)

        def scenario(x: tuple[str, Any]) -> None:
            kind, payload = x
            text = mutate(NW3, payload) if kind == "mutate" else payload
            path = fresh(".toml", text.encode("utf-8", "surrogatepass"))
            tallies["scenario"].run(lambda: config.load_scenario(path, data_dir=data_dir), text)

        def od(x: tuple[Any, ...]) -> None:
            text = csv_text(*x)
            path = fresh(".csv", text.encode("utf-8", "surrogatepass"))
            tallies["od"].run(lambda: demand.read_od_csv(path, ZONES), text)

        def stops(x: tuple[Any, ...]) -> None:
            text = csv_text(*x)
            path = fresh(".csv", text.encode("utf-8", "surrogatepass"))
            reader = places.read_bus_stop_file.__wrapped__  # no lru_cache: every input is read
            tallies["bus_stops"].run(lambda: reader(path), text)

        def stations(x: tuple[Any, ...]) -> None:
            text = csv_text(*x)
            path = fresh(".csv", text.encode("utf-8", "surrogatepass"))
            reader = places._read_stations.__wrapped__  # noqa: SLF001
            tallies["stations"].run(lambda: reader(path), text)

        def raw(b: bytes) -> None:
            path = fresh(".csv", b)
            tallies["bytes"].run(lambda: io.read_csv_rows(path, "fuzz file"), repr(b))

        def path(p: str) -> None:
            tallies["paths"].run(lambda: io.read_csv_rows(p, "fuzz file"), p)

        flags = (st.booleans(), st.integers(0, 40).map(lambda k: k == 0))
        targets: dict[str, tuple[st.SearchStrategy, Callable[[Any], None]]] = {
            "scenario": (
                st.one_of(
                    st.tuples(st.just("mutate"), st.lists(_op, min_size=1, max_size=6)),
                    st.tuples(st.just("text"), st.text(max_size=200)),
                ),
                scenario,
            ),
            "od": (st.tuples(st.lists(_row, max_size=6), _header_od, *flags), od),
            "bus_stops": (st.tuples(st.lists(_row, max_size=6), st.none(), *flags), stops),
            "stations": (st.tuples(st.lists(_row, max_size=6), _header_st, *flags), stations),
            "bytes": (
                st.binary(max_size=300)
                | st.lists(
                    st.sampled_from(
                        [
                            b"\xef\xbb\xbf",
                            b"\x00",
                            b"\r",
                            b"\n",
                            b'"',
                            b",",
                            b"\xff",
                            b"\xed\xa0\x80",
                            b"a",
                            b"1",
                        ]
                    ),
                    max_size=40,
                ).map(b"".join),  # fmt: skip
                raw,
            ),
            "paths": (
                st.text(max_size=30)
                | st.sampled_from(["", ".", "/", "/tmp", "\x00", "a\x00b", "x" * 5000, "~", "-"])
                | st.text(max_size=8).map(lambda t: f"{tmp}/{t}"),
                path,
            ),
        }
        for name, n in counts.items():
            tallies[name] = Tally(name)
            strategy, body = targets[name]
            t = time.perf_counter()
            _fuzz(name, n, strategy, body)
            tallies[name].seconds = time.perf_counter() - t  # type: ignore[attr-defined]
    out = sys.stdout
    out.write(f"{'target':<12}{'inputs':>8}{'ShuttleError':>14}{'other':>7}{'seconds':>9}\n")
    total = foreign = 0
    for t in tallies.values():
        total += t.tried
        foreign += len(t.foreign)
        secs = t.seconds  # type: ignore[attr-defined]
        out.write(f"{t.name:<12}{t.tried:>8}{t.shuttle:>14}{len(t.foreign):>7}{secs:>9.1f}\n")
    out.write(f"{'total':<12}{total:>8}{'':>14}{foreign:>7}{time.perf_counter() - t0:>9.1f}\n")
    for t in tallies.values():
        for what, shown in t.foreign[:3]:
            out.write(f"\n[{t.name}] {what}\ninput: {shown}\n")
        if t.kinds:
            kinds = ", ".join(f"{k} {v}" for k, v in t.kinds.most_common())
            out.write(f"{t.name}: {kinds}\n")
    return 1 if foreign else 0


if __name__ == "__main__":
    raise SystemExit(main())
