"""A generic CSV of posts and comments from any channel (blogs, Tumblr, Pinterest, ...).

A new channel is a ``column_map`` in params, not code. Fields: ``id``, ``created_at``
(required), ``text``, ``author_id``, ``brand``, ``channel``, ``direction``,
``thread_id``, ``parent_id``, ``rating``, ``reach``, ``likes``, ``shares``, ``comments``.
The channel is the source's ``channel`` (params) or the ``channel`` column; the brand is
``--brand`` (or ``brand`` in params) or the ``brand`` column; the direction is the
``direction`` column or ``mention``.

The ids of such an export are its tool's, unique only within what it exported for one
brand: ids (and thread and parent ids) become ``<channel>:<brand>:<id>``, the brand as
``id_scope`` writes it (``blog:northwind-mobile:https://...``). (Before ids were scoped they
were ``<channel>:<id>``: see ``warehouse.store``.)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cxpulse.adapters import AdapterOptions, Parsed, textfile
from cxpulse.adapters.fields import (
    add_reason,
    clean_text,
    id_scope,
    is_blank,
    mapped_fields,
    no_reasons,
    parse_timestamps,
    parse_whole_numbers,
    prefixed_ids,
    scoped_ids,
)
from cxpulse.schema import COUNTS

NAME = "mentions"
FIELDS = (
    "id",
    "created_at",
    "text",
    "author_id",
    "brand",
    "channel",
    "direction",
    "thread_id",
    "parent_id",
    "rating",
    *COUNTS,
)
REQUIRED = ("id", "created_at")
EXPECTED = (
    "a mentions CSV with columns for id and created_at (and text, author_id, brand, "
    "channel, direction, thread_id, parent_id, rating, reach, likes, shares, comments), "
    "mapped under column_map in params/sources.yaml"
)


def parse(table: textfile.Table, path: Path, options: AdapterOptions) -> Parsed:
    """The ``Parsed`` of records of ``path``."""
    required = [*REQUIRED, *(() if options.channel else ("channel",))]
    expected = EXPECTED + "; or a channel for the source"
    fields = mapped_fields(table.records, FIELDS, required, options.column_map, str(path), expected)
    rows, reasons = to_canonical(fields, options)
    return textfile.parsed_from(table, rows, reasons)


read, chunks = textfile.record_readers(EXPECTED, parse)
"""Read a file whole, or in chunks of about ``size`` bytes."""


def to_canonical(fields: pd.DataFrame, options: AdapterOptions) -> tuple[pd.DataFrame, pd.Series]:
    """Canonical rows and reasons from mention fields (text columns, named as ``FIELDS``)."""
    empty = pd.Series(pd.NA, index=fields.index, dtype="string")
    reasons = no_reasons(fields.index)
    channel = clean_text(fields.get("channel", empty)).str.lower()
    if options.channel:
        channel = pd.Series(options.channel, index=fields.index, dtype="string")
    brand = clean_text(fields.get("brand", empty))
    if options.brand:
        brand = pd.Series(options.brand, index=fields.index, dtype="string")
    reasons = add_reason(reasons, brand.isna(), "no brand: give --brand or a brand column")
    created = parse_timestamps(fields["created_at"], options.zone())
    reasons = add_reason(
        reasons,
        created.isna() & ~is_blank(fields["created_at"]),
        "created_at: not a timestamp",
    )
    numbers = {}
    for name in ("rating", *COUNTS):
        numbers[name], bad = parse_whole_numbers(fields.get(name, empty))
        reasons = add_reason(reasons, bad, f"{name}: not a whole number")
    direction = clean_text(fields.get("direction", empty)).str.lower().fillna("mention")
    scope = id_scope(brand)
    rows = pd.DataFrame(
        {
            "id": scoped_ids(channel, scope, fields["id"]),
            "legacy_id": prefixed_ids(channel, fields["id"]),
            "channel": channel,
            "brand": brand,
            "direction": direction,
            "thread_id": scoped_ids(channel, scope, fields.get("thread_id", empty)),
            "parent_id": scoped_ids(channel, scope, fields.get("parent_id", empty)),
            "author_id": clean_text(fields.get("author_id", empty)),
            "created_at": created,
            "text": fields.get("text", empty).astype("string"),
            **numbers,
        },
        index=fields.index,
    )
    return rows, reasons
