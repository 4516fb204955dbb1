"""The customer's voice: how positive or negative inbound messages and mentions are.

Each scored row carries the engine's class probabilities p_negative, p_neutral and
p_positive (summing to 1; null when the row has no text). Our own replies are not
counted.

Two kinds of figure, never mixed:

- a group's figures (shares, net sentiment, negative messages a day) are *estimated*
  from the probabilities: the engine aggregates count, sums and sums of squares of p_*
  per group (``sentiment_counts``) and ``quantify`` corrects them with the engine's
  calibration (PACC) and gives net sentiment a 90 % interval. Counting thresholded labels
  would carry the classifier's bias into every figure;
- a decision about one message (is it negative? strongly negative?) compares its
  p_negative with a threshold of brand.yaml's ``sentiment`` section (``is_negative``).
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis.expr.types as ir
import pandas as pd
from ibis import _

from cxpulse.metrics.grouping import aggregate, check_by, to_frame, with_group_keys, within
from cxpulse.quantify import CLASSES, Calibration, estimate_groups

PROBABILITIES: tuple[str, ...] = tuple(f"p_{c}" for c in CLASSES)
"""The probability columns, in ``quantify.CLASSES`` order."""

SUMMARY_COLUMNS = [
    "voiced",
    "negative",
    "expected_negative",
    "positive_share",
    "neutral_share",
    "negative_share",
    "net_sentiment",
    "net_low",
    "net_high",
    "net_chance",
]


def is_negative(t: ir.Table, threshold: float) -> ir.BooleanValue:
    """True for rows whose p_negative >= ``threshold`` (False when unscored)."""
    return (t.p_negative >= threshold).fill_null(False)


def sentiment_counts(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    by: Sequence[str] = (),
    tz: str = "UTC",
) -> ir.Table:
    """Aggregates of the scored inbound and mention rows created in ``[start, end)``, run
    by the engine: what ``sentiment_summary`` estimates from.

    Columns: ``by`` + voiced (rows with probabilities) and, for each of p_negative,
    p_neutral, p_positive, ``<p>_sum`` and ``<p>_sumsq`` (sum of the probabilities and of
    their squares; null when nothing was voiced).
    """
    v = with_group_keys(
        within(t, start, end).filter(
            _.direction.isin(["inbound", "mention"]),
            *(_[p].notnull() for p in PROBABILITIES),
        ),
        by,
        tz,
        (start, end),
    )
    sums = {f"{p}_sum": v[p].sum() for p in PROBABILITIES}
    squares = {f"{p}_sumsq": (v[p] * v[p]).sum() for p in PROBABILITIES}
    return aggregate(v, by, voiced=v.count(), **sums, **squares)


def estimate(
    counts: pd.DataFrame, by: Sequence[str], calibration: Calibration | None
) -> pd.DataFrame:
    """``sentiment_summary``'s columns from an executed ``sentiment_counts`` frame."""
    aggregates = counts[[f"{p}_{s}" for s in ("sum", "sumsq") for p in PROBABILITIES]]
    values = aggregates.astype("float64").fillna(0.0).to_numpy()
    est = estimate_groups(counts["voiced"].to_numpy(), values[:, :3], values[:, 3:], calibration)
    shares = {f"{c}_share": est.shares[:, i] for i, c in enumerate(CLASSES)}
    out = (
        counts[list(by)]
        .reset_index(drop=True)
        .assign(
            voiced=counts["voiced"].to_numpy("int64"),
            negative=counts["voiced"].to_numpy("float64") * est.shares[:, 0],
            expected_negative=values[:, 0],
            **shares,
            net_sentiment=est.net,
            net_low=est.net_low,
            net_high=est.net_high,
            net_chance=est.net_chance,
        )
    )
    out.attrs["corrected"] = est.corrected
    return out[[*by, *SUMMARY_COLUMNS]]


def sentiment_summary(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    by: Sequence[str] = (),
    tz: str = "UTC",
    calibration: Calibration | None = None,
) -> pd.DataFrame:
    """Estimated sentiment of the customer's voice in ``[start, end)``, per group of ``by``.

    Columns: ``by`` + voiced (rows with probabilities); positive_share, neutral_share,
    negative_share (fractions summing to 1): PACC estimates with ``calibration``, the mean
    probabilities without one (None); negative = voiced x negative_share, the estimated
    number of negative messages (not a count of labels, so not an integer);
    expected_negative = the sum of p_negative, uncorrected (how many messages the engine
    expects negative: biased by its errors, but with a fraction of PACC's variance on a
    small group, which suits day-to-day comparisons such as spikes);
    net_sentiment = (positive - negative) / (positive + negative) x 100 of the shares
    (points in [-100, 100], null when both are 0) with net_low / net_high, its 90 %
    interval (``quantify.estimate_groups``: sampling error plus the engine's calibration
    error). Shares are null when nothing was voiced. ``attrs["corrected"]`` is False when
    no calibration corrected the shares (none given, or PACC refused a singular one).
    """
    by = check_by(by)
    return estimate(to_frame(sentiment_counts(t, start, end, by, tz), by), by, calibration)
