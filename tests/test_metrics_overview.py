import datetime as dt
import math

import pandas as pd
import pytest
from conftest import probabilities

from cxpulse import periods
from cxpulse.config import BrandParams, CallParams
from cxpulse.metrics import HEADLINE_FIELDS, call_summary, daily_series, headline, survey_summary

BRAND = BrandParams(
    brand="Northwind",
    timezone="Europe/London",
    sla_targets_s={"twitter": 3600},
    calls=CallParams(service_level_formula="include_all_abandons"),
)
DAY = periods.period_for("daily", dt.date(2024, 3, 31), "Europe/London")  # 23 hours

ROWS = [
    {"id": "tw:1", "created_at": "2024-03-31 08:00", "sentiment": -0.6},
    {"id": "tw:2", "created_at": "2024-03-31 08:20", "direction": "outbound", "parent_id": "tw:1"},
    {"id": "tw:3", "created_at": "2024-03-31 09:00", "sentiment": 0.5},
    {"id": "tw:4", "created_at": "2024-03-31 10:00", "sentiment": 0.4, "direction": "mention"},
    {"id": "ph:1", "created_at": "2024-03-31 09:00", "channel": "phone", "outcome": "served",
     "wait_s": 10.0, "handle_s": 100.0},
    {"id": "ph:2", "created_at": "2024-03-31 09:00", "channel": "phone", "outcome": "abandoned",
     "wait_s": 3.0},
    {"id": "rv:1", "created_at": "2024-03-31 12:00", "channel": "review", "rating": 2,
     "brand": "Contoso"},
]  # fmt: skip


def test_headline_has_exactly_the_agreed_fields(make_table):
    frame = headline(make_table(ROWS), DAY.start, DAY.end, BRAND)
    assert list(frame.columns) == list(HEADLINE_FIELDS)
    got = frame.iloc[0]
    assert (got["inbound"], got["answered"]) == (3, 1)  # the review is inbound too
    assert got["response_rate"] == pytest.approx(1 / 3)
    assert got["frt_median_s"] == 1200
    assert got["frt_median_business_s"] == 0  # a Sunday: outside the default business hours
    assert got["sla_attainment"] == 0.5  # one met, one due and missed; reviews have no target
    assert got["net_sentiment"] == pytest.approx(100 / 3)  # (2 - 1) / 3 x 100
    assert (got["offered_calls"], got["abandonment_rate"]) == (2, 0.5)
    assert got["service_level"] == 0.5  # include_all_abandons from the brand params
    assert (got["asa_s"], got["aht_s"]) == (10, 100)
    assert (got["reviews"], got["mean_rating"], got["negative_share"]) == (1, 2, 1)


def test_headline_takes_the_call_and_survey_summaries_a_caller_already_has(make_table):
    t = make_table(ROWS)
    calls = call_summary(t, DAY.start, DAY.end, calls=BRAND.calls)
    surveys = survey_summary(t, DAY.start, DAY.end)
    queried = headline(t, DAY.start, DAY.end, BRAND)
    given = headline(t, DAY.start, DAY.end, BRAND, calls=calls, surveys=surveys)
    pd.testing.assert_frame_equal(given, queried)
    doctored = headline(t, DAY.start, DAY.end, BRAND, calls=calls.assign(asa_s=7.0))
    assert doctored.iloc[0]["asa_s"] == 7  # what was given is shown, not queried again


def test_headline_by_brand_leaves_what_a_brand_lacks_missing_not_zero(make_table):
    frame = headline(make_table(ROWS), DAY.start, DAY.end, BRAND, by=["brand"])
    assert frame["brand"].tolist() == ["Contoso", "Northwind"]
    contoso, northwind = frame.iloc[0], frame.iloc[1]
    assert (contoso["inbound"], contoso["reviews"]) == (1, 1)
    assert math.isnan(contoso["offered_calls"]) and math.isnan(contoso["asa_s"])
    assert math.isnan(contoso["net_sentiment"])
    assert math.isnan(northwind["reviews"]) and northwind["offered_calls"] == 2


def test_headline_of_an_empty_window_invents_no_rates(make_table):
    got = headline(make_table([]), DAY.start, DAY.end, BRAND).iloc[0]
    assert (got["inbound"], got["offered_calls"], got["reviews"]) == (0, 0, 0)
    for key in ("response_rate", "sla_attainment", "net_sentiment", "service_level"):
        assert math.isnan(got[key]), key


def test_daily_window_crossing_dst_keeps_the_local_day(make_table):
    assert DAY.end - DAY.start == pd.Timedelta(hours=23)
    rows = [
        {"id": "tw:1", "created_at": "2024-03-30 23:59"},  # 23:59 GMT on the 30th: out
        {"id": "tw:2", "created_at": "2024-03-31 00:00"},  # 00:00 GMT on the 31st: in
        {"id": "tw:3", "created_at": "2024-03-31 22:59"},  # 23:59 BST on the 31st: in
        {"id": "tw:4", "created_at": "2024-03-31 23:00"},  # 00:00 BST on 1 April: out
    ]
    assert headline(make_table(rows), DAY.start, DAY.end, BRAND).iloc[0]["inbound"] == 2


def test_daily_series_has_one_row_per_local_day(make_table):
    rows = [
        {"id": "tw:1", "created_at": "2024-03-30 23:30", "sentiment": -0.5},
        {"id": "tw:2", "created_at": "2024-03-31 23:30", "sentiment": -0.5},  # 1 April BST
        {"id": "tw:3", "created_at": "2024-03-31 23:45", "direction": "outbound",
         "parent_id": "tw:2"},
        {"id": "tw:4", "created_at": "2024-04-01 09:00", "direction": "mention",
         "sentiment": 0.5},
    ]  # fmt: skip
    start = pd.Timestamp("2024-03-30", tz="UTC")
    end = pd.Timestamp("2024-04-02", tz="UTC")
    frame = daily_series(make_table(rows), start, end, tz="Europe/London")
    assert list(frame.columns) == [
        "day",
        "inbound",
        "negative",
        "net_sentiment",
        "response_rate",
        "frt_median_s",
    ]
    assert [d.date() for d in frame["day"]] == [dt.date(2024, 3, 30), dt.date(2024, 4, 1)]
    assert frame["inbound"].tolist() == [1, 1]
    assert frame["negative"].tolist() == [1, 1]
    assert frame["net_sentiment"].tolist() == [-100, 0]
    assert frame["response_rate"].tolist() == [0, 1]
    assert frame["frt_median_s"].iloc[1] == 900


def test_daily_series_counts_calls_as_inbound_and_zero_on_quiet_days(make_table):
    rows = [
        {"id": "tw:1", "created_at": "2024-03-04 09:00", "direction": "mention",
         "sentiment": 0.6},
        {"id": "ph:1", "created_at": "2024-03-05 09:00", "channel": "phone",
         "outcome": "served"},
    ]  # fmt: skip
    start = pd.Timestamp("2024-03-04", tz="UTC")
    frame = daily_series(make_table(rows), start, start + pd.Timedelta("2D"), "UTC", ["brand"])
    assert frame[["brand", "inbound", "negative"]].values.tolist() == [
        ["Northwind", 0, 0],
        ["Northwind", 1, 0],
    ]
    assert frame["response_rate"].isna().all()  # a call is not a message to answer


def test_daily_negative_is_the_estimated_number_of_negative_messages(make_table):
    # p_negative 0.6 + 0.3 + 0.2: 1.1 negative messages expected, though no message's
    # probability of being negative reaches one half
    rows = [
        {"id": f"tw:{i}", "created_at": "2024-03-04 09:00", **probabilities(neg, 0.1, 0.9 - neg)}
        for i, neg in enumerate((0.6, 0.3, 0.2))
    ]
    start = pd.Timestamp("2024-03-04", tz="UTC")
    frame = daily_series(make_table(rows), start, start + pd.Timedelta("1D"), "UTC")
    assert frame["negative"].tolist() == [pytest.approx(1.1)]


def test_headline_carries_the_90_percent_interval_of_net_sentiment(make_table):
    got = headline(make_table(ROWS), DAY.start, DAY.end, BRAND).iloc[0]
    assert got["net_low"] < got["net_sentiment"] <= got["net_high"]
