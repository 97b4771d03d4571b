"""Colour contrast (WCAG 2) for route colours and their text colours."""

from __future__ import annotations

__all__ = ["contrast_ratio", "relative_luminance", "text_color_for"]


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
