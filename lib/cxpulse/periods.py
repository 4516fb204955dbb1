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

CADENCES: tuple[str, ...] = ("daily", "weekly", "monthly", "quarterly", "yearly")


@dataclass(frozen=True)
class Period:
    """One report window: its cadence, its label and its local and UTC bounds."""

    cadence: str
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


def _make(
    cadence: str, label: str, first: dt.date, last: dt.date, tz: str, fiscal_start: int = 1
) -> Period:
    start = local_midnight(first, tz)
    end = local_midnight(last + dt.timedelta(days=1), tz)
    return Period(cadence, label, first, last, start, end, tz, fiscal_start)


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


def period_for(cadence: str, day: dt.date, tz: str, fiscal_year_start_month: int = 1) -> Period:
    """The period of ``cadence`` that contains local date ``day``.

    daily = the local calendar day (label ``2024-03-31``); weekly = ISO week, Monday to
    Sunday (``2024-W13``, the ISO year, so 2024-12-30 is in ``2025-W01``); monthly
    (``2024-03``); quarterly = three months from the start of the (fiscal) year
    (``2024-Q1``); yearly (``2024``). With ``fiscal_year_start_month`` m > 1 the year runs
    from month m and is named by the calendar year it ends in: with m = 4, 2024-04-01 is
    in ``FY2025-Q1`` and ``FY2025``.
    """
    if not 1 <= fiscal_year_start_month <= 12:
        raise ValueError(f"fiscal_year_start_month must be 1 to 12, got {fiscal_year_start_month}")
    if cadence == "daily":
        return _make(cadence, day.isoformat(), day, day, tz)
    if cadence == "weekly":
        first = day - dt.timedelta(days=day.weekday())
        year, week, _ = day.isocalendar()
        return _make(cadence, f"{year}-W{week:02d}", first, first + dt.timedelta(days=6), tz)
    if cadence == "monthly":
        first = day.replace(day=1)
        last = _add_months(first, 1) - dt.timedelta(days=1)
        return _make(cadence, f"{day:%Y-%m}", first, last, tz)
    fiscal_first = _fiscal_year_first(day, fiscal_year_start_month)
    if cadence == "quarterly":
        quarter = ((day.month - fiscal_year_start_month) % 12) // 3
        first = _add_months(fiscal_first, 3 * quarter)
        last = _add_months(first, 3) - dt.timedelta(days=1)
        label = f"{_year_label(fiscal_first)}-Q{quarter + 1}"
        return _make(cadence, label, first, last, tz, fiscal_year_start_month)
    if cadence == "yearly":
        last = _add_months(fiscal_first, 12) - dt.timedelta(days=1)
        label = _year_label(fiscal_first)
        return _make(cadence, label, fiscal_first, last, tz, fiscal_year_start_month)
    raise ValueError(f"unknown cadence {cadence!r}; expected one of {', '.join(CADENCES)}")


def span(first: dt.date, last: dt.date, tz: str, cadence: str = "custom") -> Period:
    """The local days ``first`` to ``last`` inclusive (label ``2024-03-01 to 2024-03-07``)."""
    if last < first:
        raise ValueError(f"a period cannot end ({last}) before it starts ({first})")
    return _make(cadence, f"{first} to {last}", first, last, tz)


def previous(period: Period, n: int = 1) -> Period:
    """The period ``n`` periods before ``period``, of the same cadence.

    A span (custom or trailing) is followed back by the span of as many days before it.
    """
    p = period
    for _ in range(n):
        if p.cadence in CADENCES:
            day = p.first_day - dt.timedelta(days=1)
            p = period_for(p.cadence, day, p.timezone, p.fiscal_year_start_month)
        else:
            last = p.first_day - dt.timedelta(days=1)
            p = span(last - dt.timedelta(days=p.days - 1), last, p.timezone, p.cadence)
    return p


def year_ago(period: Period) -> Period:
    """The same period one year earlier.

    Weekly: the same ISO week number of the previous ISO year (week 52 when that year has
    no week 53). Daily on 29 February: 28 February.
    """
    if period.cadence == "weekly":
        year, week, _ = period.first_day.isocalendar()
        weeks_then = dt.date(year - 1, 12, 28).isocalendar()[1]
        monday = dt.date.fromisocalendar(year - 1, min(week, weeks_then), 1)
        return period_for("weekly", monday, period.timezone)
    first = period.first_day
    try:
        day = first.replace(year=first.year - 1)
    except ValueError:  # 29 February
        day = first.replace(year=first.year - 1, day=28)
    if period.cadence not in CADENCES:
        return span(day, day + dt.timedelta(days=period.days - 1), period.timezone, period.cadence)
    return period_for(period.cadence, day, period.timezone, period.fiscal_year_start_month)


def trailing(period: Period, days: int) -> Period:
    """The ``days`` local days just before ``period`` starts (e.g. trailing 7 or 28 days)."""
    last = period.first_day - dt.timedelta(days=1)
    return span(last - dt.timedelta(days=days - 1), last, period.timezone, f"trailing{days}")


def last_full_day(latest: pd.Timestamp, tz: str) -> dt.date:
    """The last local day that had ended by ``latest`` (the newest data timestamp).

    The day ``latest`` falls in is still running, so the answer is the day before it.
    """
    return latest.tz_convert(tz).date() - dt.timedelta(days=1)


def to_date(period: Period, day: dt.date) -> Period:
    """``period`` cut at the end of local ``day`` when the period runs past it (a week or
    quarter to date): a report never counts days that have not happened yet."""
    if day >= period.last_day:
        return period
    return dataclasses.replace(
        period, last_day=day, end=local_midnight(day + _ONE_DAY, period.timezone)
    )


def latest_complete(cadence: str, day: dt.date, tz: str) -> Period:
    """The latest ``cadence`` period that had ended by the end of local ``day``."""
    period = period_for(cadence, day, tz)
    return period if period.last_day <= day else previous(period)


def report_period(
    cadence: str, as_of: dt.date | None, latest: pd.Timestamp | None, tz: str
) -> Period:
    """The window a report covers.

    With ``as_of``: the period holding that day, cut at its end (to date). Without: the
    latest period complete by the last full day of data (``latest`` = newest timestamp).
    """
    if as_of is not None:
        return to_date(period_for(cadence, as_of, tz), as_of)
    if latest is None:
        raise ValueError("no data: give an as-of date or load data first")
    return latest_complete(cadence, last_full_day(latest, tz), tz)
