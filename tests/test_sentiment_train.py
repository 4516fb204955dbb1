"""``make sentiment-model``: the data it reads, and the same model from the same data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cxpulse import sentiment_eval, sentiment_model, sentiment_train


@pytest.fixture(scope="module")
def shared(real_data):
    """The shared data folder (``real/`` and ``labeled/``); skips without the labels."""
    labeled = real_data.parent / "labeled" / "semeval-2017-task4a"
    if not labeled.is_dir():
        pytest.skip(f"labelled data not found at {labeled}")
    return real_data.parent


def test_read_semeval_keeps_good_lines_and_names_each_skipped_one(tmp_path):
    path = tmp_path / "twitter-x-A.txt"
    path.write_text(
        "1\tpositive\tGreat day\\u002c really\t\n"
        '2\tnegative\t"He said ""no"""\textra\n'
        "oops, not a tweet line\n"
        "3\tneutral\tok\n"
    )
    rows, skipped = sentiment_train.read_semeval(path)
    assert rows.to_dict("list") == {
        "id": ["1", "2", "3"],
        "label": ["positive", "negative", "neutral"],
        "text": ["Great day, really", 'He said "no"', "ok"],
    }
    assert skipped == ["twitter-x-A.txt:3: not id<TAB>label<TAB>text"]


def test_twcs_labels_a_customer_tweet_by_the_brands_reply(tmp_path):
    rows = [
        (1, "111", True, "my order is late", "2", None),
        (2, "ShopHelp", False, "@111 So sorry about that, DM us", "", 1.0),
        (3, "112", True, "thanks, all sorted!", "4", None),
        (4, "ShopHelp", False, "@112 Glad to hear it!", "", 3.0),
        (5, "113", True, "what time do you open?", "6", None),
        (6, "ShopHelp", False, "@113 At 9, see you then", "", 5.0),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "tweet_id", "author_id", "inbound", "text", "response_tweet_id",
            "in_response_to_tweet_id",
        ],
    )  # fmt: skip
    frame["created_at"] = "Tue Oct 31 22:10:47 +0000 2017"
    frame.to_csv(tmp_path / "twcs.csv")
    labelled = sentiment_train.twcs(tmp_path)
    assert labelled[["id", "label", "group"]].values.tolist() == [
        ["1", "negative", "ShopHelp"],
        ["3", "positive", "ShopHelp"],
    ]


def test_star_labels():
    stars = pd.Series([1, 2, 3, 4, 5])
    assert sentiment_train.star_label(stars).tolist() == [
        "negative", "negative", "neutral", "positive", "positive",
    ]  # fmt: skip


def test_training_twice_on_the_same_data_gives_the_same_model_and_figures(shared, tmp_path):
    grid = ((0.25, "balanced"),)  # strong regularisation: converges fast
    first = sentiment_train.build(shared, tmp_path / "a", limit=120, grid=grid)
    second = sentiment_train.build(shared, tmp_path / "b", limit=120, grid=grid)
    for key in ("heldout", "calibration", "validation", "twcs_share_negative"):
        assert first[key] == second[key]
    a = sentiment_model.load(folder=tmp_path / "a")
    b = sentiment_model.load(folder=tmp_path / "b")
    assert np.array_equal(a.weights, b.weights) and np.array_equal(a.idf, b.idf)
    assert a.info["training"]["rows"] == b.info["training"]["rows"] > 300
    assert any(p.name.startswith("vader-") for p in (tmp_path / "a").iterdir())
    held = json.loads((tmp_path / "a" / f"care-lr-{sentiment_model.VERSION}.json").read_text())
    assert set(held["heldout"]) == {"care-lr", "vader-raw", "vader-cleaned"}


def test_macro_f1_and_accuracy_by_hand():
    m = sentiment_eval.confusion(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2]))
    assert sentiment_eval.accuracy(m) == 0.75
    # F1: negative 2/3, neutral 2/3, positive 1
    assert sentiment_eval.macro_f1(m) == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
