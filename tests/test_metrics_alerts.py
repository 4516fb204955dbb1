import math

import ibis.expr.types as ir
import pandas as pd
import pytest
from conftest import probabilities

from cxpulse.metrics.alerts import (
    MAD_SCALE,
    negative_spikes,
    urgent_unanswered,
    viral_negatives,
    worst_reviews,
)

START = pd.Timestamp("2024-03-03 00:00", tz="UTC")
UNTIL = pd.Timestamp("2024-03-04 12:00", tz="UTC")
TARGETS = {"twitter": 3600.0}


def msg(id_, at, text="", sentiment=0.0, channel="twitter", brand="Northwind", **extra) -> dict:
    return {
        "id": id_,
        "channel": channel,
        "brand": brand,
        "direction": "inbound",
        "author_id": "u-" + id_,
        "created_at": at,
        "text": text,
        "sentiment": sentiment,
        **extra,
    }


def reply(id_, parent, at, brand="Northwind") -> dict:
    return {**msg(id_, at, "on it", brand=brand), "direction": "outbound", "parent_id": parent}


@pytest.fixture
def inbox(make_table) -> ir.Table:
    return make_table(
        [
            msg("tw:1", "2024-03-04 09:00", "where is my parcel"),
            msg("tw:2", "2024-03-04 11:30", "I want a REFUND now", **probabilities(0.6, 0.3, 0.1)),
            msg(
                "tw:3",
                "2024-03-04 08:00",
                "worst ever, I will cancel",
                **probabilities(0.9, 0.1, 0),
            ),
            msg("tw:4", "2024-03-04 09:00", "thanks"),
            reply("tw:5", "tw:4", "2024-03-04 09:30"),
            msg("tw:6", "2024-03-04 08:30", "hello?"),
            reply("tw:7", "tw:6", "2024-03-04 08:40", brand="Contoso"),
            msg("ch:1", "2024-03-03 11:00", "still waiting", channel="chat"),
            msg("ch:2", "2024-03-04 10:00", "download link broken", channel="chat"),
            msg("tw:8", "2024-03-04 11:00", "refund please", brand="Contoso"),
        ]
    )


def test_urgent_unanswered_ranks_by_reasons_then_overdue(inbox):
    out = urgent_unanswered(inbox, START, UNTIL, TARGETS, "Northwind")
    assert list(out["id"]) == ["tw:3", "tw:6", "tw:1", "ch:1", "tw:2"]
    assert list(out["overdue_s"]) == [10800.0, 9000.0, 7200.0, 3600.0, -1800.0]
    assert list(out.columns) == [
        "id",
        "channel",
        "author_id",
        "created_at",
        "text",
        "sentiment",
        "p_negative",
        "overdue_s",
        "reasons",
    ]


def test_urgent_unanswered_names_every_reason(inbox):
    reasons = urgent_unanswered(inbox, START, UNTIL, TARGETS, "Northwind").set_index("id")[
        "reasons"
    ]
    assert reasons["tw:3"] == "past SLA, strongly negative, urgency word 'cancel'"
    assert reasons["tw:2"] == "urgency word 'refund'"
    assert reasons["tw:1"] == "past SLA"


def test_strongly_negative_is_a_probability_threshold(inbox):
    # tw:2 is negative (p 0.6) but not strongly; tw:3 (p 0.9) is, until the bar is above it
    reasons = urgent_unanswered(inbox, START, UNTIL, TARGETS, "Northwind").set_index("id")
    assert "strongly negative" not in reasons.loc["tw:2", "reasons"]
    assert reasons.loc["tw:3", "p_negative"] == 0.9
    stricter = urgent_unanswered(
        inbox, START, UNTIL, TARGETS, "Northwind", strongly_negative_probability=0.95
    ).set_index("id")
    assert stricter.loc["tw:3", "reasons"] == "past SLA, urgency word 'cancel'"
    looser = urgent_unanswered(
        inbox, START, UNTIL, TARGETS, "Northwind", strongly_negative_probability=0.6
    ).set_index("id")
    assert looser.loc["tw:2", "reasons"] == "strongly negative, urgency word 'refund'"


def test_urgent_unanswered_ignores_another_brands_reply(inbox):
    out = urgent_unanswered(inbox, START, UNTIL, TARGETS, "Northwind")
    assert "tw:6" in set(out["id"])
    assert "tw:4" not in set(out["id"])


def test_urgent_unanswered_waits_24_hours_on_channels_without_target(inbox):
    out = urgent_unanswered(inbox, START, UNTIL, TARGETS, "Northwind").set_index("id")
    assert out.loc["ch:1", "overdue_s"] == 25 * 3600 - 24 * 3600
    no_targets = urgent_unanswered(inbox, START, UNTIL, {}, "Northwind")
    assert "tw:1" not in set(no_targets["id"])  # 3 h is within 24 h


def test_urgency_words_match_whole_words_only(inbox):
    out = urgent_unanswered(inbox, START, UNTIL, TARGETS, "Northwind")
    assert "ch:2" not in set(out["id"])  # "download" is not "down"


def test_urgent_unanswered_keeps_to_the_brand_and_the_limit(inbox):
    out = urgent_unanswered(inbox, START, UNTIL, TARGETS, "Northwind", limit=2)
    assert list(out["id"]) == ["tw:3", "tw:6"]
    assert urgent_unanswered(inbox, START, UNTIL, TARGETS, "Contoso")["id"].tolist() == ["tw:8"]


def daily(counts: list[int]) -> pd.DataFrame:
    days = pd.date_range("2024-01-01", periods=len(counts), freq="D")
    return pd.DataFrame({"day": days, "negative": counts})


def day(i: int) -> pd.Timestamp:
    return pd.Timestamp("2024-01-01") + pd.Timedelta(days=i)


def test_spike_z_is_robust_against_trailing_window():
    out = negative_spikes(daily([10, 12] * 14 + [41]))
    assert len(out) == 1
    episode = out.iloc[0]
    assert episode["peak_day"] == episode["start_day"] == episode["end_day"] == day(28)
    assert episode["peak_negative"] == 41
    assert episode["baseline_median"] == 11.0
    assert episode["severity"] == pytest.approx((41 - 11) / (MAD_SCALE * 1))


def test_flat_baseline_with_zero_mad_uses_the_floor():
    out = negative_spikes(daily([10] * 28 + [40]))
    assert out["severity"].tolist() == [30.0]
    assert all(math.isfinite(z) for z in out["severity"])


def test_two_spikes_within_cooldown_are_one_episode():
    out = negative_spikes(daily([10] * 28 + [40, 10, 45]), cooldown_days=3)
    assert len(out) == 1
    assert (out.loc[0, "start_day"], out.loc[0, "end_day"]) == (day(28), day(30))
    assert (out.loc[0, "peak_day"], out.loc[0, "peak_negative"]) == (day(30), 45)


def test_spikes_further_apart_than_cooldown_are_two_episodes():
    out = negative_spikes(daily([10] * 28 + [40, 10, 10, 10, 10, 40]), cooldown_days=3)
    assert out["start_day"].tolist() == [day(28), day(33)]


def test_spike_needs_min_count():
    assert negative_spikes(daily([1] * 28 + [15]), min_count=20).empty
    assert len(negative_spikes(daily([1] * 28 + [15]), min_count=10)) == 1


def test_spike_needs_a_baseline():
    assert negative_spikes(daily([0, 0, 0, 100])).empty
    assert list(negative_spikes(daily([])).columns) == [
        "start_day",
        "end_day",
        "peak_day",
        "peak_negative",
        "baseline_median",
        "severity",
    ]


def test_missing_days_count_as_zero():
    frame = daily([5] + [0] * 27 + [30]).query("negative > 0")
    assert negative_spikes(frame)["severity"].tolist() == [30.0]


def post(id_, sentiment, reach=None, likes=None, shares=None, brand="Northwind", **extra) -> dict:
    return {
        **msg(id_, "2024-03-04 10:00", "meh", sentiment, brand=brand),
        "direction": "mention",
        "reach": reach,
        "likes": likes,
        "shares": shares,
        **extra,
    }


@pytest.fixture
def posts(make_table) -> ir.Table:
    return make_table(
        [
            post("m:1", -0.6, reach=1000, likes=5),
            post("m:2", -0.3, reach=5000, likes=1, direction="inbound"),
            post("m:3", -0.4, reach=1000, likes=50, shares=10),
            post("m:4", 0.5, reach=100_000),
            post("m:5", -0.9, reach=1_000_000, direction="outbound"),
            post("m:6", -0.5, reach=2000, brand="Contoso"),
            post("m:7", -0.04, reach=9000),
            post("m:8", -0.5),
        ]
    )


def test_viral_negatives_rank_by_reach_then_engagement(posts):
    out = viral_negatives(posts, START, UNTIL, limit=10)
    assert out["id"].tolist() == ["m:2", "m:6", "m:3", "m:1", "m:8"]
    assert out.set_index("id").loc["m:3", "engagement"] == 60


def test_viral_negatives_of_one_brand(posts):
    assert viral_negatives(posts, START, UNTIL, limit=3, brand="Northwind")["id"].tolist() == [
        "m:2",
        "m:3",
        "m:1",
    ]


def test_viral_negative_is_a_probability_threshold(make_table):
    t = make_table(
        [
            post("m:1", reach=10, **probabilities(0.45, 0.35, 0.2)),
            post("m:2", reach=5, **probabilities(0.55, 0.35, 0.1)),
            post("m:3", None, reach=50),  # unscored
        ]
    )
    assert viral_negatives(t, START, UNTIL)["id"].tolist() == ["m:2"]
    looser = viral_negatives(t, START, UNTIL, negative_probability=0.4)
    assert looser["id"].tolist() == ["m:1", "m:2"]
    assert looser["p_negative"].tolist() == [0.45, 0.55]


def review(id_, rating, sentiment=None, brand="Northwind", at="2024-03-04 10:00", **extra):
    row = msg(id_, at, "review", sentiment, channel="review", brand=brand)
    return {**row, "rating": rating, **extra}


def test_worst_reviews_lowest_rating_then_most_negative(make_table):
    t = make_table(
        [
            review("r:1", 3, 0.1),
            review("r:2", 1, -0.2),
            review("r:3", 1, -0.9),
            review("r:4", 5, 0.8),
            review("r:5", None, -0.9, direction="outbound", parent_id="r:2"),
            review("r:6", 1, -0.9, brand="Contoso"),
            review("r:7", 1, -0.9, at="2024-03-01 10:00"),
        ]
    )
    out = worst_reviews(t, START, UNTIL, "Northwind")
    assert out["id"].tolist() == ["r:3", "r:2", "r:1", "r:4"]
    assert list(out.columns) == ["id", "created_at", "rating", "text", "sentiment"]


def test_a_target_in_business_hours_is_past_only_after_that_many_business_hours(make_table):
    # Sunday 2024-03-03 10:00 UTC, unanswered at Monday 12:00 UTC: 26 clock hours, but with
    # 08:00-20:00 Monday to Friday only 4 business hours; the target is 3 h, then 5 h.
    import datetime as dt

    from cxpulse.config import BusinessHours

    t = make_table([msg("e1", "2024-03-03 10:00", channel="email")])
    hours = BusinessHours(start=dt.time(8), end=dt.time(20))

    def past(target_h: float) -> bool:
        got = urgent_unanswered(
            t, START, UNTIL, {"email": target_h * 3600}, "Northwind",
            business_hours=hours, business_targets=("email",),
        )  # fmt: skip
        return "past SLA" in got["reasons"].iloc[0] if len(got) else False

    assert past(3) and not past(5)
    clock = urgent_unanswered(t, START, UNTIL, {"email": 5 * 3600}, "Northwind")
    assert clock["overdue_s"].iloc[0] == 21 * 3600


def episodes(*spans: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"start_day": [pd.Timestamp(a) for a, _ in spans],
         "end_day": [pd.Timestamp(b) for _, b in spans]}
    )  # fmt: skip


def test_a_spike_is_new_on_its_first_day_ongoing_while_it_can_continue_then_past():
    import datetime as dt

    from cxpulse.metrics.alerts import spike_status

    spikes = episodes(
        ("2026-11-19", "2026-11-19"),  # began on the report day
        ("2026-11-17", "2026-11-19"),  # began before, spiking still
        ("2026-11-10", "2026-11-16"),  # last spike day 3 days back: the cooldown
        ("2026-11-09", "2026-11-15"),  # 4 days back: over
        ("2026-10-31", "2026-11-02"),  # the outage ten days ago is not news
    )
    got = spike_status(spikes, dt.date(2026, 11, 19)).tolist()
    assert got == ["new", "ongoing", "ongoing", "past", "past"]
    assert spike_status(episodes(), dt.date(2026, 11, 19)).empty
    with pytest.raises(ValueError, match="after the report day"):
        spike_status(episodes(("2026-11-20", "2026-11-20")), dt.date(2026, 11, 19))
