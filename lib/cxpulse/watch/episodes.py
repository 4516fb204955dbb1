"""Once per episode: when an alert starts, goes on, ends or escalates, and when it may go.

An episode is a run of signals with one key (``rules.Signal``). It starts on the first
run whose signals hold its key (one alert), goes on while they keep holding it (nothing
sent; its peak is kept), and ends once its key has been absent for the rule's
``end_after_min`` (a flow rule, surge or collapse, then sends one update: "resolved after
2 h 40 min, peak 230 negative/hour"; a rule about one message records the end only). A
signal after the end starts a new episode. An urgent item whose rule escalates and that
is still signalled (unanswered) ``after_min`` minutes after its alert goes to the
escalation lists, once.

Quiet hours: a low-severity notification to a list inside its quiet hours waits until
they end (local wall-clock time of the brand, across midnight and DST changes); high
severity always goes at once.

Pure: the state is a plain JSON-ready dict ``{"episodes": {key: episode}}`` that
``command`` keeps in a file; times are ISO strings in it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass

import pandas as pd

from cxpulse import formatting as fmt
from cxpulse.watch import params as wp
from cxpulse.watch.rules import Signal

ALERT, RESOLVED, ESCALATION = "alert", "resolved", "escalation"


@dataclass(frozen=True)
class Event:
    """Something to tell or record: an episode started (``alert``), a flow episode ended
    (``resolved``), an item's episode ended silently (``ended``), or an urgent item was
    escalated (``escalation``). ``episode`` is the episode's state after this run."""

    kind: str
    episode: dict


def iso(ts: pd.Timestamp) -> str:
    return pd.Timestamp(ts).tz_convert("UTC").isoformat(timespec="seconds")


def episode_id(key: str, started_at: pd.Timestamp) -> str:
    """A short stable name: ``surge-20261120T0800Z-1a2b3c``."""
    digest = hashlib.sha256(f"{key}|{iso(started_at)}".encode()).hexdigest()[:6]
    rule = "".join(c if c.isalnum() else "-" for c in key.split("|")[0].lower()).strip("-")
    return f"{rule[:24]}-{pd.Timestamp(started_at):%Y%m%dT%H%MZ}-{digest}"


def worse(peak: float, value: float, higher_is_worse: bool) -> float:
    return max(peak, value) if higher_is_worse else min(peak, value)


def _new_episode(signal: Signal, now: pd.Timestamp) -> dict:
    return {
        "id": episode_id(signal.key, now),
        "key": signal.key,
        "rule": signal.rule,
        "severity": signal.severity,
        "item": signal.item,
        "started_at": iso(now),
        "last_seen": iso(now),
        "off_since": None,
        "ended_at": None,
        "peak": signal.measure,
        "unit": signal.unit,
        "higher_is_worse": signal.higher_is_worse,
        "escalated": False,
        "signal": asdict(signal),
    }


def advance(
    state: dict, signals: list[Signal], rules: list, now: pd.Timestamp
) -> tuple[dict, list[Event]]:
    """The state after a run at ``now`` that saw ``signals`` for ``rules``, and its events.

    An episode of a rule no longer in ``rules`` is dropped without a word.
    """
    by_name = {rule.name: rule for rule in rules}
    episodes = {k: dict(e) for k, e in state.get("episodes", {}).items() if e["rule"] in by_name}
    events: list[Event] = []
    seen = {s.key: s for s in signals}
    for key, signal in seen.items():
        episode = episodes.get(key)
        if episode is None:
            episodes[key] = episode = _new_episode(signal, now)
            events.append(Event(ALERT, episode))
            continue
        episode.update(
            last_seen=iso(now),
            off_since=None,
            peak=worse(episode["peak"], signal.measure, episode["higher_is_worse"]),
            signal=asdict(signal),
        )
        escalation = getattr(by_name[episode["rule"]], "escalate", None)
        if (
            escalation is not None
            and not episode["escalated"]
            and now
            >= pd.Timestamp(episode["started_at"]) + pd.Timedelta(minutes=escalation.after_min)
        ):
            episode["escalated"] = True
            events.append(Event(ESCALATION, episode))
    for key in [k for k in episodes if k not in seen]:
        episode = episodes[key]
        if episode["off_since"] is None:
            episode["off_since"] = iso(now)
        quiet_for = now - pd.Timestamp(episode["off_since"])
        if quiet_for >= pd.Timedelta(minutes=by_name[episode["rule"]].end_after_min):
            episode["ended_at"] = episode["off_since"]
            events.append(Event(RESOLVED if episode["item"] is None else "ended", episode))
            del episodes[key]
    return {"episodes": episodes}, events


def lasted(episode: dict) -> str:
    """How long the episode lasted: from its start to the first run without it."""
    ended, started = pd.Timestamp(episode["ended_at"]), pd.Timestamp(episode["started_at"])
    return hours_minutes((ended - started).total_seconds())


def hours_minutes(seconds: float) -> str:
    """``2 h 40 min``, ``35 min``."""
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def peak_text(episode: dict) -> str:
    """``peak 230 negative/hour``; a fraction as a percentage (``low 42% answered ...``)."""
    value, unit = episode["peak"], episode["unit"]
    if episode["higher_is_worse"]:
        return f"peak {fmt.count(value)} {unit}"
    return f"low {fmt.percent(value)} {unit}"


# Quiet hours.


def in_quiet_hours(local: dt.time, quiet: wp.QuietHours) -> bool:
    """Whether the local wall-clock time ``local`` is inside ``quiet`` (start included,
    end excluded; across midnight when end < start)."""
    if quiet.start < quiet.end:
        return quiet.start <= local < quiet.end
    return local >= quiet.start or local < quiet.end


def release_time(
    now: pd.Timestamp, severity: str, quiet: wp.QuietHours | None, tz: str
) -> pd.Timestamp:
    """When a notification of ``severity`` made at ``now`` may go to a list with ``quiet``
    hours: ``now``, or for low severity inside quiet hours the first moment they end (the
    local ``end`` on the right day; a wall-clock ``end`` that a DST change skips is the
    first moment after the gap)."""
    if severity == "high" or quiet is None:
        return now
    local = now.tz_convert(tz)
    if not in_quiet_hours(local.time(), quiet):
        return now
    day = local.date() if local.time() < quiet.end else local.date() + dt.timedelta(days=1)
    end = pd.Timestamp(dt.datetime.combine(day, quiet.end)).tz_localize(
        tz, ambiguous=True, nonexistent="shift_forward"
    )
    return end.tz_convert("UTC")
