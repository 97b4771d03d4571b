"""Frozen dataclasses passed between the stages (standard library only).

Coordinates are WGS84 ``(lat, lon)`` degrees; distances metres; times integer seconds (times of
day are seconds after midnight and may pass 86400). Containers are tuples so that every object is
hashable and every output built from them is byte-stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .config import Scenario
from .errors import DesignError

__all__ = [
    "Area",
    "Block",
    "Deadhead",
    "DeadheadLeg",
    "Depot",
    "Design",
    "DesignKPIs",
    "FleetRow",
    "DutyRow",
    "Holiday",
    "Pattern",
    "PeriodFigures",
    "Place",
    "Plan",
    "Route",
    "RouteKPI",
    "Stop",
    "Timetable",
    "Trip",
    "route_id",
]

LatLon = tuple[float, float]
Ring = tuple[LatLon, ...]


@dataclass(frozen=True, slots=True)
class Place:
    """A resolved anchor: a place the shuttle must serve."""

    name_ko: str
    name_en: str
    kind: str  # poi | station | bus_stop | point
    lat: float
    lon: float
    district: int | None  # gu code it lies in, None if outside the scenario districts


@dataclass(frozen=True, slots=True)
class Stop:
    """A shuttle stop on the road graph."""

    stop_id: str  # "S0001", stable across runs of the same input
    name_ko: str
    name_en: str
    lat: float  # the stop's position (on or beside its road edge)
    lon: float
    node: int  # road graph node the route passes at this stop
    ars: str | None  # Seoul ARS number when it is a real bus stop, else None
    district: int | None  # gu code
    anchor: str | None = None  # Korean name of the anchor it serves, if any
    # GTFS wheelchair_boarding: 0 unknown (the Seoul stop list has no such field), 1 yes, 2 no
    wheelchair_boarding: int = 0
    anchor_m: float | None = None  # straight-line distance from that anchor, metres


@dataclass(frozen=True, slots=True)
class Pattern:
    """One direction of a route: stop sequence, run times and the routed shape."""

    direction_id: int  # 0 or 1
    headsign_ko: str
    headsign_en: str
    stop_ids: tuple[str, ...]
    run_times_s: tuple[int, ...]  # free-flow run time between consecutive stops, len = stops - 1
    stop_dist_m: tuple[float, ...]  # distance of each stop along the shape, first 0.0, ascending
    shape: tuple[LatLon, ...]  # routed road geometry, first point at the first stop
    length_m: float  # shape length, metres
    node_path: tuple[int, ...] = ()  # road graph nodes from the first to the last stop

    def __post_init__(self) -> None:
        n = len(self.stop_ids)
        if n < 2:
            msg = f"Pattern {self.headsign_en!r} has {n} stop(s); a route needs at least two."
            raise DesignError(msg)
        if len(self.run_times_s) != n - 1 or len(self.stop_dist_m) != n:
            msg = (
                f"Pattern {self.headsign_en!r}: {n} stops but {len(self.run_times_s)} run times "
                f"and {len(self.stop_dist_m)} stop distances."
            )
            raise DesignError(msg)
        if any(t <= 0 for t in self.run_times_s):
            msg = f"Pattern {self.headsign_en!r}: run times must be positive."
            raise DesignError(msg)
        if any(b < a for a, b in zip(self.stop_dist_m, self.stop_dist_m[1:], strict=False)):
            msg = f"Pattern {self.headsign_en!r}: stop distances must ascend along the shape."
            raise DesignError(msg)

    @property
    def run_time_s(self) -> int:
        """Free-flow one-way run time, seconds (no dwell)."""
        return sum(self.run_times_s)


def route_id(index: int, count: int) -> str:
    """The id of the ``index``-th (0-based) of ``count`` routes: ``R1``..``R9``, zero-padded to
    the width of ``count`` (``R01``..``R14``) so that every listing sorted by id (feed, map,
    report) keeps the routes' order."""
    return f"R{index + 1:0{len(str(max(count, 1)))}d}"


@dataclass(frozen=True, slots=True)
class Route:
    """A shuttle route: one pattern per direction (one only for a loop)."""

    route_id: str  # "R1"
    short_name: str  # "1"
    long_name_ko: str
    long_name_en: str
    color: str  # "RRGGBB"
    text_color: str  # "RRGGBB", contrast >= 4.5 against color
    patterns: tuple[Pattern, ...]
    is_loop: bool = False


@dataclass(frozen=True, slots=True)
class RouteKPI:
    """Figures of one route."""

    route_id: str
    length_m: float  # one-way length (mean of the directions)
    one_way_s: int  # one-way run time incl. dwell (mean of the directions)
    cycle_s: int  # both directions plus layovers
    stops: int  # distinct stops served
    km_by_class: tuple[tuple[str, float], ...] = ()  # (road class, km) over both directions
    minor_uses: tuple[tuple[str, float], ...] = ()  # (street name or "", metres) on minor roads
    detour_ratio: float = 0.0  # length / shortest road path between the ends (worst direction)
    detour_anchor: str = ""  # anchor that forces a detour above design.max_detour_ratio, if any
    # per route end (direction 0's far end, then its start): (kind, terminal name, loop metres);
    # kind "terminal" (a [[terminals]] place or a Seoul garage/terminal stop) or "block" (a loop)
    turnarounds: tuple[tuple[str, str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class DesignKPIs:
    """Network figures of a design."""

    method: str
    objective: float  # the value the designer minimised (lower is better)
    att_min: float  # average passenger travel time, minutes
    d0: float  # % of demand with 0 transfers
    d1: float
    d2: float
    dun: float  # % unserved or > 2 transfers
    vehicle_hours: float  # per weekday
    coverage: float  # share (0..1) of the districts' population within the catchment
    routes: tuple[RouteKPI, ...]
    coverage_by_district: tuple[tuple[int, int, int], ...] = ()  # (gu, covered, population)
    walk_min: float = 0.0  # components of att_min: walk to and from the stops, minutes
    wait_min: float = 0.0  # waiting at every boarding (half the headway)
    in_vehicle_min: float = 0.0
    transfer_min: float = 0.0  # transfer penalties
    access_pct: float = 0.0  # % of demand with a stop within walking reach at both ends
    versus_existing: bool = False  # designed for the gain over the existing network


@dataclass(frozen=True, slots=True)
class Design:
    """The output of the route designer: resolved anchors, stops, routes and their figures."""

    places: tuple[Place, ...]
    stops: tuple[Stop, ...]  # sorted by stop_id; every stop is on at least one route
    routes: tuple[Route, ...]  # sorted by route_id
    kpis: DesignKPIs
    catchment: Area | None = None  # union of the stops' walking catchments


@dataclass(frozen=True, slots=True)
class Trip:
    """One scheduled journey of a vehicle along a pattern."""

    trip_id: str
    route_id: str
    service_id: str  # a DAY_TYPE
    direction_id: int
    block_id: str
    period: str  # period of the first departure
    arrival_s: tuple[int, ...]  # one per stop of the pattern
    departure_s: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.arrival_s) != len(self.departure_s):
            msg = f"Trip {self.trip_id}: arrival and departure counts differ."
            raise DesignError(msg)
        times = [t for pair in zip(self.arrival_s, self.departure_s, strict=True) for t in pair]
        if any(b < a for a, b in zip(times, times[1:], strict=False)):
            msg = f"Trip {self.trip_id}: stop times must not go backwards."
            raise DesignError(msg)


@dataclass(frozen=True, slots=True)
class Block:
    """A vehicle duty: trips run by one bus on one day type, in order."""

    block_id: str
    service_id: str
    route_id: str
    trip_ids: tuple[str, ...]
    depot_id: str = ""  # where it pulls out and in ("" without depots: at the terminals)
    start_s: int = 0  # pull-out: leaves the depot (the first departure without depots)
    end_s: int = 0  # pull-in: back at the depot (the last arrival without depots)


@dataclass(frozen=True, slots=True)
class FleetRow:
    """Fleet figures of one route on one day type."""

    route_id: str
    service_id: str
    vehicles: int
    trips: int
    vehicle_hours: float
    vehicle_km: float
    headways_min: tuple[tuple[str, float], ...]  # (period, minutes) actually run
    # vehicle_hours = revenue + layover + deadhead (pull-out to pull-in of every block)
    revenue_hours: float = 0.0  # first departure to last arrival of every trip
    layover_hours: float = 0.0  # at a terminal between two trips of a block
    deadhead_hours: float = 0.0  # pull-out and pull-in
    revenue_km: float = 0.0  # vehicle_km = revenue_km + deadhead_km
    deadhead_km: float = 0.0


@dataclass(frozen=True, slots=True)
class Depot:
    """A bus garage where blocks pull out and pull in (resolved from ``[[depots]]``)."""

    depot_id: str  # "D1", in scenario order
    name_ko: str
    name_en: str
    lat: float
    lon: float
    ars: str | None = None  # the bus stop it was found by, if any


@dataclass(frozen=True, slots=True)
class DeadheadLeg:
    """One entry of the deadhead table: a free-flow road trip between a depot and a stop."""

    depot_id: str
    stop_id: str
    to_depot: bool  # False: depot -> stop (pull-out); True: stop -> depot (pull-in)
    free_s: int  # free-flow driving time on the road graph, seconds
    length_m: float


@dataclass(frozen=True, slots=True)
class Deadhead:
    """A non-revenue move of a block (never in the public feed)."""

    deadhead_id: str
    block_id: str
    service_id: str
    route_id: str
    kind: str  # "pull_out" (depot -> first stop) | "pull_in" (last stop -> depot)
    depot_id: str
    stop_id: str
    start_s: int
    end_s: int
    length_m: float


@dataclass(frozen=True, slots=True)
class DutyRow:
    """Estimated driver shifts of one day type."""

    service_id: str
    duties: int  # shifts no longer than ``service.max_shift_h``
    mean_h: float  # mean shift length, hours
    longest_h: float  # longest shift
    relief_points: int  # reliefs at a terminal or depot inside a block


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    """Passenger figures of one day type and period (run times and headways of that period)."""

    service_id: str
    period: str
    att_min: float
    walk_min: float
    wait_min: float
    in_vehicle_min: float
    transfer_min: float
    d0: float
    d1: float
    d2: float
    dun: float


@dataclass(frozen=True, slots=True)
class Holiday:
    """A public holiday on which the Sunday service runs."""

    date: str  # YYYYMMDD
    name: str


@dataclass(frozen=True, slots=True)
class Timetable:
    """Trips, blocks and fleet of every day type."""

    trips: tuple[Trip, ...]
    blocks: tuple[Block, ...]
    fleet: tuple[FleetRow, ...]
    holidays: tuple[Holiday, ...]
    warnings: tuple[str, ...] = ()
    deadheads: tuple[Deadhead, ...] = ()  # non-revenue moves, sorted by deadhead_id
    depots: tuple[Depot, ...] = ()
    duties: tuple[DutyRow, ...] = ()


@dataclass(frozen=True, slots=True)
class Area:
    """A polygonal area for the map: a district or the stop catchment."""

    code: int  # gu code (0 for the catchment)
    name_ko: str
    name_en: str
    polygons: tuple[tuple[Ring, ...], ...]  # polygons, each as (exterior, *holes) rings
    population: int = 0


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything a scenario produced: the input of the GTFS, map and report writers."""

    scenario: Scenario
    places: tuple[Place, ...]
    stops: tuple[Stop, ...]
    routes: tuple[Route, ...]
    kpis: DesignKPIs
    timetable: Timetable
    districts: tuple[Area, ...] = ()
    catchment: Area | None = None
    periods: tuple[PeriodFigures, ...] = ()  # passenger figures per day type and period
    # riders, loads, cost and the service plan (shuttle.figures.PlanFigures; a later stage's type,
    # so typed loosely here to keep the model free of upward imports); None without demand
    figures: Any = None
    # before/after and overlap against the existing network (shuttle.existing.ExistingFigures,
    # typed loosely as figures is); None when the step did not run (pipeline.make_existing)
    existing: Any = None
