"""Service calendar: day types, South Korean public holidays and GTFS exceptions (pure).

:func:`service_dates` turns the scenario's service period into GTFS ``calendar.txt`` flags and
``calendar_dates.txt`` exceptions. It reads no file and calls no library: the public holidays are
frozen in :data:`KR_PUBLIC_HOLIDAYS`, so the same scenario gives the same calendar whatever
version of the ``holidays`` library is installed (its 2027 list changed four times between
versions 0.50 and 0.109; ``tests/test_calendar.py`` names the dates by hand).

Day types
    Monday to Friday run the ``weekday`` service, Saturday the ``saturday`` service, Sunday the
    ``sunday`` service (:func:`day_type_of`).
Public holidays
    A public holiday on a weekday or a Saturday removes that day's service (exception 2) and adds
    the Sunday service (exception 1), as Seoul buses run their Sunday and holiday timetable; one
    on a Sunday changes nothing. The table lists the holidays of the Public Holidays Act
    (공휴일에 관한 법률, as amended on 2026-02-10) and the Regulations on Holidays of Government
    Offices (관공서의 공휴일에 관한 규정), substitute holidays (대체공휴일) and election days
    included, for 2026 to 2028; the lunar dates (설날, 부처님오신날, 추석) are the library's
    Korean lunisolar conversion (2027: 02-07, 05-13, 09-15). 노동절 (Labour Day, 1 May) and
    제헌절 (Constitution Day, 17 July) are public holidays from 2026 under that amendment, with
    substitute days (2027-05-03 and 2027-07-19).
    The table was generated with ``holidays`` 0.109 (which cites the amendment and the Ministry
    of Personnel Management's notice on the two substitute days) and checked by hand against the
    rules: a substitute holiday is the first following day that is not a holiday, for 설날 and
    추석 when they fall on a Sunday or on another holiday, for the other holidays of the Act
    (삼일절, 어린이날, 노동절, 부처님오신날, 제헌절, 광복절, 개천절, 한글날, 기독탄신일) when they
    fall on a Saturday, a Sunday or another holiday; 신정 and 현충일 have none.
Scenario dates
    ``service.extra_holidays`` run the Sunday service like a public holiday (a 임시공휴일 the
    government declares, a district festival); ``service.no_service`` dates have no service at
    all (exception 2 for the day type that would have run). Both must lie inside the service
    period, once each, not in both lists, and an extra holiday must not already be a public
    holiday.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from .config import DAY_TYPES, Scenario, ServiceConfig
from .errors import TimetableError
from .model import Holiday

__all__ = [
    "EXTRA_HOLIDAY_NAME",
    "HOLIDAY_YEARS",
    "KR_PUBLIC_HOLIDAYS",
    "ServiceCalendar",
    "check_calendar",
    "day_type_of",
    "public_holidays",
    "service_dates",
]

#: Name given to a scenario's ``service.extra_holidays`` dates.
EXTRA_HOLIDAY_NAME = "임시공휴일"

#: South Korean public holidays, ISO date and Korean name (the names of ``holidays`` 0.109).
KR_PUBLIC_HOLIDAYS: tuple[tuple[str, str], ...] = (
    ("2026-01-01", "신정연휴"),
    ("2026-02-16", "설날 전날"),
    ("2026-02-17", "설날"),
    ("2026-02-18", "설날 다음날"),
    ("2026-03-01", "삼일절"),
    ("2026-03-02", "삼일절 대체 휴일"),
    ("2026-05-01", "노동절"),
    ("2026-05-05", "어린이날"),
    ("2026-05-24", "부처님오신날"),
    ("2026-05-25", "부처님오신날 대체 휴일"),
    ("2026-06-03", "지방선거일"),
    ("2026-06-06", "현충일"),
    ("2026-07-17", "제헌절"),
    ("2026-08-15", "광복절"),
    ("2026-08-17", "광복절 대체 휴일"),
    ("2026-09-24", "추석 전날"),
    ("2026-09-25", "추석"),
    ("2026-09-26", "추석 다음날"),
    ("2026-10-03", "개천절"),
    ("2026-10-05", "개천절 대체 휴일"),
    ("2026-10-09", "한글날"),
    ("2026-12-25", "기독탄신일"),
    ("2027-01-01", "신정연휴"),
    ("2027-02-06", "설날 전날"),
    ("2027-02-07", "설날"),
    ("2027-02-08", "설날 다음날"),
    ("2027-02-09", "설날 대체 휴일"),
    ("2027-03-01", "삼일절"),
    ("2027-05-01", "노동절"),
    ("2027-05-03", "노동절 대체 휴일"),
    ("2027-05-05", "어린이날"),
    ("2027-05-13", "부처님오신날"),
    ("2027-06-06", "현충일"),
    ("2027-07-17", "제헌절"),
    ("2027-07-19", "제헌절 대체 휴일"),
    ("2027-08-15", "광복절"),
    ("2027-08-16", "광복절 대체 휴일"),
    ("2027-09-14", "추석 전날"),
    ("2027-09-15", "추석"),
    ("2027-09-16", "추석 다음날"),
    ("2027-10-03", "개천절"),
    ("2027-10-04", "개천절 대체 휴일"),
    ("2027-10-09", "한글날"),
    ("2027-10-11", "한글날 대체 휴일"),
    ("2027-12-25", "기독탄신일"),
    ("2027-12-27", "기독탄신일 대체 휴일"),
    ("2028-01-01", "신정연휴"),
    ("2028-01-26", "설날 전날"),
    ("2028-01-27", "설날"),
    ("2028-01-28", "설날 다음날"),
    ("2028-03-01", "삼일절"),
    ("2028-04-12", "국회의원 선거일"),
    ("2028-05-01", "노동절"),
    ("2028-05-02", "부처님오신날"),
    ("2028-05-05", "어린이날"),
    ("2028-06-06", "현충일"),
    ("2028-07-17", "제헌절"),
    ("2028-08-15", "광복절"),
    ("2028-10-02", "추석 전날"),
    ("2028-10-03", "개천절; 추석"),
    ("2028-10-04", "추석 다음날"),
    ("2028-10-05", "추석 대체 휴일"),
    ("2028-10-09", "한글날"),
    ("2028-12-25", "기독탄신일"),
)

#: Calendar years :data:`KR_PUBLIC_HOLIDAYS` covers completely.
HOLIDAY_YEARS: tuple[int, ...] = (2026, 2027, 2028)

_WEEKDAYS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("weekday", (1, 1, 1, 1, 1, 0, 0)),
    ("saturday", (0, 0, 0, 0, 0, 1, 0)),
    ("sunday", (0, 0, 0, 0, 0, 0, 1)),
)


@dataclass(frozen=True, slots=True)
class ServiceCalendar:
    """The service dates of a scenario, in GTFS calendar terms.

    Attributes
    ----------
    start, end
        The scenario's service period (inclusive).
    weekdays
        ``(service_id, (monday, ..., sunday))`` flags of ``calendar.txt``, in DAY_TYPES order.
    exceptions
        ``(date YYYYMMDD, service_id, exception_type)`` rows of ``calendar_dates.txt`` (1 added,
        2 removed), sorted by date then service id.
    holidays
        Public holidays in the period (all of them, Sunday ones included), then the scenario's
        extra holidays, by date.
    dates
        ``(service_id, number of dates it runs)`` after the exceptions.
    no_service
        Dates (YYYYMMDD) without any service, from ``service.no_service``.
    """

    start: dt.date
    end: dt.date
    weekdays: tuple[tuple[str, tuple[int, ...]], ...]
    exceptions: tuple[tuple[str, str, int], ...]
    holidays: tuple[Holiday, ...]
    dates: tuple[tuple[str, int], ...]
    no_service: tuple[str, ...] = ()

    def runs(self, service_id: str) -> int:
        """Return the number of dates a service runs."""
        return dict(self.dates).get(service_id, 0)


def day_type_of(day: dt.date) -> str:
    """Return the day type (``weekday``, ``saturday``, ``sunday``) of a calendar date."""
    wd = day.weekday()
    return "weekday" if wd < 5 else ("saturday" if wd == 5 else "sunday")


def public_holidays(start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """Return the South Korean public holidays from ``start`` to ``end`` (inclusive), by date.

    Raises
    ------
    TimetableError
        If the period reaches a year the frozen table does not cover.
    """
    missing = [y for y in range(start.year, end.year + 1) if y not in HOLIDAY_YEARS]
    if missing:
        msg = (
            f"service period {start} to {end}: no frozen public-holiday table for "
            f"{', '.join(map(str, missing))} (shuttle.service_calendar covers "
            f"{HOLIDAY_YEARS[0]}-{HOLIDAY_YEARS[-1]})."
        )
        raise TimetableError(msg)
    out = {}
    for iso, name in KR_PUBLIC_HOLIDAYS:
        day = dt.date.fromisoformat(iso)
        if start <= day <= end:
            out[day] = name
    return out


def _where(scenario: Scenario | None, key: str) -> str:
    src = scenario.source_file if scenario is not None and scenario.source_file else ""
    return f"{src}: service.{key}" if src else f"service.{key}"


def check_calendar(svc: ServiceConfig, scenario: Scenario | None = None) -> None:
    """Check ``extra_holidays`` and ``no_service`` of service settings (also built by hand).

    Parameters
    ----------
    svc
        The service settings.
    scenario
        The scenario they come from, to name its file in the error.

    Raises
    ------
    TimetableError
        Naming the key and the first date outside the service period, listed twice, in both
        lists, or (for ``extra_holidays``) already a public holiday.
    """
    if svc.end_date < svc.start_date:
        msg = f"service.end_date {svc.end_date} is before service.start_date {svc.start_date}."
        raise TimetableError(msg)
    extra = tuple(svc.extra_holidays)
    closed = tuple(svc.no_service)
    for key, days in (("extra_holidays", extra), ("no_service", closed)):
        seen: set[dt.date] = set()
        for day in days:
            if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
                msg = f"{_where(scenario, key)}: {day!r} is not a date (YYYY-MM-DD)."
                raise TimetableError(msg)
            if not svc.start_date <= day <= svc.end_date:
                msg = (
                    f"{_where(scenario, key)}: {day} is outside the service period "
                    f"{svc.start_date} to {svc.end_date}."
                )
                raise TimetableError(msg)
            if day in seen:
                msg = f"{_where(scenario, key)}: {day} is listed twice."
                raise TimetableError(msg)
            seen.add(day)
    both = sorted(set(extra) & set(closed))
    if both:
        msg = f"{_where(scenario, 'no_service')}: {both[0]} is also in service.extra_holidays."
        raise TimetableError(msg)
    if extra:
        public = public_holidays(svc.start_date, svc.end_date)
        for day in extra:
            if day in public:
                msg = (
                    f"{_where(scenario, 'extra_holidays')}: {day} is already a public holiday "
                    f"({public[day]})."
                )
                raise TimetableError(msg)


def _ymd(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def _holiday_rows(public: dict[dt.date, str], extra: Iterable[dt.date]) -> tuple[Holiday, ...]:
    named = dict(public)
    named.update(dict.fromkeys(extra, EXTRA_HOLIDAY_NAME))
    return tuple(Holiday(date=_ymd(d), name=n) for d, n in sorted(named.items()))


def service_dates(scenario: Scenario) -> ServiceCalendar:
    """Return the calendar of the scenario's service period, holidays and closures included.

    A public holiday (:data:`KR_PUBLIC_HOLIDAYS`) or a ``service.extra_holidays`` date on a
    weekday removes the weekday service (exception 2) and adds the Sunday service (1); one on a
    Saturday removes the Saturday service and adds the Sunday one; one on a Sunday changes
    nothing. A ``service.no_service`` date removes the service of its day type and adds none.

    Parameters
    ----------
    scenario
        The scenario; ``service.start_date``, ``end_date``, ``extra_holidays`` and
        ``no_service`` are read.

    Returns
    -------
    ServiceCalendar
        Weekday flags, exceptions, holidays and the number of dates per day type.

    Raises
    ------
    TimetableError
        If the end date is before the start date, a scenario date is invalid
        (:func:`check_calendar`), or the period reaches a year without a holiday table.
    """
    svc = scenario.service
    check_calendar(svc, scenario)
    start, end = svc.start_date, svc.end_date
    public = public_holidays(start, end)
    extra = frozenset(svc.extra_holidays)
    closed = frozenset(svc.no_service)
    holiday = set(public) | extra
    exceptions: list[tuple[str, str, int]] = []
    counts = dict.fromkeys(DAY_TYPES, 0)
    day = start
    while day <= end:
        kind = day_type_of(day)
        ymd = _ymd(day)
        if day in closed:
            exceptions.append((ymd, kind, 2))
        elif day in holiday and kind != "sunday":
            exceptions.append((ymd, kind, 2))
            exceptions.append((ymd, "sunday", 1))
            counts["sunday"] += 1
        else:
            counts[kind] += 1
        day += dt.timedelta(days=1)
    return ServiceCalendar(
        start=start,
        end=end,
        weekdays=_WEEKDAYS,
        exceptions=tuple(sorted(exceptions)),
        holidays=_holiday_rows(public, extra),
        dates=tuple((k, counts[k]) for k in DAY_TYPES),
        no_service=tuple(_ymd(d) for d in sorted(closed)),
    )
