"""The one error hierarchy of the planner.

Every error the user can cause (bad scenario, bad data file, infeasible design) is a
:class:`ShuttleError`; the CLI turns it into one line on stderr and exit code 1. Any other
exception is a bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "DesignError",
    "ExportError",
    "GraphError",
    "ShuttleError",
    "TimetableError",
]


class ShuttleError(Exception):
    """Base class of every error the planner reports to the user as one line."""


class ConfigError(ShuttleError, ValueError):
    """A scenario file or option is missing, malformed or names something unknown."""


class DataError(ShuttleError, ValueError):
    """An input data file (tiles, OSM, GraphML, CSV, GeoJSON) is missing or corrupt."""


class GraphError(ShuttleError):
    """The road graph cannot be built or is unusable (empty clip, disconnected, ...)."""


class DesignError(ShuttleError):
    """The route design problem is infeasible or a designed route is invalid."""


class TimetableError(ShuttleError):
    """The service parameters are infeasible (zero headway, empty span, fleet cap too low)."""


class ExportError(ShuttleError):
    """An output (GTFS feed, map, report) cannot be written or fails its own checks."""
