import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxpulse.config import CallParams
from cxpulse.metrics import customer_wait

START = pd.Timestamp("2024-03-04", tz="UTC")
END = pd.Timestamp("2024-03-05", tz="UTC")


def message(id_: str, at: str, reply_after_s: float | None = None, **extra) -> list[dict]:
    asked = pd.Timestamp(f"2024-03-04 {at}", tz="UTC")
    rows = [{"id": id_, "created_at": asked, **extra}]
    if reply_after_s is not None:
        rows.append(
            {
                "id": f"{id_}r",
                "direction": "outbound",
                "parent_id": id_,
                "created_at": asked + pd.Timedelta(seconds=reply_after_s),
                **extra,
            }
        )
    return rows


def call(id_: str, outcome: str, wait_s: float | None = None) -> dict:
    return {
        "id": id_,
        "channel": "phone",
        "created_at": "2024-03-04 09:00",
        "outcome": outcome,
        "wait_s": wait_s,
    }


ROWS = [
    *message("tw:1", "09:00", 600),
    *message("tw:2", "10:00", 1800),
    *message("tw:3", "11:00"),  # never answered
    *message("em:1", "09:00", 7200, channel="email"),
    call("ph:1", "served", 10),
    call("ph:2", "served", 30),
    call("ph:3", "abandoned", 90),
    call("ph:4", "abandoned", 2),  # a short abandon: not a contact by default
    call("ph:5", "ivr"),  # never reached the queue
]


def by_channel(frame: pd.DataFrame) -> dict[str, dict]:
    return {row["channel"]: row for row in frame.to_dict("records")}


def test_calls_and_messages_are_waits_on_one_scale(make_table):
    got = by_channel(customer_wait(make_table(ROWS), START, END))
    assert list(got) == ["email", "phone", "twitter"]
    assert (got["twitter"]["contacts"], got["twitter"]["wait_median_s"]) == (3, 1200)
    assert got["twitter"]["unanswered_share"] == pytest.approx(1 / 3)
    assert (got["phone"]["contacts"], got["phone"]["wait_median_s"]) == (3, 20)
    assert got["phone"]["wait_p90_s"] == pytest.approx(28)  # 10 + 0.9 x 20
    assert got["phone"]["unanswered_share"] == pytest.approx(1 / 3)
    assert (got["email"]["wait_median_s"], got["email"]["unanswered_share"]) == (7200, 0)


def test_short_abandons_count_as_unanswered_when_the_params_include_them(make_table):
    params = CallParams(service_level_formula="include_all_abandons")
    phone = by_channel(customer_wait(make_table(ROWS), START, END, params))["phone"]
    assert (phone["contacts"], phone["unanswered_share"]) == (4, 0.5)


def test_a_channel_with_nothing_answered_has_no_wait_but_a_full_unanswered_share(make_table):
    rows = [call("ph:1", "abandoned", 40), *message("tw:1", "09:00")]
    got = customer_wait(make_table(rows), START, END, by=())
    assert got.iloc[0]["contacts"] == 2
    assert math.isnan(got.iloc[0]["wait_median_s"])
    assert got.iloc[0]["unanswered_share"] == 1


def test_replies_after_until_are_not_seen(make_table):
    rows = message("tw:1", "23:00", 7200)  # answered at 01:00 the next day
    assert customer_wait(make_table(rows), START, END).iloc[0]["unanswered_share"] == 1
    later = END + pd.Timedelta(hours=2)
    got = customer_wait(make_table(rows), START, END, until=later).iloc[0]
    assert (got["unanswered_share"], got["wait_median_s"]) == (0, 7200)


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.integers(0, 90_000)), min_size=1, max_size=6),
    st.lists(st.sampled_from(["served", "abandoned", "ivr"]), max_size=6),
)
def test_unanswered_share_is_a_fraction_and_waits_are_ordered(make_table, replies, outcomes):
    rows = [row for i, r in enumerate(replies) for row in message(f"tw:{i}", "08:00", r)]
    rows += [call(f"ph:{i}", o, 15.0 * (i + 1)) for i, o in enumerate(outcomes)]
    for got in customer_wait(make_table(rows), START, END).to_dict("records"):
        assert 0 <= got["unanswered_share"] <= 1
        if not math.isnan(got["wait_median_s"]):
            assert 0 <= got["wait_median_s"] <= got["wait_p90_s"]
