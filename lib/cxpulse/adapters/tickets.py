"""Help-desk ticket exports: Zendesk's Incremental Export API (JSON) and Freshdesk's ticket
export (CSV, columns mapped under ``column_map`` in params when renamed).

**Zendesk** (``GET /api/v2/incremental/tickets/cursor.json?include=metric_sets``): one
response (``{"tickets": [...], "metric_sets": [...], "after_cursor": ..., "end_of_stream":
...}``), one per line, or a JSON list of responses. A ticket gives ``id, url, created_at,
subject, description, requester_id, via.channel, satisfaction_rating``; its
``ticket_metrics`` come from the ``metric_sets`` (or ``ticket_metrics``) sideload by
``ticket_id``: ``reply_time_in_minutes``, ``first_resolution_time_in_minutes``,
``full_resolution_time_in_minutes``, each ``{"calendar": n, "business": n}``. Comments,
when the export carries them (``comments`` on the ticket, as ``GET
/api/v2/tickets/{id}/comments`` gives them: ``id, author_id, body, public, created_at``),
are read too; private comments are internal notes, not contact with the customer, and are
not rows. Times are ISO 8601 in UTC.

**Freshdesk** (Tickets > Export, CSV): ``Ticket ID, Subject, Description, Source, Created
time, Initial response time, Contact ID``; times are wall time in the helpdesk's zone
(set ``timezone`` for the source in params; default UTC).

Each ticket is an ``inbound`` message (subject, blank line, description) on its channel:
Zendesk ``email`` -> email, ``web``/``api``/``mobile_sdk``/``web_widget`` -> webform,
``chat``/``native_messaging`` -> chat, ``voice`` -> phone; Freshdesk ``Email`` -> email,
``Portal``/``Feedback Widget`` -> webform, ``Chat`` -> chat, ``Phone`` -> phone. Public
agent comments are ``outbound`` answers to the requester's latest comment before them
(the first answers the ticket: the ticket's first response), the requester's later
comments ``inbound``. Where the export has no comments, the first response is Zendesk's
own ``reply_time_in_minutes.calendar`` after creation (Freshdesk's ``Initial response
time``), stored as an ``outbound`` row without text: Zendesk counts only agent replies
that are public comments, from ticket creation, and so do we.

Ticket ids are local to the help desk: ids are ``<channel>:<help desk>:<ticket id>``, the
help desk being the host of the ticket's ``url`` (``acme.zendesk.com``), else the brand;
comments ``...:<ticket id>.<comment id>``, a first response from metrics
``...:<ticket id>.first-reply``. The brand is ``--brand``, else what ``accounts`` maps the
help desk's host to, else the host.
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
    id_scope,
    is_blank,
    json_rows,
    mapped_fields,
    no_reasons,
    pages,
    parse_timestamps,
    scoped_ids,
)
from cxpulse.adapters.reviews import column, review_site

NAME = "tickets"
SOURCE = (
    "Zendesk Incremental Export API (tickets, include=metric_sets; comments when present), "
    "JSON; Freshdesk ticket export, CSV"
)
FIELDS = (
    "Ticket ID",
    "Subject",
    "Description",
    "Source",
    "Created time",
    "Initial response time",
    "Contact ID",
)
COLUMNS = (
    "Zendesk: tickets[].id, url, created_at, subject, description, requester_id, "
    "via.channel, comments; metric_sets[].reply_time_in_minutes; Freshdesk: " + ", ".join(FIELDS)
)
ZONE = "Zendesk: UTC (ISO 8601 with Z); Freshdesk: the helpdesk's zone (timezone in params)"
REQUIRED = ("Ticket ID", "Created time", "Source")
EXPECTED = (
    "a Zendesk Incremental Export response (a JSON object with a 'tickets' list) or a "
    "Freshdesk ticket export (CSV with Ticket ID, Subject, Source, Created time)"
)
ZENDESK_CHANNELS = {
    "email": "email",
    "web": "webform",
    "api": "webform",
    "mobile_sdk": "webform",
    "web_widget": "webform",
    "chat": "chat",
    "native_messaging": "chat",
    "voice": "phone",
}
FRESHDESK_CHANNELS = {
    "email": "email",
    "portal": "webform",
    "feedback widget": "webform",
    "chat": "chat",
    "phone": "phone",
}


def read(path: Path, options: AdapterOptions) -> Parsed:
    """Read a Zendesk export (JSON) or a Freshdesk export (CSV), told apart by content."""
    data = textfile.read_utf8(path, options.encoding, EXPECTED)
    if data.lstrip()[:1] in (b"{", b"["):
        return read_zendesk(data, str(path), options)
    return read_freshdesk(data, str(path), options)


def read_zendesk(data: bytes, where: str, options: AdapterOptions) -> Parsed:
    """Rows from Zendesk Incremental Export responses."""
    documents = pages(textfile.load_json(data, where, EXPECTED))
    fields, rejects = json_rows(zendesk_records(documents, where), record_fields)
    rows, reasons = to_canonical(fields, options)
    return textfile.parsed_from_json(rows, fields, reasons, rejects)


def zendesk_records(documents: list[object], where: str) -> list[object]:
    """Each ticket (with ``_reply_minutes`` from its metric set), then its public comments
    (with ``_ticket``: the ticket's id, url, channel and requester)."""
    out: list[object] = []
    for document in documents:
        tickets = dig(document, "tickets")
        if not isinstance(tickets, list):
            raise AdapterError(f"{where}: expected {EXPECTED}; got {textfile.describe(document)}")
        metrics = [*(dig(document, "metric_sets") or []), *(dig(document, "ticket_metrics") or [])]
        minutes = {
            m.get("ticket_id"): dig(m, "reply_time_in_minutes", "calendar")
            for m in metrics
            if isinstance(m, dict)
        }
        for ticket in tickets:
            if not isinstance(ticket, dict):
                out.append(ticket)
                continue
            comments = [c for c in ticket.get("comments") or [] if isinstance(c, dict)]
            reply = None if comments else minutes.get(ticket.get("id"))
            out.append({**ticket, "_reply_minutes": reply})
            context = {
                k: ticket.get(k) for k in ("id", "url", "created_at", "requester_id", "subject")
            }
            context["channel"] = dig(ticket, "via", "channel")
            public = [c for c in comments if c.get("public") is not False]
            first_is_ticket = bool(public) and public[0].get("author_id") == ticket.get(
                "requester_id"
            )
            out.extend({**c, "_ticket": context} for c in public[1 if first_is_ticket else 0 :])
    return out


def record_fields(record: dict) -> dict:
    """The values a row needs from a Zendesk ticket or comment, as text (None when absent:
    Zendesk's ids are numbers, which a column with gaps would turn into floats)."""
    values = zendesk_values(record)
    return {k: None if v is None else str(v) for k, v in values.items()}


def zendesk_values(record: dict) -> dict:
    """``record_fields`` before the values become text."""
    ticket = record.get("_ticket")
    if ticket is None:
        subject, description = record.get("subject"), record.get("description")
        return {
            "ticket": record.get("id"),
            "comment": None,
            "url": record.get("url"),
            "via": dig(record, "via", "channel"),
            "created": record.get("created_at"),
            "text": "\n\n".join(t for t in (subject, description) if t) or None,
            "author": record.get("requester_id"),
            "requester": record.get("requester_id"),
            "reply_minutes": record.get("_reply_minutes"),
        }
    return {
        "ticket": ticket.get("id"),
        "comment": record.get("id"),
        "url": ticket.get("url"),
        "via": ticket.get("channel"),
        "created": record.get("created_at"),
        "text": record.get("plain_body") or record.get("body"),
        "author": record.get("author_id"),
        "requester": ticket.get("requester_id"),
        "reply_minutes": None,
    }


def read_freshdesk(data: bytes, where: str, options: AdapterOptions) -> Parsed:
    """Rows from a Freshdesk ticket export: each ticket, and its first response."""
    table = textfile.parse_delimited(data, where, EXPECTED, options.delimiter or ",")
    records = mapped_fields(table.records, FIELDS, REQUIRED, options.column_map, where, EXPECTED)
    text = paragraphs(column(records, "Subject"), column(records, "Description"))
    fields = pd.DataFrame(
        {
            "ticket": records["Ticket ID"],
            "comment": pd.NA,
            "url": pd.NA,
            "via": records["Source"].str.strip().str.lower(),
            "created": records["Created time"],
            "text": text,
            "author": column(records, "Contact ID"),
            "requester": column(records, "Contact ID"),
            "reply_at": column(records, "Initial response time"),
        },
        index=records.index,
    ).astype("string")
    rows, reasons = to_canonical(fields, options, FRESHDESK_CHANNELS)
    return textfile.parsed_from(table, rows, reasons)


def paragraphs(first: pd.Series, second: pd.Series) -> pd.Series:
    """``first``, a blank line, ``second``; either alone when the other is empty, NA when
    both are (a ticket's subject and description, as Zendesk's tickets are read)."""
    has_first = (first.notna() & (first != "")).astype(bool)
    has_second = (second.notna() & (second != "")).astype(bool)
    both = first + "\n\n" + second
    text = both.where(has_first & has_second, first.where(has_first, second))
    return text.mask(~has_first & ~has_second).astype("string")


def to_canonical(
    fields: pd.DataFrame, options: AdapterOptions, channels: dict[str, str] = ZENDESK_CHANNELS
) -> tuple[pd.DataFrame, pd.Series]:
    """Canonical rows and reasons from ticket and comment fields: the tickets and comments,
    then a text-less first response per ticket whose export gives only its time. Pure."""
    reasons = no_reasons(fields.index)
    channel = clean_text(fields["via"]).str.lower().map(channels.get, na_action="ignore")
    channel = channel.astype("string")
    reasons = add_reason(
        reasons,
        channel.isna(),
        f"via.channel: expected one of {', '.join(channels)}",
    )
    if options.channel:
        channel = pd.Series(options.channel, index=fields.index, dtype="string")
    created = parse_timestamps(fields["created"], options.zone())
    reasons = add_reason(
        reasons, created.isna() & ~is_blank(fields["created"]), "created_at: not a timestamp"
    )
    host = review_site(fields["url"])
    accounts = {k.lower(): v for k, v in options.accounts.items()}
    brand = host.map(accounts.get, na_action="ignore").astype("string").fillna(host)
    if options.brand:
        brand = pd.Series(options.brand, index=fields.index, dtype="string")
    reasons = add_reason(reasons, brand.isna(), "no brand: give --brand")
    scope = id_scope(host).fillna(id_scope(brand))
    ticket = scoped_ids(channel, scope, fields["ticket"])
    comment = clean_text(fields["comment"])
    ids = scoped_ids(channel, scope, fields["ticket"] + "." + comment).fillna(ticket)
    author = clean_text(fields["author"])
    is_comment = comment.notna().to_numpy()
    outbound = is_comment & (author != clean_text(fields["requester"])).fillna(True).to_numpy()
    rows = pd.DataFrame(
        {
            "id": ids,
            "channel": channel,
            "brand": brand,
            "direction": np.where(outbound, "outbound", "inbound"),
            "thread_id": ticket,
            "parent_id": answered(ids, ticket, outbound),
            "author_id": author,
            "created_at": created,
            "text": fields["text"],
        },
        index=fields.index,
    )
    replies, reply_reasons = first_replies(fields, rows, reasons, options)
    return pd.concat([rows, replies]), pd.concat([reasons, reply_reasons])


def answered(ids: pd.Series, tickets: pd.Series, outbound: np.ndarray) -> pd.Series:
    """For each outbound comment, the id of the latest inbound message of its ticket
    before it in the export (the ticket itself for the first answer); NA for inbound."""
    out = pd.Series(pd.NA, index=ids.index, dtype="string")
    latest: dict[object, object] = {}
    for label, row_id, ticket, out_bound in zip(
        ids.index, ids.array, tickets.array, outbound, strict=True
    ):
        if out_bound:
            out[label] = latest.get(ticket, ticket)
        else:
            latest[ticket] = row_id
    return out


def first_replies(
    fields: pd.DataFrame, rows: pd.DataFrame, reasons: pd.Series, options: AdapterOptions
) -> tuple[pd.DataFrame, pd.Series]:
    """Text-less outbound first responses of the tickets whose export gives only their time
    (Zendesk's ``reply_time_in_minutes``, Freshdesk's ``Initial response time``)."""
    minutes = pd.to_numeric(column(fields, "reply_minutes"), errors="coerce")
    at = rows["created_at"] + pd.to_timedelta(minutes, unit="min")
    reply_at = column(fields, "reply_at")
    if reply_at.notna().any():
        at = at.fillna(parse_timestamps(reply_at, options.zone()))
    bad = ~is_blank(column(fields, "reply_minutes")) & minutes.isna()
    bad |= ~is_blank(reply_at) & at.isna()
    has = at.notna() | bad
    reply_reasons = add_reason(
        reasons, bad, "first response: not a number of minutes or a timestamp"
    )
    replies = rows.assign(
        id=rows["id"] + ".first-reply",
        direction="outbound",
        parent_id=rows["id"],
        author_id=pd.NA,
        created_at=at,
        text=pd.NA,
    )
    return replies[has], reply_reasons[has]
