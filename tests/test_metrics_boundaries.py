from pathlib import Path

import pandas as pd
import pytest

from cxpulse import config, periods
from cxpulse.customers import load_opt_out
from cxpulse.metrics import open_table, opt_out_breaches

START = pd.Timestamp("2024-03-01", tz="UTC")
END = pd.Timestamp("2024-04-01", tz="UTC")


def opted(*pairs: tuple[str, str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "author_id": pd.array([a for a, _ in pairs], dtype="string"),
            "opted_out_at": pd.to_datetime([w for _, w in pairs], utc=True),
        }
    )


def message(id_: str, author: str, at: str, parent: str | None = None, **extra) -> dict:
    return {
        "id": id_,
        "author_id": author,
        "created_at": at,
        "parent_id": parent,
        "thread_id": extra.pop("thread", parent or id_),
        "text": f"text of {id_}",
        **extra,
    }


def reply(id_: str, parent: str, at: str, **extra) -> dict:
    return message(id_, "northwind-care", at, parent, direction="outbound", **extra)


ROWS = [
    message("tw:1", "cust-1", "2024-03-02 09:00"),
    reply("tw:2", "tw:1", "2024-03-02 10:00"),  # to cust-1, opted out for good: breach
    message("tw:3", "cust-2", "2024-03-05 09:00"),
    reply("tw:4", "tw:3", "2024-03-05 10:00"),  # to cust-2 before the opt-out: fine
    reply("tw:5", "tw:4", "2024-03-20 10:00", thread="tw:3"),  # after it, in the thread
    message("tw:6", "cust-3", "2024-03-06 09:00"),
    reply("tw:7", "tw:6", "2024-03-06 10:00"),  # cust-3 is not on the list
    {**reply("tw:8", "tw:1", "2024-03-02 11:00"), "brand": "Contoso"},  # not our message
]
LIST = opted(("cust-1", None), ("cust-2", "2024-03-10"))


def test_replies_to_opted_out_customers_after_their_opt_out_are_breaches(make_table):
    frame = opt_out_breaches(make_table(ROWS), START, END, "Northwind", LIST)
    assert list(frame.columns) == ["id", "channel", "created_at", "author_id", "text"]
    assert frame[["id", "author_id"]].values.tolist() == [["tw:2", "cust-1"], ["tw:5", "cust-2"]]
    assert frame["text"].iloc[0] == "text of tw:2"


def test_a_reply_to_the_thread_starter_is_listed_once(make_table):
    frame = opt_out_breaches(make_table(ROWS[:2]), START, END, "Northwind", LIST)
    assert frame["id"].tolist() == ["tw:2"]  # parent and thread starter are the same


def test_window_selects_the_outbound_message_by_its_own_time(make_table):
    late = pd.Timestamp("2024-03-02 10:00", tz="UTC")
    frame = opt_out_breaches(make_table(ROWS), late, END, "Northwind", LIST)
    assert frame["id"].tolist() == ["tw:2", "tw:5"]
    frame = opt_out_breaches(make_table(ROWS), START, late, "Northwind", LIST)
    assert frame.empty


@pytest.mark.parametrize("listed", [opted(), opted(("cust-9", None))])
def test_no_breach_when_nobody_on_the_list_was_written_to(make_table, listed):
    assert opt_out_breaches(make_table(ROWS), START, END, "Northwind", listed).empty


def test_the_demo_quarter_shows_a_few_breaches_of_the_params_opt_out_list(demo_warehouse):
    params = Path(__file__).resolve().parents[1] / "params"
    brand = config.load_brand(params)
    t = open_table(demo_warehouse)
    quarter = periods.report_period("quarterly", None, t.created_at.max().execute(), brand.timezone)
    listed = load_opt_out(params, brand)
    frame = opt_out_breaches(t, quarter.start, quarter.end, brand.brand, listed)
    assert 3 <= len(frame) <= 6
    assert set(frame["author_id"]) <= set(listed["author_id"])
