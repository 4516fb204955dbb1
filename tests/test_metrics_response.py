import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxpulse.metrics import first_responses, response_summary

START = pd.Timestamp("2024-03-04", tz="UTC")
END = pd.Timestamp("2024-03-05", tz="UTC")
TARGETS = {"twitter": 3600.0}


def inbound(id_: str, at: str, **extra) -> dict:
    return {"id": id_, "direction": "inbound", "created_at": f"2024-03-04 {at}", **extra}


def reply(id_: str, parent: str, at: str, **extra) -> dict:
    day = extra.pop("day", "2024-03-04")
    return {
        "id": id_,
        "direction": "outbound",
        "parent_id": parent,
        "created_at": f"{day} {at}",
        **extra,
    }


def summary(make_table, rows: list[dict], **kwargs) -> dict:
    frame = response_summary(make_table(rows), START, END, **kwargs)
    assert len(frame) == 1
    return frame.iloc[0].to_dict()


def test_response_rate_and_frt_quantiles_over_answered_inbound(make_table):
    rows = [
        inbound("tw:1", "09:00"),
        reply("tw:2", "tw:1", "09:10"),  # 600 s
        inbound("tw:3", "10:00"),  # never answered
        inbound("tw:4", "11:00"),
        reply("tw:5", "tw:4", "11:30"),
        reply("tw:6", "tw:4", "11:05"),  # the first reply: 300 s
    ]
    got = summary(make_table, rows)
    assert (got["inbound"], got["answered"]) == (3, 2)
    assert got["response_rate"] == pytest.approx(2 / 3)
    assert got["frt_median_s"] == pytest.approx(450)  # (300 + 600) / 2
    assert got["frt_p90_s"] == pytest.approx(570)  # 300 + 0.9 x 300, like pandas


def test_frt_ignores_replies_from_other_brands(make_table):
    rows = [
        inbound("tw:1", "09:00"),
        {**reply("tw:2", "tw:1", "09:01"), "brand": "Contoso"},
        reply("tw:3", "tw:1", "09:30"),
        inbound("tw:4", "10:00"),
        {**reply("tw:5", "tw:4", "10:01"), "brand": "Contoso"},
    ]
    frame = first_responses(make_table(rows), START, END).execute().set_index("id")
    assert frame.loc["tw:1", "frt_s"] == 1800
    assert pd.isna(frame.loc["tw:4", "frt_s"])
    assert summary(make_table, rows)["answered"] == 1


def test_reply_timestamped_before_its_parent_answers_it_with_frt_zero(make_table):
    rows = [inbound("tw:1", "09:00"), reply("tw:2", "tw:1", "08:59:30")]
    got = summary(make_table, rows)
    assert got["answered"] == 1
    assert got["frt_median_s"] == 0


def test_no_inbound_gives_zero_counts_and_missing_rates(make_table):
    got = summary(make_table, [reply("tw:2", "tw:1", "09:00")], sla_targets=TARGETS)
    assert (got["inbound"], got["answered"], got["sla_due"]) == (0, 0, 0)
    for key in ("response_rate", "frt_median_s", "frt_p90_s", "sla_attainment"):
        assert math.isnan(got[key]), key


def test_all_unanswered_gives_rate_zero_and_no_frt(make_table):
    got = summary(
        make_table, [inbound("tw:1", "09:00"), inbound("tw:2", "10:00")], sla_targets=TARGETS
    )
    assert got["response_rate"] == 0
    assert math.isnan(got["frt_median_s"])
    assert (got["sla_due"], got["sla_met"], got["sla_attainment"]) == (2, 0, 0)


def test_phone_calls_and_mentions_are_not_messages_to_answer(make_table):
    rows = [
        inbound("ph:1", "09:00", channel="phone", outcome="served"),
        {**inbound("tw:1", "09:00"), "direction": "mention"},
        inbound("tw:2", "09:00"),
    ]
    assert summary(make_table, rows)["inbound"] == 1


def test_window_selects_inbound_by_created_at_and_later_replies_still_count(make_table):
    rows = [
        inbound("tw:1", "23:50"),
        reply("tw:2", "tw:1", "00:20", day="2024-03-05"),
        {**inbound("tw:3", "00:10"), "created_at": "2024-03-05 00:10"},  # next window
    ]
    got = summary(make_table, rows, until=pd.Timestamp("2024-03-06", tz="UTC"))
    assert (got["inbound"], got["answered"], got["frt_median_s"]) == (1, 1, 1800)


def test_until_hides_replies_made_after_it(make_table):
    rows = [inbound("tw:1", "23:50"), reply("tw:2", "tw:1", "00:20", day="2024-03-05")]
    assert summary(make_table, rows)["answered"] == 0  # until defaults to the window end
    later = pd.Timestamp("2024-03-05 00:20", tz="UTC")
    assert summary(make_table, rows, until=later)["answered"] == 1  # a reply at until is seen


def test_sla_not_yet_due_is_left_out_unless_already_met(make_table):
    rows = [
        inbound("tw:1", "23:30"),  # deadline 00:30 tomorrow, unanswered: not due yet
        inbound("tw:2", "23:40"),  # answered in 10 min: met, so due
        reply("tw:3", "tw:2", "23:50"),
        inbound("tw:4", "09:00"),  # answered after 2 h: due and missed
        reply("tw:5", "tw:4", "11:00"),
    ]
    got = summary(make_table, rows, sla_targets=TARGETS)
    assert (got["sla_due"], got["sla_met"]) == (2, 1)
    assert got["sla_attainment"] == 0.5


def test_sla_excludes_channels_without_a_target(make_table):
    rows = [inbound("em:1", "09:00", channel="email"), inbound("tw:1", "09:00")]
    got = summary(make_table, rows, sla_targets=TARGETS)
    assert (got["inbound"], got["sla_due"], got["sla_met"]) == (2, 1, 0)


def test_response_summary_by_channel_and_brand(make_table):
    rows = [
        inbound("tw:1", "09:00"),
        reply("tw:2", "tw:1", "09:30"),
        inbound("em:1", "09:00", channel="email"),
        inbound("tw:3", "09:00", brand="Contoso"),
    ]
    frame = response_summary(make_table(rows), START, END, by=["brand", "channel"])
    assert frame[["brand", "channel", "inbound", "answered"]].values.tolist() == [
        ["Contoso", "twitter", 1, 0],
        ["Northwind", "email", 1, 0],
        ["Northwind", "twitter", 1, 1],
    ]


def test_first_responses_columns(make_table):
    frame = first_responses(make_table([inbound("tw:1", "09:00")]), START, END).execute()
    assert list(frame.columns) == [
        "id",
        "channel",
        "brand",
        "author_id",
        "created_at",
        "text",
        "sentiment",
        "p_negative",
        "first_reply_at",
        "frt_s",
    ]


# Random small threads: one row per inbound, with an optional reply (minutes after, may
# be negative for clock skew) by our brand or a competitor.
threads = st.lists(
    st.tuples(
        st.integers(0, 24 * 60 - 1),
        st.one_of(st.none(), st.integers(-5, 600)),
        st.sampled_from(["Northwind", "Contoso"]),
    ),
    min_size=1,
    max_size=8,
)


def thread_rows(spec: list[tuple[int, int | None, str]]) -> list[dict]:
    rows = []
    for i, (minute, delay, brand) in enumerate(spec):
        at = START + pd.Timedelta(minutes=minute)
        rows.append({"id": f"tw:{i}", "direction": "inbound", "created_at": at})
        if delay is not None:
            rows.append(
                {
                    "id": f"tw:r{i}",
                    "direction": "outbound",
                    "brand": brand,
                    "parent_id": f"tw:{i}",
                    "created_at": at + pd.Timedelta(minutes=delay),
                }
            )
    return rows


@settings(max_examples=25, deadline=None)
@given(threads, st.randoms(use_true_random=False))
def test_response_summary_does_not_depend_on_row_order(make_table, spec, random):
    rows = thread_rows(spec)
    shuffled = random.sample(rows, len(rows))
    kwargs = {"sla_targets": TARGETS, "by": ["brand"]}
    pd.testing.assert_frame_equal(
        response_summary(make_table(rows), START, END, **kwargs),
        response_summary(make_table(shuffled), START, END, **kwargs),
    )


@settings(max_examples=25, deadline=None)
@given(threads)
def test_response_rates_are_fractions_and_frt_is_never_negative(make_table, spec):
    got = summary(make_table, thread_rows(spec), sla_targets=TARGETS)
    assert 0 <= got["response_rate"] <= 1
    assert got["sla_met"] <= got["sla_due"] <= got["inbound"]
    if got["sla_due"]:
        assert 0 <= got["sla_attainment"] <= 1
    if got["answered"]:
        assert 0 <= got["frt_median_s"] <= got["frt_p90_s"]


@pytest.fixture(scope="module")
def twcs(load_real):
    return load_real("twcs", ["twcs-head5k/twcs.csv"])


def test_twcs_sample_response_rate_and_first_reply_delay(twcs):
    """SOURCE.md: 2,083 of 2,778 inbound answered; median first reply 11.5 min, p90 380 min.

    Ours, with the same linear quantile as pandas: median 692 s (11.53 min), p90 22,811 s
    (380.18 min).
    """
    start = pd.Timestamp("2000-01-01", tz="UTC")
    end = pd.Timestamp("2030-01-01", tz="UTC")
    got = response_summary(twcs, start, end).iloc[0]
    assert (got["inbound"], got["answered"]) == (2778, 2083)
    assert got["frt_median_s"] == pytest.approx(692)
    assert got["frt_p90_s"] == pytest.approx(22811)


def test_without_frt_the_counts_and_sla_are_the_same(make_table):
    rows = [
        {"id": "tw:1", "created_at": "2024-03-01 09:00"},
        {"id": "tw:2", "created_at": "2024-03-01 09:10", "direction": "outbound",
         "parent_id": "tw:1"},
        {"id": "tw:3", "created_at": "2024-03-01 10:00"},
    ]  # fmt: skip
    t = make_table(rows)
    window = (pd.Timestamp("2024-03-01", tz="UTC"), pd.Timestamp("2024-03-02", tz="UTC"))
    full = response_summary(t, *window, sla_targets={"twitter": 3600})
    counts = response_summary(t, *window, sla_targets={"twitter": 3600}, frt=False)
    assert "frt_median_s" not in counts
    pd.testing.assert_frame_equal(counts, full[counts.columns])
    assert full[["frt_median_s", "frt_p90_s"]].values.tolist() == [[600.0, 600.0]]
