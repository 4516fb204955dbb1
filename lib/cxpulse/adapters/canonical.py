"""Files already in the canonical schema (Parquet or CSV), such as ``cxpulse demo`` writes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from cxpulse.adapters import AdapterError, AdapterOptions, Parsed
from cxpulse.schema import COLUMNS, REQUIRED

NAME = "canonical"


def read(path: Path, options: AdapterOptions) -> Parsed:
    """Read a canonical Parquet file (``.parquet``) or CSV (anything else)."""
    try:
        if path.suffix == ".parquet":
            frame = pq.read_table(path).to_pandas()
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise AdapterError(f"{path}: not a readable canonical Parquet/CSV file: {err}") from None
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise AdapterError(
            f"{path}: missing required column(s) {missing}; expected the canonical columns "
            f"{list(COLUMNS)}"
        )
    extra = [c for c in frame.columns if c not in COLUMNS]
    if extra:
        raise AdapterError(f"{path}: unexpected column(s) {extra}; expected only {list(COLUMNS)}")
    frame = frame.reset_index(drop=True)
    header_lines = 0 if path.suffix == ".parquet" else 1
    frame["line"] = frame.index + 1 + header_lines
    return Parsed(rows=frame)
