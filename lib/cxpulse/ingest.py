"""Load export files into the warehouse: read, validate, mask, score, store, log.

One file is one transaction: its good rows, its quarantined rows and its log entry are
committed together or not at all. The same content twice loads nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cxpulse import adapters, schema, warehouse
from cxpulse.sentiment import attach_sentiment

log = logging.getLogger(__name__)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w@])\+?\d[\d\s().-]{7,}\d(?!\w)")


@dataclass(frozen=True)
class IngestResult:
    """What loading one file did."""

    path: Path
    status: str  # loaded | skipped
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    texts_scored: int = 0
    message: str = ""

    def summary(self) -> str:
        if self.status == "skipped":
            return f"{self.path}: {self.message}"
        return (
            f"{self.path}: read {self.rows_read:,} rows: {self.inserted:,} new, "
            f"{self.updated:,} updated, {self.unchanged:,} unchanged, "
            f"{self.quarantined:,} quarantined; {self.texts_scored:,} new texts scored"
        )


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of the file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def mask_pii(text: pd.Series) -> pd.Series:
    """Replace e-mail addresses with ``[email]`` and phone numbers with ``[phone]``."""
    return text.str.replace(_EMAIL, "[email]", regex=True).str.replace(
        _PHONE, "[phone]", regex=True
    )


def _raw_json(frame: pd.DataFrame) -> pd.Series:
    cols = [c for c in frame.columns if c in schema.COLUMNS]
    records = frame[cols].astype(object).where(frame[cols].notna(), None).to_dict("records")
    return pd.Series(
        [json.dumps(r, default=str, ensure_ascii=False) for r in records], index=frame.index
    )


def prepare(
    parsed: adapters.Parsed, source_file: str, now: pd.Timestamp, floor: pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate parsed rows; return (canonical good rows, quarantine rows). Pure."""
    rows = parsed.rows
    checked = schema.validate(rows, now=now, floor=floor)
    good = checked.good.copy()
    good["text"] = mask_pii(good["text"])
    good["source_file"] = source_file
    good["ingested_at"] = now
    bad_rows = rows.loc[checked.bad.index]
    raw = bad_rows["raw"] if "raw" in bad_rows.columns else _raw_json(bad_rows)
    rejects = pd.concat(
        [
            pd.DataFrame(
                {"line": bad_rows["line"], "raw": raw, "reason": checked.bad["reason"]}
            ),
            parsed.rejects[["line", "raw", "reason"]],
        ],
        ignore_index=True,
    )
    rejects["raw"] = rejects["raw"].astype("string").map(mask_text, na_action="ignore")
    rejects["source_file"] = source_file
    rejects["quarantined_at"] = now
    return schema.conform(good), rejects


def mask_text(text: str) -> str:
    """``mask_pii`` for one string."""
    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", text))


def ingest_file(
    path: Path,
    fmt: str,
    warehouse_path: Path,
    options: adapters.AdapterOptions | None = None,
    floor: pd.Timestamp = schema.DEFAULT_FLOOR,
    now: pd.Timestamp | None = None,
) -> IngestResult:
    """Load one file into the warehouse, under the writer lock, in one transaction."""
    path = Path(path)
    options = options or adapters.AdapterOptions()
    now = now or pd.Timestamp.now(tz="UTC")
    if not path.is_file():
        raise adapters.AdapterError(f"{path}: file not found")
    sha = file_sha256(path)
    with warehouse.lock(warehouse_path):
        con = warehouse.connect(warehouse_path)
        try:
            seen = warehouse.already_ingested(con, sha)
            if seen is not None:
                return IngestResult(
                    path, "skipped", message=f"same content already loaded from {seen}; nothing to do"
                )
            parsed = adapters.read(fmt, path, options)
            good, rejects = prepare(parsed, str(path), now, floor)
            rejects["format"] = fmt
            con.execute("BEGIN TRANSACTION")
            try:
                good, scored = attach_sentiment(con, good)
                counts = warehouse.store(con, good)
                warehouse.quarantine(con, rejects)
                result = IngestResult(
                    path,
                    "loaded",
                    rows_read=len(parsed.rows) + len(parsed.rejects),
                    inserted=counts.inserted,
                    updated=counts.updated,
                    unchanged=counts.unchanged,
                    quarantined=len(rejects),
                    texts_scored=scored,
                )
                warehouse.log_ingest(
                    con,
                    {
                        "source_file": str(path),
                        "sha256": sha,
                        "format": fmt,
                        "status": "loaded",
                        "rows_read": result.rows_read,
                        "rows_inserted": result.inserted,
                        "rows_updated": result.updated,
                        "rows_unchanged": result.unchanged,
                        "rows_quarantined": result.quarantined,
                        "started_at": now,
                        "finished_at": pd.Timestamp.now(tz="UTC"),
                        "message": "",
                    },
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        finally:
            con.close()
    log.info("%s", result.summary())
    return result
