"""One ingest benchmark run, in a fresh process:
``probe_ingest.py FORMAT CSV WAREHOUSE [--no-rescore]``.

Loads ``CSV`` into a new warehouse with ``ingest.ingest_file`` (the path ``cxpulse ingest``
takes, scoring with the default sentiment engine; the sentiment cache starts empty) and
prints one JSON line: rows, texts scored and seconds per stage. Then (unless
``--no-rescore``: it reads every stored text into memory, which would be the peak of a
large file's run) scores the stored texts again against the now warm cache (inside a
transaction that is rolled back) and adds those seconds as ``sentiment_cached``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd

from cxpulse import ingest, sentiment, warehouse


def main(fmt: str, csv: Path, warehouse_path: Path, rescore: bool = True) -> dict:
    params = Path(__file__).resolve().parents[1] / "params"
    options = ingest.options_for(fmt, params)
    now = pd.Timestamp.now(tz="UTC")
    started = time.perf_counter()
    result = ingest.ingest_file(csv, fmt, warehouse_path, options, now=now)
    wall = time.perf_counter() - started
    if result.status != "loaded":
        raise SystemExit(f"{csv}: {result.summary()}")
    if not rescore:
        return {
            "engine": sentiment.engine_label(),
            "rows": result.rows_read,
            "stored": result.inserted,
            "quarantined": result.quarantined,
            "unique_texts_scored": result.texts_scored,
            "seconds": {**result.seconds, "wall": round(wall, 3)},
        }
    con = warehouse.connect(warehouse_path)
    reader = con.cursor()  # the texts a chunk at a time: all at once would be the peak
    try:
        reader.execute("SELECT text FROM interactions")
        con.execute("BEGIN TRANSACTION")
        start = time.perf_counter()
        texts = rescored = 0
        while len(chunk := reader.fetch_df_chunk(8)):
            rescored += sentiment.attach_sentiment(con, chunk)[1]
            texts += int(chunk["text"].notna().sum())
        cached = time.perf_counter() - start
        con.execute("ROLLBACK")
    finally:
        reader.close()
        con.close()
    return {
        "engine": sentiment.engine_label(),
        "rows": result.rows_read,
        "stored": result.inserted,
        "quarantined": result.quarantined,
        "texts": texts,
        "unique_texts_scored": result.texts_scored,
        "rescored_with_cache": rescored,
        "seconds": {**result.seconds, "wall": round(wall, 3), "sentiment_cached": round(cached, 3)},
    }


if __name__ == "__main__":
    fmt, csv, target = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    print(json.dumps(main(fmt, csv, target, rescore="--no-rescore" not in sys.argv[4:])))
