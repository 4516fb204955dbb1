"""Crashes: real ``cxpulse`` processes killed with SIGKILL, and what they leave behind.

Every kill is followed by the same checks: the warehouse opens, its counts are those of
before or after the killed step (never between), the published report is whole, no lock
is held and no process of the killed run survives, the next run succeeds, and no e-mail
went twice (beyond SMTP's own window: the server accepted it and the sender was killed
before it wrote its sent log) or was lost.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from conftest import (
    CXPULSE,
    DEMO_END,
    all_locks_free,
    cadence_block,
    descendants,
    is_running,
    wait_until,
)
from pypdf import PdfReader
from test_deliver import FIXTURES, Mailbox, make_project, start_server, write_yaml

from cxpulse import cli, config, deliver, demo, warehouse
from cxpulse.ingest import ingest_file

SEED = 20261202
KILLS = {"ingest": 15, "run": 3, "send": 12}
"""SIGKILLs per phase (30 in all), each at a seeded random point of the command's run."""
DAY = "2026-03-19"
ROWS = 3_000


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


# The crash suite: one small project, a real SMTP server, seeded kills.


@dataclass
class Project:
    root: Path
    mailbox: Mailbox
    rng: random.Random
    kills: dict[str, int] = field(default_factory=dict)
    figures: dict[str, float] = field(default_factory=dict)

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def locks(self) -> list[Path]:
        return [Path(f"{self.warehouse}.lock"), self.reports / f"{deliver.LOCK}.lock"]

    def args(self, command: str, *more: object) -> list[object]:
        """``command`` with this project's warehouse, params and (run, send) reports."""
        words: list[object] = [*command.split(), *more, "--warehouse", self.warehouse]
        if not command.startswith("ingest"):
            words += ["--params", self.root / "params", "--reports", self.reports]
        return words

    def export(self, number: int) -> Path:
        """A canonical export of ``ROWS`` interactions no other export holds."""
        path = self.root / "exports" / f"export-{number}.parquet"
        if not path.exists():
            frame = pd.read_parquet(self.root / "demo" / "demo-0001.parquet").head(ROWS)
            frame["id"] = frame["id"] + f"-{number}"
            frame.to_parquet(path)
        return path


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    """Params with the fixture notebook as the daily report, a 3,000-row demo warehouse, a
    real SMTP server on 127.0.0.1; prints how many kills each phase made and its seconds."""
    root = tmp_path_factory.mktemp("crash")
    mailbox = Mailbox()
    server = start_server(mailbox)
    make_project(
        root, server.port, lock_wait_s=60, gate={"max_data_age_hours": 1e6, "channels": []}
    )
    shutil.copy(FIXTURES / "three_charts.ipynb", root / "notebooks" / "three_charts.ipynb")
    write_yaml(
        root / "params" / "daily.yaml",
        {
            "title": "Daily brief",
            "notebook": "notebooks/three_charts.ipynb",
            "timeout_s": 120,
            "cadence": cadence_block("daily"),
        },  # fmt: skip
    )
    brand = config.load_brand(root / "params")
    (root / "exports").mkdir()
    (root / "reports").mkdir()
    for path in demo.write_demo(root / "demo", rows=ROWS, seed=5, end=DEMO_END, brand=brand):
        ingest_file(path, "canonical", root / "warehouse.duckdb")
    state = Project(root, mailbox, random.Random(SEED))
    yield state
    server.stop()
    print(f"\ncrash suite: kills {state.kills}, {state.figures}")


def run_to_completion(
    project: Project, command: str, *more: object, mark: str = "", holds: Path | None = None
) -> Span:
    """Run ``cxpulse COMMAND`` once, uncut (it must succeed): when its work began (``mark``
    first in its output, or the lock file ``holds`` names its holder) and when it ended, in
    seconds from its start."""
    log = project.root / "complete.log"
    log.unlink(missing_ok=True)
    started = time.monotonic()
    process = cxpulse(*project.args(command, *more), log=log)
    began = 0.0
    while process.poll() is None:
        if not began and (
            (mark and mark in log.read_text())
            or (holds and holds.exists() and holds.stat().st_size)
        ):
            began = time.monotonic() - started
        time.sleep(0.01)
    assert process.returncode == 0, log.read_text()
    return Span(began, time.monotonic() - started)


@dataclass(frozen=True)
class Span:
    """Seconds from a command's start: when its work began and when it ended."""

    begin: float
    end: float


def kill_somewhere(project: Project, phase: str, command: str, *more: object, span: Span) -> bool:
    """Start ``cxpulse COMMAND``, SIGKILL it at a seeded random point of its work (``span``,
    from a little before it began), and check that nothing of it survives and no lock
    stays held. False when it finished before the kill fell."""
    delay = project.rng.uniform(0.8 * span.begin, span.end)
    run = cxpulse(*project.args(command, *more), log=project.root / f"{phase}.log")
    time.sleep(delay)
    if run.poll() is not None:
        return False
    group = descendants(run.pid)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    assert_none_survives(group)
    assert all_locks_free(project.locks), f"a lock is held after killing {command} at {delay:.2f} s"
    project.kills[phase] = project.kills.get(phase, 0) + 1
    return True


def counts(path: Path) -> tuple[int, int]:
    """(interactions, ingest_log rows) of the warehouse: it must open."""
    con = warehouse.connect(path, read_only=True, wait_s=5)
    try:
        return con.execute(
            "SELECT (SELECT count(*) FROM interactions), (SELECT count(*) FROM ingest_log)"
        ).fetchone()
    finally:
        con.close()


def published(folder: Path) -> str | None:
    """The ``generated_at`` of the report published in ``folder``, after checking that its
    files are complete and of one run; None when nothing is published there."""
    if not folder.exists():
        return None
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    pdf = (folder / "report.pdf").read_bytes()
    assert pdf.rstrip().endswith(b"%%EOF") and len(PdfReader(folder / "report.pdf").pages) >= 1
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert html.rstrip().endswith("</html>")
    assert f"Generated {manifest['generated_at'][:10]} {manifest['generated_at'][11:16]}" in html
    assert json.loads((folder / "report.ipynb").read_text(encoding="utf-8"))["cells"]
    return manifest["generated_at"]


def test_ingest_killed_anywhere_stores_the_file_whole_or_not_at_all(project):
    started = time.monotonic()
    before = counts(project.warehouse)
    span = run_to_completion(
        project, "ingest --format canonical", project.export(0), holds=project.locks[0]
    )
    assert counts(project.warehouse)[0] == before[0] + ROWS
    number = 0
    while project.kills.get("ingest", 0) < KILLS["ingest"]:
        number += 1
        export = project.export(number)
        before = counts(project.warehouse)
        kill_somewhere(project, "ingest", "ingest --format canonical", export, span=span)
        after = counts(project.warehouse)
        assert after in (before, (before[0] + ROWS, before[1] + 1)), (before, after)
        project.figures["ingest_killed_after_commit"] = project.figures.get(
            "ingest_killed_after_commit", 0
        ) + (after != before)
        result = ingest_file(export, "canonical", project.warehouse)  # the next run
        assert result.status == ("skipped" if after != before else "loaded")
        assert counts(project.warehouse)[0] == before[0] + ROWS
    project.figures["ingest"] = round(time.monotonic() - started, 1)


def test_run_killed_anywhere_leaves_the_published_report_whole(project):
    """After each kill the next run renders while an ingest writes (a reader and a
    writer at once): both succeed."""
    started = time.monotonic()
    folder = project.reports / "daily" / DAY
    span = run_to_completion(project, "run daily --as-of", DAY, mark="Executing notebook")
    number = 100
    while project.kills.get("run", 0) < KILLS["run"]:
        before, stored = published(folder), counts(project.warehouse)
        assert before is not None
        kill_somewhere(project, "run", "run daily --as-of", DAY, span=span)
        assert counts(project.warehouse) == stored
        shown = published(folder)  # whole, of one run: the old report or the new one
        assert shown is not None and shown >= before
        number += 1
        writer = cxpulse(
            *project.args("ingest --format canonical", project.export(number)),
            log=project.root / "writer.log",
        )
        run_to_completion(project, "run daily --as-of", DAY)  # the next run
        assert writer.wait(timeout=120) == 0, (project.root / "writer.log").read_text()
        assert published(folder) > before
        assert counts(project.warehouse)[0] == stored[0] + ROWS
    project.figures["run"] = round(time.monotonic() - started, 1)


def sent_to_readers(project: Project, label: str) -> list[str]:
    """Message-IDs of the reports of ``label`` the SMTP server accepted, in order."""
    return [
        m["Message-ID"].strip()  # a folded header keeps its leading space
        for _, m in project.mailbox.reports()
        if m["X-Cxpulse-Period"] == label
    ]


def test_send_killed_anywhere_sends_each_report_once_and_loses_none(project):
    """Each kill sends a new day's report (rendered already: --no-render); the next run sends
    it or finds it sent. Two e-mails of one day only in SMTP's at-least-once window: the
    server took the first and the kill fell before the sent log recorded it."""
    started = time.monotonic()
    rendered = project.reports / "daily" / DAY
    if not rendered.exists():
        run_to_completion(project, "run daily --as-of", DAY)
    days = [str(d.date()) for d in pd.date_range("2026-01-01", periods=60)]
    for day in days:
        shutil.copytree(rendered, project.reports / "daily" / day)
    span = run_to_completion(project, "send daily --no-render --as-of", days[0], mark="wrote")
    twice = 0
    for day in days[1:]:
        if project.kills.get("send", 0) >= KILLS["send"]:
            break
        kill_somewhere(project, "send", "send daily --no-render --as-of", day, span=span)
        log_path = project.reports / deliver.SENT_LOG
        accepted = sent_to_readers(project, day)
        logged = [e["message_id"] for e in deliver_log(log_path) if e["period"] == day]
        assert len(accepted) <= 1 and logged in ([], accepted)
        project.figures["send_killed_after_smtp"] = project.figures.get(
            "send_killed_after_smtp", 0
        ) + len(accepted)
        assert cli.main(list(map(str, project.args("send daily --no-render --as-of", day)))) == 0
        accepted = sent_to_readers(project, day)
        (entry,) = [e for e in deliver_log(log_path) if e["period"] == day]
        assert accepted[-1] == entry["message_id"]  # nothing lost
        if len(accepted) == 2:  # the first was accepted, then the kill fell before the log
            twice += 1
        assert len(accepted) in (1, 2)
    project.figures["send"] = round(time.monotonic() - started, 1)
    project.figures["send_at_least_once"] = twice


def deliver_log(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_two_writers_at_once_both_load_one_after_the_other(project):
    before = counts(project.warehouse)
    logs = [project.root / f"writer-{n}.log" for n in (1, 2)]
    writers = [
        cxpulse(*project.args("ingest --format canonical", project.export(200 + n)), log=log)
        for n, log in enumerate(logs)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0], [log.read_text() for log in logs]
    assert counts(project.warehouse) == (before[0] + 2 * ROWS, before[1] + 2)
    assert all_locks_free(project.locks)


def test_a_full_disk_during_ingest_changes_nothing_and_says_so(project, small_tmpfs):
    """The warehouse on an 8 MB tmpfs with room for the file but not for the load; once
    space is freed the same ingest succeeds."""
    path = small_tmpfs / "warehouse.duckdb"
    export = project.export(300)
    created = subprocess.run(
        [str(CXPULSE), "ingest", "--format", "canonical", "--warehouse", str(path),
         str(project.export(301))],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    before = counts(path)
    filler = small_tmpfs / "filler"
    filler.write_bytes(b"\0" * (shutil.disk_usage(small_tmpfs).free - 200_000))
    done = subprocess.run(
        [str(CXPULSE), "ingest", "--format", "canonical", "--warehouse", str(path), str(export)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "no transaction is active" not in done.stderr
    (error,) = [line for line in done.stderr.splitlines() if "error:" in line]
    assert error.startswith(f"cxpulse ingest: error: {path}")
    assert "No space left on device" in error and "free space on that disk" in error
    assert all_locks_free([Path(f"{path}.lock")])
    filler.unlink()
    assert counts(path) == before
    assert ingest_file(export, "canonical", path).status == "loaded"
    assert counts(path) == (before[0] + ROWS, before[1] + 1)
