"""Plain-English headline sentences generated from the figures (never hard-coded).

Pure functions: KPI records in, sentences out. A KPI record is a ``Kpi``; a sentence says
the value, its change against the comparison period and whether it meets its target. A
figure that is an estimate (net sentiment) carries its 90 % interval in each period, and
its change is read against them: within noise, or outside the usual range
(``noise_margin``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from cxpulse import formatting as fmt

STEADY = 0.02
"""Relative changes under 2% (or under 0.5 points for rates) read as 'held steady'."""


@dataclass(frozen=True)
class Kpi:
    """One headline figure: what it is, how it reads, and which direction is good."""

    key: str
    label: str
    kind: str  # a key of formatting.FORMATS
    current: float | None
    previous: float | None = None
    target: float | None = None
    better: str | None = None  # "up", "down" or None (neither is better)
    interval: tuple[float, float] | None = None
    """90 % interval (low, high) of ``current`` when the figure is an estimate."""
    previous_interval: tuple[float, float] | None = None
    """90 % interval of ``previous``."""
    chance: float | None = None
    """Half-width of the sampling part of ``interval`` (the engine's error left out)."""
    previous_chance: float | None = None
    """Half-width of the sampling part of ``previous_interval``."""

    @property
    def interval_text(self) -> str | None:
        """'-38 to -22' in the figure's format; None without an interval."""
        if self.interval is None or any(fmt.is_missing(v) for v in self.interval):
            return None
        low, high = (fmt.FORMATS[self.kind](v) for v in self.interval)
        return f"{low} to {high}"

    @property
    def noise(self) -> float | None:
        """``noise_margin`` of this figure's change."""
        return noise_margin(self)

    @property
    def within_noise(self) -> bool | None:
        """True when the change is no larger than ``noise``; None without a margin."""
        margin = self.noise
        if margin is None:
            return None
        return abs(float(self.current) - float(self.previous)) <= margin

    @property
    def value_text(self) -> str:
        return fmt.FORMATS[self.kind](self.current)

    @property
    def change_text(self) -> str:
        return fmt.change_text(self.current, self.previous, self.kind)

    @property
    def target_text(self) -> str | None:
        return None if fmt.is_missing(self.target) else fmt.FORMATS[self.kind](self.target)

    @property
    def meets_target(self) -> bool | None:
        """True/False against the target in the good direction; None without one."""
        if fmt.is_missing(self.target) or fmt.is_missing(self.current) or self.better is None:
            return None
        if self.better == "up":
            return float(self.current) >= float(self.target)
        return float(self.current) <= float(self.target)

    @property
    def trend(self) -> str:
        """'good', 'bad' or 'flat': the change read in the good direction."""
        move = _move(self)
        if move == 0 or self.better is None:
            return "flat"
        return "good" if (move > 0) == (self.better == "up") else "bad"


def noise_margin(k: Kpi) -> float | None:
    """How far the figure can move between the two periods by chance (90 %), in its unit.

    The two periods' samples err independently, so the margin of their difference is the
    root of the sum of squares of each one's sampling half-width (``chance``). The engine's
    calibration error is left out: two periods of one brand scored by one engine share it
    as a bias, which a change cancels (with it, the care model's 37-point p90 error would
    call every change noise). Without ``chance`` the full intervals are used, taken on the
    side that faces the other period (asymmetric where an interval is clipped at +-100):
    for a rise current - low of now and high - previous of before, for a fall the other
    sides. None when a value or an interval is missing.
    """
    values = (k.current, k.previous)
    chances = (k.chance, k.previous_chance)
    if not any(map(fmt.is_missing, (*values, *chances))):
        return math.hypot(float(k.chance), float(k.previous_chance))
    if k.interval is None or k.previous_interval is None or any(map(fmt.is_missing, values)):
        return None
    (low, high), (prev_low, prev_high) = k.interval, k.previous_interval
    if any(map(fmt.is_missing, (low, high, prev_low, prev_high))):
        return None
    cur, prev = float(k.current), float(k.previous)
    if cur >= prev:
        return math.hypot(cur - float(low), float(prev_high) - prev)
    return math.hypot(float(high) - cur, prev - float(prev_low))


def _move(k: Kpi) -> int:
    """+1 rose, -1 fell, 0 steady, within noise or unknown."""
    if fmt.is_missing(k.current) or fmt.is_missing(k.previous) or k.within_noise:
        return 0
    cur, prev = float(k.current), float(k.previous)
    if k.kind == "percent":
        significant = abs(cur - prev) >= 0.005
    elif k.kind in ("points", "stars"):
        significant = abs(cur - prev) >= (0.5 if k.kind == "points" else 0.05)
    else:
        rel = fmt.relative_change(cur, prev)
        significant = rel is None or abs(rel) >= STEADY
    if not significant:
        return 0
    return 1 if cur > prev else -1


def _size(k: Kpi) -> float:
    """How big the move is, comparable across kinds (relative change or points/100); 0
    within noise."""
    if fmt.is_missing(k.current) or fmt.is_missing(k.previous) or k.within_noise:
        return 0.0
    cur, prev = float(k.current), float(k.previous)
    if k.kind == "percent":
        return abs(cur - prev) * 5  # 10 points ~ a 50% relative move
    if k.kind == "points":
        return abs(cur - prev) / 20
    if k.kind == "stars":
        return abs(cur - prev)
    rel = fmt.relative_change(cur, prev)
    return abs(rel) if rel is not None else 0.0


def _margin_text(k: Kpi, margin: float) -> str:
    """'±7 pts': a margin in the unit the figure's changes are said in."""
    return "±" + fmt.change_text(margin, 0.0, k.kind).lstrip("+±")


def kpi_sentence(k: Kpi, subject: str | None = None) -> str | None:
    """'Response rate fell 4.2 pts to 78%, below the 90% target.' None without a value.

    An estimate with intervals says how its change compares with ``noise_margin``: 'Net
    sentiment fell 12 pts to -30, outside the usual range (+-7 pts).' or 'Net sentiment
    moved 3 pts to -30, within noise (+-7 pts).'
    """
    if fmt.is_missing(k.current):
        return None
    subject = subject or k.label
    move = _move(k)
    change = k.change_text.lstrip("+-±")
    margin = k.noise
    if fmt.is_missing(k.previous):
        body = f"{subject} was {k.value_text}"
    elif k.within_noise:
        moved = "held steady at" if change.startswith("0 ") else f"moved {change} to"
        body = f"{subject} {moved} {k.value_text}, within noise ({_margin_text(k, margin)})"
    elif move == 0:
        body = f"{subject} held steady at {k.value_text}"
    else:
        verb = "rose" if move > 0 else "fell"
        body = f"{subject} {verb} {change} to {k.value_text}"
        if margin is not None:
            body += f", outside the usual range ({_margin_text(k, margin)})"
    met = k.meets_target
    if met is True:
        tail = f", meeting the {k.target_text} target"
    elif met is False:
        tail = f", missing the {k.target_text} target"
    else:
        tail = ""
    return f"{body}{tail}."


def channel_frt_sentence(by_channel: pd.DataFrame) -> str | None:
    """The channel whose median first response moved most, against its target.

    ``by_channel``: channel, frt_median_s, frt_median_s_prev, target_s.
    """
    rows = by_channel.dropna(subset=["frt_median_s"])
    if rows.empty:
        return None
    kpis = [
        Kpi(
            key="frt",
            label=f"{str(r.channel).capitalize()} median first response",
            kind="duration",
            current=r.frt_median_s,
            previous=r.frt_median_s_prev,
            target=r.target_s,
            better="down",
        )
        for r in rows.itertuples()
    ]
    # A missed target beats a big move; among equals the biggest move wins.
    kpis.sort(key=lambda k: (k.meets_target is False, _size(k)), reverse=True)
    return kpi_sentence(kpis[0])


def action_sentence(urgent: int, past_sla: int, spikes: int) -> str:
    """What needs action now, in one sentence."""
    parts = []
    if urgent:
        noun = "message needs" if urgent == 1 else "messages need"
        detail = f" ({past_sla:,} past their response target)" if past_sla else ""
        parts.append(f"{urgent:,} unanswered {noun} action now{detail}")
    if spikes:
        noun = "spike" if spikes == 1 else "spikes"
        parts.append(f"{spikes} complaint {noun} detected")
    if not parts:
        return "Nothing needs urgent action: no unanswered message is past its target."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def headline_sentences(
    kpis: list[Kpi],
    by_channel: pd.DataFrame | None = None,
    action: str | None = None,
    limit: int = 5,
) -> list[str]:
    """Three to five sentences: what needs action, then the biggest moves and misses."""
    sentences: list[str] = [action] if action else []
    channel = channel_frt_sentence(by_channel) if by_channel is not None else None
    if channel:
        sentences.append(channel)
    ranked = sorted(
        (k for k in kpis if not fmt.is_missing(k.current) and k.better is not None),
        key=lambda k: (k.meets_target is False, _size(k)),
        reverse=True,
    )
    for k in ranked:
        if len(sentences) >= limit:
            break
        if channel and k.key == "frt_median_s":
            continue  # the channel sentence already speaks of first response
        sentence = kpi_sentence(k)
        if sentence:
            sentences.append(sentence)
    return sentences[:limit]
