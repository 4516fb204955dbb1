"""NPS and CSAT, worked out by hand on the survey sample's scores."""

import math

import pandas as pd
import pytest

from cxpulse.metrics.survey import nps_by_channel, survey_summary

START = pd.Timestamp("2024-03-04", tz="UTC")
END = pd.Timestamp("2024-03-11", tz="UTC")


def response(n: int, nps: int | None, csat: int | None, rated: str | None, day: int = 4) -> dict:
    return {
        "id": f"survey:northwind:R{n}",
        "channel": "survey",
        "direction": "inbound",
        "created_at": f"2024-03-0{day} 09:00",
        "nps": nps,
        "csat": csat,
        "rated_channel": rated,
    }


SAMPLE = [  # tests/fixtures/formats/survey_nps.csv, its stored rows
    response(1, 10, 5, "chat"),
    response(2, 9, 4, "email"),
    response(3, 8, 4, "phone"),
    response(4, 6, 2, "phone"),
    response(5, 3, 1, "email", day=5),
    response(6, 10, None, "webform", day=5),
]


def test_nps_is_promoters_minus_detractors_in_points_with_its_interval(make_table):
    got = survey_summary(make_table(SAMPLE), START, END).iloc[0]
    assert (got["responses"], got["promoters"], got["passives"], got["detractors"]) == (6, 3, 1, 2)
    assert got["nps"] == pytest.approx(100 / 6)  # (3 - 2) / 6 = 16.7 points
    # p = 1/2, d = 1/3: se = 100 sqrt((5/6 - 1/36) / 6) = 36.64; x 1.645 = 60.27
    half = 1.6448536269514722 * 100 * math.sqrt((5 / 6 - 1 / 36) / 6)
    assert half == pytest.approx(60.27, abs=0.01)
    assert (got["nps_low"], got["nps_high"]) == pytest.approx((100 / 6 - half, 100 / 6 + half))


def test_csat_is_the_share_of_four_and_five_with_a_wilson_interval(make_table):
    got = survey_summary(make_table(SAMPLE), START, END).iloc[0]
    assert (got["csat_responses"], got["satisfied"]) == (5, 3)
    assert got["csat"] == pytest.approx(0.6)
    # Wilson, z = 1.645, n = 5, p = 0.6: centre (0.6 + z²/10) / (1 + z²/5) = 0.5649,
    # half-width z / (1 + z²/5) x sqrt(0.048 + z²/100) = 0.2924
    assert (got["csat_low"], got["csat_high"]) == pytest.approx((0.2725, 0.8573), abs=1e-4)


def test_nps_by_the_channel_of_the_rated_contact(make_table):
    got = nps_by_channel(make_table(SAMPLE), START, END).set_index("rated_channel")
    assert got["nps"].to_dict() == pytest.approx(
        {"email": 0.0, "phone": -50.0, "chat": 100.0, "webform": 100.0}
    )
    assert got.index.tolist() == ["email", "phone", "chat", "webform"]  # most responses first
    assert math.isnan(got.loc["chat", "nps_low"])  # one response: no interval


def test_no_responses_give_no_figures_not_zero(make_table):
    others = [{"id": "tw:1", "channel": "twitter", "created_at": "2024-03-04 09:00"}]
    got = survey_summary(make_table(others), START, END).iloc[0]
    assert got["responses"] == 0
    assert math.isnan(got["nps"]) and math.isnan(got["csat"])


def test_by_day_splits_the_responses(make_table):
    got = survey_summary(make_table(SAMPLE), START, END, by=["day"])
    assert got["responses"].tolist() == [4, 2]
    assert got["nps"].tolist() == pytest.approx([25.0, 0.0])  # (2-1)/4; (1-1)/2


def test_survey_responses_await_no_reply_and_are_no_contacts(make_table):
    from cxpulse.metrics import first_responses, volume_vs_spend

    rows = [*SAMPLE, {"id": "email:1", "channel": "email", "created_at": "2024-03-04 09:00"}]
    table = make_table(rows)
    assert first_responses(table, START, END).execute()["id"].tolist() == ["email:1"]
    spend = volume_vs_spend(table, START, END, "Northwind", {"email": 4.0})
    assert spend["channel"].tolist() == ["email"]


def test_survey_comments_are_searched_for_issues_like_other_messages(make_table):
    from cxpulse.metrics import top_issues

    rows = [
        {**response(4, 6, 2, "phone"), "text": "Waited forever on hold", "sentiment": -0.6},
        {
            **response(5, 3, 1, "email"),
            "text": "Nobody answered, waited forever",
            "sentiment": -0.6,
        },
    ]
    issues = top_issues(make_table(rows), START, END, "Northwind").set_index("phrase")
    assert issues.loc["waited forever", "count"] == 2
