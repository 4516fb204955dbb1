"""Reddit posts and comments, as JSON: a subreddit listing or search result
(``/r/{sub}/new.json``, ``/search.json``: ``{"kind": "Listing", "data": {"children":
[...], "after": ...}}``) or a post's comments page (``/comments/{id}.json``: a list of two
listings, the post and its comment tree). Several listings may be saved one per line or as
a JSON list.

Children are ``t3`` (posts: ``name, title, selftext, author, created_utc, score,
num_comments, subreddit``) and ``t1`` (comments: ``name, body, author, created_utc, score,
parent_id, link_id``, their replies nested under ``replies``); ``more`` children are
placeholders for comments the page did not load and are not messages. ``created_utc`` is
seconds since 1970 in UTC.

Every post and comment is a public ``mention`` of the brand (``--brand``), except what an
account under ``accounts`` in params writes, which is the brand's ``outbound`` answer. Ids
are Reddit's fullnames, unique on the site: ``reddit:t3_1b6x2k``, ``reddit:t1_kt0a9b``;
the thread is the post. Engagement: likes = ``score`` (net up-votes; 0 when negative), comments =
``num_comments``, reach = likes + comments, as Reddit publishes no views.
A deleted or removed comment (author and body ``[deleted]`` / ``[removed]``) is kept
without text or author: it was said, and its replies hang on it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cxpulse.adapters import AdapterError, AdapterOptions, Parsed, textfile
from cxpulse.adapters.fields import (
    add_reason,
    clean_text,
    dig,
    json_rows,
    no_reasons,
    pages,
    parse_epoch,
    parse_whole_numbers,
    prefixed_ids,
)

NAME = "reddit"
SOURCE = "Reddit JSON: subreddit listing, search results or a post's comments page"
COLUMNS = "t3/t1 children: name, title, selftext/body, author, created_utc, score, num_comments"
ZONE = "created_utc: seconds since 1970, UTC"
EXPECTED = (
    "a Reddit listing: a JSON object {'kind': 'Listing', 'data': {'children': [...]}} of "
    "t3 posts and t1 comments (or a list of listings)"
)
_GONE = ("[deleted]", "[removed]")


def read(path: Path, options: AdapterOptions) -> Parsed:
    """Read Reddit listings (JSON, JSON Lines or a list of listings)."""
    data = textfile.read_utf8(path, options.encoding, EXPECTED)
    documents = pages(textfile.load_json(data, str(path), EXPECTED))
    fields, rejects = json_rows(flatten(collect(documents, str(path))), thing_fields)
    rows, reasons = to_canonical(fields, options)
    return textfile.parsed_from_json(rows, fields, reasons, rejects)


def collect(documents: list[object], where: str) -> list[object]:
    """The children of every listing; ``AdapterError`` when a document is not one."""
    children: list[object] = []
    for document in documents:
        found = dig(document, "data", "children")
        if dig(document, "kind") != "Listing" or not isinstance(found, list):
            raise AdapterError(f"{where}: expected {EXPECTED}; got {textfile.describe(document)}")
        children.extend(found)
    return children


def flatten(children: list[object]) -> list[object]:
    """Every post and comment, replies after their comment, ``more`` placeholders left out."""
    out: list[object] = []
    stack = list(reversed(children))
    while stack:
        child = stack.pop()
        if dig(child, "kind") == "more":
            continue
        out.append(child)
        replies = dig(child, "data", "replies", "data", "children")
        if isinstance(replies, list):
            stack.extend(reversed(replies))
    return out


def thing_fields(child: dict) -> dict:
    """The values the canonical row needs from one ``t3`` or ``t1`` child."""
    data = child.get("data") if isinstance(child.get("data"), dict) else {}
    post = child.get("kind") == "t3"
    title, body = data.get("title"), data.get("selftext" if post else "body")
    text = "\n\n".join(t for t in (title, body) if t) if post else body
    name = data.get("name") or (
        f"{child.get('kind')}_{data['id']}" if data.get("id") and child.get("kind") else None
    )
    return {
        "kind": child.get("kind"),
        "name": name,
        "author": data.get("author"),
        "text": text,
        "created_utc": data.get("created_utc"),
        "score": data.get("score"),
        "num_comments": data.get("num_comments"),
        "parent": data.get("parent_id"),
        "link": data.get("link_id") or (name if post else None),
    }


def to_canonical(fields: pd.DataFrame, options: AdapterOptions) -> tuple[pd.DataFrame, pd.Series]:
    """Canonical rows and reasons from extracted post/comment fields (text columns). Pure."""
    reasons = no_reasons(fields.index)
    reasons = add_reason(
        reasons, ~fields["kind"].isin(["t1", "t3"]).fillna(False), "kind: expected t3 or t1"
    )
    created, bad_time = parse_epoch(fields["created_utc"])
    reasons = add_reason(reasons, bad_time, "created_utc: not seconds since 1970")
    score, bad_score = parse_whole_numbers(fields["score"])
    reasons = add_reason(reasons, bad_score, "score: not a whole number")
    comments, bad_comments = parse_whole_numbers(fields["num_comments"])
    reasons = add_reason(reasons, bad_comments, "num_comments: not a whole number")
    author = clean_text(fields["author"])
    gone = author.isin(_GONE).fillna(False)
    text = fields["text"].astype("string").mask(gone | fields["text"].isin(_GONE).fillna(False))
    accounts = {k.lower(): v for k, v in options.accounts.items()}
    ours = author.str.lower().isin(accounts).fillna(False).to_numpy()
    brand = pd.Series(options.brand, index=fields.index, dtype="string")
    if not options.brand:
        brand = author.str.lower().map(accounts.get, na_action="ignore").astype("string")
        single = sorted(set(accounts.values()))
        brand = brand.fillna(single[0] if len(single) == 1 else pd.NA)
    reasons = add_reason(reasons, brand.isna(), "no brand: give --brand")
    channel = options.channel or "reddit"
    rows = pd.DataFrame(
        {
            "id": prefixed_ids(channel, fields["name"]),
            "channel": channel,
            "brand": brand,
            "direction": np.where(ours, "outbound", "mention"),
            "thread_id": prefixed_ids(channel, fields["link"]),
            "parent_id": prefixed_ids(channel, fields["parent"]),
            "author_id": author.mask(gone),
            "created_at": created,
            "text": text,
            "likes": score.clip(lower=0).where(score.notna()),
            "comments": comments,
            "reach": score.clip(lower=0).fillna(0) + comments.fillna(0),
        },
        index=fields.index,
    )
    return rows, reasons
