"""Each inbound message's first reply, stored beside it in ``first_reply_at``.

A reply of an inbound message is an outbound row whose ``parent_id`` is the message's
``id`` and whose brand is the message's brand (a competitor answering our customer is not
our answer), created no earlier than ``REPLY_LOOKBACK`` before the message.
``first_reply_at`` is the earliest ``created_at`` of its replies; null for a message
without any, and for every row that is not inbound (``first_reply_times``: the one
definition, a portable Ibis expression).

The warehouse keeps the column up to date (``refresh``): ``warehouse.store`` recomputes
it for the messages a stored file touches (its own inbound rows, the parents of its
replies, a late reply arriving files after its message, and the former parents of a reply
whose link changed), and ``warehouse.migrate`` fills it in a warehouse made before it
existed. A report then reads the column instead of joining each window's messages with
their replies (``metrics.response.first_responses``). A report seeing the warehouse as
of ``until`` reads it as null when it is later than ``until``: the first reply by
``until`` is the first reply when that came by ``until``, else there is none by then.

The lower bound is each message's own: the replies of a message in a window do not depend
on the window. (Before the column, replies were read from ``REPLY_LOOKBACK`` before the
window's start, so a reply stamped 25 hours before its message counted for a message late
in a window and not for one at its start.)
"""

from __future__ import annotations

import duckdb
import ibis
import ibis.expr.types as ir
import pandas as pd

from cxpulse.schema import TABLE_COLUMNS

REPLY_LOOKBACK = pd.Timedelta(days=1)
"""A reply may be stamped up to this long before its message (clocks of two systems
disagree; its wait counts as 0); one stamped earlier is a clock error, not a reply."""


def first_reply_times(t: ir.Table) -> ir.Table:
    """``id``, ``first_reply_at`` of each inbound row of ``t`` that has a reply in ``t``
    (the module's definition); any engine."""
    inbound = t.filter(t.direction == "inbound").select("id", "brand", "created_at")
    replies = t.filter(t.direction == "outbound", t.parent_id.notnull()).select(
        reply_to=t.parent_id, reply_brand=t.brand, reply_at=t.created_at
    )
    lookback = ibis.interval(seconds=int(REPLY_LOOKBACK.total_seconds()))
    joined = inbound.join(
        replies,
        [
            inbound.id == replies.reply_to,
            inbound.brand == replies.reply_brand,
            replies.reply_at >= inbound.created_at - lookback,
        ],
    )
    return joined.group_by("id").aggregate(first_reply_at=joined.reply_at.min())


REFRESH_BATCH = 1_000_000
"""``refresh`` recomputes at most this many messages at once: the join of all of a 10M-row
file's messages with their replies ran out of an ingest's 256 MB (``ingest.MEMORY_LIMIT``)."""


def refresh(
    con: duckdb.DuckDBPyConnection,
    touched: str,
    table: str = "interactions",
    batch: int | None = REFRESH_BATCH,
) -> int:
    """Recompute ``first_reply_at`` in ``table`` of the connection (inside the caller's
    transaction, if any) for the rows whose ``id`` is in the table ``touched`` (one
    column, ``id``). Returns the number of rows whose value changed.

    Only inbound rows have a value (direction and created_at never change: see
    ``warehouse.IDENTITY_COLUMNS``); they are taken ``batch`` at a time in ``created_at``
    order (None: all at once), each batch by ``refresh_messages``."""
    numbered = f"(row_number() OVER (ORDER BY created_at) - 1) // {batch}" if batch else "0"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE reply_batches AS SELECT id, {numbered} AS batch "
        f"FROM {table} WHERE direction = 'inbound' AND id IN (SELECT id FROM {touched})"
    )
    [[batches]] = con.execute("SELECT coalesce(max(batch) + 1, 0) FROM reply_batches").fetchall()
    changed = 0
    for number in range(batches):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE reply_batch AS "
            "SELECT id FROM reply_batches WHERE batch = ?",
            [number],
        )
        changed += refresh_messages(con, "reply_batch", table)
    con.execute("DROP TABLE IF EXISTS reply_batch")
    con.execute("DROP TABLE reply_batches")
    return changed


def refresh_messages(con: duckdb.DuckDBPyConnection, touched: str, table: str) -> int:
    """``refresh`` of the messages in ``touched`` at once.

    One scan of ``table`` picks the rows of those messages and of their replies; the
    definition runs on them alone, and the update reads only the row groups between the
    oldest and the newest message that changed (a day's file touches recent days)."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE reply_rows AS SELECT {', '.join(_READ)} FROM {table} "
        f"WHERE id IN (SELECT id FROM {touched}) OR parent_id IN (SELECT id FROM {touched})"
    )
    rows = ibis.table({c: _IBIS_TYPES[TABLE_COLUMNS[c]] for c in _READ}, name="reply_rows")
    found = first_reply_times(rows).rename(computed="first_reply_at")
    ids = ibis.table({"id": "string"}, name=touched).id
    messages = rows.filter(rows.id.isin(ids)).select("id", "created_at", "first_reply_at")
    joined = messages.left_join(found, "id").select(
        "id", "created_at", "first_reply_at", "computed"
    )
    changes = joined.filter(~joined.first_reply_at.identical_to(joined.computed))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE reply_changes AS "
        + ibis.to_sql(changes.select("id", "created_at", "computed"), dialect="duckdb")
    )
    changed, *span = con.execute(  # as epoch microseconds: see warehouse.data_range
        "SELECT count(*), epoch_us(min(created_at)), epoch_us(max(created_at)) FROM reply_changes"
    ).fetchall()[0]
    if changed:
        con.execute(
            f"UPDATE {table} AS i SET first_reply_at = c.computed FROM reply_changes c "
            "WHERE i.id = c.id AND i.created_at >= ? AND i.created_at <= ?",
            [pd.Timestamp(us, unit="us", tz="UTC").to_pydatetime() for us in span],
        )
    con.execute("DROP TABLE reply_rows")
    con.execute("DROP TABLE reply_changes")
    return changed


_READ = ("id", "brand", "direction", "parent_id", "created_at", "first_reply_at")
"""The columns ``refresh`` reads."""


def fill(con: duckdb.DuckDBPyConnection, table: str = "interactions") -> int:
    """``refresh_messages`` of every inbound row of ``table``, a month of messages (by
    ``created_at``) at a time: joining all of a warehouse's messages with their replies at
    once holds them all in memory (1.6 GB on 10M rows; 6 minutes spilling under 256 MB).
    Returns the number of rows whose value changed."""
    # fetchall, not fetchone: DuckDB 2 keeps a half-fetched result open and refuses the
    # connection's next relation (Ibis' table()) until it is finished.
    [span] = con.execute(  # as epoch microseconds: see warehouse.data_range
        f"SELECT epoch_us(min(created_at)), epoch_us(max(created_at)) FROM {table} "
        "WHERE direction = 'inbound'"
    ).fetchall()
    if span[0] is None:
        return 0
    first, last = (pd.Timestamp(us, unit="us", tz="UTC") for us in span)
    # From the month's bounds rather than SELECT DISTINCT of each row's month: that ran out
    # of 256 MB on 100M rows.
    start = first.tz_localize(None).to_period("M").start_time.tz_localize("UTC")
    months = pd.date_range(start, last, freq="MS")
    changed = 0
    for month in months:
        bounds = [month.to_pydatetime(), (month + pd.DateOffset(months=1)).to_pydatetime()]
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE month_messages AS SELECT id FROM {table} "
            "WHERE direction = 'inbound' AND created_at >= ? AND created_at < ?",
            bounds,
        )
        changed += refresh_messages(con, "month_messages", table)
    con.execute("DROP TABLE IF EXISTS month_messages")
    return changed


_IBIS_TYPES = {
    "VARCHAR": "string",
    "TIMESTAMPTZ": "timestamp('UTC')",
    "TINYINT": "int8",
    "BIGINT": "int64",
    "DOUBLE": "float64",
}
"""DuckDB type of ``schema.TABLE_COLUMNS`` -> Ibis type."""
