"""Shared fixtures: hand-made interaction tables and the real samples."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import itertools
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import ibis
import ibis.expr.types as ir
import pandas as pd
import pytest

from cxpulse import replies, schema
from cxpulse.metrics.sentiment import PROBABILITIES
from cxpulse.quantify import Calibration

REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
_TABLE_NUMBERS = itertools.count()
ROW_DEFAULTS = {"channel": "twitter", "brand": "Northwind", "direction": "inbound"}
LONG_MODULES = {
    "test_spark.py": 400,
    "test_crash.py": 190,
    "test_bench.py": 140,
    "test_notebooks.py": 70,
    "test_real_reports.py": 60,
}
"""Modules whose tests take a minute or more in all: their seconds in a 2-worker ``make test``
(3 Dec), used only to spread them over the workers (``pytest_collection_modifyitems``)."""


def worksteal_segments(total: int, workers: int) -> list[int]:
    """The sizes of the first deal of pytest-xdist's worksteal scheduler: each of
    ``workers`` in turn gets len(pending) // workers left, in collection order."""
    sizes = []
    for left in range(workers, 0, -1):
        sizes.append((total - sum(sizes)) // left)
    return sizes


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``make test`` (pytest-xdist, worksteal), start every worker on long modules.

    Worksteal deals each worker a contiguous share of the collection and lets idle workers
    take the back half of a busy one's queue. In file order the Spark tests came near the
    end, and a run ended on them (3 workers: its last 7 tests ran for over 2 minutes,
    the other workers done; 2 workers: 915 s against 837 s with this order). Here each
    ``LONG_MODULES`` module goes, whole (its module fixtures are built once), to the head
    of the share of the least loaded worker, longest first; the other tests fill the shares
    in file order. One process (no xdist, or ``-n 1``): file order."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers < 2:
        return
    heads: list[list[pytest.Item]] = [[] for _ in range(workers)]
    load = [0] * workers
    modules = {item.path.name for item in items}
    for name in sorted(LONG_MODULES.keys() & modules, key=LONG_MODULES.__getitem__, reverse=True):
        least = load.index(min(load))
        heads[least] += [item for item in items if item.path.name == name]
        load[least] += LONG_MODULES[name]
    rest = iter([item for item in items if item.path.name not in LONG_MODULES])
    ordered = []
    for head, size in zip(heads, worksteal_segments(len(items), workers), strict=True):
        ordered += head + list(itertools.islice(rest, max(size - len(head), 0)))
    items[:] = ordered + list(rest)


def cadence_block(name: str) -> dict:
    """The ``cadence`` block of the repository's ``params/<name>.yaml``, for tests that
    write their own cadence file (another notebook, another timeout)."""
    import yaml

    path = Path(__file__).resolve().parents[1] / "params" / f"{name}.yaml"
    return yaml.safe_load(path.read_text())["cadence"]


def vader_probabilities(score: float | None) -> dict:
    """VADER's p_* for its compound ``score``: the one-hot of its label (negative <= -0.05,
    positive >= 0.05; SENTIMENT-CONTRACT.md), all None without a score."""
    if score is None or pd.isna(score):
        return dict.fromkeys(PROBABILITIES)
    label = 0 if score <= -0.05 else 2 if score >= 0.05 else 1
    return {p: float(i == label) for i, p in enumerate(PROBABILITIES)}


def probabilities(negative: float, neutral: float, positive: float) -> dict:
    """A row's p_* columns; ``sentiment`` = p_positive - p_negative, as an engine stores it."""
    return {
        "p_negative": negative,
        "p_neutral": neutral,
        "p_positive": positive,
        "sentiment": positive - negative,
    }


@functools.cache
def _engine() -> ibis.BaseBackend:
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'Pacific/Chatham'")  # not UTC: metrics must not depend on it
    return ibis.duckdb.from_connection(con)


def interactions_table(rows: list[dict]) -> ir.Table:
    """A new table of ``rows`` with the warehouse's columns and types, as an Ibis table.

    created_at strings are UTC; channel, brand and direction default to ``ROW_DEFAULTS``;
    a row with a ``sentiment`` and no p_* gets VADER's (``vader_probabilities``);
    first_reply_at is computed from the rows, as ingest computes it (``replies.fill``).
    """
    engine = _engine()
    name = f"interactions_{next(_TABLE_NUMBERS)}"
    columns = ", ".join(f"{c} {sql_type}" for c, sql_type in schema.TABLE_COLUMNS.items())
    engine.raw_sql(f"CREATE TABLE {name} ({columns})")
    frame = pd.DataFrame([{**ROW_DEFAULTS, **_scored(row)} for row in rows])
    if len(frame):
        frame["created_at"] = [
            stamp if stamp.tzinfo else stamp.tz_localize("UTC")
            for stamp in map(pd.Timestamp, frame["created_at"])
        ]
        con = engine.con
        con.register("batch", schema.conform(frame))
        con.execute(f"INSERT INTO {name} ({', '.join(schema.COLUMNS)}) SELECT * FROM batch")
        con.unregister("batch")
        replies.fill(con, name)
    return engine.table(name)


SYMMETRIC = Calibration.from_dict(
    {
        "classes": ["negative", "neutral", "positive"],
        # M = 0.7 I + 0.1: M^T p = q solves by hand as p = (q - 0.1) / 0.7
        "mean_posteriors": [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]],
        "confusion": [[8, 1, 1], [1, 8, 1], [1, 1, 8]],
        "train_priors": [1 / 3, 1 / 3, 1 / 3],
        "n_heldout": 30,
        "net_error": {"mean_abs": 3.0, "p90_abs": 6.0},
    }
)
"""A calibration whose PACC correction is easy by hand."""


def _scored(row: dict) -> dict:
    if "sentiment" in row and not any(p in row for p in PROBABILITIES):
        return {**row, **vader_probabilities(row["sentiment"])}
    return row


@pytest.fixture(scope="session")
def make_table() -> Iterator[Callable[[list[dict]], ir.Table]]:
    """``interactions_table``: build the ``interactions`` table of a few hand-made rows."""
    yield interactions_table
    _engine().disconnect()
    _engine.cache_clear()


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The folder of real samples (``/work/shared/data/real``); skips when absent."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"real samples not found at {REAL_DATA}")
    return REAL_DATA


@pytest.fixture(scope="session")
def load_real(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., ir.Table]:
    """Load real sample files with an adapter into a fresh warehouse; its Ibis table.

    ``load_real("twcs", ["twcs-head5k/twcs.csv"])``; skips when the adapter is missing.
    """
    from cxpulse import adapters
    from cxpulse.ingest import ingest_file
    from cxpulse.metrics import open_table

    def load(fmt: str, files: list[str], options: adapters.AdapterOptions | None = None):
        try:
            adapters.get(fmt)
        except (adapters.AdapterError, ImportError) as err:
            pytest.skip(f"adapter not available: {err}")
        path = tmp_path_factory.mktemp(fmt) / "warehouse.duckdb"
        for name in files:
            ingest_file(real_data / name, fmt, path, options)
        return open_table(path)

    return load


PARAMS = Path(__file__).resolve().parents[1] / "params"
DEMO_END = "2026-03-20T08:00"
"""A fixed end for the test demo data: runs are reproducible whatever today's date."""


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small seeded demo warehouse (40k rows ending ``DEMO_END``, and the demo's
    Instagram, Zendesk and survey exports), built once per run."""
    from cxpulse import config, demo, demo_exports
    from cxpulse.ingest import ingest_file
    from cxpulse.themes_command import fit_command

    root = tmp_path_factory.mktemp("demo")
    brand = config.load_brand(PARAMS)
    path = root / "warehouse.duckdb"
    for file in demo.write_demo(root / "files", rows=40_000, seed=11, end=DEMO_END, brand=brand):
        ingest_file(file, "canonical", path)
    exports = demo_exports.write_exports(
        root / "files", brand=brand, rows=40_000, seed=11, end=DEMO_END
    )
    for export in exports:
        ingest_file(export.path, export.fmt, path, export.options)
    fit_command(path, PARAMS)
    return path


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
"""How the browser tests launch Debian's chromium (offline, no sandbox in containers)."""


@dataclass(frozen=True)
class PageCheck:
    """What a real browser saw when it opened a report."""

    charts: list[bool]
    """One entry per chart container: True when it holds an svg or canvas."""
    errors: list[str]
    requests: list[str]


@pytest.fixture(scope="session")
def open_in_chromium() -> Callable[[Path, int], PageCheck]:
    """Open an HTML file in Debian's chromium (Playwright, no browser download), wait for
    ``charts`` interactive charts, and report what drew, what failed and what was fetched.
    Skips when chromium is not installed (``make browser`` installs it)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (make browser)")
    from playwright.sync_api import sync_playwright

    def check(path: Path, charts: int) -> PageCheck:
        errors: list[str] = []
        requests: list[str] = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(path.as_uri())
            page.wait_for_function(
                f"document.querySelectorAll('figure.cx-chart.cx-live').length === {charts}",
                timeout=30_000,
            )
            drawn = page.eval_on_selector_all(
                ".cx-vega", "els => els.map(e => !!e.querySelector('svg, canvas'))"
            )
            browser.close()
        return PageCheck(drawn, errors, requests)

    return check


# Real processes: what a killed run left behind.

CXPULSE = Path(sys.executable).with_name("cxpulse")
"""The installed ``cxpulse`` command of this environment."""


def process_state(pid: int) -> str | None:
    """The state letter of process ``pid`` (R, S, Z, ...) from /proc, or None when gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def is_running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (a zombie holds no files)."""
    return process_state(pid) not in (None, "Z", "X")


def descendants(pid: int) -> list[int]:
    """Every running process below ``pid`` (children, their children, ...), from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return [p for p in found if is_running(p)]


def all_locks_free(paths: list[Path]) -> bool:
    """True when every flock in ``paths`` can be taken, all at once (then released)."""
    with contextlib.ExitStack() as stack:
        for path in paths:
            handle = stack.enter_context(open(path, "a+"))
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
    return True


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> object:
    """Poll ``condition`` every 20 ms until it is truthy (its value), else fail saying ``what``."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"after {timeout} s: {what}")
        time.sleep(0.02)
    return value


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB tmpfs mounted in the test's folder; skips when mounting is not permitted."""
    folder = tmp_path / "tmpfs"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
