"""App Store Connect customer reviews, as JSON (``GET /v1/apps/{id}/customerReviews
?include=response``).

A file holds one response (``{"data": [...], "included": [...], "links": {"self": ...,
"next": ...}, "meta": {"paging": ...}}``), one per line, or a JSON list of responses (the
pages of one export). Each ``customerReviews`` item gives ``attributes.rating`` (1-5),
``title``, ``body``, ``reviewerNickname``, ``createdDate`` (ISO 8601 with an offset,
``2024-03-04T01:15:22-07:00``) and ``territory``; its developer response is the
``customerReviewResponses`` item of ``included`` that ``relationships.response.data.id``
names (``responseBody``, ``lastModifiedDate``, ``state``).

A review is ``inbound`` with its stars; a response is ``outbound`` with the review as its
parent, at its ``lastModifiedDate`` (the API gives no first-published time: an edited
response looks later than it was). Review ids are unique in the App Store: ids are
``review:apps.apple.com:<id>``. The brand is ``--brand``, else what ``accounts`` maps the
app id (from ``links.self``) to.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from cxpulse.adapters import AdapterError, AdapterOptions, Parsed, textfile
from cxpulse.adapters.fields import (
    add_reason,
    clean_text,
    dig,
    is_blank,
    json_rows,
    no_reasons,
    pages,
    parse_timestamps,
    parse_whole_numbers,
    scoped_ids,
)
from cxpulse.adapters.reviews import review_text

NAME = "app-store"
SOURCE = "App Store Connect API: GET /v1/apps/{id}/customerReviews?include=response, JSON"
COLUMNS = (
    "data[].attributes: rating, title, body, reviewerNickname, createdDate, territory; "
    "included customerReviewResponses: responseBody, lastModifiedDate"
)
ZONE = "offset in each timestamp"
SITE = "apps.apple.com"
EXPECTED = (
    "an App Store Connect customerReviews response: a JSON object with a 'data' list of "
    "customerReviews (attributes rating, title, body, createdDate) and 'included' responses"
)
_APP = re.compile(r"/apps/([^/?#]+)/customerReviews")


def read(path: Path, options: AdapterOptions) -> Parsed:
    """Read App Store Connect customer reviews (JSON, JSON Lines or a list of pages)."""
    data = textfile.read_utf8(path, options.encoding, EXPECTED)
    documents = pages(textfile.load_json(data, str(path), EXPECTED))
    records = collect(documents, str(path))
    fields, rejects = json_rows(records, item_fields)
    rows, reasons = to_canonical(fields, options)
    return textfile.parsed_from_json(rows, fields, reasons, rejects)


def collect(documents: list[object], where: str) -> list[object]:
    """Each review, then its response (with ``_review``, the review's id, and ``_app``),
    from every page; ``AdapterError`` when a page is not a customerReviews response."""
    out: list[object] = []
    for document in documents:
        data = dig(document, "data")
        if not isinstance(data, list) or any(
            isinstance(d, dict) and d.get("type") not in (None, "customerReviews") for d in data
        ):
            raise AdapterError(f"{where}: expected {EXPECTED}; got {textfile.describe(document)}")
        app = _APP.search(str(dig(document, "links", "self") or ""))
        context = {"_app": app.group(1) if app else None}
        included = dig(document, "included") or []
        responses = {
            r.get("id"): r
            for r in included
            if isinstance(r, dict) and r.get("type") == "customerReviewResponses"
        }
        for review in data:
            if not isinstance(review, dict):
                out.append(review)
                continue
            out.append({**review, **context})
            answer = responses.get(dig(review, "relationships", "response", "data", "id"))
            if answer is not None:
                out.append({**answer, **context, "_review": review.get("id")})
    return out


def item_fields(item: dict) -> dict:
    """The values the canonical row needs from a review or a response (None when absent)."""
    attributes = item.get("attributes") if isinstance(item.get("attributes"), dict) else {}
    response = item.get("_review") is not None
    return {
        "id": item.get("id"),
        "review": item.get("_review"),
        "app": item.get("_app"),
        "rating": None if response else attributes.get("rating"),
        "title": None if response else attributes.get("title"),
        "body": attributes.get("responseBody" if response else "body"),
        "author": None if response else attributes.get("reviewerNickname"),
        "created": attributes.get("lastModifiedDate" if response else "createdDate"),
    }


def to_canonical(fields: pd.DataFrame, options: AdapterOptions) -> tuple[pd.DataFrame, pd.Series]:
    """Canonical rows and reasons from extracted review/response fields. Pure."""
    reasons = no_reasons(fields.index)
    response = fields["review"].notna().to_numpy()
    rating, bad_rating = parse_whole_numbers(fields["rating"])
    reasons = add_reason(reasons, bad_rating, "rating: not a whole number of stars")
    reasons = add_reason(reasons, rating.isna() & ~bad_rating & ~response, "rating is missing")
    created = parse_timestamps(fields["created"], options.zone())
    reasons = add_reason(
        reasons,
        created.isna() & ~is_blank(fields["created"]),
        "createdDate: not an ISO 8601 timestamp",
    )
    accounts = {k.lower(): v for k, v in options.accounts.items()}
    brand = clean_text(fields["app"]).str.lower().map(accounts.get, na_action="ignore")
    brand = brand.astype("string")
    if options.brand:
        brand = pd.Series(options.brand, index=fields.index, dtype="string")
    reasons = add_reason(
        reasons, brand.isna(), "no brand: give --brand or the app id under accounts in params"
    )
    channel = options.channel or "review"
    own = scoped_ids(channel, SITE, fields["id"])
    review = scoped_ids(channel, SITE, fields["review"])
    rows = pd.DataFrame(
        {
            "id": own,
            "channel": channel,
            "brand": brand,
            "direction": np.where(response, "outbound", "inbound"),
            "thread_id": review.fillna(own),
            "parent_id": review,
            "author_id": clean_text(fields["author"]),
            "created_at": created,
            "text": review_text(fields["title"], fields["body"]),
            "rating": rating,
        },
        index=fields.index,
    )
    return rows, reasons
