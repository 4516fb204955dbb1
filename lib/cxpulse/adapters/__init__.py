"""Source-format adapters: each turns one export file into canonical rows.

An adapter module defines ``NAME`` and ``read(path, options) -> Parsed``, and may define
``chunks(path, options, size, folder) -> Iterator[Parsed]``, the same records in chunks of
about ``size`` bytes of text (delimited formats; JSON formats are read whole: API pages
are small); one that reads its file twice keeps its chunks in between in ``folder``.
It may also define ``SOURCE``, ``COLUMNS`` and ``ZONE`` (where its files come from, the
columns or keys it reads, the time zone of its times) for ``cxpulse ingest
--list-formats``; adapters whose source columns are mapped in params also define
``FIELDS``, the names a ``column_map`` may use. ``read`` raises ``AdapterError`` when the
file cannot be read at all (the message names the file and what was expected) and
otherwise returns every record it saw: parseable ones as canonical rows, the others with
their line, raw text and reason. Nothing is dropped.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pandas as pd

from cxpulse.schema import DEFAULT_FLOOR


class AdapterError(ValueError):
    """The file cannot be read as the declared format; nothing from it is loaded."""


@dataclass(frozen=True)
class AdapterOptions:
    """How one source's exports are read and loaded (``params/sources.yaml``, ``--brand``).

    ``adapter``: the registered adapter to use when the source's name is not one itself.
    ``timezone``: the source's zone, for timestamps written without an offset (default:
    the zone the format documents, else UTC; never the machine's).
    ``encoding``: declared text encoding (default: UTF-8, or what a byte-order mark says).
    ``delimiter``: CSV field separator (default: the adapter's).
    ``column_map``: adapter field -> column name in the file, for mapped CSV formats.
    ``accounts``: account handle, id or review-site domain -> brand name (case-insensitive).
    ``outcomes``: call outcome as written in the file -> canonical outcome.
    ``floor``: timestamps before it are quarantined.
    ``hash_authors``: store a hash of each author id instead of the id.
    """

    brand: str | None = None
    timezone: str | None = None
    encoding: str | None = None
    column_map: dict[str, str] = field(default_factory=dict)
    channel: str | None = None
    adapter: str | None = None
    delimiter: str | None = None
    accounts: dict[str, str] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)
    floor: pd.Timestamp = DEFAULT_FLOOR
    hash_authors: bool = False

    def zone(self, default: str = "UTC") -> str:
        """The source's time zone, or ``default`` (the format's) when none is given."""
        return self.timezone or default


def empty_rejects() -> pd.DataFrame:
    """A rejects frame with no rows: ``line``, ``raw``, ``reason``."""
    return pd.DataFrame(
        {
            "line": pd.Series([], dtype="Int64"),
            "raw": pd.Series([], dtype="string"),
            "reason": pd.Series([], dtype="string"),
        }
    )


@dataclass(frozen=True)
class Parsed:
    """One file's records.

    ``rows``: canonical columns plus ``line`` (1-based physical line where the record
    starts, or the record's position for JSON), ``reason`` (why the adapter sets the row
    aside, or NA) and either ``line_end`` (last physical line; ``quote`` gives the raw text)
    or ``raw`` (the source record as text). Without both, the ingest step writes the row's
    fields as JSON for the rows it quarantines. Adapters whose ids are scoped by source
    (``fields.scoped_ids``) add ``legacy_id``, the id as it was before (``warehouse.store``
    moves rows stored under it to the new id).
    ``rejects``: ``line``, ``raw``, ``reason`` for records that could not become rows.
    ``quote``: ``quote(first, last)`` is the text of physical lines ``first..last``.
    """

    rows: pd.DataFrame
    rejects: pd.DataFrame = field(default_factory=empty_rejects)
    quote: Callable[[int, int], str] | None = None


# name -> module under cxpulse.adapters; a new format is one module and one line here.
REGISTRY: dict[str, str] = {
    "canonical": "canonical",
    "twcs": "twcs",
    "x-api": "x_api",
    "facebook": "facebook",
    "youtube": "youtube",
    "reviews": "reviews",
    "calls": "calls",
    "mentions": "mentions",
    "instagram": "instagram",
    "tickets": "tickets",
    "google-play": "google_play",
    "app-store": "app_store",
    "reddit": "reddit",
    "survey": "survey",
}


def get(name: str) -> ModuleType:
    """The adapter module registered as ``name``."""
    if name not in REGISTRY:
        raise AdapterError(
            f"unknown format {name!r}; expected one of {', '.join(sorted(REGISTRY))}"
        )
    return importlib.import_module(f"cxpulse.adapters.{REGISTRY[name]}")


def describe(name: str) -> str:
    """``name``, then its documented source, columns and time zone (an adapter's
    ``SOURCE``, ``COLUMNS``, ``ZONE``), else the first line of its docstring."""
    module = get(name)
    if not hasattr(module, "SOURCE"):
        return f"{name}: {(module.__doc__ or '').strip().splitlines()[0]}"
    return f"{name}: {module.SOURCE}\n    columns: {module.COLUMNS}\n    time zone: {module.ZONE}"


def read(name: str, path: Path, options: AdapterOptions) -> Parsed:
    """Read ``path`` with the adapter registered as ``name``."""
    return get(name).read(Path(path), options)


def chunks(
    name: str, path: Path, options: AdapterOptions, size: int, folder: Path | None = None
) -> Iterator[Parsed]:
    """Read ``path`` with the adapter registered as ``name``, in chunks of about ``size``
    bytes when it reads in chunks, else whole (one chunk). An adapter that reads a file
    twice keeps its chunks in between in ``folder`` (default: a temporary folder)."""
    module = get(name)
    if hasattr(module, "chunks"):
        return module.chunks(Path(path), options, size, folder)
    return iter([module.read(Path(path), options)])
