"""The command line's errors: a damaged warehouse or a full disk gives one line naming the
file and what to do, a non-zero exit and no traceback (``--debug`` shows it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from conftest import CXPULSE
from test_deliver import make_project

EXPORT = (
    "id,channel,brand,direction,created_at,text\n"
    "twitter:x1,twitter,Northwind,inbound,2026-03-19T10:00:00Z,my parcel never came\n"
)


def cxpulse(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CXPULSE), *map(str, args)], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def damaged(demo_warehouse, tmp_path_factory) -> Path:
    """A project whose warehouse is the demo warehouse cut to half its size."""
    root = make_project(tmp_path_factory.mktemp("damaged"), port=9)
    path = root / "warehouse.duckdb"
    shutil.copy(demo_warehouse, path)
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 2)
    (root / "export.csv").write_text(EXPORT)
    return root


@pytest.mark.parametrize(
    "command",
    [
        "status",
        "run daily --as-of 2026-03-19 --params {root}/params --reports {root}/reports",
        "send daily --as-of 2026-03-19 --dry-run --params {root}/params --reports {root}/reports",
        "ingest --format canonical {root}/export.csv",
    ],
)
def test_a_damaged_warehouse_gives_one_line_naming_the_file_and_what_to_do(damaged, command):
    path = damaged / "warehouse.duckdb"
    done = cxpulse(*command.format(root=damaged).split(), "--warehouse", path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    (error,) = [line for line in done.stderr.splitlines() if "error:" in line]
    name = command.split()[0]
    assert error.startswith(f"cxpulse {name}: error: {path}: the warehouse file is damaged")
    assert "Could not read enough bytes" in error and "restore it from a backup" in error


def test_debug_shows_the_traceback_of_a_damaged_warehouse(damaged):
    done = cxpulse("--debug", "status", "--warehouse", damaged / "warehouse.duckdb")
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "IOException" in done.stderr


def test_a_full_disk_during_ingest_says_so_not_that_no_transaction_is_active(
    demo_warehouse, small_tmpfs, tmp_path
):
    """The warehouse on an 8 MB tmpfs with room for the file but not for the load."""
    path = small_tmpfs / "warehouse.duckdb"
    export = tmp_path / "export.parquet"
    demo = pd.read_parquet(next((demo_warehouse.parent / "files").glob("*.parquet")))
    demo.head(10_000).to_parquet(export)
    empty = cxpulse("ingest", "--format", "canonical", "--warehouse", path, tmp_path / "none.csv")
    assert empty.returncode == 2  # created the empty warehouse, loaded nothing
    filler = small_tmpfs / "filler"
    filler.write_bytes(b"\0" * (shutil.disk_usage(small_tmpfs).free - 300_000))
    done = cxpulse("ingest", "--format", "canonical", "--warehouse", path, export)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "no transaction is active" not in done.stderr
    (error,) = [line for line in done.stderr.splitlines() if "error:" in line]
    assert error.startswith(f"cxpulse ingest: error: {path}")
    assert "No space left on device" in error and "free space on that disk" in error
    filler.unlink()
    assert cxpulse("status", "--warehouse", path).stdout.startswith("Interactions: 0 rows")
    again = cxpulse("ingest", "--format", "canonical", "--warehouse", path, export)
    assert again.returncode == 0, again.stderr
