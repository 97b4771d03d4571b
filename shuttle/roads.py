"""What class and name a road edge has: the one answer for every stage.

Graph edges carry ``highway`` (one of the road classes of :data:`shuttle.config.ROAD_CLASSES`
once :mod:`shuttle.network` has built the graph, but an OSM tag or a list of tags on a graph
loaded from GraphML or osmnx) and ``name`` (a string, a list of strings, NaN or absent).
:func:`road_class` and :func:`road_name` reduce both to one string, the same way everywhere:

- a class is the most important of the edge's classes (:data:`CLASS_RANK`), each OSM tag mapped
  through :data:`OSM_CLASSES` (``residential`` -> ``minor``, ``primary_link`` -> ``primary``);
  an edge with no known tag is of class :data:`OTHER`;
- a name is the alphabetically first non-empty name, stripped; an unnamed edge gives ``""``.

:data:`BUS_CLASSES` are the classes a route of a full-size (11 m) bus runs on in Seoul by default
(tertiary and larger; the urban expressways, trunk and motorway, are left out by the designer's
``design.avoid_classes`` because a stopping bus cannot use them).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from .config import ROAD_CLASSES

__all__ = [
    "BUS_CLASSES",
    "CLASS_RANK",
    "OSM_CLASSES",
    "OTHER",
    "class_of_tag",
    "road_class",
    "road_name",
]

#: OSM ``highway`` tags -> road class.
OSM_CLASSES: dict[str, str] = {
    "motorway": "motorway",
    "motorway_link": "motorway",
    "trunk": "trunk",
    "trunk_link": "trunk",
    "primary": "primary",
    "primary_link": "primary",
    "secondary": "secondary",
    "secondary_link": "secondary",
    "tertiary": "tertiary",
    "tertiary_link": "tertiary",
    "residential": "minor",
    "unclassified": "minor",
    "living_street": "minor",
    "road": "minor",
    "minor": "minor",
    "service": "service",
    "track": "track",
    "path": "path",
    "footway": "path",
    "cycleway": "path",
    "bridleway": "path",
    "steps": "path",
    "pedestrian": "path",
    "corridor": "path",
}
#: Road classes from the most to the least important.
CLASS_RANK: tuple[str, ...] = ROAD_CLASSES
#: Class of an edge whose tags map to no road class.
OTHER = "other"
#: Classes a full-size bus route runs on (before ``design.avoid_classes`` is taken out).
BUS_CLASSES: tuple[str, ...] = ("trunk", "primary", "secondary", "tertiary")


def _as_list(value: Any) -> list[Any]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return [value]


def class_of_tag(highway: Any) -> str:
    """Road class of a ``highway`` value (a class, an OSM tag or a list of either).

    Examples
    --------
    >>> class_of_tag("residential"), class_of_tag(["tertiary", "primary_link"]), class_of_tag(None)
    ('minor', 'primary', 'other')
    """
    got = {OSM_CLASSES.get(str(h).strip(), "") for h in _as_list(highway)} - {""}
    for c in CLASS_RANK:
        if c in got:
            return c
    return OTHER


def road_class(data: Mapping[str, Any]) -> str:
    """Road class of an edge's attribute dict (its ``highway``), see :func:`class_of_tag`."""
    return class_of_tag(data.get("highway"))


def road_name(data: Mapping[str, Any]) -> str:
    """Name of an edge's attribute dict: the first non-empty ``name`` (sorted), or ``""``."""
    names: Iterable[Any] = _as_list(data.get("name"))
    vals = sorted({str(x).strip() for x in names if x is not None} - {"", "nan"})
    return vals[0] if vals else ""
