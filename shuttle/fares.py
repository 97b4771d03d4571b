"""Fare policy: what a rider pays per boarding, and the GTFS-Fares v2 rows of it (pure).

Two policies (``[fares] policy``, :class:`~shuttle.config.FareConfig`):

``free`` (the default)
    The district shuttles the three districts ran during the 2025 and 2026 bus strikes were free
    to ride, as are most district shuttles (FIELD_NOTES.md): one fare product of 0 KRW on no
    fare media (``fare_media_type = 0``), unlimited transfers.
``flat``
    ``fare_krw`` per boarding by transit card (T-money and the like, ``fare_media_type = 2``),
    with Seoul's integrated transfer discount reduced to the shuttle's own routes: a boarding
    within ``transfer_min`` minutes of alighting (``duration_limit_type = 2``, arrival to
    departure) is free, up to ``max_transfers`` transfers. Not modelled: the 60-minute window
    between 21:00 and 07:00, the distance surcharge past 10 km (100 KRW per 5 km), cash fares
    (no transfer discount) and transfers to the city's other buses and the subway, which lie
    outside this feed.

KRW has no minor unit, so amounts are whole won (``"1500"``, ``"0"``). Fare names are Korean:
``translations.txt`` cannot translate the fare tables.
"""

from __future__ import annotations

from .config import FARE_POLICIES, FareConfig
from .errors import ConfigError

__all__ = [
    "CURRENCY",
    "FARE_FILES",
    "LEG_GROUP",
    "fare_per_boarding",
    "fare_rows",
    "revenue_per_boarding",
]

CURRENCY = "KRW"
#: GTFS-Fares v2 files, in the order they are written.
FARE_FILES: tuple[str, ...] = (
    "fare_media.txt",
    "fare_products.txt",
    "fare_leg_rules.txt",
    "fare_transfer_rules.txt",
)
#: The one leg group: every ride on the shuttle's routes.
LEG_GROUP = "shuttle"

#: Columns of each fare file (the fields of the GTFS reference we fill).
_COLUMNS: dict[str, tuple[str, ...]] = {
    "fare_media.txt": ("fare_media_id", "fare_media_name", "fare_media_type"),
    "fare_products.txt": (
        "fare_product_id",
        "fare_product_name",
        "fare_media_id",
        "amount",
        "currency",
    ),
    "fare_leg_rules.txt": ("leg_group_id", "network_id", "fare_product_id"),
    "fare_transfer_rules.txt": (
        "from_leg_group_id",
        "to_leg_group_id",
        "transfer_count",
        "duration_limit",
        "duration_limit_type",
        "fare_transfer_type",
        "fare_product_id",
    ),
}


def _check(fares: FareConfig) -> None:
    if fares.policy not in FARE_POLICIES:
        msg = f"fares.policy must be one of {', '.join(FARE_POLICIES)}, got {fares.policy!r}."
        raise ConfigError(msg)
    if fares.policy == "free" and fares.fare_krw != 0:
        raise ConfigError(f"fares.fare_krw must be 0 with policy 'free', got {fares.fare_krw}.")
    if fares.policy == "flat" and fares.fare_krw < 1:
        raise ConfigError(f"fares.fare_krw must be >= 1 with policy 'flat', got {fares.fare_krw}.")
    if fares.transfer_min < 1 or fares.max_transfers < 0:
        msg = (
            f"fares.transfer_min must be >= 1 and fares.max_transfers >= 0, got "
            f"{fares.transfer_min} and {fares.max_transfers}."
        )
        raise ConfigError(msg)


def fare_per_boarding(fares: FareConfig, *, transfer: bool = False) -> int:
    """Return what one boarding costs the rider, in KRW.

    Parameters
    ----------
    fares
        The scenario's fare policy.
    transfer
        The boarding is a transfer from another shuttle route within the transfer window (and
        within ``max_transfers``): free under both policies.

    Returns
    -------
    int
        Whole won: 0 under ``free``; ``fare_krw`` (or 0 for a transfer) under ``flat``.

    Raises
    ------
    ConfigError
        If the fare settings are inconsistent (built by hand).
    """
    _check(fares)
    if fares.policy == "free" or (transfer and fares.max_transfers > 0):
        return 0
    return fares.fare_krw


def revenue_per_boarding(fares: FareConfig, transfers_per_trip: float = 0.0) -> float:
    """Return the average fare revenue per boarding, in KRW, for the cost report.

    A passenger trip with ``k`` transfers boards ``k + 1`` times and pays once, so the revenue
    per boarding is ``fare / (1 + k)`` averaged as ``fare / (1 + transfers_per_trip)`` (boardings
    and trips counted over the same demand).

    Parameters
    ----------
    fares
        The scenario's fare policy.
    transfers_per_trip
        Mean transfers per passenger trip (>= 0), e.g. from the design's evaluation; each must
        fall within ``max_transfers`` for the formula to hold.

    Raises
    ------
    ConfigError
        If ``transfers_per_trip`` is negative or not finite, or the fare settings are
        inconsistent.
    """
    if not (transfers_per_trip >= 0 and transfers_per_trip != float("inf")):
        msg = f"transfers_per_trip must be a finite number >= 0, got {transfers_per_trip!r}."
        raise ConfigError(msg)
    return fare_per_boarding(fares) / (1.0 + transfers_per_trip)


def fare_rows(fares: FareConfig) -> dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]]:
    """Return the GTFS-Fares v2 tables of a fare policy as ``{file: (columns, rows)}``.

    Raises
    ------
    ConfigError
        If the fare settings are inconsistent (built by hand).
    """
    _check(fares)
    if fares.policy == "free":
        media = (("none", "승차권 없음", "0"),)
        product = ("free", "무료 승차", "none", "0", CURRENCY)
        transfer = (LEG_GROUP, LEG_GROUP, "-1", "", "", "0", "")
    else:
        media = (("card", "교통카드", "2"),)
        product = ("flat", "기본요금", "card", str(fares.fare_krw), CURRENCY)
        transfer = (
            LEG_GROUP,
            LEG_GROUP,
            str(fares.max_transfers),
            str(fares.transfer_min * 60),
            "2",
            "0",
            "",
        )
    rows: dict[str, tuple[tuple[str, ...], ...]] = {
        "fare_media.txt": media,
        "fare_products.txt": (product,),
        "fare_leg_rules.txt": ((LEG_GROUP, "", product[0]),),
        "fare_transfer_rules.txt": (
            (transfer,) if fares.policy == "free" or fares.max_transfers > 0 else ()
        ),
    }
    return {name: (_COLUMNS[name], rows[name]) for name in FARE_FILES}
