"""Reviews: how many, how many stars, how many angry ones."""

from __future__ import annotations

from collections.abc import Sequence

import ibis.expr.types as ir
import pandas as pd
from ibis import _

from cxpulse.metrics.grouping import aggregate, ratio, to_frame, with_group_keys, within


def review_summary(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    by: Sequence[str] = (),
    tz: str = "UTC",
) -> pd.DataFrame:
    """Star ratings of reviews (channel 'review', rating set) created in ``[start, end)``.

    Columns: ``by`` + reviews (count); mean_rating (stars, 1 to 5; null without reviews);
    negative_share = reviews of 1 or 2 stars / reviews (fraction); one_star (count).
    """
    r = with_group_keys(
        within(t, start, end).filter(_.channel == "review", _.rating.notnull()),
        by,
        tz,
        (start, end),
    )
    expr = aggregate(
        r,
        by,
        reviews=r.count(),
        mean_rating=r.rating.mean(),
        negative_share=ratio(r.count(where=r.rating <= 2), r.count()),
        one_star=r.count(where=r.rating == 1),
    )
    return to_frame(expr, by)
