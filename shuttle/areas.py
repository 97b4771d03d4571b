"""Districts (gu), administrative dongs and their population, read from the data directory.

Files (relative to the data directory, see ``SOURCES.md`` there):

* ``boundaries/seoul_municipalities_juso2015.geojson``: gu polygons, property ``SIG_CD``;
* ``boundaries/seoul_admdong_vuski_2021-04.geojson``: dong polygons (``adm_cd2``, ``adm_nm``,
  ``sgg``);
* ``demand/seoul_dong_population_2021q2.tsv``: dong population, joined by name.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from . import geo
from .config import DISTRICTS, Scenario
from .errors import ConfigError, DataError

__all__ = [
    "DISTRICTS_FILE",
    "DONGS_FILE",
    "POPULATION_FILE",
    "Zone",
    "district_polygons",
    "read_zones",
    "study_area",
]

log = logging.getLogger(__name__)

DISTRICTS_FILE = "boundaries/seoul_municipalities_juso2015.geojson"
DONGS_FILE = "boundaries/seoul_admdong_vuski_2021-04.geojson"
POPULATION_FILE = "demand/seoul_dong_population_2021q2.tsv"


@dataclass(frozen=True, slots=True, eq=False)
class Zone:
    """An administrative dong: the demand zone."""

    code: str  # adm_cd2, 10 digits
    name_ko: str  # dong name, e.g. "상암동"
    district: int  # gu code
    geometry: BaseGeometry  # lon/lat polygon
    population: int  # residents, 2021 Q2


def _read_geojson(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        msg = f"{path}: boundary file not found (check --data-dir or SHUTTLE_DATA)"
        raise DataError(msg) from e
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        msg = f"{path}: not a readable GeoJSON file ({e})"
        raise DataError(msg) from e
    feats = data.get("features") if isinstance(data, dict) else None
    if not isinstance(feats, list) or not feats:
        msg = f"{path}: GeoJSON has no features"
        raise DataError(msg)
    return feats


@lru_cache(maxsize=8)
def _district_polygons(path: str) -> dict[int, BaseGeometry]:
    out: dict[int, BaseGeometry] = {}
    for f in _read_geojson(Path(path)):
        try:
            code = int(f["properties"]["SIG_CD"])
            out[code] = shape(f["geometry"]).buffer(0)
        except (KeyError, TypeError, ValueError) as e:
            msg = f"{path}: a feature lacks SIG_CD or a valid geometry ({e})"
            raise DataError(msg) from e
    return out


def district_polygons(scenario: Scenario) -> dict[int, BaseGeometry]:
    """Return the lon/lat polygon of each district of the scenario, keyed by gu code.

    Raises
    ------
    ConfigError
        If a district of the scenario is not in the boundary file.
    DataError
        If the boundary file is missing or corrupt.
    """
    path = scenario.data_path(DISTRICTS_FILE)
    allp = _district_polygons(str(path))
    missing = [c for c in scenario.districts if c not in allp]
    if missing:
        msg = f"{scenario.source_file}: district {missing[0]} is not in the data ({path})"
        raise ConfigError(msg)
    return {c: allp[c] for c in scenario.districts}


def study_area(scenario: Scenario, buffer_m: float | None = None) -> BaseGeometry:
    """Return the union of the scenario's districts buffered by ``buffer_m`` metres (lon/lat).

    Computed once per boundary file, districts and buffer (the anchors, stops and the network
    all ask; the union and buffer of the 25 districts take about a second).
    """
    buf = scenario.network.buffer_m if buffer_m is None else buffer_m
    polys = district_polygons(scenario)  # raises for an unknown district
    return _study_area(str(scenario.data_path(DISTRICTS_FILE)), tuple(polys), float(buf))


@lru_cache(maxsize=16)
def _study_area(path: str, districts: tuple[int, ...], buf: float) -> BaseGeometry:
    allp = _district_polygons(path)
    union = unary_union([allp[c] for c in districts])
    if buf <= 0:
        return union
    return geo.to_wgs84(geo.to_metric(union).buffer(buf))


def _population_by_name(path: Path) -> dict[str, int]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        msg = f"{path}: population file not found"
        raise DataError(msg) from e
    except (OSError, UnicodeDecodeError) as e:
        msg = f"{path}: cannot read population file ({e})"
        raise DataError(msg) from e
    out: dict[str, int] = {}
    rows = list(csv.reader(text.splitlines(), delimiter="\t"))
    for i, row in enumerate(rows[3:], start=4):
        if len(row) < 5:
            continue
        gu, dong = row[1].strip(), row[2].strip()
        if gu == "합계" or dong == "소계":
            continue
        try:
            pop = int(row[4].replace(",", ""))
        except ValueError as e:
            msg = f"{path}: line {i}: population {row[4]!r} is not a number"
            raise DataError(msg) from e
        out[f"서울특별시 {gu} {dong.replace('.', '·')}"] = pop
    if not out:
        msg = f"{path}: no dong rows found"
        raise DataError(msg)
    return out


def read_zones(scenario: Scenario) -> tuple[Zone, ...]:
    """Return the dongs of the scenario's districts with their population, sorted by code.

    Raises
    ------
    DataError
        If a file is missing or corrupt, or a dong has no population row.
    """
    dpath = scenario.data_path(DONGS_FILE)
    pops = _population_by_name(scenario.data_path(POPULATION_FILE))
    wanted = set(scenario.districts)
    zones = []
    for f in _read_geojson(dpath):
        p = f.get("properties") or {}
        try:
            gu = int(p["sgg"])
        except (KeyError, TypeError, ValueError) as e:
            msg = f"{dpath}: a feature lacks the gu code 'sgg'"
            raise DataError(msg) from e
        if gu not in wanted:
            continue
        name = str(p.get("adm_nm", ""))
        if name not in pops:
            msg = f"{dpath}: dong {name!r} has no population row in {POPULATION_FILE}"
            raise DataError(msg)
        zones.append(
            Zone(
                code=str(p["adm_cd2"]),
                name_ko=name.split(" ")[-1],
                district=gu,
                geometry=shape(f["geometry"]).buffer(0),
                population=pops[name],
            )
        )
    if not zones:
        msg = f"{dpath}: no dongs of districts {sorted(wanted)}"
        raise DataError(msg)
    return tuple(sorted(zones, key=lambda z: z.code))


def district_name(code: int) -> tuple[str, str]:
    """Return (Korean, English) name of a gu code."""
    return DISTRICTS[code]
