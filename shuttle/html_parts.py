"""Escaped HTML pieces of the report sections: text, bilingual labels, numbers and tables.

Every value from data goes through :func:`esc`; tables take cells that are HTML already.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

__all__ = ["DAY_LABELS", "PERIOD_LABELS", "bi", "esc", "num", "table"]

#: The report's names of the day types and periods (Korean, English), one set for every section
#: so that a figure of the same day and period reads the same everywhere.
DAY_LABELS = {
    "weekday": ("평일", "Weekday"),
    "saturday": ("토요일", "Saturday"),
    "sunday": ("일요일·공휴일", "Sunday & holidays"),
}
PERIOD_LABELS = {
    "peak": ("첨두", "Peak"),
    "offpeak": ("비첨두", "Off-peak"),
    "evening": ("저녁", "Evening"),
}


def esc(value: object) -> str:
    """Escape any value as HTML text (quotes too)."""
    return html.escape(str(value), quote=True)


def bi(ko: str, en: str) -> str:
    """Korean first, English second (in a ``span.en``), both escaped."""
    return f'{esc(ko)} <span class="en">{esc(en)}</span>'


def num(x: float | None, digits: int = 0) -> str:
    """A number with thousands separators, or an en dash for a missing or infinite one."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return f"{x:,.{digits}f}"


def table(head: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    """An HTML table; head and cells are HTML already (escape data before)."""
    c = f' class="{cls}"' if cls else ""
    out = [f"<table{c}><thead><tr>", *(f"<th>{h}</th>" for h in head), "</tr></thead><tbody>"]
    out += ["<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in rows]
    out.append("</tbody></table>")
    return "".join(out)
