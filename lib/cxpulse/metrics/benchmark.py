"""How we compare with competitors: response performance and share of voice."""

from __future__ import annotations

import ibis.expr.types as ir
import pandas as pd
from ibis import _

from cxpulse.metrics.grouping import within
from cxpulse.metrics.response import response_summary


def response_benchmark(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    brands: list[str] | None = None,
    min_inbound: int = 10,
) -> pd.DataFrame:
    """Response rate and first response time per brand for messages created in
    ``[start, end)``, ranked, with the same definitions as ``response_summary``.

    response_rate = answered / inbound (fraction); frt_median_s and frt_p90_s in clock
    seconds over answered messages; only a reply from the brand addressed counts. All
    brands in ``t`` unless ``brands`` is given. Brands with fewer than ``min_inbound``
    inbound messages are left out (too few to compare); how many is in
    ``attrs["excluded"]``.

    rank: 1 = fastest median FRT, ties broken by the higher response rate; brands that
    answered nothing come last.

    Columns: brand, inbound, response_rate, frt_median_s, frt_p90_s, rank.
    """
    if brands is not None:
        t = t.filter(t.brand.isin(brands))
    summary = response_summary(t, start, end, by=["brand"])
    kept = summary[summary["inbound"] >= min_inbound]
    out = kept.sort_values(
        ["frt_median_s", "response_rate", "brand"],
        ascending=[True, False, True],
        na_position="last",
        ignore_index=True,
    )[["brand", "inbound", "response_rate", "frt_median_s", "frt_p90_s"]]
    out["rank"] = range(1, len(out) + 1)
    out.attrs["excluded"] = len(summary) - len(kept)
    return out


def share_of_voice(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    brands: list[str],
) -> pd.DataFrame:
    """Each brand's share of the customer conversation in ``[start, end)``.

    mentions = messages about the brand from customers (direction inbound or mention) on
    any channel except phone; share = mentions / sum of mentions over ``brands``
    (fraction 0-1, NaN when nobody mentioned any of them).

    Columns, one row per brand in the order given: brand, mentions, share.
    """
    about = within(t, start, end).filter(
        _.brand.isin(brands), _.direction.isin(["inbound", "mention"]), _.channel != "phone"
    )
    counts = about.group_by("brand").aggregate(mentions=about.count()).execute()
    out = pd.DataFrame({"brand": brands})
    out["mentions"] = (
        out["brand"].map(dict(zip(counts["brand"], counts["mentions"], strict=True))).fillna(0)
    ).astype("int64")
    total = out["mentions"].sum()
    out["share"] = out["mentions"] / total if total else float("nan")
    return out
