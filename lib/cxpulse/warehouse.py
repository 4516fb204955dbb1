"""The DuckDB warehouse: one file holding interactions, quarantine, ingest log, sentiment cache.

Writers take an exclusive lock file beside the warehouse, so two ingests never interleave;
each file is stored in one transaction, so a crash leaves the warehouse as it was. DuckDB
lets one process write the file or many read it: whoever finds it held the other way waits
a bounded time (``CXPULSE_LOCK_WAIT_S``), saying on whom, then gives up naming the holder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import logging
import os
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import duckdb
import pandas as pd

from cxpulse.config import ParamsError
from cxpulse.schema import COLUMNS, DERIVED, TABLE_COLUMNS

log = logging.getLogger(__name__)

CONTENT_COLUMNS = [c for c in COLUMNS if c not in ("id", "source_file", "ingested_at")]
IDENTITY_COLUMNS = ("brand", "created_at", "direction", "text")
"""What a message is: a row whose id is stored with other values here is another message
under the same id (a conflict), never an update. The other content columns (engagement
counts, reply links, rating, call times, sentiment) may change between exports."""

DDL = [
    "CREATE TABLE IF NOT EXISTS interactions ("
    + ", ".join(f"{name} {sql_type}" for name, sql_type in TABLE_COLUMNS.items())
    + ")",
    """CREATE TABLE IF NOT EXISTS quarantine (
        source_file VARCHAR, format VARCHAR, line BIGINT, reason VARCHAR, raw VARCHAR,
        quarantined_at TIMESTAMPTZ)""",
    """CREATE TABLE IF NOT EXISTS ingest_log (
        source_file VARCHAR, sha256 VARCHAR, format VARCHAR, status VARCHAR,
        rows_read BIGINT, rows_inserted BIGINT, rows_updated BIGINT, rows_unchanged BIGINT,
        rows_quarantined BIGINT, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ,
        message VARCHAR, rows_conflicting BIGINT)""",
    # warehouses made before conflicts were counted
    "ALTER TABLE ingest_log ADD COLUMN IF NOT EXISTS rows_conflicting BIGINT",
    """CREATE TABLE IF NOT EXISTS sentiment_cache (
        engine VARCHAR, version VARCHAR, text_md5 VARCHAR, sentiment DOUBLE,
        p_negative DOUBLE, p_neutral DOUBLE, p_positive DOUBLE)""",
    "CREATE TABLE IF NOT EXISTS sentiment_engine (engine VARCHAR, version VARCHAR)",
    # the derived columns (schema.DERIVED) computed for every row: see migrate
    "CREATE TABLE IF NOT EXISTS derived_filled (column_name VARCHAR)",
]

LEGACY_ENGINE = ("vader", "3.3.2 raw text")
"""What scored the rows of a warehouse made before engines were recorded: VADER on the
text as written (no cleaning)."""


READ_MEMORY_LIMIT = "256MB"
"""DuckDB memory of a read-only connection (a report's queries). DuckDB's default, 80 % of
the machine, lets a report's kernel keep every column it scanned cached: 750 MB on 10M
rows, for no speed gained; past this limit DuckDB evicts, and spills to
``<warehouse>.tmp`` what an aggregation cannot hold."""

READ_CACHE_LIMIT = "128MB"
"""What a report's connection keeps, between its queries, of the blocks they read
(``trim_cache``). A query may use ``READ_MEMORY_LIMIT`` (the first response quantiles of
a quarter of 100M rows need it; 128 MB runs out), but the blocks it read stay cached up to
that limit until the connection closes, for no speed measured (the file is in the
system's page cache; a 128 MB limit ran a 10M quarterly in the same CPU time): between
queries a 10M quarterly's kernel holds about 130 MB less, and peaks 40 MB lower (a query
still fills the limit while it runs)."""


MIGRATE_MEMORY_LIMIT = "1GB"
"""DuckDB memory while ``migrate`` computes a derived column for a whole warehouse, a month
of messages at a time (``replies.fill``; one join of all 10M rows at once took 1.6 GB). A
one-off upgrade, so above ingest's 256 MB: under 256 MB a month of the 100M-row benchmark
warehouse (3.6M messages) ran out of memory; under 1 GB it took 320 s, peak RSS 1,236 MB."""


class WarehouseLocked(RuntimeError):
    """Another process holds the warehouse (or a lock file) longer than we were willing to
    wait; the message says who and for how long we waited."""


WAIT_ENV = "CXPULSE_LOCK_WAIT_S"
"""Environment variable: seconds a process waits for the warehouse (``lock`` and
``connect``) before giving up with ``WarehouseLocked``."""
DEFAULT_WAIT_S = 600.0
_POLL_S = 0.1
_DUCKDB_HOLDER = re.compile(r"\(PID (\d+)\)")


def wait_limit(environ: Mapping[str, str] = os.environ) -> float:
    """Seconds to wait for the warehouse: ``CXPULSE_LOCK_WAIT_S``, else ``DEFAULT_WAIT_S``."""
    value = environ.get(WAIT_ENV, "")
    if not value:
        return DEFAULT_WAIT_S
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise ParamsError(f"environment: {WAIT_ENV}={value!r}; expected seconds (a number >= 0)")
    return seconds


def _started_at(pid: int) -> dt.datetime | None:
    """When process ``pid`` started (UTC), from /proc; None when it is not running."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            int(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration):
        return None
    ticks = int(stat.rsplit(")", 1)[1].split()[19])
    return dt.datetime.fromtimestamp(boot + ticks / os.sysconf("SC_CLK_TCK"), dt.UTC)


def _command_line(pid: int) -> str | None:
    """The command line of process ``pid`` (at most 200 characters), or None."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    text = " ".join(raw.decode(errors="replace").replace("\0", " ").split())  # one line
    return text if len(text) <= 200 else text[:197] + "..."


def holder_record(pid: int | None = None) -> dict:
    """Who a process is: its pid, command line and start time (ours by default); what a
    lock holder writes into the lock file."""
    pid = pid or os.getpid()
    started = _started_at(pid)
    return {
        "pid": pid,
        "command": _command_line(pid) or "?",
        "since": started.isoformat(timespec="seconds") if started else "?",
    }


def describe_holder(record: dict | None) -> str:
    """``pid 4242 (cxpulse ingest --inbox), running since 05:30:02 UTC``, from a
    ``holder_record``; says so when that process is no longer running."""
    if not record or "pid" not in record:
        return "a process that did not say who it is"
    text = f"pid {record['pid']} ({record.get('command', '?')})"
    if _started_at(int(record["pid"])) is None:
        return text + ", which is no longer running (a process it started may still hold it)"
    since = record.get("since", "?")
    when = since[11:19] + " UTC" if since[10:11] == "T" else since
    return f"{text}, running since {when}"


def read_holder(lock_path: Path) -> dict | None:
    """The ``holder_record`` written into ``lock_path`` by whoever took it, or None."""
    try:
        return json.loads(lock_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _duckdb_holder(err: duckdb.Error) -> dict | None:
    """The process named in DuckDB's "Conflicting lock is held in ... (PID n)" message."""
    found = _DUCKDB_HOLDER.search(str(err))
    return holder_record(int(found.group(1))) if found else None


def _is_lock_conflict(err: duckdb.Error) -> bool:
    return isinstance(err, duckdb.IOException) and "could not set lock" in str(err).lower()


class _Wait:
    """One wait for a lock: says once what is waited for, on whom and for how long at
    most; says how long it took when it ends; gives up with ``WarehouseLocked``."""

    def __init__(self, what: str, wait_s: float) -> None:
        self.what, self.wait_s = what, wait_s
        self.started = time.monotonic()
        self.waiting = False

    def busy(self, holder: str) -> None:
        """The lock is taken by ``holder``: log the wait once, sleep, or give up."""
        waited = time.monotonic() - self.started
        if waited >= self.wait_s:
            raise WarehouseLocked(
                f"{self.what} is held by {holder}; gave up after waiting {waited:.1f} s "
                f"(limit {self.wait_s:g} s, {WAIT_ENV})"
            )
        if not self.waiting:
            self.waiting = True
            log.warning(
                "waiting for %s, held by %s; waiting at most %g s", self.what, holder, self.wait_s
            )
        time.sleep(_POLL_S)

    def done(self) -> None:
        if self.waiting:
            log.info("got %s after waiting %.1f s", self.what, time.monotonic() - self.started)


def connect(
    path: Path, read_only: bool = False, wait_s: float | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (creating its tables when writable), with UTC as session time zone.

    DuckDB lets one process write a file or many read it: while another process holds it
    the other way, wait up to ``wait_s`` (default ``wait_limit()``) for it.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise FileNotFoundError(f"{path}: no warehouse here; run 'cxpulse ingest' or 'make demo'")
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "read" if read_only else "write"
    wait = _Wait(f"the warehouse {path} (to {mode} it)", wait_limit() if wait_s is None else wait_s)
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as err:
            if not _is_lock_conflict(err):
                raise
            wait.busy(describe_holder(_duckdb_holder(err)))
        except duckdb.ConnectionException as err:
            # This process holds the file the other way (a report's reader, until it
            # closes ``LINGER_S`` after its last query): wait for it as for another process.
            if "different configuration" not in str(err):
                raise
            wait.busy(f"this process (pid {os.getpid()}), which holds it open the other way")
    wait.done()
    con.execute("SET TimeZone = 'UTC'")
    if read_only:
        con.execute(f"SET memory_limit = '{READ_MEMORY_LIMIT}'")
    else:
        migrate(con)
    return con


def trim_cache(con: duckdb.DuckDBPyConnection) -> None:
    """Evict the blocks a read-only connection holds beyond ``READ_CACHE_LIMIT``: DuckDB
    has no limit of its own for its cache, and lowering the memory limit evicts down to it;
    the next query may use ``READ_MEMORY_LIMIT`` again. (Nothing is evicted while a result
    still pins its blocks: the limit is then left as it was.)"""
    with contextlib.suppress(duckdb.Error):
        con.execute(f"SET memory_limit = '{READ_CACHE_LIMIT}'")
    con.execute(f"SET memory_limit = '{READ_MEMORY_LIMIT}'")


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and bring a warehouse made by an older cxpulse up to date:
    the class-probability columns are added (null until rescored), the sentiment cache of
    unnamed VADER scores is emptied (no current engine could read it), rows scored
    before engines were recorded are marked as ``LEGACY_ENGINE``'s, and a derived column
    (``schema.DERIVED``) is added and computed for every row (``replies.fill``, under
    ``MIGRATE_MEMORY_LIMIT``: about a minute on 10M rows, five on 100M)."""
    cache = con.execute(
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_name = 'sentiment_cache' AND column_name = 'engine'"
    ).fetchone()[0]
    fresh = not con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'sentiment_engine'"
    ).fetchone()[0]
    if not cache:
        con.execute("DROP TABLE IF EXISTS sentiment_cache")
    had_rows_table = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'interactions'"
    ).fetchone()[0]
    for statement in DDL:
        con.execute(statement)
    for column, sql_type in TABLE_COLUMNS.items():
        con.execute(f"ALTER TABLE interactions ADD COLUMN IF NOT EXISTS {column} {sql_type}")
    unfilled = [c for c in DERIVED if c not in filled_columns(con)]
    if unfilled and had_rows_table:
        # Recorded only once computed for every row: a migration killed half-way (its
        # column already added, committed) is done again at the next open, never left null.
        from cxpulse import replies

        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        con.execute(f"SET memory_limit = '{MIGRATE_MEMORY_LIMIT}'")
        replies.fill(con)
        con.execute(f"SET memory_limit = '{limit}'")
    for column in unfilled:
        con.execute("INSERT INTO derived_filled VALUES (?)", [column])
    if fresh:
        con.execute(
            "INSERT INTO sentiment_engine SELECT ?, ? "
            "WHERE EXISTS (SELECT 1 FROM interactions WHERE sentiment IS NOT NULL)",
            list(LEGACY_ENGINE),
        )


def filled_columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The derived columns (``schema.DERIVED``) computed for every row of the warehouse
    (``migrate``); none in a warehouse not yet migrated."""
    try:
        return {c for (c,) in con.execute("SELECT column_name FROM derived_filled").fetchall()}
    except duckdb.CatalogException:
        return set()


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
def lock(path: Path, wait_s: float | None = None) -> Iterator[None]:
    """Hold the exclusive writer lock of the warehouse at ``path`` (``<path>.lock``),
    waiting up to ``wait_s`` (default ``wait_limit()``). The holder writes who it is into
    the lock file, so a process that waits can say on whom."""
    lock_path = Path(str(path) + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+", encoding="utf-8") as handle:
        wait = _Wait(f"the lock {lock_path}", wait_limit() if wait_s is None else wait_s)
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                wait.busy(describe_holder(read_holder(lock_path)))
        wait.done()
        _write_holder(handle)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_holder(handle: TextIO) -> None:
    """Write our ``holder_record`` into the lock file we hold (a full disk only costs the
    waiters the name)."""
    with contextlib.suppress(OSError):
        handle.truncate(0)
        handle.write(json.dumps(holder_record()) + "\n")
        handle.flush()


_DAMAGE_SIGNS = (
    "could not read enough bytes",
    "not a valid duckdb database file",
    "corrupt",
    "checksum",
    "database has been invalidated",
    "serialization error",
)
"""Words of DuckDB's errors about a file it cannot read as a database."""
_QUOTED_FILE = re.compile(r'file "([^"]+)"')


def explain_error(err: BaseException, path: Path) -> str | None:
    """One line saying what went wrong with the warehouse at ``path`` and what to do, for a
    full disk or a damaged file, found in ``err`` or the errors it was raised while handling
    (a clean-up that failed after it, such as "transaction is aborted", hides neither);
    None for any other error (a bug: its traceback is kept)."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if (explained := _explain_one(err, path)) is not None:
            return explained
        err = err.__cause__ or err.__context__
    return None


def _explain_one(err: BaseException, path: Path) -> str | None:
    in_kernel = _raised_by_duckdb_in_a_kernel(err)
    from_duckdb = in_kernel or isinstance(err, duckdb.Error)
    text = str(err.evalue) if in_kernel else str(err)
    detail = text.splitlines()[0] if text else type(err).__name__
    detail = detail if len(detail) <= 240 else detail[:237] + "..."
    if (isinstance(err, OSError) and err.errno == errno.ENOSPC) or (
        from_duckdb and "no space left on device" in detail.lower()
    ):
        named = _QUOTED_FILE.search(detail)
        target = named.group(1) if named else getattr(err, "filename", None)
        where = f"{target}: " if target else ""
        undone = " (what this run was writing was rolled back)" if target == str(path) else ""
        return (
            f"{where}no space left on device ({detail}); free space on that disk and run "
            f"again{undone}"
        )
    if from_duckdb and any(s in detail.lower() for s in _DAMAGE_SIGNS):
        return (
            f"{path}: the warehouse file is damaged or not a DuckDB database ({detail}); "
            "restore it from a backup, or move it aside and ingest the archived exports again"
        )
    return None


_DUCKDB_ERRORS = frozenset(
    name for name, c in vars(duckdb).items() if isinstance(c, type) and issubclass(c, duckdb.Error)
)
"""Names of DuckDB's exception classes."""


def _raised_by_duckdb_in_a_kernel(err: BaseException) -> bool:
    """Whether ``err`` reports a DuckDB error raised in a notebook's kernel (papermill's
    execution error carries the kernel's exception name, ``ename``, and text, ``evalue``)."""
    return getattr(err, "ename", None) in _DUCKDB_ERRORS


@dataclass(frozen=True)
class StoreCounts:
    """What ``store`` did with each row: inserted, updated, unchanged or conflicting
    (not stored: ``conflicts`` gives each one's ``id``, the ``fields`` that differ and the
    ``stored`` row's identity as JSON)."""

    inserted: int
    updated: int
    unchanged: int
    conflicting: int = 0
    conflicts: pd.DataFrame | None = field(default=None, compare=False, repr=False)


@contextlib.contextmanager
def registered(
    con: duckdb.DuckDBPyConnection, name: str, rows: pd.DataFrame | duckdb.DuckDBPyRelation
) -> Iterator[None]:
    """``rows`` registered on ``con`` as the view ``name`` for the block's length. When the
    block fails inside a transaction DuckDB has aborted, unregistering fails as well; that
    second error is dropped so the block's own (an out-of-memory, say) is the one raised,
    and the caller rolls back."""
    con.register(name, rows)
    try:
        yield
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.unregister(name)
        raise
    con.unregister(name)


def store(
    con: duckdb.DuckDBPyConnection,
    rows: pd.DataFrame | duckdb.DuckDBPyRelation,
) -> StoreCounts:
    """Upsert canonical ``rows`` by ``id`` (inside the caller's transaction).

    ``rows``: a frame, or a relation of the connection (staged Parquet files: nothing of it
    need be in memory), with a ``legacy_id`` column when its source has legacy ids.

    New ids are inserted, in ``created_at`` order (a warehouse clustered by time lets date
    filters skip row groups). An id already stored is updated only when a content column
    differs (engagement counts grow in a later export) and no ``IDENTITY_COLUMNS`` value
    does; when one does, the row is a conflict: the stored row stays as it is and the
    incoming one is returned in ``conflicts`` (an unrelated export that reuses ids never
    overwrites). Identical rows change nothing. Then ``first_reply_at``
    (``schema.DERIVED``) is computed again for the messages the rows may change it for
    (``replies.refresh``): each row's own id, its parent, and the parent it was stored
    with before (a restated reply may move to another message).

    ``legacy_id``: each row's id as written before ids of its source were scoped; a stored
    row still under that id, and links to it, take the new id first (``adopt_legacy_ids``),
    so an old export loaded again adds no duplicate.
    """
    if isinstance(rows, pd.DataFrame):
        rows = rows[[*COLUMNS, *(["legacy_id"] if "legacy_id" in rows.columns else [])]]
    with registered(con, "batch", rows):
        if "legacy_id" in [d[0] for d in con.execute("SELECT * FROM batch LIMIT 0").description]:
            adopt_legacy_ids(con)
        total = con.execute("SELECT count(*) FROM batch").fetchone()[0]
        clash = " OR ".join(f"i.{c} IS DISTINCT FROM b.{c}" for c in IDENTITY_COLUMNS)
        differs = " OR ".join(f"i.{c} IS DISTINCT FROM b.{c}" for c in CONTENT_COLUMNS)
        which = ", ".join(
            f"CASE WHEN i.{c} IS DISTINCT FROM b.{c} THEN '{c}' END" for c in IDENTITY_COLUMNS
        )
        stored = ", ".join(f"{c} := i.{c}" for c in IDENTITY_COLUMNS)
        conflicts = con.execute(
            f"SELECT b.id, concat_ws(', ', {which}) AS fields, "
            f"to_json(struct_pack({stored}))::VARCHAR AS stored "
            f"FROM batch b JOIN interactions i USING (id) WHERE {clash} ORDER BY b.id"
        ).df()
        updated = con.execute(
            f"SELECT count(*) FROM batch b JOIN interactions i USING (id) "
            f"WHERE ({differs}) AND NOT ({clash})"
        ).fetchone()[0]
        existing = con.execute(
            "SELECT count(*) FROM batch b SEMI JOIN interactions i USING (id)"
        ).fetchone()[0]
        con.execute(
            "CREATE OR REPLACE TEMP TABLE touched AS SELECT id FROM batch "
            "UNION SELECT parent_id FROM batch WHERE parent_id IS NOT NULL "
            "UNION SELECT i.parent_id FROM batch b JOIN interactions i USING (id) "
            "WHERE i.parent_id IS NOT NULL"
        )
        if updated:
            sets = ", ".join(f"{c} = b.{c}" for c in COLUMNS if c != "id")
            con.execute(
                f"UPDATE interactions AS i SET {sets} FROM batch b "
                f"WHERE i.id = b.id AND ({differs}) AND NOT ({clash})"
            )
        con.execute(
            f"INSERT INTO interactions ({', '.join(COLUMNS)}) "
            f"SELECT {', '.join('b.' + c for c in COLUMNS)} "
            "FROM batch b ANTI JOIN interactions i USING (id) ORDER BY b.created_at"
        )
        from cxpulse import replies

        replies.refresh(con, "touched")
        con.execute("DROP TABLE touched")
    return StoreCounts(
        inserted=total - existing,
        updated=updated,
        unchanged=existing - updated - len(conflicts),
        conflicting=len(conflicts),
        conflicts=conflicts,
    )


def adopt_legacy_ids(con: duckdb.DuckDBPyConnection) -> None:
    """Rename stored rows still under a legacy id to the scoped id of the one row of
    ``batch`` that has that legacy id, unless the scoped id is stored already; thread and
    parent links to a renamed row follow it. (All in SQL: a load of new rows costs two
    joins.)"""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE adopted AS SELECT id, legacy_id FROM batch "
        "WHERE id <> legacy_id AND legacy_id IN (SELECT id FROM interactions) "
        "AND id NOT IN (SELECT id FROM interactions) "
        "QUALIFY count(*) OVER (PARTITION BY legacy_id) = 1"
    )
    if con.execute("SELECT count(*) FROM adopted").fetchone()[0]:
        for column in ("id", "thread_id", "parent_id"):
            con.execute(
                f"UPDATE interactions SET {column} = a.id FROM adopted a "
                f"WHERE interactions.{column} = a.legacy_id"
            )
    con.execute("DROP TABLE adopted")


def quarantine(
    con: duckdb.DuckDBPyConnection, rejects: pd.DataFrame | duckdb.DuckDBPyRelation
) -> None:
    """Append rejected rows (source_file, format, line, reason, raw, quarantined_at), in
    line order; ``rejects``: a frame or a relation of the connection."""
    if not isinstance(rejects, pd.DataFrame) or len(rejects):
        with registered(con, "rejects", rejects):
            con.execute(
                "INSERT INTO quarantine SELECT source_file, format, line, reason, raw, "
                "quarantined_at FROM rejects ORDER BY line"
            )


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
        "rows_updated", "rows_unchanged", "rows_quarantined", "rows_conflicting",
        "started_at", "finished_at", "message",
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


RECENT_DAYS = 90
"""A channel with rows in this many days before a report's end is one the report expects
(unless params list the channels): it has a source that delivers."""
SILENT_DAYS = 3
"""``cxpulse status`` warns about a channel whose newest row is this many days older than
the warehouse's newest row, while it had rows in the ``RECENT_DAYS`` before."""


def recent_channels(
    con: duckdb.DuckDBPyConnection, brand: str, end: pd.Timestamp, days: int = RECENT_DAYS
) -> list[str]:
    """The channels with rows of ``brand`` created in the ``days`` days before ``end``,
    sorted."""
    start = end - pd.Timedelta(days=days)
    rows = con.execute(
        "SELECT DISTINCT channel FROM interactions WHERE brand = ? AND created_at >= ? "
        "AND created_at < ? ORDER BY channel",
        [brand, start.to_pydatetime(), end.to_pydatetime()],
    ).fetchall()
    return [channel for (channel,) in rows]


def channel_activity(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per channel: newest row (``created_at``, UTC), when a row was last loaded
    (``ingested_at``), and ``silent_days``: whole days from the channel's newest row to the
    warehouse's newest, when at least ``SILENT_DAYS`` and the channel had rows in the
    ``RECENT_DAYS`` before (else null): a source that stopped delivering."""
    return con.execute(
        "WITH c AS (SELECT channel, max(created_at) AS newest, max(ingested_at) AS loaded "
        "FROM interactions GROUP BY channel), "
        "top AS (SELECT max(created_at) AS newest FROM interactions) "
        "SELECT channel, strftime(c.newest, '%Y-%m-%d %H:%M') AS newest_row_utc, "
        "strftime(c.loaded, '%Y-%m-%d %H:%M') AS last_loaded_utc, "
        "CASE WHEN top.newest - c.newest >= to_days(?) "
        "AND top.newest - c.newest < to_days(?) "
        "THEN date_diff('day', c.newest, top.newest) END AS silent_days "
        "FROM c, top ORDER BY channel",
        [SILENT_DAYS, RECENT_DAYS],
    ).df()


STATUS_REASONS = 20
"""``status_text`` lists this many quarantine reasons, the most frequent first."""


def status_text(con: duckdb.DuckDBPyConnection) -> str:
    """What the warehouse holds, as plain text: rows and date range; rows per channel and
    brand; each channel's newest row and last load, with a warning for a channel gone
    silent (``channel_activity``); the last ingest of each source format; quarantined rows
    by reason."""
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
    activity = channel_activity(con)
    lines += ["", "Newest row and last load per channel:", table_text(activity)]
    lines += [
        f"  WARNING: {x.channel} has gone silent: its newest row is {x.silent_days:.0f} days "
        "older than the warehouse's newest; did its exports stop?"
        for x in activity.itertuples()
        if pd.notna(x.silent_days)
    ]
    ingests = con.execute(
        "SELECT format, status, strftime(finished_at, '%Y-%m-%d %H:%M') AS finished_utc, "
        "rows_read AS read, rows_inserted AS new, rows_updated AS updated, "
        "rows_quarantined AS quarantined, source_file AS file FROM ingest_log "
        "QUALIFY row_number() OVER (PARTITION BY format ORDER BY finished_at DESC) = 1 "
        "ORDER BY format"
    ).df()
    lines += ["", "Last ingest per source:", table_text(ingests)]
    reasons = con.execute(  # conflicts name their id: grouped without it
        "SELECT count(*) AS rows, regexp_replace(reason, '^conflict: id .+ is stored with ', "
        "'conflict: id ... is stored with ') AS reason FROM quarantine "
        "GROUP BY ALL ORDER BY rows DESC, reason"
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
