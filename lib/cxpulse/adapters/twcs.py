"""The public "Customer Support on Twitter" CSV (Kaggle ``twcs.csv``).

Columns: ``tweet_id, author_id, inbound, created_at, text, response_tweet_id,
in_response_to_tweet_id`` (a leading unnamed index column, as ``pandas.to_csv`` writes, is
ignored, like any other extra column). ``created_at`` looks like
``Tue Oct 31 22:10:47 +0000 2017``; ids may be written as floats (``3.0``).

Company accounts are the authors of non-inbound tweets. A company tweet is ``outbound``
with its author as brand (or the brand ``accounts`` maps the handle to). An inbound tweet
is addressed to, in this order of evidence:

1. the company whose tweet answers it first (a company tweet whose parent it is);
2. the nearest company tweet above it in its reply chain (it answers that company);
3. the company that speaks most in its thread (ties: alphabetical);
4. the first company account it @-mentions;

and is quarantined ("no company in thread") when none applies. ``thread_id`` is the
thread's root: the tweet reached by following parent links until a tweet that has no parent,
or whose parent is not in the file (then the parent's id, so a later export holding the
parent gives the same thread).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import union_categoricals

from cxpulse.adapters import AdapterOptions, Parsed, textfile
from cxpulse.adapters.fields import (
    add_reason,
    as_text,
    clean_text,
    is_blank,
    no_reasons,
    parent_positions,
    parse_timestamps,
    parse_whole_numbers,
    require_fields,
    strptime,
    thread_roots,
    utf8_bytes,
)
from cxpulse.schema import TIMESTAMP_DTYPE

NAME = "twcs"
EXPECTED = (
    "a Customer Support on Twitter CSV with columns tweet_id, author_id, inbound, "
    "created_at, text, response_tweet_id, in_response_to_tweet_id"
)
REQUIRED = ("tweet_id", "author_id", "inbound", "created_at", "text", "in_response_to_tweet_id")
TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"
_AS_WRITTEN = (
    r"^[A-Za-z]{3} [A-Za-z]{3} [0-9]{2} (?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9] "
    r"[+-][0-9]{4} [0-9]{4}$"
)
"""``TIME_FORMAT`` as TWCS writes it: fixed width, the clock time at characters 11-18."""
_CLOCK_AT = 11
_MENTION = r"@(\w+)"
_ASCII_MENTION = r"@(?P<handle>\w+)"
"""``_MENTION`` for Arrow (its ``\\w`` is ASCII only: the same as Python's in ASCII text)."""


def read(path: Path, options: AdapterOptions) -> Parsed:
    """Read a TWCS CSV export."""
    delimiter = options.delimiter or ","
    table = textfile.read_delimited(path, options.encoding, EXPECTED, delimiter)
    require_fields({c: c for c in table.records.columns}, REQUIRED, str(path), EXPECTED)
    rows, reasons = to_canonical(table.records, options)
    return textfile.parsed_from(table, rows, reasons)


def chunks(
    path: Path,
    options: AdapterOptions,
    size: int = textfile.CHUNK_BYTES,
    folder: Path | None = None,
) -> Iterator[Parsed]:
    """``read``, chunk by chunk, in two passes: the first parses the file, keeps each
    record's links (``link_fields``, some 30 bytes a record) to find every thread's
    context, and writes each chunk to a temporary folder; the second makes the rows of each
    chunk from it and its context, also kept on disk meanwhile (memory holds one chunk
    then, whatever the file's size). The chunks are kept in a new folder in ``folder``
    (default: the system's temporary folder), removed after."""
    delimiter = options.delimiter or ","
    with tempfile.TemporaryDirectory(prefix="twcs-", dir=folder) as kept:
        spilled, parts = [], []
        for table in textfile.delimited_chunks(
            path, options.encoding, EXPECTED, delimiter, size=size
        ):
            require_fields({c: c for c in table.records.columns}, REQUIRED, str(path), EXPECTED)
            parts.append(link_fields(table.records, options))
            spilled.append((Path(kept) / f"{len(spilled)}.table", len(table.records)))
            textfile.spill(table, spilled[-1][0])
        links = concat_links(parts)
        parts.clear()  # not to hold the links twice while the context is found
        context = thread_context(links, options)
        del links
        start = 0
        for target, count in spilled:
            part = context.iloc[start : start + count].reset_index(drop=True)
            part.to_pickle(target.with_suffix(".context"))
            start += count
        del context, part
        for target, _ in spilled:
            table = textfile.unspill(target)
            part = pd.read_pickle(target.with_suffix(".context")).set_axis(table.records.index)
            rows, reasons = canonical_rows(table.records, part, options)
            yield textfile.parsed_from(table, rows, reasons)


def to_canonical(records: pd.DataFrame, options: AdapterOptions) -> tuple[pd.DataFrame, pd.Series]:
    """Canonical rows and reasons from TWCS records (text columns). Pure."""
    context = thread_context(link_fields(records, options), options)
    return canonical_rows(records, context, options)


def link_fields(records: pd.DataFrame, options: AdapterOptions) -> pd.DataFrame:
    """What each record says about its thread: ``tweet_id``, ``parent``, ``created``,
    ``company`` (the author of a usable company tweet, else NA; categorical) and ``reason``
    (why the record is not usable, categorical). Pure."""
    reasons = no_reasons(records.index)
    tweet_id, bad_id = parse_whole_numbers(records["tweet_id"])
    reasons = add_reason(reasons, bad_id, "tweet_id: not a whole number")
    reasons = add_reason(reasons, tweet_id.isna() & ~bad_id, "tweet_id is missing")
    parent, bad_parent = parse_whole_numbers(records["in_response_to_tweet_id"])
    reasons = add_reason(reasons, bad_parent, "in_response_to_tweet_id: not a whole number")
    flag = clean_text(records["inbound"]).str.lower()
    inbound = flag.map({"true": True, "false": False, "1": True, "0": False})
    reasons = add_reason(reasons, inbound.isna(), "inbound: expected True or False")
    created = tweet_times(records["created_at"], options.zone())
    reasons = add_reason(
        reasons,
        created.isna() & ~is_blank(records["created_at"]),
        "created_at: not a timestamp like 'Tue Oct 31 22:10:47 +0000 2017'",
    )
    author = clean_text(records["author_id"])
    reasons = add_reason(reasons, author.isna(), "author_id is missing")
    is_company = reasons.isna() & inbound.eq(False).fillna(False)
    return pd.DataFrame(
        {
            "tweet_id": tweet_id,
            "parent": parent,
            "created": created,
            "company": author.where(is_company).astype("category"),
            "reason": reasons.astype("category"),
        },
        index=records.index,
    )


def tweet_times(values: pd.Series, timezone: str) -> pd.Series:
    """``parse_timestamps(values, timezone, (TIME_FORMAT,))``, the same instants found
    faster: a value written as TWCS writes it (``Tue Oct 31 22:10:47 +0000 2017``) is its
    day's midnight (``Tue Oct 31 00:00:00 +0000 2017``, parsed once per day: tweets of a day
    share it) plus its clock time (read from its digits, a valid one: 00:00:00 to
    23:59:59). Other values, and days that do not parse, take the general path."""
    text = clean_text(values)
    written = pa.array(text)
    usual = pc.match_substring_regex(written, _AS_WRITTEN).fill_null(False)
    found = written.filter(usual)
    if isinstance(found, pa.ChunkedArray):
        found = found.combine_chunks()
    days = pc.dictionary_encode(pc.utf8_replace_slice(found, _CLOCK_AT, _CLOCK_AT + 8, "00:00:00"))
    midnight = strptime(pd.Series(days.dictionary), TIME_FORMAT)
    starts, _, data = utf8_bytes(found)
    digit = data[starts[:, None] + _CLOCK_AT + np.array([0, 1, 3, 4, 6, 7])] - ord("0")
    clock = (digit[:, ::2] * 10 + digit[:, 1::2]) @ np.array([3600, 60, 1])
    stamps = midnight.array.take(days.indices.to_numpy(zero_copy_only=False))
    out = pd.Series(pd.NaT, index=values.index, dtype=TIMESTAMP_DTYPE)
    out[usual.to_numpy(zero_copy_only=False)] = stamps + clock.astype("timedelta64[s]")
    rest = out.isna().to_numpy() & text.notna().to_numpy()
    if rest.any():
        out[rest] = parse_timestamps(values[rest], timezone, (TIME_FORMAT,))
    return out


def concat_links(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The ``link_fields`` of every chunk as one frame (categories united, not text)."""
    if len(parts) == 1:
        return parts[0].reset_index(drop=True)
    links = pd.concat([p.drop(columns=["company", "reason"]) for p in parts], ignore_index=True)
    for column in ("company", "reason"):
        links[column] = union_categoricals([p[column] for p in parts], sort_categories=True)
    return links


def thread_context(links: pd.DataFrame, options: AdapterOptions) -> pd.DataFrame:
    """Of ``links``, what the rows need besides their own record (``tweet_id``,
    ``parent``, ``created``, ``company``, ``reason``), with each record's thread ``root``
    and ``addressed``, the company it is addressed to by the thread (rules 1-3 of the
    module docstring; NA when none): some 38 bytes a record. Pure."""
    author = links["company"]  # categorical (codes, not text: 10M tweets' worth is small)
    is_company = author.notna()
    up = parent_positions(links["tweet_id"], links["parent"])
    root = thread_roots(links["tweet_id"], links["parent"], up)
    addressed = (
        first_reply_author(links["tweet_id"], links["parent"], author, is_company, links["created"])
        .fillna(nearest_company_above(up, author, is_company))
        .fillna(most_active_company(root, author, is_company))
    )
    return links[["tweet_id", "parent", "created", "company", "reason"]].assign(
        root=root, addressed=addressed.astype("category")
    )


def canonical_rows(
    records: pd.DataFrame, context: pd.DataFrame, options: AdapterOptions
) -> tuple[pd.DataFrame, pd.Series]:
    """Canonical rows and reasons from TWCS records and their ``thread_context`` (same
    index). Pure."""
    reasons = as_text(context["reason"])
    usable = reasons.isna()
    company = as_text(context["company"])
    is_company = company.notna()
    handles = {a.lower(): a for a in context["company"].cat.categories}
    handles |= {k.lower(): k for k in options.accounts}
    addressed = as_text(context["addressed"])
    pending = usable & ~is_company & addressed.isna()
    addressed[pending] = first_known_mention(records["text"][pending], handles)
    brand_handle = company.where(is_company, addressed)
    reasons = add_reason(
        reasons,
        usable & ~is_company & brand_handle.isna(),
        "no company in thread: no company account replied in this file and none is @-mentioned",
    )
    brand = brand_handle
    if options.accounts:
        accounts = {k.lower(): v for k, v in options.accounts.items()}
        renamed = brand_handle.str.lower().map(accounts.get, na_action="ignore")
        brand = renamed.astype("string").fillna(brand_handle)
    rows = pd.DataFrame(
        {
            "id": "twitter:" + context["tweet_id"].astype("string"),
            "channel": "twitter",
            "brand": brand.astype("string"),
            "direction": is_company.map({True: "outbound", False: "inbound"}),
            "thread_id": "twitter:" + context["root"].astype("string"),
            "parent_id": "twitter:" + context["parent"].astype("string"),
            "author_id": clean_text(records["author_id"]),
            "created_at": context["created"],
            "text": records["text"].astype("string"),
        },
        index=records.index,
    )
    return rows, reasons


def first_reply_author(
    ids: pd.Series,
    parents: pd.Series,
    author: pd.Series,
    is_company: pd.Series,
    created: pd.Series,
) -> pd.Series:
    """For each tweet, the author of the earliest company tweet that answers it, or NA."""
    replies = pd.DataFrame({"parent": parents, "author": author, "created": created})[is_company]
    replies = replies.dropna(subset=["parent"]).sort_values(["created", "author"], kind="stable")
    first = replies.drop_duplicates("parent").set_index("parent")["author"]
    return look_up(first, ids)


def nearest_company_above(up: np.ndarray, author: pd.Series, is_company: pd.Series) -> pd.Series:
    """For each tweet, the author of the closest company tweet among its ancestors, or NA.

    ``up``: each tweet's parent position (``parent_positions``).
    """
    company = is_company.to_numpy()
    parent_is_company = (up >= 0) & company[up.clip(0)]
    # Pointer doubling: after k rounds ``found`` is the first company within 2**k steps
    # up and ``step`` the tweet 2**k steps up (-1 once found or at the top); reply loops
    # stop after the last round.
    found = np.where(parent_is_company, up, -1)
    step = np.where(parent_is_company, -1, up)
    for _ in range(len(up).bit_length() + 1):
        active = step >= 0
        if not active.any():
            break
        found_there, step_there = found[step.clip(0)], step[step.clip(0)]
        found = np.where(active, found_there, found)
        step = np.where(active & (found_there < 0), step_there, -1)
    return pd.Series(author.array.take(found, allow_fill=True), index=author.index)


def most_active_company(root: pd.Series, author: pd.Series, is_company: pd.Series) -> pd.Series:
    """For each tweet, the company with the most tweets in its thread (ties: alphabetical)."""
    companies = pd.DataFrame({"root": root, "author": author})[is_company]
    counts = companies.groupby(["root", "author"], observed=True).size()
    ranked = counts.rename("n").reset_index().sort_values(["n", "author"], ascending=[False, True])
    top = ranked.drop_duplicates("root").set_index("root")["author"]
    return look_up(top, root)


def look_up(table: pd.Series, keys: pd.Series) -> pd.Series:
    """``table``'s value for each of ``keys`` (NA where it has none), indexed like
    ``keys``; ``table``'s index is unique."""
    at = table.index.get_indexer(pd.Index(keys))
    return pd.Series(table.array.take(at, allow_fill=True), index=keys.index)


def first_known_mention(text: pd.Series, handles: dict[str, str]) -> pd.Series:
    """The first @-mentioned handle that is a known company account (``handles``: lower ->
    as written), or NA.

    A text in ASCII whose first mention is known, or that has none, is answered by Arrow
    (there ``\\w`` means the same to it as to Python); the others by Python."""
    text = text.astype("string")
    written = pa.array(text)
    first = pc.struct_field(pc.extract_regex(written, _ASCII_MENTION), [0])
    at = pc.index_in(pc.utf8_lower(first), value_set=pa.array(list(handles), pa.large_string()))
    known = pa.array(list(handles.values()), pa.large_string()).take(at)
    done = pc.and_(pc.string_is_ascii(written), pc.or_(first.is_null(), known.is_valid()))
    out = pd.Series(pd.arrays.ArrowStringArray(known), index=text.index)
    rest = ~done.fill_null(True).to_numpy(zero_copy_only=False)
    mentions = text[rest].str.findall(_MENTION)
    out[rest] = mentions.map(
        lambda found: next((handles[h.lower()] for h in found if h.lower() in handles), pd.NA),
        na_action="ignore",
    ).astype("string")
    return out
