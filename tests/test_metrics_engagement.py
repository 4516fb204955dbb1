import math

import pandas as pd
import pytest

from cxpulse.metrics.engagement import engagement_rate

START = pd.Timestamp("2024-03-04", tz="UTC")
END = pd.Timestamp("2024-03-05", tz="UTC")


def brand_post(id_, reach, likes=0, comments=0, shares=0, **extra) -> dict:
    return {
        "id": id_,
        "direction": "outbound",
        "created_at": "2024-03-04 10:00",
        "reach": reach,
        "likes": likes,
        "comments": comments,
        "shares": shares,
        **extra,
    }


@pytest.fixture
def posts(make_table):
    return make_table(
        [
            brand_post("tw:1", 100, likes=5, comments=4, shares=1),
            brand_post("tw:2", None, likes=3),  # no reach: counted, not in the rate
            brand_post("fb:1", 200, likes=10, comments=None, channel="facebook"),
            brand_post("tw:3", 50, likes=50, parent_id="tw:0"),  # a reply, not a post
            brand_post("tw:4", 10, likes=10, brand="Contoso"),
            brand_post("tw:5", 10, likes=10, created_at="2024-03-05 00:00"),
        ]
    )


def test_engagement_rate_pools_posts_with_reach(posts):
    got = engagement_rate(posts, START, END, "Northwind").iloc[0]
    assert (got["posts"], got["reach"], got["engagements"]) == (3, 300, 20)
    assert got["engagement_rate"] == pytest.approx(20 / 300 * 100)


def test_engagement_rate_by_channel(posts):
    out = engagement_rate(posts, START, END, "Northwind", by=["channel"])
    assert out["channel"].tolist() == ["facebook", "twitter"]
    assert out["engagement_rate"].tolist() == [5.0, 10.0]
    assert out["posts"].tolist() == [1, 2]


def test_engagement_rate_without_reach_is_undefined(make_table):
    got = engagement_rate(make_table([brand_post("tw:1", 0, likes=4)]), START, END, "Northwind")
    assert (got.loc[0, "posts"], got.loc[0, "reach"]) == (1, 0)
    assert math.isnan(got.loc[0, "engagement_rate"])
