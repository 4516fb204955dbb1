"""The watch log read back for the reports: alerts of a window with their outcome, counts."""

from __future__ import annotations

import pandas as pd

from cxpulse.watch import history


def entry(**fields) -> dict:
    base = {"status": "sent", "severity": "high", "item": None, "list": "duty",
            "channel": "email", "title": "t", "episodes": None}  # fmt: skip
    return {**base, **fields}


LOG = [
    entry(key="s:alert:duty", kind="alert", episode="s", rule="Surge", at="2026-11-20T09:00Z",
          first_seen="2026-11-20T09:00Z"),
    entry(key="s:alert:duty", kind="alert", episode="s", rule="Surge", channel="webhook",
          at="2026-11-20T09:01Z", first_seen="2026-11-20T09:00Z"),
    entry(key="s:resolved:duty", kind="resolved", episode="s", rule="Surge", at="2026-11-20T12:10Z",
          first_seen="2026-11-20T09:00Z", resolved_at="2026-11-20T11:40Z"),
    entry(key="u:alert:duty", kind="alert", episode="u1", episodes=["u1", "u2", "u3"], item="m1",
          rule="Urgent", at="2026-11-20T10:00Z"),
    entry(key="u1:ended", kind="ended", episode="u1", rule="Urgent", status="recorded",
          channel="record", at="2026-11-20T11:00Z", answered_at="2026-11-20T10:20Z"),
    entry(key="u2:ended", kind="ended", episode="u2", rule="Urgent", status="recorded",
          channel="record", at="2026-11-20T11:00Z", answered_at="2026-11-20T10:40Z"),
    entry(key="u:escalation:leads", kind="escalation", episode="u3", rule="Urgent", item="m3",
          list="leads", at="2026-11-20T11:00Z"),
    entry(key="old:alert:duty", kind="alert", episode="old", rule="Surge", at="2026-11-19T09:00Z"),
]  # fmt: skip
DAY = (pd.Timestamp("2026-11-20", tz="UTC"), pd.Timestamp("2026-11-21", tz="UTC"))


def test_alerts_of_a_day_say_how_each_ended():
    alerts = history.alerts_of(LOG, *DAY)
    assert list(zip(alerts["rule"], alerts["kind"], alerts["outcome"], strict=True)) == [
        ("Surge", "alert", "resolved after 2 h 40 min"),
        ("Urgent", "alert", "2 of 3 answered, median 30 min after the alert"),
        ("Urgent", "escalation", "not answered yet"),
    ]


def test_counts_per_rule_count_episodes_notifications_and_escalations():
    counts = history.alert_counts(LOG, *DAY).set_index("rule")
    assert counts.loc["Surge", ["episodes", "notifications"]].tolist() == [1, 1]
    assert counts.loc["Urgent", ["episodes", "notifications", "escalations"]].tolist() == [3, 2, 1]
    assert counts.loc["Urgent", "answered_median_min"] == 30
