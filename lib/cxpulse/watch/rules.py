"""What each rule of ``alerts.yaml`` sees now: the signals of one watch run.

Every rule reads only the recent window of the warehouse (its lookback, or for the
negative surge the same minutes of each trailing week), through the metrics of
``cxpulse.metrics`` where one exists (urgent, viral, worst reviews, SLA attainment), so a
run over years of history costs what its windows cost. Pure: a rule takes the
``interactions`` table and the moment ``now`` and returns ``Signal`` objects; nothing here
touches a file or the clock. ``RULES`` maps each ``kind`` of alerts.yaml to its function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from ibis import _

from cxpulse import formatting as fmt
from cxpulse.config import BrandParams
from cxpulse.metrics.alerts import robust_z, urgent_unanswered, viral_negatives, worst_reviews
from cxpulse.metrics.grouping import as_utc
from cxpulse.metrics.response import response_summary
from cxpulse.watch import params as wp

ITEMS_SHOWN = 3
"""Messages behind an alert shown in it: enough to see what it is about."""
ITEM_LIMIT = 200
"""Most items (urgent messages, viral posts, reviews) one rule raises in one run."""
TEXT_CHARS = 280


@dataclass(frozen=True)
class Signal:
    """One rule's condition holding now: the start or the continuation of an episode.

    ``key`` names the episode: the rule's name for a rule about a whole flow (surge,
    collapse), ``<rule>|<message id>`` for a rule about one message. ``measure`` is the
    figure whose worst value an episode reports as its peak (``unit`` says what it is;
    ``higher_is_worse`` which way is worse).
    """

    rule: str
    key: str
    severity: str
    summary: str
    measure: float
    unit: str
    higher_is_worse: bool = True
    item: str | None = None
    figures: dict = field(default_factory=dict)
    messages: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Scope:
    """The brand watched and its params (SLA targets, sentiment thresholds, time zone)."""

    brand: str
    params: BrandParams


def scoped(t: ir.Table, rule: wp._Rule) -> ir.Table:
    """``t`` limited to the rule's channels."""
    return t if rule.channels is None else t.filter(t.channel.isin(rule.channels))


def message_records(frame: pd.DataFrame, limit: int = ITEMS_SHOWN) -> list[dict]:
    """The first ``limit`` rows of ``frame`` as plain records for a message: id, channel,
    created_at (ISO, UTC), text (at most ``TEXT_CHARS``), reach when known."""
    records = []
    for row in frame.head(limit).itertuples():
        text = row.text if isinstance(getattr(row, "text", None), str) else ""
        record = {
            "id": row.id,
            "channel": getattr(row, "channel", "review"),
            "created_at": as_utc(row.created_at).isoformat(timespec="seconds"),
            "text": text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…",
        }
        reach = getattr(row, "reach", None)
        if not fmt.is_missing(reach):
            record["reach"] = int(reach)
        records.append(record)
    return records


# Negative surge.


def same_minutes_of_past_weeks(
    now: pd.Timestamp, minutes: int, weeks: int, tz: str
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """``[now - minutes, now)`` then the same local wall-clock minutes of the same weekday
    in each of the ``weeks`` weeks before (UTC bounds): across a DST change the baseline
    is still 10:00-11:00 on a Monday, not an hour off. A wall-clock time that a DST change
    skips moves forward; one it repeats is its first occurrence."""
    local = as_utc(now).tz_convert(tz).tz_localize(None)
    windows = []
    for k in range(weeks + 1):
        end = (local - pd.Timedelta(weeks=k)).tz_localize(
            tz, ambiguous=True, nonexistent="shift_forward"
        )
        windows.append((end - pd.Timedelta(minutes=minutes), end))
    return [(as_utc(s), as_utc(e)) for s, e in windows]


def negative_in_windows(
    t: ir.Table, windows: list[tuple[pd.Timestamp, pd.Timestamp]]
) -> np.ndarray:
    """Estimated negative messages (sum of p_negative over inbound and mention rows) in
    each window ``[start, end)``, in order; 0 for a window without any."""
    inside = [(t.created_at >= s) & (t.created_at < e) for s, e in windows]
    rows = t.filter(t.direction.isin(["inbound", "mention"]), ibis.or_(*inside))
    bucket = ibis.cases(*((cond, k) for k, cond in enumerate(inside)), else_=-1)
    counts = (
        rows.mutate(bucket=bucket)
        .group_by("bucket")
        .aggregate(negative=_.p_negative.sum())
        .execute()
    )
    out = np.zeros(len(windows))
    for bucket, negative in zip(counts["bucket"], counts["negative"], strict=True):
        if bucket >= 0 and not pd.isna(negative):
            out[int(bucket)] = float(negative)
    return out


def negative_surge(t: ir.Table, rule: wp.NegativeSurge, now: pd.Timestamp, scope: Scope) -> list:
    """A surge: robust z of this window's estimated negatives against the same minutes
    of the trailing weeks (``same_minutes_of_past_weeks``; ``metrics.alerts.robust_z``)
    >= ``rule.z``, and at least ``rule.min_count`` of them. measure: negatives per hour."""
    ours = scoped(t, rule).filter(_.brand == scope.brand)
    windows = same_minutes_of_past_weeks(now, rule.window_min, rule.weeks, scope.params.timezone)
    counts = negative_in_windows(ours, windows)
    median, z = robust_z(counts[0], counts[1:])
    if not (z >= rule.z and counts[0] >= rule.min_count):
        return []
    per_hour = counts[0] * 60 / rule.window_min
    start, end = windows[0]
    behind = (
        ours.filter(
            _.created_at >= start,
            _.created_at < end,
            _.direction.isin(["inbound", "mention"]),
        )
        .order_by([ibis.desc("p_negative"), ibis.desc("reach"), "created_at", "id"])
        .limit(ITEMS_SHOWN)
        .select("id", "channel", "created_at", "text", "reach")
        .execute()
    )
    return [
        Signal(
            rule=rule.name,
            key=rule.name,
            severity=rule.severity,
            summary=(
                f"~{fmt.count(counts[0])} negative messages in the last {rule.window_min} min "
                f"against a usual {fmt.count(median)} at this hour of the week (z {z:.1f})"
            ),
            measure=float(per_hour),
            unit="negative/hour",
            figures={
                "negative": round(float(counts[0]), 1),
                "usual": round(median, 1),
                "z": round(float(z), 2),
                "window_min": rule.window_min,
                "weeks": rule.weeks,
            },
            messages=message_records(behind),
        )
    ]


# Rules about one message.


def _item_signals(rule: wp._Rule, frame: pd.DataFrame, describe: Callable, measure: str,
                  unit: str) -> list[Signal]:  # fmt: skip
    """One signal per row of ``frame`` (one message each)."""
    records = message_records(frame, len(frame))
    return [
        Signal(
            rule=rule.name,
            key=f"{rule.name}|{row.id}",
            severity=rule.severity,
            summary=describe(row),
            measure=float(getattr(row, measure)),
            unit=unit,
            item=row.id,
            figures={"channel": getattr(row, "channel", "review")},
            messages=[record],
        )
        for row, record in zip(frame.itertuples(), records, strict=True)
    ]


def urgent(t: ir.Table, rule: wp.UrgentUnanswered, now: pd.Timestamp, scope: Scope) -> list:
    """Inbound messages of the last ``lookback_hours`` still unanswered now that are past
    their channel's target, or strongly negative and hold an urgency word
    (``metrics.alerts.urgent_unanswered``). measure: minutes past the target."""
    now = as_utc(now)
    frame = urgent_unanswered(
        scoped(t, rule),
        now - pd.Timedelta(hours=rule.lookback_hours),
        now,
        scope.params.sla_targets_s,
        scope.brand,
        limit=ITEM_LIMIT,
        strongly_negative_probability=scope.params.sentiment.strongly_negative_probability,
    )
    reasons = frame["reasons"]
    wanted = reasons.str.contains("past SLA", regex=False) | (
        reasons.str.contains("strongly negative", regex=False)
        & reasons.str.contains("urgency word", regex=False)
    )
    frame = frame[wanted].assign(overdue_min=lambda f: f["overdue_s"] / 60)
    return _item_signals(
        rule,
        frame,
        lambda row: (
            f"Unanswered {row.channel} message ({row.reasons}), "
            f"waiting {fmt.duration((now - as_utc(row.created_at)).total_seconds())}"
        ),
        "overdue_min",
        "min past target",
    )


def viral(t: ir.Table, rule: wp.ViralNegative, now: pd.Timestamp, scope: Scope) -> list:
    """Negative posts of the last ``lookback_hours`` with reach >= ``rule.reach``
    (``metrics.alerts.viral_negatives``). measure: reach."""
    now = as_utc(now)
    frame = viral_negatives(
        scoped(t, rule),
        now - pd.Timedelta(hours=rule.lookback_hours),
        now,
        limit=ITEM_LIMIT,
        brand=scope.brand,
        negative_probability=scope.params.sentiment.negative_probability,
    )
    frame = frame[frame["reach"].fillna(0) >= rule.reach]
    return _item_signals(
        rule,
        frame,
        lambda row: f"Negative {row.channel} post seen by {fmt.count(row.reach)} people",
        "reach",
        "reach",
    )


def worst_review(t: ir.Table, rule: wp.WorstReview, now: pd.Timestamp, scope: Scope) -> list:
    """Reviews of ``max_rating`` stars or fewer created in the last ``lookback_hours`` on
    ``sites`` (``metrics.alerts.worst_reviews``). measure: stars."""
    now = as_utc(now)
    reviews = scoped(t, rule)
    if rule.sites is not None:
        reviews = reviews.filter(ibis.or_(*(_.id.startswith(f"review:{s}:") for s in rule.sites)))
    frame = worst_reviews(
        reviews, now - pd.Timedelta(hours=rule.lookback_hours), now, scope.brand, ITEM_LIMIT
    )
    frame = frame[frame["rating"] <= rule.max_rating]
    return _item_signals(
        rule,
        frame,
        lambda row: f"New {int(row.rating)}-star review",
        "rating",
        "stars",
    )


# Response collapse.


def response_collapse(
    t: ir.Table, rule: wp.ResponseCollapse, now: pd.Timestamp, scope: Scope
) -> list:
    """SLA attainment (``metrics.response.response_summary``: answered within target /
    due) of our inbound messages of the last ``hours`` hours below ``rule.floor``, with at
    least ``rule.min_due`` due. measure: attainment (a fraction; lower is worse)."""
    now = as_utc(now)
    start = now - pd.Timedelta(hours=rule.hours)
    ours = scoped(t, rule).filter(_.brand == scope.brand)
    summary = response_summary(ours, start, now, sla_targets=scope.params.sla_targets_s, until=now)
    row = summary.iloc[0]
    due, met = int(row["sla_due"]), int(row["sla_met"])
    if due < rule.min_due or met / due >= rule.floor:
        return []
    waiting = urgent_unanswered(
        ours, start, now, scope.params.sla_targets_s, scope.brand, limit=ITEMS_SHOWN
    )
    return [
        Signal(
            rule=rule.name,
            key=rule.name,
            severity=rule.severity,
            summary=(
                f"{fmt.percent(met / due)} answered within target over the last "
                f"{rule.hours:g} h ({met} of {due} due; floor {fmt.percent(rule.floor)})"
            ),
            measure=met / due,
            unit="answered within target",
            higher_is_worse=False,
            figures={"due": due, "met": met, "floor": rule.floor, "hours": rule.hours},
            messages=message_records(waiting),
        )
    ]


RULES: dict[str, Callable[..., list[Signal]]] = {
    "negative_surge": negative_surge,
    "urgent_unanswered": urgent,
    "viral_negative": viral,
    "worst_review": worst_review,
    "response_collapse": response_collapse,
}
"""The function of each ``kind`` of alerts.yaml."""


def evaluate(
    t: ir.Table, rules: list, now: pd.Timestamp, scope: Scope
) -> tuple[list[str], list[Signal]]:
    """(names of the rules evaluated, every signal now), in the order of ``rules``."""
    signals: list[Signal] = []
    for rule in rules:
        signals += RULES[rule.kind](t, rule, now, scope)
    return [rule.name for rule in rules], signals
