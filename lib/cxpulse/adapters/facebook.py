"""Facebook Graph API exports of a page's posts and comments, as JSON.

A file holds one response (``{"data": [...], "paging": ...}``) or one per line. Items are
posts or comments (``id, created_time, from{id,name}, message, parent{id}``); a post's
``comments.data`` (and a comment's, for replies) are read too. Engagement: likes =
``reactions.summary.total_count`` (or ``likes.summary.total_count``, ``like_count``);
shares = ``shares.count``; comments = ``comments.summary.total_count`` (or
``comment_count``).

The page is identified by ``accounts`` in params (page id or name -> brand) and by the
prefix of its post ids (``<page id>_<post id>``). Items from the page are ``outbound``,
the others ``inbound``. The brand is ``--brand``, else the brand ``accounts`` gives the
page, else the page's own name; an export that names no page is refused.
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
    thread_roots,
)

NAME = "facebook"
EXPECTED = (
    "a Facebook Graph API export: a JSON object with a 'data' list of page posts or "
    "comments (id, created_time, from, message, parent, reactions, shares, comments)"
)


def read(path: Path, options: AdapterOptions) -> Parsed:
    """Read a Graph API page posts/comments export (JSON or JSON Lines)."""
    data = textfile.read_utf8(path, options.encoding, EXPECTED)
    documents = textfile.load_json(data, str(path), EXPECTED)
    items = flatten(textfile.data_items(documents, str(path), EXPECTED))
    fields, rejects = json_rows([item for item, _, _ in items], item_fields)
    positions = [n for n, (item, _, _) in enumerate(items) if isinstance(item, dict)]
    fields["container"] = pd.array([items[n][1] for n in positions], dtype="string")
    fields["post"] = pd.array([items[n][2] for n in positions], dtype="string")
    brand = page_brand(fields, options, str(path))
    rows, reasons = to_canonical(fields, options, brand)
    return textfile.parsed_from_json(rows, fields, reasons, rejects)


def flatten(items: list[object]) -> list[tuple[object, str | None, str | None]]:
    """(item, id of the item it sits under, id of its top-level post) for every item and
    nested comment, depth first in file order."""
    out: list[tuple[object, str | None, str | None]] = []
    stack = [(item, None, None) for item in reversed(items)]
    while stack:
        item, container, post = stack.pop()
        out.append((item, container, post))
        nested = dig(item, "comments", "data")
        if isinstance(nested, list):
            own = str(dig(item, "id"))
            stack.extend((c, own, post or own) for c in reversed(nested))
    return out


def item_fields(item: dict) -> dict:
    """The values the canonical row needs from one post or comment (None when absent)."""
    likes = dig(item, "reactions", "summary", "total_count")
    likes = likes if likes is not None else dig(item, "likes", "summary", "total_count")
    comments = dig(item, "comments", "summary", "total_count")
    return {
        "id": item.get("id"),
        "created_time": item.get("created_time"),
        "from_id": dig(item, "from", "id"),
        "from_name": dig(item, "from", "name"),
        "message": item.get("message"),
        "parent": dig(item, "parent", "id"),
        "likes": likes if likes is not None else item.get("like_count"),
        "shares": dig(item, "shares", "count"),
        "comments": comments if comments is not None else item.get("comment_count"),
    }


def page_ids(fields: pd.DataFrame, options: AdapterOptions) -> set[str]:
    """Ids and lower-case names that mean the page: ``accounts`` keys and post-id prefixes."""
    top = fields["container"].isna() & fields["parent"].isna()
    prefixes = fields["id"][top].str.extract(r"^(\d+)_")[0].dropna()
    return {k.lower() for k in options.accounts} | set(prefixes)


def from_page(fields: pd.DataFrame, pages: set[str]) -> pd.Series:
    """True where an item was written by the page."""
    by_id = clean_text(fields["from_id"]).isin(pages).fillna(False)
    by_name = clean_text(fields["from_name"]).str.lower().isin(pages).fillna(False)
    return by_id | by_name


def page_brand(fields: pd.DataFrame, options: AdapterOptions, where: str) -> str:
    """The brand of the page (see the module docstring)."""
    if options.brand:
        return options.brand
    accounts = {k.lower(): v for k, v in options.accounts.items()}
    own = fields[from_page(fields, page_ids(fields, options))]
    for key in [*own["from_id"].dropna(), *own["from_name"].dropna().str.lower()]:
        if key.lower() in accounts:
            return accounts[key.lower()]
    if len(own["from_name"].dropna()):
        return str(own["from_name"].dropna().iloc[0])
    raise AdapterError(
        f"{where}: cannot tell which page this export is from; give --brand or the page id "
        "under accounts in params/sources.yaml"
    )


def to_canonical(
    fields: pd.DataFrame, options: AdapterOptions, brand: str
) -> tuple[pd.DataFrame, pd.Series]:
    """Canonical rows and reasons from extracted post/comment fields (text columns). Pure."""
    reasons = no_reasons(fields.index)
    numbers = {}
    for name in ("likes", "shares", "comments"):
        numbers[name], bad = parse_whole_numbers(fields[name])
        reasons = add_reason(reasons, bad, f"{name}: not a whole number")
    created = parse_timestamps(fields["created_time"], options.zone())
    reasons = add_reason(
        reasons,
        created.isna() & ~is_blank(fields["created_time"]),
        "created_time: not a timestamp",
    )
    channel = options.channel or "facebook"
    parent = clean_text(fields["parent"]).fillna(fields["container"])
    root = thread_roots(clean_text(fields["id"]), parent)
    outbound = from_page(fields, page_ids(fields, options))
    rows = pd.DataFrame(
        {
            "id": prefixed_ids(channel, fields["id"]),
            "channel": channel,
            "brand": brand,
            "direction": np.where(outbound, "outbound", "inbound"),
            "thread_id": prefixed_ids(channel, fields["post"].fillna(root)),
            "parent_id": prefixed_ids(channel, parent),
            "author_id": clean_text(fields["from_id"]),
            "created_at": created,
            "text": fields["message"],
            **numbers,
        },
        index=fields.index,
    )
    return rows, reasons
