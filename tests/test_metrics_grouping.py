import datetime as dt

import pandas as pd
import pytest

from cxpulse import periods
from cxpulse.metrics import volume_summary
from cxpulse.metrics.engines import local_time
from cxpulse.metrics.grouping import (
    check_by,
    local_clock,
    microseconds,
    ratio,
    utc_offsets,
    with_group_keys,
)

WIDE_START = pd.Timestamp("2020-01-01", tz="UTC")
WIDE_END = pd.Timestamp("2030-01-01", tz="UTC")


def keys(make_table, stamps: list[str], tz: str) -> list[tuple]:
    t = make_table([{"id": f"tw:{i}", "created_at": s} for i, s in enumerate(stamps)])
    frame = with_group_keys(t, ["day", "week", "quarter"], tz).order_by("id").execute()
    return [(d.date(), w, q) for d, w, q in frame[["day", "week", "quarter"]].values]


def test_day_is_the_local_date_across_the_spring_dst_change(make_table):
    got = keys(make_table, ["2024-03-30 23:30", "2024-03-31 23:30"], "Europe/London")
    assert [k[0] for k in got] == [dt.date(2024, 3, 30), dt.date(2024, 4, 1)]  # 00:30 BST


def test_week_is_the_iso_week_around_new_year(make_table):
    got = keys(make_table, ["2024-12-30 12:00", "2021-01-03 12:00"], "UTC")
    assert [k[1] for k in got] == ["2025-W01", "2020-W53"]


def test_quarter_is_the_local_calendar_quarter(make_table):
    got = keys(make_table, ["2024-03-31 23:30", "2024-12-31 23:30"], "Europe/London")
    assert [k[2] for k in got] == ["2024-Q2", "2024-Q4"]  # 31 Mar 23:30 UTC = 1 Apr BST


def test_time_keys_follow_the_zone_not_utc(make_table):
    got = keys(make_table, ["2024-01-01 03:00"], "America/New_York")
    assert got == [(dt.date(2023, 12, 31), "2023-W52", "2023-Q4")]


def test_grouping_by_week_counts_a_week_as_one_group(make_table):
    rows = [{"id": f"tw:{d}", "created_at": f"2024-03-{d:02d} 12:00"} for d in (4, 10, 11)]
    frame = volume_summary(make_table(rows), WIDE_START, WIDE_END, by=["week"])
    assert frame[["week", "total"]].values.tolist() == [["2024-W10", 2], ["2024-W11", 1]]


def test_unknown_group_key_is_refused():
    with pytest.raises(ValueError, match="unknown group key.*'month'"):
        check_by(["brand", "month"])


def test_ratio_is_missing_not_zero_or_infinite_when_dividing_by_zero(make_table):
    t = make_table([{"id": "tw:1", "created_at": "2024-03-04 09:00"}])
    got = t.aggregate(
        none=ratio(t.count(), t.count(where=t.direction == "outbound")),
        quarter=ratio(t.count(), t.count() * 4),
    ).execute()
    assert pd.isna(got["none"].iloc[0])
    assert got["quarter"].iloc[0] == 0.25


def test_weekday_and_hour_are_the_local_wall_clock(make_table):
    t = make_table(
        [
            {"id": "tw:1", "created_at": "2024-03-31 00:30"},  # Sunday 00:30 GMT
            {"id": "tw:2", "created_at": "2024-03-31 23:30"},  # Monday 00:30 BST
        ]
    )
    frame = with_group_keys(t, ["weekday", "hour"], "Europe/London").order_by("id").execute()
    assert frame[["weekday", "hour"]].values.tolist() == [[6, 0], [0, 0]]


@pytest.mark.parametrize(
    ("kind", "day"), [("daily", dt.date(2026, 11, 1)), ("quarterly", dt.date(2026, 11, 19))]
)
def test_a_period_holds_its_first_and_last_local_instant_and_nothing_beyond(make_table, kind, day):
    """New York's 1 Nov 2026 is 25 hours long (clocks go back); Q4 starts in summer time and
    ends in winter time: the bounds are the UTC instants of local midnights."""
    period = periods.period_for(kind, day, "America/New_York")
    tick = pd.Timedelta(microseconds=1)
    stamps = [period.start - tick, period.start, period.end - tick, period.end]
    local = [s.tz_convert("America/New_York") for s in stamps[1:3]]
    assert (local[0].date(), local[0].time()) == (period.first_day, dt.time(0))
    assert (local[1].date(), local[1].time()) == (period.last_day, dt.time(23, 59, 59, 999999))
    rows = [
        {"id": f"tw:{i}", "created_at": s.tz_localize(None).isoformat(sep=" ")}
        for i, s in enumerate(stamps)
    ]
    frame = volume_summary(make_table(rows), period.start, period.end, ["day"], period.timezone)
    assert frame["total"].sum() == 2
    assert [d.date() for d in frame["day"]] == sorted({period.first_day, period.last_day})


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_utc_offsets_split_a_span_at_each_change_to_the_microsecond():
    """Lord Howe Island moves its clocks by half an hour, at 15:30 UTC in October."""
    got = utc_offsets("Australia/Lord_Howe", _utc("2026-01-01"), _utc("2027-01-01"))
    hour = 3_600_000_000
    assert got == [
        (microseconds(_utc("2026-01-01")), microseconds(_utc("2026-04-04 15:00")), 11 * hour),
        (
            microseconds(_utc("2026-04-04 15:00")),
            microseconds(_utc("2026-10-03 15:30")),
            hour * 21 // 2,
        ),
        (microseconds(_utc("2026-10-03 15:30")), microseconds(_utc("2027-01-01")), 11 * hour),
    ]
    assert utc_offsets("UTC", _utc("2026-01-01"), _utc("2026-01-01")) == []


@pytest.mark.parametrize(
    ("tz", "change"),
    [("Europe/London", "2026-10-25 01:00"), ("America/New_York", "2026-03-08 07:00"),
     ("Australia/Lord_Howe", "2026-10-03 15:30"), ("Asia/Kolkata", "2026-10-25 01:00")],
)  # fmt: skip
def test_local_clock_in_a_span_is_the_engines_conversion(make_table, tz, change):
    """Around a change of offset, inside the span and outside it (and a null instant)."""
    tick = pd.Timedelta(microseconds=1)
    middle = _utc(change)
    span = (middle - pd.Timedelta(days=2), middle + pd.Timedelta(days=2))
    stamps = [
        span[0] - tick, span[0], middle - tick, middle, middle + pd.Timedelta(hours=5),
        span[1] - tick, span[1], span[1] + pd.Timedelta(days=200),
    ]  # fmt: skip
    rows = [
        {"id": f"tw:{i}", "created_at": s.tz_localize(None).isoformat(sep=" ")}
        for i, s in enumerate(stamps)
    ]
    t = make_table(rows)
    t = t.union(make_table([{"id": "tw:null", "created_at": None}]))
    got = (
        t.select(
            "id", fast=local_clock(t.created_at, tz, span), engine=local_time(tz, t.created_at)
        )
        .order_by("id")
        .execute()
    )
    assert got["fast"].tolist()[:-1] == [s.tz_convert(tz).tz_localize(None) for s in stamps]
    assert got["fast"].equals(got["engine"])
