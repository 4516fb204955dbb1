"""The DuckDB warehouse: upserts, status, and waiting (bounded, saying on whom) while
another process holds it."""

import contextlib
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import CXPULSE, wait_until

from cxpulse import schema, warehouse

ROOT = Path(__file__).resolve().parents[1]


def rows(*items: dict) -> pd.DataFrame:
    base = {"channel": "twitter", "brand": "Northwind", "direction": "inbound"}
    frame = pd.DataFrame([{**base, **item} for item in items])
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return schema.conform(frame)


def test_store_inserts_new_ids_updates_changed_ones_and_counts_both(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    first = rows(
        {"id": "twitter:1", "created_at": "2024-03-04 09:00", "likes": 1},
        {"id": "twitter:2", "created_at": "2024-03-04 10:00", "likes": 1},
    )
    assert warehouse.store(con, first) == warehouse.StoreCounts(inserted=2, updated=0, unchanged=0)
    later = rows(
        {"id": "twitter:1", "created_at": "2024-03-04 09:00", "likes": 1},
        {"id": "twitter:2", "created_at": "2024-03-04 10:00", "likes": 7},
        {"id": "twitter:3", "created_at": "2024-03-04 11:00"},
    )
    assert warehouse.store(con, later) == warehouse.StoreCounts(inserted=1, updated=1, unchanged=1)
    got = con.execute("SELECT id, likes FROM interactions ORDER BY id").fetchall()
    assert got == [("twitter:1", 1), ("twitter:2", 7), ("twitter:3", None)]


def test_store_updates_counts_and_links_but_keeps_the_stored_row_when_identity_differs(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    stamp = "2024-03-04 09:00"
    first = rows(
        {"id": "twitter:1", "created_at": stamp, "text": "hi", "likes": 1},
        {"id": "twitter:2", "created_at": stamp, "text": "yo", "likes": 1},
    )
    warehouse.store(con, first)
    later = rows(
        {
            "id": "twitter:1",
            "created_at": stamp,
            "text": "hi",
            "likes": 9,
            "parent_id": "twitter:0",
        },
        {"id": "twitter:2", "created_at": stamp, "text": "other", "likes": 5, "brand": "Contoso"},
    )
    counts = warehouse.store(con, later)
    assert counts == warehouse.StoreCounts(inserted=0, updated=1, unchanged=0, conflicting=1)
    assert counts.conflicts.to_dict("records") == [
        {
            "id": "twitter:2",
            "fields": "brand, text",
            "stored": '{"brand":"Northwind","created_at":"2024-03-04 09:00:00+00",'
            '"direction":"inbound","text":"yo"}',
        }
    ]
    got = con.execute("SELECT id, brand, text, likes, parent_id FROM interactions ORDER BY id")
    assert got.fetchall() == [
        ("twitter:1", "Northwind", "hi", 9, "twitter:0"),
        ("twitter:2", "Northwind", "yo", 1, None),
    ]


def test_status_of_an_empty_warehouse_says_there_is_nothing(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    text = warehouse.status_text(con)
    assert text.splitlines()[0] == "Interactions: 0 rows"
    assert "Quarantined: 0 rows, by reason:\n  (none)" in text


def test_status_shows_each_channels_newest_row_and_warns_about_a_channel_gone_silent(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    loaded = pd.Timestamp("2024-03-06 12:00", tz="UTC")
    batch = rows(
        {"id": "twitter:1", "created_at": "2024-03-05 09:00"},
        {"id": "review:1", "created_at": "2024-03-01 08:00", "channel": "review"},
        {"id": "review:2", "created_at": "2024-03-02 08:00", "channel": "review"},
        {"id": "email:1", "created_at": "2023-06-01 08:00", "channel": "email"},
    )
    warehouse.store(con, batch.assign(ingested_at=loaded))
    text = warehouse.status_text(con)
    assert (
        "Newest row and last load per channel:\n"
        "  channel newest_row_utc   last_loaded_utc  silent_days\n"
        "  email   2023-06-01 08:00 2024-03-06 12:00\n"
        "  review  2024-03-02 08:00 2024-03-06 12:00           3\n"
        "  twitter 2024-03-05 09:00 2024-03-06 12:00\n"
        "  WARNING: review has gone silent: its newest row is 3 days older than the "
        "warehouse's newest; did its exports stop?\n"
    ) in text  # e-mail stopped long ago (more than 90 days): no longer a source
    end = pd.Timestamp("2024-03-06", tz="UTC")
    assert warehouse.recent_channels(con, "Northwind", end) == ["review", "twitter"]
    assert warehouse.recent_channels(con, "Contoso", end) == []


def test_status_gives_rows_per_channel_and_brand_last_ingests_and_reasons(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.store(
        con,
        rows(
            {"id": "twitter:1", "created_at": "2024-03-04 09:00"},
            {"id": "twitter:2", "created_at": "2024-03-05 10:30", "brand": "Contoso"},
            {"id": "review:1", "created_at": "2024-03-01 08:00", "channel": "review"},
        ),
    )
    now = pd.Timestamp("2024-03-06 12:00", tz="UTC")
    for fmt, status in (("twcs", "failed"), ("twcs", "loaded"), ("reviews", "loaded")):
        entry = {"source_file": f"{fmt}.csv", "format": fmt, "status": status, "finished_at": now}
        warehouse.log_ingest(con, {**entry, "rows_read": 3, "rows_inserted": 3})
        now += pd.Timedelta(minutes=1)
    warehouse.quarantine(
        con,
        pd.DataFrame(
            {
                "source_file": "twcs.csv",
                "format": "twcs",
                "line": [4, 5, 9],
                "reason": ["rating must be 1 to 5", "rating must be 1 to 5", "id is missing"],
                "raw": "x",
                "quarantined_at": now,
            }
        ),
    )
    text = warehouse.status_text(con)
    assert text.splitlines()[0] == "Interactions: 3 rows, 2024-03-01 08:00 to 2024-03-05 10:30 UTC"
    assert "  review  Northwind    1 2024-03-01 2024-03-01" in text
    assert "  twitter Contoso      1 2024-03-05 2024-03-05" in text
    assert "  twcs    loaded 2024-03-06 12:01" in text
    assert "failed" not in text
    assert text.endswith(
        "Quarantined: 3 rows, by reason:\n"
        "  rows reason\n"
        "     2 rating must be 1 to 5\n"
        "     1 id is missing"
    )


WRITER = """
import sys, time
from cxpulse import warehouse
con = warehouse.connect(sys.argv[1])
print("ready", flush=True)
time.sleep(30)
"""


def test_a_reader_waits_for_a_writer_then_names_it_and_how_long_it_waited(tmp_path):
    path = tmp_path / "w.duckdb"
    writer = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WRITER), str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "ready"
        started = time.monotonic()
        with pytest.raises(warehouse.WarehouseLocked) as caught:
            warehouse.connect(path, read_only=True, wait_s=0.5)
        assert time.monotonic() - started >= 0.5
        assert f"is held by pid {writer.pid} ({sys.executable} -c" in str(caught.value)
        assert "gave up after waiting 0." in str(caught.value)
    finally:
        writer.kill()
        writer.wait()


# Readers hold the file only while they query; writers wait a bounded time, saying on whom.

EXPORT = (
    "id,channel,brand,direction,created_at,text\n"
    "twitter:x1,twitter,Northwind,inbound,2026-03-19T10:00:00Z,my parcel never came\n"
)
REPORT_LEFT_OPEN = """
import sys, time
from cxpulse import report as cx
r = cx.open_report("daily", None, sys.argv[1], sys.argv[2])
cx.kpi_tiles(r), cx.needs_action(r)
print("ready", flush=True)
time.sleep(60)
"""
HOLD_LOCK = """
import sys, time
from pathlib import Path
from cxpulse import warehouse
with warehouse.lock(sys.argv[1]):
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    while not Path(sys.argv[2]).exists() and time.monotonic() < deadline:
        time.sleep(0.02)
"""


def ingest(path: Path, tmp_path: Path, wait_s: float) -> tuple[subprocess.CompletedProcess, float]:
    """``cxpulse ingest`` of a one-row export into ``path`` in a subprocess, waiting at
    most ``wait_s`` for the warehouse: the finished process and its wall seconds."""
    export = tmp_path / "export.csv"
    export.write_text(EXPORT)
    started = time.monotonic()
    done = subprocess.run(
        [str(CXPULSE), "ingest", "--format", "canonical", "--warehouse", str(path), str(export)],
        capture_output=True,
        text=True,
        env={**os.environ, warehouse.WAIT_ENV: str(wait_s)},
        timeout=120,
    )
    return done, time.monotonic() - started


@contextlib.contextmanager
def holding(script: str, *args: object) -> Iterator[subprocess.Popen]:
    """A python process running ``script`` with ``args``, once it printed "ready"."""
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *map(str, args)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "ready"
        yield process
    finally:
        process.kill()
        process.wait()


def test_a_report_left_open_does_not_stop_an_ingest(demo_warehouse, tmp_path):
    """A notebook kernel that ran its cells and stays open holds no lock on the file."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_warehouse, path)
    with holding(REPORT_LEFT_OPEN, path, ROOT / "params"):
        done, _ = ingest(path, tmp_path, wait_s=30)
    assert done.returncode == 0, done.stderr
    assert "1 new" in done.stdout


def test_a_writer_waits_for_another_names_it_and_gives_up_after_the_bound(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with holding(HOLD_LOCK, path, tmp_path / "never") as holder:
        done, seconds = ingest(path, tmp_path, wait_s=1.5)
    assert done.returncode == 2
    holder_text = f"pid {holder.pid} ({sys.executable} -c"
    (error,) = [line for line in done.stderr.splitlines() if "error:" in line]
    assert f"the lock {path}.lock is held by {holder_text}" in error
    assert "running since " in error and "gave up after waiting 1.5 s (limit 1.5 s" in error
    assert 1.5 <= seconds < 30


def test_a_waiting_writer_says_on_whom_for_how_long_at_most_and_how_long_it_waited(tmp_path):
    """The holder lets go half a second after the ingest said it waits."""
    path, release, stderr = tmp_path / "warehouse.duckdb", tmp_path / "release", tmp_path / "err"
    (tmp_path / "export.csv").write_text(EXPORT)
    with holding(HOLD_LOCK, path, release) as holder, open(stderr, "w") as err:
        waiter = subprocess.Popen(
            [str(CXPULSE), "ingest", "--format", "canonical", "--warehouse", str(path),
             str(tmp_path / "export.csv")],
            stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, warehouse.WAIT_ENV: "60"},
        )  # fmt: skip
        wait_until(lambda: "waiting for" in stderr.read_text(), 60, "the ingest never waited")
        time.sleep(0.5)
        release.touch()
        assert waiter.wait(timeout=60) == 0, stderr.read_text()
    lines = stderr.read_text().splitlines()
    (waiting,) = [line for line in lines if "waiting for" in line]
    assert f"waiting for the lock {path}.lock, held by pid {holder.pid} (" in waiting
    assert waiting.endswith("; waiting at most 60 s")
    (got,) = [line for line in lines if "got the lock" in line]
    assert re.search(r"after waiting (0\.[5-9]|[1-9]\d*\.\d) s$", got), got


def test_a_warehouse_from_before_surveys_gets_their_columns_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.duckdb"
    old = {c: t for c, t in schema.COLUMNS.items() if c not in ("nps", "csat", "rated_channel")}
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE interactions ({', '.join(f'{c} {t}' for c, t in old.items())})")
    con.execute(
        "INSERT INTO interactions (id, channel, brand, direction, created_at) "
        "VALUES ('twitter:1', 'twitter', 'Northwind', 'inbound', '2024-03-04 09:00+00')"
    )
    con.close()
    con = warehouse.connect(path)
    survey = rows(
        {"id": "survey:nw:R1", "channel": "survey", "created_at": "2024-03-04 10:00", "nps": 9}
    )
    warehouse.store(con, survey.assign(rated_channel="chat"))
    got = con.execute("SELECT id, nps, rated_channel FROM interactions ORDER BY id").fetchall()
    assert got == [("survey:nw:R1", 9, "chat"), ("twitter:1", None, None)]


def test_a_failing_block_inside_a_transaction_raises_its_own_error(tmp_path):
    """The block's error (here a bad cast; in production an out-of-memory) is what the
    caller sees, not the failure to unregister its view from the aborted transaction."""
    con = warehouse.connect(tmp_path / "w.duckdb")
    con.execute("BEGIN TRANSACTION")
    with (
        pytest.raises(duckdb.ConversionException, match="Could not convert string 'x'"),
        warehouse.registered(con, "batch", pd.DataFrame({"a": ["x"]})),
    ):
        con.execute("SELECT a::INTEGER FROM batch").fetchall()
    con.execute("ROLLBACK")
    with warehouse.registered(con, "batch", pd.DataFrame({"a": ["1"]})):
        assert con.execute("SELECT a::INTEGER FROM batch").fetchall() == [(1,)]
    assert "batch" not in {row[0] for row in con.execute("SHOW TABLES").fetchall()}
