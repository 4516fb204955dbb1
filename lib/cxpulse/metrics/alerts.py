"""What needs action now: urgent unanswered messages, complaint spikes, viral negative posts
and the worst new reviews.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from ibis import _

from cxpulse.config import NEGATIVE_PROBABILITY, STRONGLY_NEGATIVE_PROBABILITY, BusinessHours
from cxpulse.metrics.business_hours import with_business_frt
from cxpulse.metrics.grouping import as_utc, seconds_until, within
from cxpulse.metrics.response import first_responses, in_target_calendar, sla_target
from cxpulse.metrics.sentiment import is_negative

DEFAULT_TARGET_S = 24 * 3600.0
"""How long a message on a channel without an SLA target may wait before it is urgent."""

URGENCY_WORDS: tuple[str, ...] = (
    "cancel",
    "cancelled",
    "canceled",
    "cancelling",
    "cancellation",
    "lawyer",
    "solicitor",
    "legal",
    "sue",
    "suing",
    "refund",
    "refunds",
    "chargeback",
    "outage",
    "down",
    "scam",
    "scammed",
    "fraud",
    "fraudulent",
    "stolen",
    "hacked",
    "complaint",
    "complain",
    "ombudsman",
    "regulator",
    "urgent",
    "urgently",
    "emergency",
)
"""Words that mark a message as urgent: leaving, legal threats, money back, service down,
fraud, formal complaints. Matched as whole words, case-insensitively, so "down" does not
match "download"; inflections that matter are listed explicitly."""

_URGENCY_PATTERN = r"\b(" + "|".join(URGENCY_WORDS) + r")\b"

MAD_SCALE = 1.4826
"""Makes the MAD a consistent estimate of the standard deviation for normal data."""

SCALE_FLOOR = 1.0
"""Smallest spread used in the robust z, in messages a day: a flat baseline (MAD 0) would
otherwise divide by zero, so its spread counts as one message."""

MIN_HISTORY_DAYS = 7
"""A day with fewer trailing days than this has no baseline and is never a spike."""

_EPISODE_COLUMNS = [
    "start_day",
    "end_day",
    "peak_day",
    "peak_negative",
    "baseline_median",
    "severity",
]


def urgent_unanswered(
    t: ir.Table,
    start: pd.Timestamp,
    until: pd.Timestamp,
    sla_targets: Mapping[str, float],
    brand: str,
    limit: int = 10,
    strongly_negative_probability: float = STRONGLY_NEGATIVE_PROBABILITY,
    business_hours: BusinessHours | None = None,
    business_targets: Collection[str] = (),
    tz: str = "UTC",
) -> pd.DataFrame:
    """Inbound messages to ``brand`` created in ``[start, until)`` and unanswered at ``until``
    that need action now, most urgent first.

    A message is urgent for one or more reasons:

    - "past SLA": it has waited longer than its channel's target in ``sla_targets``
      (seconds; channels without a target: ``DEFAULT_TARGET_S``, 24 h);
    - "strongly negative": p_negative >= ``strongly_negative_probability`` (brand.yaml
      ``sentiment``; a decision about one message, so a threshold on its probability);
    - "urgency word '<word>'": its text holds one of ``URGENCY_WORDS`` (the first one found).

    overdue_s = (until - created_at) - target, in seconds; negative means time is left
    before the target; for a channel in ``business_targets`` both count business seconds
    (``business_hours`` in ``tz``). Ranked by the number of reasons, then overdue_s, both
    descending. Answered means a reply from the same brand (``first_responses``).

    Columns: id, channel, author_id, created_at, text, sentiment, p_negative, overdue_s,
    reasons (comma-separated).
    """
    until = as_utc(until)
    fr = first_responses(t, start, until, until)
    fr = fr.filter(fr.brand == brand, fr.frt_s.isnull())
    age_s = seconds_until(fr.created_at, until)
    if business_targets:
        fr = with_business_frt(fr, business_hours, tz, start, until)
        age_s = in_target_calendar(age_s, fr.age_business_s, fr.channel, business_targets)
    target = sla_target(fr.channel, sla_targets).fill_null(DEFAULT_TARGET_S)
    overdue_s = age_s - target
    fr = fr.mutate(
        overdue_s=overdue_s,
        past_sla=overdue_s > 0,
        strongly_negative=is_negative(fr, strongly_negative_probability),
        word=fr.text.lower().re_extract(_URGENCY_PATTERN, 1).nullif(""),
    )
    n_reasons = (
        fr.past_sla.cast("int8")
        + fr.strongly_negative.cast("int8")
        + fr.word.notnull().cast("int8")
    )
    ranked = (
        fr.mutate(n_reasons=n_reasons)
        .filter(_.n_reasons > 0)
        .order_by([ibis.desc("n_reasons"), ibis.desc("overdue_s"), "created_at", "id"])
        .limit(limit)
        .execute()
    )
    ranked["reasons"] = [
        ", ".join(
            reason
            for reason, present in (
                ("past SLA", row.past_sla),
                ("strongly negative", row.strongly_negative),
                (f"urgency word '{row.word}'", pd.notna(row.word)),
            )
            if present
        )
        for row in ranked.itertuples()
    ]
    columns = [
        "id",
        "channel",
        "author_id",
        "created_at",
        "text",
        "sentiment",
        "p_negative",
        "overdue_s",
    ]
    return ranked[[*columns, "reasons"]]


def robust_z(value: float, past: np.ndarray) -> tuple[float, float]:
    """(median, z) of ``value`` against ``past``: z = (value - median) / max(1.4826 x MAD,
    ``SCALE_FLOOR``), MAD = median(|past - median|)."""
    median = float(np.median(past))
    mad = float(np.median(np.abs(past - median)))
    return median, (value - median) / max(MAD_SCALE * mad, SCALE_FLOOR)


SPIKE_COOLDOWN_DAYS = 3
"""Spike days at most this many days apart are one episode (one alert)."""
SPIKE_STATUSES: tuple[str, ...] = ("new", "ongoing", "past")


def spike_status(
    spikes: pd.DataFrame, report_day: dt.date, cooldown_days: int = SPIKE_COOLDOWN_DAYS
) -> pd.Series:
    """Each episode of ``negative_spikes`` as news on ``report_day``: "new" when its first
    spike day is the report day; "ongoing" when it began before and its last spike day is
    at most ``cooldown_days`` before the report day (a spike now would still join it);
    "past" when its last spike day is further back. Episodes after the report day are
    refused: a report does not know them."""
    day = pd.Timestamp(report_day)
    start, end = pd.to_datetime(spikes["start_day"]), pd.to_datetime(spikes["end_day"])
    if (start > day).any():
        raise ValueError(f"a spike starts after the report day {report_day}")
    status = np.where(
        start == day, "new", np.where((day - end).dt.days <= cooldown_days, "ongoing", "past")
    )
    return pd.Series(status, index=spikes.index, dtype=object, name="status")


def negative_spikes(
    daily: pd.DataFrame,
    min_count: int = 20,
    z: float = 3.0,
    window: int = 28,
    cooldown_days: int = SPIKE_COOLDOWN_DAYS,
) -> pd.DataFrame:
    """Episodes of unusually many negative messages in a daily series.

    ``daily`` has columns day and negative, e.g. from ``daily_series`` or
    ``sentiment_summary`` by day, where negative is the day's expected number of
    negative messages (the sum of p_negative), not a count of thresholded labels (rows of
    the same day are added up; days missing from the series count as 0). For each day, over the
    ``window`` days before it (not including it; at least ``MIN_HISTORY_DAYS`` of them, or
    the whole ``window`` if shorter):

        z = (negative - median) / max(1.4826 x MAD, SCALE_FLOOR)

    where MAD = median(|x - median|); ``SCALE_FLOOR`` (1 message) keeps a flat baseline
    from dividing by zero. A spike day has z >= ``z`` and negative >= ``min_count``. Spike
    days at most ``cooldown_days`` apart form one episode, so one episode is one alert.

    Columns, one row per episode (days as naive timestamps of the local date, like
    ``daily_series``): start_day, end_day, peak_day (the day of highest z),
    peak_negative (estimated negative messages on the peak day), baseline_median
    (trailing median on the peak day), severity (z on the peak day).
    """
    if daily.empty:
        return pd.DataFrame(columns=_EPISODE_COLUMNS)
    counts = (
        pd.Series(daily["negative"].to_numpy(dtype=float), index=pd.to_datetime(daily["day"]))
        .groupby(level=0)
        .sum()
        .asfreq("D", fill_value=0.0)
    )
    values = counts.to_numpy()
    medians = np.full(len(values), np.nan)
    zs = np.full(len(values), np.nan)
    for i in range(min(MIN_HISTORY_DAYS, window), len(values)):
        medians[i], zs[i] = robust_z(values[i], values[max(0, i - window) : i])
    spikes = np.flatnonzero((zs >= z) & (values >= min_count))
    episodes: list[list[int]] = []
    for i in spikes:
        if episodes and i - episodes[-1][-1] <= cooldown_days:
            episodes[-1].append(i)
        else:
            episodes.append([i])
    days = counts.index
    rows = []
    for days_in in episodes:
        peak = max(days_in, key=lambda i: zs[i])
        rows.append(
            (
                days[days_in[0]],
                days[days_in[-1]],
                days[peak],
                float(values[peak]),
                float(medians[peak]),
                float(zs[peak]),
            )
        )
    return pd.DataFrame(rows, columns=_EPISODE_COLUMNS)


def viral_negatives(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    limit: int = 5,
    brand: str | None = None,
    negative_probability: float = NEGATIVE_PROBABILITY,
) -> pd.DataFrame:
    """The negative customer posts created in ``[start, end)`` that the most people saw.

    Negative means p_negative >= ``negative_probability`` (brand.yaml ``sentiment``; a
    decision about one post, so a threshold on its probability); only directions inbound
    and mention; all brands unless ``brand`` is given. engagement = likes + shares +
    comments (missing counts as 0). Ranked by reach (missing reach last), then
    engagement, both descending.

    Columns: id, channel, brand, author_id, created_at, text, reach, engagement,
    sentiment, p_negative.
    """
    posts = within(t, start, end)
    posts = posts.filter(
        posts.direction.isin(["inbound", "mention"]), is_negative(posts, negative_probability)
    )
    if brand is not None:
        posts = posts.filter(posts.brand == brand)
    engagement = posts.likes.fill_null(0) + posts.shares.fill_null(0) + posts.comments.fill_null(0)
    return (
        posts.mutate(engagement=engagement)
        .order_by([ibis.desc("reach"), ibis.desc("engagement"), "created_at", "id"])
        .limit(limit)
        .select(
            "id",
            "channel",
            "brand",
            "author_id",
            "created_at",
            "text",
            "reach",
            "engagement",
            "sentiment",
            "p_negative",
        )
        .execute()
    )


def worst_reviews(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    brand: str,
    limit: int = 5,
) -> pd.DataFrame:
    """The worst reviews of ``brand`` created in ``[start, end)``.

    A review is a row on channel ``review`` with a rating, as in ``review_summary``.
    Ranked by rating ascending, then sentiment ascending (most negative first; unscored
    last).

    Columns: id, created_at, rating (stars 1-5), text, sentiment.
    """
    reviews = within(t, start, end).filter(
        _.brand == brand, _.channel == "review", _.rating.notnull()
    )
    return (
        reviews.order_by(["rating", "sentiment", "created_at", "id"])
        .limit(limit)
        .select("id", "created_at", "rating", "text", "sentiment")
        .execute()
    )
