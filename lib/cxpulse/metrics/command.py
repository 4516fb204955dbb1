"""The edge of the metric layer: open the warehouse and answer ``cxpulse metrics``.

The only module of ``cxpulse.metrics`` that touches files (the warehouse, the params);
every metric it calls is pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd

from cxpulse import config, periods
from cxpulse.metrics.grouping import GROUP_KEYS, as_utc
from cxpulse.metrics.overview import HEADLINE_COUNTS, headline
from cxpulse.schema import CHANNELS
from cxpulse.warehouse import connect as connect_warehouse


def open_table(warehouse_path: Path) -> ir.Table:
    """The ``interactions`` table of the warehouse file, read-only, session time zone UTC."""
    con = connect_warehouse(Path(warehouse_path), read_only=True)
    return ibis.duckdb.from_connection(con).table("interactions")


def _latest(t: ir.Table) -> pd.Timestamp | None:
    latest = t.created_at.max().execute()
    return None if pd.isna(latest) else as_utc(latest)


def choose_period(
    t: ir.Table,
    tz: str,
    start: str | None = None,
    end: str | None = None,
    cadence: str | None = None,
    as_of: str | None = None,
) -> periods.Period:
    """The window ``cxpulse metrics`` reports on.

    ``start``/``end`` (--from/--to, local days, inclusive) give a span; ``cadence`` with
    ``as_of`` gives the period containing that day; ``cadence`` alone, or nothing (daily),
    the period containing the last full day of data. Mixing the two ways, or giving one
    end of a span only, raises ``ParamsError``.
    """
    if (start or end) and (cadence or as_of):
        raise config.ParamsError("give either --from/--to or --cadence/--as-of, not both")
    if start or end:
        if not (start and end):
            raise config.ParamsError("--from and --to go together: give both (days inclusive)")
        first = config.parse_date(start, "--from")
        last = config.parse_date(end, "--to")
        if last < first:
            raise config.ParamsError(f"--to {last} is before --from {first}")
        return periods.span(first, last, tz)
    if as_of and not cadence:
        raise config.ParamsError("--as-of needs --cadence (daily, weekly, monthly, ...)")
    cadence = cadence or "daily"
    if cadence not in periods.CADENCES:
        raise config.ParamsError(
            f"unknown cadence {cadence!r}; expected one of {', '.join(periods.CADENCES)}"
        )
    if as_of:
        day = config.parse_date(as_of, "--as-of")
    else:
        latest = _latest(t)
        if latest is None:
            raise config.ParamsError("the warehouse holds no interactions yet; nothing to measure")
        day = periods.last_full_day(latest, tz)
    return periods.period_for(cadence, day, tz)


def metrics_command(
    warehouse: Path,
    params_dir: Path,
    start: str | None = None,
    end: str | None = None,
    cadence: str | None = None,
    as_of: str | None = None,
    brand: str | None = None,
    channel: str | None = None,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """What ``cxpulse metrics`` prints: ``headline`` of the chosen window (``choose_period``,
    in the brand's time zone), for one brand and one channel when given, grouped by ``by``.

    Counts are nullable integers here (``<NA>`` where a group has none of that kind), so
    the table prints 3, not 3.0.
    """
    brand_params = config.load_brand(Path(params_dir))
    unknown = [b for b in by if b not in GROUP_KEYS]
    if unknown:
        raise config.ParamsError(
            f"--by: unknown {', '.join(unknown)}; expected some of {', '.join(GROUP_KEYS)}"
        )
    if channel and channel not in CHANNELS:
        raise config.ParamsError(
            f"--channel: unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}"
        )
    t = open_table(warehouse)
    if brand:
        t = t.filter(t.brand == brand)
    if channel:
        t = t.filter(t.channel == channel)
    period = choose_period(t, brand_params.timezone, start, end, cadence, as_of)
    frame = headline(t, period.start, period.end, brand_params, by=by)
    return frame.astype({c: "Int64" for c in HEADLINE_COUNTS})
