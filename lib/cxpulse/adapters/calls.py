"""Call-centre logs, one row per call: a generic ACD CSV, or the Anonymous Bank log.

The format is told by the header: the Anonymous Bank's 17 columns (below), else an ACD CSV.

**ACD CSV** (columns mapped in params). Fields: ``id``, ``created_at``, ``outcome``
(required), ``wait_s``, ``handle_s``, ``author_id`` (caller id: set ``hash_authors: true``
when it is a phone number), ``brand``. ``outcome`` values are translated by ``outcomes`` in
params (file value -> served, abandoned, ivr or phantom; case-insensitive); values already
canonical need no entry. Durations are seconds (``95``) or clock strings (``0:01:35``).

**Anonymous Bank** (Technion SEE call-centre data, 1999). Seventeen fields separated by
tabs (some rows use spaces; no field holds a space), header on line 1: ``vru+line,
call_id, customer_id, priority, type, date (YYMMDD), vru_entry, vru_exit, vru_time,
q_start, q_exit, q_time, outcome, ser_start, ser_exit, ser_time, server``; times are
``H:MM:SS`` local clock strings.

- ``id`` = ``phone:<brand>:<vru+line>-<call_id>`` (call ids repeat across VRU lines).
- ``created_at`` = ``date`` + ``vru_entry``, wall time in the source's time zone
  (default Asia/Jerusalem, the bank's).
- ``outcome``: AGENT -> served (``handle_s`` = ``ser_time``); HANG after queueing
  (``q_time`` > 0) -> abandoned; HANG that never queued (ended in the VRU) -> ivr;
  PHANTOM -> phantom (kept, left out of call metrics). ``wait_s`` = ``q_time``.
- ``author_id`` = ``customer_id``, except 0 (unidentified caller) -> empty.
- The brand is ``--brand`` (or params), default "Anonymous Bank".

Calls are ``inbound``, on the ``phone`` channel (or the source's ``channel``, e.g. ``chat``).

Call ids are unique only within the call centre that numbers them, which answers for one
brand: a call is stored as ``<channel>:<brand>:<id>`` (the brand as ``id_scope`` writes
it: ``phone:anonymous-bank:AA0101-12345``), so two centres' call 17 are two calls. (Before
ids were scoped they were ``<channel>:<id>``: see ``warehouse.store``.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from cxpulse.adapters import AdapterOptions, Parsed, textfile
from cxpulse.adapters.fields import (
    add_reason,
    clean_text,
    id_scope,
    is_blank,
    localize,
    mapped_fields,
    no_reasons,
    parse_seconds,
    parse_timestamps,
    parse_whole_numbers,
    prefixed_ids,
    require_fields,
    scoped_ids,
)
from cxpulse.schema import OUTCOMES

NAME = "calls"
FIELDS = ("id", "created_at", "outcome", "wait_s", "handle_s", "author_id", "brand")
REQUIRED = ("id", "created_at", "outcome")
ANONBANK_REQUIRED = (
    "vru+line",
    "call_id",
    "customer_id",
    "date",
    "vru_entry",
    "q_time",
    "outcome",
    "ser_time",
)
ANONBANK = (
    "an Anonymous Bank call log: 17 tab-separated columns vru+line, call_id, customer_id, "
    "priority, type, date, vru_entry, vru_exit, vru_time, q_start, q_exit, q_time, outcome, "
    "ser_start, ser_exit, ser_time, server"
)
ANONBANK_BRAND = "Anonymous Bank"
ANONBANK_TIMEZONE = "Asia/Jerusalem"
_RUNS = re.compile(rb"[ \t]+")
_EDGES = re.compile(rb"(?m)^\t|\t$")
EXPECTED = (
    "an ACD call log CSV with columns for id, created_at and outcome (and wait_s, handle_s, "
    "author_id, brand), mapped under column_map in params/sources.yaml; or " + ANONBANK
)


def read(path: Path, options: AdapterOptions) -> Parsed:
    """Read a call log: the Anonymous Bank format when its header says so, else ACD CSV."""
    data = textfile.read_utf8(path, options.encoding, EXPECTED)
    if is_anonbank(data):
        return read_anonbank(data, str(path), options)
    table = textfile.parse_delimited(data, str(path), EXPECTED, options.delimiter or ",")
    fields = mapped_fields(table.records, FIELDS, REQUIRED, options.column_map, str(path), EXPECTED)
    rows, reasons = to_canonical(fields, options)
    return textfile.parsed_from(table, rows, reasons)


def to_canonical(fields: pd.DataFrame, options: AdapterOptions) -> tuple[pd.DataFrame, pd.Series]:
    """Canonical rows and reasons from ACD fields (text columns, named as ``FIELDS``)."""
    empty = pd.Series(pd.NA, index=fields.index, dtype="string")
    reasons = no_reasons(fields.index)
    outcome = translate_outcomes(fields["outcome"], options.outcomes)
    reasons = add_reason(
        reasons,
        outcome.isna() & ~is_blank(fields["outcome"]),
        f"outcome: not {', '.join(OUTCOMES)} nor mapped under outcomes in params/sources.yaml",
    )
    durations = {}
    for name in ("wait_s", "handle_s"):
        durations[name], bad = parse_seconds(fields.get(name, empty))
        reasons = add_reason(reasons, bad, f"{name}: not a duration (seconds or H:MM:SS)")
    created = parse_timestamps(fields["created_at"], options.zone())
    reasons = add_reason(
        reasons,
        created.isna() & ~is_blank(fields["created_at"]),
        "created_at: not a timestamp",
    )
    brand = clean_text(fields.get("brand", empty))
    if options.brand:
        brand = pd.Series(options.brand, index=fields.index, dtype="string")
    reasons = add_reason(reasons, brand.isna(), "no brand: give --brand or a brand column")
    channel = options.channel or "phone"
    rows = call_rows(
        ids=scoped_ids(channel, id_scope(brand), fields["id"]),
        legacy_ids=prefixed_ids(channel, fields["id"]),
        brand=brand,
        created=created,
        outcome=outcome,
        wait_s=durations["wait_s"],
        handle_s=durations["handle_s"],
        author=clean_text(fields.get("author_id", empty)),
        channel=channel,
    )
    return rows, reasons


def translate_outcomes(values: pd.Series, outcomes: Mapping[str, str]) -> pd.Series:
    """Canonical outcomes from the file's values (``outcomes`` first, then canonical names)."""
    table = {o: o for o in OUTCOMES} | {k.lower(): v for k, v in outcomes.items()}
    key = clean_text(values).str.lower()
    return key.map(table.get, na_action="ignore").astype("string")


def call_rows(
    ids: pd.Series,
    legacy_ids: pd.Series,
    brand: pd.Series,
    created: pd.Series,
    outcome: pd.Series,
    wait_s: pd.Series,
    handle_s: pd.Series,
    author: pd.Series,
    channel: str = "phone",
) -> pd.DataFrame:
    """Canonical call rows: inbound, no text, the call's own id as its thread."""
    return pd.DataFrame(
        {
            "id": ids,
            "legacy_id": legacy_ids,
            "channel": channel,
            "brand": brand,
            "direction": "inbound",
            "thread_id": ids,
            "author_id": author,
            "created_at": created,
            "wait_s": wait_s,
            "handle_s": handle_s,
            "outcome": outcome,
        },
        index=ids.index,
    )


def is_anonbank(data: bytes) -> bool:
    """True when the header line starts like the Anonymous Bank's (``vru+line call_id``)."""
    return data.split(maxsplit=2)[:2] == [b"vru+line", b"call_id"]


def read_anonbank(data: bytes, where: str, options: AdapterOptions) -> Parsed:
    """Read an Anonymous Bank monthly call log (UTF-8 ``data``)."""
    separated = _EDGES.sub(b"", _RUNS.sub(b"\t", data.replace(b"\r\n", b"\n")))
    table = textfile.parse_delimited(
        separated, where, ANONBANK, "\t", quoting=False, quote_from=data
    )
    require_fields({c: c for c in table.records.columns}, ANONBANK_REQUIRED, where, ANONBANK)
    rows, reasons = anonbank_rows(table.records, options)
    return textfile.parsed_from(table, rows, reasons)


def anonbank_rows(records: pd.DataFrame, options: AdapterOptions) -> tuple[pd.DataFrame, pd.Series]:
    """Canonical rows and reasons from Anonymous Bank records (text columns). Pure."""
    reasons = no_reasons(records.index)
    line, call = clean_text(records["vru+line"]), clean_text(records["call_id"])
    reasons = add_reason(reasons, line.isna() | call.isna(), "vru+line or call_id is missing")
    day = pd.to_datetime(clean_text(records["date"]), format="%y%m%d", errors="coerce")
    reasons = add_reason(reasons, day.isna(), "date: not a YYMMDD date")
    entry, bad_entry = parse_seconds(records["vru_entry"])
    reasons = add_reason(reasons, bad_entry | entry.isna(), "vru_entry: not an H:MM:SS time")
    q_time, bad_q = parse_whole_numbers(records["q_time"])
    ser_time, bad_ser = parse_whole_numbers(records["ser_time"])
    for name, values, bad in (("q_time", q_time, bad_q), ("ser_time", ser_time, bad_ser)):
        reasons = add_reason(reasons, bad | values.isna(), f"{name}: not a whole number of seconds")
    status = clean_text(records["outcome"]).str.upper()
    outcome = pd.Series(
        np.select(
            [
                status.eq("AGENT").fillna(False),
                (status.eq("HANG") & q_time.ne(0)).fillna(False),
                (status.eq("HANG") & q_time.eq(0)).fillna(False),
                status.eq("PHANTOM").fillna(False),
            ],
            ["served", "abandoned", "ivr", "phantom"],
            default=None,
        ),
        index=records.index,
        dtype="string",
    )
    reasons = add_reason(
        reasons,
        ~status.isin(["AGENT", "HANG", "PHANTOM"]).fillna(False),
        "outcome: expected AGENT, HANG or PHANTOM",
    )
    naive = day + pd.to_timedelta(entry.astype("float64"), unit="s")
    customer = clean_text(records["customer_id"])
    brand = pd.Series(options.brand or ANONBANK_BRAND, index=records.index, dtype="string")
    rows = call_rows(
        ids=scoped_ids("phone", id_scope(brand), line + "-" + call),
        legacy_ids=("phone:" + line + "-" + call).astype("string"),
        brand=brand,
        created=localize(naive, options.zone(ANONBANK_TIMEZONE)),
        outcome=outcome,
        wait_s=q_time.astype("Float64"),
        handle_s=ser_time.astype("Float64").where(outcome.eq("served").fillna(False)),
        author=customer.mask(customer.eq("0").fillna(False)),
    )
    return rows, reasons
