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

from cxpulse.adapters import AdapterOptions, Parsed, textfile
from cxpulse.adapters.fields import (
    add_reason,
    as_text,
    clean_text,
    is_blank,
    no_reasons,
    parse_timestamps,
    parse_whole_numbers,
    require_fields,
    strptime,
    utf8_bytes,
)
from cxpulse.adapters.twcs_threads import Threads
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
    """``read``, chunk by chunk, in two passes: the first parses the file, writes each
    chunk and its ``link_fields`` to a temporary folder and adds the links to the file's
    ``Threads`` there (a DuckDB database that spills to disk), which then finds every
    thread's context; the second makes the rows of each chunk from it and its context
    (memory holds one chunk, and the database at most its ``MEMORY_LIMIT``, whatever the
    file's size). The chunks are kept in a new folder in ``folder`` (default: the system's
    temporary folder), removed after."""
    delimiter = options.delimiter or ","
    with tempfile.TemporaryDirectory(prefix="twcs-", dir=folder) as kept:
        spilled: list[Path] = []
        with Threads(Path(kept)) as threads:
            for table in textfile.delimited_chunks(
                path, options.encoding, EXPECTED, delimiter, size=size
            ):
                require_fields({c: c for c in table.records.columns}, REQUIRED, str(path), EXPECTED)
                spilled.append(Path(kept) / f"{len(spilled)}.table")
                links = link_fields(table.records, options)
                threads.add(links)
                links.to_pickle(spilled[-1].with_suffix(".context"))
                textfile.spill(table, spilled[-1])
            del table, links
            threads.solve()
            parts = (pd.read_pickle(target.with_suffix(".context")) for target in spilled)
            for target, part in zip(spilled, threads.contexts(parts), strict=True):
                part.to_pickle(target.with_suffix(".context"))
        for target in spilled:
            table = textfile.unspill(target)
            part = pd.read_pickle(target.with_suffix(".context")).set_axis(table.records.index)
            rows, reasons = canonical_rows(table.records, part, options)
            yield textfile.parsed_from(table, rows, reasons)


def to_canonical(records: pd.DataFrame, options: AdapterOptions) -> tuple[pd.DataFrame, pd.Series]:
    """Canonical rows and reasons from TWCS records (text columns). Pure."""
    links = link_fields(records, options)
    with Threads(None) as threads:
        threads.add(links)
        threads.solve()
        (context,) = threads.contexts([links])
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


def canonical_rows(
    records: pd.DataFrame, context: pd.DataFrame, options: AdapterOptions
) -> tuple[pd.DataFrame, pd.Series]:
    """Canonical rows and reasons from TWCS records and their ``Threads.contexts`` (same
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
