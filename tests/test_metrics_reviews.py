import math

import pandas as pd
import pytest

from cxpulse.metrics import review_summary

START = pd.Timestamp("2024-03-04", tz="UTC")
END = pd.Timestamp("2024-03-05", tz="UTC")


def review(id_: str, rating: int | None, brand: str = "Northwind", at: str = "09:00") -> dict:
    return {
        "id": f"rv:{id_}",
        "channel": "review",
        "brand": brand,
        "rating": rating,
        "created_at": f"2024-03-04 {at}",
    }


def test_review_summary_counts_stars(make_table):
    rows = [review("1", 5), review("2", 4), review("3", 2), review("4", 1), review("5", 1)]
    got = review_summary(make_table(rows), START, END).iloc[0].to_dict()
    assert got == {"reviews": 5, "mean_rating": 2.6, "negative_share": 0.6, "one_star": 2}


def test_reviews_without_rating_and_other_channels_are_left_out(make_table):
    rows = [
        review("1", 4),
        review("2", None),
        {"id": "tw:1", "created_at": "2024-03-04 09:00", "rating": 1},
    ]
    got = review_summary(make_table(rows), START, END).iloc[0]
    assert (got["reviews"], got["mean_rating"]) == (1, 4)


def test_no_reviews_gives_missing_mean_not_zero(make_table):
    got = review_summary(make_table([review("1", 1, at="23:59")]), END, END + pd.Timedelta("1D"))
    assert got["reviews"].tolist() == [0]
    assert math.isnan(got["mean_rating"].iloc[0]) and math.isnan(got["negative_share"].iloc[0])


def test_review_summary_by_brand(make_table):
    rows = [review("1", 5), review("2", 3), review("3", 1, brand="Contoso")]
    frame = review_summary(make_table(rows), START, END, by=["brand"])
    assert frame[["brand", "reviews", "mean_rating", "one_star"]].values.tolist() == [
        ["Contoso", 1, 1.0, 1],
        ["Northwind", 2, 4.0, 0],
    ]


TRUSTPILOT_BRANDS = {  # SOURCE.md: brand -> (reviews, mean stars)
    "akc": (838, 4.49),
    "aspca": (5556, 4.38),
    "embrace": (3495, 4.18),
    "fetch": (2049, 4.33),
    "figo": (1803, 4.12),
    "healthypaws": (2211, 4.44),
    "lemonade": (1302, 4.28),
    "petsbest": (4279, 4.10),
    "pumpkin": (998, 4.59),
    "spot": (4347, 4.55),
}


@pytest.fixture(scope="module")
def trustpilot(load_real):
    files = [f"trustpilot-pet-insurance/{b}_reviews.csv" for b in TRUSTPILOT_BRANDS]
    return load_real("reviews", files)


def test_trustpilot_sample_review_means_per_brand_match_source(trustpilot):
    start = pd.Timestamp("2015-01-01", tz="UTC")
    end = pd.Timestamp("2025-01-01", tz="UTC")
    frame = review_summary(trustpilot, start, end, by=["brand"])
    got = {
        brand.lower().replace(" ", ""): (reviews, round(mean, 2))
        for brand, reviews, mean in frame[["brand", "reviews", "mean_rating"]].values
    }
    assert got == TRUSTPILOT_BRANDS
