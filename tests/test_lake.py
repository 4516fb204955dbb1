"""The lake: month/channel partitions of the warehouse, rewritten only when they change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from cxpulse import cli, lake, schema, warehouse

ROWS = [
    {"id": "tw:1", "channel": "twitter", "created_at": "2026-01-31 23:30"},
    {"id": "tw:2", "channel": "twitter", "created_at": "2026-02-01 00:30", "sentiment": -0.5},
    {"id": "em:1", "channel": "email", "created_at": "2026-02-10 12:00"},
    {"id": "tw:3", "channel": "twitter", "created_at": "2026-02-11 09:00", "rating": None,
     "direction": "outbound", "parent_id": "tw:2"},
]  # fmt: skip


def store(path: Path, rows: list[dict]) -> None:
    """Store ``rows`` (Northwind, inbound unless given) in the warehouse at ``path``."""
    frame = pd.DataFrame([{"brand": "Northwind", "direction": "inbound", **r} for r in rows])
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    con = warehouse.connect(path)
    warehouse.store(con, schema.conform(frame))
    con.close()


@pytest.fixture
def small(tmp_path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    store(path, ROWS)
    return path


def read_lake(folder: Path) -> pd.DataFrame:
    """The lake as a hive-partitioned dataset (pyarrow), sorted by id."""
    table = ds.dataset(folder, format="parquet", partitioning="hive").to_table()
    return table.to_pandas().sort_values("id", ignore_index=True)


def warehouse_rows(path: Path) -> pd.DataFrame:
    con = warehouse.connect(path, read_only=True)
    frame = con.execute("SELECT * FROM interactions ORDER BY id").df()
    con.close()
    return frame


def records(frame: pd.DataFrame) -> list[dict]:
    """``frame``'s rows with every missing value as None."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def test_lake_holds_the_warehouse_rows_in_month_and_channel_partitions(small, tmp_path):
    folder = tmp_path / "lake"
    result = lake.export(small, folder)
    assert result.written == [
        "month=2026-01/channel=twitter",
        "month=2026-02/channel=email",
        "month=2026-02/channel=twitter",
    ]
    got = read_lake(folder)
    assert list(got.columns) == list(lake.LAKE_COLUMNS)
    assert list(got["month"]) == ["2026-02", "2026-01", "2026-02", "2026-02"]
    assert records(got[list(schema.TABLE_COLUMNS)]) == records(warehouse_rows(small))
    assert str(got["created_at"].dtype) == "datetime64[us, UTC]"


def test_lake_export_of_an_unchanged_warehouse_rewrites_nothing(small, tmp_path):
    folder = tmp_path / "lake"
    lake.export(small, folder)
    before = {p: p.stat().st_ino for p in folder.rglob("*.parquet")}
    again = lake.export(small, folder)
    assert (again.written, again.removed, again.unchanged) == ([], [], 3)
    assert {p: p.stat().st_ino for p in folder.rglob("*.parquet")} == before


def test_lake_rewrites_only_the_partition_whose_rows_changed(small, tmp_path):
    folder = tmp_path / "lake"
    lake.export(small, folder)
    untouched = folder / "month=2026-02/channel=email" / lake.PART
    inode = untouched.stat().st_ino
    store(small, [{"id": "tw:9", "channel": "twitter", "created_at": "2026-01-02 10:00"}])
    con = warehouse.connect(small)
    con.execute("UPDATE interactions SET sentiment = 0.9 WHERE id = 'tw:3'")
    con.close()
    result = lake.export(small, folder)
    assert result.written == ["month=2026-01/channel=twitter", "month=2026-02/channel=twitter"]
    assert untouched.stat().st_ino == inode
    got = read_lake(folder)
    assert len(got) == 5
    assert got.set_index("id").loc["tw:3", "sentiment"] == 0.9


def test_a_reader_of_the_old_partition_keeps_reading_it_whole(small, tmp_path):
    """The new file replaces the old one by one rename: a reader that opened the old file
    reads all of it; the next reader gets all of the new one."""
    folder = tmp_path / "lake"
    lake.export(small, folder)
    part = folder / "month=2026-02/channel=twitter" / lake.PART
    with open(part, "rb") as old:
        store(small, [{"id": "tw:8", "channel": "twitter", "created_at": "2026-02-20 10:00"}])
        lake.export(small, folder)
        assert pq.read_table(old).num_rows == 2
    assert pq.read_table(part).num_rows == 3
    assert not (folder / lake.STAGING).exists()


def test_a_partition_left_without_rows_is_removed(small, tmp_path):
    folder = tmp_path / "lake"
    lake.export(small, folder)
    con = warehouse.connect(small)
    con.execute("DELETE FROM interactions WHERE channel = 'email'")
    con.close()
    result = lake.export(small, folder)
    assert result.removed == ["month=2026-02/channel=email"]
    assert not (folder / "month=2026-02/channel=email").exists()
    assert set(read_lake(folder)["channel"]) == {"twitter"}


def test_staging_left_by_a_killed_export_is_invisible_and_cleared(small, tmp_path):
    folder = tmp_path / "lake"
    lake.export(small, folder)
    junk = folder / lake.STAGING / "month=2026-02/channel=twitter"
    junk.mkdir(parents=True)
    shutil.copy(folder / "month=2026-02/channel=twitter" / lake.PART, junk / "half.parquet")
    assert len(read_lake(folder)) == 4  # readers skip names starting with _
    store(small, [{"id": "tw:7", "channel": "twitter", "created_at": "2026-02-21 10:00"}])
    lake.export(small, folder)
    assert not (folder / lake.STAGING).exists()
    assert len(read_lake(folder)) == 5


def test_a_manifest_that_is_not_ours_is_named(small, tmp_path):
    folder = tmp_path / "lake"
    folder.mkdir()
    (folder / lake.MANIFEST).write_text("[1, 2]")
    with pytest.raises(ValueError, match="_lake.json: not a cxpulse lake manifest"):
        lake.export(small, folder)


def test_ingest_keeps_the_export_lake_of_brand_yaml_current(tmp_path, capsys):
    params = tmp_path / "params"
    params.mkdir()
    folder = tmp_path / "lake"
    (params / "brand.yaml").write_text(
        f"brand: Northwind\nsentiment: {{engine: vader}}\nexport: {folder}\n"
    )
    export = tmp_path / "export.csv"
    frame = schema.conform(pd.DataFrame([{"brand": "Northwind", "direction": "inbound", **r}
                                         for r in ROWS[:2]]))  # fmt: skip
    frame["created_at"] = pd.to_datetime([r["created_at"] for r in ROWS[:2]], utc=True)
    frame.to_csv(export, index=False)
    path = tmp_path / "warehouse.duckdb"
    code = cli.main(["ingest", "--format", "canonical", str(export), "--warehouse", str(path),
                     "--params", str(params)])  # fmt: skip
    assert code == 0
    assert sorted(read_lake(folder)["id"]) == ["tw:1", "tw:2"]


def test_cxpulse_lake_prints_what_it_wrote(small, tmp_path, capsys):
    folder = tmp_path / "lake"
    assert cli.main(["lake", str(folder), "--warehouse", str(small)]) == 0
    assert capsys.readouterr().out.strip() == (
        f"{folder}: 4 rows in 3 partitions; 3 written, 0 removed, 0 unchanged"
    )
