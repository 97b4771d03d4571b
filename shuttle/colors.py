"""Route colours and numbers: Seoul's bus colour scheme and WCAG 2 colour contrast.

Seoul colours its buses by the kind of service since the 2004 bus reform (Seoul Metropolitan
Government bus identity, 2003; see the Seoul open-government answer "시내버스 종류별 기능 및
구분방법"): 간선 trunk blue, 지선 branch green, 순환 circular yellow, 광역 express red; 마을
village buses are green as well. A district shuttle feeds the subway and the trunk lines, so the
default scheme is the branch-bus green.

The hex values (:data:`SEOUL_COLORS`) are the ones public Korean route-finder apps use for these
route types (blue ``0068B7``, green ``5BB025``, yellow ``F2B70A``, red ``E60012``); the city's
design manual with its official values was not found, so treat them as the customary screen
colours, not as the city's specification. ``palette`` gives every route a colour of its own
instead (for a map where routes must be told apart by colour alone).

The text colour of a route (its number chip, GTFS ``route_text_color``) is black or white,
whichever contrasts more: at least 4.58:1 for any colour, above the WCAG AA 4.5:1 for text.
"""

from __future__ import annotations

import colorsys

from .config import ROUTE_SCHEMES
from .errors import ConfigError

__all__ = [
    "PALETTE",
    "SEOUL_COLORS",
    "contrast_ratio",
    "relative_luminance",
    "route_color",
    "route_number",
    "route_style",
    "text_color_for",
]

#: Seoul bus colours by route type (scheme name -> (Korean type name, RRGGBB)).
SEOUL_COLORS: dict[str, tuple[str, str]] = {
    "trunk": ("간선", "0068B7"),
    "branch": ("지선", "5BB025"),
    "circular": ("순환", "F2B70A"),
    "express": ("광역", "E60012"),
    "village": ("마을", "5BB025"),
}

#: Distinct, saturated colours readable on a light map (scheme ``palette``), in route order.
PALETTE: tuple[str, ...] = (
    "E6194B",  # red
    "3CB44B",  # green
    "4363D8",  # blue
    "F58231",  # orange
    "911EB4",  # purple
    "42D4F4",  # cyan
    "F032E6",  # magenta
    "9A6324",  # brown
    "469990",  # teal
    "000075",  # navy
    "808000",  # olive
    "800000",  # maroon
)

_GOLDEN = 0.618033988749895  # hue step beyond the palette


def relative_luminance(hex6: str) -> float:
    """WCAG 2 relative luminance of an ``RRGGBB`` colour (0 to 1)."""

    def lin(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex6[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two ``RRGGBB`` colours (1 to 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_color_for(color: str) -> str:
    """Return ``"000000"`` or ``"FFFFFF"``, whichever contrasts more with ``color``.

    Any colour reaches a ratio of at least 4.58 against black or white, so the result always
    meets WCAG AA (4.5) for normal text.
    """
    return max(("FFFFFF", "000000"), key=lambda t: (contrast_ratio(color, t), t))


def _check_scheme(scheme: str) -> None:
    if scheme not in ROUTE_SCHEMES:
        msg = f"routes.scheme: unknown colour scheme {scheme!r} (known: {', '.join(ROUTE_SCHEMES)})"
        raise ConfigError(msg)


def route_color(index: int, scheme: str = "branch") -> str:
    """Return the ``RRGGBB`` colour of the route at ``index`` (0-based) under a scheme.

    Parameters
    ----------
    index
        Position of the route in the network (0 for the first route).
    scheme
        A name of :data:`shuttle.config.ROUTE_SCHEMES`: a Seoul route type (every route gets the
        colour of its type) or ``palette`` (a distinct colour per route).

    Returns
    -------
    str
        Six upper-case hex digits.

    Raises
    ------
    ConfigError
        If the scheme is unknown or the index is negative.
    """
    _check_scheme(scheme)
    if index < 0:
        msg = f"routes: route index must be >= 0, got {index}"
        raise ConfigError(msg)
    if scheme in SEOUL_COLORS:
        return SEOUL_COLORS[scheme][1]
    if index < len(PALETTE):
        return PALETTE[index]
    hue = (index * _GOLDEN) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.75, 0.65)
    return f"{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"


def route_number(index: int, *, prefix: str = "", start: int = 1, width: int = 0) -> str:
    """Return the public number (GTFS ``route_short_name``) of the route at ``index``.

    The number is ``start + index``, zero-padded to ``width`` digits, after ``prefix``: with
    ``prefix="서대문", start=15, width=2`` the first route is ``서대문15`` (Seoul village buses are
    numbered this way, e.g. 마포08); with the defaults the routes are ``1``, ``2``, ...

    Raises
    ------
    ConfigError
        If the index is negative.
    """
    if index < 0:
        msg = f"routes: route index must be >= 0, got {index}"
        raise ConfigError(msg)
    return f"{prefix}{start + index:0{max(width, 0)}d}"


def route_style(
    index: int,
    scheme: str = "branch",
    *,
    prefix: str = "",
    start: int = 1,
    width: int = 0,
) -> tuple[str, str, str]:
    """Return ``(short_name, color, text_color)`` of the route at ``index`` (0-based).

    The one place that numbers and colours routes: the designer calls it with the scenario's
    ``[routes]`` table (:class:`shuttle.config.RoutesConfig`), e.g.
    ``route_style(i, rc.scheme, prefix=rc.number_prefix, start=rc.number_start,
    width=rc.number_width)``.

    Parameters
    ----------
    index
        Position of the route (0-based, in route-id order).
    scheme
        Colour scheme (see :func:`route_color`).
    prefix, start, width
        Numbering (see :func:`route_number`).

    Returns
    -------
    tuple of str
        The route number, its colour and its text colour (``RRGGBB``; contrast >= 4.5).

    Raises
    ------
    ConfigError
        If the scheme is unknown or the index is negative.
    """
    color = route_color(index, scheme)
    number = route_number(index, prefix=prefix, start=start, width=width)
    return number, color, text_color_for(color)
