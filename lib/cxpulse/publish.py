"""Publish a rendered report in one atomic step, and clean what killed runs left.

Each render is written into a folder of its own, a *version*, under
``reports/<cadence>/.versions/<label>-<id>/``. The published path
``reports/<cadence>/<label>`` is a symbolic link to the current version (relative, so the
reports folder can move), switched with one ``os.replace`` of a temporary link: a reader
of ``reports/daily/2026-03-19/report.pdf`` sees the old report or the new one, whole,
whatever moment the run is killed at. The three publishing steps are separate functions
(``link_version``, ``switch_link``, ``retire``) so that a test can kill a process between
any two of them.

A re-render of a period keeps the earlier publication: before the link is switched away
from a version, that version is marked ``superseded`` (a file inside it saying when), and
versions so marked are kept under ``.versions/`` (``cxpulse history`` names them), never
swept.

A version being written is *locked*: its process holds an ``flock`` on
``.versions/<label>-<id>.lock`` from before the folder exists until it is published or
given up. The kernel releases the lock of a killed process, so ``sweep`` (run at the start
of every render) removes what no process is writing and no link points at: unpublished
versions, stale lock files, temporary links (``.tmp-*``) and the ``.old-*`` and ``.tmp-*``
folders of the earlier two-rename publishing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("cxpulse.publish")

VERSIONS = ".versions"
"""The folder, beside the published links of a cadence, that holds every version."""
SUPERSEDED = "superseded"
"""The file inside a version that was published and then replaced: it is kept."""
LEFTOVER_PREFIXES = (".tmp-", ".old-")
"""Names of temporary entries beside the published links: removed when nobody uses them."""


@dataclass
class Version:
    """One render's own folder, locked while it is written (``lock`` is the open lock file)."""

    path: Path
    lock: int

    @property
    def lock_path(self) -> Path:
        return lock_path(self.path)

    def release(self) -> None:
        """Remove the lock file and release the lock (the version is published or gone)."""
        with contextlib.suppress(FileNotFoundError):
            self.lock_path.unlink()
        os.close(self.lock)


def lock_path(version: Path) -> Path:
    """``.versions/<name>.lock``, beside the version folder ``.versions/<name>``."""
    return version.with_name(version.name + ".lock")


def start_version(folder: Path, label: str) -> Version:
    """A new, empty, locked version of ``label`` under ``folder/.versions`` (readable by
    all: the published report is for readers). The lock is taken before the folder exists,
    so ``sweep`` never sees it unlocked."""
    versions = folder / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    while True:
        path = versions / f"{label}-{uuid.uuid4().hex[:12]}"
        lock = os.open(lock_path(path), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.fstat(lock).st_nlink:  # else a sweep removed the file before we locked it
            break
        os.close(lock)
    path.mkdir(mode=0o755)
    return Version(path, lock)


def publish_version(version: Version, final: Path) -> None:
    """Make ``final`` show ``version``, atomically; the version it showed is kept, marked
    superseded."""
    link = link_version(version, final)
    previous = switch_link(link, final)
    retire(previous, version)


def link_version(version: Version, final: Path) -> Path:
    """Step 1: a temporary link beside ``final`` to ``version`` (``.tmp-link-<version>``)."""
    link = final.with_name(f".tmp-link-{version.path.name}")
    os.symlink(Path(VERSIONS) / version.path.name, link)
    return link


def switch_link(link: Path, final: Path) -> Path | None:
    """Step 2: rename ``link`` over ``final`` (one ``os.replace``); the version ``final``
    showed before, if any, marked superseded first (so it is kept: it was published). A
    ``final`` that is still a folder (published by an older cxpulse) first becomes a
    version itself."""
    previous: Path | None = None
    if final.is_symlink():
        previous = final.parent / os.readlink(final)
    elif final.is_dir():
        previous = final.parent / VERSIONS / f"{final.name}-{uuid.uuid4().hex[:12]}"
        os.replace(final, previous)
    if previous is not None and previous.is_dir():
        mark_superseded(previous, Path(os.readlink(link)).name)
    os.replace(link, final)
    return previous


def mark_superseded(version: Path, by: str) -> None:
    """Write ``superseded`` into a published ``version``: replaced by version ``by`` (from
    this moment), kept."""
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    (version / SUPERSEDED).write_text(f"{stamp} by {by}\n", encoding="utf-8")


def superseded(version: Path) -> bool:
    """Whether ``version`` was published and then replaced (kept, never swept)."""
    return (version / SUPERSEDED).is_file()


def retire(previous: Path | None, version: Version) -> None:
    """Step 3: release ``version``'s lock (the version ``final`` showed before stays, marked
    superseded by ``switch_link``)."""
    version.release()


def give_up(version: Version, failed: Path) -> None:
    """Move a failed run's version to ``failed`` (replacing an older failure), unlocked."""
    shutil.rmtree(failed, ignore_errors=True)
    os.replace(version.path, failed)
    version.release()


def try_lock(path: Path) -> int | None:
    """The lock file ``path`` opened and locked (its descriptor), or None when it does not
    exist or a live process holds it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        os.close(fd)
        if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return None
        raise
    return fd


def is_locked(version: Path) -> bool:
    """Whether a live process holds the lock of ``version`` (a run is writing it)."""
    if not lock_path(version).exists():
        return False
    fd = try_lock(lock_path(version))
    if fd is None:
        return lock_path(version).exists()  # gone meanwhile: released, not held
    os.close(fd)
    return False


def published(folder: Path) -> set[str]:
    """Names of the versions that a link in ``folder`` points at."""
    return {
        Path(os.readlink(entry)).name
        for entry in folder.iterdir()
        if entry.is_symlink() and not entry.name.startswith(".")
    }


def sweep(folder: Path) -> list[Path]:
    """Remove from ``folder`` (``reports/<cadence>``) what killed runs left: versions no
    link points at, no process holds and that were never published (``superseded``),
    their stale lock files, temporary links and ``.tmp-*`` / ``.old-*`` folders. The paths
    removed."""
    if not folder.is_dir():
        return []
    removed: list[Path] = []
    for entry in sorted(folder.iterdir()):
        if not entry.name.startswith(LEFTOVER_PREFIXES):
            continue
        target = entry.name.removeprefix(".tmp-link-")
        if entry.is_symlink() and is_locked(folder / VERSIONS / target):
            continue  # a run about to switch this link
        remove(entry)
        removed.append(entry)
    versions = folder / VERSIONS
    entries = sorted(versions.iterdir()) if versions.is_dir() else []
    for entry in entries:
        if entry.suffix == ".lock" or not entry.is_dir():
            continue
        # In this order: a run releases its lock only after its link is switched.
        if is_locked(entry) or entry.name in published(folder) or superseded(entry):
            continue
        remove(entry)
        removed.append(entry)
    for lock in (e for e in entries if e.suffix == ".lock"):
        fd = try_lock(lock)
        if fd is None:
            continue  # held: a run is writing its version
        lock.unlink(missing_ok=True)  # while we hold it: start_version sees the unlink
        os.close(fd)
        removed.append(lock)
    if removed:
        log.info("removed %d leftover(s) of killed runs from %s", len(removed), folder)
    return removed


def remove(path: Path) -> None:
    """Remove a file, link or folder (its contents too)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
