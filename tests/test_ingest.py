"""Loading files: the catalogue of bad inputs, idempotency, transactions, locks, the inbox."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from cxpulse import cli, warehouse
from cxpulse.adapters import AdapterError, AdapterOptions
from cxpulse.config import ParamsError, load_inbox
from cxpulse.ingest import (
    IngestResult,
    ingest_file,
    ingest_inbox,
    options_for,
    progress_line,
)

NOW = pd.Timestamp("2024-06-01", tz="UTC")
REVIEWS = "id,text,rating,title,likes,published,source\n"
PAGE = "https://www.trustpilot.com/review/www.northwind.com"
TWCS = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
AT = "Tue Oct 31 22:10:47 +0000 2017"
ACD = AdapterOptions(
    brand="Northwind",
    column_map={"id": "CallID", "created_at": "Start", "outcome": "Result", "wait_s": "Queue"},
)
ANONBANK = (
    "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\t"
    "q_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver\n"
)


def review(id_: str, text: str = "Fine", rating: str = "4", **kw: str) -> str:
    published = kw.get("published", "2024-03-01T10:00:00Z")
    return f"{id_},{text},{rating},,{kw.get('likes', '0')},{published},{kw.get('source', PAGE)}\n"


def reviews(*rows: str) -> bytes:
    return (REVIEWS + "".join(rows)).encode()


def stored(path: Path) -> pd.DataFrame:
    con = warehouse.connect(path, read_only=True)
    try:
        return con.execute("SELECT * FROM interactions ORDER BY id").df()
    finally:
        con.close()


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts, every kind of missing value as None (dtypes differ by what a column held)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def table(path: Path, sql: str) -> pd.DataFrame:
    con = warehouse.connect(path, read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


@pytest.fixture
def loaded(tmp_path) -> Path:
    """A warehouse holding three reviews, loaded from base.csv."""
    path = tmp_path / "w.duckdb"
    base = tmp_path / "base.csv"
    base.write_bytes(reviews(review("r1"), review("r2", "Awful", "1"), review("r3", likes="2")))
    ingest_file(base, "reviews", path, AdapterOptions(), now=NOW)
    return path


@dataclass(frozen=True)
class Case:
    """One bad input and its exact outcome: an error, or new rows and quarantined lines."""

    fmt: str
    content: bytes | None
    error: str | None = None
    new: int = 0
    quarantined: list[tuple[int, str]] = field(default_factory=list)
    options: AdapterOptions = AdapterOptions()
    name: str = "input.csv"


SURVEY = b"response_id,submitted_at,nps,csat\n"


def app_store_page(id_: str) -> dict:
    review = {"rating": 4, "body": "ok", "createdDate": "2024-03-04T09:00:00Z"}
    return {"data": [{"type": "customerReviews", "id": id_, "attributes": review}]}


NO_COMPANY = "no company in thread: no company account replied in this file and none is @-mentioned"
CATALOGUE = {
    "empty file": Case("reviews", b"", error="input.csv: empty file; expected a review-site CSV"),
    "header only": Case("reviews", reviews()),
    "wrong delimiter": Case(
        "reviews",
        REVIEWS.replace(",", ";").encode(),
        error=r"input.csv: the header line has 1 column\(s\) .*; it looks separated by ';'",
    ),
    "missing column": Case(
        "reviews",
        b"id,text,published\nr9,Fine,2024-03-01T10:00:00Z\n",
        error=r"input.csv: missing required column\(s\) \['rating'\]",
    ),
    "extra column": Case(
        "reviews", (REVIEWS[:-1] + ",extra\n" + review("r9")[:-1] + ",x\n").encode(), new=1
    ),
    "extra field in a row": Case(
        "reviews",
        reviews(review("r9"), review("r10")[:-1] + ",x\n"),
        new=1,
        quarantined=[(3, "expected 7 fields, got 8")],
    ),
    "BOM": Case("reviews", b"\xef\xbb\xbf" + reviews(review("r9")), new=1),
    "cp1252 text": Case(
        "reviews",
        reviews(review("r9", "caf\xe9")).decode().encode("cp1252"),
        error=r"input.csv: not UTF-8 text \(byte 0xe9 at line 2\).*encoding: cp1252",
    ),
    "cp1252 text, declared": Case(
        "reviews",
        reviews(review("r9", "caf\xe9")).decode().encode("cp1252"),
        new=1,
        options=AdapterOptions(encoding="cp1252"),
    ),
    "NUL bytes": Case(
        "reviews",
        reviews(review("r9"), review("r10", "a\x00b")),
        new=1,
        quarantined=[(3, "record contains NUL bytes")],
    ),
    "bare CR inside a field": Case(
        "twcs",
        (
            TWCS
            + f"1,sprintcare,False,{AT},@5 hi,,2\n"
            + f"2,5,True,{AT},@sprintcare one\rtwo\r\rthree,1,\n"
            + "3,5,True,yesterday,@sprintcare x,,\n"
        ).encode(),
        new=2,
        quarantined=[(4, "created_at: not a timestamp like 'Tue Oct 31 22:10:47 +0000 2017'")],
        name="twcs.csv",
    ),
    "unparseable date": Case(
        "reviews",
        reviews(review("r9", published="yesterday")),
        quarantined=[(2, "published: not an ISO 8601 timestamp")],
    ),
    "future date": Case(
        "reviews",
        reviews(review("r9", published="2030-01-01T00:00:00Z")),
        quarantined=[(2, "created_at is in the future")],
    ),
    "date before the floor": Case(
        "reviews",
        reviews(review("r9", published="1985-01-01T00:00:00Z")),
        quarantined=[(2, "created_at is before the floor 1990-01-01")],
    ),
    "negative duration": Case(
        "calls",
        b"CallID,Start,Result,Queue\nc1,2024-03-01 10:00,served,12\n"
        b"c2,2024-03-01 10:00,served,-5\n",
        new=1,
        quarantined=[(3, "wait_s must not be negative")],
        options=ACD,
    ),
    "duplicate ids in one file": Case(
        "reviews",
        reviews(review("r9"), review("r9", "Other")),
        quarantined=[
            (2, "id occurs more than once in this file"),
            (3, "id occurs more than once in this file"),
        ],
    ),
    "a 10 MB field": Case(
        "reviews",
        reviews(review("r9", "x" * 10_000_000), review("r10")),
        new=1,
        quarantined=[(2, "text longer than 100000 characters")],
    ),
    "rating 7": Case(
        "reviews", reviews(review("r9", rating="7")), quarantined=[(2, "rating must be 1 to 5")]
    ),
    "rating not a number": Case(
        "reviews",
        reviews(review("r9", rating="five")),
        quarantined=[(2, "rating: not a whole number of stars")],
    ),
    "JSON of another shape": Case(
        "x-api",
        json.dumps([{"id": "1", "text": "hi"}]).encode(),
        error="input.json: expected an X API v2 response.*got a list of 1 item",
        name="input.json",
    ),
    "truncated JSON": Case(
        "x-api",
        b'{"data": [{"id": "1", "text": "hi"}, {"id": "2", "te',
        error=r"input.json: not valid JSON \(.*line 1, column \d+; the file looks truncated\)",
        name="input.json",
    ),
    "a JSON record that is not an object": Case(
        "x-api",
        json.dumps({"data": ["oops"]}).encode(),
        quarantined=[(1, "record is not a JSON object")],
        name="input.json",
    ),
    "a gzip file named .csv": Case(
        "reviews",
        gzip.compress(reviews(review("r9"))),
        error="input.csv: gzip-compressed data, not a review-site CSV",
    ),
    "binary data": Case(
        "reviews", bytes(range(256)) * 4, error=r"input.csv: not UTF-8 text \(byte 0x80 at line 2\)"
    ),
    "UTF-16 without a byte-order mark": Case(
        "reviews",
        reviews(review("r9")).decode().encode("utf-16-le"),
        error="input.csv: NUL bytes in the header line: not a text CSV",
    ),
    "an unclosed quote": Case(
        "reviews",
        reviews('r9,"never closed,4,,0,2024-03-01T10:00:00Z,x\n', review("r10")),
        quarantined=[(2, "expected 7 fields, got 2")],
    ),
    "too few fields": Case(
        "reviews", reviews("r9,Fine\n"), quarantined=[(2, "expected 7 fields, got 2")]
    ),
    "missing id": Case("reviews", reviews(review("")), quarantined=[(2, "id is missing")]),
    "negative likes": Case(
        "reviews",
        reviews(review("r9", likes="-3")),
        quarantined=[(2, "likes must not be negative")],
    ),
    "no brand anywhere": Case(
        "reviews",
        reviews(review("r9", source="")),
        quarantined=[
            (2, "no brand: give --brand, a brand column or a source URL naming the review page")
        ],
    ),
    "CRLF line endings": Case(
        "reviews", reviews(review("r9"), review("r10")).replace(b"\n", b"\r\n"), new=2
    ),
    "a tweet with no company in its thread": Case(
        "twcs",
        (TWCS + f"7,5,True,{AT},@nobody hello,,\n").encode(),
        quarantined=[(2, NO_COMPANY)],
        name="twcs.csv",
    ),
    "a Facebook comment without a time": Case(
        "facebook",
        json.dumps({"data": [{"id": "1_2", "from": {"id": "9"}, "message": "hi"}]}).encode(),
        quarantined=[(1, "created_at is missing")],
        options=AdapterOptions(brand="Northwind"),
        name="input.json",
    ),
    "an unknown call outcome": Case(
        "calls",
        (
            ANONBANK
            + "AA01\t1\t0\t0\tPS\t990101\t9:00:00\t9:00:05\t5\t0:00:00\t0:00:00\t0\tTRANSFER"
            + "\t0:00:00\t0:00:00\t0\tNO_SERVER\n"
        ).encode(),
        quarantined=[(2, "outcome: expected AGENT, HANG or PHANTOM")],
        name="calls.txt",
    ),
    "a Google Play report in UTF-16 without its byte-order mark": Case(
        "google-play",
        (
            "Package Name,Review Submit Date and Time,Star Rating,Review Text\n"
            "com.northwind.app,2024-03-04T09:15:22Z,4,ok\n"
        ).encode("utf-16-le"),
        error="input.csv: NUL bytes in the header line: not a text CSV",
    ),
    "App Store pages saved as one JSON list": Case(
        "app-store",
        json.dumps([app_store_page("a1"), app_store_page("a2")]).encode(),
        new=2,
        options=AdapterOptions(brand="Northwind"),
        name="input.json",
    ),
    "a review list without its App Store page wrapper": Case(
        "app-store",
        json.dumps(app_store_page("a1")["data"]).encode(),
        error=(
            r"input.json: expected an App Store Connect customerReviews response.*; "
            r"got an object with keys \['attributes', 'id', 'type'\]"
        ),
        options=AdapterOptions(brand="Northwind"),
        name="input.json",
    ),
    "an Instagram reply listed before its parent": Case(
        "instagram",
        json.dumps(
            {
                "data": [
                    {
                        "id": "2",
                        "text": "me too",
                        "timestamp": "2024-03-04T10:00:00+0000",
                        "username": "ola",
                        "parent_id": "1",
                    },
                    {
                        "id": "1",
                        "text": "refund?",
                        "timestamp": "2024-03-04T09:00:00+0000",
                        "username": "mike",
                    },
                ]
            }
        ).encode(),
        new=2,
        options=AdapterOptions(brand="Northwind"),
        name="input.json",
    ),
    "an Instagram comment deleted while the export ran": Case(
        "instagram",
        json.dumps({"data": [{"id": "3", "username": "ghost"}]}).encode(),
        quarantined=[(1, "created_at is missing")],
        options=AdapterOptions(brand="Northwind"),
        name="input.json",
    ),
    "a deleted Reddit comment": Case(
        "reddit",
        json.dumps(
            {
                "kind": "Listing",
                "data": {
                    "children": [
                        {
                            "kind": "t1",
                            "data": {
                                "name": "t1_x",
                                "author": "[deleted]",
                                "body": "[deleted]",
                                "created_utc": 1709548000.0,
                                "score": 1,
                                "parent_id": "t3_p",
                                "link_id": "t3_p",
                            },
                        }
                    ]
                },
            }
        ).encode(),
        new=1,
        options=AdapterOptions(brand="Northwind"),
        name="input.json",
    ),
    "a Zendesk ticket from a channel we do not read": Case(
        "tickets",
        json.dumps(
            {
                "tickets": [
                    {
                        "id": 1,
                        "via": {"channel": "telegram"},
                        "subject": "hi",
                        "created_at": "2024-03-04T09:00:00Z",
                        "requester_id": 5,
                    }
                ]
            }
        ).encode(),
        quarantined=[
            (
                1,
                "via.channel: expected one of email, web, api, mobile_sdk, web_widget, "
                "chat, native_messaging, voice",
            )
        ],
        options=AdapterOptions(brand="Northwind"),
        name="input.json",
    ),
    "an NPS score of 11": Case(
        "survey",
        SURVEY + b"R1,2024-03-04T09:00:00Z,9,\nR2,2024-03-04T09:00:00Z,11,\n",
        new=1,
        quarantined=[(3, "nps must be 0 to 10")],
        options=AdapterOptions(brand="Northwind"),
    ),
    "a CSAT of 0": Case(
        "survey",
        SURVEY + b"R1,2024-03-04T09:00:00Z,,0\n",
        quarantined=[(2, "csat must be 1 to 5")],
        options=AdapterOptions(brand="Northwind"),
    ),
    "a survey response without a score": Case(
        "survey",
        SURVEY + b"R1,2024-03-04T09:00:00Z,,\n",
        quarantined=[(2, "no score: nps and csat are both blank")],
        options=AdapterOptions(brand="Northwind"),
    ),
    "a Qualtrics export read without its column map": Case(
        "survey",
        b"StartDate,RecordedDate,ResponseId,Q1\n2024-03-04,2024-03-04,R_1,9\n",
        error=r"input.csv: missing required column\(s\) \['response_id', 'submitted_at'\]",
    ),
    "a file that is not there": Case("reviews", None, error="input.csv: file not found"),
    "an unknown format": Case("tiktok", reviews(review("r9")), error="unknown format 'tiktok'"),
}


@pytest.mark.parametrize("case", CATALOGUE.values(), ids=CATALOGUE.keys())
def test_bad_input_has_its_exact_outcome_and_stored_rows_stay(tmp_path, loaded, case):
    before = stored(loaded)
    before_quarantine = table(loaded, "SELECT * FROM quarantine")
    path = tmp_path / case.name
    if case.content is not None:
        path.write_bytes(case.content)
    if case.error:
        with pytest.raises(AdapterError, match=case.error):
            ingest_file(path, case.fmt, loaded, case.options, now=NOW)
        assert records(stored(loaded)) == records(before)
        assert records(table(loaded, "SELECT * FROM quarantine")) == records(before_quarantine)
        return
    result = ingest_file(path, case.fmt, loaded, case.options, now=NOW)
    assert (
        result.rows_read == result.inserted + result.updated + result.unchanged + result.quarantined
    )
    assert (result.inserted, result.updated) == (case.new, 0)
    got = table(loaded, f"SELECT line, reason FROM quarantine WHERE source_file = '{path}'")
    assert list(got.itertuples(index=False, name=None)) == case.quarantined
    after = stored(loaded)
    assert records(after[after["id"].isin(before["id"])]) == records(before)


def test_the_catalogue_is_at_least_twenty_bad_inputs():
    assert len(CATALOGUE) >= 20


def test_quarantine_keeps_raw_text_masked_and_cut(tmp_path):
    path = tmp_path / "w.duckdb"
    source = tmp_path / "in.csv"
    source.write_bytes(
        reviews(
            '"r1","mail ann@example.com or call +44 20 7946 0958\nsoon",7,,0,'
            "2024-03-01T10:00:00Z,x\n",
            review("r2", "y" * 200_000),
        )
    )
    ingest_file(source, "reviews", path, AdapterOptions(), now=NOW)
    got = table(path, "SELECT line, raw FROM quarantine ORDER BY line")
    assert got["line"].tolist() == [2, 4]
    assert (
        got["raw"].iloc[0]
        == '"r1","mail [email] or call [phone]\nsoon",7,,0,2024-03-01T10:00:00Z,x'
    )
    long_line = len(review("r2", "y" * 200_000)) - 1
    assert got["raw"].iloc[1].endswith(f"... [cut: {long_line:,} characters in all]")


def test_quarantined_raw_keeps_tweet_ids_and_timestamps_and_masks_phone_numbers(tmp_path):
    lines = [
        "1234567890123456789,115712,maybe,2017-10-31T22:10:47+00:00,"
        "@sprintcare call me on +44 20 7946 0958 or 555-123-4567,,987654321098765432",
        f"1509487847,2244994945,maybe,{AT},@sprintcare ring (020) 7946-0958,1509487847123,",
    ]
    source = tmp_path / "twcs.csv"
    source.write_bytes((TWCS + "".join(line + "\n" for line in lines)).encode())
    ingest_file(source, "twcs", tmp_path / "w.duckdb", AdapterOptions(), now=NOW)
    got = table(tmp_path / "w.duckdb", "SELECT line, raw FROM quarantine ORDER BY line")
    assert got.values.tolist() == [
        [
            2,
            "1234567890123456789,115712,maybe,2017-10-31T22:10:47+00:00,"
            "@sprintcare call me on [phone] or [phone],,987654321098765432",
        ],
        [3, f"1509487847,2244994945,maybe,{AT},@sprintcare ring [phone],1509487847123,"],
    ]


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("call +44 20 7946 0958 now", "call [phone] now"),
        ("ring (020) 7946-0958 or 555-123-4567", "ring [phone] or [phone]"),
        ("ring +1 (555) 123-4567, or me 07946095800", "ring [phone], or me [phone]"),
        ("mail ann@example.com", "mail [email]"),
        ("1234567890123456789,2244994945,1509487847,1509487847123", None),
        ("2017-10-31T22:10:47.000Z,2017-10-31 22:10:47+00:00,31.10.2017", None),
        ("Tue Oct 31 22:10:47 +0000 2017", None),
        ("AA0101\t12345\t23463652\t0\tPS\t990101\t9:00:00", None),
        ("AA0101 12345 23463652 0 PS 990101 9:00:00", None),
        ('123456789_987654321,@user5551234567,{"author_id": 2244994945}', None),
    ],
)
def test_quarantine_raw_masks_phone_numbers_and_e_mails_but_not_ids_or_times(raw, masked):
    from cxpulse.ingest import mask_raw

    assert mask_raw(raw) == (raw if masked is None else masked)


TWCS_HOURS = [f"Wed Nov 01 0{h}:00:00 +0000 2017" for h in range(1, 6)]
SKIPPED_KINDS = {
    "an extra field": ("9,sprintcare,False,{at},@5 extra,,,x", "expected 7 fields, got 8"),
    "a NUL byte": ("9,sprintcare,False,{at},@5 nul\x00here,,", "record contains NUL bytes"),
    "an all-empty record": (",,,,,,", "record is empty: every field is blank"),
    "an empty created_at": ("9,sprintcare,False,,@5 no time,,", "created_at is missing"),
}


@pytest.mark.parametrize("kind", SKIPPED_KINDS.values(), ids=SKIPPED_KINDS.keys())
def test_ingest_skipped_row_keeps_later_timestamps(tmp_path, capsys, kind):
    bad, reason = kind
    lines = [f"{n},sprintcare,False,{at},@5 tweet {n},," for n, at in enumerate(TWCS_HOURS, 1)]
    lines[1] = bad.format(at=TWCS_HOURS[1])
    source = tmp_path / "twcs.csv"
    source.write_bytes((TWCS + "".join(line + "\n" for line in lines)).encode())
    wh = tmp_path / "w.duckdb"
    params = write_params(tmp_path / "params", "{}")
    args = ["ingest", "--format", "twcs", str(source), "--warehouse", str(wh)]
    assert cli.main([*args, "--params", str(params)]) == 0
    got = table(wh, "SELECT id, created_at, text FROM interactions ORDER BY id")
    assert got["id"].tolist() == ["twitter:1", "twitter:3", "twitter:4", "twitter:5"]
    assert got["created_at"].dt.strftime("%H:%M").tolist() == ["01:00", "03:00", "04:00", "05:00"]
    assert got["text"].tolist() == ["@5 tweet 1", "@5 tweet 3", "@5 tweet 4", "@5 tweet 5"]
    quarantined = table(wh, "SELECT line, reason, raw FROM quarantine")
    assert quarantined.values.tolist() == [
        [3, reason, bad.format(at=TWCS_HOURS[1]).replace("\x00", "\\x00")]
    ]
    assert "4 new, 0 updated, 0 unchanged, 1 quarantined" in capsys.readouterr().out


def test_text_is_masked_and_authors_pseudonymised_before_storage(tmp_path):
    path = tmp_path / "w.duckdb"
    source = tmp_path / "in.csv"
    source.write_bytes(
        b"id,text,rating,published,brand,author_id\n"
        b"r1,write to bob.smith@example.co.uk,2,2024-03-01T10:00:00Z,N,bob@example.com\n"
        b"r2,call (020) 7946-0958 now,2,2024-03-01T10:00:00Z,N,4711\n"
    )
    ingest_file(source, "reviews", path, AdapterOptions(), now=NOW)
    rows = stored(path)
    assert rows["text"].tolist() == ["write to [email]", "call [phone] now"]
    assert rows["author_id"].iloc[0].startswith("sha256:") and rows["author_id"].iloc[1] == "4711"
    again = tmp_path / "w2.duckdb"
    ingest_file(source, "reviews", again, AdapterOptions(hash_authors=True), now=NOW)
    assert stored(again)["author_id"].str.match(r"sha256:[0-9a-f]{16}$").all()


def test_ingest_same_file_twice_adds_nothing_and_says_so(tmp_path, loaded):
    before = stored(loaded)
    result = ingest_file(tmp_path / "base.csv", "reviews", loaded, AdapterOptions(), now=NOW)
    copy = tmp_path / "copy.csv"
    copy.write_bytes((tmp_path / "base.csv").read_bytes())
    second = ingest_file(copy, "reviews", loaded, AdapterOptions(), now=NOW)
    assert (result.status, second.status) == ("skipped", "skipped")
    assert "same content already loaded from" in result.summary()
    assert str(tmp_path / "base.csv") in second.message
    pd.testing.assert_frame_equal(stored(loaded), before)


def test_an_overlapping_export_updates_grown_counts_without_duplicating(tmp_path, loaded):
    later = tmp_path / "later.csv"
    later.write_bytes(reviews(review("r1"), review("r2", "Awful", "1", likes="5"), review("r4")))
    result = ingest_file(later, "reviews", loaded, AdapterOptions(), now=NOW)
    assert (result.inserted, result.updated, result.unchanged) == (1, 1, 1)
    assert result.texts_scored == 0  # "Fine" and "Awful" were scored the first time
    rows = stored(loaded).set_index("id")
    assert rows.index.tolist() == [f"review:trustpilot.com:r{n}" for n in range(1, 5)]
    assert rows.loc["review:trustpilot.com:r2", "likes"] == 5
    assert rows.loc["review:trustpilot.com:r2", "sentiment"] < 0


def test_an_unrelated_export_reusing_tweet_ids_is_quarantined_as_conflicts(tmp_path, capsys):
    wh = tmp_path / "w.duckdb"
    first = tmp_path / "twcs.csv"
    first.write_bytes(
        (TWCS + "".join(f"{n},sprintcare,False,{AT},@5 ours {n},,\n" for n in range(1, 5))).encode()
    )
    ingest_file(first, "twcs", wh, AdapterOptions(), now=NOW)
    before = stored(wh)
    other = tmp_path / "other-twcs.csv"
    other.write_bytes(
        (
            TWCS
            + f"1,AmazonHelp,False,{AT},@7 theirs 1,,\n"  # brand and text differ
            + "2,sprintcare,False,Wed Nov 01 09:00:00 +0000 2017,@5 ours 2,,\n"  # time differs
            + f"3,sprintcare,False,{AT},@5 ours 3,,\n"  # the same tweet
            + f"9,AmazonHelp,False,{AT},@7 theirs 9,,\n"  # a new one
        ).encode()
    )
    params = write_params(tmp_path / "params", "{}")
    args = ["ingest", "--format", "twcs", str(other), "--warehouse", str(wh)]
    assert cli.main([*args, "--params", str(params)]) == 0
    assert capsys.readouterr().out.startswith(
        f"{other}: read 4 rows: 1 new, 0 updated, 1 unchanged, "
        "2 quarantined (2 in conflict with stored rows);"
    )
    after = stored(wh)
    assert records(after[after["id"] != "twitter:9"]) == records(before)
    got = table(wh, "SELECT line, reason, raw FROM quarantine ORDER BY line")
    assert got[["line", "reason"]].values.tolist() == [
        [2, "conflict: id twitter:1 is stored with another brand, text; the stored row is kept"],
        [3, "conflict: id twitter:2 is stored with another created_at; the stored row is kept"],
    ]
    incoming, stored_version = got["raw"].iloc[0].split("\n[stored] ")
    assert incoming == f"1,AmazonHelp,False,{AT},@7 theirs 1,,"
    assert json.loads(stored_version) == {
        "brand": "sprintcare",
        "created_at": "2017-10-31 22:10:47+00",
        "direction": "outbound",
        "text": "@5 ours 1",
    }
    log = table(wh, "SELECT rows_quarantined, rows_conflicting FROM ingest_log ORDER BY started_at")
    assert log.values.tolist() == [[0, 0], [2, 2]]
    assert cli.main(["status", "--warehouse", str(wh)]) == 0
    status = capsys.readouterr().out
    assert "1 conflict: id ... is stored with another brand, text; the stored row" in status


def test_reviews_from_two_sites_with_the_same_local_id_are_two_reviews(tmp_path):
    wh = tmp_path / "w.duckdb"
    for site in ("www.trustpilot.com", "www.sitejabber.com"):
        source = tmp_path / f"{site}.csv"
        source.write_bytes(
            reviews(review("17", f"On {site}", source=f"https://{site}/review/x.com"))
        )
        result = ingest_file(source, "reviews", wh, AdapterOptions(brand="Northwind"), now=NOW)
        assert (result.inserted, result.conflicts) == (1, 0)
    assert stored(wh)[["id", "text"]].values.tolist() == [
        ["review:sitejabber.com:17", "On www.sitejabber.com"],
        ["review:trustpilot.com:17", "On www.trustpilot.com"],
    ]


def test_a_warehouse_with_unscoped_ids_takes_the_scoped_ids_without_duplicating(tmp_path, loaded):
    con = warehouse.connect(loaded)
    con.execute(  # ids as they were before review ids were scoped by site
        "UPDATE interactions SET id = 'review:' || split_part(id, ':', 3), "
        "thread_id = 'review:' || split_part(thread_id, ':', 3)"
    )
    con.close()
    again = tmp_path / "again.csv"
    again.write_bytes((tmp_path / "base.csv").read_bytes() + review("r4").encode())
    result = ingest_file(again, "reviews", loaded, AdapterOptions(), now=NOW)
    assert (result.inserted, result.updated, result.unchanged, result.conflicts) == (1, 0, 3, 0)
    rows = stored(loaded)
    assert rows["id"].tolist() == [f"review:trustpilot.com:r{n}" for n in range(1, 5)]
    assert (rows["thread_id"] == rows["id"]).all()


def test_a_failed_file_is_logged_and_loads_nothing(tmp_path, loaded):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"")
    with pytest.raises(AdapterError):
        ingest_file(bad, "reviews", loaded, AdapterOptions(), now=NOW)
    log = table(loaded, "SELECT source_file, status, message FROM ingest_log ORDER BY started_at")
    assert log["status"].tolist() == ["loaded", "failed"]
    assert log["message"].iloc[1].startswith(f"{bad}: empty file")


KILL_SCRIPT = """
import os, signal, sys
import pandas as pd
from cxpulse import ingest, warehouse
from cxpulse.adapters import AdapterOptions

real_quarantine = warehouse.quarantine

def quarantine_then_die(con, rejects):
    real_quarantine(con, rejects)
    os.kill(os.getpid(), signal.SIGKILL)

warehouse.quarantine = quarantine_then_die
ingest.ingest_file(sys.argv[1], "reviews", sys.argv[2], AdapterOptions(),
                   now=pd.Timestamp("2024-06-01", tz="UTC"))
"""


def test_a_kill_mid_load_leaves_the_warehouse_as_it_was(tmp_path, loaded):
    before = stored(loaded)
    later = tmp_path / "later.csv"
    later.write_bytes(reviews(review("r1", likes="9"), review("r5"), review("r6", rating="9")))
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILL_SCRIPT), str(later), str(loaded)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    pd.testing.assert_frame_equal(stored(loaded), before)
    assert table(loaded, "SELECT count(*) AS n FROM quarantine")["n"].tolist() == [0]
    assert table(loaded, "SELECT status FROM ingest_log")["status"].tolist() == ["loaded"]
    result = ingest_file(later, "reviews", loaded, AdapterOptions(), now=NOW)
    assert (result.inserted, result.updated, result.quarantined) == (1, 1, 1)


def test_a_second_ingest_waits_for_the_first_to_finish(tmp_path, loaded):
    later = tmp_path / "later.csv"
    later.write_bytes(reviews(review("r7")))
    released = threading.Event()

    def hold() -> None:
        with warehouse.lock(loaded):
            released.wait(5)
            time.sleep(0.5)

    holder = threading.Thread(target=hold)
    holder.start()
    started = time.monotonic()
    released.set()
    result = ingest_file(later, "reviews", loaded, AdapterOptions(), now=NOW)
    holder.join()
    assert result.inserted == 1
    assert time.monotonic() - started >= 0.4


def test_a_writer_that_cannot_get_the_lock_fails_clearly(loaded):
    busy = pytest.raises(warehouse.WarehouseLocked, match=r"\.lock is held by pid \d+ ")
    with warehouse.lock(loaded), busy, warehouse.lock(loaded, wait_s=0.3):
        pass


def write_params(folder: Path, sources: str, inbox: str | None = None) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "sources.yaml").write_text(textwrap.dedent(sources))
    if inbox is not None:
        (folder / "inbox.yaml").write_text(textwrap.dedent(inbox))
    return folder


def test_a_new_channel_needs_a_mapping_not_code(tmp_path):
    params = write_params(
        tmp_path / "params",
        """
        sources:
          pinterest:
            format: mentions
            channel: pinterest
            timezone: America/New_York
            column_map: {id: pin_id, created_at: created, text: description, likes: saves}
        """,
    )
    export = tmp_path / "pins.csv"
    export.write_text("pin_id,created,description,saves\np1,2024-01-05 10:00,love it,3\n")
    options = options_for("pinterest", params, brand="Northwind")
    result = ingest_file(export, "pinterest", tmp_path / "w.duckdb", options, now=NOW)
    assert result.inserted == 1
    row = stored(tmp_path / "w.duckdb").iloc[0]
    assert (row["id"], row["channel"], row["brand"], row["likes"]) == (
        "pinterest:northwind:p1",
        "pinterest",
        "Northwind",
        3,
    )
    assert row["created_at"] == pd.Timestamp("2024-01-05 15:00", tz="UTC")
    log = table(tmp_path / "w.duckdb", "SELECT format FROM ingest_log")
    assert log["format"].tolist() == ["pinterest"]


def test_options_come_from_the_source_and_the_defaults(tmp_path):
    params = write_params(
        tmp_path / "params",
        """
        floor: 2000-01-01
        hash_authors: true
        sources:
          bank: {format: calls, brand: Bank, timezone: Asia/Jerusalem, hash_authors: false}
        """,
    )
    bank = options_for("bank", params)
    assert (bank.adapter, bank.brand, bank.timezone, bank.hash_authors) == (
        "calls",
        "Bank",
        "Asia/Jerusalem",
        False,
    )
    assert bank.floor == pd.Timestamp("2000-01-01", tz="UTC")
    twcs = options_for("twcs", params, brand="X")
    assert (twcs.adapter, twcs.brand, twcs.timezone, twcs.hash_authors) == ("twcs", "X", None, True)
    with pytest.raises(
        AdapterError, match="unknown format 'tiktok'; expected an adapter or a source"
    ):
        options_for("tiktok", params)


@pytest.mark.parametrize(
    ("sources", "message"),
    [
        (
            "sources: {x: {format: calls, timezone: Mars/Base}}",
            "key 'sources.x.timezone'.*unknown IANA timezone",
        ),
        ("sources: {tumblr: {channel: tumblr}}", "key 'sources.tumblr.format': missing"),
        (
            "sources: {t: {format: mentions, column_map: {body: x}}}",
            r"key 'sources.t.column_map': unknown field\(s\) \['body'\]",
        ),
        ("sources: {t: {format: calls, outcomes: {OK: fine}}}", "key 'sources.t.outcomes'"),
        (
            "sources: {t: {format: reviews, encoding: klingon}}",
            "key 'sources.t.encoding'.*unknown encoding 'klingon'",
        ),
        ("flor: 2000-01-01", "key 'flor': unknown key"),
    ],
)
def test_params_mistakes_name_the_file_and_key(tmp_path, sources, message):
    params = write_params(tmp_path / "params", sources)
    with pytest.raises(ParamsError, match=f"sources.yaml: {message}"):
        options_for("twcs", params)


def test_the_project_params_are_valid():
    params = Path(__file__).resolve().parents[1] / "params"
    assert options_for("anonbank", params).timezone == "Asia/Jerusalem"
    assert options_for("tumblr", params).column_map["id"] == "post_id"
    assert options_for("twcs", params).adapter == "twcs"
    assert load_inbox(params).files[0].format == "twcs"


@pytest.fixture
def inbox_params(tmp_path) -> Path:
    return write_params(
        tmp_path / "params",
        "sources: {trustpilot: {format: reviews}}\n",
        f"""
        inbox: {tmp_path / "inbox"}
        archive: {tmp_path / "archive"}
        files:
          - {{pattern: "*_reviews.csv", format: trustpilot}}
          - {{pattern: "twcs*.csv", format: twcs}}
        """,
    )


def test_the_inbox_loads_new_files_archives_them_and_leaves_the_rest(tmp_path, inbox_params):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "northwind_reviews.csv").write_bytes(reviews(review("r1")))
    (inbox / "twcs-bad.csv").write_bytes(b"")
    (inbox / "notes.txt").write_text("hello")
    (inbox / "contoso_reviews.csv.part").write_bytes(reviews(review("r2")))
    results = ingest_inbox(tmp_path / "w.duckdb", inbox_params, now=NOW)
    got = {r.path.name: r for r in results}
    assert sorted(got) == ["northwind_reviews.csv", "notes.txt", "twcs-bad.csv"]
    assert got["northwind_reviews.csv"].inserted == 1
    assert (
        got["northwind_reviews.csv"].archived_to == tmp_path / "archive" / "northwind_reviews.csv"
    )
    assert got["twcs-bad.csv"].status == "failed" and "empty file" in got["twcs-bad.csv"].message
    assert got["notes.txt"].status == "skipped" and "no pattern" in got["notes.txt"].message
    assert sorted(p.name for p in inbox.iterdir()) == [
        "contoso_reviews.csv.part",
        "notes.txt",
        "twcs-bad.csv",
    ]
    assert stored(tmp_path / "w.duckdb")["brand"].tolist() == ["northwind"]


def test_the_inbox_archives_a_file_seen_before_without_loading_it_again(tmp_path, inbox_params):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a_reviews.csv").write_bytes(reviews(review("r1")))
    ingest_inbox(tmp_path / "w.duckdb", inbox_params, now=NOW)
    (inbox / "a_reviews.csv").write_bytes(reviews(review("r1")))
    again = ingest_inbox(tmp_path / "w.duckdb", inbox_params, now=NOW)
    assert [r.status for r in again] == ["skipped"]
    (inbox / "a_reviews.csv").write_bytes(reviews(review("r1"), review("r2")))
    third = ingest_inbox(tmp_path / "w.duckdb", inbox_params, now=NOW)
    assert third[0].inserted == 1 and third[0].archived_to.name.startswith("a_reviews.")
    assert third[0].archived_to.name != "a_reviews.csv"
    archived = {p.name for p in (tmp_path / "archive").iterdir()}
    assert archived == {"a_reviews.csv", third[0].archived_to.name}
    assert list(inbox.iterdir()) == []


def test_an_inbox_rule_with_an_unknown_format_is_a_params_error(tmp_path):
    params = write_params(
        tmp_path / "params", "{}", "files: [{pattern: '*.csv', format: tiktok}]\n"
    )
    with pytest.raises(
        ParamsError, match=r"inbox.yaml: key 'files.0.format': unknown format 'tiktok'"
    ):
        ingest_inbox(tmp_path / "w.duckdb", params)


def test_progress_line_gives_rows_rate_and_eta():
    assert progress_line("scoring", 20_000, 100_000, 2.0) == (
        "scoring: 20,000/100,000 rows (20%), 10,000 rows/s, ETA 8 s"
    )
    assert progress_line("scoring", 0, 10, 0.0).endswith("0 rows/s, ETA --")
    assert progress_line("s", 1_000, 1_000_000, 1.0).endswith("ETA 16 min 39 s")


def test_big_loads_show_one_progress_line_over_the_file(tmp_path, monkeypatch, capsys):
    from cxpulse import ingest

    monkeypatch.setattr(ingest, "PROGRESS_BYTES", 2)
    source = tmp_path / "in.csv"
    source.write_bytes(reviews(*(review(f"r{i}", f"text {i}") for i in range(5))))
    result = ingest_file(
        source, "reviews", tmp_path / "w.duckdb", AdapterOptions(), now=NOW, chunk_bytes=64
    )
    assert (result.inserted, result.texts_scored) == (5, 5)
    assert f"loading {source}: 6/6 lines (100%)" in capsys.readouterr().err


def test_cli_ingest_then_status(tmp_path, capsys):
    source = tmp_path / "acme_reviews.csv"
    source.write_bytes(reviews(review("r1"), review("r2", rating="9")))
    wh = str(tmp_path / "w.duckdb")
    params = write_params(tmp_path / "params", "{}")
    args = [
        "ingest",
        "--format",
        "reviews",
        str(source),
        "--warehouse",
        wh,
        "--params",
        str(params),
    ]
    assert cli.main(args) == 0
    assert cli.main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"{source}: read 2 rows: 1 new, 0 updated, 0 unchanged, 1 quarantined; 1 new texts scored"
    )
    assert out[1].endswith("nothing to do")
    assert cli.main(["status", "--warehouse", wh]) == 0
    status = capsys.readouterr().out
    assert "Interactions: 1 rows" in status
    assert "review  acme" in status
    assert "1 rating must be 1 to 5" in status
    assert (
        cli.main(["ingest", "--format", "reviews", str(tmp_path / "nope.csv"), "--warehouse", wh])
        == 2
    )
    assert "file not found" in capsys.readouterr().err


@pytest.fixture(scope="module")
def real_warehouse(real_data, tmp_path_factory) -> tuple[Path, list[IngestResult]]:
    """All three real samples loaded into one warehouse with the project's params."""
    params = Path(__file__).resolve().parents[1] / "params"
    path = tmp_path_factory.mktemp("real") / "w.duckdb"
    files = {
        "twcs": sorted((real_data / "twcs-head5k").glob("*.csv")),
        "trustpilot": sorted((real_data / "trustpilot-pet-insurance").glob("*.csv")),
        "anonbank": sorted((real_data / "callcenter-anonbank-1999").glob("*.txt")),
    }
    results = [
        ingest_file(f, fmt, path, options_for(fmt, params))
        for fmt, paths in files.items()
        for f in paths
    ]
    return path, results


def test_every_real_row_is_stored_or_quarantined(real_warehouse):
    path, results = real_warehouse
    assert sum(r.rows_read for r in results) == 5000 + 26878 + 31599 + 34625
    assert sum(r.quarantined for r in results) == 0
    counts = table(
        path, "SELECT channel, count(*) AS n FROM interactions GROUP BY channel ORDER BY channel"
    )
    assert counts.values.tolist() == [["phone", 66224], ["review", 26878], ["twitter", 5000]]
    assert (
        table(
            path, "SELECT count(*) AS n FROM interactions WHERE sentiment IS NULL AND text <> ''"
        )["n"][0]
        == 0
    )


def test_reingesting_the_real_samples_changes_nothing(real_warehouse, tmp_path):
    path, results = real_warehouse
    before = stored(path)
    params = Path(__file__).resolve().parents[1] / "params"
    fmt = {"twcs.csv": "twcs", "january.txt": "anonbank", "october.txt": "anonbank"}
    again = [
        ingest_file(
            r.path,
            fmt.get(r.path.name, "trustpilot"),
            path,
            options_for(fmt.get(r.path.name, "trustpilot"), params),
        )
        for r in results
    ]
    assert {r.status for r in again} == {"skipped"}
    reexport = tmp_path / "twcs.csv"
    reexport.write_bytes(results[0].path.read_bytes() + b"\n")  # same rows, new content hash
    result = ingest_file(reexport, "twcs", path, options_for("twcs", params))
    assert (result.inserted, result.updated, result.unchanged, result.quarantined) == (
        0,
        0,
        5000,
        0,
    )
    after = stored(path)
    columns = [c for c in after.columns if c not in ("source_file", "ingested_at")]
    pd.testing.assert_frame_equal(after[columns], before[columns])


def test_cli_inbox_fails_when_a_file_cannot_be_read(tmp_path, inbox_params, capsys):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "twcs-1.csv").write_bytes(b"tweet_id\n1\n")
    args = ["ingest", "--inbox", "--params", str(inbox_params)]
    assert cli.main([*args, "--warehouse", str(tmp_path / "w.duckdb")]) == 2
    assert "twcs-1.csv: FAILED: " in capsys.readouterr().out


def test_the_fast_pii_pass_masks_exactly_what_the_exact_patterns_do():
    from cxpulse.ingest import mask_pii, mask_text

    texts = [
        "mail ann@example.com now",
        "call +44 20 7946 0958 or (020) 7946-0958",
        "١٢٣٤٥٦٧٨٩٠ in Arabic digits",
        "phone\u00a0020\u00a07946\u00a00958",
        "@sprintcare hi. my order 1234 is late",
        "x@y and 12345",
        "call 020\x0b7946\x0b0958 now",  # vertical tabs: Python's \s, not Arrow's
        "call 020\x0c7946\x0c0958 now",
    ]
    assert mask_pii(pd.Series(texts, dtype="string")).tolist() == [mask_text(t) for t in texts]


def warehouse_content(path: Path) -> tuple[list[dict], list[tuple], list[tuple]]:
    """Interactions (by id), quarantine (by line, reason) and the log's counts."""
    con = warehouse.connect(path, read_only=True)
    try:
        rows = con.execute("SELECT * FROM interactions ORDER BY id").df()
        quarantine = con.execute(
            "SELECT line, reason, raw FROM quarantine ORDER BY line, reason"
        ).fetchall()
        log = con.execute(
            "SELECT status, rows_read, rows_inserted, rows_updated, rows_unchanged, "
            "rows_quarantined, rows_conflicting FROM ingest_log ORDER BY started_at, status"
        ).fetchall()
    finally:
        con.close()
    return records(rows), quarantine, log


def test_twcs_in_tiny_chunks_stores_what_one_chunk_stores(tmp_path, real_data):
    """Threads span chunks: the second pass finds each tweet's brand and root from links
    read in the first, so the rows are the same as when the file is one chunk."""
    from cxpulse import adapters

    source = real_data / "twcs-head5k" / "twcs.csv"
    options = options_for("twcs", Path(__file__).resolve().parents[1] / "params")
    assert len(list(adapters.chunks("twcs", source, options, 16384))) > 50
    loaded = {}
    for size in (16384, 1 << 30):
        target = tmp_path / f"w{size}.duckdb"
        ingest_file(source, "twcs", target, options, now=NOW, chunk_bytes=size)
        loaded[size] = warehouse_content(target)
    rows, quarantine, log = loaded[16384]
    assert len(rows) > 4000 and any(r["thread_id"] != r["id"] for r in rows)
    assert loaded[16384] == loaded[1 << 30]


def test_ids_repeated_across_chunks_and_conflicts_are_quarantined_with_their_lines(tmp_path):
    """Each chunk is validated alone: an id that two chunks hold is still quarantined in
    both places, and a conflict's raw text is its record read again from the file."""
    body = [review(f"r{i}", f"text number {i}") for i in range(1, 9)]
    body[6] = review("r2", "the same id again")
    source = tmp_path / "in.csv"
    source.write_bytes(reviews(*body))
    earlier = tmp_path / "earlier.csv"
    earlier.write_bytes(reviews(review("r5", "another message")))
    loaded = {}
    for size in (48, 1 << 30):
        target = tmp_path / f"w{size}.duckdb"
        ingest_file(earlier, "reviews", target, AdapterOptions(brand="acme"), now=NOW)
        result = ingest_file(
            source, "reviews", target, AdapterOptions(brand="acme"), now=NOW, chunk_bytes=size
        )
        assert (result.inserted, result.quarantined, result.conflicts) == (5, 3, 1)
        loaded[size] = warehouse_content(target)
    assert loaded[48] == loaded[1 << 30]
    _, quarantine, _ = loaded[48]
    assert [(line, reason) for line, reason, _ in quarantine] == [
        (3, "id occurs more than once in this file"),
        (
            6,
            "conflict: id review:trustpilot.com:r5 is stored with another text; the stored "
            "row is kept",
        ),
        (8, "id occurs more than once in this file"),
    ]
    assert quarantine[1][2].startswith(body[4].rstrip("\n") + "\n[stored] {")
    assert quarantine[2][2] == body[6].rstrip("\n")


def test_a_conflict_from_a_file_without_lines_shows_its_fields_as_json(tmp_path):
    """A Parquet export has no lines to read again: the quarantine shows the row's fields."""

    def export(name: str, text: str) -> Path:
        path = tmp_path / name
        pd.DataFrame(
            {
                "id": ["twitter:p1"],
                "channel": ["twitter"],
                "brand": ["Northwind"],
                "direction": ["inbound"],
                "created_at": [pd.Timestamp("2024-03-01 10:00", tz="UTC")],
                "text": [text],
            }
        ).to_parquet(path)
        return path

    wh = tmp_path / "w.duckdb"
    ingest_file(export("a.parquet", "first words"), "canonical", wh, now=NOW)
    result = ingest_file(export("b.parquet", "other words"), "canonical", wh, now=NOW)
    assert (result.inserted, result.conflicts) == (0, 1)
    (raw,) = table(wh, "SELECT raw FROM quarantine")["raw"]
    incoming, stored_version = raw.split("\n[stored] ")
    assert json.loads(incoming)["text"] == "other words"
    assert json.loads(stored_version)["text"] == "first words"
