"""The reputation index: one 0-100 number blended from net sentiment, review stars, SLA
attainment and, optionally, survey NPS, always shown with its parts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ibis.expr.types as ir
import pandas as pd

from cxpulse.config import BrandParams, ReputationWeights
from cxpulse.metrics.response import response_summary
from cxpulse.metrics.reviews import review_summary
from cxpulse.metrics.sentiment import sentiment_summary
from cxpulse.metrics.survey import survey_summary
from cxpulse.periods import Period
from cxpulse.quantify import Calibration

PARTS: tuple[str, ...] = ("net_sentiment", "review_stars", "sla_attainment", "nps")


def reputation_index(
    net_sentiment: float | None,
    mean_rating: float | None,
    sla_attainment: float | None,
    weights: ReputationWeights,
    nps: float | None = None,
) -> dict:
    """Blend the parts into one 0-100 score.

    Each part is first put on 0-100, linearly:

    - net sentiment, points -100..100:  (net_sentiment + 100) / 2
    - mean review stars 1..5:           (mean_rating - 1) / 4 x 100
    - SLA attainment, fraction 0..1:    sla_attainment x 100
    - survey NPS, points -100..100:     (nps + 100) / 2 (optional: weight 0 by default)

    index = sum(weight x part) / sum(weight), over the parts that are present: a missing
    part (None, NaN or NA, e.g. no reviews in the window) is left out and the remaining
    weights are re-normalised. The index is None when no present part has a positive weight.

    Returns ``{"net_sentiment", "review_stars", "sla_attainment", "nps"}`` (each 0-100 or None),
    ``"index"`` (0-100 or None) and ``"parts_used"`` (the parts blended: present and with
    a positive weight).
    """
    raw = {
        "net_sentiment": net_sentiment,
        "review_stars": mean_rating,
        "sla_attainment": sla_attainment,
        "nps": nps,
    }
    to_100 = {
        "net_sentiment": lambda v: (v + 100) / 2,
        "review_stars": lambda v: (v - 1) / 4 * 100,
        "sla_attainment": lambda v: v * 100,
        "nps": lambda v: (v + 100) / 2,
    }
    scores = {p: to_100[p](float(v)) if pd.notna(v) else None for p, v in raw.items()}
    used = [p for p in PARTS if scores[p] is not None and getattr(weights, p) > 0]
    total = sum(getattr(weights, p) for p in used)
    index = sum(getattr(weights, p) * scores[p] for p in used) / total if used else None
    return {**scores, "index": index, "parts_used": used}


def _parts(
    own: ir.Table, period: Period, brand: BrandParams, calibration: Calibration | None
) -> dict:
    """net_sentiment, mean_rating, sla_attainment and nps of ``own`` in ``period`` (None
    when there is nothing to measure)."""
    voices = sentiment_summary(own, period.start, period.end, calibration=calibration)
    reviews = review_summary(own, period.start, period.end)
    answers = response_summary(
        own,
        period.start,
        period.end,
        sla_targets=brand.sla_targets_s,
        tz=brand.timezone,
        business_hours=brand.business_hours,
        business_targets=brand.business_targets,
        frt=False,
    )
    return {
        "net_sentiment": voices["net_sentiment"].iloc[0],
        "mean_rating": reviews["mean_rating"].iloc[0],
        "sla_attainment": answers["sla_attainment"].iloc[0],
        "nps": survey_summary(own, period.start, period.end)["nps"].iloc[0]
        if brand.reputation_weights.nps > 0
        else None,
    }


def reputation_by_period(
    t: ir.Table,
    periods: Sequence[Period],
    brand: BrandParams,
    known: Mapping[str, Mapping] | None = None,
    calibration: Calibration | None = None,
) -> pd.DataFrame:
    """The reputation index of ``brand.brand`` in each of ``periods``, with its parts.

    Parts over the brand's own rows, each as the report's headline defines it:
    net_sentiment (points -100..100, ``sentiment_summary``: estimated from the
    probabilities with ``calibration`` (PACC), as the headline's, so the index moves
    with the true mix and not with the classifier's bias), mean_rating (stars 1..5,
    ``review_summary``), sla_attainment (fraction, ``response_summary`` with the SLA
    targets from ``brand``, replies seen up to each period's end; no response-time
    quantiles: a quarter of 100M rows ran out of DuckDB's 256 MB with them), nps (points, survey
    answers, ``survey_summary``; queried only when its weight is positive); blended by
    ``reputation_index`` with ``brand.reputation_weights``. Only these parts are computed:
    no business-hours clock, no calls.

    Columns, one row per period in the order given: label, net_sentiment, mean_rating,
    sla_attainment, nps, the parts on the index's 0-100 scale (net_sentiment_score,
    review_stars_score, sla_attainment_score, nps_score), index (0-100, null when no part
    is present), parts_used (comma-separated).

    ``known`` maps a period label to the parts already computed for it (a report's
    headline records hold them; {} for a period known to hold no rows), so they are not
    queried again.
    """
    own = t.filter(t.brand == brand.brand)
    inputs = ["net_sentiment", "mean_rating", "sla_attainment", "nps"]
    known = known or {}
    frames = [
        {k: known[p.label].get(k) for k in inputs}
        if p.label in known
        else _parts(own, p, brand, calibration)
        for p in periods
    ]
    out = pd.DataFrame(frames, columns=inputs, dtype="float64")
    weights = brand.reputation_weights
    blends = [
        reputation_index(x.net_sentiment, x.mean_rating, x.sla_attainment, weights, x.nps)
        for x in out.itertuples()
    ]
    out.insert(0, "label", [p.label for p in periods])
    for part in PARTS:
        out[f"{part}_score"] = [b[part] for b in blends]
    out["index"] = [b["index"] for b in blends]
    out["parts_used"] = [", ".join(b["parts_used"]) for b in blends]
    return out.astype({"index": "float64"})
