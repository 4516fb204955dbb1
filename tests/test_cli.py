"""The command line's errors: a damaged warehouse or a full disk gives one line naming the
file and what to do, a non-zero exit and no traceback (``--debug`` shows it). The full
disk, on a real tmpfs, is in test_crash.py."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

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
    error = next(line for line in done.stderr.splitlines() if "file is damaged" in line)
    assert f"{path}: the warehouse file is damaged" in error
    name = command.split()[0]
    if name != "send":  # a scheduled send logs it and tells the analyst (test_deliver)
        assert error.startswith(f"cxpulse {name}: error: {path}: the warehouse file is damaged")
    assert "Could not read enough bytes" in error and "restore it from a backup" in error


def test_debug_shows_the_traceback_of_a_damaged_warehouse(damaged):
    done = cxpulse("--debug", "status", "--warehouse", damaged / "warehouse.duckdb")
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "IOException" in done.stderr
