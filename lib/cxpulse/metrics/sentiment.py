"""The customer's voice: how positive or negative inbound messages and mentions are.

Scores are VADER compound values computed at ingest; our own replies are not counted.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis.expr.types as ir
import pandas as pd
from ibis import _

from cxpulse.metrics.grouping import (
    aggregate,
    check_by,
    ratio,
    to_frame,
    with_group_keys,
    within,
)
from cxpulse.sentiment import NEGATIVE, POSITIVE


def sentiment_counts(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    by: Sequence[str] = (),
    tz: str = "UTC",
) -> ir.Table:
    """Scored inbound and mention rows created in ``[start, end)``, counted by label.

    Columns: ``by`` + voiced (rows with a sentiment), positive (>= ``POSITIVE``), neutral,
    negative (<= ``NEGATIVE``) and net_sentiment = (positive - negative) /
    (positive + negative) x 100 (points in [-100, 100]; null when both are 0).
    """
    v = with_group_keys(
        within(t, start, end).filter(
            _.direction.isin(["inbound", "mention"]), _.sentiment.notnull()
        ),
        by,
        tz,
    )
    positive = v.sentiment >= POSITIVE
    negative = v.sentiment <= NEGATIVE
    counted = aggregate(
        v,
        by,
        voiced=v.count(),
        positive=v.count(where=positive),
        neutral=v.count(where=~positive & ~negative),
        negative=v.count(where=negative),
    )
    return counted.mutate(
        net_sentiment=ratio(_.positive - _.negative, _.positive + _.negative) * 100
    )


def sentiment_summary(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    by: Sequence[str] = (),
    tz: str = "UTC",
) -> pd.DataFrame:
    """Sentiment shares and net sentiment of the customer's voice in ``[start, end)``.

    Columns: ``by`` + voiced (rows counted); positive_share, neutral_share,
    negative_share = label count / voiced (fractions, null when nothing was voiced);
    net_sentiment = (positive - negative) / (positive + negative) x 100 (points in
    [-100, 100], null when no row is positive or negative).
    """
    by = check_by(by)
    c = sentiment_counts(t, start, end, by, tz)
    expr = c.select(
        *by,
        "voiced",
        positive_share=ratio(c.positive, c.voiced),
        neutral_share=ratio(c.neutral, c.voiced),
        negative_share=ratio(c.negative, c.voiced),
        net_sentiment=c.net_sentiment,
    )
    return to_frame(expr, by)
