"""Files already in the canonical schema (Parquet or CSV), such as ``cxpulse demo`` writes.

Columns must be canonical names (``schema.COLUMNS``), with at least ``schema.REQUIRED``.
In a CSV, timestamps without an offset are read in the source's time zone (default UTC);
``sentiment``, ``source_file`` and ``ingested_at`` are recomputed at ingest.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cxpulse.adapters import AdapterError, AdapterOptions, Parsed, textfile
from cxpulse.adapters.fields import (
    add_reason,
    clean_text,
    is_blank,
    no_reasons,
    parse_timestamps,
    parse_whole_numbers,
)
from cxpulse.schema import COLUMNS, REQUIRED

NAME = "canonical"
EXPECTED = f"a canonical Parquet/CSV file with columns {list(COLUMNS)}"


def read(path: Path, options: AdapterOptions) -> Parsed:
    """Read a canonical Parquet file (``.parquet``) or CSV (anything else)."""
    if path.suffix == ".parquet":
        try:
            frame = pq.read_table(path).to_pandas()
        except (OSError, pa.ArrowException) as err:
            raise AdapterError(
                f"{path}: not a readable Parquet file ({err}); expected {EXPECTED}"
            ) from None
        check_columns(list(frame.columns), str(path))
        frame = frame.reset_index(drop=True)
        frame["line"] = frame.index + 1
        return Parsed(rows=frame)
    data = textfile.read_utf8(path, options.encoding, EXPECTED)
    table = textfile.parse_delimited(data, str(path), EXPECTED, options.delimiter or ",")
    check_columns(list(table.records.columns), str(path))
    rows, reasons = to_canonical(table.records, options)
    return textfile.parsed_from(table, rows, reasons)


def check_columns(columns: list[str], where: str) -> None:
    """Raise ``AdapterError`` when required columns are missing or unknown ones present."""
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise AdapterError(f"{where}: missing required column(s) {missing}; expected {EXPECTED}")
    extra = [c for c in columns if c not in COLUMNS]
    if extra:
        raise AdapterError(f"{where}: unexpected column(s) {extra}; expected only {list(COLUMNS)}")


def to_canonical(records: pd.DataFrame, options: AdapterOptions) -> tuple[pd.DataFrame, pd.Series]:
    """Typed canonical rows and reasons from canonical CSV records (text columns). Pure."""
    reasons = no_reasons(records.index)
    rows = pd.DataFrame(index=records.index)
    for column, sql_type in COLUMNS.items():
        if column not in records.columns:
            continue
        values = records[column]
        if sql_type == "TIMESTAMPTZ":
            rows[column] = parse_timestamps(values, options.zone())
            bad = rows[column].isna() & ~is_blank(values)
            reasons = add_reason(reasons, bad, f"{column}: not a timestamp")
        elif sql_type in ("TINYINT", "BIGINT"):
            rows[column], bad = parse_whole_numbers(values)
            reasons = add_reason(reasons, bad, f"{column}: not a whole number")
        elif sql_type == "DOUBLE":
            rows[column] = pd.to_numeric(clean_text(values), errors="coerce").astype("Float64")
            bad = rows[column].isna() & ~is_blank(values)
            reasons = add_reason(reasons, bad, f"{column}: not a number")
        else:
            rows[column] = values.astype("string") if column == "text" else clean_text(values)
    return rows, reasons
