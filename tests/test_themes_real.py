"""Themes on the real samples: TWCS tweets and Trustpilot pet-insurance reviews."""

from __future__ import annotations

import glob

import pandas as pd
import pytest

from cxpulse import themes
from cxpulse.metrics.themes import scope_texts

TRUSTPILOT = ("aspca", "embrace", "petsbest")


@pytest.fixture(scope="module")
def reviews(load_real, real_data):
    files = sorted(glob.glob(str(real_data / "trustpilot-pet-insurance" / "*.csv")))
    return load_real("reviews", [str(f) for f in files])


@pytest.fixture(scope="module")
def tweets(load_real):
    return load_real("twcs", ["twcs-head5k/twcs.csv"])


def fit_brand(
    t, brand: str, first: str, last: str, previous=None
) -> tuple[themes.ThemeModel, list]:
    start = pd.Timestamp(first, tz="UTC")
    end = pd.Timestamp(last, tz="UTC") + pd.Timedelta(days=1)
    texts = themes.cleaned(scope_texts(t, start, end, brand), (brand,))
    return themes.fit(texts, brand, first, last, previous=previous), texts


def check_labels(model: themes.ThemeModel) -> None:
    for theme in model.themes:
        assert 2 <= len(theme.label.replace(" / ", " ").split()) <= 4, theme.label
    assert len({t.label for t in model.themes}) == len(model.themes)


@pytest.mark.parametrize("brand", TRUSTPILOT)
def test_negative_reviews_fall_into_named_themes_with_a_small_other(reviews, brand):
    model, texts = fit_brand(reviews, brand, "2022-04-06", "2024-04-04")
    assert len(texts) >= 300 and len(model.themes) >= 4
    check_labels(model)
    ids = themes.assign(texts, model).theme_id
    assert ids.count(themes.OTHER) / len(ids) <= 0.15
    assert max(pd.Series(ids).value_counts(normalize=True)) <= 0.25  # no catch-all


def test_review_themes_keep_their_ids_from_one_year_to_the_next(reviews):
    before, _ = fit_brand(reviews, "aspca", "2021-04-05", "2023-04-04")
    after, _ = fit_brand(reviews, "aspca", "2022-04-06", "2024-04-04", previous=before)
    kept = {t.id for t in before.themes} & {t.id for t in after.themes}
    assert len(kept) >= 3


def test_tweets_to_a_brand_fall_into_named_themes(tweets):
    model, texts = fit_brand(tweets, "AmazonHelp", "2016-01-01", "2017-12-03")
    assert len(model.themes) >= 3
    check_labels(model)
    ids = themes.assign(texts, model).theme_id
    assert ids.count(themes.OTHER) / len(ids) <= 0.25
