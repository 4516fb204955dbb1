"""Publishing: a reader always finds a whole report, whatever moment a run is killed at,
and the next run removes what a killed run left.

A real process runs the real publishing steps and is killed with SIGKILL between two of
them (its lock dies with it, as in production)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cxpulse import publish

LABEL = "2024-03-30"
FILES = ("report.ipynb", "report.html", "report.pdf", "manifest.json")
KILL_POINTS = ("writing", "written", "linked", "switched", "done")
"""Where the publishing process dies: half its files written, all written, the temporary
link made, the link switched; "done" is not killed."""

PUBLISHER = """
import os, signal, sys
from pathlib import Path
from cxpulse import publish

folder, label, kill_at, files = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]

def point(name):
    if name == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)

version = publish.start_version(folder, label)
for number, name in enumerate(files):
    if number == len(files) // 2:
        point("writing")
    (version.path / name).write_text("new")
point("written")
link = publish.link_version(version, folder / label)
point("linked")
previous = publish.switch_link(link, folder / label)
point("switched")
publish.retire(previous, version)
"""


def publish_in_a_process(folder: Path, kill_at: str) -> int:
    """Run the publishing steps in a new process killed at ``kill_at``; its return code."""
    command = [sys.executable, "-c", PUBLISHER, str(folder), LABEL, kill_at, *FILES]
    return subprocess.run(command, capture_output=True, timeout=60).returncode


def write_report(folder: Path, content: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        (folder / name).write_text(content)


def published_report(final: Path) -> str | None:
    """What the published report holds ('old', 'new'), None when nothing is published;
    fails when the report is partial or mixed."""
    if not final.exists():
        return None
    contents = {p.name: p.read_text() for p in final.iterdir()}
    assert sorted(contents) == sorted(FILES)
    (content,) = set(contents.values())
    return content


def leftovers(folder: Path) -> list[str]:
    """Everything in ``folder`` but published reports (links, or folders an earlier
    cxpulse published), the versions the links point at and the earlier publications
    kept (superseded)."""
    published = {p.name for p in folder.iterdir() if not p.name.startswith(".")}
    in_use = {os.readlink(p) for p in folder.iterdir() if p.is_symlink()}
    extra = [p.name for p in folder.iterdir() if p.name not in published | {publish.VERSIONS}]
    versions = folder / publish.VERSIONS
    if versions.exists():
        extra += [
            f"{publish.VERSIONS}/{p.name}"
            for p in versions.iterdir()
            if f"{publish.VERSIONS}/{p.name}" not in in_use and not publish.superseded(p)
        ]
    return sorted(extra)


@pytest.mark.parametrize("before", ["nothing", "a version", "a folder"])
@pytest.mark.parametrize("kill_at", KILL_POINTS)
def test_a_run_killed_at_any_step_leaves_a_whole_report_and_the_next_run_cleans_up(
    tmp_path, before, kill_at
):
    folder = tmp_path / "reports" / "daily"
    final = folder / LABEL
    if before == "a version":  # published by this code
        version = publish.start_version(folder, LABEL)
        write_report(version.path, "old")
        publish.publish_version(version, final)
    elif before == "a folder":  # published by the earlier two-rename code
        write_report(final, "old")
    old = None if before == "nothing" else "old"

    code = publish_in_a_process(folder, kill_at)

    assert code == (0 if kill_at == "done" else -signal.SIGKILL)
    switched = kill_at in ("switched", "done")
    assert published_report(final) == ("new" if switched else old)
    publish.sweep(folder)  # what the next run does first
    assert published_report(final) == ("new" if switched else old)
    assert leftovers(folder) == []
    if switched or before == "a version":
        assert final.is_symlink() and not Path(os.readlink(final)).is_absolute()
    kept = [p for p in (folder / publish.VERSIONS).iterdir() if publish.superseded(p)]
    if switched and old:  # a re-render keeps the earlier publication, whole
        (earlier,) = kept
        assert {
            p.name: p.read_text() for p in earlier.iterdir() if p.name in FILES
        } == dict.fromkeys(FILES, "old")
    else:
        assert kept == []


def test_sweep_leaves_a_version_that_a_live_run_is_writing(tmp_path):
    folder = tmp_path / "daily"
    writing = publish.start_version(folder, LABEL)
    (writing.path / "report.ipynb").write_text("half")
    publish.sweep(folder)
    assert writing.path.is_dir() and writing.lock_path.exists()
    link = publish.link_version(writing, folder / LABEL)
    publish.sweep(folder)
    assert link.is_symlink()  # about to be switched: kept
    publish.retire(publish.switch_link(link, folder / LABEL), writing)
    assert sorted(p.name for p in (folder / publish.VERSIONS).iterdir()) == [writing.path.name]


def test_sweep_removes_the_folders_of_the_earlier_two_rename_publishing(tmp_path):
    folder = tmp_path / "daily"
    write_report(folder / f".old-{LABEL}-k2j3" / LABEL, "old")
    write_report(folder / f".tmp-{LABEL}-x8a1", "half")
    write_report(folder / ".failed-2024-03-29", "failed")
    removed = publish.sweep(folder)
    assert sorted(p.name for p in removed) == [f".old-{LABEL}-k2j3", f".tmp-{LABEL}-x8a1"]
    assert sorted(p.name for p in folder.iterdir()) == [".failed-2024-03-29"]
