import datetime as dt
import math

import pandas as pd
import pytest
from conftest import probabilities
from hypothesis import given, settings
from hypothesis import strategies as st

from cxpulse import periods
from cxpulse.metrics import phrases, rising_issues, top_issues
from cxpulse.metrics.issues import phrase_counts, without_subsumed

TZ = "UTC"
MARCH = periods.span(dt.date(2024, 3, 1), dt.date(2024, 3, 31), TZ)
FEBRUARY = periods.span(dt.date(2024, 2, 1), dt.date(2024, 2, 29), TZ)  # 29 days


def negative(id_: str, day: str, text: str, **extra) -> dict:
    return {"id": id_, "created_at": f"{day} 12:00", "text": text, "sentiment": -0.6, **extra}


def test_phrases_are_words_and_neighbour_pairs_without_noise():
    text = (
        "@NorthwindCare Hi, my router keeps dropping since 7am!! "
        "See https://t.co/x1 - 3rd time, 30 quid wasted"
    )
    assert phrases(text) == {
        "router",
        "keeps",
        "dropping",
        "router keeps",
        "keeps dropping",
        "quid",
        "wasted",
        "quid wasted",
    }


def test_phrases_drop_the_brand_name_and_never_pair_across_punctuation():
    got = phrases("Northwind Mobile broadband down. Router dead", brand="Northwind Mobile")
    assert got == {"broadband", "down", "broadband down", "router", "dead", "router dead"}


def test_top_issues_count_a_phrase_once_per_message(make_table):
    rows = [
        negative("tw:1", "2024-03-02", "Broadband down. Broadband down again!"),
        negative("tw:2", "2024-03-03", "broadband down for me too"),
        negative("tw:3", "2024-03-04", "Billing error"),
        negative("tw:7", "2024-03-04", "Router down"),
        {**negative("tw:4", "2024-03-04", "broadband down"), "sentiment": 0.3},  # not negative
        {**negative("tw:5", "2024-03-04", "broadband down"), "brand": "Contoso"},
        {**negative("tw:6", "2024-03-04", "broadband down"), "direction": "mention"},
    ]
    frame = top_issues(make_table(rows), MARCH.start, MARCH.end, "Northwind", limit=3)
    assert list(frame.columns) == ["phrase", "count", "share_of_negative"]
    assert frame.values.tolist() == [
        ["down", 3, pytest.approx(3 / 4)],
        ["broadband down", 2, pytest.approx(2 / 4)],
        ["billing error", 1, pytest.approx(1 / 4)],
    ]


def test_negative_messages_are_chosen_by_their_probability(make_table):
    rows = [
        {**negative("tw:1", "2024-03-04", "broadband down"), **probabilities(0.55, 0.3, 0.15)},
        {**negative("tw:2", "2024-03-04", "router dead"), **probabilities(0.45, 0.3, 0.25)},
    ]
    t = make_table(rows)
    default = top_issues(t, MARCH.start, MARCH.end, "Northwind")
    assert default["phrase"].tolist() == ["broadband down"]
    looser = top_issues(t, MARCH.start, MARCH.end, "Northwind", negative_probability=0.4)
    assert {"broadband down", "router dead"} <= set(looser["phrase"])
    assert looser.set_index("phrase").loc["router dead", "share_of_negative"] == 0.5
    rising = rising_issues(t, MARCH, FEBRUARY, "Northwind", min_count=1, negative_probability=0.4)
    assert "router dead" in set(rising["phrase"])


def test_a_word_only_ever_seen_in_one_pair_gives_way_to_the_pair():
    texts = pd.Series(["tv box", "tv box", "box", "screen dead", "router dead"])
    kept = without_subsumed(phrase_counts(texts))
    assert "tv" not in kept and kept["tv box"] == 2  # every "tv" is a "tv box"
    assert kept["box"] == 3  # "box" also comes without "tv"
    assert kept["dead"] == 2  # in two different pairs: no one pair says it all


def rows_for(counts: dict[str, tuple[int, int]]) -> list[dict]:
    """``counts``: text -> (messages in February, messages in March)."""
    rows = []
    for text, (feb, mar) in counts.items():
        for day, n in (("2024-02-10", feb), ("2024-03-10", mar)):
            rows += [negative(f"tw:{text}:{day}:{i}", day, text) for i in range(n)]
    return rows


def test_rising_issues_rank_by_growth_against_the_previous_window(make_table):
    rows = rows_for({
        "esim": (0, 6),  # new: (6 + 1) / (0 + 1) = 7
        "roaming": (2, 12),  # expected 2 x 31 / 29 = 2.14: growth 13 / 3.14 = 4.1
        "invoice": (10, 10),  # not rising: 10 < 10.7 expected
        "signal": (0, 4),  # new but under min_count
    })  # fmt: skip
    frame = rising_issues(make_table(rows), MARCH, FEBRUARY, "Northwind", min_count=5)
    assert list(frame.columns) == [
        "phrase",
        "count",
        "previous_count",
        "change",
        "share_of_negative",
    ]
    assert frame["phrase"].tolist() == ["esim", "roaming"]
    esim, roaming = frame.iloc[0], frame.iloc[1]
    assert (esim["count"], esim["previous_count"]) == (6, 0)
    assert math.isnan(esim["change"])  # new
    assert roaming["change"] == pytest.approx(12 / (2 * 31 / 29))
    assert roaming["share_of_negative"] == pytest.approx(12 / 32)


def test_rising_issues_ignore_messages_outside_both_windows(make_table):
    rows = [
        *rows_for({"esim": (0, 5)}),
        *[negative(f"tw:old{i}", "2024-01-10", "esim") for i in range(9)],
    ]
    frame = rising_issues(make_table(rows), MARCH, FEBRUARY, "Northwind")
    assert frame[["phrase", "previous_count"]].values.tolist() == [["esim", 0]]


def test_no_negative_messages_give_empty_frames(make_table):
    t = make_table([])
    assert top_issues(t, MARCH.start, MARCH.end, "Northwind").empty
    assert rising_issues(t, MARCH, FEBRUARY, "Northwind").empty


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(max_size=60), max_size=8))
def test_top_issue_shares_are_fractions_whatever_the_text(make_table, texts):
    rows = [negative(f"tw:{i}", "2024-03-05", text) for i, text in enumerate(texts)]
    frame = top_issues(make_table(rows), MARCH.start, MARCH.end, "Northwind")
    assert frame["share_of_negative"].between(0, 1).all()
    assert (frame["count"] <= len(texts)).all()
