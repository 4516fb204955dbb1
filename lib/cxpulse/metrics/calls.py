"""The call centre: offered, abandoned, speed of answer, service level, handle time.

A call is offered when it reaches the agent queue: served, or abandoned while queued.
Calls that ended in the IVR/VRU are counted apart (``ivr_calls``); phantom calls (line
artefacts) are counted nowhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis.expr.types as ir
import pandas as pd
from ibis import _

from cxpulse.config import CallParams
from cxpulse.metrics.grouping import aggregate, ratio, to_frame, with_group_keys, within

DEFAULT_CALLS = CallParams()


def service_level_denominator(calls: ir.Table, params: CallParams) -> ir.BooleanValue:
    """The calls service level is measured against, by ``params.service_level_formula``.

    include_all_abandons: served + abandoned. exclude_short_abandons: served + abandoned
    except those abandoned after less than ``short_abandon_s`` in the queue (a caller
    who hangs up in 3 s was never really waiting); an abandon of unknown wait counts.
    """
    served = calls.outcome == "served"
    abandoned = calls.outcome == "abandoned"
    if params.service_level_formula == "include_all_abandons":
        return served | abandoned
    short = (calls.wait_s < params.short_abandon_s).fill_null(False)
    return served | (abandoned & ~short)


def call_summary(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    by: Sequence[str] = (),
    calls: CallParams = DEFAULT_CALLS,
    tz: str = "UTC",
) -> pd.DataFrame:
    """Call-centre metrics of phone calls created in ``[start, end)``.

    Columns: ``by`` + offered_calls = served + abandoned; served_calls; abandoned_calls;
    ivr_calls (ended in the IVR, not offered); abandonment_rate = abandoned / offered
    (fraction); asa_s = mean wait_s of served calls (seconds); service_level = served
    with wait_s <= ``service_level_threshold_s`` / ``service_level_denominator``
    (fraction); aht_s = mean handle_s of served calls (seconds). Rates and means are
    null when their denominator is empty.
    """
    c = with_group_keys(within(t, start, end).filter(_.channel == "phone"), by, tz, (start, end))
    served = c.outcome == "served"
    abandoned = c.outcome == "abandoned"
    served_in_time = served & (c.wait_s <= calls.service_level_threshold_s)
    expr = aggregate(
        c,
        by,
        offered_calls=c.count(where=served | abandoned),
        served_calls=c.count(where=served),
        abandoned_calls=c.count(where=abandoned),
        ivr_calls=c.count(where=c.outcome == "ivr"),
        abandonment_rate=ratio(c.count(where=abandoned), c.count(where=served | abandoned)),
        asa_s=c.wait_s.mean(where=served),
        service_level=ratio(
            c.count(where=served_in_time), c.count(where=service_level_denominator(c, calls))
        ),
        aht_s=c.handle_s.mean(where=served),
    )
    return to_frame(expr, by)
