"""Crashes: real ``cxpulse`` processes killed with SIGKILL, and what they leave behind.

Every kill is followed by the same checks: the warehouse opens, its counts are those of
before or after the killed step (never between), the published report is whole, no lock
is held and no process of the killed run survives, the next run succeeds, and no e-mail
went twice (beyond SMTP's own window: the server accepted it and the sender was killed
before it wrote its sent log) or was lost.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import CXPULSE, all_locks_free, descendants, is_running, wait_until
from test_deliver import make_project, write_yaml

from cxpulse import deliver


def cxpulse(*args: object, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``cxpulse ARGS`` started the way cron starts it: no terminal, its own session, its
    output to the file ``log`` (a pipe would stay open as long as anything it started)."""
    with open(log, "a") as out:
        return subprocess.Popen(
            [str(CXPULSE), *map(str, args)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )


def unique_texts(path: Path, rows: int) -> Path:
    """A canonical export of ``rows`` tweets, each text different (all need scoring)."""
    frame = pd.DataFrame(
        {
            "id": [f"t{i}" for i in range(rows)],
            "channel": "twitter",
            "brand": "Northwind",
            "direction": "inbound",
            "created_at": pd.date_range("2026-03-01", periods=rows, freq="5s", tz="UTC"),
            "text": [
                f"the service was awful and so slow, order {i} still missing" for i in range(rows)
            ],
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path)
    return path


def inbox_project(root: Path) -> Path:
    """A project (``make_project``) whose inbox loads ``*.parquet`` as canonical files."""
    make_project(root, port=9)
    write_yaml(
        root / "params" / "inbox.yaml",
        {"inbox": str(root / "inbox"), "archive": str(root / "archive"),
         "files": [{"pattern": "*.parquet", "format": "canonical"}]},
    )  # fmt: skip
    return root


@pytest.mark.parametrize("command", ["ingest --inbox", "send daily --ingest --dry-run"])
def test_a_kill_during_sentiment_scoring_leaves_no_worker_and_no_lock(tmp_path, command):
    """cron's kill -9 of the main process while its workers score: the workers die with it
    and neither the warehouse lock nor the delivery lock stays held."""
    root = inbox_project(tmp_path)
    unique_texts(root / "inbox" / "export.parquet", 300_000)
    warehouse = root / "warehouse.duckdb"
    run = cxpulse(
        *command.split(), "--warehouse", warehouse, "--params", root / "params",
        *(["--reports", root / "reports"] if command.startswith("send") else []),
        log=tmp_path / "run.log",
    )  # fmt: skip
    # Scoring has begun once the pool's processes exist (workers; a spawned pool also has
    # its resource tracker); the file holds far more texts than they score in a second.
    wait_until(lambda: len(descendants(run.pid)) >= 2, 120, "no scoring workers started")
    time.sleep(1.0)
    workers = descendants(run.pid)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    assert_none_survives(workers)
    locks = [Path(f"{warehouse}.lock"), root / "reports" / f"{deliver.LOCK}.lock"]
    assert all_locks_free(locks if command.startswith("send") else locks[:1])


def assert_none_survives(pids: list[int], grace_s: float = 10.0) -> None:
    """Every process in ``pids`` ends within ``grace_s``; those that do not are killed
    (not to haunt later tests) and named."""
    deadline = time.monotonic() + grace_s
    survivors = [p for p in pids if is_running(p)]
    while survivors and time.monotonic() < deadline:
        time.sleep(0.05)
        survivors = [p for p in survivors if is_running(p)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert survivors == [], f"processes {survivors} of the killed run were still running"
