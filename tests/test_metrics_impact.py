import math

import pandas as pd
from conftest import probabilities

from cxpulse.config import BrandParams, SentimentParams
from cxpulse.metrics import churn_by_care

BRAND = BrandParams(brand="Northwind", sla_targets_s={"twitter": 3600})
START = pd.Timestamp("2024-03-01", tz="UTC")
END = pd.Timestamp("2024-04-01", tz="UTC")


def customers(*rows: tuple[str, str, float, str | None]) -> pd.DataFrame:
    columns = ["customer_id", "author_id", "plan_value_month", "churned_at"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["churned_at"] = pd.to_datetime(frame["churned_at"], utc=True)
    return frame.astype({"customer_id": "string", "author_id": "string"})


def complaint(id_: str, author: str, reply_after_min: float | None, **extra) -> list[dict]:
    asked = pd.Timestamp("2024-03-10 09:00", tz="UTC")
    rows = [{"id": id_, "author_id": author, "created_at": asked, "sentiment": -0.7, **extra}]
    if reply_after_min is not None:
        rows.append(
            {
                "id": f"{id_}r",
                "direction": "outbound",
                "parent_id": id_,
                "created_at": asked + pd.Timedelta(minutes=reply_after_min),
            }
        )
    return rows


PEOPLE = customers(
    ("C1", "cust-1", 30.0, "2024-03-20"),  # unanswered, left
    ("C2", "cust-2", 20.0, None),  # answered after 2 h: late, stayed
    ("C2", "cust-2b", 20.0, None),
    ("C3", "cust-3", 10.0, None),  # answered in 10 min
    ("C4", "cust-4", 50.0, "2024-03-25"),  # no complaint, left
    ("C5", "cust-5", 40.0, None),  # no complaint
    ("C6", "cust-6", 99.0, "2024-01-01"),  # had left before the window: not counted
)
ROWS = [
    *complaint("tw:1", "cust-1", None),
    *complaint("tw:2", "cust-2b", 120),
    *complaint("tw:3", "cust-3", 10),
    *complaint("tw:4", "cust-5", 5, sentiment=0.4),  # not a complaint
    *complaint("tw:5", "cust-4", 5, brand="Contoso"),  # to a competitor
]


def test_churn_and_revenue_at_risk_by_how_complaints_were_handled(make_table):
    frame = churn_by_care(make_table(ROWS), PEOPLE, START, END, BRAND)
    assert list(frame.columns) == [
        "care", "customers", "churned", "churn_rate", "revenue_at_risk"
    ]  # fmt: skip
    got = frame.set_index("care")
    assert got["customers"].to_dict() == {"failed": 2, "in_time": 1, "no_complaint": 2}
    assert got["churned"].to_dict() == {"failed": 1, "in_time": 0, "no_complaint": 1}
    assert got.loc["failed", "churn_rate"] == 0.5
    assert got.loc["failed", "revenue_at_risk"] == 20  # C2 still pays 20 a month
    assert got.loc["no_complaint", "revenue_at_risk"] == 40


def test_one_failed_complaint_makes_the_customer_failed(make_table):
    rows = [*complaint("tw:1", "cust-3", 10), *complaint("tw:2", "cust-3", None)]
    got = churn_by_care(make_table(rows), PEOPLE, START, END, BRAND).set_index("care")
    assert got.loc["failed", "customers"] == 1 and got.loc["in_time", "customers"] == 0
    assert math.isnan(got.loc["in_time", "churn_rate"])


def test_a_complaint_is_a_message_whose_negative_probability_reaches_the_threshold(make_table):
    rows = complaint("tw:1", "cust-1", None, **probabilities(0.6, 0.3, 0.1))
    got = churn_by_care(make_table(rows), PEOPLE, START, END, BRAND).set_index("care")
    assert got.loc["failed", "customers"] == 1
    strict = BRAND.model_copy(update={"sentiment": SentimentParams(negative_probability=0.7)})
    got = churn_by_care(make_table(rows), PEOPLE, START, END, strict).set_index("care")
    assert got.loc["failed", "customers"] == 0 and got.loc["no_complaint", "customers"] == 5


def test_churn_after_until_is_not_counted_yet(make_table):
    until = pd.Timestamp("2024-03-15", tz="UTC")
    frame = churn_by_care(make_table(ROWS), PEOPLE, START, END, BRAND, until=until)
    assert frame["churned"].sum() == 0


def test_no_customers_gives_empty_groups(make_table):
    frame = churn_by_care(make_table(ROWS), customers(), START, END, BRAND)
    assert frame["care"].tolist() == ["failed", "in_time", "no_complaint"]
    assert frame[["customers", "churned", "revenue_at_risk"]].eq(0).all().all()
