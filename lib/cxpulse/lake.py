"""The lake: the warehouse's interactions as a Parquet dataset any engine reads.

Layout (hive partitioning, one file a partition)::

    DIR/month=2026-11/channel=twitter/part-0.parquet
    DIR/_lake.json        the manifest: schema, and each partition's rows and fingerprint

``month`` is the UTC month of ``created_at`` (``YYYY-MM``, a string); ``channel`` is the
interaction's channel. Both are partition columns: they are in the directory names, not in
the files (the readers of hive datasets, Spark among them, add them back). Every other
column has the warehouse's type (``schema.TABLE_COLUMNS``, the derived ``first_reply_at``
included; ``created_at``, ``ingested_at`` and ``first_reply_at`` are UTC instants, Parquet
``TIMESTAMP(isAdjustedToUTC, MICROS)``). ``LAKE_COLUMNS`` is the schema a reader gets.

An export rewrites only the partitions whose fingerprint changed (the row count and an
order-free hash of every value of every row of the partition), so a day's ingest rewrites
the partitions it touched. A partition is written beside the lake (``DIR/_staging``, which
readers skip: names starting with ``_``) and moved into place by one ``rename``: a reader
sees the old file or the new one, never half of one. A partition that no longer holds any
row is removed. One writer at a time (a lock file, ``DIR/_lake.lock``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cxpulse import schema, warehouse

MANIFEST = "_lake.json"
STAGING = "_staging"
LOCK = "_lake.lock"
PART = "part-0.parquet"
PARTITION_KEYS: tuple[str, ...] = ("month", "channel")
LAKE_COLUMNS: dict[str, str] = {
    **{c: t for c, t in schema.TABLE_COLUMNS.items() if c != "channel"},
    "month": "VARCHAR",
    "channel": "VARCHAR",
}
"""Column -> DuckDB type of the lake as a reader sees it: the warehouse's columns, with
the partition columns month and channel last."""

_MONTH = "strftime(timezone('UTC', created_at), '%Y-%m')"
_ROW = ", ".join(schema.TABLE_COLUMNS)


@dataclass(frozen=True)
class ExportResult:
    """What one export did: partitions rewritten, removed and left as they were."""

    lake: Path
    written: list[str]
    removed: list[str]
    unchanged: int
    rows: int

    def summary(self) -> str:
        """One line for the command line."""
        return (
            f"{self.lake}: {self.rows:,} rows in {self.unchanged + len(self.written)} "
            f"partitions; {len(self.written)} written, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged"
        )


def partition_name(month: str, channel: str) -> str:
    """The directory of a partition relative to the lake: ``month=2026-11/channel=twitter``."""
    return f"month={month}/channel={channel}"


def fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """Each partition of the warehouse's interactions -> {rows, fingerprint}.

    fingerprint = the XOR of the hash of every row (all columns), as text: it changes when
    a row is added, removed or changed, and does not depend on the order of rows.
    """
    found = con.execute(
        f"""SELECT {_MONTH} AS month, channel, count(*), bit_xor(hash({_ROW}))
        FROM interactions GROUP BY ALL"""
    ).fetchall()
    return {
        partition_name(month, channel): {"rows": rows, "fingerprint": str(hashed)}
        for month, channel, rows, hashed in found
    }


def read_manifest(lake: Path) -> dict:
    """The lake's manifest; an empty one for a new lake. ``ValueError`` when it is not ours."""
    path = lake / MANIFEST
    if not path.exists():
        return {"columns": LAKE_COLUMNS, "partitions": {}}
    try:
        manifest = json.loads(path.read_text())
        manifest["partitions"]  # noqa: B018 - the key every manifest has
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{path}: not a cxpulse lake manifest ({err})") from None
    return manifest


def _write_atomically(path: Path, text: str) -> None:
    fresh = path.with_name(f".{path.name}.new")
    fresh.write_text(text)
    os.replace(fresh, path)


@contextlib.contextmanager
def _writer(lake: Path) -> Iterator[None]:
    """The lake's writer lock, held inside (another export waits)."""
    lake.mkdir(parents=True, exist_ok=True)
    with open(lake / LOCK, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _stage(con: duckdb.DuckDBPyConnection, staging: Path, partitions: list[str]) -> None:
    """Write ``partitions`` of the warehouse to ``staging`` in the lake's layout, one file
    each, in one scan."""
    if staging.exists():
        shutil.rmtree(staging)  # left by an export that was killed
    staging.mkdir()
    con.execute("CREATE TEMP TABLE wanted (name VARCHAR)")
    con.executemany("INSERT INTO wanted VALUES (?)", [[p] for p in partitions])
    con.execute(
        f"""COPY (
            SELECT * EXCLUDE (name) FROM (
                SELECT *, {_MONTH} AS month,
                       'month=' || month || '/channel=' || channel AS name
                FROM interactions)
            SEMI JOIN wanted USING (name)
        ) TO '{staging}' (FORMAT parquet, PARTITION_BY (month, channel),
                          FILENAME_PATTERN 'part-{{i}}', COMPRESSION zstd)"""
    )


def export(warehouse_path: Path, lake: Path) -> ExportResult:
    """Bring the lake at ``lake`` up to date with the warehouse at ``warehouse_path``:
    write the partitions whose fingerprint changed, remove those that emptied, then the
    manifest (``read_manifest``)."""
    lake = Path(lake)
    with _writer(lake):
        con = warehouse.connect(Path(warehouse_path), read_only=True)
        try:
            con.execute("SET partitioned_write_max_open_files = 100000")
            current = fingerprints(con)
            old = read_manifest(lake)
            same_schema = old.get("columns") == LAKE_COLUMNS
            kept = old["partitions"] if same_schema else {}
            changed = sorted(p for p, f in current.items() if kept.get(p) != f)
            staging = lake / STAGING
            if changed:
                _stage(con, staging, changed)
        finally:
            con.close()
        for name in changed:
            _move_in(staging / name, lake / name)
        removed = sorted(p for p in old["partitions"] if p not in current)
        for name in removed:
            (lake / name / PART).unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                (lake / name).rmdir()
                (lake / name).parent.rmdir()
        if staging.exists():
            shutil.rmtree(staging)
        manifest = {"columns": LAKE_COLUMNS, "partitions": dict(sorted(current.items()))}
        _write_atomically(lake / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    return ExportResult(
        lake=lake,
        written=changed,
        removed=removed,
        unchanged=len(current) - len(changed),
        rows=sum(f["rows"] for f in current.values()),
    )


def _move_in(staged: Path, final: Path) -> None:
    """Replace the file of partition ``final`` by the one staged (one ``rename``)."""
    files = sorted(staged.glob("*.parquet"))
    if len(files) != 1:
        raise RuntimeError(f"{staged}: expected one Parquet file, DuckDB wrote {len(files)}")
    final.mkdir(parents=True, exist_ok=True)
    os.replace(files[0], final / PART)


def keep_current(warehouse_path: Path, params_dir: Path) -> ExportResult | None:
    """After an ingest: export to the lake of ``export`` in brand.yaml, when one is set (a
    params folder without brand.yaml, one that only sets up an inbox, sets none)."""
    from cxpulse import config

    if not (Path(params_dir) / "brand.yaml").exists():
        return None
    target = config.load_brand(Path(params_dir)).export
    if target is None:
        return None
    return export(Path(warehouse_path), Path(target))
