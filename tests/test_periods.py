import datetime as dt

import pandas as pd
import pytest

from cxpulse import periods
from cxpulse.periods import (
    latest_complete,
    period_for,
    previous,
    report_period,
    span,
    to_date,
    trailing,
    year_ago,
)

LONDON = "Europe/London"


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_daily_window_on_spring_dst_day_in_london_is_23_hours():
    day = period_for("daily", dt.date(2024, 3, 31), LONDON)
    assert (day.start, day.end) == (utc("2024-03-31 00:00"), utc("2024-03-31 23:00"))
    assert day.label == "2024-03-31"


def test_daily_window_on_autumn_dst_day_in_london_is_25_hours():
    day = period_for("daily", dt.date(2024, 10, 27), LONDON)
    assert day.end - day.start == pd.Timedelta(hours=25)


def test_day_without_a_midnight_starts_at_its_first_local_time():
    # Chile skips from 00:00 to 01:00 on 8 September 2024.
    day = period_for("daily", dt.date(2024, 9, 8), "America/Santiago")
    assert day.start == utc("2024-09-08 04:00")  # 01:00 -03
    assert day.end - day.start == pd.Timedelta(hours=23)


def test_day_with_two_midnights_starts_at_the_first():
    # Cuba goes back from 01:00 to 00:00 on 3 November 2024.
    day = period_for("daily", dt.date(2024, 11, 3), "America/Havana")
    assert day.start == utc("2024-11-03 04:00")  # 00:00 -04
    assert day.end - day.start == pd.Timedelta(hours=25)


@pytest.mark.parametrize(
    ("day", "label", "monday"),
    [
        (dt.date(2024, 12, 31), "2025-W01", dt.date(2024, 12, 30)),
        (dt.date(2025, 1, 5), "2025-W01", dt.date(2024, 12, 30)),
        (dt.date(2021, 1, 3), "2020-W53", dt.date(2020, 12, 28)),
        (dt.date(2021, 1, 4), "2021-W01", dt.date(2021, 1, 4)),
    ],
)
def test_weekly_label_is_the_iso_week_around_new_year(day, label, monday):
    week = period_for("weekly", day, "UTC")
    assert (week.label, week.first_day, week.days) == (label, monday, 7)


@pytest.mark.parametrize(
    ("day", "label", "first", "last"),
    [
        (dt.date(2024, 3, 31), "2024-Q1", dt.date(2024, 1, 1), dt.date(2024, 3, 31)),
        (dt.date(2024, 4, 1), "2024-Q2", dt.date(2024, 4, 1), dt.date(2024, 6, 30)),
        (dt.date(2024, 12, 31), "2024-Q4", dt.date(2024, 10, 1), dt.date(2024, 12, 31)),
    ],
)
def test_quarter_boundaries(day, label, first, last):
    quarter = period_for("quarterly", day, LONDON)
    assert (quarter.label, quarter.first_day, quarter.last_day) == (label, first, last)


def test_quarter_bounds_are_local_midnights_in_utc():
    q2 = period_for("quarterly", dt.date(2024, 5, 1), LONDON)
    assert (q2.start, q2.end) == (utc("2024-03-31 23:00"), utc("2024-06-30 23:00"))


def test_monthly_period_knows_leap_february():
    month = period_for("monthly", dt.date(2024, 2, 10), "UTC")
    assert (month.label, month.last_day) == ("2024-02", dt.date(2024, 2, 29))


def test_fiscal_quarter_and_year_starting_in_april_are_named_by_their_end_year():
    q1 = period_for("quarterly", dt.date(2024, 4, 1), LONDON, fiscal_year_start_month=4)
    assert (q1.label, q1.first_day, q1.last_day) == (
        "FY2025-Q1",
        dt.date(2024, 4, 1),
        dt.date(2024, 6, 30),
    )
    q4 = period_for("quarterly", dt.date(2024, 3, 31), LONDON, fiscal_year_start_month=4)
    assert (q4.label, q4.first_day) == ("FY2024-Q4", dt.date(2024, 1, 1))
    year = period_for("yearly", dt.date(2024, 12, 25), LONDON, fiscal_year_start_month=4)
    assert (year.label, year.first_day, year.last_day) == (
        "FY2025",
        dt.date(2024, 4, 1),
        dt.date(2025, 3, 31),
    )


def test_previous_and_year_ago_keep_the_fiscal_calendar():
    q1 = period_for("quarterly", dt.date(2024, 5, 1), "UTC", fiscal_year_start_month=4)
    assert previous(q1).label == "FY2024-Q4"
    assert year_ago(q1).label == "FY2024-Q1"


def test_previous_steps_back_whole_periods():
    assert previous(period_for("quarterly", dt.date(2024, 1, 15), "UTC")).label == "2023-Q4"
    assert previous(period_for("weekly", dt.date(2025, 1, 1), "UTC"), 2).label == "2024-W51"
    assert previous(period_for("monthly", dt.date(2024, 3, 31), "UTC")).last_day == dt.date(
        2024, 2, 29
    )


def test_previous_of_a_span_is_as_many_days_just_before():
    week = span(dt.date(2024, 3, 6), dt.date(2024, 3, 12), "UTC")
    before = previous(week)
    assert (before.first_day, before.last_day) == (dt.date(2024, 2, 28), dt.date(2024, 3, 5))


def test_year_ago_of_a_week_is_the_same_iso_week_number():
    assert year_ago(period_for("weekly", dt.date(2021, 1, 4), "UTC")).label == "2020-W01"
    assert year_ago(period_for("weekly", dt.date(2020, 12, 31), "UTC")).label == "2019-W52"


def test_year_ago_of_29_february_is_28_february():
    assert year_ago(period_for("daily", dt.date(2024, 2, 29), "UTC")).label == "2023-02-28"


def test_trailing_days_end_the_day_before_the_period():
    window = trailing(period_for("daily", dt.date(2024, 3, 31), LONDON), 7)
    assert (window.first_day, window.last_day, window.days) == (
        dt.date(2024, 3, 24),
        dt.date(2024, 3, 30),
        7,
    )


def test_last_full_day_is_the_local_day_before_the_latest_data():
    assert periods.last_full_day(utc("2024-03-31 23:30"), LONDON) == dt.date(2024, 3, 31)
    assert periods.last_full_day(utc("2024-03-31 22:30"), LONDON) == dt.date(2024, 3, 30)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="unknown period kind"):
        period_for("fortnightly", dt.date(2024, 1, 1), "UTC")
    with pytest.raises(ValueError, match="fiscal_year_start_month"):
        period_for("yearly", dt.date(2024, 1, 1), "UTC", fiscal_year_start_month=13)
    with pytest.raises(ValueError, match="before it starts"):
        span(dt.date(2024, 1, 2), dt.date(2024, 1, 1), "UTC")


def test_a_period_not_yet_over_is_cut_at_the_as_of_day():
    day = dt.date(2024, 5, 12)
    period = to_date(period_for("quarterly", day, "Europe/London"), day)
    assert (period.first_day, period.last_day) == (dt.date(2024, 4, 1), day)
    assert period.end == pd.Timestamp("2024-05-12T23:00", tz="UTC")
    assert period.label == "2024-Q2"


def test_default_report_period_is_the_latest_complete_one():
    latest = pd.Timestamp("2024-05-15T09:00", tz="UTC")  # a Wednesday
    assert report_period("daily", None, latest, "UTC").label == "2024-05-14"
    assert report_period("weekly", None, latest, "UTC").label == "2024-W19"
    assert report_period("quarterly", None, latest, "UTC").label == "2024-Q1"
    assert latest_complete("weekly", dt.date(2024, 5, 12), "UTC").label == "2024-W19"


def test_an_explicit_as_of_reports_that_period_to_date():
    period = report_period("weekly", dt.date(2024, 5, 15), None, "UTC")
    assert (period.label, period.last_day) == ("2024-W20", dt.date(2024, 5, 15))
    with pytest.raises(ValueError, match="no data"):
        report_period("weekly", None, None, "UTC")


# Every kind of periods.KINDS: boundaries across DST, year ends, ISO week 53 and fiscal years.


def test_every_kind_tiles_the_days_without_gap_or_overlap():
    # Three years of London days, a fiscal year from July: each kind's periods follow one
    # another, each starts at a local midnight, and a period holds every day it covers.
    for kind in periods.KINDS:
        held = periods.spanning(kind, dt.date(2023, 1, 1), dt.date(2025, 12, 31), LONDON, 7)
        for before, after in zip(held, held[1:], strict=False):
            assert after.first_day == before.last_day + dt.timedelta(days=1), kind
            assert after.start == before.end, kind
        for p in held:
            assert period_for(kind, p.last_day, LONDON, 7) == p, kind


def test_month_across_the_spring_dst_change_is_one_hour_short():
    march = period_for("monthly", dt.date(2024, 3, 15), LONDON)
    assert (march.start, march.end) == (utc("2024-03-01 00:00"), utc("2024-03-31 23:00"))
    assert march.end - march.start == pd.Timedelta(days=31) - pd.Timedelta(hours=1)


def test_week_across_the_autumn_dst_change_is_one_hour_long():
    week = period_for("weekly", dt.date(2024, 10, 27), LONDON)  # Sunday of the change
    assert week.end - week.start == pd.Timedelta(days=7, hours=1)


def test_year_ends_at_local_new_year_not_utc():
    year = period_for("yearly", dt.date(2024, 6, 1), "America/New_York")
    assert (year.start, year.end) == (utc("2024-01-01 05:00"), utc("2025-01-01 05:00"))
    assert previous(year).label == "2023"


def test_iso_week_53_and_its_year_ago():
    week = period_for("weekly", dt.date(2026, 12, 31), "UTC")  # 2026 has 53 ISO weeks
    assert (week.label, week.first_day) == ("2026-W53", dt.date(2026, 12, 28))
    assert period_for("weekly", dt.date(2027, 1, 3), "UTC").label == "2026-W53"
    assert year_ago(week).label == "2025-W52"  # 2025 has no week 53
    assert previous(period_for("weekly", dt.date(2027, 1, 4), "UTC")).label == "2026-W53"


def test_half_years_follow_the_fiscal_year():
    h1 = period_for("half-yearly", dt.date(2024, 3, 31), "UTC")
    assert (h1.label, h1.first_day, h1.last_day) == (
        "2024-H1",
        dt.date(2024, 1, 1),
        dt.date(2024, 6, 30),
    )
    h2 = period_for("half-yearly", dt.date(2025, 4, 1), "UTC", fiscal_year_start_month=10)
    assert (h2.label, h2.first_day, h2.last_day) == (
        "FY2025-H2",
        dt.date(2025, 4, 1),
        dt.date(2025, 9, 30),
    )
    assert (previous(h2).label, previous(h2).first_day) == ("FY2025-H1", dt.date(2024, 10, 1))
    assert year_ago(h2).label == "FY2024-H2"


def test_fiscal_year_from_july_crosses_the_calendar_year_end():
    dec = period_for("quarterly", dt.date(2024, 12, 31), LONDON, fiscal_year_start_month=7)
    jan = period_for("quarterly", dt.date(2025, 1, 1), LONDON, fiscal_year_start_month=7)
    assert (dec.label, jan.label) == ("FY2025-Q2", "FY2025-Q3")
    assert report_period("yearly", dt.date(2025, 6, 30), None, LONDON, 7).label == "FY2025"
    latest = utc("2025-07-02 09:00")
    assert report_period("yearly", None, latest, LONDON, 7).label == "FY2025"
    assert report_period("quarterly", None, latest, LONDON, 7).label == "FY2025-Q4"


def test_4_4_5_months_are_whole_weeks_of_a_year_starting_on_the_monday_nearest_new_year():
    # Fiscal 2025 starts Monday 30 December 2024 (nearest 1 January): months of 4, 4 and
    # 5 weeks, each from a Monday.
    months = periods.spanning("4-4-5", dt.date(2024, 12, 30), dt.date(2025, 3, 30), "UTC")
    assert [(m.label, m.first_day, m.days) for m in months] == [
        ("2025-P01", dt.date(2024, 12, 30), 28),
        ("2025-P02", dt.date(2025, 1, 27), 28),
        ("2025-P03", dt.date(2025, 2, 24), 35),
    ]
    assert period_for("4-5-4", dt.date(2025, 3, 1), "UTC").days == 35  # second month of five


def test_4_4_5_53_week_year_gives_the_extra_week_to_its_last_month():
    # Fiscal 2026 runs from 29 Dec 2025 to 3 Jan 2027 (the next starts 4 Jan 2027): 53 weeks.
    last = period_for("4-4-5", dt.date(2027, 1, 3), "UTC")
    assert (last.label, last.first_day, last.last_day, last.days) == (
        "2026-P12",
        dt.date(2026, 11, 23),
        dt.date(2027, 1, 3),
        42,
    )
    assert period_for("4-4-5", dt.date(2027, 1, 4), "UTC").label == "2027-P01"
    assert year_ago(last).label == "2025-P12"
    assert year_ago(last).days == 35


def test_4_4_5_fiscal_year_from_april_is_named_by_the_year_it_ends_in():
    first = period_for("4-4-5", dt.date(2025, 4, 1), LONDON, fiscal_year_start_month=4)
    assert (first.label, first.first_day) == ("FY2026-P01", dt.date(2025, 3, 31))
    assert year_ago(first).first_day == dt.date(2024, 4, 1)  # Monday nearest 1 April 2024
    assert first.start == utc("2025-03-30 23:00")  # London is on summer time by then
