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
