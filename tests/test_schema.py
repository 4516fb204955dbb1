"""The canonical schema: columns and dtypes, and the rules that send rows to quarantine."""

import pandas as pd
import pytest

from cxpulse import schema

NOW = pd.Timestamp("2024-06-01", tz="UTC")


def rows(**columns) -> pd.DataFrame:
    base = {
        "id": ["twitter:1", "twitter:2", "twitter:3"],
        "channel": "twitter",
        "brand": "Northwind",
        "direction": "inbound",
        "created_at": pd.Timestamp("2024-05-01", tz="UTC"),
    }
    return pd.DataFrame({**base, **columns}, index=[10, 11, 12])


def test_conform_adds_missing_columns_as_typed_nulls_and_keeps_the_index():
    got = schema.conform(rows())
    assert list(got.columns) == list(schema.COLUMNS) and got.index.tolist() == [10, 11, 12]
    assert got.dtypes.drop("created_at").equals(schema.empty_frame().dtypes.drop("created_at"))
    assert got["text"].isna().all() and got["rating"].isna().all()


def test_validate_gives_each_bad_row_every_rule_it_breaks():
    frame = rows(id=["twitter:1", "twitter:2", None], rating=[5, 9, 5], likes=[0, -1, 0])
    checked = schema.validate(frame, now=NOW)
    assert checked.good.index.tolist() == [10]
    assert checked.bad["reason"].to_dict() == {
        11: "rating must be 1 to 5; likes must not be negative",
        12: "id is missing",
    }


def test_validate_rejects_every_row_of_an_id_given_twice():
    frame = rows(
        id=["twitter:1", "twitter:1", "twitter:3"], created_at=pd.Timestamp("2030-01-01", tz="UTC")
    )
    reasons = schema.validate(frame, now=NOW).bad["reason"].to_dict()
    assert reasons == {
        10: "created_at is in the future; id occurs more than once in this file",
        11: "created_at is in the future; id occurs more than once in this file",
        12: "created_at is in the future",
    }


def test_suspects_are_the_rows_pandera_rejects():
    """Every rule broken by one row (and a row breaking none): the fast pre-check flags
    exactly the rows the full pandera validation fails, so only those need its reasons."""
    import pandera.errors

    broken = {
        "id": "x",
        "channel": "fax",
        "brand": "",
        "direction": "sideways",
        "created_at": pd.Timestamp("1980-01-01", tz="UTC"),
        "text": "a" * (schema.MAX_TEXT_CHARS + 1),
        "rating": 0,
        "nps": 11,
        "csat": 6,
        "rated_channel": "fax",
        "reach": -1,
        "wait_s": -0.5,
        "outcome": "lost",
        "sentiment": 1.5,
        "p_neutral": -0.1,
    }
    good = {"id": "twitter:0", "channel": "twitter", "brand": "Northwind", "direction": "inbound"}
    records = [{**good, "created_at": NOW, "text": "fine", "rating": 3}]
    records += [{**good, "created_at": NOW, column: value} for column, value in broken.items()]
    records.append({**good, "id": None, "created_at": pd.NaT})
    frame = schema.conform(pd.DataFrame(records, index=range(100, 100 + len(records))))
    rules = schema._rules(NOW, schema.DEFAULT_FLOOR)
    try:
        rules.validate(frame, lazy=True)
        failed = set()
    except pandera.errors.SchemaErrors as err:
        failed = set(err.failure_cases["index"].dropna().astype(int))
    assert set(frame.index[schema.suspects(frame, rules)]) == failed
    assert failed == set(range(101, 100 + len(records)))


@pytest.mark.parametrize("sql_type", sorted(set(schema.COLUMNS.values())))
def test_nulls_are_what_pandas_makes_of_none_in_the_canonical_dtype(sql_type):
    dtype = schema.as_type(pd.Series([], dtype=object), sql_type).dtype
    expected = pd.Series(None, index=range(3), dtype=dtype)
    pd.testing.assert_series_equal(pd.Series(schema.nulls(sql_type, 3)), expected)
