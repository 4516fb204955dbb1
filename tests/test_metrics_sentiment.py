import math

import numpy as np
import pandas as pd
import pytest
from conftest import SYMMETRIC, probabilities
from hypothesis import given, settings
from hypothesis import strategies as st

from cxpulse.metrics import sentiment_summary
from cxpulse.quantify import estimate_groups

START = pd.Timestamp("2024-03-04", tz="UTC")
END = pd.Timestamp("2024-03-05", tz="UTC")


def voice(id_: str, sentiment: float | None = None, direction: str = "inbound", **p) -> dict:
    return {
        "id": f"tw:{id_}",
        "direction": direction,
        "created_at": "2024-03-04 09:00",
        "sentiment": sentiment,
        **p,
    }


def summary(make_table, rows, **kwargs) -> dict:
    frame = sentiment_summary(make_table(rows), START, END, **kwargs)
    assert len(frame) == 1
    return frame.iloc[0].to_dict()


def test_without_calibration_shares_are_the_mean_probabilities(make_table):
    rows = [
        voice("1", **probabilities(0.7, 0.2, 0.1)),
        voice("2", **probabilities(0.1, 0.3, 0.6)),
        voice("3", direction="mention", **probabilities(0.4, 0.4, 0.2)),
    ]
    got = summary(make_table, rows)
    assert got["voiced"] == 3
    assert (got["negative_share"], got["neutral_share"], got["positive_share"]) == (
        pytest.approx(0.4),
        pytest.approx(0.3),
        pytest.approx(0.3),
    )
    assert got["negative"] == pytest.approx(1.2)  # expected negative messages: 0.7 + 0.1 + 0.4
    assert got["net_sentiment"] == pytest.approx(-100 / 7)  # (0.3 - 0.4) / 0.7 x 100


def test_calibration_corrects_the_shares_by_pacc(make_table):
    rows = [voice("1", **probabilities(0.6, 0.3, 0.1)), voice("2", **probabilities(0.3, 0.3, 0.4))]
    frame = sentiment_summary(make_table(rows), START, END, calibration=SYMMETRIC)
    got = frame.iloc[0]
    # q = (0.45, 0.30, 0.25); p = (q - 0.1) / 0.7 = (0.5, 2/7, 1.5/7)
    assert (got["negative_share"], got["neutral_share"], got["positive_share"]) == (
        pytest.approx(0.5),
        pytest.approx(2 / 7),
        pytest.approx(1.5 / 7),
    )
    assert got["negative"] == pytest.approx(1.0)
    assert got["net_sentiment"] == pytest.approx(-40)  # (1.5/7 - 0.5) / (5/7) x 100
    assert frame.attrs["corrected"] is True


def test_interval_comes_from_the_groups_sums_of_squares(make_table):
    p = [(0.6, 0.3, 0.1), (0.3, 0.3, 0.4), (0.2, 0.1, 0.7)]
    got = summary(
        make_table, [voice(str(i), **probabilities(*x)) for i, x in enumerate(p)],
        calibration=SYMMETRIC,
    )  # fmt: skip
    by_hand = estimate_groups([3], [np.sum(p, axis=0)], [np.sum(np.square(p), axis=0)], SYMMETRIC)
    assert got["net_low"] == pytest.approx(by_hand.net_low[0])
    assert got["net_high"] == pytest.approx(by_hand.net_high[0])
    assert got["net_low"] < got["net_sentiment"] < got["net_high"]


def test_vader_one_hot_probabilities_give_its_label_shares(make_table):
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
    assert got["negative"] == 3
    assert got["net_sentiment"] == pytest.approx(-20)  # (2 - 3) / (2 + 3) x 100


def test_our_replies_and_unscored_rows_are_not_the_customers_voice(make_table):
    rows = [voice("1", 0.8), voice("2", -0.9, direction="outbound"), voice("3", None)]
    got = summary(make_table, rows)
    assert got["voiced"] == 1
    assert got["net_sentiment"] == 100
    assert math.isnan(got["net_low"])  # one message: no interval


def test_only_neutral_rows_give_missing_net_sentiment(make_table):
    got = summary(make_table, [voice("1", 0.0), voice("2", 0.01)])
    assert got["neutral_share"] == 1
    assert math.isnan(got["net_sentiment"]) and math.isnan(got["net_high"])


def test_nothing_voiced_gives_missing_shares(make_table):
    got = summary(make_table, [])
    assert got["voiced"] == 0
    assert all(math.isnan(got[k]) for k in ("positive_share", "negative_share", "net_sentiment"))


def test_groups_are_estimated_apart(make_table):
    rows = [
        {**voice("1", **probabilities(0.9, 0.1, 0.0)), "brand": "A"},
        {**voice("2", **probabilities(0.1, 0.1, 0.8)), "brand": "B"},
    ]
    frame = sentiment_summary(make_table(rows), START, END, by=["brand"])
    assert frame["brand"].tolist() == ["A", "B"]
    assert frame["net_sentiment"].tolist() == pytest.approx([-100, 100 * 0.7 / 0.9])


scores = st.lists(
    st.tuples(
        st.tuples(*[st.floats(0, 1)] * 3).filter(lambda p: sum(p) > 0.01),
        st.sampled_from(["inbound", "mention", "outbound"]),
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=25, deadline=None)
@given(scores)
def test_sentiment_shares_add_up_and_net_stays_in_range(make_table, spec):
    rows = [
        voice(str(i), direction=d, **probabilities(*(np.array(p) / sum(p))))
        for i, (p, d) in enumerate(spec)
    ]
    got = summary(make_table, rows, calibration=SYMMETRIC)
    if got["voiced"]:
        shares = got["positive_share"] + got["neutral_share"] + got["negative_share"]
        assert shares == pytest.approx(1)
    for key in ("net_sentiment", "net_low", "net_high"):
        assert math.isnan(got[key]) or -100 <= got[key] <= 100
    if not math.isnan(got["net_low"]):
        assert got["net_low"] <= got["net_sentiment"] <= got["net_high"]
