"""Every format, property-tested: valid records with bad records of every kind at random
positions. Every valid record is stored with each field as written, every bad one is
quarantined at its own line with its raw text and its reason, and nothing else happens.

The properties run the adapter and ``ingest.prepare`` (what decides stored vs quarantined);
one fixed example per format goes through ``ingest_file`` into a real DuckDB file.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxpulse import adapters, warehouse
from cxpulse.adapters import AdapterError, AdapterOptions
from cxpulse.ingest import ingest_file, prepare

NOW = pd.Timestamp("2024-06-01", tz="UTC")
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ALPHABET = list("abcxyz ,.!?'\"\né") + ["ü", "ß", "ø"]
"""Text characters: quotes, commas and line breaks test the CSV layer; no digits or ``@``,
which PII masking would change."""
PAGE = "https://www.trustpilot.com/review/www.northwind.com"
ANONBANK_HEADER = [
    "vru+line",
    "call_id",
    "customer_id",
    "priority",
    "type",
    "date",
    "vru_entry",
    "vru_exit",
    "vru_time",
    "q_start",
    "q_exit",
    "q_time",
    "outcome",
    "ser_start",
    "ser_exit",
    "ser_time",
    "server",
]


@dataclass(frozen=True)
class Item:
    """What a generated valid record holds."""

    n: int
    when: datetime
    text: str
    count: int


@dataclass(frozen=True)
class CsvFormat:
    """How one delimited format writes a valid record and what it must store from it."""

    adapter: str
    header: list[str]
    options: AdapterOptions
    fields: Callable[[Item], list[str]]
    expect: Callable[[Item], dict]
    time_at: int
    bad_time: tuple[str, str]
    """(garbage timestamp as written, the reason it gets)"""
    number_at: int
    bad_number: tuple[str, str]
    delimiter: str = ","
    kinds: tuple[str, ...] = (
        "extra field",
        "missing field",
        "NUL byte",
        "empty record",
        "broken quoting",
        "empty timestamp",
        "garbage timestamp",
        "bad number",
    )


def twcs_time(when: datetime) -> str:
    return when.strftime("%a %b %d %H:%M:%S +0000 %Y")


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def utc(when: datetime) -> pd.Timestamp:
    return pd.Timestamp(when, tz="UTC")


def jerusalem(when: datetime) -> pd.Timestamp:
    return pd.Timestamp(when).tz_localize("Asia/Jerusalem").tz_convert("UTC")


CSV_FORMATS = {
    "twcs": CsvFormat(
        "twcs",
        [
            "tweet_id",
            "author_id",
            "inbound",
            "created_at",
            "text",
            "response_tweet_id",
            "in_response_to_tweet_id",
        ],
        AdapterOptions(),
        lambda i: [str(i.n), "Acme", "False", twcs_time(i.when), i.text, "", ""],
        lambda i: {
            "id": f"twitter:{i.n}",
            "brand": "Acme",
            "created_at": utc(i.when),
            "text": i.text,
        },
        time_at=3,
        bad_time=("yesterday", "created_at: not a timestamp like 'Tue Oct 31 22:10:47 +0000 2017'"),
        number_at=0,
        bad_number=("x1", "tweet_id: not a whole number"),
    ),
    "reviews": CsvFormat(
        "reviews",
        ["id", "text", "rating", "likes", "published", "source"],
        AdapterOptions(),
        lambda i: [f"r{i.n}", i.text, str(1 + i.count % 5), str(i.count), iso(i.when), PAGE],
        lambda i: {
            "id": f"review:trustpilot.com:r{i.n}",
            "brand": "northwind.com",
            "created_at": utc(i.when),
            "text": i.text,
            "rating": 1 + i.count % 5,
            "likes": i.count,
        },
        time_at=4,
        bad_time=("yesterday", "published: not an ISO 8601 timestamp"),
        number_at=3,
        bad_number=("many", "likes: not a whole number"),
    ),
    "calls": CsvFormat(
        "calls",
        ["CallID", "Start", "Result", "Queue"],
        AdapterOptions(
            brand="Northwind",
            column_map={
                "id": "CallID",
                "created_at": "Start",
                "outcome": "Result",
                "wait_s": "Queue",
            },
        ),
        lambda i: [f"c{i.n}", i.when.strftime("%Y-%m-%d %H:%M:%S"), "served", str(i.count)],
        lambda i: {
            "id": f"phone:northwind:c{i.n}",
            "brand": "Northwind",
            "created_at": utc(i.when),
            "outcome": "served",
            "wait_s": float(i.count),
        },
        time_at=1,
        bad_time=("soon", "created_at: not a timestamp"),
        number_at=3,
        bad_number=("later", "wait_s: not a duration (seconds or H:MM:SS)"),
    ),
    "anonbank": CsvFormat(
        "calls",
        ANONBANK_HEADER,
        AdapterOptions(),
        lambda i: [
            "AA0101",
            str(i.n),
            "0",
            "0",
            "PS",
            i.when.strftime("%y%m%d"),
            i.when.strftime("%-H:%M:%S"),
            "0:00:00",
            "0",
            "0:00:00",
            "0:00:00",
            "0",
            "AGENT",
            "0:00:00",
            "0:00:00",
            str(i.count),
            "MORIAH",
        ],
        lambda i: {
            "id": f"phone:anonymous-bank:AA0101-{i.n}",
            "brand": "Anonymous Bank",
            "created_at": jerusalem(i.when),
            "outcome": "served",
            "handle_s": float(i.count),
        },
        time_at=5,
        bad_time=("99x101", "date: not a YYMMDD date"),
        number_at=11,
        bad_number=("x", "q_time: not a whole number of seconds"),
        delimiter="\t",
        kinds=("extra field", "missing field", "NUL byte", "garbage timestamp", "bad number"),
    ),
    "mentions": CsvFormat(
        "mentions",
        ["id", "created_at", "text", "likes"],
        AdapterOptions(brand="Northwind", channel="blog"),
        lambda i: [f"m{i.n}", iso(i.when), i.text, str(i.count)],
        lambda i: {
            "id": f"blog:northwind:m{i.n}",
            "brand": "Northwind",
            "created_at": utc(i.when),
            "text": i.text,
            "likes": i.count,
        },
        time_at=1,
        bad_time=("soon", "created_at: not a timestamp"),
        number_at=3,
        bad_number=("many", "likes: not a whole number"),
    ),
    "canonical": CsvFormat(
        "canonical",
        ["id", "channel", "brand", "direction", "created_at", "text", "likes"],
        AdapterOptions(),
        lambda i: [
            f"twitter:{i.n}",
            "twitter",
            "Acme",
            "inbound",
            iso(i.when),
            i.text,
            str(i.count),
        ],
        lambda i: {
            "id": f"twitter:{i.n}",
            "brand": "Acme",
            "created_at": utc(i.when),
            "text": i.text,
            "likes": i.count,
        },
        time_at=4,
        bad_time=("soon", "created_at: not a timestamp"),
        number_at=6,
        bad_number=("many", "likes: not a whole number"),
    ),
    "survey": CsvFormat(
        "survey",
        ["response_id", "submitted_at", "nps", "comment", "channel"],
        AdapterOptions(brand="Northwind"),
        lambda i: [f"R{i.n}", iso(i.when), str(i.count % 11), i.text, "chat"],
        lambda i: {
            "id": f"survey:northwind:R{i.n}",
            "brand": "Northwind",
            "created_at": utc(i.when),
            "text": i.text,
            "nps": i.count % 11,
            "rated_channel": "chat",
        },
        time_at=1,
        bad_time=("soon", "submitted_at: not a timestamp"),
        number_at=2,
        bad_number=("ten", "nps: not a whole number"),
    ),
    "freshdesk": CsvFormat(
        "tickets",
        ["Ticket ID", "Subject", "Source", "Created time", "Contact ID"],
        AdapterOptions(brand="Northwind", timezone="Asia/Jerusalem"),
        lambda i: [str(i.n), i.text, "Email", i.when.strftime("%Y-%m-%d %H:%M:%S"), "c1"],
        lambda i: {
            "id": f"email:northwind:{i.n}",
            "brand": "Northwind",
            "created_at": jerusalem(i.when),
            "text": i.text,
        },
        time_at=3,
        bad_time=("soon", "created_at: not a timestamp"),
        number_at=2,
        bad_number=(
            "Fax",
            "via.channel: expected one of email, portal, feedback widget, chat, phone",
        ),
    ),
    "google-play": CsvFormat(
        "google-play",
        [
            "Package Name",
            "Review Submit Date and Time",
            "Star Rating",
            "Review Text",
            "Review Link",
        ],
        AdapterOptions(brand="Northwind"),
        lambda i: [
            "com.nw",
            iso(i.when),
            str(1 + i.count % 5),
            i.text,
            f"http://play.google.com/console/review-details?reviewId=gp:{i.n}&corpus=PUBLISHED",
        ],
        lambda i: {
            "id": f"review:play.google.com:gp:{i.n}",
            "brand": "Northwind",
            "created_at": utc(i.when),
            "text": i.text,
            "rating": 1 + i.count % 5,
        },
        time_at=1,
        bad_time=("soon", "Review Submit Date and Time: not an ISO 8601 timestamp"),
        number_at=2,
        bad_number=("five", "Star Rating: not a whole number of stars"),
    ),
}


def csv_line(values: list[str], delimiter: str) -> str:
    if delimiter == "\t":
        return "\t".join(values)
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerow(values)
    return out.getvalue()[:-1]


def bad_csv(fmt: CsvFormat, kind: str, item: Item) -> tuple[str, str]:
    """(the record as written, the reason it is quarantined) for one kind of bad record."""
    fields, width, d = fmt.fields(item), len(fmt.header), fmt.delimiter
    if kind == "extra field":
        return csv_line([*fields, "x"], d), f"expected {width} fields, got {width + 1}"
    if kind == "missing field":
        return csv_line(fields[:-1], d), f"expected {width} fields, got {width - 1}"
    if kind == "NUL byte":
        return csv_line([fields[0] + "\x00", *fields[1:]], d), "record contains NUL bytes"
    if kind == "empty record":
        return d * (width - 1), "record is empty: every field is blank"
    if kind == "broken quoting":  # text after a closing quote, a stray quote: one field more
        line = '"ab"c,d"' + d + csv_line(fields[1:], d)
        return line, f"expected {width} fields, got {width + 1}"
    if kind == "unclosed quote":  # takes the rest of the file: only ever the last record
        return f'{fields[0]}{d}"never closed', f"expected {width} fields, got 2"
    changed, reason = list(fields), ""
    if kind == "empty timestamp":
        changed[fmt.time_at], reason = "", "created_at is missing"
    elif kind == "garbage timestamp":
        changed[fmt.time_at], reason = fmt.bad_time
    elif kind == "bad number":
        changed[fmt.number_at], reason = fmt.bad_number
    return csv_line(changed, d), reason


@dataclass
class Expected:
    """A file's content and what loading it must give."""

    content: bytes
    stored: list[dict] = field(default_factory=list)
    quarantined: list[tuple[int, str, str]] = field(default_factory=list)


def csv_file(fmt: CsvFormat, plan: list[tuple[str, Item]]) -> Expected:
    """The file of ``plan`` (kind, item) in order, ``"valid"`` or a bad kind each."""
    lines = [csv_line(fmt.header, fmt.delimiter)]
    expected = Expected(b"")
    number = 2
    for kind, item in plan:
        if kind == "valid":
            line = csv_line(fmt.fields(item), fmt.delimiter)
            expected.stored.append(fmt.expect(item))
        else:
            line, reason = bad_csv(fmt, kind, item)
            expected.quarantined.append((number, line.replace("\x00", "\\x00"), reason))
        lines.append(line)
        number += line.count("\n") + 1
    expected.content = ("\n".join(lines) + "\n").encode()
    return expected


def items(size: int) -> st.SearchStrategy[list[Item]]:
    return st.lists(st.integers(1, 2**62), min_size=size, max_size=size, unique=True).flatmap(
        lambda ns: st.tuples(
            *[
                st.builds(
                    Item,
                    st.just(n),
                    st.datetimes(datetime(1999, 1, 4, 9), datetime(2023, 12, 28, 17)).map(
                        lambda d: d.replace(microsecond=0, hour=9 + d.hour % 9)
                    ),
                    st.text(st.sampled_from(ALPHABET), min_size=1, max_size=20),
                    st.integers(0, 10_000),
                )
                for n in ns
            ]
        ).map(list)
    )


@st.composite
def plans(draw: st.DrawFn, kinds: tuple[str, ...], last: tuple[str, ...] = ()) -> list:
    """Valid records and bad ones of the given kinds, shuffled; ``last`` kinds may end it."""
    valid = draw(st.integers(0, 6))
    bad = draw(st.lists(st.sampled_from(kinds), max_size=6))
    tail = draw(st.lists(st.sampled_from(last), max_size=1)) if last else []
    order = draw(st.permutations(["valid"] * valid + bad)) + tail
    return list(zip(order, draw(items(len(order))), strict=True))


def load(adapter: str, path, options: AdapterOptions) -> tuple[pd.DataFrame, pd.DataFrame]:
    parsed = adapters.read(adapter, path, options)
    return prepare(parsed, str(path), NOW, options)


def check(good: pd.DataFrame, rejects: pd.DataFrame, expected: Expected) -> None:
    """Every stored field equals its source; every quarantined line is exactly as expected."""
    assert sorted(good["id"]) == sorted(e["id"] for e in expected.stored)
    rows = good.set_index("id")
    for want in expected.stored:
        got = rows.loc[want["id"]]
        assert {k: got[k] for k in want if k != "id"} == {
            k: v for k, v in want.items() if k != "id"
        }
    quarantined = list(rejects[["line", "raw", "reason"]].itertuples(index=False, name=None))
    assert quarantined == expected.quarantined


@pytest.mark.parametrize("name", CSV_FORMATS)
def test_delimited_formats_store_every_valid_record_as_written_and_quarantine_every_bad_one(
    tmp_path, name
):
    fmt = CSV_FORMATS[name]
    last = ("unclosed quote",) if fmt.delimiter == "," else ()

    @SETTINGS
    @given(plan=plans(fmt.kinds, last))
    def run(plan):
        expected = csv_file(fmt, plan)
        path = tmp_path / f"{name}.csv"
        path.write_bytes(expected.content)
        check(*load(fmt.adapter, path, fmt.options), expected)

    run()


@dataclass(frozen=True)
class JsonFormat:
    """How one JSON format writes a valid record, what it must store, and its reasons."""

    adapter: str
    options: AdapterOptions
    record: Callable[[Item], dict]
    document: Callable[[list[object]], dict]
    expect: Callable[[Item], dict]
    time_key: tuple[str, ...]
    bad_time: str
    number_key: tuple[str, ...]
    bad_number: str
    raw: Callable[[object], object] = lambda record: record
    """The record as the quarantine shows it."""


def with_value(record: dict, keys: tuple[str, ...], value: object) -> dict:
    """A copy of ``record`` with ``record[k1][k2]...`` set to ``value`` (None: removed)."""
    out = json.loads(json.dumps(record))
    inner = out
    for key in keys[:-1]:
        inner = inner[key]
    if value is None:
        del inner[keys[-1]]
    else:
        inner[keys[-1]] = value
    return out


def youtube_thread(i: Item) -> dict:
    comment = {
        "id": f"c{i.n}",
        "snippet": {
            "textOriginal": i.text,
            "authorChannelId": {"value": "UCfan"},
            "publishedAt": iso(i.when),
            "likeCount": i.count,
        },
    }
    return {"snippet": {"channelId": "UCnw", "videoId": "v1", "topLevelComment": comment}}


def youtube_raw(thread: object) -> object:
    """A comment as its quarantine raw text shows it: with its thread's context."""
    if not isinstance(thread, dict):
        return thread
    top = thread["snippet"]["topLevelComment"]
    context = {"channelId": "UCnw", "videoId": "v1", "topLevelCommentId": top["id"]}
    return {**top, "_thread": {**context, "totalReplyCount": None}}


JSON_FORMATS = {
    "x-api": JsonFormat(
        "x-api",
        AdapterOptions(brand="Northwind"),
        lambda i: {
            "id": str(i.n),
            "text": i.text,
            "author_id": "42",
            "created_at": iso(i.when),
            "public_metrics": {"like_count": i.count},
        },
        lambda records: {"data": records},
        lambda i: {
            "id": f"twitter:{i.n}",
            "brand": "Northwind",
            "created_at": utc(i.when),
            "text": i.text,
            "likes": i.count,
        },
        time_key=("created_at",),
        bad_time="created_at: not a timestamp",
        number_key=("public_metrics", "like_count"),
        bad_number="public_metrics: likes not a whole number",
    ),
    "facebook": JsonFormat(
        "facebook",
        AdapterOptions(brand="Northwind"),
        lambda i: {
            "id": f"1_{i.n}",
            "created_time": i.when.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "from": {"id": "9", "name": "Ann"},
            "message": i.text,
            "like_count": i.count,
        },
        lambda records: {"data": records},
        lambda i: {
            "id": f"facebook:1_{i.n}",
            "brand": "Northwind",
            "created_at": utc(i.when),
            "text": i.text,
            "likes": i.count,
        },
        time_key=("created_time",),
        bad_time="created_time: not a timestamp",
        number_key=("like_count",),
        bad_number="likes: not a whole number",
    ),
    "youtube": JsonFormat(
        "youtube",
        AdapterOptions(brand="Northwind"),
        youtube_thread,
        lambda records: {"kind": "youtube#commentThreadListResponse", "items": records},
        lambda i: {
            "id": f"youtube:c{i.n}",
            "brand": "Northwind",
            "created_at": utc(i.when),
            "text": i.text,
            "likes": i.count,
        },
        time_key=("snippet", "topLevelComment", "snippet", "publishedAt"),
        bad_time="publishedAt: not a timestamp",
        number_key=("snippet", "topLevelComment", "snippet", "likeCount"),
        bad_number="likes: not a whole number",
        raw=youtube_raw,
    ),
    "instagram": JsonFormat(
        "instagram",
        AdapterOptions(brand="Northwind"),
        lambda i: {
            "id": str(i.n),
            "text": i.text,
            "timestamp": i.when.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "username": "fan",
            "like_count": i.count,
        },
        lambda records: {"data": records, "paging": {"cursors": {"after": "QVFI"}}},
        lambda i: {
            "id": f"instagram:{i.n}",
            "brand": "Northwind",
            "created_at": utc(i.when),
            "text": i.text,
            "likes": i.count,
        },
        time_key=("timestamp",),
        bad_time="timestamp: not a timestamp",
        number_key=("like_count",),
        bad_number="likes: not a whole number",
    ),
    "app-store": JsonFormat(
        "app-store",
        AdapterOptions(brand="Northwind"),
        lambda i: {
            "type": "customerReviews",
            "id": f"r{i.n}",
            "attributes": {"rating": 1 + i.count % 5, "body": i.text, "createdDate": iso(i.when)},
        },
        lambda records: {"data": records, "links": {"self": "https://x/v1/apps/1/customerReviews"}},
        lambda i: {
            "id": f"review:apps.apple.com:r{i.n}",
            "brand": "Northwind",
            "created_at": utc(i.when),
            "text": i.text,
            "rating": 1 + i.count % 5,
        },
        time_key=("attributes", "createdDate"),
        bad_time="createdDate: not an ISO 8601 timestamp",
        number_key=("attributes", "rating"),
        bad_number="rating: not a whole number of stars",
        raw=lambda record: {**record, "_app": "1"} if isinstance(record, dict) else record,
    ),
    "reddit": JsonFormat(
        "reddit",
        AdapterOptions(brand="Northwind"),
        lambda i: {
            "kind": "t1",
            "data": {
                "name": f"t1_{i.n}",
                "body": i.text,
                "author": "fan",
                "created_utc": calendar.timegm(i.when.timetuple()),
                "score": i.count,
                "parent_id": "t3_p",
                "link_id": "t3_p",
            },
        },
        lambda records: {"kind": "Listing", "data": {"after": None, "children": records}},
        lambda i: {
            "id": f"reddit:t1_{i.n}",
            "brand": "Northwind",
            "created_at": utc(i.when),
            "text": i.text,
            "likes": i.count,
        },
        time_key=("data", "created_utc"),
        bad_time="created_utc: not seconds since 1970",
        number_key=("data", "score"),
        bad_number="score: not a whole number",
    ),
    "zendesk": JsonFormat(
        "tickets",
        AdapterOptions(brand="Northwind"),
        lambda i: {
            "id": i.n,
            "url": f"https://nw.zendesk.com/api/v2/tickets/{i.n}.json",
            "via": {"channel": "email"},
            "created_at": iso(i.when),
            "subject": i.text,
            "requester_id": i.count,
        },
        lambda records: {"tickets": records, "end_of_stream": True},
        lambda i: {
            "id": f"email:nw.zendesk.com:{i.n}",
            "brand": "Northwind",
            "created_at": utc(i.when),
            "text": i.text,
            "author_id": str(i.count),
        },
        time_key=("created_at",),
        bad_time="created_at: not a timestamp",
        number_key=("via", "channel"),
        bad_number=(
            "via.channel: expected one of email, web, api, mobile_sdk, web_widget, chat, "
            "native_messaging, voice"
        ),
        raw=lambda record: (
            {**record, "_reply_minutes": None} if isinstance(record, dict) else record
        ),
    ),
}
JSON_KINDS = ("not an object", "missing timestamp", "garbage timestamp", "bad number")


def json_file(fmt: JsonFormat, plan: list[tuple[str, Item]]) -> Expected:
    """The JSON document of ``plan``; a record's line is its position in the file."""
    records: list[object] = []
    expected = Expected(b"")
    for number, (kind, item) in enumerate(plan, start=1):
        record: object = fmt.record(item)
        reason = ""
        if kind == "valid":
            expected.stored.append(fmt.expect(item))
        elif kind == "not an object":
            record, reason = item.text, "record is not a JSON object"
        elif kind == "missing timestamp":
            record, reason = with_value(record, fmt.time_key, None), "created_at is missing"
        elif kind == "garbage timestamp":
            record, reason = with_value(record, fmt.time_key, "soon"), fmt.bad_time
        elif kind == "bad number":
            record, reason = with_value(record, fmt.number_key, "many"), fmt.bad_number
        if kind != "valid":
            raw = json.dumps(fmt.raw(record), ensure_ascii=False)
            expected.quarantined.append((number, raw, reason))
        records.append(record)
    expected.content = json.dumps(fmt.document(records), ensure_ascii=False).encode()
    return expected


@pytest.mark.parametrize("name", JSON_FORMATS)
def test_json_formats_store_every_valid_record_as_written_and_quarantine_every_bad_one(
    tmp_path, name
):
    fmt = JSON_FORMATS[name]

    @SETTINGS
    @given(plan=plans(JSON_KINDS))
    def run(plan):
        expected = json_file(fmt, plan)
        path = tmp_path / f"{name}.json"
        path.write_bytes(expected.content)
        check(*load(fmt.adapter, path, fmt.options), expected)

    run()


@pytest.mark.parametrize("name", JSON_FORMATS)
def test_broken_json_anywhere_refuses_the_file_naming_the_line(tmp_path, name):
    fmt = JSON_FORMATS[name]
    plan = [("valid", Item(n, datetime(2020, 1, n, 9), "hi", n)) for n in range(1, 4)]
    content = json_file(fmt, plan).content
    path = tmp_path / f"{name}.json"
    path.write_bytes(content[: len(content) // 2] + b"\n" + content[len(content) // 2 :][1:])
    with pytest.raises(AdapterError, match=rf"{path}: not valid JSON \(.* at line \d, column"):
        adapters.read(fmt.adapter, path, fmt.options)


def stored_rows(path) -> tuple[pd.DataFrame, pd.DataFrame]:
    con = warehouse.connect(path, read_only=True)
    try:
        good = con.execute("SELECT * FROM interactions").df()
        quarantine = con.execute("SELECT line, raw, reason FROM quarantine ORDER BY line").df()
    finally:
        con.close()
    return good, quarantine


def fixed_plan(kinds: tuple[str, ...], last: tuple[str, ...] = ()) -> list[tuple[str, Item]]:
    """Every kind once, between valid records, in a seeded order."""
    order = ["valid"] * 5 + list(kinds)
    random.Random(17).shuffle(order)
    order += list(last)
    whens = [datetime(2020, 3, 1 + n, 9 + n % 8, n, n) for n in range(len(order))]
    texts = ["first", 'a, "quoted"\nline', "ünïcødé", "x", "y z"]
    return [
        (kind, Item(1000 + n, whens[n], texts[n % len(texts)], n)) for n, kind in enumerate(order)
    ]


@pytest.mark.parametrize("name", [*CSV_FORMATS, *JSON_FORMATS])
def test_every_format_end_to_end_stores_sources_fields_and_quarantines_bad_lines(tmp_path, name):
    if name in CSV_FORMATS:
        fmt = CSV_FORMATS[name]
        last = ("unclosed quote",) if fmt.delimiter == "," else ()
        expected = csv_file(fmt, fixed_plan(fmt.kinds, last))
    else:
        fmt = JSON_FORMATS[name]
        expected = json_file(fmt, fixed_plan(JSON_KINDS))
    path = tmp_path / f"{name}-export.{'csv' if name in CSV_FORMATS else 'json'}"
    path.write_bytes(expected.content)
    wh = tmp_path / "w.duckdb"
    result = ingest_file(path, fmt.adapter, wh, fmt.options, now=NOW)
    assert (result.inserted, result.quarantined) == (5, len(expected.quarantined))
    good, quarantine = stored_rows(wh)
    good["created_at"] = good["created_at"].dt.tz_convert("UTC")
    for column in ("likes", "rating"):
        good[column] = good[column].astype("Int64")
    check(good, quarantine, expected)
