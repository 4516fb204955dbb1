"""Report windows in the brand's time zone, and the windows they are compared with.

A window is half-open, ``[start, end)``, with both ends as UTC timestamps, computed from
local calendar boundaries so a day is the brand's day (23 or 25 hours across DST).
Quarters and years may follow a fiscal year that starts in another month than January.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import pandas as pd

_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """One report window: its kind (``KINDS``), its label and its local and UTC bounds."""

    kind: str
    label: str
    first_day: dt.date
    last_day: dt.date
    start: pd.Timestamp
    end: pd.Timestamp
    timezone: str
    fiscal_year_start_month: int = 1

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


def local_midnight(day: dt.date, tz: str) -> pd.Timestamp:
    """The UTC instant local ``day`` begins in ``tz``.

    Where clocks jump over midnight (e.g. America/Santiago in September) the day begins
    at the first local time that exists; where midnight happens twice, at the first one.
    """
    local = pd.Timestamp(day).tz_localize(tz, nonexistent="shift_forward", ambiguous=True)
    return local.tz_convert("UTC")


def _make(kind: str, label: str, first: dt.date, last: dt.date, tz: str, fiscal: int) -> Period:
    start = local_midnight(first, tz)
    end = local_midnight(last + dt.timedelta(days=1), tz)
    return Period(kind, label, first, last, start, end, tz, fiscal)


def _add_months(first_of_month: dt.date, months: int) -> dt.date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _fiscal_year_first(day: dt.date, start_month: int) -> dt.date:
    year = day.year if day.month >= start_month else day.year - 1
    return dt.date(year, start_month, 1)


def _year_label(fiscal_first: dt.date) -> str:
    """``2024`` for a calendar year; ``FY2025`` for a fiscal year ending in 2025."""
    if fiscal_first.month == 1:
        return str(fiscal_first.year)
    return f"FY{fiscal_first.year + 1}"


def _daily(day: dt.date, tz: str, fiscal: int) -> Period:
    """The local calendar day (``2024-03-31``)."""
    return _make("daily", day.isoformat(), day, day, tz, fiscal)


def _weekly(day: dt.date, tz: str, fiscal: int) -> Period:
    """The ISO week, Monday to Sunday, named by its ISO year (2024-12-30 is in ``2025-W01``)."""
    first = day - dt.timedelta(days=day.weekday())
    year, week, _ = day.isocalendar()
    return _make("weekly", f"{year}-W{week:02d}", first, first + dt.timedelta(days=6), tz, fiscal)


def _monthly(day: dt.date, tz: str, fiscal: int) -> Period:
    """The calendar month (``2024-03``)."""
    first = day.replace(day=1)
    last = _add_months(first, 1) - _ONE_DAY
    return _make("monthly", f"{day:%Y-%m}", first, last, tz, fiscal)


def _months_of_year(kind: str, months: int, letter: str):
    """Periods of ``months`` months counted from the start of the (fiscal) year, labelled
    ``<year>-<letter><n>`` (``2024-Q1``, ``FY2025-H2``); ``letter`` None: the year itself."""

    def period(day: dt.date, tz: str, fiscal: int) -> Period:
        year_first = _fiscal_year_first(day, fiscal)
        n = ((day.month - fiscal) % 12) // months
        first = _add_months(year_first, months * n)
        last = _add_months(first, months) - _ONE_DAY
        label = _year_label(year_first) + (f"-{letter}{n + 1}" if letter else "")
        return _make(kind, label, first, last, tz, fiscal)

    period.__doc__ = f"{months} months from the start of the (fiscal) year."
    return period


def _nearest_monday(day: dt.date) -> dt.date:
    """The Monday at most three days before or after ``day``."""
    offset = day.weekday()
    return day - dt.timedelta(days=offset) if offset <= 3 else day + dt.timedelta(days=7 - offset)


def _retail_year_first(year: int, fiscal: int) -> dt.date:
    """First day of retail (52/53-week) fiscal year ``year``: the Monday nearest the first
    of its start month (for January, the first day of ISO week 1)."""
    return _nearest_monday(dt.date(year, fiscal, 1))


def _retail_year(day: dt.date, fiscal: int) -> int:
    """The retail fiscal year (by the calendar year of its start month) holding ``day``."""
    year = day.year + 1
    while day < _retail_year_first(year, fiscal):
        year -= 1
    return year


def _retail_month_bounds(year: int, n: int, fiscal: int, weeks: tuple[int, ...]) -> tuple:
    """First and last day of fiscal month ``n`` (0-11) of retail year ``year``; a 53-week
    year gives its extra week to the twelfth month."""
    first_of_year = _retail_year_first(year, fiscal)
    pattern = weeks * 4
    first = first_of_year + dt.timedelta(weeks=sum(pattern[:n]))
    if n == 11:
        return first, _retail_year_first(year + 1, fiscal) - _ONE_DAY
    return first, first + dt.timedelta(weeks=pattern[n]) - _ONE_DAY


def _retail_month(weeks: tuple[int, ...]):
    """Fiscal months of a 4-4-5 style calendar: each quarter is 13 weeks split as
    ``weeks``; the year starts on the Monday nearest the first of the fiscal start month."""
    kind = "-".join(map(str, weeks))

    def period(day: dt.date, tz: str, fiscal: int) -> Period:
        year = _retail_year(day, fiscal)
        for n in range(12):
            first, last = _retail_month_bounds(year, n, fiscal, weeks)
            if day <= last:
                label = f"{_year_label(dt.date(year, fiscal, 1))}-P{n + 1:02d}"
                return _make(kind, label, first, last, tz, fiscal)
        raise AssertionError(f"{day} is past retail year {year}")  # the last month ends it

    period.__doc__ = _retail_month.__doc__
    return period


KINDS = {
    "daily": _daily,
    "weekly": _weekly,
    "monthly": _monthly,
    "quarterly": _months_of_year("quarterly", 3, "Q"),
    "half-yearly": _months_of_year("half-yearly", 6, "H"),
    "yearly": _months_of_year("yearly", 12, None),
    "4-4-5": _retail_month((4, 4, 5)),
    "4-5-4": _retail_month((4, 5, 4)),
    "5-4-4": _retail_month((5, 4, 4)),
}
"""Period kinds by name -> the period of that kind holding a local day."""


def period_for(kind: str, day: dt.date, tz: str, fiscal_year_start_month: int = 1) -> Period:
    """The period of ``kind`` that contains local date ``day``.

    daily = the local calendar day (label ``2024-03-31``); weekly = ISO week, Monday to
    Sunday (``2024-W13``, the ISO year, so 2024-12-30 is in ``2025-W01``); monthly
    (``2024-03``); quarterly and half-yearly = three and six months from the start of the
    (fiscal) year (``2024-Q1``, ``2024-H2``); yearly (``2024``); 4-4-5, 4-5-4 and 5-4-4 =
    fiscal months of 52/53-week years (``2024-P03``). With ``fiscal_year_start_month``
    m > 1 the year runs from month m and is named by the calendar year it ends in: with
    m = 4, 2024-04-01 is in ``FY2025-Q1`` and ``FY2025``.
    """
    if not 1 <= fiscal_year_start_month <= 12:
        raise ValueError(f"fiscal_year_start_month must be 1 to 12, got {fiscal_year_start_month}")
    if kind not in KINDS:
        raise ValueError(f"unknown period kind {kind!r}; expected one of {', '.join(KINDS)}")
    return KINDS[kind](day, tz, fiscal_year_start_month)


def span(first: dt.date, last: dt.date, tz: str, kind: str = "custom") -> Period:
    """The local days ``first`` to ``last`` inclusive (label ``2024-03-01 to 2024-03-07``)."""
    if last < first:
        raise ValueError(f"a period cannot end ({last}) before it starts ({first})")
    return _make(kind, f"{first} to {last}", first, last, tz, 1)


def previous(period: Period, n: int = 1) -> Period:
    """The period ``n`` periods before ``period``, of the same kind.

    A span (custom or trailing) is followed back by the span of as many days before it.
    """
    p = period
    for _ in range(n):
        if p.kind in KINDS:
            day = p.first_day - dt.timedelta(days=1)
            p = period_for(p.kind, day, p.timezone, p.fiscal_year_start_month)
        else:
            last = p.first_day - dt.timedelta(days=1)
            p = span(last - dt.timedelta(days=p.days - 1), last, p.timezone, p.kind)
    return p


def year_ago(period: Period) -> Period:
    """The same period one year earlier.

    Weekly: the same ISO week number of the previous ISO year (week 52 when that year has
    no week 53). A 4-4-5 style month: the month of the same number of the fiscal year
    before. Daily on 29 February: 28 February.
    """
    tz, fiscal = period.timezone, period.fiscal_year_start_month
    if period.kind == "weekly":
        year, week, _ = period.first_day.isocalendar()
        weeks_then = dt.date(year - 1, 12, 28).isocalendar()[1]
        monday = dt.date.fromisocalendar(year - 1, min(week, weeks_then), 1)
        return period_for("weekly", monday, tz)
    if period.kind in KINDS and "-P" in period.label:  # a 4-4-5 style fiscal month
        weeks = tuple(int(w) for w in period.kind.split("-"))
        year = _retail_year(period.first_day, fiscal)
        n = int(period.label.rsplit("-P", 1)[1]) - 1
        first, _ = _retail_month_bounds(year - 1, n, fiscal, weeks)
        return period_for(period.kind, first, tz, fiscal)
    first = period.first_day
    try:
        day = first.replace(year=first.year - 1)
    except ValueError:  # 29 February
        day = first.replace(year=first.year - 1, day=28)
    if period.kind not in KINDS:
        return span(day, day + dt.timedelta(days=period.days - 1), tz, period.kind)
    return period_for(period.kind, day, tz, fiscal)


def spanning(kind: str, first: dt.date, last: dt.date, tz: str, fiscal: int = 1) -> list[Period]:
    """Every period of ``kind`` that holds a day from ``first`` to ``last``, oldest first."""
    out = [period_for(kind, first, tz, fiscal)]
    while out[-1].last_day < last:
        out.append(period_for(kind, out[-1].last_day + _ONE_DAY, tz, fiscal))
    return out


def trailing(period: Period, days: int) -> Period:
    """The ``days`` local days just before ``period`` starts (e.g. trailing 7 or 28 days)."""
    last = period.first_day - dt.timedelta(days=1)
    return span(last - dt.timedelta(days=days - 1), last, period.timezone, f"trailing{days}")


def last_full_day(latest: pd.Timestamp, tz: str) -> dt.date:
    """The last local day that had ended by ``latest`` (the newest data timestamp).

    The day ``latest`` falls in is still running, so the answer is the day before it.
    """
    return latest.tz_convert(tz).date() - dt.timedelta(days=1)


def is_to_date(period: Period) -> bool:
    """True when ``period`` was cut before the end of its kind's period (``to_date``)."""
    if period.kind not in KINDS:
        return False
    full = period_for(
        period.kind, period.first_day, period.timezone, period.fiscal_year_start_month
    )
    return period.last_day < full.last_day


def to_date(period: Period, day: dt.date) -> Period:
    """``period`` cut at the end of local ``day`` when the period runs past it (a week or
    quarter to date): a report never counts days that have not happened yet."""
    if day >= period.last_day:
        return period
    return dataclasses.replace(
        period, last_day=day, end=local_midnight(day + _ONE_DAY, period.timezone)
    )


def latest_complete(kind: str, day: dt.date, tz: str, fiscal_year_start_month: int = 1) -> Period:
    """The latest ``kind`` period that had ended by the end of local ``day``."""
    period = period_for(kind, day, tz, fiscal_year_start_month)
    return period if period.last_day <= day else previous(period)


def report_period(
    kind: str,
    as_of: dt.date | None,
    latest: pd.Timestamp | None,
    tz: str,
    fiscal_year_start_month: int = 1,
) -> Period:
    """The window a report covers.

    With ``as_of``: the period holding that day, cut at its end (to date). Without: the
    latest period complete by the last full day of data (``latest`` = newest timestamp).
    """
    if as_of is not None:
        return to_date(period_for(kind, as_of, tz, fiscal_year_start_month), as_of)
    if latest is None:
        raise ValueError("no data: give an as-of date or load data first")
    return latest_complete(kind, last_full_day(latest, tz), tz, fiscal_year_start_month)
