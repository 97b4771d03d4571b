"""Shared fixtures: the data directory in ../shared/data and the default scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from shuttle.config import Scenario, default_data_dir, load_scenario

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real public data beside the repo (never copied into it)."""
    d = default_data_dir()
    assert (d / "SOURCES.md").is_file(), f"shared data not found at {d}"
    return d


@pytest.fixture(scope="session")
def scenario(data_dir: Path) -> Scenario:
    """The default scenario nw3."""
    return load_scenario("nw3", data_dir=data_dir)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """Small hand-made fixtures in tests/data."""
    return FIXTURES


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Graph cache for the test session: $SHUTTLE_CACHE if set (fast reruns), else a temp dir."""
    import os

    env = os.environ.get("SHUTTLE_CACHE")
    return Path(env) if env else tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def road_graph(scenario: Scenario, cache_dir: Path):  # noqa: ANN201
    """The default scenario's road graph, built from the vector tiles once per session."""
    from shuttle import network

    return network.load_graph(scenario, cache_dir=cache_dir)


@pytest.fixture(scope="session")
def designs(road_graph, scenario: Scenario):  # noqa: ANN001, ANN201
    """The default scenario designed by each method (at most two designs per session)."""
    from shuttle import design

    return {m: design.design_network(road_graph, scenario, method=m) for m in design.ALGORITHMS}


@pytest.fixture(scope="session")
def nw3_plan(road_graph, scenario: Scenario, designs):  # noqa: ANN001, ANN201
    """The default plan (what ``shuttle plan`` makes): the anneal design, planned once a session."""
    from shuttle import pipeline

    return pipeline.make_plan(scenario, road_graph, design=designs["anneal"])


@pytest.fixture(scope="session")
def default_feed(nw3_plan, tmp_path_factory):  # noqa: ANN001, ANN201
    """The default feed (what ``shuttle plan`` writes as gtfs_out/nw3.zip)."""
    from shuttle import gtfs

    return gtfs.write_feed(nw3_plan, tmp_path_factory.mktemp("default_feed") / "nw3.zip")
