"""How long customers wait for a person, on one scale for every channel.

Messages (social, e-mail, reviews) wait for the brand's first reply (``first_responses``);
calls wait in the agent queue (``wait_s`` of served calls). Both in seconds, so the call
centre and social care can be read side by side.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis import _

from cxpulse.config import CallParams
from cxpulse.metrics.calls import DEFAULT_CALLS, service_level_denominator
from cxpulse.metrics.grouping import (
    aggregate,
    quantiles,
    ratio,
    split,
    to_frame,
    with_group_keys,
    within,
)
from cxpulse.metrics.response import first_responses


def customer_wait(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    calls: CallParams = DEFAULT_CALLS,
    until: pd.Timestamp | None = None,
    by: Sequence[str] = ("channel",),
    tz: str = "UTC",
) -> pd.DataFrame:
    """Waits of customers who contacted the brand in ``[start, end)``, until a first
    human answer.

    A contact is an inbound message of any channel but phone, or a call that counts in
    ``service_level_denominator(calls)`` (served or abandoned in the queue, short abandons
    left out when ``calls`` says so; IVR calls never waited for a person). Its wait is
    frt_s for an answered message (replies seen until ``until``, default ``end``) and
    wait_s for a served call; unanswered = a message without a reply by ``until``, or an
    abandoned call.

    Columns: ``by`` + contacts (count), wait_median_s and wait_p90_s (continuous
    quantiles of the waits of answered contacts, seconds; null when none was answered),
    unanswered_share = unanswered / contacts (fraction).
    """
    messages = first_responses(t, start, end, until).select(
        "channel", "brand", "created_at", wait_s=_.frt_s, unanswered=_.frt_s.isnull()
    )
    phone = within(t, start, end).filter(_.channel == "phone")
    queued = phone.filter(service_level_denominator(phone, calls)).select(
        "channel",
        "brand",
        "created_at",
        wait_s=ibis.ifelse(_.outcome == "served", _.wait_s, ibis.null("float64")),
        unanswered=_.outcome == "abandoned",
    )
    c = with_group_keys(messages.union(queued), by, tz, (start, end))
    expr = aggregate(
        c,
        by,
        contacts=c.count(),
        wait=quantiles(c.wait_s, (0.5, 0.9)),
        unanswered_share=ratio(c.count(where=c.unanswered), c.count()),
    )
    return to_frame(split(expr, "wait", ["wait_median_s", "wait_p90_s"]), by)
