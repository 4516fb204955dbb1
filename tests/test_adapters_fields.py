"""Pure value parsing shared by the adapters."""

import pandas as pd
import pytest

from cxpulse.adapters.fields import (
    add_reason,
    no_reasons,
    parse_seconds,
    parse_timestamps,
    parse_whole_numbers,
    thread_roots,
)


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_timestamps_with_offsets_become_utc_and_naive_ones_use_the_source_zone():
    values = pd.Series(
        ["2024-07-01T12:00:00Z", "2024-07-01T12:00:00+0200", "2024-07-01 12:00", "", "soon"]
    )
    got = parse_timestamps(values, "Europe/London").tolist()
    assert got[:3] == [utc("2024-07-01 12:00"), utc("2024-07-01 10:00"), utc("2024-07-01 11:00")]
    assert pd.isna(got[3]) and pd.isna(got[4])


def test_timestamps_try_the_formats_given_before_iso():
    values = pd.Series(["Tue Oct 31 22:10:47 +0000 2017", "2017-10-31T22:10:47Z"])
    got = parse_timestamps(values, "UTC", ("%a %b %d %H:%M:%S %z %Y",))
    assert got.tolist() == [utc("2017-10-31 22:10:47")] * 2


def test_each_timestamp_stays_on_its_own_row_when_labels_have_gaps():
    values = pd.Series(
        ["Wed Nov 01 01:00:00 +0000 2017", "", "Wed Nov 01 03:00:00 +0000 2017", "x"],
        index=[0, 2, 3, 4],  # a record before was set aside; another has no time
    )
    got = parse_timestamps(values, "UTC", ("%a %b %d %H:%M:%S %z %Y",))
    assert got.index.tolist() == [0, 2, 3, 4]
    assert got[[0, 3]].tolist() == [utc("2017-11-01 01:00"), utc("2017-11-01 03:00")]
    assert got[[2, 4]].isna().all()


def test_wall_times_around_summer_time_changes_are_read_without_error():
    values = pd.Series(["2024-03-31 01:30", "2024-10-27 01:30"])
    got = parse_timestamps(values, "Europe/London").tolist()
    # 01:30 did not exist on 31 March (moved forward); it happened twice on 27 October
    # (the first, summer-time one is meant).
    assert got == [utc("2024-03-31 01:00"), utc("2024-10-27 00:30")]


def test_the_machine_time_zone_is_never_used(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Pacific/Chatham")
    time.tzset()
    try:
        assert parse_timestamps(pd.Series(["2024-01-01 00:00"]), "UTC")[0] == utc("2024-01-01")
    finally:
        monkeypatch.undo()
        time.tzset()


def test_whole_numbers_accept_float_spelling_and_flag_the_rest():
    values, bad = parse_whole_numbers(
        pd.Series(["3", "3.0", " 12 ", "", "2.5", "x", "1234567890123456789"])
    )
    assert values.tolist()[:3] == [3, 3, 12]
    assert values.tolist()[6] == 1234567890123456789
    assert bad.tolist() == [False, False, False, False, True, True, False]


def test_seconds_accept_numbers_and_clock_strings():
    values, bad = parse_seconds(pd.Series(["95", "1:35", "0:01:35", "-5", "", "later"]))
    assert values.tolist()[:4] == [95, 95, 95, -5]
    assert bad.tolist() == [False, False, False, False, False, True]


def test_thread_roots_follow_parents_and_name_a_missing_parent():
    ids = pd.Series(["1", "2", "3", "4", "5"])
    parents = pd.Series([pd.NA, "1", "2", "99", pd.NA], dtype="string")
    assert thread_roots(ids, parents).tolist() == ["1", "1", "1", "99", "5"]


def test_thread_roots_of_whole_number_ids_stay_whole_numbers():
    ids = pd.Series([1, 2, None, 4], dtype="Int64")
    parents = pd.Series([None, 1, 2, 99], dtype="Int64")
    got = thread_roots(ids, parents)
    assert got.dtype == "Int64" and got.tolist() == [1, 1, 1, 99]


def test_thread_roots_survive_a_reply_loop():
    got = thread_roots(pd.Series(["1", "2"]), pd.Series(["2", "1"]))
    assert set(got) <= {"1", "2"}


def test_reasons_accumulate_per_row():
    reasons = no_reasons(pd.RangeIndex(3))
    reasons = add_reason(reasons, pd.Series([True, False, True]), "a")
    reasons = add_reason(reasons, pd.Series([True, False, False]), "b")
    assert reasons.fillna("-").tolist() == ["a; b", "-", "a"]


@pytest.mark.parametrize("value", ["9999-12-31T00:00:00Z"])
def test_far_future_timestamps_parse_so_the_schema_can_call_them_future(value):
    assert parse_timestamps(pd.Series([value]), "UTC")[0].year == 9999
