"""Google Play Console review reports: the monthly ``reviews_<package>_<YYYYMM>.csv`` from
the Console's Cloud Storage bucket (Download reports > Reviews).

The files are UTF-16 with a byte-order mark (which says so; another encoding declared in
params is used instead), comma-separated, one row per review, with the columns ``Package
Name, App Version Code, App Version Name, Reviewer Language, Device, Review Submit Date and
Time, Review Submit Millis Since Epoch, Review Last Update Date and Time, Review Last
Update Millis Since Epoch, Star Rating, Review Title, Review Text, Developer Reply Date and
Time, Developer Reply Millis Since Epoch, Developer Reply Text, Review Link``. Times are
ISO 8601 in UTC (``2024-03-04T09:15:22Z``).

A review is ``inbound`` with its stars at its submit time; a developer reply is
``outbound`` with the review as its parent at its reply time, so response time to reviews
works. The review id is the ``reviewId`` of the review link, else the package and the
submit time in milliseconds (reviews without text have no link); ids are
``review:play.google.com:<id>``, a reply's ``...:<id>:reply``. The brand is ``--brand``,
else what ``accounts`` maps the package name to, else the package name.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cxpulse.adapters import AdapterOptions, Parsed, textfile
from cxpulse.adapters.fields import (
    add_reason,
    clean_text,
    is_blank,
    mapped_fields,
    no_reasons,
    parse_timestamps,
    parse_whole_numbers,
    scoped_ids,
)
from cxpulse.adapters.reviews import column, review_text

NAME = "google-play"
SOURCE = "Google Play Console review reports, reviews_<package>_<YYYYMM>.csv (UTF-16, BOM)"
ZONE = "UTC"
SITE = "play.google.com"
FIELDS = (
    "Package Name",
    "Review Submit Date and Time",
    "Review Submit Millis Since Epoch",
    "Star Rating",
    "Review Title",
    "Review Text",
    "Developer Reply Date and Time",
    "Developer Reply Text",
    "Review Link",
)
COLUMNS = ", ".join(FIELDS)
REQUIRED = ("Package Name", "Review Submit Date and Time", "Star Rating", "Review Text")
EXPECTED = (
    "a Google Play Console reviews report: CSV in UTF-16 with a byte-order mark, columns "
    "Package Name, Review Submit Date and Time, Star Rating, Review Text, Developer Reply ..."
)


def parse(table: textfile.Table, path: Path, options: AdapterOptions) -> Parsed:
    """The ``Parsed`` of records of ``path``."""
    fields = mapped_fields(table.records, FIELDS, REQUIRED, options.column_map, str(path), EXPECTED)
    rows, reasons = to_canonical(fields, options)
    return textfile.parsed_from(table, rows, reasons)


read, chunks = textfile.record_readers(EXPECTED, parse)
"""Read a file whole, or in chunks of about ``size`` bytes (a UTF-16 report is converted
whole first)."""


def to_canonical(fields: pd.DataFrame, options: AdapterOptions) -> tuple[pd.DataFrame, pd.Series]:
    """Canonical rows and reasons: each review, then the developer replies (same labels
    as their review's record). Pure."""
    reasons = no_reasons(fields.index)
    rating, bad_rating = parse_whole_numbers(fields["Star Rating"])
    reasons = add_reason(reasons, bad_rating, "Star Rating: not a whole number of stars")
    reasons = add_reason(reasons, rating.isna() & ~bad_rating, "Star Rating is missing")
    submitted = fields["Review Submit Date and Time"]
    created = parse_timestamps(submitted, options.zone())
    reasons = add_reason(
        reasons,
        created.isna() & ~is_blank(submitted),
        "Review Submit Date and Time: not an ISO 8601 timestamp",
    )
    package = clean_text(fields["Package Name"])
    accounts = {k.lower(): v for k, v in options.accounts.items()}
    brand = package.str.lower().map(accounts.get, na_action="ignore").astype("string")
    brand = brand.fillna(package)
    if options.brand:
        brand = pd.Series(options.brand, index=fields.index, dtype="string")
    reasons = add_reason(reasons, brand.isna(), "no brand: give --brand or a Package Name")
    link_id = column(fields, "Review Link").str.extract(r"[?&]reviewId=([^&#]+)")[0]
    fallback = package + ":" + clean_text(column(fields, "Review Submit Millis Since Epoch"))
    channel = options.channel or "review"
    ids = scoped_ids(channel, SITE, link_id.fillna(fallback))
    reviews = pd.DataFrame(
        {
            "id": ids,
            "channel": channel,
            "brand": brand,
            "direction": "inbound",
            "thread_id": ids,
            "created_at": created,
            "text": review_text(column(fields, "Review Title"), fields["Review Text"]),
            "rating": rating,
        },
        index=fields.index,
    )
    replied_at = column(fields, "Developer Reply Date and Time")
    reply_text = column(fields, "Developer Reply Text")
    has_reply = ~(is_blank(replied_at) & is_blank(reply_text))
    reply_time = parse_timestamps(replied_at, options.zone())
    reply_reasons = add_reason(
        reasons,
        reply_time.isna() & ~is_blank(replied_at),
        "Developer Reply Date and Time: not an ISO 8601 timestamp",
    )
    replies = pd.DataFrame(
        {
            "id": ids + ":reply",
            "channel": channel,
            "brand": brand,
            "direction": "outbound",
            "thread_id": ids,
            "parent_id": ids,
            "created_at": reply_time,
            "text": clean_text(reply_text),
        },
        index=fields.index,
    )[has_reply]
    rows = pd.concat([reviews, replies])
    return rows, pd.concat([reasons, reply_reasons[has_reply]])
