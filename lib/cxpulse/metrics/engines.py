"""The few engine functions the metrics need, one implementation per query engine.

Every metric is portable Ibis except three things Ibis has no portable operation for: the
local wall-clock time of a UTC instant in a named time zone (DST-exact), an instant
as integer microseconds since the epoch (durations to the microsecond), and the naive
timestamp of a count of microseconds (a wall-clock time computed as a number). Each engine
gives them with its own functions; ``for_expr`` picks the engine an expression runs on, so
the metric code calls ``local_time``, ``epoch_us`` and ``from_epoch_us`` and never names an
engine.

=========  ==========================  ==================  =====================
engine     local_time(tz, ts)          epoch_us(ts)        from_epoch_us(us)
=========  ==========================  ==================  =====================
duckdb     ``timezone(tz, ts)``        ``epoch_us(ts)``    ``make_timestamp(us)``
pyspark    ``from_utc_timestamp``      ``unix_micros(ts)`` ``timestamp_micros(us)``
=========  ==========================  ==================  =====================

Spark's ``from_utc_timestamp`` gives the wall-clock time read in the session time zone,
which Ibis' PySpark backend sets to UTC; the result is a naive local time on both engines.
A new engine is one more ``Functions`` in ``ENGINES``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir


@ibis.udf.scalar.builtin(name="timezone")
def _duckdb_local_time(tz: str, ts: dt.datetime) -> dt.datetime:
    """DuckDB ``timezone(tz, timestamptz)``: the naive local wall-clock time in ``tz``."""


@ibis.udf.scalar.builtin(name="epoch_us")
def _duckdb_epoch_us(ts: dt.datetime) -> int:
    """DuckDB ``epoch_us(timestamptz)``: microseconds since 1970-01-01 UTC."""


@ibis.udf.scalar.builtin(name="make_timestamp")
def _duckdb_from_epoch_us(us: int) -> dt.datetime:
    """DuckDB ``make_timestamp(bigint)``: the naive timestamp ``us`` microseconds after
    1970-01-01 00:00."""


@ibis.udf.scalar.builtin(name="from_utc_timestamp")
def _spark_from_utc(ts: dt.datetime, tz: str) -> dt.datetime:
    """Spark ``from_utc_timestamp(ts, tz)``: the wall-clock time in ``tz`` (read in UTC)."""


@ibis.udf.scalar.builtin(name="unix_micros")
def _spark_epoch_us(ts: dt.datetime) -> int:
    """Spark ``unix_micros(ts)``: microseconds since 1970-01-01 UTC."""


@ibis.udf.scalar.builtin(name="timestamp_micros")
def _spark_from_epoch_us(us: int) -> dt.datetime:
    """Spark ``timestamp_micros(us)``: the timestamp ``us`` microseconds after the epoch
    (read in UTC, the session time zone: a naive time)."""


@dataclass(frozen=True)
class Functions:
    """One engine's implementation of the engine functions."""

    local_time: Callable[[str, ir.TimestampValue], ir.TimestampValue]
    epoch_us: Callable[[ir.TimestampValue], ir.IntegerValue]
    from_epoch_us: Callable[[ir.IntegerValue], ir.TimestampValue]


ENGINES: dict[str, Functions] = {
    "duckdb": Functions(
        local_time=_duckdb_local_time,
        epoch_us=_duckdb_epoch_us,
        from_epoch_us=_duckdb_from_epoch_us,
    ),
    "pyspark": Functions(
        local_time=lambda tz, ts: _spark_from_utc(ts, tz),
        epoch_us=_spark_epoch_us,
        from_epoch_us=_spark_from_epoch_us,
    ),
}
"""Ibis backend name -> its ``Functions``."""


def for_expr(expr: ir.Expr) -> Functions:
    """The ``Functions`` of the engine ``expr`` runs on; ``ValueError`` for one without.

    ``expr`` must read a table (a column); a literal alone has no engine (Ibis would pick
    its default): give an instant known in Python as a number instead
    (``grouping.microseconds``)."""
    name = ibis.get_backend(expr).name
    try:
        return ENGINES[name]
    except KeyError:
        raise ValueError(
            f"the metrics do not run on the {name} engine; expected one of {sorted(ENGINES)}"
        ) from None


def local_time(tz: str, ts: ir.TimestampValue) -> ir.TimestampValue:
    """The naive local wall-clock time in ``tz`` of the UTC instant ``ts``."""
    return for_expr(ts).local_time(tz, ts)


def epoch_us(ts: ir.TimestampValue) -> ir.IntegerValue:
    """``ts`` as microseconds since 1970-01-01 UTC."""
    return for_expr(ts).epoch_us(ts)


def from_epoch_us(us: ir.IntegerValue) -> ir.TimestampValue:
    """The naive timestamp ``us`` microseconds after 1970-01-01 00:00."""
    return for_expr(us).from_epoch_us(us)
