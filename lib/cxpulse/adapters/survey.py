"""NPS and CSAT survey responses, CSV: one row per response.

Fields: ``response_id, submitted_at, nps, csat, comment, customer_id, channel, brand``
(``response_id``, ``submitted_at`` and one of ``nps``, ``csat`` required). ``nps`` is the
0-10 likelihood-to-recommend answer, ``csat`` the 1-5 satisfaction answer; ``channel`` is
the channel of the contact the response rates (email, chat, phone, ...; written in any
case, ``web form`` as ``webform``). Other tools' exports are read through ``column_map``
in params, for example:

- Qualtrics (Data & Analysis > Export, CSV, choice text): ``response_id: ResponseId``,
  ``submitted_at: RecordedDate``, ``nps: Q1_NPS`` (the question's export tag),
  ``comment: Q2``; its second and third lines (question texts, ``{"ImportId": ...}``)
  are header lines, not responses, and are not read.
- Medallia (Reports > Export, CSV): ``response_id: Survey ID``, ``submitted_at: Response
  Date``, ``nps: Likelihood to Recommend``, ``comment: Comments``.
- Zendesk CSAT (Explore export, 1-5 scale): ``response_id: Ticket ID``, ``submitted_at:
  Satisfaction rating updated - Timestamp``, ``csat: Satisfaction score``, ``channel:
  Ticket channel``.

Times without an offset are wall time in the source's ``timezone`` (default UTC).
Each response is an ``inbound`` row on the ``survey`` channel with its comment as text
(scored and searched for issues like any message), ``rated_channel`` the rated contact's
channel. A score outside its scale (an NPS of 11) is quarantined. Response ids are local
to the survey tool: ids are ``survey:<brand>:<response id>``. The brand is ``--brand``,
else the ``brand`` column.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cxpulse.adapters import AdapterError, AdapterOptions, Parsed, textfile
from cxpulse.adapters.fields import (
    add_reason,
    clean_text,
    id_scope,
    is_blank,
    map_columns,
    no_reasons,
    parse_timestamps,
    parse_whole_numbers,
    require_fields,
    scoped_ids,
)
from cxpulse.adapters.reviews import column
from cxpulse.schema import CHANNELS

NAME = "survey"
SOURCE = "NPS / CSAT survey export, CSV (Qualtrics, Medallia, Zendesk CSAT via column_map)"
FIELDS = (
    "response_id",
    "submitted_at",
    "nps",
    "csat",
    "comment",
    "customer_id",
    "channel",
    "brand",
)
COLUMNS = ", ".join(FIELDS)
ZONE = "offset in the time, else the source's timezone (default UTC)"
REQUIRED = ("response_id", "submitted_at")
EXPECTED = (
    "a survey CSV with columns response_id, submitted_at and nps (0-10) or csat (1-5) "
    "(comment, customer_id, channel, brand when present)"
)
_SPELLINGS = {"web form": "webform", "web": "webform", "e-mail": "email", "voice": "phone"}


def read(path: Path, options: AdapterOptions) -> Parsed:
    """Read a survey responses CSV."""
    data = textfile.read_utf8(path, options.encoding, EXPECTED)
    table = textfile.parse_delimited(data, str(path), EXPECTED, options.delimiter or ",")
    found = map_columns(table.records.columns, FIELDS, options.column_map, str(path))
    require_fields(found, REQUIRED, str(path), EXPECTED)
    if "nps" not in found and "csat" not in found:
        raise AdapterError(f"{path}: no nps or csat column; expected {EXPECTED}")
    records = table.records[~qualtrics_headers(table.records[found["response_id"]])]
    fields = pd.DataFrame({f: records[c] for f, c in found.items()})
    rows, reasons = to_canonical(fields, options)
    return textfile.parsed_from(table, rows, reasons)


def qualtrics_headers(ids: pd.Series) -> pd.Series:
    """True for Qualtrics' second and third header lines: the question text of the id
    column (``Response ID``) and the import ids (``{"ImportId":"_recordId"}``)."""
    text = ids.astype("string").str.strip()
    return ((text == "Response ID") | text.str.startswith('{"ImportId"')).fillna(False)


def to_canonical(fields: pd.DataFrame, options: AdapterOptions) -> tuple[pd.DataFrame, pd.Series]:
    """Canonical rows and reasons from survey fields (text columns). Pure."""
    reasons = no_reasons(fields.index)
    scores = {}
    for name in ("nps", "csat"):
        scores[name], bad = parse_whole_numbers(column(fields, name))
        reasons = add_reason(reasons, bad, f"{name}: not a whole number")
    reasons = add_reason(
        reasons,
        scores["nps"].isna() & scores["csat"].isna() & ~reasons.notna(),
        "no score: nps and csat are both blank",
    )
    created = parse_timestamps(fields["submitted_at"], options.zone())
    reasons = add_reason(
        reasons,
        created.isna() & ~is_blank(fields["submitted_at"]),
        "submitted_at: not a timestamp",
    )
    written = clean_text(column(fields, "channel")).str.lower()
    rated = written.replace(_SPELLINGS).astype("string")
    reasons = add_reason(
        reasons,
        written.notna() & ~rated.isin(CHANNELS).fillna(False),
        f"channel: expected one of {', '.join(CHANNELS)}",
    )
    brand = clean_text(column(fields, "brand"))
    if options.brand:
        brand = pd.Series(options.brand, index=fields.index, dtype="string")
    reasons = add_reason(reasons, brand.isna(), "no brand: give --brand or a brand column")
    channel = options.channel or "survey"
    ids = scoped_ids(channel, id_scope(brand), fields["response_id"])
    rows = pd.DataFrame(
        {
            "id": ids,
            "channel": channel,
            "brand": brand,
            "direction": "inbound",
            "thread_id": ids,
            "author_id": clean_text(column(fields, "customer_id")),
            "created_at": created,
            "text": column(fields, "comment").replace("", pd.NA),
            "rated_channel": rated,
            **scores,
        },
        index=fields.index,
    )
    return rows, reasons
