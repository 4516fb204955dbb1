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


def refresh(con: duckdb.DuckDBPyConnection, touched: str, table: str = "interactions") -> int:
    """Recompute ``first_reply_at`` in ``table`` of the connection (inside the caller's
    transaction, if any) for the rows whose ``id`` is in the table ``touched`` (one
    column, ``id``, no id twice). Only the rows of those messages and of their replies
    are joined. Returns the number of rows whose value changed."""
    schema = ibis.schema({c: _IBIS_TYPES[sql_type] for c, sql_type in TABLE_COLUMNS.items()})
    t = ibis.table(schema, name=table)
    ids = ibis.table({"id": "string"}, name=touched).id
    found = ibis.to_sql(
        first_reply_times(t.filter(t.id.isin(ids) | t.parent_id.isin(ids))), dialect="duckdb"
    )
    return con.execute(
        f"UPDATE {table} AS i SET first_reply_at = f.first_reply_at "
        f"FROM (SELECT x.id, r.first_reply_at FROM {touched} x LEFT JOIN ({found}) r "
        "USING (id)) f "
        "WHERE i.id = f.id AND i.first_reply_at IS DISTINCT FROM f.first_reply_at"
    ).fetchone()[0]


def fill(con: duckdb.DuckDBPyConnection, table: str = "interactions") -> int:
    """``refresh`` every inbound row of ``table``, a month of messages (by ``created_at``)
    at a time: joining all of a warehouse's messages with their replies at once holds them
    all in memory (1.6 GB on 10M rows; 6 minutes spilling under 256 MB). Returns the
    number of rows whose value changed."""
    months = con.execute(
        f"SELECT DISTINCT epoch_us(date_trunc('month', timezone('UTC', created_at))) AS m "
        f"FROM {table} WHERE direction = 'inbound' ORDER BY m"
    ).fetchall()
    changed = 0
    for (us,) in months:
        month = pd.Timestamp(us, unit="us", tz="UTC")
        bounds = [month.to_pydatetime(), (month + pd.DateOffset(months=1)).to_pydatetime()]
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE month_messages AS SELECT id FROM {table} "
            "WHERE direction = 'inbound' AND created_at >= ? AND created_at < ?",
            bounds,
        )
        changed += refresh(con, "month_messages", table)
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
