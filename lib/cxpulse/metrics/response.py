"""How fast and how often the brand answers: response rate, first response time, SLA.

Inbound messages of every channel but phone and survey count (``UNANSWERED_CHANNELS``).
A message's first reply is the earliest outbound row of its brand whose ``parent_id`` is
its ``id``, stamped no earlier than ``replies.REPLY_LOOKBACK`` before it (a competitor
answering our customer is not our answer): the warehouse stores it in ``first_reply_at``
(``replies``). Replies created after ``until`` (the as-of cut-off, by default the window
end) are not seen, so a report never sees the future.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis import _

from cxpulse.config import BusinessHours
from cxpulse.metrics.business_hours import with_business_frt
from cxpulse.metrics.grouping import (
    aggregate,
    as_utc,
    quantiles,
    ratio,
    seconds_between,
    seconds_until,
    split,
    to_frame,
    with_group_keys,
    within,
)

UNANSWERED_CHANNELS: tuple[str, ...] = ("phone", "survey")
"""Channels whose inbound rows await no written reply: calls are answered live (call
metrics), a survey response rates a contact."""


def first_responses(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    until: pd.Timestamp | None = None,
) -> ir.Table:
    """One row per inbound message (not phone or survey) created in ``[start, end)``, with
    its first reply.

    Columns: id, channel, brand, author_id, created_at, text, sentiment, p_negative,
    first_reply_at (the stored first reply, ``replies``, when created at or before
    ``until``, else null: unanswered by then) and
    frt_s = first_reply_at - created_at in seconds, clamped at 0 for a reply whose clock
    says it came before its parent; null when unanswered by ``until``.
    """
    until = as_utc(end if until is None else until)
    inbound = within(t, start, end).filter(
        _.direction == "inbound", _.channel.notin(UNANSWERED_CHANNELS)
    )
    seen = inbound.mutate(
        first_reply_at=ibis.ifelse(
            _.first_reply_at <= until, _.first_reply_at, ibis.null("timestamp('UTC')")
        )
    )
    delay = seconds_between(seen.created_at, seen.first_reply_at)
    return seen.select(
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


def in_target_calendar(
    clock_s: ir.FloatingValue,
    business_s: ir.FloatingValue,
    channel: ir.StringValue,
    business_targets: Collection[str],
) -> ir.FloatingValue:
    """``business_s`` for a channel whose target counts business hours (in
    ``business_targets``), else ``clock_s``: a wait measured the way its target is."""
    if not business_targets:
        return clock_s
    return ibis.ifelse(channel.isin(list(business_targets)), business_s, clock_s)


def response_summary(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    by: Sequence[str] = (),
    sla_targets: Mapping[str, float] | None = None,
    until: pd.Timestamp | None = None,
    tz: str = "UTC",
    business_hours: BusinessHours | None = None,
    business_targets: Collection[str] = (),
    frt: bool = True,
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
    sla_met / sla_due (fraction, null when nothing is due). The target of a channel in
    ``business_targets`` counts business seconds (``business_hours``, required then): met
    when frt_business_s <= target, due when the message had waited target business
    seconds by ``until`` (age_business_s). ``frt=False`` leaves the four quantile
    columns out: they hold every answered wait in memory (no engine spills them), which a
    caller that needs only counts and SLA should not pay for.
    """
    until = as_utc(end if until is None else until)
    r = first_responses(t, start, end, until)
    if business_hours is None:
        if business_targets:
            raise ValueError(f"business-hour targets {list(business_targets)} need business_hours")
        r = r.mutate(frt_business_s=ibis.null("float64"), age_business_s=ibis.null("float64"))
    else:
        r = with_business_frt(r, business_hours, tz, start, until)
    r = with_group_keys(r, by, tz, (start, end))
    target = sla_target(r.channel, sla_targets or {})
    waited = in_target_calendar(r.frt_s, r.frt_business_s, r.channel, business_targets)
    met = target.notnull() & waited.notnull() & (waited <= target)
    age = in_target_calendar(
        seconds_until(r.created_at, until), r.age_business_s, r.channel,
        business_targets,
    )  # fmt: skip
    due = target.notnull() & ((age >= target) | met)
    answered = r.frt_s.notnull()
    waits = (
        {"frt": quantiles(r.frt_s, (0.5, 0.9)),
         "frt_business": quantiles(r.frt_business_s, (0.5, 0.9))}
        if frt
        else {}
    )  # fmt: skip
    expr = aggregate(
        r,
        by,
        inbound=r.count(),
        answered=r.count(where=answered),
        response_rate=ratio(r.count(where=answered), r.count()),
        **waits,
        sla_due=r.count(where=due),
        sla_met=r.count(where=met),
        sla_attainment=ratio(r.count(where=met), r.count(where=due)),
    )
    if frt:
        expr = split(expr, "frt", ["frt_median_s", "frt_p90_s"])
        expr = split(expr, "frt_business", ["frt_median_business_s", "frt_p90_business_s"])
    return to_frame(expr, by)
