"""The numbers a report leads with: one headline record per group, and the daily series."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import ibis.expr.types as ir
import pandas as pd

from cxpulse.config import BrandParams
from cxpulse.metrics.calls import call_summary
from cxpulse.metrics.grouping import check_by
from cxpulse.metrics.response import response_summary
from cxpulse.metrics.reviews import review_summary
from cxpulse.metrics.sentiment import sentiment_summary
from cxpulse.metrics.survey import survey_summary
from cxpulse.metrics.volume import volume_summary
from cxpulse.quantify import Calibration

HEADLINE_FIELDS: tuple[str, ...] = (
    "inbound",
    "answered",
    "response_rate",
    "frt_median_s",
    "frt_p90_s",
    "frt_median_business_s",
    "frt_p90_business_s",
    "sla_attainment",
    "net_sentiment",
    "net_low",
    "net_high",
    "net_chance",
    "offered_calls",
    "abandonment_rate",
    "asa_s",
    "service_level",
    "aht_s",
    "reviews",
    "mean_rating",
    "negative_share",
    "survey_responses",
    "nps",
    "nps_low",
    "nps_high",
    "csat",
    "csat_low",
    "csat_high",
)
HEADLINE_COUNTS: tuple[str, ...] = (
    "inbound",
    "answered",
    "offered_calls",
    "reviews",
    "survey_responses",
)
"""The fields of ``HEADLINE_FIELDS`` that count things (the rest are rates, times, scores)."""


def _join(frames: list[pd.DataFrame], by: list[str]) -> pd.DataFrame:
    """Outer-join ``frames`` on ``by`` (side by side when ``by`` is empty); what a group
    lacks (no calls, no reviews) is NaN, never 0."""
    if not by:
        return pd.concat([f.reset_index(drop=True) for f in frames], axis=1)
    joined = functools.reduce(lambda a, b: a.merge(b, on=by, how="outer"), frames)
    return joined.sort_values(by, kind="stable").reset_index(drop=True)


def headline(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    brand: BrandParams,
    by: Sequence[str] = (),
    until: pd.Timestamp | None = None,
    calibration: Calibration | None = None,
    calls: pd.DataFrame | None = None,
    surveys: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The headline record of each group of ``by`` for ``[start, end)``.

    Columns: ``by`` + ``HEADLINE_FIELDS``, from ``response_summary`` (SLA targets, business
    hours and time zone from ``brand``), ``sentiment_summary`` (net sentiment estimated
    with ``calibration``, and its 90 % interval net_low / net_high), ``call_summary``
    (``brand.calls``), ``review_summary`` and ``survey_summary`` (survey_responses, NPS
    and CSAT with their 90 % intervals), outer-joined on ``by``. Rates are fractions,
    times seconds (first response also in business seconds), net sentiment points; a group
    without calls, reviews or messages has those fields missing. ``calls``, ``surveys``:
    the ``call_summary`` and ``survey_summary`` of the same window and ``by`` when the
    caller already has them (a report's calls and survey tables show them too).
    """
    by = check_by(by)
    tz = brand.timezone
    voices = sentiment_summary(t, start, end, by, tz, calibration)
    frames = [
        response_summary(
            t,
            start,
            end,
            by,
            brand.sla_targets_s,
            until,
            tz,
            brand.business_hours,
            brand.business_targets,
        ),
        voices[[*by, "net_sentiment", "net_low", "net_high", "net_chance"]],
        call_summary(t, start, end, by, brand.calls, tz) if calls is None else calls,
        review_summary(t, start, end, by, tz),
        (survey_summary(t, start, end, by, tz) if surveys is None else surveys).rename(
            columns={"responses": "survey_responses"}
        ),
    ]
    return _join(frames, by)[[*by, *HEADLINE_FIELDS]]


def daily_series(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    tz: str,
    by: Sequence[str] = (),
    calibration: Calibration | None = None,
) -> pd.DataFrame:
    """One row per local day in ``tz`` (and group of ``by``) for trend charts.

    Columns: day (naive timestamp of the local date), ``by`` + inbound (inbound rows of
    every channel, calls and reviews included), negative (``sentiment_summary``'s
    expected_negative among inbound and mention rows: the day's sum of p_negative, the
    messages the engine expects negative; not PACC-corrected, because on a day of 50
    messages PACC's correction multiplies the noise and hid the demo's outage, while the
    engine's bias is shared by the trailing days a spike is measured against),
    net_sentiment (points), response_rate (fraction, non-phone messages), frt_median_s
    (seconds). Days without any row are absent; on a day that is present inbound and
    negative are numbers, 0 included.
    """
    keys = check_by(["day", *by])
    volume = volume_summary(t, start, end, keys, tz)
    voices = sentiment_summary(t, start, end, keys, tz, calibration)
    responses = response_summary(t, start, end, keys, tz=tz)
    frames = [
        volume[[*keys, "inbound"]],
        voices[[*keys, "expected_negative", "net_sentiment"]].rename(
            columns={"expected_negative": "negative"}
        ),
        responses[[*keys, "response_rate", "frt_median_s"]],
    ]
    series = _join(frames, keys).fillna({"negative": 0.0})
    return series[[*keys, "inbound", "negative", "net_sentiment", "response_rate", "frt_median_s"]]
