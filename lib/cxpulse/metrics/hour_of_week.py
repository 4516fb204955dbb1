"""When customers contact us and when we fail them: inbound and SLA by hour of the week.

Each function returns the full week, 7 x 24 cells (weekday 0 = Monday to 6 = Sunday,
local hour 0-23 in the brand's time zone), so a heatmap has no holes: a cell without
contacts has count 0 and no rate.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import ibis.expr.types as ir
import pandas as pd

from cxpulse.config import BusinessHours
from cxpulse.metrics.grouping import check_by
from cxpulse.metrics.response import response_summary
from cxpulse.metrics.volume import volume_summary

WEEK_KEYS = ["weekday", "hour"]


def _full_week(frame: pd.DataFrame, by: list[str], counts: list[str]) -> pd.DataFrame:
    """``frame`` (keyed by ``by`` + weekday, hour) with every hour of the week of each group
    of ``by`` found in it; ``counts`` of an added cell are 0, its other columns missing."""
    week = pd.MultiIndex.from_product([range(7), range(24)], names=WEEK_KEYS).to_frame(index=False)
    cells = frame[by].drop_duplicates().merge(week, how="cross") if by else week
    keyed = frame.astype({k: "int64" for k in WEEK_KEYS})
    full = cells.merge(keyed, on=[*by, *WEEK_KEYS], how="left")
    full[counts] = full[counts].fillna(0).astype("int64")
    return full.sort_values([*by, *WEEK_KEYS], kind="stable", ignore_index=True)


def inbound_by_hour_of_week(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    tz: str,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """Inbound interactions of every channel (calls and reviews included) created in
    ``[start, end)``, per hour of the week in ``tz``.

    Columns: ``by`` + weekday (0 = Monday), hour (local, 0-23), inbound (count; 0 for an
    hour without any). 168 rows per group of ``by`` (weekday and hour in ``by`` are the
    cells already, so they add nothing).
    """
    by = [b for b in check_by(by) if b not in WEEK_KEYS]
    volume = volume_summary(t, start, end, [*by, *WEEK_KEYS], tz)
    return _full_week(volume[[*by, *WEEK_KEYS, "inbound"]], by, ["inbound"])


def sla_by_hour_of_week(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    tz: str,
    sla_targets: Mapping[str, float],
    until: pd.Timestamp | None = None,
    business_hours: BusinessHours | None = None,
    business_targets: Collection[str] = (),
) -> pd.DataFrame:
    """SLA attainment of inbound messages created in ``[start, end)``, per hour of the week
    in ``tz`` at which the customer wrote: when do we fail?

    Definitions of ``response_summary`` (channels with a target in ``sla_targets``,
    seconds, in business hours for ``business_targets``; replies seen until ``until``,
    default ``end``). Columns: weekday (0 =
    Monday), hour (local, 0-23), due, met (counts; 0 for an hour without any),
    sla_attainment = met / due (fraction; missing when nothing is due). 168 rows.
    """
    summary = response_summary(
        t, start, end, WEEK_KEYS, sla_targets, until, tz, business_hours, business_targets
    )
    cells = summary.rename(columns={"sla_due": "due", "sla_met": "met"})
    return _full_week(cells[[*WEEK_KEYS, "due", "met", "sla_attainment"]], [], ["due", "met"])
