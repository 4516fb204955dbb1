"""The DuckDB warehouse: one file holding interactions, quarantine, ingest log, sentiment cache.

Writers take an exclusive lock file beside the warehouse, so two ingests never interleave;
each file is stored in one transaction, so a crash leaves the warehouse as it was.
"""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from cxpulse.schema import COLUMNS

CONTENT_COLUMNS = [c for c in COLUMNS if c not in ("id", "source_file", "ingested_at")]

DDL = [
    "CREATE TABLE IF NOT EXISTS interactions ("
    + ", ".join(f"{name} {sql_type}" for name, sql_type in COLUMNS.items())
    + ")",
    """CREATE TABLE IF NOT EXISTS quarantine (
        source_file VARCHAR, format VARCHAR, line BIGINT, reason VARCHAR, raw VARCHAR,
        quarantined_at TIMESTAMPTZ)""",
    """CREATE TABLE IF NOT EXISTS ingest_log (
        source_file VARCHAR, sha256 VARCHAR, format VARCHAR, status VARCHAR,
        rows_read BIGINT, rows_inserted BIGINT, rows_updated BIGINT, rows_unchanged BIGINT,
        rows_quarantined BIGINT, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ,
        message VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS sentiment_cache (
        engine VARCHAR, version VARCHAR, text_md5 VARCHAR, sentiment DOUBLE,
        p_negative DOUBLE, p_neutral DOUBLE, p_positive DOUBLE)""",
    "CREATE TABLE IF NOT EXISTS sentiment_engine (engine VARCHAR, version VARCHAR)",
]

LEGACY_ENGINE = ("vader", "3.3.2 raw text")
"""What scored the rows of a warehouse made before engines were recorded: VADER on the
text as written (no cleaning)."""


READ_MEMORY_LIMIT = "256MB"
"""DuckDB memory of a read-only connection (a report's queries). DuckDB's default, 80 % of
the machine, lets a report's kernel keep every column it scanned cached: 750 MB on 10M
rows, for no speed gained; past this limit DuckDB evicts, and spills to
``<warehouse>.tmp`` what an aggregation cannot hold."""


class WarehouseLocked(RuntimeError):
    """Another process holds the warehouse lock longer than we were willing to wait."""


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (creating its tables when writable), with UTC as session time zone."""
    path = Path(path)
    if read_only and not path.exists():
        raise FileNotFoundError(f"{path}: no warehouse here; run 'cxpulse ingest' or 'make demo'")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as err:
        if "lock" not in str(err).lower():
            raise
        raise WarehouseLocked(
            f"{path}: in use by another cxpulse process (an ingest is writing); "
            "try again when it has finished"
        ) from None
    con.execute("SET TimeZone = 'UTC'")
    if read_only:
        con.execute(f"SET memory_limit = '{READ_MEMORY_LIMIT}'")
    else:
        migrate(con)
    return con


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and bring a warehouse made by an older cxpulse up to date:
    the class-probability columns are added (null until rescored), the sentiment cache of
    unnamed VADER scores is emptied (no current engine could read it), and rows scored
    before engines were recorded are marked as ``LEGACY_ENGINE``'s."""
    cache = con.execute(
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_name = 'sentiment_cache' AND column_name = 'engine'"
    ).fetchone()[0]
    fresh = not con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'sentiment_engine'"
    ).fetchone()[0]
    if not cache:
        con.execute("DROP TABLE IF EXISTS sentiment_cache")
    for statement in DDL:
        con.execute(statement)
    for column, sql_type in COLUMNS.items():
        con.execute(f"ALTER TABLE interactions ADD COLUMN IF NOT EXISTS {column} {sql_type}")
    if fresh:
        con.execute(
            "INSERT INTO sentiment_engine SELECT ?, ? "
            "WHERE EXISTS (SELECT 1 FROM interactions WHERE sentiment IS NOT NULL)",
            list(LEGACY_ENGINE),
        )


def scored_by(con: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    """(engine, version) that scored the warehouse's rows; None before any row was scored
    (or in a warehouse not yet migrated, opened read-only)."""
    try:
        rows = con.execute("SELECT engine, version FROM sentiment_engine LIMIT 1").fetchall()
    except duckdb.CatalogException:
        return None
    return (rows[0][0], rows[0][1]) if rows else None


def record_engine(con: duckdb.DuckDBPyConnection, engine: str, version: str) -> None:
    """Record that every scored row is now ``engine``'s at ``version``."""
    con.execute("DELETE FROM sentiment_engine").fetchall()
    con.execute("INSERT INTO sentiment_engine VALUES (?, ?)", [engine, version]).fetchall()


@contextlib.contextmanager
def lock(path: Path, wait_s: float = 600.0) -> Iterator[None]:
    """Hold the exclusive writer lock of the warehouse at ``path``, waiting up to ``wait_s``."""
    lock_path = Path(str(path) + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseLocked(
                        f"{path}: another cxpulse process is writing (lock {lock_path}); "
                        f"gave up after {wait_s:.0f} s"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class StoreCounts:
    inserted: int
    updated: int
    unchanged: int


def store(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame) -> StoreCounts:
    """Upsert canonical ``rows`` by ``id`` (inside the caller's transaction).

    New ids are inserted; an id already stored is updated only when a content column
    differs (engagement counts grow in a later export); identical rows change nothing.
    """
    con.register("batch", rows[list(COLUMNS)])
    try:
        differs = " OR ".join(f"i.{c} IS DISTINCT FROM b.{c}" for c in CONTENT_COLUMNS)
        updated = con.execute(
            f"SELECT count(*) FROM batch b JOIN interactions i USING (id) WHERE {differs}"
        ).fetchone()[0]
        existing = con.execute(
            "SELECT count(*) FROM batch b SEMI JOIN interactions i USING (id)"
        ).fetchone()[0]
        if updated:
            sets = ", ".join(f"{c} = b.{c}" for c in COLUMNS if c != "id")
            con.execute(
                f"UPDATE interactions AS i SET {sets} FROM batch b "
                f"WHERE i.id = b.id AND ({differs})"
            )
        con.execute(
            f"INSERT INTO interactions ({', '.join(COLUMNS)}) "
            f"SELECT {', '.join('b.' + c for c in COLUMNS)} "
            "FROM batch b ANTI JOIN interactions i USING (id)"
        )
    finally:
        con.unregister("batch")
    return StoreCounts(inserted=len(rows) - existing, updated=updated, unchanged=existing - updated)


def quarantine(con: duckdb.DuckDBPyConnection, rejects: pd.DataFrame) -> None:
    """Append rejected rows (source_file, format, line, reason, raw, quarantined_at)."""
    if len(rejects):
        con.register("rejects", rejects)
        try:
            con.execute(
                "INSERT INTO quarantine SELECT source_file, format, line, reason, raw, "
                "quarantined_at FROM rejects"
            )
        finally:
            con.unregister("rejects")


def already_ingested(con: duckdb.DuckDBPyConnection, sha256: str) -> str | None:
    """The file name under which content with this hash was loaded, or None."""
    row = con.execute(
        "SELECT source_file FROM ingest_log WHERE sha256 = ? AND status = 'loaded' LIMIT 1",
        [sha256],
    ).fetchone()
    return row[0] if row else None


def log_ingest(con: duckdb.DuckDBPyConnection, entry: dict) -> None:
    """Append one row to ``ingest_log``."""
    columns = [
        "source_file", "sha256", "format", "status", "rows_read", "rows_inserted",
        "rows_updated", "rows_unchanged", "rows_quarantined", "started_at", "finished_at",
        "message",
    ]  # fmt: skip
    con.execute(
        f"INSERT INTO ingest_log ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [entry.get(c) for c in columns],
    )


def data_range(con: duckdb.DuckDBPyConnection) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """Earliest and latest ``created_at`` stored (UTC), or (None, None) when empty."""
    # As epoch microseconds: DuckDB hands TIMESTAMPTZ values to Python only through pytz.
    first, last = con.execute(
        "SELECT epoch_us(min(created_at)), epoch_us(max(created_at)) FROM interactions"
    ).fetchone()
    return (
        pd.Timestamp(first, unit="us", tz="UTC") if first is not None else None,
        pd.Timestamp(last, unit="us", tz="UTC") if last is not None else None,
    )


STATUS_REASONS = 20
"""``status_text`` lists this many quarantine reasons, the most frequent first."""


def status_text(con: duckdb.DuckDBPyConnection) -> str:
    """What the warehouse holds, as plain text: rows and date range; rows per channel and
    brand; the last ingest of each source format; quarantined rows by reason."""
    total, first, last = con.execute(
        "SELECT count(*), strftime(min(created_at), '%Y-%m-%d %H:%M'), "
        "strftime(max(created_at), '%Y-%m-%d %H:%M') FROM interactions"
    ).fetchone()
    lines = [f"Interactions: {total:,} rows" + (f", {first} to {last} UTC" if total else "")]
    engine = scored_by(con)
    if engine is not None:
        lines.append(f"Sentiment scored by: {engine[0]} {engine[1]}")
    by_brand = con.execute(
        "SELECT channel, brand, count(*) AS rows, strftime(min(created_at), '%Y-%m-%d') AS first,"
        " strftime(max(created_at), '%Y-%m-%d') AS last FROM interactions "
        "GROUP BY channel, brand ORDER BY channel, rows DESC, brand"
    ).df()
    lines += ["", "Rows per channel and brand:", table_text(by_brand)]
    ingests = con.execute(
        "SELECT format, status, strftime(finished_at, '%Y-%m-%d %H:%M') AS finished_utc, "
        "rows_read AS read, rows_inserted AS new, rows_updated AS updated, "
        "rows_quarantined AS quarantined, source_file AS file FROM ingest_log "
        "QUALIFY row_number() OVER (PARTITION BY format ORDER BY finished_at DESC) = 1 "
        "ORDER BY format"
    ).df()
    lines += ["", "Last ingest per source:", table_text(ingests)]
    reasons = con.execute(
        "SELECT count(*) AS rows, reason FROM quarantine GROUP BY reason ORDER BY rows DESC, reason"
    ).df()
    quarantined = int(reasons["rows"].sum()) if len(reasons) else 0
    lines += [
        "",
        f"Quarantined: {quarantined:,} rows, by reason:",
        table_text(reasons.head(STATUS_REASONS)),
    ]
    if len(reasons) > STATUS_REASONS:
        lines.append(f"  ... and {len(reasons) - STATUS_REASONS} other reasons")
    return "\n".join(lines)


def table_text(frame: pd.DataFrame) -> str:
    """``frame`` as an indented plain-text table: text left-aligned, counts right-aligned
    with thousands separators."""
    if frame.empty:
        return "  (none)"
    shown = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values):
            shown[column] = values.map(lambda v: "" if pd.isna(v) else f"{int(v):,}")
        else:
            text = values.astype("string").fillna("")
            width = max(text.str.len().max(), len(column))
            shown[column.ljust(width)] = text.str.ljust(width)
    lines = shown.to_string(index=False).splitlines()
    return "\n".join("  " + line.rstrip() for line in lines)
