"""The Makefile: what its targets pass to the shell, run with the real `make`.

Every run uses ``-o .venv/.installed`` (the install is taken as done) and paths under the
test's own folder, so nothing here installs, renders or sends.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")


def make(*args: str, user: int | None = None) -> subprocess.CompletedProcess[str]:
    """``make ARGS`` in the repository (as ``user`` through setpriv when given)."""
    command = ["make", "--no-print-directory", "-C", str(ROOT), "-o", ".venv/.installed", *args]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "CXPULSE_"))}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def project(tmp_path: Path) -> list[str]:
    """WAREHOUSE, PARAMS and REPORTS in ``tmp_path`` (none exists: cxpulse stops at once)."""
    return [f"{name}={tmp_path / name.lower()}" for name in ("WAREHOUSE", "PARAMS", "REPORTS")]


@pytest.mark.parametrize(
    "date",
    [
        "`touch {marker}`2026-11-19",
        "$(shell touch {marker})2026-11-19",
        "2026-11-19; touch {marker}",
        "$$(touch {marker})2026-11-19",
    ],
    ids=["backticks", "make-shell", "semicolon", "dollar-paren"],
)
def test_make_daily_rejects_a_hostile_date_before_any_shell_sees_it(tmp_path, date):
    marker = tmp_path / "marker"
    run = make("daily", f"DATE={date.format(marker=marker)}", *project(tmp_path))
    assert not marker.exists()
    assert run.returncode == 2
    assert "DATE must be a day as YYYY-MM-DD, e.g. DATE=2026-11-19; got: " in run.stderr
    assert run.stdout == ""  # no recipe ran


def test_make_passes_a_valid_date_on_as_one_option():
    run = make("-n", "daily", "DATE=2026-11-19")
    assert run.returncode == 0, run.stderr
    assert " --as-of 2026-11-19 " in run.stdout


@pytest.mark.parametrize(
    "path", ["w`touch {marker}`.duckdb", "w$(shell touch {marker}).duckdb", "w;touch {marker}"]
)
def test_make_passes_a_path_on_literally_as_one_word(tmp_path, path):
    marker = tmp_path / "marker"
    warehouse = tmp_path / path.format(marker=marker)
    run = make("status", f"WAREHOUSE={warehouse}")
    assert not marker.exists()
    assert run.returncode == 2
    assert f"cxpulse status: error: {warehouse}: no warehouse here" in run.stderr


def test_make_rejects_a_path_with_a_quote_and_unknown_send_flags(tmp_path):
    run = make("-n", "status", "WAREHOUSE=it's.duckdb")
    assert run.returncode == 2
    assert "WAREHOUSE must not contain a single quote, got: it's.duckdb" in run.stderr
    marker = tmp_path / "marker"
    run = make("daily", f"SEND_FLAGS=--dry-run;touch {marker}", *project(tmp_path))
    assert run.returncode == 2 and not marker.exists()
    assert "SEND_FLAGS may hold --dry-run --force --no-render; got: --dry-run;touch" in run.stderr
    assert make("-n", "daily", "SEND_FLAGS=--dry-run --force").returncode == 0


def test_make_demo_rejects_a_demo_end_that_is_not_a_moment(tmp_path):
    marker = tmp_path / "marker"
    run = make("-n", "demo", f"DEMO_END=2026-11-20T08:00 `touch {marker}`")
    assert run.returncode == 2 and not marker.exists()
    assert "DEMO_END must be YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)" in run.stderr
    assert " --end 2026-11-20\n" in make("-n", "demo", "DEMO_END=2026-11-20").stdout


@pytest.mark.skipif(os.getuid() != 0, reason="needs root (containers run as root)")
def test_make_lab_allows_root_only_as_root():
    run = make("-n", "lab")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "'.venv/bin/jupyter' lab notebooks/ --allow-root"
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is not installed")
    nobody = make("-n", "lab", user=65534)
    assert nobody.returncode == 0, nobody.stderr
    assert "--allow-root" not in nobody.stdout


@pytest.mark.parametrize("cadence", ["monthly", "annual"])
def test_make_monthly_and_annual_send_their_cadence(cadence):
    run = make("-n", cadence, "DATE=2026-10-31")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split()[1:2] == ["send"] and run.stdout.split()[-1] == cadence
    assert " --as-of 2026-10-31 " in run.stdout


def test_make_demo_renders_all_five_cadences():
    run = make("-n", "demo")
    assert run.returncode == 0, run.stderr
    assert " run daily weekly monthly quarterly annual " in run.stdout


def test_make_test_takes_a_number_of_workers_or_auto(tmp_path):
    assert " -m pytest -n auto --dist worksteal\n" in make("-n", "test").stdout
    assert " -m pytest -n 1 --dist worksteal\n" in make("-n", "test", "TEST_WORKERS=1").stdout
    marker = tmp_path / "marker"
    run = make("test", f"TEST_WORKERS=2;touch {marker}")
    assert run.returncode == 2 and not marker.exists()
    assert "TEST_WORKERS must be a number of processes or auto" in run.stderr
