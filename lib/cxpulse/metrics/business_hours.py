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
from cxpulse.metrics.grouping import as_utc, seconds_between

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
    order: open_at = the day at ``hours.start``, close_at = the day at ``hours.end``, both
    UTC timestamps. A wall-clock time that does not exist (clocks jump forward over it)
    becomes the first one that does; one that happens twice, the first of the two.
    """
    days = pd.date_range(as_utc(start).tz_convert(tz).date(), as_utc(end).tz_convert(tz).date())
    working = days.day_of_week.isin([WEEKDAYS.index(d) for d in hours.days])
    holiday = days.isin(pd.to_datetime(hours.holidays))
    days = days[working & ~holiday]
    return pd.DataFrame(
        {
            "open_at": _local_instants(days, hours.start, tz),
            "close_at": _local_instants(days, hours.end, tz),
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
    frt_business_s added.

    frt_business_s = sum over business intervals (``business_intervals``) of
    max(0, min(close_at, first_reply_at) - max(open_at, created_at)): the seconds of the
    wait that fall inside business hours (a message sent Friday 19:00 and answered Monday
    09:00, with hours 08-20 Monday to Friday, waited 7,200 business seconds). Null when
    unanswered; 0 for a reply stamped at or before its message.
    """
    calendar = ibis.memtable(business_intervals(hours, tz, start, until))
    waits = responses.filter(responses.first_reply_at > responses.created_at).select(
        wait_id="id", since="created_at", reply="first_reply_at"
    )
    pairs = waits.join(calendar, [calendar.open_at < waits.reply, calendar.close_at > waits.since])
    inside = seconds_between(
        ibis.greatest(pairs.open_at, pairs.since), ibis.least(pairs.close_at, pairs.reply)
    )
    per_wait = pairs.group_by("wait_id").aggregate(business_s=inside.sum())
    joined = responses.left_join(per_wait, responses.id == per_wait.wait_id)
    business_s = ibis.ifelse(
        joined.first_reply_at.isnull(), ibis.null("float64"), joined.business_s.fill_null(0.0)
    )
    return joined.mutate(frt_business_s=business_s).drop("wait_id", "business_s")
