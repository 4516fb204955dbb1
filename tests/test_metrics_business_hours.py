import datetime as dt
import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxpulse.config import BusinessHours
from cxpulse.metrics import business_intervals, first_responses, response_summary
from cxpulse.metrics.business_hours import with_business_frt

LONDON = "Europe/London"
HOURS = BusinessHours(start=dt.time(8), end=dt.time(20))  # Monday to Friday, 08-20
WIDE_START = pd.Timestamp("2024-01-01", tz="UTC")
WIDE_END = pd.Timestamp("2025-01-01", tz="UTC")


def thread(asked: str, answered: str | None, id_: str = "tw:1") -> list[dict]:
    rows = [{"id": id_, "created_at": asked}]
    if answered is not None:
        rows.append(
            {"id": f"{id_}r", "direction": "outbound", "parent_id": id_, "created_at": answered}
        )
    return rows


def business_frt(make_table, rows: list[dict], hours: BusinessHours = HOURS) -> dict:
    t = make_table(rows)
    responses = first_responses(t, WIDE_START, WIDE_END)
    frame = with_business_frt(responses, hours, LONDON, WIDE_START, WIDE_END).execute()
    return dict(zip(frame["id"], frame["frt_business_s"], strict=True))


def test_friday_evening_to_monday_morning_counts_the_hour_either_side(make_table):
    # Friday 19:00 to Monday 09:00 London time (GMT in January): 19-20 Friday + 08-09 Monday
    got = business_frt(make_table, thread("2024-01-12 19:00", "2024-01-15 09:00"))
    assert got["tw:1"] == 2 * 3600


def test_wait_inside_one_working_day_counts_in_full(make_table):
    got = business_frt(make_table, thread("2024-01-15 10:00", "2024-01-15 10:25"))
    assert got["tw:1"] == 25 * 60


def test_wait_entirely_out_of_hours_is_zero_business_seconds(make_table):
    got = business_frt(make_table, thread("2024-01-13 10:00", "2024-01-14 18:00"))  # weekend
    assert got["tw:1"] == 0


def test_business_hours_are_local_across_the_spring_dst_change(make_table):
    # Friday 29 March 2024 19:00 GMT (19:00 local) to Monday 1 April 07:30 UTC (08:30 BST):
    # the clocks changed on Sunday 31 March, so Monday opens at 07:00 UTC
    got = business_frt(make_table, thread("2024-03-29 19:00", "2024-04-01 07:30"))
    assert got["tw:1"] == 3600 + 30 * 60


def test_a_holiday_is_not_a_business_day(make_table):
    rows = thread("2024-12-24 19:00", "2024-12-27 09:00")  # Tuesday evening to Friday 09:00
    plain = business_frt(make_table, rows)["tw:1"]
    christmas = BusinessHours(start=dt.time(8), end=dt.time(20), holidays=["2024-12-25"])
    assert plain == (1 + 12 + 12 + 1) * 3600
    assert business_frt(make_table, rows, christmas)["tw:1"] == (1 + 12 + 1) * 3600


def test_unanswered_has_no_business_frt_and_a_reply_before_its_message_has_zero(make_table):
    rows = [
        *thread("2024-01-15 10:00", None, "tw:1"),
        *thread("2024-01-15 10:00", "2024-01-15 09:59", "tw:2"),
    ]
    got = business_frt(make_table, rows)
    assert math.isnan(got["tw:1"])
    assert got["tw:2"] == 0


def test_business_intervals_follow_days_holidays_and_the_zone():
    hours = BusinessHours(days=["mon", "sat"], holidays=["2024-03-30"])
    frame = business_intervals(
        hours, LONDON, pd.Timestamp("2024-03-25", tz="UTC"), pd.Timestamp("2024-04-01", tz="UTC")
    )
    assert [str(ts) for ts in frame["open_at"]] == [
        "2024-03-25 09:00:00+00:00",  # Monday, GMT
        "2024-04-01 08:00:00+00:00",  # Monday, BST; Saturday 30 March is a holiday
    ]
    assert [str(ts) for ts in frame["close_at"]] == [
        "2024-03-25 17:00:00+00:00",
        "2024-04-01 16:00:00+00:00",
    ]


def test_response_summary_reports_business_frt_quantiles(make_table):
    rows = [
        *thread("2024-01-12 19:00", "2024-01-15 09:00", "tw:1"),  # 2 business hours
        *thread("2024-01-15 10:00", "2024-01-15 11:00", "tw:2"),  # 1 business hour
    ]
    start, end = pd.Timestamp("2024-01-12", tz="UTC"), pd.Timestamp("2024-01-16", tz="UTC")
    got = response_summary(make_table(rows), start, end, tz=LONDON, business_hours=HOURS).iloc[0]
    assert got["frt_median_s"] == (62 * 3600 + 3600) / 2  # clock: 62 h and 1 h
    assert got["frt_median_business_s"] == 1.5 * 3600
    assert got["frt_p90_business_s"] == pytest.approx(1.9 * 3600)


def test_response_summary_without_business_hours_leaves_business_frt_missing(make_table):
    rows = thread("2024-01-15 10:00", "2024-01-15 11:00")
    got = response_summary(make_table(rows), WIDE_START, WIDE_END).iloc[0]
    assert math.isnan(got["frt_median_business_s"])


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 14 * 24 * 60), st.integers(-10, 5 * 24 * 60))
def test_business_frt_is_between_zero_and_the_clock_frt(make_table, minute, delay):
    asked = pd.Timestamp("2024-03-25", tz="UTC") + pd.Timedelta(minutes=minute)
    answered = asked + pd.Timedelta(minutes=delay)
    got = business_frt(make_table, thread(str(asked), str(answered)))["tw:1"]
    assert 0 <= got <= max(delay * 60, 0)


def test_twcs_sample_business_frt_is_shorter_than_the_clock_frt(load_real):
    twcs = load_real("twcs", ["twcs-head5k/twcs.csv"])
    start, end = pd.Timestamp("2000-01-01", tz="UTC"), pd.Timestamp("2030-01-01", tz="UTC")
    got = response_summary(twcs, start, end, tz="America/New_York", business_hours=HOURS)
    row = got.iloc[0]
    assert 0 < row["frt_median_business_s"] < row["frt_median_s"]
    assert row["frt_p90_business_s"] < row["frt_p90_s"]


def sla(make_table, rows, until: str, business_targets=("twitter",)) -> dict:
    start, end = pd.Timestamp("2024-01-12", tz="UTC"), pd.Timestamp("2024-01-16", tz="UTC")
    got = response_summary(
        make_table(rows), start, end, sla_targets={"twitter": 3 * 3600}, tz=LONDON,
        until=pd.Timestamp(until, tz="UTC"), business_hours=HOURS,
        business_targets=business_targets,
    ).iloc[0]  # fmt: skip
    return {k: got[k] for k in ("sla_due", "sla_met")}


def test_a_target_in_business_hours_is_met_by_business_seconds(make_table):
    # Friday 19:00 to Monday 09:00: 62 clock hours, 2 business hours; target 3 h.
    rows = thread("2024-01-12 19:00", "2024-01-15 09:00")
    assert sla(make_table, rows, "2024-01-16") == {"sla_due": 1, "sla_met": 1}
    assert sla(make_table, rows, "2024-01-16", ()) == {"sla_due": 1, "sla_met": 0}


def test_a_target_in_business_hours_falls_due_after_that_many_business_seconds(make_table):
    # Unanswered since Friday 19:00: 1 business hour by Monday 08:30 UTC (not due yet),
    # 3 by Monday 10:00 (due); in clock hours it was due on Friday 22:00.
    rows = thread("2024-01-12 19:00", None)
    assert sla(make_table, rows, "2024-01-15 08:30") == {"sla_due": 0, "sla_met": 0}
    assert sla(make_table, rows, "2024-01-15 10:00") == {"sla_due": 1, "sla_met": 0}
    assert sla(make_table, rows, "2024-01-15 08:30", ()) == {"sla_due": 1, "sla_met": 0}
