"""Volume: how many interactions, by direction."""

from __future__ import annotations

from collections.abc import Sequence

import ibis.expr.types as ir
import pandas as pd

from cxpulse.metrics.grouping import aggregate, to_frame, with_group_keys, within


def volume_summary(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    by: Sequence[str] = (),
    tz: str = "UTC",
) -> pd.DataFrame:
    """Interactions of every channel (calls and reviews included) created in ``[start, end)``.

    Columns: ``by`` + inbound, outbound, mentions (counts by direction) and total (count).
    """
    v = with_group_keys(within(t, start, end), by, tz, (start, end))
    expr = aggregate(
        v,
        by,
        inbound=v.count(where=v.direction == "inbound"),
        outbound=v.count(where=v.direction == "outbound"),
        mentions=v.count(where=v.direction == "mention"),
        total=v.count(),
    )
    return to_frame(expr, by)
