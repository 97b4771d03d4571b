"""The place names of the data, gathered for :mod:`shuttle.names`.

:func:`scenario_lexicon` builds the :class:`shuttle.names.Lexicon` of a scenario from the names the
data already has, through the readers of :mod:`shuttle.areas` and :mod:`shuttle.places`:

* the 25 gu names (:data:`shuttle.config.DISTRICTS`);
* the administrative dongs of the scenario's districts (``areas.read_zones``);
* every subway station of the station master (``places.read_stations``);
* every Seoul bus stop name (``places.read_all_bus_stops``);

plus the scenario's anchors (their ``name_en`` wins over every rule). The station master and the
metro graph have no English names (checked: ``seoul_station_master_OA-21232_2025-05.csv`` has
역사_ID, 역사명, 호선, 위도, 경도; ``seoul_metro_graph_2020-12.gml`` has Korean ``station_name``
only), so station names come from :func:`shuttle.names.station_name_en`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache

from . import areas, names, places
from .config import DISTRICTS, Scenario
from .model import Place

__all__ = ["anchor_names", "data_place_names", "scenario_lexicon", "stop_name_en"]

log = logging.getLogger(__name__)


def data_place_names(scenario: Scenario) -> tuple[str, ...]:
    """Return the Korean place names of the data (gu, dong, station, bus stop), sorted, unique.

    Raises
    ------
    DataError
        If a data file is missing or corrupt.
    """
    found: set[str] = {ko for ko, _ in DISTRICTS.values()}
    found.update(z.name_ko for z in areas.read_zones(scenario))
    found.update(s.name for s in places.read_stations(scenario))
    found.update(s.name_ko for s in places.read_all_bus_stops(scenario))
    return tuple(sorted(n for n in found if n.strip()))


def anchor_names(scenario: Scenario, resolved: Sequence[Place] = ()) -> dict[str, str]:
    """Return Korean name -> English name of the scenario's anchors.

    The English is the anchor's ``name_en``; where a resolved place is given for an anchor (same
    Korean name), its ``name_en`` (which falls back to the romanization) is used. Anchors with no
    English name are left out.
    """
    out = {a.name: a.name_en for a in scenario.anchors if a.name and a.name_en}
    for p in resolved:
        if p.name_ko and p.name_en:
            out.setdefault(p.name_ko, p.name_en)
    return dict(sorted(out.items()))


def scenario_lexicon(scenario: Scenario, resolved: Sequence[Place] = ()) -> names.Lexicon:
    """Return the lexicon that names the stops of a scenario.

    Parameters
    ----------
    scenario
        The scenario (its data directory, districts and anchors).
    resolved
        The resolved anchors (:func:`shuttle.places.resolve_places`), optional.

    Returns
    -------
    shuttle.names.Lexicon
        Stems learned from :func:`data_place_names`, fixed words from :func:`anchor_names`.
        The same object for the same arguments (cached), so that the cache of
        :func:`shuttle.names.english_name` serves every stage.

    Raises
    ------
    DataError
        If a data file is missing or corrupt.
    """
    return _scenario_lexicon(scenario, tuple(resolved))


@lru_cache(maxsize=8)
def _scenario_lexicon(scenario: Scenario, resolved: tuple[Place, ...]) -> names.Lexicon:
    all_names = data_place_names(scenario)
    lex = names.lexicon_from_names(all_names, anchor_names(scenario, resolved))
    log.info("name lexicon: %d stems from %d place names", len(lex.stems), len(all_names))
    return lex


def stop_name_en(scenario: Scenario, name_ko: str, anchor: str | None = None) -> str:
    """Return the English name of a stop of the scenario (one call for a stage to make).

    :func:`shuttle.names.anchor_name_en` with the scenario's lexicon and anchors: the anchor's
    ``name_en`` wins for a stop that serves it; every other name is segmented with the stems of
    the data.

    Parameters
    ----------
    scenario
        The scenario.
    name_ko
        The stop's Korean name.
    anchor
        Korean name of the anchor the stop serves (``Stop.anchor``), or None.

    Returns
    -------
    str

    Raises
    ------
    DataError
        If a data file is missing or corrupt.

    Examples
    --------
    In ``nw3`` the stop "홍대입구역" serving the anchor "홍대입구" is "Hongik Univ. Station", and
    "남가좌동현대아파트후문" is "Namgajwa-dong Hyeondae Apartments Back Gate".
    """
    return names.anchor_name_en(name_ko, anchor, anchor_names(scenario), scenario_lexicon(scenario))
