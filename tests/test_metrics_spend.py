import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxpulse.metrics import volume_vs_spend

START = pd.Timestamp("2024-03-04", tz="UTC")
END = pd.Timestamp("2024-03-05", tz="UTC")
COSTS = {"phone": 6.0, "twitter": 2.0}


def rows_of(channel: str, n: int, **extra) -> list[dict]:
    return [
        {
            "id": f"{channel}:{i}:{extra}",
            "channel": channel,
            "created_at": "2024-03-04 09:00",
            **extra,
        }
        for i in range(n)
    ]


ROWS = [
    *rows_of("phone", 2, outcome="served"),
    *rows_of("phone", 1, outcome="abandoned"),
    *rows_of("phone", 1, outcome="ivr"),
    *rows_of("phone", 5, outcome="phantom"),  # not customers
    *rows_of("twitter", 12),
    *rows_of("twitter", 7, direction="outbound"),  # our replies are not contacts
    *rows_of("email", 4),
    *rows_of("twitter", 9, brand="Contoso"),
]


def test_volume_vs_spend_sets_each_channel_cost_share_against_its_volume(make_table):
    frame = volume_vs_spend(make_table(ROWS), START, END, "Northwind", COSTS)
    assert list(frame.columns) == [
        "channel",
        "contacts",
        "inbound_share",
        "cost",
        "cost_share",
        "gap",
    ]
    got = frame.set_index("channel")
    assert got["contacts"].to_dict() == {"twitter": 12, "phone": 4, "email": 4}
    assert got.loc["phone", "inbound_share"] == pytest.approx(4 / 20)
    assert (got.loc["phone", "cost"], got.loc["twitter", "cost"]) == (24, 24)
    assert got.loc["phone", "cost_share"] == 0.5
    assert got.loc["phone", "gap"] == pytest.approx(0.5 - 0.2)  # calls take more than volume
    assert got.loc["twitter", "gap"] == pytest.approx(0.5 - 0.6)


def test_a_channel_without_a_cost_is_listed_with_cost_missing(make_table):
    got = volume_vs_spend(make_table(ROWS), START, END, "Northwind", COSTS).set_index("channel")
    assert got.loc["email", "inbound_share"] == pytest.approx(0.2)
    assert all(math.isnan(got.loc["email", c]) for c in ("cost", "cost_share", "gap"))


def test_no_contacts_give_an_empty_frame(make_table):
    assert volume_vs_spend(make_table([]), START, END, "Northwind", COSTS).empty


@settings(max_examples=20, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["phone", "twitter", "email", "review"]), st.integers(1, 20), min_size=1
    )
)
def test_shares_add_up_to_one(make_table, volumes):
    rows = [
        row
        for channel, n in volumes.items()
        for row in rows_of(channel, n, outcome="served" if channel == "phone" else None)
    ]
    frame = volume_vs_spend(make_table(rows), START, END, "Northwind", COSTS)
    assert frame["inbound_share"].sum() == pytest.approx(1)
    if frame["cost"].notna().any():
        assert frame["cost_share"].sum() == pytest.approx(1)
