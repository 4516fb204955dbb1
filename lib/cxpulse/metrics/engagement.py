"""Engagement with the brand's own posts."""

from __future__ import annotations

from collections.abc import Sequence

import ibis.expr.types as ir
import pandas as pd
from ibis import _

from cxpulse.metrics.grouping import aggregate, ratio, to_frame, with_group_keys, within


def engagement_rate(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    brand: str,
    by: Sequence[str] = (),
    tz: str = "UTC",
) -> pd.DataFrame:
    """Engagement rate of ``brand``'s posts created in ``[start, end)``, per ``by`` group.

    A brand post is a row of ``brand`` with direction ``outbound`` and no ``parent_id``
    (a reply has a parent). Pooled over the group's posts with ``reach > 0``:

        engagement_rate = sum(likes + comments + shares) / sum(reach) x 100   (percent)

    Posts without reach (null or 0) count in ``posts`` but in neither the numerator nor the
    denominator; missing likes, comments or shares count as 0.

    Columns: ``by`` + posts (count), reach (sum over posts with reach), engagements
    (likes + comments + shares over those posts), engagement_rate (percent, null when no
    post has reach).
    """
    posts = with_group_keys(
        within(t, start, end).filter(
            _.brand == brand, _.direction == "outbound", _.parent_id.isnull()
        ),
        by,
        tz,
        (start, end),
    )
    has_reach = posts.reach.fill_null(0) > 0
    interactions = (
        posts.likes.fill_null(0) + posts.comments.fill_null(0) + posts.shares.fill_null(0)
    )
    reach = has_reach.ifelse(posts.reach, 0).sum().fill_null(0)
    engagements = has_reach.ifelse(interactions, 0).sum().fill_null(0)
    expr = aggregate(
        posts,
        by,
        posts=posts.count(),
        reach=reach,
        engagements=engagements,
        engagement_rate=ratio(engagements, reach) * 100,
    )
    return to_frame(expr, by)
