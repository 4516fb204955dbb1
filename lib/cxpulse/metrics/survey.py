"""Survey scores: NPS and CSAT from the ``survey`` channel's responses, with their 90 %
intervals, overall, by group and by the channel of the contact each response rates.

A response counts for NPS when it has an ``nps`` (0-10) and for CSAT when it has a
``csat`` (1-5); one response may count for both.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis.expr.types as ir
import numpy as np
import pandas as pd
from ibis import _

from cxpulse.metrics.grouping import aggregate, to_frame, with_group_keys, within
from cxpulse.quantify import Z90

PROMOTER_FROM = 9
"""NPS answers 9-10 are promoters."""
DETRACTOR_UNTIL = 6
"""NPS answers 0-6 are detractors (7-8: passives)."""
SATISFIED_FROM = 4
"""CSAT answers 4-5 (satisfied, very satisfied) count as satisfied."""
COLUMNS: tuple[str, ...] = (
    "responses",
    "nps_responses",
    "promoters",
    "passives",
    "detractors",
    "nps",
    "nps_low",
    "nps_high",
    "csat_responses",
    "satisfied",
    "csat",
    "csat_low",
    "csat_high",
)


def responses(t: ir.Table, start: pd.Timestamp, end: pd.Timestamp) -> ir.Table:
    """Survey responses created in ``[start, end)`` with an NPS or a CSAT score."""
    return within(t, start, end).filter(_.channel == "survey", _.nps.notnull() | _.csat.notnull())


def counts(r: ir.Table) -> dict[str, ir.Scalar]:
    """The counts every survey figure is worked out from, as reductions of ``r``."""
    return {
        "responses": r.count(),
        "nps_responses": r.count(where=r.nps.notnull()),
        "promoters": r.count(where=r.nps >= PROMOTER_FROM),
        "passives": r.count(where=(r.nps > DETRACTOR_UNTIL) & (r.nps < PROMOTER_FROM)),
        "detractors": r.count(where=r.nps <= DETRACTOR_UNTIL),
        "csat_responses": r.count(where=r.csat.notnull()),
        "satisfied": r.count(where=r.csat >= SATISFIED_FROM),
    }


COUNT_COLUMNS = ("responses", "nps_responses", "promoters", "passives", "detractors",
                 "csat_responses", "satisfied")  # fmt: skip
"""The columns of ``counts``."""


def with_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` of ``counts`` with the figures: nps, nps_low, nps_high, csat, csat_low,
    csat_high, in ``COLUMNS`` order after the group keys.

    - NPS = (promoters - detractors) / NPS responses x 100, points -100..100. Its 90 %
      interval is NPS +- ``Z90`` x se, se = 100 x sqrt((p + d - (p - d)^2) / n) with p, d
      the promoter and detractor shares: each response scores +100, 0 or -100, and that
      is the standard error of their mean. Clipped to [-100, 100]; NaN below 2 responses.
    - CSAT = satisfied (4-5) / CSAT responses, a fraction 0..1, with its 90 % Wilson
      score interval (it stays inside 0..1 and is sound for small counts).
    Figures are NaN (not 0) without responses; a count of no response is 0 (Spark's
    filtered count of a group where nothing matches is null).
    """
    out = frame.copy()
    for column in COUNT_COLUMNS:
        out[column] = out[column].fillna(0).astype("int64")

    def number(column: str) -> np.ndarray:
        return out[column].to_numpy(dtype="float64", na_value=np.nan)

    n = number("nps_responses")
    with np.errstate(invalid="ignore", divide="ignore"):
        p = number("promoters") / n
        d = number("detractors") / n
        nps = (p - d) * 100
        half = Z90 * 100 * np.sqrt(np.clip(p + d - (p - d) ** 2, 0, None) / n)
    half = np.where(n >= 2, half, np.nan)
    out["nps"] = nps
    out["nps_low"] = np.clip(nps - half, -100, 100)
    out["nps_high"] = np.clip(nps + half, -100, 100)
    m = number("csat_responses")
    with np.errstate(invalid="ignore", divide="ignore"):
        share = number("satisfied") / m
        centre = (share + Z90**2 / (2 * m)) / (1 + Z90**2 / m)
        spread = Z90 / (1 + Z90**2 / m) * np.sqrt(share * (1 - share) / m + Z90**2 / (4 * m**2))
    out["csat"] = share
    out["csat_low"] = np.where(m > 0, centre - spread, np.nan)
    out["csat_high"] = np.where(m > 0, centre + spread, np.nan)
    keys = [c for c in out.columns if c not in COLUMNS]
    return out[keys + list(COLUMNS)]


def survey_summary(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    by: Sequence[str] = (),
    tz: str = "UTC",
) -> pd.DataFrame:
    """NPS and CSAT of the survey responses created in ``[start, end)``.

    Columns: ``by`` + ``COLUMNS``: responses, nps_responses, promoters (9-10), passives
    (7-8), detractors (0-6), nps (points) with nps_low / nps_high, csat_responses,
    satisfied (4-5), csat (fraction) with csat_low / csat_high (``with_scores``).
    """
    r = with_group_keys(responses(t, start, end), by, tz, (start, end))
    return with_scores(to_frame(aggregate(r, by, **counts(r)), by))


def nps_by_channel(t: ir.Table, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """``survey_summary`` by the channel of the contact each response rates
    (``rated_channel``; ``not given`` when the survey does not say), most responses first."""
    r = responses(t, start, end).mutate(rated_channel=_.rated_channel.fill_null("not given"))
    frame = r.group_by("rated_channel").aggregate(**counts(r)).execute()
    frame = frame.sort_values(["responses", "rated_channel"], ascending=[False, True])
    return with_scores(frame.reset_index(drop=True))
