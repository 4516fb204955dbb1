"""What the watch log says about a report's window: the alerts sent and how they ended.
Pure: ``entries`` are the lines of ``reports/alerts/log.jsonl`` (``command.read_log``).

Outcome of an alert about messages: how soon after the alert the brand answered them
(``answered_at`` of each message's episode end, minus the alert's time); of an alert about
a flow: how long the episode lasted and its peak, or "still open".
"""

from __future__ import annotations

import statistics

import pandas as pd

from cxpulse.watch import episodes as ep

TOLD = (ep.ALERT, ep.ESCALATION)
ALERT_COLUMNS = ["at", "rule", "kind", "severity", "title", "lists", "outcome"]
COUNT_COLUMNS = ["rule", "episodes", "notifications", "escalations", "answered_median_min"]


def notifications_in(entries: list[dict], start: pd.Timestamp, end: pd.Timestamp) -> list[dict]:
    """Alerts and escalations first sent in ``[start, end)``: one per key (its channels
    merged), oldest first."""
    first: dict[str, dict] = {}
    for entry in entries:
        if entry["kind"] in TOLD and entry["status"] in ("sent", "unconfirmed"):
            first.setdefault(entry["key"], entry)
    inside = [e for e in first.values() if start <= pd.Timestamp(e["at"]) < end]
    return sorted(inside, key=lambda e: e["at"])


def answer_delays_min(entry: dict, entries: list[dict]) -> tuple[list[float], int]:
    """(minutes from the alert to the brand's answer of each message answered, messages
    in the alert)."""
    answered = {
        e["episode"]: e["answered_at"]
        for e in entries
        if e["kind"] == "ended" and e.get("answered_at")
    }
    at = pd.Timestamp(entry["at"])
    episodes = entry.get("episodes") or [entry["episode"]]
    delays = [
        max(0.0, (pd.Timestamp(answered[e]) - at).total_seconds() / 60)
        for e in episodes
        if e in answered
    ]
    return delays, len(episodes)


def outcome(entry: dict, entries: list[dict]) -> str:
    """What came of an alert (module docstring)."""
    if entry.get("item") is None:
        resolved = [
            e for e in entries if e["episode"] == entry["episode"] and e["kind"] == ep.RESOLVED
        ]
        if not resolved:
            return "still open"
        first = resolved[0]
        lasted = ep.hours_minutes(
            (pd.Timestamp(first["resolved_at"]) - pd.Timestamp(first["first_seen"])).total_seconds()
        )
        return f"resolved after {lasted}"
    delays, total = answer_delays_min(entry, entries)
    if not delays:
        return f"none of {total} answered yet" if total > 1 else "not answered yet"
    median = ep.hours_minutes(statistics.median(delays) * 60)
    return f"{len(delays)} of {total} answered, median {median} after the alert"


def alerts_of(entries: list[dict], start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Alerts and escalations sent in ``[start, end)`` with their outcome. Columns:
    ``ALERT_COLUMNS`` (at: UTC timestamp; lists: the lists told, comma-separated)."""
    told = notifications_in(entries, start, end)
    by_kind_episode: dict[tuple, list[str]] = {}
    for entry in told:
        by_kind_episode.setdefault((entry["kind"], entry["episode"]), []).append(entry["list"])
    rows, seen = [], set()
    for entry in told:
        group = (entry["kind"], entry["episode"])
        if group in seen:
            continue
        seen.add(group)
        rows.append({
            "at": pd.Timestamp(entry["at"]), "rule": entry["rule"], "kind": entry["kind"],
            "severity": entry["severity"], "title": entry["title"],
            "lists": ", ".join(dict.fromkeys(by_kind_episode[group])),
            "outcome": outcome(entry, entries),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=ALERT_COLUMNS)


def alert_counts(entries: list[dict], start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Per rule, over alerts sent in ``[start, end)``: episodes alerted, notifications
    sent (one per list), escalations, and the median minutes from an alert to the brand's
    answer of its messages (rules about messages; missing otherwise). Columns:
    ``COUNT_COLUMNS``."""
    told = notifications_in(entries, start, end)
    rows = []
    for rule in dict.fromkeys(e["rule"] for e in told):
        mine = [e for e in told if e["rule"] == rule]
        alerts = [e for e in mine if e["kind"] == ep.ALERT]
        episodes = {x for e in alerts for x in (e.get("episodes") or [e["episode"]])}
        delays = [d for e in alerts for d in answer_delays_min(e, entries)[0]]
        rows.append({
            "rule": rule, "episodes": len(episodes), "notifications": len(mine),
            "escalations": len({e["episode"] for e in mine if e["kind"] == ep.ESCALATION}),
            "answered_median_min": statistics.median(delays) if delays else None,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=COUNT_COLUMNS)
