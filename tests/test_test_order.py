"""``make test`` spreads the long test modules over the xdist workers (conftest)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from conftest import pytest_collection_modifyitems, worksteal_segments


def items(*modules: tuple[str, int]) -> list[SimpleNamespace]:
    return [
        SimpleNamespace(path=Path("tests") / name, nodeid=f"{name}::{n}")
        for name, count in modules
        for n in range(count)
    ]


def test_worksteal_deals_what_is_left_over_the_workers_left():
    assert worksteal_segments(11, 2) == [5, 6]
    assert worksteal_segments(10, 3) == [3, 3, 4]
    assert sum(worksteal_segments(1089, 2)) == 1089


def test_each_worker_starts_on_a_long_module_and_every_test_runs_once(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    collected = items(
        ("test_a.py", 3), ("test_crash.py", 1), ("test_spark.py", 2), ("test_z.py", 5)
    )
    order = list(collected)
    pytest_collection_modifyitems(None, order)
    names = [i.nodeid for i in order]
    assert sorted(names) == sorted(i.nodeid for i in collected)
    first, second = names[:5], names[5:]  # worksteal's first deal: 5 and 6 tests
    assert first == ["test_spark.py::0", "test_spark.py::1", "test_a.py::0", "test_a.py::1",
                     "test_a.py::2"]  # fmt: skip
    assert second == ["test_crash.py::0"] + [f"test_z.py::{n}" for n in range(5)]


def test_one_process_keeps_file_order(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "1")
    collected = items(("test_a.py", 2), ("test_spark.py", 2))
    order = list(collected)
    pytest_collection_modifyitems(None, order)
    assert order == collected
