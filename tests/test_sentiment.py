"""``sentiment.compound`` gives exactly VADER's compound score, only faster; engines score
in order, serially or in parallel."""

from __future__ import annotations

import csv

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from cxpulse.sentiment import compound, score_texts

VADER = SentimentIntensityAnalyzer()

# Words that VADER's rules look at: negations, boosters, "but", "no", "least", idioms,
# caps, emoticons, emojis, punctuation.
WORDS = [
    "good", "GOOD", "bad", "BAD", "not", "isn't", "never", "so", "this", "but", "BUT", "no",
    "nor", "or", "least", "at", "very", "VERY", "kind", "of", "sort", "without", "doubt",
    "the", "shit", "bomb", "yeah", "right", "kiss", "death", "love", "hate", "great",
    "terrible", "extremely", "barely", "!", "!!!", "?", "???", ":)", ":(", "😀", "😡", "👍",
    "@115712", "@NorthwindCare", "refund", "cancel", "cut", "mustard", "LOL", "ok", "a",
]  # fmt: skip


def vader(text: str) -> float:
    return VADER.polarity_scores(text)["compound"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=25), st.sampled_from([" ", "  ", "\n", ", "]))
def test_compound_equals_vader_on_tricky_word_mixes(words, separator):
    text = separator.join(words)
    assert compound(text) == vader(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_compound_equals_vader_on_any_text(text):
    assert compound(text) == vader(text)


def test_compound_equals_vader_on_the_real_samples(real_data):
    texts = []
    with open(real_data / "twcs-head5k" / "twcs.csv", newline="", encoding="utf-8") as handle:
        texts += [row["text"] or "" for row in csv.DictReader(handle)]
    for path in sorted((real_data / "trustpilot-pet-insurance").glob("*.csv"))[:3]:
        with open(path, newline="", encoding="utf-8") as handle:
            texts += [f"{r['title'] or ''}\n\n{r['text'] or ''}" for r in csv.DictReader(handle)]
    mismatches = [t for t in texts if compound(t) != vader(t)]
    assert len(texts) > 5_000
    assert mismatches == []


@pytest.mark.parametrize("workers", [1, 2])
def test_score_texts_keeps_order_in_parallel(workers, monkeypatch):
    monkeypatch.setattr("cxpulse.sentiment._PARALLEL_FROM", 10)
    monkeypatch.setattr("cxpulse.sentiment._CHUNK", 7)
    texts = [f"{w} {i}" for i, w in enumerate(["good", "bad", "ok"] * 20)]
    assert score_texts(texts, "vader", workers=workers)[:, 0].tolist() == [vader(t) for t in texts]


@pytest.mark.parametrize("workers", [1, 2])
def test_default_engine_scores_the_same_in_parallel_as_serially(workers, monkeypatch):
    texts = [f"{w} {i}" for i, w in enumerate(["love it", "awful wait", "my bill"] * 20)]
    serial = score_texts(texts, workers=1)
    monkeypatch.setattr("cxpulse.sentiment._PARALLEL_FROM", 10)
    monkeypatch.setattr("cxpulse.sentiment._CHUNK", 7)
    assert (score_texts(texts, workers=workers) == serial).all()
    assert serial.shape == (60, 4)
