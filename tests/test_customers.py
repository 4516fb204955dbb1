import pandas as pd
import pytest

from cxpulse.config import BrandParams, ParamsError
from cxpulse.customers import load_customers, load_opt_out, parse_local_time

BRAND = BrandParams(brand="Northwind", timezone="Europe/London", opt_out_file="opt_out.csv")


def load(tmp_path, text: str, brand: BrandParams = BRAND) -> pd.DataFrame:
    (tmp_path / "opt_out.csv").write_text(text, encoding="utf-8")
    return load_opt_out(tmp_path, brand)


def test_dates_are_local_midnights_and_empty_means_for_good(tmp_path):
    frame = load(tmp_path, "author_id,opted_out_at\ncust-1,2024-07-01\ncust-2,\n")
    assert frame["author_id"].tolist() == ["cust-1", "cust-2"]
    assert frame["opted_out_at"].iloc[0] == pd.Timestamp("2024-06-30 23:00", tz="UTC")  # BST
    assert pd.isna(frame["opted_out_at"].iloc[1])
    assert str(frame["opted_out_at"].dtype).endswith("UTC]")


def test_the_opted_out_at_column_is_optional(tmp_path):
    frame = load(tmp_path, "author_id\ncust-1\n")
    assert frame["opted_out_at"].isna().all()


def test_a_header_only_file_is_an_empty_list(tmp_path):
    assert load(tmp_path, "author_id,opted_out_at\n").empty


def test_no_file_configured_is_an_empty_list(tmp_path):
    assert load_opt_out(tmp_path, BrandParams(brand="Northwind")).empty


def test_times_with_and_without_offset():
    assert parse_local_time("2024-01-15T10:30", "Europe/London") == pd.Timestamp(
        "2024-01-15 10:30", tz="UTC"
    )
    assert parse_local_time("2024-07-15T10:30+02:00", "Europe/London") == pd.Timestamp(
        "2024-07-15 08:30", tz="UTC"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id\ncust-1\n", r"opt_out.csv: line 1: expected a header.*missing author_id"),
        ("", r"opt_out.csv: line 1: expected a header.*missing author_id"),
        (
            "author_id,opted_out_at\ncust-1,\n,2024-01-01\n",
            r"opt_out.csv: line 3: author_id is empty",
        ),
        (
            "author_id,opted_out_at\ncust-1,last week\n",
            r"line 2: opted_out_at: expected YYYY-MM-DD",
        ),
    ],
)
def test_mistakes_name_the_file_and_the_line(tmp_path, text, message):
    with pytest.raises(ParamsError, match=message):
        load(tmp_path, text)


def test_a_missing_file_says_where_it_was_looked_for(tmp_path):
    with pytest.raises(ParamsError, match=r"opt_out.csv: file not found"):
        load_opt_out(tmp_path, BRAND)


CUSTOMERS = """\
customer_id,author_ids,plan_value_month,churned_at
C1,cust-1; sha256:ab12,30.5,
C2,cust-2,20,2024-07-01
"""


def write_customers(tmp_path, text: str):
    path = tmp_path / "customers.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_customer_file_has_one_row_per_author_id(tmp_path):
    frame = load_customers(write_customers(tmp_path, CUSTOMERS), "Europe/London")
    assert list(frame.columns) == ["customer_id", "author_id", "plan_value_month", "churned_at"]
    assert frame[["customer_id", "author_id", "plan_value_month"]].values.tolist() == [
        ["C1", "cust-1", 30.5],
        ["C1", "sha256:ab12", 30.5],
        ["C2", "cust-2", 20.0],
    ]
    assert pd.isna(frame["churned_at"].iloc[0])
    assert frame["churned_at"].iloc[2] == pd.Timestamp("2024-06-30 23:00", tz="UTC")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("C1,cust-9,10,", r"line 4: customer_id 'C1' is empty or listed before"),
        ("C3,cust-2,10,", r"line 4: author id 'cust-2' already belongs to 'C2'"),
        ("C3,cust-3,ten,", r"line 4: plan_value_month: expected a number >= 0, got 'ten'"),
        ("C3,cust-3,-5,", r"line 4: plan_value_month"),
        ("C3, ; ,5,", r"line 4: author_ids is empty"),
        ("C3,cust-3,5,soon", r"line 4: churned_at: expected YYYY-MM-DD"),
    ],
)
def test_customer_file_mistakes_name_the_line(tmp_path, row, message):
    with pytest.raises(ParamsError, match=message):
        load_customers(write_customers(tmp_path, CUSTOMERS + row + "\n"), "UTC")
