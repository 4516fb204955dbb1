"""Episodes: one alert when one starts, one update when it ends, a new one after quiet;
quiet hours across midnight and DST; escalation of an item still unanswered."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from cxpulse.watch import episodes as ep
from cxpulse.watch import params as wp
from cxpulse.watch.rules import Signal

SURGE = wp.NegativeSurge(name="Surge", kind="negative_surge", notify=["duty"], end_after_min=30)
URGENT = wp.UrgentUnanswered(
    name="Urgent", kind="urgent_unanswered", notify=["duty"], end_after_min=5,
    escalate={"after_min": 60, "notify": ["leads"]},
)  # fmt: skip
NIGHT = wp.QuietHours(start=dt.time(22), end=dt.time(7))
LONDON = "Europe/London"


def surge(rate: float) -> Signal:
    return Signal("Surge", "Surge", "high", f"{rate} negative", rate, "negative/hour")


def urgent(item: str) -> Signal:
    return Signal("Urgent", f"Urgent|{item}", "high", item, 5.0, "min past target", item=item)


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def replay(signals_at: dict[pd.Timestamp, list[Signal]], rules: list) -> list[tuple]:
    """``advance`` run after run: (time, kind, episode id, peak) of every event."""
    state: dict = {}
    events = []
    for now, signals in sorted(signals_at.items()):
        state, happened = ep.advance(state, signals, rules, now)
        events += [(now, e.kind, e.episode["id"], e.episode["peak"]) for e in happened]
    return events


def test_an_episode_starts_once_goes_on_silently_ends_once_and_restarts_after_quiet():
    # Minute by minute from 10:00: a surge of 3 h (rate rising to 230 then falling), 1 h
    # quiet, a second surge of 20 min; runs every 5 minutes.
    start = utc("2026-11-20 10:00")
    minutes = range(0, 6 * 60, 5)
    rate = {m: 230 - abs(m - 90) for m in range(0, 180)} | {m: 120 for m in range(240, 260)}
    signals = {
        start + pd.Timedelta(minutes=m): [surge(rate[m])] if m in rate else [] for m in minutes
    }
    events = replay(signals, [SURGE])
    kinds = [(now - start, kind) for now, kind, _, _ in events]
    assert kinds == [
        (pd.Timedelta(0), "alert"),
        (pd.Timedelta(minutes=210), "resolved"),  # off since 180 min, + 30 min quiet
        (pd.Timedelta(minutes=240), "alert"),
        (pd.Timedelta(minutes=290), "resolved"),
    ]
    assert events[1][3] == 230  # the peak of the first episode
    assert events[0][2] == events[1][2] != events[2][2]


def test_a_signal_back_within_the_quiet_period_continues_the_episode():
    start = utc("2026-11-20 10:00")
    on = [0, 5, 10, 30, 35]  # off for 15 min only: less than end_after_min (30)
    signals = {
        start + pd.Timedelta(minutes=m): [surge(100)] if m in on else [] for m in range(0, 80, 5)
    }
    assert [kind for _, kind, _, _ in replay(signals, [SURGE])] == ["alert", "resolved"]


def test_resolved_text_says_how_long_and_the_peak():
    episode = {"started_at": "2026-11-20T10:00:00+00:00", "ended_at": "2026-11-20T12:40:00+00:00",
               "peak": 230.0, "unit": "negative/hour", "higher_is_worse": True}  # fmt: skip
    assert f"after {ep.lasted(episode)}, {ep.peak_text(episode)}" == (
        "after 2 h 40 min, peak 230 negative/hour"
    )


def test_an_item_still_unanswered_escalates_once_after_its_delay():
    start = utc("2026-11-20 10:00")
    signals = {start + pd.Timedelta(minutes=m): [urgent("a")] for m in (0, 55, 60, 65, 120)}
    events = replay(signals, [URGENT])
    assert [(now - start, kind) for now, kind, _, _ in events] == [
        (pd.Timedelta(0), "alert"),
        (pd.Timedelta(minutes=60), "escalation"),
    ]


def test_an_item_answered_before_the_delay_ends_without_escalation_or_update():
    start = utc("2026-11-20 10:00")
    signals = {start: [urgent("a")], start + pd.Timedelta(minutes=20): [],
               start + pd.Timedelta(minutes=70): []}  # fmt: skip
    assert [kind for _, kind, _, _ in replay(signals, [URGENT])] == ["alert", "ended"]


@pytest.mark.parametrize(
    ("now", "severity", "released"),
    [
        ("2026-11-20 23:30", "low", "2026-11-21 07:00"),  # before midnight: next morning
        ("2026-11-21 03:00", "low", "2026-11-21 07:00"),  # after midnight: this morning
        ("2026-11-21 03:00", "high", "2026-11-21 03:00"),  # high severity always goes
        ("2026-11-21 12:00", "low", "2026-11-21 12:00"),  # outside quiet hours
        ("2026-11-21 07:00", "low", "2026-11-21 07:00"),  # the end is not quiet
        # The night the clocks go forward (29 March 2026, 01:00 GMT -> 02:00 BST): 07:00
        # BST is 06:00 UTC; the night they go back (25 October): 07:00 GMT is 07:00 UTC.
        ("2026-03-28 23:00", "low", "2026-03-29 06:00"),
        ("2026-10-24 23:00", "low", "2026-10-25 07:00"),
    ],
)
def test_quiet_hours_defer_low_severity_to_their_end_across_midnight_and_dst(
    now, severity, released
):
    assert ep.release_time(utc(now), severity, NIGHT, LONDON) == utc(released)


def test_quiet_hours_ending_inside_the_skipped_hour_end_when_the_clock_jumps():
    # London skips 01:00-02:00 on 29 March 2026: an end at 01:30 is 02:00 BST = 01:00 UTC.
    quiet = wp.QuietHours(start=dt.time(23), end=dt.time(1, 30))
    assert ep.release_time(utc("2026-03-28 23:30"), "low", quiet, LONDON) == utc("2026-03-29 01:00")
