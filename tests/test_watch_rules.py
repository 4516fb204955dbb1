"""The rules of ``cxpulse watch`` on hand-made and generated minute-level tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from conftest import probabilities

from cxpulse import config
from cxpulse.watch import episodes as ep
from cxpulse.watch import params as wp
from cxpulse.watch import rules

ROOT = Path(__file__).resolve().parents[1]
BRAND = config.load_brand(ROOT / "params").model_copy(update={"brand": "Northwind"})
SCOPE = rules.Scope("Northwind", BRAND)
NEGATIVE = probabilities(0.9, 0.05, 0.05)
SURGE = wp.NegativeSurge(
    name="Surge", kind="negative_surge", notify=["duty"], window_min=60, weeks=8, z=4,
    min_count=40, end_after_min=30,
)  # fmt: skip


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def minute_data(surges: list[tuple[str, str]]) -> list[dict]:
    """Negative tweets about 10 an hour (seeded) from 08:00 to 17:00 on Friday 20 November
    2026 and the same hours of the 8 Fridays before, plus 4 a minute inside ``surges``
    (UTC start, end) on the 20th."""
    rng = np.random.default_rng(5)
    rows = []
    for week in range(9):
        day = utc("2026-11-20 08:00") - pd.Timedelta(weeks=week)
        for minute in np.flatnonzero(rng.random(9 * 60) < 10 / 60):
            rows.append({"created_at": day + pd.Timedelta(minutes=int(minute))})
    for start, end in surges:
        for stamp in pd.date_range(utc(start), utc(end), freq="15s", inclusive="left"):
            rows.append({"created_at": stamp})
    return [{"id": f"t{i}", "text": "down again", **row, **NEGATIVE} for i, row in enumerate(rows)]


def test_a_surge_on_minute_level_data_alerts_once_and_resolves_once_then_restarts(make_table):
    t = make_table(minute_data([("2026-11-20 10:00", "2026-11-20 11:30"),
                                ("2026-11-20 14:00", "2026-11-20 14:40")]))  # fmt: skip
    state, events = {}, []
    for now in pd.date_range(utc("2026-11-20 09:30"), utc("2026-11-20 17:00"), freq="5min"):
        signals = rules.negative_surge(t, SURGE, now, SCOPE)
        state, happened = ep.advance(state, signals, [SURGE], now)
        events += [(now, e.kind, e.episode) for e in happened]
    assert [(f"{now:%H:%M}", kind) for now, kind, _ in events] == [
        ("10:10", "alert"),  # 40 surge messages plus the usual: past min_count
        ("12:55", "resolved"),  # below 40 from 12:25 (the hour holds < 8 surge min), + 30 min
        ("14:10", "alert"),
        ("16:05", "resolved"),
    ]
    first = events[1][2]
    assert 215 <= first["peak"] <= 235  # (4 a minute + about 10 an hour) x p_negative 0.9
    assert ep.lasted(first) == "2 h 15 min"  # 10:10 to the first run without it, 12:25


def test_no_surge_when_the_hour_is_as_usual(make_table):
    t = make_table(minute_data([]))
    assert rules.negative_surge(t, SURGE, utc("2026-11-20 12:00"), SCOPE) == []


def test_the_baseline_is_the_same_local_hour_across_a_dst_change():
    # London left summer time on 25 October 2026: 10:00 local is 10:00 UTC after, 09:00 before.
    windows = rules.same_minutes_of_past_weeks(utc("2026-11-02 10:00"), 60, 2, "Europe/London")
    assert [end for _, end in windows] == [
        utc("2026-11-02 10:00"), utc("2026-10-26 10:00"), utc("2026-10-19 09:00"),
    ]  # fmt: skip


def test_urgent_needs_past_target_or_strongly_negative_with_an_urgency_word(make_table):
    now = utc("2026-11-20 12:00")
    t = make_table([
        {"id": "late", "created_at": "2026-11-20 09:00", "text": "where is my order",
         **probabilities(0.2, 0.6, 0.2)},
        {"id": "angry-word", "created_at": "2026-11-20 11:50", "text": "I will cancel today",
         **probabilities(0.95, 0.03, 0.02)},
        {"id": "angry-only", "created_at": "2026-11-20 11:50", "text": "awful",
         **probabilities(0.95, 0.03, 0.02)},
        {"id": "answered", "created_at": "2026-11-20 09:00", "text": "cancel"},
        {"id": "reply", "created_at": "2026-11-20 09:30", "direction": "outbound",
         "parent_id": "answered", "text": "sorry"},
    ])  # fmt: skip
    rule = wp.UrgentUnanswered(name="Urgent", kind="urgent_unanswered", notify=["duty"])
    signals = rules.urgent(t, rule, now, SCOPE)
    assert sorted(s.item for s in signals) == ["angry-word", "late"]
    assert {s.key for s in signals} == {"Urgent|late", "Urgent|angry-word"}


def test_viral_review_and_collapse_thresholds(make_table):
    now = utc("2026-11-20 12:00")
    rows = [
        {"id": "big", "created_at": "2026-11-20 11:00", "direction": "mention", "reach": 3_000_000,
         "text": "never again", **NEGATIVE},
        {"id": "small", "created_at": "2026-11-20 11:00", "direction": "mention", "reach": 500,
         "text": "meh", **NEGATIVE},
        {"id": "review:trustpilot:1", "channel": "review", "rating": 1, "text": "awful",
         "created_at": "2026-11-20 11:00"},
        {"id": "review:google:2", "channel": "review", "rating": 1, "text": "bad",
         "created_at": "2026-11-20 11:00"},
        {"id": "review:trustpilot:3", "channel": "review", "rating": 2, "text": "poor",
         "created_at": "2026-11-20 11:00"},
    ]  # fmt: skip
    # 20 tweets due (target 1 h) in the last 3 h, 5 answered within target: 25 %.
    for i in range(20):
        rows.append({"id": f"q{i}", "created_at": "2026-11-20 09:30", "text": "help"})
        if i < 5:
            rows.append({"id": f"r{i}", "created_at": "2026-11-20 09:40", "direction": "outbound",
                         "parent_id": f"q{i}", "text": "on it"})  # fmt: skip
    t = make_table(rows)
    viral = wp.ViralNegative(name="Viral", kind="viral_negative", notify=["d"], reach=100_000)
    assert [s.item for s in rules.viral(t, viral, now, SCOPE)] == ["big"]
    review = wp.WorstReview(name="Review", kind="worst_review", notify=["d"], sites=["trustpilot"])
    assert [s.item for s in rules.worst_review(t, review, now, SCOPE)] == ["review:trustpilot:1"]
    collapse = wp.ResponseCollapse(name="Collapse", kind="response_collapse", notify=["d"],
                                   floor=0.5, min_due=10)  # fmt: skip
    (signal,) = rules.response_collapse(t, collapse, now, SCOPE)
    assert (signal.measure, signal.figures["due"], signal.higher_is_worse) == (0.25, 20, False)
    raised = collapse.model_copy(update={"floor": 0.2})
    assert rules.response_collapse(t, raised, now, SCOPE) == []
