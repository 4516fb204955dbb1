"""What every metric shares: the window, the group keys, safe ratios, running the query.

A window is half-open, ``[start, end)``, both ends UTC timestamps (``periods.Period``).
Time group keys are local calendar units in the brand's time zone, so a day is the brand's
day across DST changes: inside a window the zone's UTC offsets are known in Python
(``utc_offsets``) and added to each instant, elsewhere the engine converts
(``engines.local_time``).
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pandas as pd

from cxpulse.metrics.engines import epoch_us, from_epoch_us, local_time

Span = tuple[pd.Timestamp, pd.Timestamp]
"""A half-open window ``[start, end)`` of UTC instants."""

GROUP_KEYS: tuple[str, ...] = ("brand", "channel", "day", "week", "quarter", "weekday", "hour")
"""What ``by`` accepts: day = local date; week = ISO week label ``2024-W13``;
quarter = calendar quarter label ``2024-Q1`` (the labels of ``periods.period_for``);
weekday = local day of the week, 0 = Monday to 6 = Sunday; hour = local wall-clock hour,
0-23 (the night clocks go back, that hour holds two hours of data)."""


def utc_offsets(tz: str, start: pd.Timestamp, end: pd.Timestamp) -> list[tuple[int, int, int]]:
    """The pieces of ``[start, end)`` over which ``tz`` keeps one UTC offset, in order:
    (first, end, offset), all microseconds (instants since 1970-01-01 UTC; the offset
    local minus UTC). A zone changes its offset at most once an hour (every zone of the tz
    database does), so probes an hour apart find each change and halving finds its
    microsecond."""
    first, stop = microseconds(start), microseconds(end)
    if first >= stop:
        return []
    hour, tick = 3_600_000_000, pd.Timedelta(microseconds=1)
    probes = [*range(first, stop, hour), stop - 1]
    instants = pd.to_datetime(probes, unit="us", utc=True)
    local = instants.tz_convert(tz).tz_localize(None) - instants.tz_localize(None)
    offsets = local.to_numpy("timedelta64[us]").astype("int64")

    def offset_at(us: int) -> int:
        instant = pd.Timestamp(us, unit="us", tz="UTC")
        return (instant.tz_convert(tz).tz_localize(None) - instant.tz_localize(None)) // tick

    pieces, since = [], first
    for i in range(len(probes) - 1):
        if offsets[i] != offsets[i + 1]:
            low, high = probes[i], probes[i + 1]  # offset_at(low) != offset_at(high)
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if offset_at(middle) == offsets[i] else (low, middle)
            pieces.append((since, high, int(offsets[i])))
            since = high
    return [*pieces, (since, stop, int(offsets[-1]))]


TIME_KEYS: tuple[str, ...] = ("day", "week", "quarter", "weekday", "hour")
"""The keys of ``GROUP_KEYS`` made from ``created_at``'s local time."""


def local_clock(ts: ir.TimestampValue, tz: str, span: Span | None = None) -> ir.TimestampValue:
    """The naive local wall-clock time in ``tz`` of the UTC instant ``ts``.

    With ``span``, an instant inside it gets it as ``ts`` plus the zone's UTC offset there
    (``utc_offsets``): integer arithmetic, where the engine's time-zone conversion costs
    about 70 ns a row in DuckDB (most of a trend query's time); an instant outside it, or
    no ``span``, gets the engine's conversion (``engines.local_time``). Same result."""
    converted = local_time(tz, ts)
    pieces = utc_offsets(tz, *span) if span is not None else []
    if not pieces:
        return converted
    us = epoch_us(ts)
    shifted = [((us >= a) & (us < b), from_epoch_us(us + offset)) for a, b, offset in pieces]
    return ibis.cases(*shifted, else_=converted)


def local_day(ts: ir.TimestampValue, tz: str, span: Span | None = None) -> ir.DateValue:
    """The local date in ``tz`` of the UTC timestamp ``ts`` (``span``: ``local_clock``)."""
    return local_clock(ts, tz, span).date()


def as_utc(ts: pd.Timestamp | str) -> pd.Timestamp:
    """``ts`` as a UTC timestamp; a naive timestamp is refused (its zone would be a guess)."""
    ts = pd.Timestamp(ts)
    if ts.tzinfo is None:
        raise ValueError(f"window bounds must be timezone-aware, got naive {ts}")
    return ts.tz_convert("UTC")


def microseconds(ts: pd.Timestamp) -> int:
    """The instant ``ts`` (timezone-aware) as microseconds since 1970-01-01 UTC."""
    return as_utc(ts).value // 1_000


def within(t: ir.Table, start: pd.Timestamp, end: pd.Timestamp) -> ir.Table:
    """Rows of ``t`` created in ``[start, end)``."""
    return t.filter(t.created_at >= as_utc(start), t.created_at < as_utc(end))


def seconds_between(earlier: ir.TimestampValue, later: ir.TimestampValue) -> ir.FloatingValue:
    """``later - earlier`` in seconds (float, microsecond precision; negative if reversed)."""
    return (epoch_us(later) - epoch_us(earlier)) / 1e6


def seconds_until(earlier: ir.TimestampValue, instant: pd.Timestamp) -> ir.FloatingValue:
    """``instant - earlier`` in seconds, ``instant`` known in Python (a literal alone has no
    engine: ``engines.for_expr``)."""
    return (microseconds(instant) - epoch_us(earlier)) / 1e6


def ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """``numerator / denominator`` as a float; null, not 0 or infinity, when it divides by 0."""
    return numerator.cast("float64") / denominator.nullif(0).cast("float64")


def check_by(by: Sequence[str]) -> list[str]:
    """``by`` as a list, or ``ValueError`` naming the unknown keys and the allowed ones."""
    unknown = [b for b in by if b not in GROUP_KEYS]
    if unknown:
        raise ValueError(f"unknown group key(s) {unknown}; expected some of {list(GROUP_KEYS)}")
    return list(dict.fromkeys(by))


def iso_week_label(local: ir.TimestampValue) -> ir.StringValue:
    """The ISO week of ``local`` as ``2024-W13``: the week's year is the year of its
    Thursday, so 30 Dec 2024 is in 2025-W01 and 1 Jan 2027 in 2026-W53."""
    week, month, year = local.week_of_year(), local.month(), local.year()
    iso_year = ibis.cases(
        ((week == 1) & (month == 12), year + 1),
        ((week >= 52) & (month == 1), year - 1),
        else_=year,
    )
    return iso_year.cast("string") + "-W" + week.cast("string").lpad(2, "0")


def with_group_keys(t: ir.Table, by: Sequence[str], tz: str, span: Span | None = None) -> ir.Table:
    """``t`` with the time keys among ``by`` (day, week, quarter, weekday, hour) added from
    ``created_at``; ``span``: the window ``t`` holds, where local times are computed
    without the engine's time-zone conversion (``local_clock``)."""
    wanted = [k for k in TIME_KEYS if k in check_by(by)]
    if not wanted:
        return t
    local = local_clock(t.created_at, tz, span)
    keys = {
        "day": local.date(),
        "week": iso_week_label(local),
        "quarter": local.year().cast("string") + "-Q" + local.quarter().cast("string"),
        "weekday": local.day_of_week.index(),
        "hour": local.hour(),
    }
    return t.mutate(**{k: keys[k] for k in wanted})


def aggregate(keyed: ir.Table, by: Sequence[str], **metrics: ir.Scalar) -> ir.Table:
    """``metrics`` per group of ``by`` (one row over the whole table when ``by`` is empty).

    ``keyed`` is a table returned by ``with_group_keys``; ``metrics`` are reductions of it.
    """
    by = check_by(by)
    if not by:
        return keyed.aggregate(**metrics)
    return keyed.group_by(by).aggregate(**metrics)


def quantiles(x: ir.NumericColumn, levels: Sequence[float]) -> ir.ArrayValue:
    """The continuous quantiles ``levels`` of ``x`` as one list-valued reduction (null when
    ``x`` has no value); ``split`` makes them columns.

    One reduction keeps one copy of the values for every level, where a reduction per
    level keeps one each; an engine cannot spill them to disk (the response times of a
    quarter to date of 100M rows needed more than 384 MB in DuckDB with a reduction per
    level, less than 256 MB so)."""
    return x.quantile(list(levels))


def split(t: ir.Table, column: str, names: Sequence[str]) -> ir.Table:
    """``t`` with its list ``column`` replaced, where it stood, by one column per element,
    named ``names`` in order."""
    out = []
    for c in t.columns:
        if c == column:
            out += [t[c][i].name(name) for i, name in enumerate(names)]
        else:
            out.append(t[c])
    return t.select(out)


def to_frame(expr: ir.Table, by: Sequence[str]) -> pd.DataFrame:
    """Run ``expr`` on its engine; a pandas frame sorted by ``by``, index 0..n-1."""
    frame = expr.execute()
    if by:
        frame = frame.sort_values(list(by), kind="stable")
    return frame.reset_index(drop=True)
