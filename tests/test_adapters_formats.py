"""The care team's other channels, each on a sample built from its format's documentation
(tests/fixtures/formats): Instagram comments, Zendesk and Freshdesk tickets, Google Play and
App Store reviews, Reddit listings, NPS/CSAT surveys. Figures are worked out by hand."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cxpulse import adapters, warehouse
from cxpulse.adapters import AdapterError, AdapterOptions, read
from cxpulse.ingest import ingest_file
from cxpulse.metrics import first_responses
from cxpulse.metrics.command import open_table

SAMPLES = Path(__file__).parent / "fixtures" / "formats"
NOW = pd.Timestamp("2024-06-01", tz="UTC")
QUALTRICS = {
    "response_id": "ResponseId",
    "submitted_at": "RecordedDate",
    "nps": "Q1",
    "comment": "Q2",
    "channel": "ContactChannel",
}
# sample -> (format, options, rows stored, [(line, reason)] quarantined)
LOADS = {
    "instagram_comments.json": ("instagram", AdapterOptions(), 6, [(7, "created_at is missing")]),
    "zendesk_incremental_tickets.json": (
        "tickets",
        AdapterOptions(accounts={"northwind.zendesk.com": "Northwind"}),
        9,
        [
            (
                8,
                "via.channel: expected one of email, web, api, mobile_sdk, web_widget, chat, "
                "native_messaging, voice",
            )
        ],
    ),
    "freshdesk_tickets.csv": (
        "tickets",
        AdapterOptions(brand="Northwind", timezone="Europe/Berlin"),
        5,
        [(5, "created_at: not a timestamp")],
    ),
    "reviews_com.northwind.app_202403.csv": (
        "google-play",
        AdapterOptions(accounts={"com.northwind.app": "Northwind"}),
        4,
        [(5, "Star Rating: not a whole number of stars")],
    ),
    "app_store_customer_reviews.json": (
        "app-store",
        AdapterOptions(accounts={"1234567890": "Northwind"}),
        3,
        [(4, "rating must be 1 to 5")],
    ),
    "reddit_comments.json": (
        "reddit",
        AdapterOptions(brand="Northwind", accounts={"NorthwindSupport": "Northwind"}),
        4,
        [(5, "created_utc: not seconds since 1970")],
    ),
    "survey_nps.csv": (
        "survey",
        AdapterOptions(brand="Northwind"),
        6,
        [(8, "nps must be 0 to 10")],
    ),
    "survey_qualtrics.csv": (
        "survey",
        AdapterOptions(brand="Northwind", timezone="America/Denver", column_map=QUALTRICS),
        3,
        [],
    ),
}


def rows_of(sample: str) -> pd.DataFrame:
    fmt, options, _, _ = LOADS[sample]
    return read(fmt, SAMPLES / sample, options).rows.set_index("id")


def stored(path: Path) -> pd.DataFrame:
    con = warehouse.connect(path, read_only=True)
    try:
        return con.execute("SELECT * FROM interactions ORDER BY id").df().set_index("id")
    finally:
        con.close()


@pytest.mark.parametrize("sample", LOADS)
def test_each_sample_loads_its_rows_quarantines_its_bad_records_and_reloads_to_nothing(
    tmp_path, sample
):
    fmt, options, count, quarantined = LOADS[sample]
    path = tmp_path / "w.duckdb"
    result = ingest_file(SAMPLES / sample, fmt, path, options, now=NOW)
    assert (result.inserted, result.quarantined) == (count, len(quarantined))
    con = warehouse.connect(path, read_only=True)
    try:
        got = con.execute("SELECT line, reason, raw FROM quarantine ORDER BY line").fetchall()
    finally:
        con.close()
    assert [(line, reason) for line, reason, _ in got] == quarantined
    assert all(raw for _, _, raw in got)
    assert ingest_file(SAMPLES / sample, fmt, path, options, now=NOW).status == "skipped"
    copy = tmp_path / f"again-{sample}"  # the same export saved again with one more newline
    utf16 = fmt == "google-play"
    copy.write_bytes(
        (SAMPLES / sample).read_bytes() + "\n".encode("utf-16-le" if utf16 else "utf-8")
    )
    again = ingest_file(copy, fmt, path, options, now=NOW)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, count)


@pytest.mark.parametrize("fmt", ["instagram", "tickets", "app-store", "reddit"])
def test_json_of_another_format_is_refused_naming_the_file(tmp_path, fmt):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"items": [{"id": "1"}]}))
    with pytest.raises(AdapterError, match=r"other.json: expected (a|an) "):
        read(fmt, path, AdapterOptions(brand="Northwind"))


@pytest.mark.parametrize(
    ("fmt", "error"),
    [
        ("google-play", r"missing required column\(s\) \['Package Name'"),
        ("survey", r"missing required column\(s\) \['response_id', 'submitted_at'\]"),
        ("tickets", r"missing required column\(s\) \['Ticket ID', 'Created time', 'Source'\]"),
    ],
)
def test_a_csv_of_another_format_is_refused_naming_the_missing_columns(tmp_path, fmt, error):
    path = tmp_path / "other.csv"
    path.write_text("id,text,rating,published\nr1,Fine,4,2024-03-01T10:00:00Z\n")
    with pytest.raises(AdapterError, match=f"other.csv: {error}"):
        read(fmt, path, AdapterOptions(brand="Northwind"))


def test_instagram_replies_by_our_account_are_outbound_answers_to_their_comment():
    rows = rows_of("instagram_comments.json")
    answer = rows.loc["instagram:17858893269000002"]
    assert (answer["direction"], answer["parent_id"]) == (
        "outbound",
        "instagram:17858893269000001",
    )
    assert rows.loc["instagram:17895695668004550", "direction"] == "outbound"  # the post
    assert set(rows["brand"]) == {"northwind"}
    # a reply listed flat, by parent_id, on the second page
    assert rows.loc["instagram:17858893269000005", "thread_id"] == "instagram:17858893269000004"
    assert rows.loc["instagram:17858893269000001", "likes"] == 7


def test_zendesk_first_responses_come_from_comments_else_from_reply_time_in_minutes(tmp_path):
    fmt, options, _, _ = LOADS["zendesk_incremental_tickets.json"]
    path = tmp_path / "w.duckdb"
    ingest_file(SAMPLES / "zendesk_incremental_tickets.json", fmt, path, options, now=NOW)
    start, end = pd.Timestamp("2024-03-04", tz="UTC"), pd.Timestamp("2024-03-06", tz="UTC")
    frt = first_responses(open_table(path), start, end).execute().set_index("id")["frt_s"]
    assert frt.to_dict() == {
        "email:northwind.zendesk.com:4101": 45 * 60,  # reply_time_in_minutes: 45
        "webform:northwind.zendesk.com:4102": 30 * 60,  # comment 53 at 11:00, ticket 10:30
        "webform:northwind.zendesk.com:4102.54": 15 * 3600,  # comment 55 the next day, 09:00
        "chat:northwind.zendesk.com:4103": 2 * 60,
    }  # the voice ticket is a phone contact: response metrics leave phone out
    rows = stored(path)
    assert rows["channel"].value_counts().to_dict() == {
        "webform": 4,
        "email": 2,
        "chat": 2,
        "phone": 1,
    }
    assert "[phone]" in rows.loc["email:northwind.zendesk.com:4101", "text"]  # PII masked
    assert not rows["text"].str.contains("token TTL", na=False).any()  # private note


def test_freshdesk_wall_times_are_read_in_the_helpdesk_zone_and_initial_response_answers():
    rows = rows_of("freshdesk_tickets.csv")
    # 09:00 in Berlin (CET) is 08:00 UTC; the initial response 10:30 CET is 90 min later
    assert rows.loc["email:northwind:1201", "created_at"] == pd.Timestamp("2024-03-04 08:00Z")
    reply = rows.loc["email:northwind:1201.first-reply"]
    assert reply["created_at"] - rows.loc["email:northwind:1201", "created_at"] == pd.Timedelta(
        minutes=90
    )
    assert reply["parent_id"] == "email:northwind:1201"
    assert rows.loc["webform:northwind:1202", "channel"] == "webform"  # Source: Portal


def test_google_play_reviews_carry_stars_and_developer_replies_answer_them():
    rows = rows_of("reviews_com.northwind.app_202403.csv")
    review = rows.loc["review:play.google.com:gp:AOqpTOGk1"]
    reply = rows.loc["review:play.google.com:gp:AOqpTOGk1:reply"]
    assert review["rating"] == 1
    assert (reply["direction"], reply["parent_id"]) == ("outbound", review.name)
    assert reply["created_at"] - review["created_at"] == pd.Timedelta(hours=4)
    # a review without text has no link: its id is the package and its submit time
    assert rows.loc["review:play.google.com:com.northwind.app:1709623800000", "rating"] == 3


def test_app_store_times_with_offsets_become_utc_and_the_response_answers_its_review():
    rows = rows_of("app_store_customer_reviews.json")
    review = rows.loc["review:apps.apple.com:00000012-3456-7890-abcd-000000000001"]
    assert review["created_at"] == pd.Timestamp("2024-03-04 09:15:22Z")  # 01:15:22-08:00
    assert review["text"] == "Logout bug\n\nSince 4.12 the app logs me out every morning."
    response = rows.loc["review:apps.apple.com:resp-0001"]
    assert response["parent_id"] == review.name
    assert response["created_at"] - review["created_at"] == pd.Timedelta("8h44m38s")


def test_reddit_posts_are_mentions_with_reach_and_deleted_comments_keep_no_text():
    rows = rows_of("reddit_comments.json")
    post = rows.loc["reddit:t3_1b6x2k"]
    assert (post["direction"], post["likes"], post["comments"], post["reach"]) == (
        "mention",
        57,
        4,
        61,
    )
    assert rows.loc["reddit:t1_kt0a9b", "direction"] == "outbound"  # NorthwindSupport
    deleted = rows.loc["reddit:t1_kt0b11"]
    assert pd.isna(deleted["text"]) and pd.isna(deleted["author_id"])
    assert deleted["parent_id"] == "reddit:t1_kt0a9b"
    assert rows.loc["reddit:t1_kt0d22", "likes"] == 0  # score -4
    assert "reddit:t1_kt0c00" not in rows.index  # a 'more' placeholder is not a comment


def test_survey_scores_comments_and_the_rated_channel():
    rows = rows_of("survey_nps.csv")
    assert rows["nps"].tolist() == [10, 9, 8, 6, 3, 10, 11]
    assert rows.loc["survey:northwind:R6", "rated_channel"] == "webform"  # 'Web Form'
    assert pd.isna(rows.loc["survey:northwind:R6", "csat"])
    assert set(rows["channel"]) == {"survey"}


def test_qualtrics_header_lines_are_not_responses_and_times_are_in_the_survey_zone():
    rows = rows_of("survey_qualtrics.csv")
    assert rows.index.tolist() == [
        "survey:northwind:R_1a2B3c4D5e6F7g8",
        "survey:northwind:R_2b3C4d5E6f7G8h9",
        "survey:northwind:R_3c4D5e6F7g8H9i0",
    ]
    assert rows["line"].tolist() == [4, 5, 6]
    # 08:01:10 in Denver (MST, UTC-7)
    assert rows["created_at"].iloc[0] == pd.Timestamp("2024-03-04 15:01:10Z")


def test_every_new_format_is_registered_with_its_source_columns_and_zone():
    for name in ("instagram", "tickets", "google-play", "app-store", "reddit", "survey"):
        module = adapters.get(name)
        assert name == module.NAME
        assert module.SOURCE and module.COLUMNS and module.ZONE


def test_list_formats_shows_each_new_format_with_its_source_columns_and_zone():
    done = subprocess.run(
        [sys.executable, "-m", "cxpulse.cli", "ingest", "--list-formats"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert (
        "survey: NPS / CSAT survey export, CSV (Qualtrics, Medallia, Zendesk CSAT via "
        "column_map)\n    columns: response_id, submitted_at, nps, csat, comment, customer_id, "
        "channel, brand\n    time zone: offset in the time, else the source's timezone "
        "(default UTC)\n"
    ) in done.stdout
    assert "qualtrics (params/sources.yaml: survey)" in done.stdout
