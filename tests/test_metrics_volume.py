import pandas as pd

from cxpulse.metrics import volume_summary

START = pd.Timestamp("2024-03-04", tz="UTC")
END = pd.Timestamp("2024-03-05", tz="UTC")


def test_volume_counts_every_channel_by_direction(make_table):
    rows = [
        {"id": "tw:1", "created_at": "2024-03-04 09:00"},
        {"id": "tw:2", "created_at": "2024-03-04 09:05", "direction": "outbound"},
        {"id": "tw:3", "created_at": "2024-03-04 10:00", "direction": "mention"},
        {"id": "ph:1", "created_at": "2024-03-04 11:00", "channel": "phone"},
        {"id": "rv:1", "created_at": "2024-03-04 12:00", "channel": "review", "rating": 5},
        {"id": "tw:4", "created_at": "2024-03-05 00:00"},  # next window
    ]
    got = volume_summary(make_table(rows), START, END).iloc[0].to_dict()
    assert got == {"inbound": 3, "outbound": 1, "mentions": 1, "total": 5}


def test_volume_by_channel_lists_only_channels_with_rows(make_table):
    rows = [
        {"id": "tw:1", "created_at": "2024-03-04 09:00"},
        {"id": "ph:1", "created_at": "2024-03-04 11:00", "channel": "phone"},
        {"id": "ph:2", "created_at": "2024-03-04 11:00", "channel": "phone"},
    ]
    frame = volume_summary(make_table(rows), START, END, by=["channel"])
    assert frame[["channel", "inbound", "total"]].values.tolist() == [
        ["phone", 2, 2],
        ["twitter", 1, 1],
    ]


def test_empty_window_gives_zero_volume(make_table):
    got = volume_summary(make_table([]), START, END).iloc[0].to_dict()
    assert got == {"inbound": 0, "outbound": 0, "mentions": 0, "total": 0}
