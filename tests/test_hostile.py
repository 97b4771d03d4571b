"""Hostile names in every section of the officers' report (single and comparison) and the map.

Every text field a scenario or the data can fill (titles, route names, place and stop names, the
design method, warnings) is set to markup. The pages are parsed with :mod:`html.parser`: no
element or attribute may come from the data, and each name must read back as text in the
sections that show it.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from mapplan import XSS_IMG, XSS_SCRIPT, toy_plan

from shuttle import maps, report
from shuttle.config import Scenario
from shuttle.model import Plan


class _Page(HTMLParser):
    """Tags, attributes, and the text under each h2/h3 heading."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[str] = []
        self.sections: list[list[str]] = [["", ""]]  # [heading, text under it]
        self._head: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [a for a, _ in attrs]
        if tag in ("h2", "h3"):
            self._head = []
        if tag in ("style", "script"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h2", "h3") and self._head is not None:
            self.sections.append(["".join(self._head).strip(), ""])
            self._head = None
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._head is not None:
            self._head.append(data)
        else:
            self.sections[-1][1] += data

    @property
    def text(self) -> str:
        return "".join(h + t for h, t in self.sections)


def _parse(text: str) -> _Page:
    p = _Page()
    p.feed(text)
    p.close()
    return p


def _named(scenario: Scenario, names: dict[str, str]) -> Plan:
    """The hostile toy plan with its data-filled text fields set from ``names``."""
    plan = toy_plan(scenario, hostile=True)
    sub = {XSS_IMG: names["img"], XSS_SCRIPT: names["script"]}

    def fix(text: str) -> str:
        for a, b in sub.items():
            text = text.replace(a, b)
        return text

    routes = tuple(
        dataclasses.replace(
            r,
            short_name=names["short"] if r.route_id == "R4" else r.short_name,
            long_name_ko=fix(r.long_name_ko),
            long_name_en=fix(r.long_name_en),
            patterns=tuple(
                dataclasses.replace(
                    p, headsign_ko=fix(p.headsign_ko), headsign_en=fix(p.headsign_en)
                )
                for p in r.patterns
            ),
        )
        for r in plan.routes
    )
    stops = tuple(
        dataclasses.replace(s, name_ko=fix(s.name_ko), name_en=fix(s.name_en)) for s in plan.stops
    )
    places = tuple(
        dataclasses.replace(p, name_ko=fix(p.name_ko), name_en=fix(p.name_en)) for p in plan.places
    )
    sc = plan.scenario
    return dataclasses.replace(
        plan,
        scenario=dataclasses.replace(sc, title_ko=names["title"], title_en=fix(sc.title_en)),
        routes=routes,
        stops=stops,
        places=places,
        kpis=dataclasses.replace(plan.kpis, method=names["method"]),
        timetable=dataclasses.replace(plan.timetable, warnings=(names["warn"], names["script"])),
    )


HOSTILE = {
    "img": XSS_IMG,
    "script": XSS_SCRIPT,
    "short": "<i>R4</i>",
    "warn": '<a href="javascript:alert(1)">warning</a>',
    "method": "<b onmouseover=alert(1)>anneal</b>",
    "title": "<svg onload=alert(1)>서북권",
}
BENIGN = {k: f"plain {k}" for k in HOSTILE}


@pytest.fixture(scope="module")
def hostile(scenario: Scenario) -> Plan:
    return _named(scenario, HOSTILE)


@pytest.fixture(scope="module")
def benign(scenario: Scenario) -> Plan:
    return _named(scenario, BENIGN)


@pytest.fixture(scope="module")
def plain(scenario: Scenario) -> Plan:
    return toy_plan(scenario)


def _same_markup(a: _Page, b: _Page) -> None:
    """The hostile page has exactly the elements and attributes of the benign one."""
    assert Counter(a.tags) == Counter(b.tags)
    assert Counter(a.attrs) == Counter(b.attrs)
    assert "img" not in a.tags
    assert not {x for x in a.attrs if x.startswith("on")}


@pytest.mark.parametrize("compare", [False, True])
def test_report_sections_show_hostile_names_as_text(
    hostile: Plan, benign: Plan, plain: Plan, tmp_path: Path, compare: bool
) -> None:
    pages = []
    for tag, plan in (("h", hostile), ("b", benign)):
        plans = [plain, plan] if compare else [plan]
        html_path, _ = report.write_report(plans, tmp_path / tag)
        pages.append(_parse(html_path.read_text(encoding="utf-8")))
    page, ref = pages
    _same_markup(page, ref)
    assert len(page.sections) == len(ref.sections)  # the same sections, in the same order
    for key, name in HOSTILE.items():
        shown = [i for i, (h, t) in enumerate(page.sections) if name in h + t]
        expected = [i for i, (h, t) in enumerate(ref.sections) if BENIGN[key] in h + t]
        assert expected, key  # the field is shown somewhere
        # every section showing the benign name shows the hostile one as the very text
        assert set(expected) <= set(shown), (key, expected, shown)
    assert len([1 for _, t in page.sections if HOSTILE["short"] in t]) >= 3


def test_map_and_index_show_hostile_names_without_markup(
    hostile: Plan, benign: Plan, tmp_path: Path
) -> None:
    pages = []
    for tag, plan in (("h", hostile), ("b", benign)):
        path = maps.save_map(plan, tmp_path / tag, index=True)
        text = path.read_text(encoding="utf-8")
        index = (tmp_path / tag / "index.html").read_text(encoding="utf-8")
        pages.append((text, _parse(text), _parse(index)))
    (text, page, index), (_, ref, ref_index) = pages
    _same_markup(page, ref)
    _same_markup(index, ref_index)
    for raw in (*HOSTILE.values(), "</script><script>"):
        assert raw not in text, raw
    assert HOSTILE["title"] in index.text
