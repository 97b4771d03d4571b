"""Scenarios: one TOML file describes one planning scenario.

A scenario names the districts, where the road data comes from, the anchor places the shuttle
must serve and the parameters of every later stage. The default scenario ``nw3`` ships inside the
package (``shuttle/scenarios/nw3.toml``). :func:`load_scenario` reads a file strictly: unknown keys,
wrong types, unknown district codes and impossible values raise :class:`~shuttle.errors.ConfigError`
naming the key and the file.

Fields (type, meaning, default):

``[scenario]``
    ``name`` (str, used for output file names, ``[A-Za-z0-9_-]+``), ``title_ko``/``title_en`` (str),
    ``agency_ko``/``agency_en`` (str, default: the titles, so the feed, map and report name the
    service alike; set them only for an agency named otherwise), ``agency_url`` (str),
    ``districts`` (list of gu codes, required).
``[network]``
    ``source`` (``tiles``|``osm``|``pbf``|``graphml``|``online``, default ``tiles``), ``path`` (str,
    relative to the data directory unless absolute), ``data_date`` (str), ``buffer_m`` (float, 500),
    ``classes`` (list of road classes a bus may use), ``speeds_kph`` (table class -> km/h).
``[stops]``
    ``min_spacing_m`` (300), ``max_spacing_m`` (800), ``new_stop_radius_m`` (150),
    ``catchment_m`` (400), ``real_stop_snap_m`` (100: a new stop this close to a real stop on
    the same side of the road is replaced by it).
``[demand]``
    ``model`` (``gravity``|``csv``), ``od_file`` (CSV ``origin,destination,trips`` of zone codes),
    ``beta_per_min`` (0.08), ``anchor_weight`` (0.25), ``trip_rate`` (0.05),
    ``inter_district_only`` (true).
``[design]``
    ``routes`` (K, 6), ``method`` (``greedy``|``anneal``), ``seed`` (int), ``min_stops`` (5),
    ``max_route_km`` (14), ``max_cycle_min`` (100), ``operator_weight`` (0..1, 0.3),
    ``transfer_penalty_min`` (5), ``walk_speed_kmh`` (4.5), ``iterations`` (4000),
    ``avoid_classes`` (road classes the stopping shuttle does not drive on; motorway, trunk),
    ``bus_classes`` (classes a route runs on; primary, secondary, tertiary), ``minor_access_m``
    (0: how close to a ``[[terminals]]`` place a minor street may be used), ``max_turn_deg``
    (150: largest change of heading at any turn), ``max_detour_ratio`` (1.6: route length over
    the shortest road path between its ends, unless an anchor forces more), ``versus_existing``
    (true: the objective is the travel time with the existing bus and metro network as the
    riders' alternative, so routes earn what they gain over today; off without the
    ``[baseline]`` files), ``duplicate_weight`` (1.0: a route minute along frequent existing
    service, 6+ buses an hour the same way, costs 1 + this many minutes in the operator term),
    ``max_key_nodes`` (0 = no cap, every zone centre may become a key node the routes must
    cover; N > 0: the anchors always, zone key nodes only while the total stays at most N, the
    zones of most demand first, so zone coverage is weighed against cost, not required; the
    demand of the zones left out counts as unserved, see :mod:`shuttle.keynet`).
``[[terminals]]``
    Places where routes may end and turn: ``name`` (Korean; without ``ars`` or ``lat``/``lon``
    the bus stop whose name contains it), ``name_en``, ``ars``, ``lat``/``lon``.
``[service]``
    ``start_date``/``end_date`` (TOML dates), ``dwell_s`` (20), ``layover_min`` (8),
    ``min_layover_min`` (5), one table per day type
    ``weekday``/``saturday``/``sunday`` with ``span = ["HH:MM", "HH:MM"]`` and
    ``headways_min = {peak, offpeak, evening}``, and ``periods`` with the ``peak`` and ``evening``
    time windows and ``time_factors`` per period.
``[routes]``
    ``scheme`` (colour scheme: ``branch`` (Seoul 지선 green, default), ``trunk``, ``circular``,
    ``express``, ``village`` or ``palette``, one colour per route; see :mod:`shuttle.colors`),
    ``number_prefix`` (str, ""), ``number_start`` (int, 1), ``number_width`` (zero-padding, 0).
``[map]``
    ``tile_url`` (base-map tile URL with ``{z}``, ``{x}``, ``{y}``; default OpenStreetMap's
    standard tiles, which a public site should replace by its own tile server),
    ``tile_attribution`` (plain text, required with a custom ``tile_url``),
    ``tile_attribution_url`` (https link of the attribution), ``max_zoom`` (int, 19).
``[baseline]``
    The existing network (:mod:`shuttle.baseline`): ``districts`` (gu codes of its road graph,
    default all 25), ``buffer_m`` (2000), ``classes``, ``snap_m`` (40), ``dwell_s`` (35),
    ``period`` (``offpeak``: the run-time factor compared with the route table), ``exclude_routes``,
    the four ``*_file`` paths under ``transit/``, ``rail_speed_kph`` (33) and the table
    ``rail_headways_min`` (line code -> ``[peak, offpeak, evening]``; ``"*"`` for other lines).
``[[anchors]]``
    ``kind`` (``poi``|``station``|``bus_stop``|``point``), ``name`` (Korean), ``name_en``,
    ``line`` (station line, optional), ``ars`` (bus stop ARS number), ``lat``/``lon`` (WGS84).
``[[depots]]``
    Bus garages where blocks pull out and in: ``name`` (Korean; without ``ars`` or ``lat``/``lon``
    the bus stop whose name contains it), ``name_en``, ``ars`` (bus stop ARS number),
    ``lat``/``lon`` (WGS84). ``[service]`` also takes ``depot_gap_min`` (60: a bus idle longer
    returns to the depot) and ``max_shift_h`` (9: longest driver shift).
``[service]`` calendar
    ``extra_holidays`` (list of dates that run the Sunday/holiday service, besides the frozen
    public holidays of :mod:`shuttle.service_calendar`), ``no_service`` (list of dates without
    any service); each date inside the service period and listed once, in one list only.
``[vehicle]``
    ``name`` (str), ``length_m`` (11), ``seats`` (26), ``standing`` (18; capacity = seats +
    standing), ``low_floor`` (true: trips are ``wheelchair_accessible = 1``, else 2), ``fuel``
    (``cng``|``diesel``|``electric``|``hydrogen``|``hybrid``, ``cng``). Defaults: an 11 m
    low-floor CNG city bus, as Seoul district shuttles use.
``[budget]``
    ``fleet`` (buses on the busiest day; absent: no fleet budget), ``annual_krw`` (annual
    operating cost budget; absent: none), ``target_load_factor`` (0.8 of the vehicle capacity at
    the busiest segment), ``unserved_penalty_min`` (120: the time a trip the network cannot serve
    counts when routes are compared), ``curve_fleets`` (fleet budgets, e.g. ``[10, 20, 30]``: the
    report's budget curve plans the plan's design at each, as ``shuttle sweep --set
    budget.fleet=...`` does; absent or empty: no curve), ``compete_with_existing`` (false: the
    service plan's riders and loads come from the shuttle alone, an upper bound; true: the
    existing bus and metro lines join its assignment as the riders' alternative, about 5 s per
    assignment instead of 0.1 s on nw3, some minutes per plan). The day types' ``headways_min``
    are the policy headways.
``[demand]`` time of day
    ``profile`` (24 hourly shares of the day's trips; absent: the observed hourly boardings of
    the districts' bus stops and subway stations, 2022) and ``day_factors`` (trips on a
    ``saturday`` / ``sunday`` relative to a ``weekday``: 0.8 / 0.65, an assumption).
``[cost]``
    Unit operating costs in KRW (:class:`CostConfig`): ``price_year`` (2010),
    ``krw_per_vehicle_hour`` (27,177), ``krw_per_vehicle_km`` (0), ``krw_per_vehicle_year``
    (49,477,940), from Seoul's 2010 standard transport cost per bus and day.
``[fares]``
    ``policy`` (``free`` (default) | ``flat``), ``fare_krw`` (whole won per boarding, 0 when
    free), ``transfer_min`` (30) and ``max_transfers`` (4): free transfers between the shuttle's
    routes, Seoul's integrated transfer discount. Written as GTFS-Fares v2.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = [
    "DAY_TYPES",
    "DISTRICTS",
    "PERIODS",
    "Anchor",
    "BaselineConfig",
    "BudgetConfig",
    "CostConfig",
    "DayService",
    "DepotConfig",
    "DemandConfig",
    "DesignConfig",
    "FareConfig",
    "NetworkConfig",
    "Scenario",
    "MapConfig",
    "RoutesConfig",
    "ServiceConfig",
    "StopsConfig",
    "VehicleConfig",
    "default_data_dir",
    "load_scenario",
    "parse_hhmm",
    "scenario_path",
]

#: Seoul gu codes (SIG_CD) -> (Korean name, English name).
DISTRICTS: dict[int, tuple[str, str]] = {
    11110: ("종로구", "Jongno-gu"),
    11140: ("중구", "Jung-gu"),
    11170: ("용산구", "Yongsan-gu"),
    11200: ("성동구", "Seongdong-gu"),
    11215: ("광진구", "Gwangjin-gu"),
    11230: ("동대문구", "Dongdaemun-gu"),
    11260: ("중랑구", "Jungnang-gu"),
    11290: ("성북구", "Seongbuk-gu"),
    11305: ("강북구", "Gangbuk-gu"),
    11320: ("도봉구", "Dobong-gu"),
    11350: ("노원구", "Nowon-gu"),
    11380: ("은평구", "Eunpyeong-gu"),
    11410: ("서대문구", "Seodaemun-gu"),
    11440: ("마포구", "Mapo-gu"),
    11470: ("양천구", "Yangcheon-gu"),
    11500: ("강서구", "Gangseo-gu"),
    11530: ("구로구", "Guro-gu"),
    11545: ("금천구", "Geumcheon-gu"),
    11560: ("영등포구", "Yeongdeungpo-gu"),
    11590: ("동작구", "Dongjak-gu"),
    11620: ("관악구", "Gwanak-gu"),
    11650: ("서초구", "Seocho-gu"),
    11680: ("강남구", "Gangnam-gu"),
    11710: ("송파구", "Songpa-gu"),
    11740: ("강동구", "Gangdong-gu"),
}

#: Day types of the service, in GTFS service_id order.
DAY_TYPES: tuple[str, ...] = ("weekday", "saturday", "sunday")
#: Timetable periods.
PERIODS: tuple[str, ...] = ("peak", "offpeak", "evening")

SOURCES = ("tiles", "osm", "pbf", "graphml", "online")
#: Route colour schemes (see shuttle.colors): Seoul route types, or one colour per route.
ROUTE_SCHEMES = ("branch", "trunk", "circular", "express", "village", "palette")
ROAD_CLASSES = (
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "minor",
    "service",
    "track",
    "path",
)
DEFAULT_SPEEDS_KPH: dict[str, float] = {
    "motorway": 60.0,
    "trunk": 45.0,
    "primary": 30.0,
    "secondary": 27.0,
    "tertiary": 24.0,
    "minor": 18.0,
    "service": 10.0,
    "track": 10.0,
    "path": 5.0,
}


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    """Where the road graph comes from and how it is filtered."""

    source: str = "tiles"  # one of SOURCES
    path: str = "osm/vt14_seoul_2021-08"  # relative to the data dir unless absolute
    data_date: str = "2021-08"  # date of the OSM snapshot, for credits
    buffer_m: float = 500.0  # buffer around the district union, metres
    classes: tuple[str, ...] = ("motorway", "trunk", "primary", "secondary", "tertiary", "minor")
    speeds_kph: tuple[tuple[str, float], ...] = tuple(sorted(DEFAULT_SPEEDS_KPH.items()))

    def speed_for(self, road_class: str) -> float:
        """Return the free-flow speed (km/h) of a road class."""
        return dict(self.speeds_kph).get(road_class, DEFAULT_SPEEDS_KPH["minor"])


@dataclass(frozen=True, slots=True)
class StopsConfig:
    """Stop placement parameters (metres)."""

    min_spacing_m: float = 300.0
    max_spacing_m: float = 800.0
    new_stop_radius_m: float = 150.0  # a place with no bus stop this close gets a new stop
    catchment_m: float = 400.0  # walking catchment for coverage
    real_stop_snap_m: float = 100.0  # a new stop this close to a real one on its side takes it


@dataclass(frozen=True, slots=True)
class DemandConfig:
    """Demand model parameters."""

    model: str = "gravity"  # gravity | csv
    od_file: str | None = None  # CSV origin,destination,trips (zone codes)
    beta_per_min: float = 0.08  # gravity deterrence exp(-beta * minutes)
    anchor_weight: float = 0.25  # extra attraction per anchor, share of mean zone population
    trip_rate: float = 0.05  # trips per resident per day
    inter_district_only: bool = True  # drop intra-district pairs
    # share of the day's trips per hour 00..23 (sums to 1); empty: observed from the ridership data
    profile: tuple[float, ...] = ()
    # trips on a Saturday and a Sunday/holiday relative to a weekday (an assumption, documented)
    day_factors: tuple[tuple[str, float], ...] = (
        ("saturday", 0.8),
        ("sunday", 0.65),
        ("weekday", 1.0),
    )

    def day_factor(self, day_type: str) -> float:
        """Trips on ``day_type`` relative to a weekday."""
        return dict(self.day_factors).get(day_type, 1.0)


@dataclass(frozen=True, slots=True)
class BudgetConfig:
    """What the districts fund (``[budget]``) and the standard the service must keep.

    The scenario's headways per day type and period are the policy headways: the widest a route
    may run. Demand and spare buses may narrow them; a budget that cannot keep every route at or
    under them is an error.
    """

    fleet: int | None = None  # buses available on the busiest day; None: no fleet budget
    annual_krw: float | None = None  # annual operating cost budget, KRW; None: none
    target_load_factor: float = 0.8  # share of the vehicle capacity the busiest segment may use
    unserved_penalty_min: float = 120.0  # time charged to a trip the network cannot serve
    # fleet budgets of the report's budget curve (each planned with the plan's design); () none
    curve_fleets: tuple[int, ...] = ()
    compete_with_existing: bool = False  # existing lines in the service plan's assignment


@dataclass(frozen=True, slots=True)
class DesignConfig:
    """Route design parameters."""

    routes: int = 6  # K
    method: str = "anneal"  # greedy | anneal
    seed: int = 20211
    min_stops: int = 5  # fewest stops on a route
    max_route_km: float = 14.0  # longest one-way route
    max_cycle_min: float = 100.0  # longest cycle (both ways + layovers), minutes
    operator_weight: float = 0.3  # 0 = passengers only, 1 = operator only
    transfer_penalty_min: float = 5.0
    walk_speed_kmh: float = 4.5
    iterations: int = 4000  # improvement iterations
    avoid_classes: tuple[str, ...] = ("motorway", "trunk")  # roads a stopping shuttle avoids
    bus_classes: tuple[str, ...] = ("primary", "secondary", "tertiary")  # roads a route runs on
    minor_access_m: float = 0.0  # minor streets allowed this close to a scenario terminal
    max_turn_deg: float = 150.0  # largest change of heading at a turn (no reversal)
    max_detour_ratio: float = 1.6  # route length / shortest road path between its ends
    versus_existing: bool = True  # design for the gain over the existing network
    duplicate_weight: float = 1.0  # extra operator cost of a minute along frequent service
    max_key_nodes: int = 0  # cap on key nodes (anchors always kept); 0 = no cap


@dataclass(frozen=True, slots=True)
class DayService:
    """Span and headways (minutes) of one day type."""

    start_s: int  # first departure, seconds after midnight
    end_s: int  # last departure, seconds after midnight (may pass 86400)
    headways_min: tuple[tuple[str, float], ...]  # (period, minutes), periods in PERIODS order

    def headway(self, period: str) -> float:
        """Return the headway (minutes) of a period."""
        return dict(self.headways_min)[period]


#: Default span and headways (minutes) of each day type.
_DEFAULT_DAYS: dict[str, tuple[str, str, dict[str, float]]] = {
    "weekday": ("06:00", "23:00", {"peak": 12.0, "offpeak": 15.0, "evening": 20.0}),
    "saturday": ("07:00", "22:00", {"peak": 15.0, "offpeak": 15.0, "evening": 20.0}),
    "sunday": ("07:00", "22:00", {"peak": 20.0, "offpeak": 20.0, "evening": 30.0}),
}


def _default_days() -> tuple[tuple[str, DayService], ...]:
    def hhmm(t: str) -> int:
        h, m = t.split(":")
        return int(h) * 3600 + int(m) * 60

    return tuple(
        (day, DayService(hhmm(a), hhmm(b), tuple((p, hw[p]) for p in PERIODS)))
        for day, (a, b, hw) in _DEFAULT_DAYS.items()
    )


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """Service calendar, day types, periods and terminal times."""

    start_date: dt.date = dt.date(2027, 1, 4)
    end_date: dt.date = dt.date(2027, 12, 31)
    dwell_s: int = 20
    layover_min: float = 8.0
    min_layover_min: float = 5.0
    depot_gap_min: float = 60.0  # a bus idle longer than this at a terminal returns to the depot
    max_shift_h: float = 9.0  # longest driver shift (duty estimate), hours
    extra_holidays: tuple[dt.date, ...] = ()  # run the Sunday/holiday service (sorted)
    no_service: tuple[dt.date, ...] = ()  # no service at all (sorted)
    days: tuple[tuple[str, DayService], ...] = field(default_factory=_default_days)
    peak: tuple[tuple[int, int], ...] = ((25200, 34200), (61200, 70200))  # windows, seconds
    evening: tuple[tuple[int, int], ...] = ((72000, 86400),)
    time_factors: tuple[tuple[str, float], ...] = (
        ("evening", 1.0),
        ("offpeak", 1.15),
        ("peak", 1.35),
    )

    def day(self, day_type: str) -> DayService:
        """Return the service of a day type."""
        return dict(self.days)[day_type]

    def period_at(self, t_s: int) -> str:
        """Return the period ('peak', 'offpeak' or 'evening') a time of day falls in.

        Times past midnight (``t_s >= 86400``) outside every window count as evening service.
        """
        if any(a <= t_s < b for a, b in self.peak):
            return "peak"
        if any(a <= t_s < b for a, b in self.evening) or t_s >= 86400:
            return "evening"
        return "offpeak"

    def time_factor(self, period: str) -> float:
        """Return the run-time factor of a period."""
        return dict(self.time_factors).get(period, 1.0)


@dataclass(frozen=True, slots=True)
class RoutesConfig:
    """How routes are numbered and coloured (``[routes]``; see ``colors.route_style``)."""

    scheme: str = "branch"  # one of ROUTE_SCHEMES; branch = Seoul 지선 green (a feeder)
    number_prefix: str = ""  # e.g. "서대문" gives 서대문15 with number_start = 15
    number_start: int = 1  # number of the first route
    number_width: int = 0  # zero-pad the number to this many digits (2 gives 01, 02, ...)


#: OpenStreetMap's standard tiles: fine for a test, not for a busy public site (tile usage policy).
OSM_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


@dataclass(frozen=True, slots=True)
class MapConfig:
    """The base map of the public web map (``[map]``)."""

    tile_url: str = OSM_TILE_URL  # must contain {z}, {x} and {y}
    tile_attribution: str = "© OpenStreetMap contributors"  # plain text, shown on the map
    tile_attribution_url: str = "https://www.openstreetmap.org/copyright"  # link of the credit
    max_zoom: int = 19  # deepest zoom level the tile server has


@dataclass(frozen=True, slots=True)
class DepotConfig:
    """A bus garage as written in the scenario (resolved by :mod:`shuttle.depots`)."""

    name: str  # Korean name; looked up in the bus stop list when neither ars nor lat/lon is given
    name_en: str = ""
    ars: str | None = None
    lat: float | None = None
    lon: float | None = None


#: Fuels a scenario vehicle may use.
FUELS = ("cng", "diesel", "electric", "hydrogen", "hybrid")
#: Fare policies: free to ride, or one flat fare with Seoul's integrated transfer discount.
FARE_POLICIES = ("free", "flat")


@dataclass(frozen=True, slots=True)
class VehicleConfig:
    """The bus type of the scenario (``[vehicle]``); defaults: an 11 m low-floor CNG city bus.

    Seats and standing places are those of Hyundai's New Super Aerocity CNG low-floor bus, the
    most common Seoul city bus, in the seated layout it was offered with from October 2024
    (26 seats, 18 standing); the standard city layout trades seats for standing room.
    """

    name: str = "11 m low-floor CNG city bus"
    length_m: float = 11.0
    seats: int = 26  # passenger seats (driver excluded)
    standing: int = 18  # standing places
    low_floor: bool = True  # GTFS trips.wheelchair_accessible = 1 (else 2)
    fuel: str = "cng"  # one of FUELS

    @property
    def capacity(self) -> int:
        """Passengers per bus: seats plus standing places."""
        return self.seats + self.standing


@dataclass(frozen=True, slots=True)
class CostConfig:
    """Unit operating costs (``[cost]``), KRW at ``price_year`` prices.

    Defaults from Seoul's standard transport cost (표준운송원가) of a large CNG city bus for 2010:
    597,557 KRW per bus and day, of which the running part (가동비: driver wages, fuel) 462,001 and
    the holding part (보유비: maintenance staff, depreciation) 135,556 (Gyotong Shinmun,
    2011-01-07; see FIELD_NOTES.md). The running part is spread over an assumed 17-hour bus day
    (a Seoul city bus runs from about 05:00 to 22:00 in two shifts): 27,177 KRW per vehicle-hour;
    the holding part is counted for every bus of the fleet on every day of the year: 49,477,940
    KRW per bus and year. No per-km cost by default (fuel is in the running part). No newer
    official figure was found in the data; a district should replace these with its own tender.
    """

    price_year: int = 2010  # year of the prices
    krw_per_vehicle_hour: float = 27177.0  # running cost, per vehicle-hour (pull-out to pull-in)
    krw_per_vehicle_km: float = 0.0  # distance cost, per vehicle-km (revenue and deadhead)
    krw_per_vehicle_year: float = 49477940.0  # holding cost, per bus of the fleet and year


@dataclass(frozen=True, slots=True)
class FareConfig:
    """The fare policy (``[fares]``), written to the feed as GTFS-Fares v2.

    ``policy = "free"`` (the default: the districts' own shuttles are free to ride) or ``"flat"``:
    ``fare_krw`` per boarding by transit card, with free transfers between the shuttle's routes
    within ``transfer_min`` of alighting, up to ``max_transfers`` (Seoul's integrated transfer
    discount: 30 minutes, 4 transfers).
    """

    policy: str = "free"  # one of FARE_POLICIES
    fare_krw: int = 0  # per boarding; 1,500 is Seoul's city (branch) bus card fare since 2023
    transfer_min: int = 30  # free transfer window after alighting, minutes
    max_transfers: int = 4  # free transfers per journey


@dataclass(frozen=True, slots=True)
class Anchor:
    """A place the shuttle must serve, as written in the scenario (resolved later)."""

    kind: str  # poi | station | bus_stop | point
    name: str  # Korean name (or the ARS number for bus stops)
    name_en: str = ""
    line: str | None = None  # station line filter, e.g. "2호선"
    ars: str | None = None
    lat: float | None = None
    lon: float | None = None


#: Default metro headways (minutes) by line code: (peak, offpeak, evening); "*" for other lines.
#: "*": Seoul Metropolitan Rapid Transit (lines 5-8) reported 2.5-4.5 min in the rush hours and
#: 5-6 min otherwise (Seoul Shinmun, 2002-10-19); "6": main section 응암-봉화산 4 min at the
#: morning peak, 8 min otherwise (News1 via Daum, 2024-07-29). Lines 2, 3, 5, K (경의중앙) and
#: A (공항철도) are assumptions of this project, to be checked against the operators' timetables.
DEFAULT_RAIL_HEADWAYS: dict[str, tuple[float, float, float]] = {
    "*": (4.0, 6.0, 10.0),
    "2": (2.5, 5.0, 8.0),
    "3": (3.0, 6.0, 8.0),
    "5": (3.0, 5.5, 8.0),
    "6": (4.0, 8.0, 10.0),
    "A": (6.0, 10.0, 12.0),
    "K": (10.0, 15.0, 20.0),
}


@dataclass(frozen=True, slots=True)
class BaselineConfig:
    """The existing bus and metro network (``[baseline]``; see :mod:`shuttle.baseline`)."""

    districts: tuple[int, ...] = ()  # gu codes of the road graph the routes run on; () = all Seoul
    buffer_m: float = 2000.0  # buffer of that graph (the tiles allow about 2 km beyond Seoul)
    classes: tuple[str, ...] = ("motorway", "trunk", "primary", "secondary", "tertiary", "minor")
    snap_m: float = 40.0  # a stop further than this from every road edge is off the graph
    dwell_s: int = 35  # per intermediate stop: dwell plus braking and accelerating (calibrated)
    period: str = "offpeak"  # the period whose run-time factor is compared with 운행시간
    exclude_routes: tuple[str, ...] = ("1234테스트",)  # junk routes of OA-1095
    stops_file: str = "transit/seoul_bus_route_stops_OA-1095_2024.csv"
    info_file: str = "transit/seoul_bus_route_info_2024.csv"
    status_file: str = "transit/seoul_bus_route_status_TOPIS_2023-03.xlsx"
    metro_file: str = "transit/seoul_metro_graph_2020-12.gml"
    rail_speed_kph: float = 33.0  # scheduled metro speed incl. stops (assumption, 30-35 km/h)
    rail_headways_min: tuple[tuple[str, tuple[float, float, float]], ...] = tuple(
        sorted(DEFAULT_RAIL_HEADWAYS.items())
    )


@dataclass(frozen=True, slots=True)
class Scenario:
    """One planning scenario (immutable; use ``dataclasses.replace`` to change it)."""

    name: str
    districts: tuple[int, ...]
    title_ko: str = ""
    title_en: str = ""
    agency_ko: str = ""
    agency_en: str = ""
    agency_url: str = "https://www.seoul.go.kr/"
    network: NetworkConfig = field(default_factory=NetworkConfig)
    stops: StopsConfig = field(default_factory=StopsConfig)
    demand: DemandConfig = field(default_factory=DemandConfig)
    design: DesignConfig = field(default_factory=DesignConfig)
    service: ServiceConfig = field(default_factory=ServiceConfig)
    anchors: tuple[Anchor, ...] = ()
    routes: RoutesConfig = field(default_factory=RoutesConfig)
    map: MapConfig = field(default_factory=MapConfig)
    depots: tuple[DepotConfig, ...] = ()
    terminals: tuple[DepotConfig, ...] = ()  # [[terminals]]: preferred route ends
    vehicle: VehicleConfig = field(default_factory=VehicleConfig)
    fares: FareConfig = field(default_factory=FareConfig)
    cost: CostConfig = field(default_factory=CostConfig)
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    baseline: BaselineConfig = field(default_factory=BaselineConfig)
    source_file: str = ""  # the TOML file it was read from
    data_dir: str = ""  # absolute data directory used to resolve relative paths

    def data_path(self, rel: str) -> Path:
        """Resolve a path from the scenario against the data directory."""
        p = Path(rel).expanduser()
        if p.is_absolute():
            return p
        return Path(self.data_dir) / p

    def district_names(self) -> tuple[tuple[int, str, str], ...]:
        """Return ``(code, name_ko, name_en)`` of each district of the scenario."""
        return tuple((c, *DISTRICTS[c]) for c in self.districts)


# ----------------------------------------------------------------------------------------------
# loading


def scenario_path(name_or_file: str | os.PathLike[str] | None) -> Path:
    """Return the TOML file of a scenario given by packaged name (``nw3``) or by path."""
    if name_or_file is None:
        name_or_file = "nw3"
    s = str(name_or_file)
    if not s.endswith(".toml") and os.sep not in s and "/" not in s:
        res = resources.files("shuttle") / "scenarios" / f"{s}.toml"
        if res.is_file():
            return Path(str(res))
        msg = f"Unknown scenario {s!r}: give a packaged name (nw3) or a .toml file."
        raise ConfigError(msg)
    return Path(s)


def default_data_dir() -> Path:
    """Return the data directory: ``$SHUTTLE_DATA``, else ``../shared/data`` beside the repo."""
    env = os.environ.get("SHUTTLE_DATA")
    if env:
        return Path(env).expanduser().resolve()
    here = Path(__file__).resolve().parent.parent  # the repo (editable install)
    for base in (Path.cwd(), here):
        cand = base.parent / "shared" / "data"
        if cand.is_dir():
            return cand.resolve()
    return (here.parent / "shared" / "data").resolve()


class _Reader:
    """Strict typed access to one TOML table, naming the file and the key in every error."""

    def __init__(self, table: dict[str, Any], where: str, file: str) -> None:
        self.t = table
        self.where = where
        self.file = file
        self.used: set[str] = set()

    def _err(self, key: str, what: str) -> ConfigError:
        k = f"{self.where}.{key}" if self.where else key
        return ConfigError(f"{self.file}: {k}: {what}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        self.used.add(key)
        if key not in self.t:
            return default
        v = self.t[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if isinstance(v, bool) and bool not in kinds:
            raise self._err(key, f"expected {_names(kinds)}, got {v!r}")
        if not isinstance(v, kinds):
            raise self._err(key, f"expected {_names(kinds)}, got {type(v).__name__} {v!r}")
        return v

    def positive(self, key: str, default: float, *, allow_zero: bool = False) -> float:
        v = self.get(key, float, default)
        if not math.isfinite(v):
            raise self._err(key, f"must be a finite number, got {v!r}")
        if v < 0 or (v == 0 and not allow_zero):
            raise self._err(key, f"must be {'>= 0' if allow_zero else '> 0'}, got {v!r}")
        return float(v)

    def table(self, key: str) -> _Reader:
        v = self.get(key, dict, {})
        return _Reader(v, f"{self.where}.{key}" if self.where else key, self.file)

    def check_unknown(self) -> None:
        extra = sorted(set(self.t) - self.used)
        if extra:
            k = f"{self.where}.{extra[0]}" if self.where else extra[0]
            msg = f"{self.file}: unknown key {k!r}"
            raise ConfigError(msg)


def _names(kinds: tuple[type, ...]) -> str:
    return " or ".join(
        {"str": "a string", "float": "a number", "int": "an integer", "bool": "true/false"}.get(
            k.__name__, k.__name__
        )
        for k in kinds
    )


def parse_hhmm(value: str, *, where: str = "time") -> int:
    """Parse ``HH:MM`` (hours may pass 24) to seconds after midnight.

    Raises
    ------
    ConfigError
        If the text is not ``HH:MM``.
    """
    m = re.fullmatch(r"(\d{1,2}):([0-5]\d)", value.strip()) if isinstance(value, str) else None
    if not m:
        msg = f"{where}: expected a time 'HH:MM', got {value!r}"
        raise ConfigError(msg)
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60


def load_scenario(
    path: str | os.PathLike[str] | None = None, *, data_dir: str | os.PathLike[str] | None = None
) -> Scenario:
    """Read a scenario TOML file strictly.

    Parameters
    ----------
    path
        A ``.toml`` file, or the name of a packaged scenario; ``None`` gives ``nw3``.
    data_dir
        Data directory for relative paths; default :func:`default_data_dir`.

    Returns
    -------
    Scenario
        The validated scenario.

    Raises
    ------
    ConfigError
        If the file is missing or malformed, or a key is unknown, of the wrong type or out of range.
    """
    file = scenario_path(path)
    fname = str(file)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        msg = f"{fname}: scenario file not found"
        raise ConfigError(msg) from e
    except (OSError, UnicodeDecodeError) as e:
        msg = f"{fname}: cannot read scenario file ({e})"
        raise ConfigError(msg) from e
    except tomllib.TOMLDecodeError as e:
        msg = f"{fname}: not valid TOML ({e})"
        raise ConfigError(msg) from e
    ddir = Path(data_dir).expanduser().resolve() if data_dir else default_data_dir()
    return _parse(raw, fname, str(ddir))


def _parse(raw: dict[str, Any], fname: str, data_dir: str) -> Scenario:
    top = _Reader(raw, "", fname)
    sc = top.table("scenario")
    name = sc.get("name", str)
    if name is None:
        raise sc._err("name", "missing (required)")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise sc._err("name", f"use letters, digits, '-' and '_' only, got {name!r}")
    districts = sc.get("districts", list)
    if not districts:
        raise sc._err("districts", "missing or empty (give gu codes such as 11410)")
    for d in districts:
        if isinstance(d, bool) or not isinstance(d, int):
            raise sc._err("districts", f"expected integer gu codes, got {d!r}")
        if d not in DISTRICTS:
            raise sc._err("districts", f"unknown district code {d} (Seoul gu codes 11110-11740)")
    if len(set(districts)) != len(districts):
        raise sc._err("districts", "a district code is listed twice")
    scen_kw: dict[str, Any] = {
        "name": name,
        "districts": tuple(districts),
        "title_ko": sc.get("title_ko", str, ""),
        "title_en": sc.get("title_en", str, ""),
        "agency_ko": sc.get("agency_ko", str, ""),
        "agency_en": sc.get("agency_en", str, ""),
        "agency_url": sc.get("agency_url", str, "https://www.seoul.go.kr/"),
    }
    sc.check_unknown()

    scen_kw["network"] = _parse_network(top.table("network"))
    scen_kw["stops"] = _parse_stops(top.table("stops"))
    scen_kw["demand"] = _parse_demand(top.table("demand"))
    scen_kw["design"] = _parse_design(top.table("design"))
    scen_kw["service"] = _parse_service(top.table("service"))
    scen_kw["routes"] = _parse_routes(top.table("routes"))
    scen_kw["map"] = _parse_map(top.table("map"))
    anchors_raw = top.get("anchors", list, [])
    scen_kw["anchors"] = tuple(_parse_anchor(a, i, fname) for i, a in enumerate(anchors_raw))
    depots_raw = top.get("depots", list, [])
    scen_kw["depots"] = tuple(_parse_depot(a, i, fname) for i, a in enumerate(depots_raw))
    terms_raw = top.get("terminals", list, [])
    scen_kw["terminals"] = tuple(_parse_terminal(a, i, fname) for i, a in enumerate(terms_raw))
    scen_kw["vehicle"] = _parse_vehicle(top.table("vehicle"))
    scen_kw["fares"] = _parse_fares(top.table("fares"))
    scen_kw["cost"] = _parse_cost(top.table("cost"))
    scen_kw["budget"] = _parse_budget(top.table("budget"))
    scen_kw["baseline"] = _parse_baseline(top.table("baseline"))
    top.check_unknown()
    return Scenario(**scen_kw, source_file=fname, data_dir=data_dir)


def _parse_network(r: _Reader) -> NetworkConfig:
    d = NetworkConfig()
    source = r.get("source", str, d.source)
    if source not in SOURCES:
        raise r._err("source", f"must be one of {', '.join(SOURCES)}, got {source!r}")
    classes = r.get("classes", list, list(d.classes))
    for c in classes:
        if c not in ROAD_CLASSES:
            raise r._err("classes", f"unknown road class {c!r} (known: {', '.join(ROAD_CLASSES)})")
    if not classes:
        raise r._err("classes", "must name at least one road class")
    sp = r.table("speeds_kph")
    speeds = dict(DEFAULT_SPEEDS_KPH)
    for k in list(sp.t):
        if k not in ROAD_CLASSES:
            raise sp._err(k, f"unknown road class (known: {', '.join(ROAD_CLASSES)})")
        speeds[k] = sp.positive(k, speeds[k])
    sp.check_unknown()
    out = NetworkConfig(
        source=source,
        path=r.get("path", str, d.path if source == "tiles" else ""),
        data_date=r.get("data_date", str, d.data_date),
        buffer_m=r.positive("buffer_m", d.buffer_m, allow_zero=True),
        classes=tuple(classes),
        speeds_kph=tuple(sorted(speeds.items())),
    )
    if source != "online" and not out.path:
        raise r._err("path", f"required for source {source!r}")
    r.check_unknown()
    return out


def _parse_stops(r: _Reader) -> StopsConfig:
    d = StopsConfig()
    out = StopsConfig(
        min_spacing_m=r.positive("min_spacing_m", d.min_spacing_m),
        max_spacing_m=r.positive("max_spacing_m", d.max_spacing_m),
        new_stop_radius_m=r.positive("new_stop_radius_m", d.new_stop_radius_m),
        catchment_m=r.positive("catchment_m", d.catchment_m),
        real_stop_snap_m=r.positive("real_stop_snap_m", d.real_stop_snap_m),
    )
    if out.max_spacing_m < out.min_spacing_m:
        raise r._err("max_spacing_m", f"must be >= min_spacing_m ({out.min_spacing_m})")
    r.check_unknown()
    return out


def _parse_demand(r: _Reader) -> DemandConfig:
    d = DemandConfig()
    model = r.get("model", str, d.model)
    if model not in ("gravity", "csv"):
        raise r._err("model", f"must be 'gravity' or 'csv', got {model!r}")
    out = DemandConfig(
        model=model,
        od_file=r.get("od_file", str, None),
        beta_per_min=r.positive("beta_per_min", d.beta_per_min, allow_zero=True),
        anchor_weight=r.positive("anchor_weight", d.anchor_weight, allow_zero=True),
        trip_rate=r.positive("trip_rate", d.trip_rate),
        inter_district_only=r.get("inter_district_only", bool, d.inter_district_only),
        profile=_profile(r, "profile"),
        day_factors=_day_factors(r, d.day_factors),
    )
    if model == "csv" and not out.od_file:
        raise r._err("od_file", "required when model = 'csv'")
    r.check_unknown()
    return out


def _profile(r: _Reader, key: str) -> tuple[float, ...]:
    raw = r.get(key, list, [])
    if not raw:
        return ()
    if len(raw) != 24:
        raise r._err(key, f"give 24 hourly shares (00-01 ... 23-24), got {len(raw)}")
    vals = []
    for v in raw:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
            raise r._err(key, f"shares must be finite numbers >= 0, got {v!r}")
        vals.append(float(v))
    total = sum(vals)
    if not math.isclose(total, 1.0, abs_tol=1e-3):
        raise r._err(key, f"the 24 shares must add up to 1, got {total:.4f}")
    return tuple(v / total for v in vals)


def _day_factors(
    r: _Reader, default: tuple[tuple[str, float], ...]
) -> tuple[tuple[str, float], ...]:
    t = r.table("day_factors")
    out = {k: t.positive(k, v) for k, v in default}
    t.check_unknown()
    return tuple(sorted(out.items()))


def _parse_budget(r: _Reader) -> BudgetConfig:
    d = BudgetConfig()
    fleet = r.get("fleet", int, None)
    if fleet is not None and fleet < 1:
        raise r._err("fleet", f"must be at least 1 bus, got {fleet}")
    annual = r.get("annual_krw", float, None)
    if annual is not None and not (math.isfinite(annual) and annual > 0):
        raise r._err("annual_krw", f"must be a positive number of won, got {annual!r}")
    lf = r.positive("target_load_factor", d.target_load_factor)
    if lf > 1.5:
        raise r._err("target_load_factor", f"must be at most 1.5 (crush load), got {lf}")
    out = BudgetConfig(
        fleet=fleet,
        annual_krw=annual,
        target_load_factor=lf,
        unserved_penalty_min=r.positive("unserved_penalty_min", d.unserved_penalty_min),
        curve_fleets=_curve_fleets(r),
        compete_with_existing=r.get("compete_with_existing", bool, d.compete_with_existing),
    )
    r.check_unknown()
    return out


def _curve_fleets(r: _Reader) -> tuple[int, ...]:
    vals = r.get("curve_fleets", list, [])
    for v in vals:
        if type(v) is not int or v < 1:
            raise r._err("curve_fleets", f"must be whole numbers of buses >= 1, got {v!r}")
    if len(set(vals)) != len(vals):
        raise r._err("curve_fleets", f"lists a fleet twice: {vals!r}")
    return tuple(sorted(vals))


def _parse_design(r: _Reader) -> DesignConfig:
    d = DesignConfig()
    routes = r.get("routes", int, d.routes)
    if routes < 1:
        raise r._err("routes", f"must be >= 1, got {routes}")
    method = r.get("method", str, d.method)
    if method not in ("greedy", "anneal"):
        raise r._err("method", f"must be 'greedy' or 'anneal', got {method!r}")
    w = r.get("operator_weight", float, d.operator_weight)
    if not 0.0 <= w <= 1.0:
        raise r._err("operator_weight", f"must be between 0 and 1, got {w}")
    min_stops = r.get("min_stops", int, d.min_stops)
    if min_stops < 2:
        raise r._err("min_stops", f"must be >= 2, got {min_stops}")
    iterations = r.get("iterations", int, d.iterations)
    if iterations < 0:
        raise r._err("iterations", f"must be >= 0, got {iterations}")
    max_key_nodes = r.get("max_key_nodes", int, d.max_key_nodes)
    if max_key_nodes < 0:
        raise r._err("max_key_nodes", f"must be >= 0 (0 = no cap), got {max_key_nodes}")
    out = DesignConfig(
        routes=routes,
        method=method,
        seed=r.get("seed", int, d.seed),
        min_stops=min_stops,
        max_route_km=r.positive("max_route_km", d.max_route_km),
        max_cycle_min=r.positive("max_cycle_min", d.max_cycle_min),
        operator_weight=w,
        transfer_penalty_min=r.positive(
            "transfer_penalty_min", d.transfer_penalty_min, allow_zero=True
        ),
        walk_speed_kmh=r.positive("walk_speed_kmh", d.walk_speed_kmh),
        iterations=iterations,
        avoid_classes=tuple(_classes(r, "avoid_classes", list(d.avoid_classes))),
        bus_classes=tuple(_classes(r, "bus_classes", list(d.bus_classes))),
        minor_access_m=r.positive("minor_access_m", d.minor_access_m, allow_zero=True),
        max_turn_deg=r.positive("max_turn_deg", d.max_turn_deg),
        max_detour_ratio=r.positive("max_detour_ratio", d.max_detour_ratio),
        versus_existing=r.get("versus_existing", bool, d.versus_existing),
        duplicate_weight=r.positive("duplicate_weight", d.duplicate_weight, allow_zero=True),
        max_key_nodes=max_key_nodes,
    )
    if not out.bus_classes:
        raise r._err("bus_classes", "must name at least one road class")
    if out.max_turn_deg > 180.0:
        raise r._err("max_turn_deg", f"must be at most 180, got {out.max_turn_deg}")
    if out.max_detour_ratio < 1.0:
        raise r._err("max_detour_ratio", f"must be at least 1, got {out.max_detour_ratio}")
    r.check_unknown()
    return out


def _classes(r: _Reader, key: str, default: list[str]) -> list[str]:
    classes = r.get(key, list, default)
    for c in classes:
        if c not in ROAD_CLASSES:
            raise r._err(key, f"unknown road class {c!r} (known: {', '.join(ROAD_CLASSES)})")
    return classes


def _parse_service(r: _Reader) -> ServiceConfig:
    d = ServiceConfig()
    start = r.get("start_date", dt.date, d.start_date)
    end = r.get("end_date", dt.date, d.end_date)
    if isinstance(start, dt.datetime) or isinstance(end, dt.datetime):
        raise r._err("start_date", "give plain dates (YYYY-MM-DD), not date-times")
    if end < start:
        raise r._err("end_date", f"{end} is before start_date {start}")
    if "fleet_cap" in r.t:
        raise r._err("fleet_cap", "is replaced by budget.fleet (headways are never widened)")
    layover = r.positive("layover_min", d.layover_min, allow_zero=True)
    min_layover = r.positive("min_layover_min", d.min_layover_min, allow_zero=True)
    if layover < min_layover:
        raise r._err("layover_min", f"{layover} is below min_layover_min {min_layover}")
    dwell = r.get("dwell_s", int, d.dwell_s)
    if dwell < 0:
        raise r._err("dwell_s", f"must be >= 0, got {dwell}")

    days = []
    for day in DAY_TYPES:
        t = r.table(day)
        s0, s1, hw0 = _DEFAULT_DAYS[day]
        span = t.get("span", list, [s0, s1])
        if len(span) != 2:
            raise t._err("span", f'expected ["HH:MM", "HH:MM"], got {span!r}')
        a = parse_hhmm(span[0], where=f"{r.file}: {t.where}.span")
        b = parse_hhmm(span[1], where=f"{r.file}: {t.where}.span")
        if b <= a:
            raise t._err("span", f"ends ({span[1]}) before it starts ({span[0]})")
        hw = t.table("headways_min")
        heads = []
        for p in PERIODS:
            v = hw.positive(p, hw0[p])
            heads.append((p, v))
        hw.check_unknown()
        t.check_unknown()
        days.append((day, DayService(start_s=a, end_s=b, headways_min=tuple(heads))))

    per = r.table("periods")

    def windows(key: str, default: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
        v = per.get(key, list, None)
        if v is None:
            return default
        out = []
        for w in v:
            if not (isinstance(w, list) and len(w) == 2):
                raise per._err(key, f'expected a list of ["HH:MM", "HH:MM"] windows, got {w!r}')
            a = parse_hhmm(w[0], where=f"{r.file}: {per.where}.{key}")
            b = parse_hhmm(w[1], where=f"{r.file}: {per.where}.{key}")
            if b <= a:
                raise per._err(key, f"window {w!r} ends before it starts")
            out.append((a, b))
        return tuple(out)

    peak = windows("peak", d.peak)
    evening = windows("evening", d.evening)
    tf = per.table("time_factors")
    factors = {p: tf.positive(p, dict(d.time_factors)[p]) for p in PERIODS}
    tf.check_unknown()
    per.check_unknown()
    out = ServiceConfig(
        start_date=start,
        end_date=end,
        dwell_s=dwell,
        layover_min=layover,
        min_layover_min=min_layover,
        depot_gap_min=r.positive("depot_gap_min", d.depot_gap_min, allow_zero=True),
        max_shift_h=r.positive("max_shift_h", d.max_shift_h),
        extra_holidays=_date_list(r, "extra_holidays", start, end),
        no_service=_date_list(r, "no_service", start, end),
        days=tuple(days),
        peak=peak,
        evening=evening,
        time_factors=tuple(sorted(factors.items())),
    )
    r.check_unknown()
    return out


def _parse_routes(r: _Reader) -> RoutesConfig:
    d = RoutesConfig()
    scheme = r.get("scheme", str, d.scheme)
    if scheme not in ROUTE_SCHEMES:
        raise r._err("scheme", f"must be one of {', '.join(ROUTE_SCHEMES)}, got {scheme!r}")
    prefix = r.get("number_prefix", str, d.number_prefix)
    if len(prefix) > 12 or any(not c.isprintable() or c.isspace() for c in prefix):
        raise r._err("number_prefix", f"use at most 12 visible characters, got {prefix!r}")
    start = r.get("number_start", int, d.number_start)
    if start < 0:
        raise r._err("number_start", f"must be >= 0, got {start}")
    width = r.get("number_width", int, d.number_width)
    if not 0 <= width <= 6:
        raise r._err("number_width", f"must be between 0 and 6, got {width}")
    r.check_unknown()
    return RoutesConfig(scheme, prefix, start, width)


_URL_BAD = re.compile(r"[\s\"'<>\\`]")


def _parse_map(r: _Reader) -> MapConfig:
    d = MapConfig()
    url = r.get("tile_url", str, d.tile_url)
    if not url.startswith(("https://", "http://")) or _URL_BAD.search(url):
        raise r._err("tile_url", f"must be an http(s) URL without spaces or quotes, got {url!r}")
    missing = [k for k in ("{z}", "{x}", "{y}") if k not in url]
    if missing:
        raise r._err("tile_url", f"must contain {{z}}, {{x}} and {{y}}; {missing[0]} is missing")
    custom = url != d.tile_url
    attribution = r.get("tile_attribution", str, None if custom else d.tile_attribution)
    if attribution is None or not attribution.strip():
        raise r._err("tile_attribution", "required: the credit the tile server's licence asks for")
    link = r.get("tile_attribution_url", str, "" if custom else d.tile_attribution_url)
    if link and (not link.startswith(("https://", "http://")) or _URL_BAD.search(link)):
        raise r._err("tile_attribution_url", f"must be an http(s) URL or empty, got {link!r}")
    max_zoom = r.get("max_zoom", int, d.max_zoom)
    if not 1 <= max_zoom <= 22:
        raise r._err("max_zoom", f"must be between 1 and 22, got {max_zoom}")
    r.check_unknown()
    return MapConfig(url, attribution.strip(), link, max_zoom)


def _parse_baseline(r: _Reader) -> BaselineConfig:
    d = BaselineConfig()
    districts = r.get("districts", list, list(d.districts))
    for c in districts:
        if isinstance(c, bool) or c not in DISTRICTS:
            raise r._err("districts", f"unknown district code {c!r} (Seoul gu codes 11110-11740)")
    period = r.get("period", str, d.period)
    if period not in PERIODS:
        raise r._err("period", f"must be one of {', '.join(PERIODS)}, got {period!r}")
    dwell = r.get("dwell_s", int, d.dwell_s)
    if dwell < 0:
        raise r._err("dwell_s", f"must be >= 0, got {dwell}")
    exclude = r.get("exclude_routes", list, list(d.exclude_routes))
    if not all(isinstance(x, str) for x in exclude):
        raise r._err("exclude_routes", "expected a list of route names")
    hw = r.table("rail_headways_min")
    heads = dict(d.rail_headways_min)
    for line in list(hw.t):
        v = hw.get(line, list)
        ok = len(v) == 3 and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
        if not ok or min(v) <= 0:
            raise hw._err(line, f"expected [peak, offpeak, evening] minutes > 0, got {v!r}")
        heads[line] = (float(v[0]), float(v[1]), float(v[2]))
    hw.check_unknown()
    out = BaselineConfig(
        districts=tuple(districts),
        buffer_m=r.positive("buffer_m", d.buffer_m, allow_zero=True),
        classes=tuple(_classes(r, "classes", list(d.classes))),
        snap_m=r.positive("snap_m", d.snap_m),
        dwell_s=dwell,
        period=period,
        exclude_routes=tuple(exclude),
        stops_file=r.get("stops_file", str, d.stops_file),
        info_file=r.get("info_file", str, d.info_file),
        status_file=r.get("status_file", str, d.status_file),
        metro_file=r.get("metro_file", str, d.metro_file),
        rail_speed_kph=r.positive("rail_speed_kph", d.rail_speed_kph),
        rail_headways_min=tuple(sorted(heads.items())),
    )
    r.check_unknown()
    return out


def _parse_anchor(a: Any, i: int, fname: str) -> Anchor:
    if not isinstance(a, dict):
        msg = f"{fname}: anchors[{i}]: expected a table, got {a!r}"
        raise ConfigError(msg)
    r = _Reader(a, f"anchors[{i}]", fname)
    kind = r.get("kind", str, None)
    lat = r.get("lat", float, None)
    lon = r.get("lon", float, None)
    if kind is None:
        kind = "point" if lat is not None else None
    if kind not in ("poi", "station", "bus_stop", "point"):
        raise r._err("kind", f"must be poi, station, bus_stop or point, got {kind!r}")
    name = r.get("name", str, "")
    ars = r.get("ars", (str, int), None)
    if ars is not None:
        ars = str(ars)
    if kind == "bus_stop" and not ars:
        raise r._err("ars", "required for kind = 'bus_stop'")
    if kind in ("poi", "station") and not name:
        raise r._err("name", f"required for kind = {kind!r}")
    if kind == "point":
        if lat is None or lon is None:
            raise r._err("lat", "lat and lon are required for kind = 'point'")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise r._err("lat", f"({lat}, {lon}) is not a WGS84 position")
        if not name:
            name = f"{lat:.5f},{lon:.5f}"
    out = Anchor(
        kind=kind,
        name=name or (ars or ""),
        name_en=r.get("name_en", str, ""),
        line=r.get("line", str, None),
        ars=ars,
        lat=lat,
        lon=lon,
    )
    r.check_unknown()
    return out


def _parse_depot(a: Any, i: int, fname: str) -> DepotConfig:
    if not isinstance(a, dict):
        msg = f"{fname}: depots[{i}]: expected a table, got {a!r}"
        raise ConfigError(msg)
    r = _Reader(a, f"depots[{i}]", fname)
    name = r.get("name", str, "")
    ars = r.get("ars", (str, int), None)
    lat = r.get("lat", float, None)
    lon = r.get("lon", float, None)
    if (lat is None) != (lon is None):
        raise r._err("lat", "give both lat and lon, or neither")
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise r._err("lat", f"({lat}, {lon}) is not a WGS84 position")
    if not name.strip() and ars is None and lat is None:
        raise r._err("name", "required (or give ars, or lat and lon)")
    out = DepotConfig(
        name=name.strip() or (str(ars) if ars is not None else f"{lat:.5f},{lon:.5f}"),
        name_en=r.get("name_en", str, ""),
        ars=str(ars).strip() if ars is not None else None,
        lat=lat,
        lon=lon,
    )
    r.check_unknown()
    return out


def _parse_terminal(a: Any, i: int, fname: str) -> DepotConfig:
    if not isinstance(a, dict):
        msg = f"{fname}: terminals[{i}]: expected a table, got {a!r}"
        raise ConfigError(msg)
    r = _Reader(a, f"terminals[{i}]", fname)
    name = r.get("name", str, "").strip()
    ars = r.get("ars", (str, int), None)
    lat = r.get("lat", float, None)
    lon = r.get("lon", float, None)
    if (lat is None) != (lon is None):
        raise r._err("lat", "give both lat and lon, or neither")
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise r._err("lat", f"({lat}, {lon}) is not a WGS84 position")
    if not name and ars is None and lat is None:
        raise r._err("name", "required (or give ars, or lat and lon)")
    out = DepotConfig(
        name=name or (str(ars) if ars is not None else f"{lat:.5f},{lon:.5f}"),
        name_en=r.get("name_en", str, ""),
        ars=str(ars).strip() if ars is not None else None,
        lat=lat,
        lon=lon,
    )
    r.check_unknown()
    return out


def _date_list(r: _Reader, key: str, start: dt.date, end: dt.date) -> tuple[dt.date, ...]:
    """A list of TOML dates inside [start, end], each once, sorted."""
    days = r.get(key, list, [])
    for day in days:
        if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
            raise r._err(key, f"expected TOML dates (YYYY-MM-DD), got {day!r}")
        if not start <= day <= end:
            raise r._err(key, f"{day} is outside the service period {start} to {end}")
    dup = sorted(d for d in set(days) if days.count(d) > 1)
    if dup:
        raise r._err(key, f"{dup[0]} is listed twice")
    if key == "no_service":
        both = sorted(set(days) & set(r.t.get("extra_holidays", [])))
        if both:
            raise r._err(key, f"{both[0]} is also in extra_holidays")
    return tuple(sorted(days))


def _parse_vehicle(r: _Reader) -> VehicleConfig:
    d = VehicleConfig()
    fuel = r.get("fuel", str, d.fuel)
    if fuel not in FUELS:
        raise r._err("fuel", f"must be one of {', '.join(FUELS)}, got {fuel!r}")
    counts = {}
    for key in ("seats", "standing"):
        v = r.get(key, int, getattr(d, key))
        if v < 0:
            raise r._err(key, f"must be >= 0, got {v}")
        counts[key] = v
    if counts["seats"] + counts["standing"] < 1:
        raise r._err("seats", "seats + standing must be at least 1 passenger")
    out = VehicleConfig(
        name=r.get("name", str, d.name),
        length_m=r.positive("length_m", d.length_m),
        seats=counts["seats"],
        standing=counts["standing"],
        low_floor=r.get("low_floor", bool, d.low_floor),
        fuel=fuel,
    )
    r.check_unknown()
    return out


def _parse_cost(r: _Reader) -> CostConfig:
    d = CostConfig()
    year = r.get("price_year", int, d.price_year)
    if not 1990 <= year <= 2100:
        raise r._err("price_year", f"must be a year between 1990 and 2100, got {year}")
    out = CostConfig(
        price_year=year,
        krw_per_vehicle_hour=r.positive(
            "krw_per_vehicle_hour", d.krw_per_vehicle_hour, allow_zero=True
        ),
        krw_per_vehicle_km=r.positive("krw_per_vehicle_km", d.krw_per_vehicle_km, allow_zero=True),
        krw_per_vehicle_year=r.positive(
            "krw_per_vehicle_year", d.krw_per_vehicle_year, allow_zero=True
        ),
    )
    r.check_unknown()
    return out


def _parse_fares(r: _Reader) -> FareConfig:
    d = FareConfig()
    policy = r.get("policy", str, d.policy)
    if policy not in FARE_POLICIES:
        raise r._err("policy", f"must be one of {', '.join(FARE_POLICIES)}, got {policy!r}")
    fare = r.get("fare_krw", int, d.fare_krw)
    if policy == "free" and fare != 0:
        raise r._err("fare_krw", f"must be 0 (or absent) with policy = 'free', got {fare}")
    if policy == "flat" and fare < 1:
        raise r._err("fare_krw", f"must be whole won >= 1 with policy = 'flat', got {fare}")
    window = r.get("transfer_min", int, d.transfer_min)
    if window < 1:
        raise r._err("transfer_min", f"must be >= 1 minute, got {window}")
    transfers = r.get("max_transfers", int, d.max_transfers)
    if transfers < 0:
        raise r._err("max_transfers", f"must be >= 0, got {transfers}")
    out = FareConfig(policy=policy, fare_krw=fare, transfer_min=window, max_transfers=transfers)
    r.check_unknown()
    return out
