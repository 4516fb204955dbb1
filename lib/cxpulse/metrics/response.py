"""How fast and how often the brand answers: response rate, first response time, SLA.

Inbound messages of every channel but phone count. A reply is an outbound row whose
``parent_id`` is the inbound ``id`` and whose brand is the inbound's brand: a competitor
answering our customer is not our answer. Replies created after ``until`` (the as-of
cut-off, by default the window end) are not seen, so a report never sees the future.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis import _

from cxpulse.config import BusinessHours
from cxpulse.metrics.business_hours import with_business_frt
from cxpulse.metrics.engines import epoch_us
from cxpulse.metrics.grouping import (
    aggregate,
    as_utc,
    microseconds,
    ratio,
    seconds_between,
    to_frame,
    with_group_keys,
    within,
)

REPLY_LOOKBACK = pd.Timedelta(days=1)
"""Replies are read from this long before the window on: a reply stamped earlier than that
before its message is a clock error, and reading only near the window keeps a day's report
from growing with history."""


def first_responses(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    until: pd.Timestamp | None = None,
) -> ir.Table:
    """One row per inbound non-phone message created in ``[start, end)``, with its first reply.

    Columns: id, channel, brand, author_id, created_at, text, sentiment, p_negative,
    first_reply_at
    (earliest same-brand reply created from ``REPLY_LOOKBACK`` before ``start`` up to
    ``until``, else null) and
    frt_s = first_reply_at - created_at in seconds, clamped at 0 for a reply whose clock
    says it came before its parent; null when unanswered by ``until``.
    """
    until = as_utc(end if until is None else until)
    inbound = within(t, start, end).filter(_.direction == "inbound", _.channel != "phone")
    replies = t.filter(
        _.direction == "outbound",
        _.parent_id.notnull(),
        _.created_at >= as_utc(start) - REPLY_LOOKBACK,
        _.created_at <= until,
    )
    first = replies.group_by(reply_to=_.parent_id, reply_brand=_.brand).aggregate(
        first_reply_at=_.created_at.min()
    )
    joined = inbound.left_join(
        first, [inbound.id == first.reply_to, inbound.brand == first.reply_brand]
    )
    delay = seconds_between(joined.created_at, joined.first_reply_at)
    return joined.select(
        "id",
        "channel",
        "brand",
        "author_id",
        "created_at",
        "text",
        "sentiment",
        "p_negative",
        "first_reply_at",
        frt_s=ibis.ifelse(delay < 0, 0.0, delay),
    )


def sla_target(channel: ir.StringValue, sla_targets: Mapping[str, float]) -> ir.FloatingValue:
    """The SLA target of ``channel`` in seconds (``sla_targets``: channel -> seconds);
    null for a channel without one."""
    if not sla_targets:
        return ibis.null("float64")
    return channel.cases(*((c, float(s)) for c, s in sla_targets.items()), else_=None)


def response_summary(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    by: Sequence[str] = (),
    sla_targets: Mapping[str, float] | None = None,
    until: pd.Timestamp | None = None,
    tz: str = "UTC",
    business_hours: BusinessHours | None = None,
) -> pd.DataFrame:
    """Response rate, first response time and SLA attainment of inbound in ``[start, end)``.

    Columns: ``by`` + inbound, answered (count); response_rate = answered / inbound
    (fraction); frt_median_s, frt_p90_s = continuous quantiles of frt_s over answered
    inbound (seconds; null when none answered); frt_median_business_s,
    frt_p90_business_s = the same quantiles of frt_business_s, the wait inside
    ``business_hours`` in ``tz`` (``with_business_frt``; business seconds; null without
    ``business_hours``); SLA over channels with a target in
    ``sla_targets`` (channel -> seconds): sla_due = inbound whose deadline
    (created_at + target) is at or before ``until``, plus those answered within target
    before it; sla_met = answered within target by ``until``; sla_attainment =
    sla_met / sla_due (fraction, null when nothing is due).
    """
    until = as_utc(end if until is None else until)
    r = first_responses(t, start, end, until)
    if business_hours is None:
        r = r.mutate(frt_business_s=ibis.null("float64"))
    else:
        r = with_business_frt(r, business_hours, tz, start, until)
    r = with_group_keys(r, by, tz)
    target = sla_target(r.channel, sla_targets or {})
    met = target.notnull() & r.frt_s.notnull() & (r.frt_s <= target)
    deadline_us = epoch_us(r.created_at) + target * 1e6
    due = target.notnull() & ((deadline_us <= microseconds(until)) | met)
    answered = r.frt_s.notnull()
    expr = aggregate(
        r,
        by,
        inbound=r.count(),
        answered=r.count(where=answered),
        response_rate=ratio(r.count(where=answered), r.count()),
        frt_median_s=r.frt_s.quantile(0.5),
        frt_p90_s=r.frt_s.quantile(0.9),
        frt_median_business_s=r.frt_business_s.quantile(0.5),
        frt_p90_business_s=r.frt_business_s.quantile(0.9),
        sla_due=r.count(where=due),
        sla_met=r.count(where=met),
        sla_attainment=ratio(r.count(where=met), r.count(where=due)),
    )
    return to_frame(expr, by)
