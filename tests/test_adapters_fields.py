"""Pure value parsing shared by the adapters."""

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxpulse.adapters.fields import (
    add_reason,
    as_text,
    clean_text,
    empty_as_null,
    no_reasons,
    parse_seconds,
    parse_timestamps,
    parse_whole_numbers,
    plain_utc_times,
    plain_whole_numbers,
    thread_roots,
    utf8_bytes,
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


def stripped_reference(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return text.mask(text == "")


@pytest.mark.parametrize(
    "values",
    [
        pd.Series([" a ", "", None, "  ", "\u3000x\u3000", "b"], index=[3, 5, 7, 9, 11, 13]),
        pd.Series(["", " ", "c", ""], dtype="string").iloc[1:],  # a slice
        pd.concat([pd.Series([" a", ""], dtype="string")] * 2),  # two Arrow chunks
        pd.Series([], dtype="string"),
        pd.Series([1.0, None]),
    ],
)
def test_clean_text_strips_and_makes_blanks_na_as_str_strip_does(values):
    pd.testing.assert_series_equal(clean_text(values), stripped_reference(values))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=6)), max_size=12))
def test_clean_text_agrees_with_str_strip_on_any_text(strings):
    values = pd.Series(strings, dtype="string")
    pd.testing.assert_series_equal(clean_text(values), stripped_reference(values))


def test_empty_as_null_nulls_the_empty_strings_only_also_in_a_slice():
    strings = pa.array(["", "a", None, " ", ""])
    assert empty_as_null(strings).to_pylist() == [None, "a", None, " ", None]
    assert empty_as_null(strings[1:]).to_pylist() == ["a", None, " ", None]


def test_utf8_bytes_give_each_string_s_start_and_length_in_bytes():
    for strings in (
        pa.array(["a", "é", None, "", "bc"]),
        pa.chunked_array([["a", "é"], [None, "", "bc"]]),
    ):
        starts, sizes, data = utf8_bytes(strings)
        assert sizes.tolist() == [1, 2, 0, 0, 2]
        got = [bytes(data[a : a + n]).decode() for a, n in zip(starts, sizes, strict=True)]
        assert got == ["a", "é", "", "", "bc"]
    starts, sizes, data = utf8_bytes(pa.array(["xx", "yé"], type=pa.large_string())[1:])
    assert bytes(data[starts[0] : starts[0] + sizes[0]]).decode() == "yé"


def test_plain_whole_numbers_read_the_usual_forms_at_once():
    values = pd.Series([" 3", "-4", "5.0", None, "123456789012345678", "123456789012345.0"])
    got = plain_whole_numbers(clean_text(values))
    assert got.tolist() == [3, -4, 5, pd.NA, 123456789012345678, 123456789012345]
    assert str(got.dtype) == "Int64"
    numbers, bad = parse_whole_numbers(values)
    assert numbers.tolist() == got.tolist() and not bad.any()


@pytest.mark.parametrize(
    "value", ["+3", "3.5", "3.00", "1234567890123456789", "1234567890123456.0", "x", "٣", ".0"]
)
def test_plain_whole_numbers_leave_other_forms_to_the_general_path(value):
    assert plain_whole_numbers(clean_text(pd.Series(["1", value]))) is None


def test_plain_utc_times_read_the_usual_form_as_pandas_does():
    values = pd.Series(
        ["2026-02-18T06:00:36.000Z", "1999-12-31T23:59:59.5Z", "2024-02-29T00:00:00Z", None]
        + ["2026-02-18T06:00:36+02:00", "2026-02-18 06:00:36Z", "1800-01-01T00:00:00Z", "x"],
        index=range(10, 18),
    )
    got = plain_utc_times(clean_text(values))
    expected = pd.to_datetime(values[:3], format="ISO8601", utc=True).astype("datetime64[us, UTC]")
    pd.testing.assert_series_equal(got[:3], expected)
    assert got[3:].isna().all()  # the general path reads these
    assert parse_timestamps(values, "UTC").notna().tolist() == [True] * 3 + [False] + [True] * 3 + [
        False
    ]


def test_a_day_that_does_not_exist_leaves_every_time_to_the_general_path():
    values = pd.Series(["2026-02-30T00:00:00Z", "2026-02-18T06:00:36Z"])
    assert plain_utc_times(values).isna().all()
    assert parse_timestamps(values, "UTC").tolist() == [pd.NaT, utc("2026-02-18 06:00:36")]


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["b", None, "a", "b"], dtype="category", index=[4, 5, 6, 7], name="x"),
        pd.Series([None, None], dtype="category"),
        pd.Series([3, None, 5], dtype="Int64").astype("category"),
        pd.Series(pd.Categorical(["x", "y"], categories=["y", "x", "z"])),
        pd.Series([1, None], dtype="Int64"),
    ],
)
def test_as_text_is_astype_string(values):
    pd.testing.assert_series_equal(as_text(values), values.astype("string"))
