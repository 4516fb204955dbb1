"""What care is worth: do customers whose complaint we failed leave more often?

Customers come from the customer file (``customers.load_customers``: one row per author
id, with the monthly plan value and the churn date), matched to messages by author id.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from cxpulse.config import BrandParams
from cxpulse.metrics.business_hours import with_business_frt
from cxpulse.metrics.grouping import as_utc
from cxpulse.metrics.response import first_responses, in_target_calendar, sla_target
from cxpulse.metrics.sentiment import is_negative

CARE_GROUPS: tuple[str, ...] = ("failed", "in_time", "no_complaint")
_IDS_SCHEMA = ibis.schema({"known_author": "string", "customer_id": "string"})


def _failed_customers(
    t: ir.Table,
    customers: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    brand: BrandParams,
    until: pd.Timestamp,
) -> pd.Series:
    """customer_id -> True when one of their complaints failed, False when all were
    answered in time; customers without a complaint are absent."""
    complaints = first_responses(t, start, end, until)
    complaints = complaints.filter(
        complaints.brand == brand.brand,
        is_negative(complaints, brand.sentiment.negative_probability),
    )
    complaints = with_business_frt(complaints, brand.business_hours, brand.timezone, start, until)
    waited = in_target_calendar(
        complaints.frt_s, complaints.frt_business_s, complaints.channel, brand.business_targets
    )
    target = sla_target(complaints.channel, brand.sla_targets_s)
    late = target.notnull() & (waited > target)
    complaints = complaints.mutate(failed=complaints.frt_s.isnull() | late.fill_null(False))
    ids = ibis.memtable(
        customers[["author_id", "customer_id"]].set_axis(["known_author", "customer_id"], axis=1),
        schema=_IDS_SCHEMA,
    )
    matched = complaints.join(ids, complaints.author_id == ids.known_author)
    per_customer = matched.group_by("customer_id").aggregate(failed=matched.failed.any())
    frame = per_customer.execute()
    return pd.Series(frame["failed"].to_numpy(bool), index=frame["customer_id"], dtype=bool)


def churn_by_care(
    t: ir.Table,
    customers: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    brand: BrandParams,
    until: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Churn of customers by how we handled their complaints created in ``[start, end)``.

    A complaint is an inbound message (not a call) to ``brand.brand`` judged negative
    (p_negative >= ``brand.sentiment.negative_probability``: whether one customer
    complained is a decision about their messages, so a threshold on each message's
    probability) from an author id of a customer. It failed when it had no reply
    from the brand by ``until`` (default ``end``; pass a later one to give the last
    complaints their chance) or was answered after its channel's target in
    ``brand.sla_targets_s``; else it was answered in time. care of a customer who had
    not left before ``start``: failed (one complaint failed), in_time (all answered in
    time) or no_complaint (the baseline).

    Columns, one row per care group in that order: care, customers (count), churned
    (churned_at in [start, until]), churn_rate = churned / customers (fraction; NaN for
    an empty group), revenue_at_risk = sum of plan_value_month of the group's customers
    who have not left (currency per month).
    """
    start, until = as_utc(start), as_utc(end if until is None else until)
    failed = _failed_customers(t, customers, start, end, brand, until)
    people = customers.drop_duplicates("customer_id").set_index("customer_id")
    people = people[people["churned_at"].isna() | (people["churned_at"] >= start)]
    complained = people.index.isin(failed.index)
    failed_now = failed.reindex(people.index, fill_value=False).to_numpy(bool)
    care = np.select([complained & failed_now, complained], ["failed", "in_time"], "no_complaint")
    churned = (people["churned_at"] <= until).to_numpy(bool)  # NaT: still a customer
    frame = pd.DataFrame(
        {
            "care": care,
            "churned": churned,
            "kept_value": people["plan_value_month"].where(~churned, 0.0).to_numpy(float),
        }
    )
    groups = frame.groupby("care").agg(
        customers=("churned", "size"),
        churned=("churned", "sum"),
        revenue_at_risk=("kept_value", "sum"),
    )
    out = groups.reindex(list(CARE_GROUPS), fill_value=0).rename_axis("care").reset_index()
    out["churn_rate"] = out["churned"] / out["customers"].replace(0, np.nan)
    return out[["care", "customers", "churned", "churn_rate", "revenue_at_risk"]]
