"""Report windows in the brand's time zone, and the windows they are compared with.

A window is half-open, ``[start, end)``, with both ends as UTC timestamps, computed from
local calendar boundaries so a day is the brand's day (23 or 25 hours across DST).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd


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

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


def _make(cadence: str, label: str, first: dt.date, last: dt.date, tz: str) -> Period:
    start = pd.Timestamp(first).tz_localize(tz).tz_convert("UTC")
    end = pd.Timestamp(last + dt.timedelta(days=1)).tz_localize(tz).tz_convert("UTC")
    return Period(cadence, label, first, last, start, end, tz)


def _quarter_first(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def period_for(cadence: str, day: dt.date, tz: str) -> Period:
    """The period of ``cadence`` that contains local date ``day``.

    daily = the local calendar day (label ``2024-03-31``); weekly = ISO week, Monday to
    Sunday (``2024-W13``); monthly (``2024-03``); quarterly = calendar quarter
    (``2024-Q1``); yearly (``2024``).
    """
    if cadence == "daily":
        return _make(cadence, day.isoformat(), day, day, tz)
    if cadence == "weekly":
        first = day - dt.timedelta(days=day.weekday())
        year, week, _ = day.isocalendar()
        return _make(cadence, f"{year}-W{week:02d}", first, first + dt.timedelta(days=6), tz)
    if cadence == "monthly":
        first = day.replace(day=1)
        nxt = (first + dt.timedelta(days=32)).replace(day=1)
        return _make(cadence, f"{day:%Y-%m}", first, nxt - dt.timedelta(days=1), tz)
    if cadence == "quarterly":
        first = _quarter_first(day)
        nxt = _quarter_first(first + dt.timedelta(days=95))
        label = f"{first.year}-Q{(first.month - 1) // 3 + 1}"
        return _make(cadence, label, first, nxt - dt.timedelta(days=1), tz)
    if cadence == "yearly":
        return _make(cadence, str(day.year), dt.date(day.year, 1, 1), dt.date(day.year, 12, 31), tz)
    raise ValueError(f"unknown cadence {cadence!r}")


def previous(period: Period, n: int = 1) -> Period:
    """The period ``n`` periods before ``period``, of the same cadence."""
    p = period
    for _ in range(n):
        p = period_for(p.cadence, p.first_day - dt.timedelta(days=1), p.timezone)
    return p


def year_ago(period: Period) -> Period:
    """The same period one year earlier (same ISO week number for weekly)."""
    if period.cadence == "weekly":
        return period_for("weekly", period.first_day - dt.timedelta(weeks=52), period.timezone)
    first = period.first_day
    try:
        day = first.replace(year=first.year - 1)
    except ValueError:  # 29 February
        day = first.replace(year=first.year - 1, day=28)
    return period_for(period.cadence, day, period.timezone)


def trailing(period: Period, days: int) -> Period:
    """The ``days`` local days just before ``period`` starts (e.g. trailing 7 or 28 days)."""
    last = period.first_day - dt.timedelta(days=1)
    first = last - dt.timedelta(days=days - 1)
    return _make(f"trailing{days}", f"{first} to {last}", first, last, period.timezone)


def last_full_day(latest: pd.Timestamp, tz: str) -> dt.date:
    """The last local day that had ended by ``latest`` (the newest data timestamp).

    The day ``latest`` falls in is still running, so the answer is the day before it.
    """
    return latest.tz_convert(tz).date() - dt.timedelta(days=1)
