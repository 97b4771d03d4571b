"""The stage cache: data-only files, exact round trips, damage rebuilt, cold run = warm run."""

from __future__ import annotations

import datetime
import logging
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from toyplan import nw3_variant, toy_design

from shuttle import compare, stagecache
from shuttle.cli import main
from shuttle.model import Design
from shuttle.passengers import LineSpec

# ------------------------------------------------------------------------------------- codec


def test_design_round_trip_is_exact() -> None:
    d = toy_design()
    arrays, meta = stagecache.decode(stagecache.encode({}, stagecache.to_data(d)))
    back = stagecache.from_data(meta)
    assert isinstance(back, Design)
    assert back == d  # every field, floats to the last bit
    assert stagecache.key_of(back) == stagecache.key_of(d)
    assert arrays == {}


def test_values_keep_their_types() -> None:
    value = {
        3: (1.5, float("inf"), -0.0),
        "a": [np.float64(0.1), np.int64(7), True, None],
        "d": datetime.date(2027, 1, 4),
        "m": np.array([[1.0, np.nan], [np.inf, 2.5]]),
    }
    back = stagecache.from_data(stagecache.to_data(value))
    assert set(back) == {3, "a", "d", "m"}
    assert isinstance(back[3], tuple)
    assert back[3][:2] == (1.5, float("inf"))
    assert str(back[3][2]) == "-0.0"
    assert isinstance(back["a"], list)
    assert type(back["a"][0]) is np.float64
    assert back["a"][0] == 0.1
    assert type(back["a"][1]) is np.int64
    assert back["a"][2] is True
    assert back["a"][3] is None
    assert back["d"] == datetime.date(2027, 1, 4)
    assert back["m"].dtype == np.float64
    np.testing.assert_array_equal(back["m"], value["m"])


@pytest.mark.parametrize(
    "name", ["os:system", "builtins:object", "subprocess:Popen", "shuttle.model:Design.x"]
)
def test_only_package_dataclasses_are_built(name: str) -> None:
    with pytest.raises(ValueError, match="not a dataclass"):
        stagecache.from_data({"$dc": name, "f": {}})


def test_object_arrays_are_refused() -> None:
    with pytest.raises(ValueError, match="objects"):
        stagecache.encode({"x": np.array([object()], dtype=object)})


def test_key_changes_with_every_input() -> None:
    base = ("assign", [1.0, 2.0], np.arange(4.0))
    k = stagecache.key_of(*base)
    assert stagecache.key_of(*base) == k
    assert stagecache.key_of("assign", [1.0, 2.0000001], np.arange(4.0)) != k
    assert stagecache.key_of("assign", [1.0, 2.0], np.arange(4.0) + 1e-12) != k
    assert stagecache.key_of("assign", [1.0, 2.0], np.arange(4, dtype=np.float32)) != k


# ------------------------------------------------------------------------------- the files


def test_damaged_file_is_computed_again_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    a = np.array([[0.0, 1.25], [2.5, np.inf]])
    stagecache.save(tmp_path, "assign", "k1", {"time_s": a}, {"n": 2})
    (f,) = tmp_path.glob("stage-assign-k1.npz")
    assert f.read_bytes()[:16] == stagecache.MAGIC
    got = stagecache.load(tmp_path, "assign", "k1")
    assert got is not None
    np.testing.assert_array_equal(got[0]["time_s"], a)
    assert got[1] == {"n": 2}
    data = bytearray(f.read_bytes())
    data[-10] ^= 0xFF
    f.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="shuttle.stagecache"):
        assert stagecache.load(tmp_path, "assign", "k1") is None
    assert len([r for r in caplog.records if "damaged" in r.getMessage()]) == 1
    f.write_bytes(b"\x80\x04pickle")  # another format: never unpickled
    assert stagecache.load(tmp_path, "assign", "k1") is None


def test_the_least_recently_used_files_go_when_the_folder_outgrows_its_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # four entries of 100 kB of random bytes each (they do not compress), written a minute
    # apart; then entry 0 is read again, so entry 1 is the least recently used
    rng = np.random.default_rng(0)
    for i in range(4):
        stagecache.save(tmp_path, "t", f"k{i}", {"a": rng.integers(0, 255, 100_000, np.uint8)})
        f = tmp_path / f"stage-t-k{i}.npz"
        os.utime(f, ns=(10**18 + i * 60 * 10**9,) * 2)
    assert stagecache.load(tmp_path, "t", "k0") is not None
    size = (tmp_path / "stage-t-k3.npz").stat().st_size
    assert 100_000 < size < 101_000
    # a bound of 3.5 entries: the fifth entry makes five, so two go, the least recently used
    # first: entry 1 (written first, never read), then entry 2; entry 0 was read, 3 and 4 new
    monkeypatch.setenv("SHUTTLE_STAGE_CACHE_MB", str(3.5 * size / 1e6))
    stagecache.save(tmp_path, "t", "k4", {"a": rng.integers(0, 255, 100_000, np.uint8)})
    left = sorted(p.name for p in tmp_path.glob("stage-*.npz"))
    assert left == ["stage-t-k0.npz", "stage-t-k3.npz", "stage-t-k4.npz"]
    # a bound below one entry still keeps the one just written
    monkeypatch.setenv("SHUTTLE_STAGE_CACHE_MB", "0")
    stagecache.save(tmp_path, "t", "k5", {"a": np.zeros(10, np.uint8)})
    assert [p.name for p in tmp_path.glob("stage-*.npz")] == ["stage-t-k5.npz"]


# ------------------------------------------------------------------- a cached assignment


def _line(headway_s: float) -> LineSpec:
    # two stops 1.8 km apart on an east-west street, 5 minutes between them
    return LineSpec("L1", (("a", 126.90, 37.56), ("b", 126.92, 37.56)), (300.0,), headway_s)


def test_cached_skim_equals_the_computed_one_and_follows_its_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pts = [(126.90, 37.56), (126.92, 37.56)]
    kw = {"walk_speed_kmh": 4.5, "transfer_penalty_min": 5.0}
    fresh = compare.skim([_line(600.0)], pts, **kw)
    cold = compare.skim([_line(600.0)], pts, **kw, cache_dir=tmp_path)
    # by hand: wait half the 10-minute headway, ride 5 minutes (walking 1.8 km takes 24 min)
    assert fresh[0, 1] == pytest.approx(10.0, abs=0.01)
    np.testing.assert_array_equal(cold, fresh)
    assert len(list(tmp_path.glob("stage-assign-*.npz"))) == 1

    def boom(*a: object, **k: object) -> None:
        raise AssertionError("assigned again")

    monkeypatch.setattr(compare, "_assign", boom)
    warm = compare.skim([_line(600.0)], pts, **kw, cache_dir=tmp_path)
    np.testing.assert_array_equal(warm, fresh)
    with pytest.raises(AssertionError, match="assigned again"):  # another headway: new key
        compare.skim([_line(300.0)], pts, **kw, cache_dir=tmp_path)


# ----------------------------------------------------------- shuttle plan, cold and warm


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def test_plan_from_a_warm_stage_cache_is_byte_identical(
    tmp_path: Path, cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    scen = nw3_variant(tmp_path, "warm", routes="4", iterations="150", curve_fleets="[10, 30]")
    stage = tmp_path / "cache"  # the session's road graphs, no stage results yet
    stage.mkdir()
    for pattern in ("network-*.graph", "baseline-*.json.gz"):
        for f in cache_dir.glob(pattern):
            os.link(f, stage / f.name)

    def plan(out: str) -> str:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="shuttle"):
            r = CliRunner().invoke(
                main,
                ["-v", "--cache-dir", str(stage), "plan", "-s", str(scen),
                 "--gtfs-dir", str(tmp_path / out / "gtfs"),
                 "--maps-dir", str(tmp_path / out / "maps")],
            )  # fmt: skip
        assert r.exit_code == 0, r.output
        return caplog.text

    cold_log = plan("cold")
    assert "read from the stage cache" not in cold_log
    kinds = {p.name.split("-")[1] for p in stage.glob("stage-*.npz")}
    assert {"design", "demand", "plan", "curve", "existing", "assign"} <= kinds
    warm_log = plan("warm")
    for what in ("design", "service plan", "budget curve", "existing-network comparison"):
        assert f"{what} read from the stage cache" in warm_log
    cold, warm = _files(tmp_path / "cold"), _files(tmp_path / "warm")
    assert {"gtfs/warm.zip", "maps/warm.report.json", "gtfs/warm.routes.json"} <= set(cold)
    assert sorted(cold) == sorted(warm)
    for name in cold:
        assert cold[name] == warm[name], name
    # a damaged design entry: one warning, designed again, the same bytes
    (f,) = stage.glob("stage-design-*.npz")
    f.write_bytes(f.read_bytes()[:-100])
    again_log = plan("again")
    assert again_log.count("is damaged") == 1
    assert _files(tmp_path / "again") == cold


def test_stage_cache_can_be_switched_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With SHUTTLE_STAGE_CACHE=0 nothing is written and a stored entry is not read."""
    stagecache.save(tmp_path, "t", "k1", {"a": np.arange(3)}, {"x": 1})
    assert stagecache.load(tmp_path, "t", "k1") is not None
    monkeypatch.setenv("SHUTTLE_STAGE_CACHE", "0")
    assert stagecache.load(tmp_path, "t", "k1") is None
    stagecache.save(tmp_path, "t", "k2", {"a": np.arange(3)}, {"x": 2})
    monkeypatch.delenv("SHUTTLE_STAGE_CACHE")
    assert stagecache.load(tmp_path, "t", "k2") is None  # never written
    assert stagecache.load(tmp_path, "t", "k1")[1] == {"x": 1}
