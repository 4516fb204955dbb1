"""YouTube Data API ``commentThreads`` responses, as JSON.

A file holds one response (``{"kind": "youtube#commentThreadListResponse", "items":
[...]}``) or one per line. Each thread gives its top-level comment
(``snippet.topLevelComment``) and the replies it carries (``replies.comments``). Comment
fields used: ``id``, ``snippet.textOriginal`` (else ``textDisplay``),
``snippet.authorChannelId.value``, ``snippet.publishedAt``, ``snippet.likeCount``,
``snippet.parentId``; the thread's ``snippet.totalReplyCount`` is the top comment's
comment count.

The channel that owns the video (the thread's ``snippet.channelId``) is the brand: its
comments are ``outbound``, everyone else's ``inbound``. The brand name is ``--brand``, else
what ``accounts`` in params maps the channel id to; a comment with neither is quarantined.
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
    is_blank,
    json_rows,
    no_reasons,
    parse_timestamps,
    parse_whole_numbers,
    prefixed_ids,
)

NAME = "youtube"
EXPECTED = (
    "a YouTube Data API commentThreads response: a JSON object with an 'items' list of "
    "youtube#commentThread"
)


def read(path: Path, options: AdapterOptions) -> Parsed:
    """Read a commentThreads response (JSON or JSON Lines)."""
    data = textfile.read_utf8(path, options.encoding, EXPECTED)
    documents = textfile.load_json(data, str(path), EXPECTED)
    comments = flatten(collect(documents, str(path)))
    fields, rejects = json_rows(comments, comment_fields)
    rows, reasons = to_canonical(fields, options)
    return textfile.parsed_from_json(rows, fields, reasons, rejects)


def collect(documents: list[object], where: str) -> list[object]:
    """The thread items of every response; ``AdapterError`` when one is not a response."""
    threads: list[object] = []
    for document in documents:
        items = dig(document, "items")
        kind = dig(document, "kind")
        if not isinstance(items, list) or kind not in (None, "youtube#commentThreadListResponse"):
            raise AdapterError(f"{where}: expected {EXPECTED}; got {textfile.describe(document)}")
        threads.extend(items)
    return threads


def flatten(threads: list[object]) -> list[object]:
    """Every comment as a record: the top-level comment, then its replies, per thread.

    Each record is the comment with ``_thread`` added (the thread's channel, video, top
    comment id and reply count), so a quarantined record shows where it came from.
    """
    out: list[object] = []
    for thread in threads:
        if not isinstance(thread, dict):
            out.append(thread)
            continue
        top = dig(thread, "snippet", "topLevelComment")
        context = {
            "channelId": dig(thread, "snippet", "channelId"),
            "videoId": dig(thread, "snippet", "videoId"),
            "topLevelCommentId": dig(top, "id") or thread.get("id"),
            "totalReplyCount": dig(thread, "snippet", "totalReplyCount"),
        }
        for comment in [top, *(dig(thread, "replies", "comments") or [])]:
            out.append({**comment, "_thread": context} if isinstance(comment, dict) else comment)
    return out


def comment_fields(comment: dict) -> dict:
    """The values the canonical row needs from one comment record (None when absent)."""
    snippet = comment.get("snippet") or {}
    thread = comment.get("_thread") or {}
    top = comment.get("id") is not None and comment.get("id") == thread.get("topLevelCommentId")
    return {
        "id": comment.get("id"),
        "text": dig(snippet, "textOriginal") or dig(snippet, "textDisplay"),
        "author": dig(snippet, "authorChannelId", "value"),
        "published": dig(snippet, "publishedAt"),
        "likes": dig(snippet, "likeCount"),
        "parent": None if top else (dig(snippet, "parentId") or thread.get("topLevelCommentId")),
        "thread": thread.get("topLevelCommentId"),
        "owner": thread.get("channelId") or dig(snippet, "channelId"),
        "comments": thread.get("totalReplyCount") if top else None,
    }


def to_canonical(fields: pd.DataFrame, options: AdapterOptions) -> tuple[pd.DataFrame, pd.Series]:
    """Canonical rows and reasons from extracted comment fields (text columns). Pure."""
    reasons = no_reasons(fields.index)
    numbers = {}
    for name in ("likes", "comments"):
        numbers[name], bad = parse_whole_numbers(fields[name])
        reasons = add_reason(reasons, bad, f"{name}: not a whole number")
    created = parse_timestamps(fields["published"], options.zone())
    reasons = add_reason(
        reasons, created.isna() & ~is_blank(fields["published"]), "publishedAt: not a timestamp"
    )
    owner = clean_text(fields["owner"])
    accounts = {k.lower(): v for k, v in options.accounts.items()}
    brand = owner.str.lower().map(accounts.get, na_action="ignore").astype("string")
    if options.brand:
        brand = pd.Series(options.brand, index=fields.index, dtype="string")
    reasons = add_reason(
        reasons,
        brand.isna(),
        "no brand: the video's channel is not under accounts in params; give --brand",
    )
    author = clean_text(fields["author"])
    channel = options.channel or "youtube"
    rows = pd.DataFrame(
        {
            "id": prefixed_ids(channel, fields["id"]),
            "channel": channel,
            "brand": brand,
            "direction": np.where((author == owner).fillna(False), "outbound", "inbound"),
            "thread_id": prefixed_ids(channel, fields["thread"]),
            "parent_id": prefixed_ids(channel, fields["parent"]),
            "author_id": author,
            "created_at": created,
            "text": fields["text"],
            **numbers,
        },
        index=fields.index,
    )
    return rows, reasons
