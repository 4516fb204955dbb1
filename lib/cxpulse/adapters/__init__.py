"""Source-format adapters: each turns one export file into canonical rows.

An adapter module defines ``NAME`` and ``read(path, options) -> Parsed``. ``read`` raises
``AdapterError`` when the file cannot be read at all (the message names the file and what
was expected) and otherwise returns every row it saw: parseable ones as canonical rows,
unparseable ones as rejects with their line, raw text and reason. Nothing is dropped.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pandas as pd


class AdapterError(ValueError):
    """The file cannot be read as the declared format; nothing from it is loaded."""


@dataclass(frozen=True)
class AdapterOptions:
    """What an adapter may need beyond the file: a brand, the source's time zone, a mapping."""

    brand: str | None = None
    timezone: str = "UTC"
    encoding: str | None = None
    column_map: dict[str, str] = field(default_factory=dict)
    channel: str | None = None


@dataclass(frozen=True)
class Parsed:
    """One file's rows.

    ``rows``: canonical columns plus ``line`` (1-based line in the file, or record number
    for JSON) and optionally ``raw`` (the source record as text; when absent, the ingest
    step writes the row's fields as JSON for the rows it quarantines).
    ``rejects``: ``line``, ``raw``, ``reason`` for records the adapter could not parse.
    """

    rows: pd.DataFrame
    rejects: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"line": [], "raw": [], "reason": []})
    )


# name -> module under cxpulse.adapters; a new format is one module and one line here.
REGISTRY: dict[str, str] = {
    "canonical": "canonical",
}


def get(name: str) -> ModuleType:
    """The adapter module registered as ``name``."""
    if name not in REGISTRY:
        raise AdapterError(f"unknown format {name!r}; expected one of {', '.join(sorted(REGISTRY))}")
    return importlib.import_module(f"cxpulse.adapters.{REGISTRY[name]}")


def read(name: str, path: Path, options: AdapterOptions) -> Parsed:
    """Read ``path`` with the adapter registered as ``name``."""
    return get(name).read(Path(path), options)
