"""Does spending follow the volume? Each channel's share of contacts against its share of
the cost of handling them (the call centre against social care)."""

from __future__ import annotations

from collections.abc import Mapping

import ibis.expr.types as ir
import pandas as pd
from ibis import _

from cxpulse.metrics.grouping import within

CALL_CONTACTS: tuple[str, ...] = ("served", "abandoned", "ivr")
"""Call outcomes that are a customer contact: offered to an agent, or ended in the IVR
(a phantom call is a line artefact, not a customer)."""


def volume_vs_spend(
    t: ir.Table,
    start: pd.Timestamp,
    end: pd.Timestamp,
    brand: str,
    costs_per_contact: Mapping[str, float],
) -> pd.DataFrame:
    """Contacts and their cost per channel, for ``brand`` in ``[start, end)``.

    contacts = inbound messages, reviews included, survey responses not, on a channel; on
    phone, calls offered plus IVR calls (``CALL_CONTACTS``). inbound_share = contacts / all contacts
    (fraction); cost = contacts x ``costs_per_contact[channel]`` (currency of the params);
    cost_share = cost / cost of all channels with a cost (fraction); gap = cost_share -
    inbound_share (positive: the channel takes more of the money than of the volume).
    A channel without a cost per contact has cost, cost_share and gap missing (NaN).

    Columns: channel, contacts, inbound_share, cost, cost_share, gap; most contacts first.
    """
    inbound = within(t, start, end).filter(_.brand == brand, _.direction == "inbound")
    contacts = inbound.filter(
        ((_.channel != "phone") | _.outcome.isin(CALL_CONTACTS)) & (_.channel != "survey")
    )
    frame = contacts.group_by("channel").aggregate(contacts=_.count()).execute()
    frame["inbound_share"] = frame["contacts"] / frame["contacts"].sum()
    per_contact = frame["channel"].map(dict(costs_per_contact)).astype("float64")
    frame["cost"] = frame["contacts"] * per_contact
    frame["cost_share"] = frame["cost"] / frame["cost"].sum()
    frame["gap"] = frame["cost_share"] - frame["inbound_share"]
    return frame.sort_values(["contacts", "channel"], ascending=[False, True], ignore_index=True)
