"""Same input, same output: `shuttle plan` under different hash seeds gives identical bytes.

A small variant of nw3 (6 routes, 150 annealing iterations; the same data, graph and chain) keeps
the two runs short; they run at once, in separate output folders.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from toyplan import nw3_variant

from shuttle import io

WAIT_S = 900.0


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != io.LOCK_NAME
    }


def test_plan_is_byte_identical_under_other_hash_seeds(tmp_path: Path, cache_dir: Path) -> None:
    scen = nw3_variant(tmp_path, "det", routes="6", iterations="150")
    procs = []
    for seed in ("1", "4242"):
        out = tmp_path / f"seed{seed}"
        # the stage cache is off: each run computes every stage (a shared cache would let the
        # second run read the first one's design)
        env = {
            **os.environ,
            "PYTHONHASHSEED": seed,
            "SHUTTLE_CACHE": str(cache_dir),
            "SHUTTLE_STAGE_CACHE": "0",
        }
        env.pop("SHUTTLE_TEST_PAUSE_AT", None)
        cmd = [
            str(Path(sys.executable).with_name("shuttle")), "plan", "--no-existing",
            "-s", str(scen),
            "--gtfs-dir", str(out / "gtfs"), "--maps-dir", str(out / "maps"),
        ]  # fmt: skip
        procs.append(
            subprocess.Popen(  # noqa: S603 - our own console script
                cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        )
    try:
        for p in procs:
            _, err = p.communicate(timeout=WAIT_S)
            assert p.returncode == 0, err.decode()
    finally:
        for p in procs:  # a run that timed out is stopped, not left to later tests
            if p.poll() is None:
                p.kill()
                p.communicate()
    a, b = _files(tmp_path / "seed1"), _files(tmp_path / "seed4242")
    expected = {
        "gtfs/det.zip",
        "gtfs/det.routes.json",
        "gtfs/det.routes.geojson",
        "maps/det.html",
        "maps/index.html",
        "maps/det.report.html",
        "maps/det.report.json",
    }
    assert set(a) == expected
    assert set(b) == expected
    different = sorted(k for k in expected if a[k] != b[k])
    assert different == []


@pytest.mark.parametrize("seed", ["0", "77"])
def test_hash_seed_really_differs(seed: str) -> None:
    """The seeds above do change str hashing (else the test above would prove nothing)."""
    code = "print(hash('shuttle'))"
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    other = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        env={**env, "PYTHONHASHSEED": "4242"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out != other
