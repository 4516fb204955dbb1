"""First response time in business hours: only the time the care team is at work counts.

The working calendar (``config.BusinessHours``: days, start, end, holidays) is local to the
brand's time zone. It becomes a small table of business intervals in UTC, one row per
working day, built from the params alone; each message's wait is clipped against it by
the engine, so DST changes and holidays come out exact.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from cxpulse.config import BusinessHours
from cxpulse.metrics.engines import epoch_us
from cxpulse.metrics.grouping import as_utc, local_day

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""``BusinessHours.days`` names in the order of pandas' ``day_of_week`` (Monday = 0)."""


def _local_instants(days: pd.DatetimeIndex, time: dt.time, tz: str) -> pd.DatetimeIndex:
    """UTC instants of wall-clock ``time`` on each local day of ``days`` (naive midnights)."""
    local = days + pd.to_timedelta(time.isoformat())
    first = np.ones(len(local), dtype=bool)
    return local.tz_localize(tz, nonexistent="shift_forward", ambiguous=first).tz_convert("UTC")


def business_intervals(
    hours: BusinessHours, tz: str, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """The business intervals of the local days in ``tz`` from the one holding ``start`` to
    the one holding ``end``, both included.

    One row per working day (a day of ``hours.days`` not in ``hours.holidays``), in date
    order: day (the local date, naive midnight), open_at = the day at ``hours.start``,
    close_at = the day at ``hours.end``, both UTC timestamps. A wall-clock time that does
    not exist (clocks jump forward over it) becomes the first one that does; one that
    happens twice, the first of the two.
    """
    days = _local_days(tz, start, end)
    working = days.day_of_week.isin([WEEKDAYS.index(d) for d in hours.days])
    holiday = days.isin(pd.to_datetime(hours.holidays))
    days = days[working & ~holiday]
    return pd.DataFrame(
        {
            "day": days,
            "open_at": _local_instants(days, hours.start, tz),
            "close_at": _local_instants(days, hours.end, tz),
        }
    )


def _local_days(tz: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """The local dates in ``tz`` from the one holding ``start`` to the one holding ``end``."""
    return pd.date_range(as_utc(start).tz_convert(tz).date(), as_utc(end).tz_convert(tz).date())


def business_clock(
    hours: BusinessHours, tz: str, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """Every local day in ``tz`` from the one holding ``start`` to the one holding ``end``,
    with its business interval (``business_intervals``) and the business time before it.

    Columns: day (date), open_at (UTC; null on a day off), length_us = close_at - open_at
    (0 on a day off) and before_us = the sum of length_us over the days before it
    (microseconds).
    """
    clock = pd.DataFrame({"day": _local_days(tz, start, end)}).merge(
        business_intervals(hours, tz, start, end), on="day", how="left"
    )
    length = (clock["close_at"] - clock["open_at"]).to_numpy("timedelta64[us]").astype("int64")
    length[clock["open_at"].isna().to_numpy()] = 0
    return pd.DataFrame(
        {
            "day": clock["day"].dt.date,
            "open_at": clock["open_at"],
            "length_us": length,
            "before_us": np.cumsum(length) - length,
        }
    )


def with_business_frt(
    responses: ir.Table,
    hours: BusinessHours,
    tz: str,
    start: pd.Timestamp,
    until: pd.Timestamp,
) -> ir.Table:
    """``responses`` (``first_responses`` of ``[start, ...)`` seen at ``until``) with
    frt_business_s and age_business_s added.

    frt_business_s = max(0, B(first_reply_at) - B(created_at)) / 1e6, where B(t) is the
    business time from the first day of ``business_clock`` to t in microseconds:
    before_us + min(length_us, max(0, t - open_at)) of t's local day. That is the seconds
    of the wait that fall inside business hours (a message sent Friday 19:00 and answered
    Monday 09:00, with hours 08-20 Monday to Friday, waited 7,200 business seconds), found
    by looking up each end's local day in a table of a few hundred rows instead of clipping
    every wait against every interval. Null when unanswered; 0 for a reply stamped at or
    before its message. age_business_s = max(0, B(until) - B(created_at)) / 1e6: the
    business seconds a message had waited by ``until``, answered or not (when a target in
    business hours falls due).
    """
    clock = business_clock(hours, tz, start, until)

    def elapsed_us(table: ir.Table, instant: str, name: str) -> ir.Table:
        c = ibis.memtable(clock).rename(lambda col: f"{name}_{col}")
        keyed = table.mutate(**{f"{name}_key": local_day(table[instant], tz, (start, until))})
        joined = keyed.left_join(c, keyed[f"{name}_key"] == c[f"{name}_day"])
        since_open = epoch_us(joined[instant]) - epoch_us(joined[f"{name}_open_at"])
        inside = ibis.least(joined[f"{name}_length_us"], ibis.greatest(since_open, 0))
        business = joined[f"{name}_before_us"] + inside.fill_null(0)
        return joined.mutate(**{name: business}).drop(
            f"{name}_key", *(f"{name}_{c}" for c in clock)
        )

    columns = responses.columns
    timed = elapsed_us(elapsed_us(responses, "created_at", "b_since"), "first_reply_at", "b_reply")
    waited = ibis.greatest(timed.b_reply - timed.b_since, 0) / 1e6
    business_s = ibis.ifelse(timed.first_reply_at.isnull(), ibis.null("float64"), waited)
    age_s = ibis.greatest(business_time_us(clock, until, tz) - timed.b_since, 0) / 1e6
    return timed.select(*columns, frt_business_s=business_s, age_business_s=age_s)


def business_time_us(clock: pd.DataFrame, instant: pd.Timestamp, tz: str) -> int:
    """B(``instant``) of ``with_business_frt``: the business microseconds from the first
    day of ``clock`` (``business_clock``) to ``instant``, which must fall on one of its days."""
    instant = as_utc(instant)
    row = clock[clock["day"] == instant.tz_convert(tz).date()].iloc[0]
    if pd.isna(row["open_at"]):
        return int(row["before_us"])
    since_open = (instant - row["open_at"]) // pd.Timedelta(microseconds=1)
    return int(row["before_us"] + min(row["length_us"], max(since_open, 0)))
