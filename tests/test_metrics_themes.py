"""Theme figures in the warehouse, on a hand-made table and a hand-made fit."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from conftest import probabilities

from cxpulse import periods, themes
from cxpulse.metrics import themes as tm

WEEK = periods.period_for("weekly", dt.date(2026, 3, 11), "UTC")  # Mon 9 - Sun 15 March
BEFORE = periods.previous(WEEK)
NEG = probabilities(0.9, 0.05, 0.05)
POS = probabilities(0.1, 0.1, 0.8)

MODEL = themes.ThemeModel(
    brand="Northwind",
    scope="negative",
    first_day="2025-12-01",
    last_day="2026-03-08",
    messages=100,
    vocabulary={"refund": 1.0, "received": 1.0, "flight": 1.0, "cancelled": 1.0},
    themes=(
        themes.Theme("T1", "refund not received", ("refund",), {"refund": 0.8, "received": 0.6},
                     "2025-12-31"),
        themes.Theme("T2", "cancelled flight", ("flight",), {"flight": 0.8, "cancelled": 0.6},
                     "2026-03-08"),
    ),
    next_id=3,
)  # fmt: skip


def row(i: str, day: str, text: str, p=NEG, **kw) -> dict:
    return {"id": f"twitter:{i}", "created_at": f"2026-03-{day} 10:00", "text": text, **p, **kw}


@pytest.fixture(scope="module")
def table(make_table):
    return make_table(
        [
            row("1", "09", "@Northwind refund not received"),
            row("2", "10", "still no refund received!", channel="email"),
            row("3", "11", "Refund not received, <b>again</b>"),
            {"id": "twitter:r3", "created_at": "2026-03-11 12:00", "direction": "outbound",
             "parent_id": "twitter:3", "text": "Sorry"},
            {"id": "twitter:r1", "created_at": "2026-03-09 11:00", "direction": "outbound",
             "parent_id": "twitter:1", "text": "Sorry"},
            row("4", "12", "my flight was cancelled"),
            row("5", "13", "cancelled flight again"),
            row("6", "14", "lovely weather today, grr"),
            row("7", "03", "refund not received"),  # the week before
            row("8", "12", "refund received, thanks", POS),  # not negative
            row("9", "12", "refund not received", brand="Contoso"),  # another brand
        ]
    )  # fmt: skip


def summary(table, **kw) -> pd.DataFrame:
    frame = tm.theme_summary(table, MODEL, WEEK, BEFORE, "Northwind", min_count=2, **kw)
    return frame.set_index("theme_id")


def test_each_theme_counts_its_negative_messages_against_the_week_before(table):
    s = summary(table)
    assert list(s.index) == ["T1", "T2", "other"]  # by messages, other last
    assert s.loc["T1", ["messages", "previous"]].tolist() == [3, 1]
    assert s.loc["T1", "change"] == pytest.approx(3.0)
    assert s.loc["T1", "share"] == pytest.approx(3 / 6)
    assert s.loc["other", "messages"] == 1


def test_a_theme_first_seen_since_the_comparison_is_new_and_a_tripled_one_rising(table):
    s = summary(table)
    assert s.loc["T2", "status"] == "new" and pd.isna(s.loc["T2", "change"])
    assert s.loc["T1", "status"] == "rising"
    assert s.loc["other", "status"] == ""


def test_theme_channels_first_response_and_sentiment(table):
    s = summary(table)
    assert s.loc["T1", "channels"] == "twitter 67%, email 33%"
    assert s.loc["T1", "frt_median_s"] == pytest.approx(5400.0)  # 1 h and 2 h; email unanswered
    assert s.loc["T1", "net_sentiment"] == pytest.approx((0.05 - 0.9) / 0.95 * 100)
    assert pd.isna(s.loc["T2", "frt_median_s"])


def test_examples_are_the_theme_messages_with_their_ids(table):
    s = summary(table)
    assert sorted(s.loc["T1", "example_ids"]) == ["twitter:1", "twitter:2", "twitter:3"]
    assert "Refund not received, <b>again</b>" in s.loc["T1", "example_texts"]
    assert s.loc["other", "example_ids"] == ["twitter:6"]


def test_inbound_scope_counts_every_inbound_message(table):
    s = summary(table, scope="inbound")
    assert s.loc["T1", "messages"] == 4  # with the positive one


def test_pinned_and_named_themes_come_from_the_taxonomy(table):
    taxonomy = themes.Taxonomy(
        pinned=(themes.PinnedTheme("Weather", ("weather",)),), names={"T2": "Flights"}
    )
    s = summary(table, taxonomy=taxonomy)
    assert s.loc["pin-weather", ["label", "messages"]].tolist() == ["Weather", 1]
    assert s.loc["T2", "label"] == "Flights"
    assert "other" not in s.index


def test_members_list_every_message_of_each_theme(table):
    members = tm.theme_members(table, MODEL, WEEK.start, WEEK.end, "Northwind").execute()
    assert members[["theme_id", "id"]].equals(
        members.sort_values(["theme_id", "id"], ignore_index=True)[["theme_id", "id"]]
    )  # by theme, then id: the engine sorts them
    got = members.groupby("theme_id")["id"].apply(list).to_dict()
    assert got == {
        "T1": ["twitter:1", "twitter:2", "twitter:3"],
        "T2": ["twitter:4", "twitter:5"],
        "other": ["twitter:6"],
    }
    assert set(members["label"]) == {"refund not received", "cancelled flight", "other"}


def test_trend_counts_each_theme_per_week(table):
    trend = tm.theme_trend(table, MODEL, BEFORE.start, WEEK.end, "Northwind", "week", "UTC")
    t1 = trend[trend["theme_id"] == "T1"].set_index("week")["messages"].to_dict()
    assert t1 == {"2026-W10": 1, "2026-W11": 3}
