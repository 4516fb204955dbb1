"""The DuckDB warehouse: upserts, status, and a clear error while another process writes."""

import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from cxpulse import schema, warehouse


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


def test_reading_while_another_process_writes_fails_clearly(tmp_path):
    path = tmp_path / "w.duckdb"
    writer = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WRITER), str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "ready"
        with pytest.raises(warehouse.WarehouseLocked, match="in use by another cxpulse process"):
            warehouse.connect(path, read_only=True)
    finally:
        writer.kill()
        writer.wait()
