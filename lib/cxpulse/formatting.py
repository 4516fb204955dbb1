"""How numbers read in reports and emails: durations, percentages, counts, changes."""

from __future__ import annotations

import math

Number = float | int | None

BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]  # LRE, RLE, PDF, LRO, RLO
    + [chr(c) for c in range(0x2066, 0x206A)]  # LRI, RLI, FSI, PDI
    + ["\u200e", "\u200f", "\u061c"]  # LRM, RLM, ALM
)
"""Unicode's explicit bidi formatting characters: they reorder the text around them."""


def visible_controls(text: object) -> str:
    """``text`` (as a string) with each bidi formatting character and each control
    character but tab and line breaks written as a visible marker (U+202E -> ``[U+202E]``):
    untrusted text can then neither reorder what is around it nor hide what it holds."""
    return "".join(
        f"[U+{ord(c):04X}]"
        if c in BIDI_CONTROLS or (c < " " and c not in "\t\n\r") or "\x7f" <= c <= "\x9f"
        else c
        for c in str(text)
    )


def is_missing(value: Number) -> bool:
    """True for None and NaN (pandas' missing values included)."""
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def duration(seconds: Number) -> str:
    """``42 s``, ``12 min``, ``1 h``, ``2.1 h``, ``1.5 d``; an em dash when missing."""
    if is_missing(seconds):
        return "—"
    s = float(seconds)
    if s < 90:
        return f"{s:.0f} s"
    if s < 3600:
        return f"{s / 60:.0f} min"
    if s < 48 * 3600:
        return f"{_trim(s / 3600)} h"
    return f"{_trim(s / 86400)} d"


def _trim(value: float) -> str:
    """One decimal, without a trailing ``.0``."""
    return f"{value:.1f}".removesuffix(".0")


def percent(fraction: Number, digits: int = 0) -> str:
    """A fraction as a percentage: 0.784 -> ``78%``."""
    if is_missing(fraction):
        return "—"
    return f"{100 * float(fraction):.{digits}f}%"


def count(value: Number) -> str:
    """An integer with thousands separators; one decimal below 10 for averages."""
    if is_missing(value):
        return "—"
    v = float(value)
    if v != int(v) and abs(v) < 10:
        return f"{v:.1f}"
    return f"{round(v):,}"


def points(value: Number) -> str:
    """Net sentiment points with a sign: ``+12``, ``-3``."""
    if is_missing(value):
        return "—"
    return f"{float(value):+.0f}"


def stars(value: Number) -> str:
    """Mean stars: ``4.3★``."""
    if is_missing(value):
        return "—"
    return f"{float(value):.1f}★"


FORMATS = {
    "duration": duration,
    "percent": percent,
    "count": count,
    "points": points,
    "stars": stars,
}


def relative_change(current: Number, previous: Number) -> float | None:
    """(current - previous) / previous, as a fraction; None when either side is missing
    or previous is 0 (a change from nothing has no percentage)."""
    if is_missing(current) or is_missing(previous) or float(previous) == 0:
        return None
    return (float(current) - float(previous)) / abs(float(previous))


def signed(value: float, decimals: int) -> str:
    """``value`` with its sign and ``decimals`` decimals: '+4.2', '-3'; '±0' (not '-0')
    when it rounds to zero."""
    text = f"{value:+.{decimals}f}"
    return "±" + text[1:] if float(text) == 0 else text


def change_text(current: Number, previous: Number, kind: str) -> str:
    """The change from ``previous`` to ``current`` as a reader wants it.

    Rates (``percent``) change in percentage points, net sentiment in points, stars in
    stars; counts and durations in relative percent; '±0 pts' for a change that rounds to
    nothing. ``no comparison data`` when the previous value is missing.
    """
    if is_missing(current) or is_missing(previous):
        return "no comparison data"
    diff = float(current) - float(previous)
    if kind == "percent":
        return f"{signed(100 * diff, 1)} pts"
    if kind == "points":
        return f"{signed(diff, 0)} pts"
    if kind == "stars":
        return f"{signed(diff, 2)}★"
    rel = relative_change(current, previous)
    return "new" if rel is None else f"{signed(100 * rel, 0)}%"
