import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest
from conftest import SYMMETRIC, probabilities

from cxpulse.config import BrandParams, ReputationWeights, load_brand
from cxpulse.metrics.reputation import reputation_by_period, reputation_index
from cxpulse.periods import period_for

PARAMS = Path(__file__).resolve().parents[1] / "params"
EVEN = ReputationWeights(net_sentiment=0.4, review_stars=0.3, sla_attainment=0.3)


def test_reputation_index_puts_each_part_on_0_to_100():
    got = reputation_index(20.0, 4.0, 0.9, EVEN)
    assert (got["net_sentiment"], got["review_stars"], got["sla_attainment"]) == (60, 75, 90)
    assert got["index"] == pytest.approx(0.4 * 60 + 0.3 * 75 + 0.3 * 90)  # 73.5
    assert got["parts_used"] == ["net_sentiment", "review_stars", "sla_attainment"]


def test_reputation_index_ends_of_each_scale():
    assert reputation_index(-100, 1, 0, EVEN)["index"] == 0
    assert reputation_index(100, 5, 1, EVEN)["index"] == 100


def test_reputation_index_reweights_without_a_missing_part():
    got = reputation_index(20.0, None, 0.9, EVEN)
    assert got["review_stars"] is None
    assert got["index"] == pytest.approx((0.4 * 60 + 0.3 * 90) / 0.7)
    assert got["parts_used"] == ["net_sentiment", "sla_attainment"]
    assert reputation_index(20.0, math.nan, 0.9, EVEN)["index"] == got["index"]


def test_survey_nps_is_an_optional_part_with_its_own_weight():
    with_nps = ReputationWeights(net_sentiment=0.4, review_stars=0.3, sla_attainment=0.3, nps=0.2)
    got = reputation_index(20.0, 4.0, 0.9, with_nps, nps=-20.0)
    assert got["nps"] == 40  # (-20 + 100) / 2
    assert got["index"] == pytest.approx((0.4 * 60 + 0.3 * 75 + 0.3 * 90 + 0.2 * 40) / 1.2)
    assert got["parts_used"] == ["net_sentiment", "review_stars", "sla_attainment", "nps"]
    # weight 0 (the default) or no survey answers: the index is the three-part blend
    assert reputation_index(20.0, 4.0, 0.9, EVEN, nps=-20.0)["index"] == pytest.approx(73.5)
    assert reputation_index(20.0, 4.0, 0.9, with_nps, nps=None)["index"] == pytest.approx(73.5)


def test_reputation_index_without_any_part_is_none():
    got = reputation_index(None, None, None, EVEN)
    assert (got["index"], got["parts_used"]) == (None, [])


def test_reputation_index_takes_its_weights_from_params():
    weights = load_brand(PARAMS).reputation_weights
    expected = weights.net_sentiment * 60 + weights.review_stars * 75 + weights.sla_attainment * 90
    total = weights.net_sentiment + weights.review_stars + weights.sla_attainment
    assert reputation_index(20.0, 4.0, 0.9, weights)["index"] == pytest.approx(expected / total)
    expected += weights.nps * 40
    total += weights.nps
    assert weights.nps > 0
    assert reputation_index(20.0, 4.0, 0.9, weights, -20.0)["index"] == pytest.approx(
        expected / total
    )
    only_stars = ReputationWeights(net_sentiment=0, review_stars=1, sla_attainment=0)
    got = reputation_index(20.0, 4.0, 0.9, only_stars)
    assert (got["index"], got["parts_used"]) == (75, ["review_stars"])


def test_reputation_by_period_blends_the_brands_own_parts(make_table):
    rows = [
        {"id": "tw:1", "created_at": "2024-03-04 09:00", "sentiment": 0.5},
        {"id": "tw:2", "created_at": "2024-03-04 09:00", "sentiment": 0.5},
        {"id": "tw:3", "created_at": "2024-03-04 10:00", "sentiment": -0.5},
        {
            "id": "tw:4",
            "direction": "outbound",
            "parent_id": "tw:1",
            "created_at": "2024-03-04 09:30",
        },
        {
            "id": "tw:5",
            "direction": "outbound",
            "parent_id": "tw:2",
            "created_at": "2024-03-04 11:00",
        },
        {"id": "rv:1", "channel": "review", "rating": 5, "created_at": "2024-03-04 12:00"},
        {"id": "rv:2", "channel": "review", "rating": 2, "created_at": "2024-03-04 12:00"},
        {
            "id": "rv:3",
            "channel": "review",
            "rating": 1,
            "brand": "Contoso",
            "created_at": "2024-03-04 12:00",
        },
    ]
    brand = BrandParams(brand="Northwind", sla_targets_s={"twitter": 3600}, reputation_weights=EVEN)
    periods = [period_for("daily", dt.date(2024, 3, d), "UTC") for d in (4, 5)]
    out = reputation_by_period(make_table(rows), periods, brand)
    assert out["label"].tolist() == ["2024-03-04", "2024-03-05"]
    day = out.iloc[0]
    assert day["net_sentiment"] == pytest.approx(100 / 3)  # (2 - 1) / 3 x 100
    assert day["mean_rating"] == 3.5
    assert day["sla_attainment"] == pytest.approx(1 / 3)  # tw:1 met; tw:2 late; tw:3 unanswered
    expected = 0.4 * (100 / 3 + 100) / 2 + 0.3 * 62.5 + 0.3 * 100 / 3
    assert day["index"] == pytest.approx(expected)
    assert day["parts_used"] == "net_sentiment, review_stars, sla_attainment"
    empty = out.iloc[1]
    assert pd.isna(empty["index"]) and empty["parts_used"] == ""


def test_known_parts_are_taken_as_given_and_the_rest_computed(make_table):
    rows = [{"id": "tw:1", "created_at": "2024-03-04 09:00", "sentiment": 0.5}]
    brand = BrandParams(brand="Northwind", reputation_weights=EVEN)
    periods = [period_for("daily", dt.date(2024, 3, d), "UTC") for d in (4, 5)]
    known = {"2024-03-05": {"net_sentiment": -20.0, "mean_rating": 2.0, "sla_attainment": None}}
    out = reputation_by_period(make_table(rows), periods, brand, known)
    assert out["net_sentiment"].tolist() == [100.0, -20.0]
    assert pd.isna(out["mean_rating"].iloc[0]) and out["mean_rating"].iloc[1] == 2.0
    assert out["index"].iloc[1] == pytest.approx((0.4 * 40 + 0.3 * 25) / 0.7)


def test_reputation_uses_the_calibrated_net_sentiment(make_table):
    rows = [
        {"id": "tw:1", "created_at": "2024-03-04 09:00", **probabilities(0.6, 0.3, 0.1)},
        {"id": "tw:2", "created_at": "2024-03-04 09:00", **probabilities(0.3, 0.3, 0.4)},
    ]
    brand = BrandParams(brand="Northwind", reputation_weights=EVEN)
    period = [period_for("daily", dt.date(2024, 3, 4), "UTC")]
    plain = reputation_by_period(make_table(rows), period, brand).iloc[0]
    corrected = reputation_by_period(make_table(rows), period, brand, calibration=SYMMETRIC)
    assert plain["net_sentiment"] == pytest.approx(-100 * 0.2 / 0.7)  # mean p: 0.45 vs 0.25
    assert corrected["net_sentiment"].iloc[0] == pytest.approx(-40)  # PACC, as by hand
    assert corrected["net_sentiment_score"].iloc[0] == pytest.approx(30)


def test_reputation_by_period_blends_survey_nps_when_it_has_a_weight(make_table):
    rows = [
        {"id": "tw:1", "created_at": "2024-03-04 09:00", "sentiment": 0.5},
        *(
            {"id": f"sv:{n}", "channel": "survey", "created_at": "2024-03-04 10:00", "nps": s}
            for n, s in enumerate([10, 9, 3, 8])
        ),
    ]
    weights = ReputationWeights(net_sentiment=0.4, review_stars=0.3, sla_attainment=0.3, nps=0.2)
    brand = BrandParams(brand="Northwind", reputation_weights=weights)
    period = [period_for("daily", dt.date(2024, 3, 4), "UTC")]
    day = reputation_by_period(make_table(rows), period, brand).iloc[0]
    assert day["nps"] == 25  # (2 promoters - 1 detractor) / 4
    assert day["nps_score"] == 62.5
    # net sentiment 100 (one positive message) -> 100; no reviews, no SLA targets
    assert day["index"] == pytest.approx((0.4 * 100 + 0.2 * 62.5) / 0.6)  # 87.5
    assert day["parts_used"] == "net_sentiment, nps"
