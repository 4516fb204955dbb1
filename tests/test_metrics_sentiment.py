import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxpulse.metrics import sentiment_summary

START = pd.Timestamp("2024-03-04", tz="UTC")
END = pd.Timestamp("2024-03-05", tz="UTC")


def voice(id_: str, sentiment: float | None, direction: str = "inbound") -> dict:
    return {
        "id": f"tw:{id_}",
        "direction": direction,
        "sentiment": sentiment,
        "created_at": "2024-03-04 09:00",
    }


def summary(make_table, rows, **kwargs) -> dict:
    frame = sentiment_summary(make_table(rows), START, END, **kwargs)
    assert len(frame) == 1
    return frame.iloc[0].to_dict()


def test_net_sentiment_counts_positive_and_negative_at_the_thresholds(make_table):
    rows = [
        voice("1", 0.05),  # positive: >= 0.05
        voice("2", 0.9),
        voice("3", 0.049),  # neutral
        voice("4", -0.05),  # negative: <= -0.05
        voice("5", -0.6, direction="mention"),
        voice("6", -0.7),
    ]
    got = summary(make_table, rows)
    assert got["voiced"] == 6
    assert (got["positive_share"], got["neutral_share"], got["negative_share"]) == (
        pytest.approx(2 / 6),
        pytest.approx(1 / 6),
        pytest.approx(3 / 6),
    )
    assert got["net_sentiment"] == pytest.approx(-20)  # (2 - 3) / (2 + 3) x 100


def test_our_replies_and_unscored_rows_are_not_the_customers_voice(make_table):
    rows = [voice("1", 0.8), voice("2", -0.9, direction="outbound"), voice("3", None)]
    got = summary(make_table, rows)
    assert got["voiced"] == 1
    assert got["net_sentiment"] == 100


def test_only_neutral_rows_give_missing_net_sentiment(make_table):
    got = summary(make_table, [voice("1", 0.0), voice("2", 0.01)])
    assert got["neutral_share"] == 1
    assert math.isnan(got["net_sentiment"])


def test_nothing_voiced_gives_missing_shares(make_table):
    got = summary(make_table, [])
    assert got["voiced"] == 0
    assert all(math.isnan(got[k]) for k in ("positive_share", "negative_share", "net_sentiment"))


scores = st.lists(
    st.tuples(st.floats(-1, 1), st.sampled_from(["inbound", "mention", "outbound"])),
    min_size=1,
    max_size=10,
)


@settings(max_examples=25, deadline=None)
@given(scores)
def test_sentiment_shares_add_up_and_net_stays_in_range(make_table, spec):
    got = summary(make_table, [voice(str(i), s, d) for i, (s, d) in enumerate(spec)])
    if got["voiced"]:
        shares = got["positive_share"] + got["neutral_share"] + got["negative_share"]
        assert shares == pytest.approx(1)
    assert math.isnan(got["net_sentiment"]) or -100 <= got["net_sentiment"] <= 100
