"""VADER sentiment, scored once at ingest and cached by the MD5 of the text.

VADER's compound score is in [-1, 1]; positive >= 0.05, negative <= -0.05 (DESIGN.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

import duckdb
import pandas as pd

POSITIVE = 0.05
NEGATIVE = -0.05
_PARALLEL_FROM = 20_000
_CHUNK = 5_000

_analyzer = None


def _score_chunk(texts: Sequence[str]) -> list[float]:
    global _analyzer
    if _analyzer is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _analyzer = SentimentIntensityAnalyzer()
    return [_analyzer.polarity_scores(t)["compound"] for t in texts]


def score_texts(
    texts: Sequence[str],
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[float]:
    """VADER compound score of each text, in order; parallel across cores for big lists."""
    chunks = [texts[i : i + _CHUNK] for i in range(0, len(texts), _CHUNK)]
    workers = workers or os.cpu_count() or 1
    scores: list[float] = []
    if len(texts) < _PARALLEL_FROM or workers == 1:
        results = map(_score_chunk, chunks)
        for chunk_scores in results:
            scores.extend(chunk_scores)
            if progress:
                progress(len(chunk_scores))
        return scores
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for chunk_scores in pool.map(_score_chunk, chunks):
            scores.extend(chunk_scores)
            if progress:
                progress(len(chunk_scores))
    return scores


def label(compound: float) -> str:
    """'positive', 'negative' or 'neutral' by the VADER thresholds."""
    if compound >= POSITIVE:
        return "positive"
    if compound <= NEGATIVE:
        return "negative"
    return "neutral"


def attach_sentiment(
    con: duckdb.DuckDBPyConnection,
    rows: pd.DataFrame,
    progress: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, int]:
    """Return ``rows`` with ``sentiment`` filled from the cache, scoring texts not yet seen.

    Rows without text keep a null sentiment. New scores are added to ``sentiment_cache``
    (inside the caller's transaction). Returns the frame and how many texts were scored.
    """
    con.register("texts", pd.DataFrame({"text": rows["text"].to_numpy(), "pos": range(len(rows))}))
    try:
        missing = con.execute(
            "SELECT DISTINCT t.text FROM texts t "
            "WHERE t.text IS NOT NULL AND t.text <> '' AND md5(t.text) NOT IN "
            "(SELECT text_md5 FROM sentiment_cache)"
        ).df()["text"]
        if len(missing):
            scores = score_texts(list(missing), progress=progress)
            new = pd.DataFrame({"text": missing, "sentiment": scores})
            con.register("new_scores", new)
            con.execute("INSERT INTO sentiment_cache SELECT md5(text), sentiment FROM new_scores")
            con.unregister("new_scores")
        scored = con.execute(
            "SELECT c.sentiment FROM texts t LEFT JOIN sentiment_cache c "
            "ON c.text_md5 = md5(t.text) ORDER BY t.pos"
        ).df()["sentiment"]
    finally:
        con.unregister("texts")
    out = rows.copy()
    out["sentiment"] = scored.to_numpy()
    out["sentiment"] = out["sentiment"].astype("Float64")
    return out, len(missing)
