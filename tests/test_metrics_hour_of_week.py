import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cxpulse.metrics import inbound_by_hour_of_week, sla_by_hour_of_week

START = pd.Timestamp("2024-03-25", tz="UTC")
END = pd.Timestamp("2024-04-08", tz="UTC")
LONDON = "Europe/London"
TARGETS = {"twitter": 3600.0}


def cell(frame: pd.DataFrame, weekday: int, hour: int, **keys) -> pd.Series:
    mask = (frame["weekday"] == weekday) & (frame["hour"] == hour)
    for key, value in keys.items():
        mask &= frame[key] == value
    (row,) = frame[mask].itertuples(index=False)
    return pd.Series(row._asdict())


def test_inbound_lands_in_its_local_hour_of_week_across_dst(make_table):
    rows = [
        {"id": "tw:1", "created_at": "2024-03-25 09:30"},  # Monday 09:30 GMT
        {"id": "tw:2", "created_at": "2024-04-01 08:30"},  # Monday 09:30 BST
        {"id": "ph:1", "created_at": "2024-03-31 22:10", "channel": "phone"},  # Sun 23:10 BST
        {"id": "tw:3", "created_at": "2024-03-26 09:30", "direction": "outbound"},
    ]
    frame = inbound_by_hour_of_week(make_table(rows), START, END, LONDON)
    assert list(frame.columns) == ["weekday", "hour", "inbound"]
    assert len(frame) == 7 * 24
    assert cell(frame, 0, 9)["inbound"] == 2
    assert cell(frame, 6, 23)["inbound"] == 1
    assert frame["inbound"].sum() == 3  # replies are not inbound


def test_inbound_by_hour_of_week_gives_a_full_week_per_group(make_table):
    rows = [
        {"id": "tw:1", "created_at": "2024-03-25 09:30"},
        {"id": "em:1", "created_at": "2024-03-26 14:00", "channel": "email"},
    ]
    frame = inbound_by_hour_of_week(make_table(rows), START, END, LONDON, by=["channel"])
    assert len(frame) == 2 * 7 * 24
    assert cell(frame, 1, 14, channel="email")["inbound"] == 1
    assert cell(frame, 1, 14, channel="twitter")["inbound"] == 0


def test_an_empty_window_is_a_week_of_zeros(make_table):
    frame = inbound_by_hour_of_week(make_table([]), START, END, LONDON)
    assert len(frame) == 168 and frame["inbound"].eq(0).all()


def test_sla_by_hour_of_week_shows_when_we_miss_the_target(make_table):
    rows = [
        {"id": "tw:1", "created_at": "2024-03-29 18:00"},  # Friday 18:00: answered in 2 h
        {"id": "tw:1r", "created_at": "2024-03-29 20:00", "direction": "outbound",
         "parent_id": "tw:1"},
        {"id": "tw:2", "created_at": "2024-03-29 18:30"},  # Friday 18:30: in 10 min
        {"id": "tw:2r", "created_at": "2024-03-29 18:40", "direction": "outbound",
         "parent_id": "tw:2"},
        {"id": "tw:3", "created_at": "2024-03-26 10:00"},  # Tuesday 10:00: never answered
    ]  # fmt: skip
    frame = sla_by_hour_of_week(make_table(rows), START, END, LONDON, TARGETS)
    assert list(frame.columns) == ["weekday", "hour", "due", "met", "sla_attainment"]
    friday = cell(frame, 4, 18)
    assert (friday["due"], friday["met"], friday["sla_attainment"]) == (2, 1, 0.5)
    assert cell(frame, 1, 10)["sla_attainment"] == 0
    quiet = cell(frame, 2, 3)
    assert (quiet["due"], quiet["met"]) == (0, 0) and pd.isna(quiet["sla_attainment"])


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(0, 14 * 24 * 60 - 1), min_size=1, max_size=10))
def test_every_inbound_message_is_in_exactly_one_cell(make_table, minutes):
    rows = [
        {"id": f"tw:{i}", "created_at": START + pd.Timedelta(minutes=m)}
        for i, m in enumerate(minutes)
    ]
    frame = inbound_by_hour_of_week(make_table(rows), START, END, LONDON)
    assert frame["inbound"].sum() == len(minutes)
    sla = sla_by_hour_of_week(make_table(rows), START, END, LONDON, TARGETS)
    assert sla["sla_attainment"].dropna().between(0, 1).all()
