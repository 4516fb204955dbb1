"""Instagram Graph API comments, as JSON (``GET /{ig-media-id}/comments`` or
``GET /{ig-user-id}/media?fields=...,comments{...,replies{...}}``).

A file holds one response (``{"data": [...], "paging": {"cursors": ..., "next": ...}}``),
one per line, or a JSON list of responses (the pages of one export). Items are comments
(``id, text, timestamp, username, like_count``; ``from{id,username}`` in newer versions;
``parent_id`` for a reply listed flat) with their replies nested under ``replies.data``,
or media (``id, caption, timestamp, username, like_count, comments_count``) with their
comments under ``comments.data``. ``timestamp`` is ISO 8601 with an offset
(``2024-03-04T09:15:22+0000``), so the source's time zone is never needed.

Our account is the media's ``username`` and every username under ``accounts`` in params
(username -> brand): what it writes (media, replies) is ``outbound``, the rest
``inbound``; a reply's parent is the comment it sits under. The brand is ``--brand``, else
what ``accounts`` gives our username, else that username. Instagram ids are unique on the
network: ids are ``instagram:<id>``. A comment that names no time (deleted or hidden while
the export ran) is quarantined with ``created_at is missing``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cxpulse.adapters import AdapterOptions, Parsed, textfile
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
    prefixed_ids,
    thread_roots,
)

NAME = "instagram"
SOURCE = "Instagram Graph API: GET /{ig-media-id}/comments (replies nested), JSON pages"
COLUMNS = "id, text, timestamp, username (or from.username), like_count, replies.data, parent_id"
ZONE = "offset in each timestamp (UTC)"
EXPECTED = (
    "an Instagram Graph API comments export: a JSON object with a 'data' list of comments "
    "(id, text, timestamp, username, like_count, replies) or media with their comments"
)


def read(path: Path, options: AdapterOptions) -> Parsed:
    """Read an Instagram Graph API comments export (JSON, JSON Lines or a list of pages)."""
    data = textfile.read_utf8(path, options.encoding, EXPECTED)
    documents = pages(textfile.load_json(data, str(path), EXPECTED))
    items = flatten(textfile.data_items(documents, str(path), EXPECTED))
    fields, rejects = json_rows([item for item, _, _ in items], item_fields)
    positions = [n for n, (item, _, _) in enumerate(items) if isinstance(item, dict)]
    fields["container"] = pd.array([items[n][1] for n in positions], dtype="string")
    fields["owner"] = pd.array([items[n][2] for n in positions], dtype="string")
    rows, reasons = to_canonical(fields, options)
    return textfile.parsed_from_json(rows, fields, reasons, rejects)


def flatten(items: list[object]) -> list[tuple[object, str | None, str | None]]:
    """(item, id of the item it sits under, username of the media's owner) for every
    media, comment and reply, depth first in file order."""
    out: list[tuple[object, str | None, str | None]] = []
    stack = [(item, None, None) for item in reversed(items)]
    while stack:
        item, container, owner = stack.pop()
        out.append((item, container, owner))
        for key in ("comments", "replies"):
            nested = dig(item, key, "data")
            if isinstance(nested, list):
                media_owner = owner or (username(item) if key == "comments" else None)
                own = str(dig(item, "id"))
                stack.extend((c, own, media_owner) for c in reversed(nested))
    return out


def username(item: dict) -> str | None:
    """The item's author: ``username``, or ``from.username`` (newer API versions)."""
    return item.get("username") or dig(item, "from", "username")


def item_fields(item: dict) -> dict:
    """The values the canonical row needs from one media or comment (None when absent)."""
    media = "caption" in item or "media_type" in item or "comments_count" in item
    return {
        "id": item.get("id"),
        "timestamp": item.get("timestamp"),
        "username": username(item),
        "text": item.get("caption") if media else item.get("text"),
        "parent": item.get("parent_id"),
        "likes": item.get("like_count"),
        "comments": item.get("comments_count"),
        "media": "1" if media else None,
    }


def to_canonical(fields: pd.DataFrame, options: AdapterOptions) -> tuple[pd.DataFrame, pd.Series]:
    """Canonical rows and reasons from extracted item fields (text columns). Pure."""
    reasons = no_reasons(fields.index)
    numbers = {}
    for name in ("likes", "comments"):
        numbers[name], bad = parse_whole_numbers(fields[name])
        reasons = add_reason(reasons, bad, f"{name}: not a whole number")
    created = parse_timestamps(fields["timestamp"], options.zone(), ["%Y-%m-%dT%H:%M:%S%z"])
    reasons = add_reason(
        reasons, created.isna() & ~is_blank(fields["timestamp"]), "timestamp: not a timestamp"
    )
    accounts = {k.lower(): v for k, v in options.accounts.items()}
    user = clean_text(fields["username"]).str.lower()
    ours = set(accounts) | set(clean_text(fields["owner"]).str.lower().dropna())
    ours |= set(user[fields["media"].notna()].dropna())
    outbound = user.isin(ours).fillna(False).to_numpy()
    brand = pd.Series(options.brand, index=fields.index, dtype="string")
    if not options.brand:
        own = sorted(ours & set(user.dropna())) or sorted(ours)
        name = accounts.get(own[0], own[0]) if own else None
        brand = pd.Series(name, index=fields.index, dtype="string")
        reasons = add_reason(
            reasons,
            brand.isna(),
            "no brand: give --brand or our username under accounts in params",
        )
    channel = options.channel or "instagram"
    ids = clean_text(fields["id"])
    parent = clean_text(fields["parent"]).fillna(fields["container"])
    rows = pd.DataFrame(
        {
            "id": prefixed_ids(channel, ids),
            "channel": channel,
            "brand": brand,
            "direction": np.where(outbound, "outbound", "inbound"),
            "thread_id": prefixed_ids(channel, thread_roots(ids, parent)),
            "parent_id": prefixed_ids(channel, parent),
            "author_id": clean_text(fields["username"]),
            "created_at": created,
            "text": fields["text"],
            **numbers,
        },
        index=fields.index,
    )
    return rows, reasons
