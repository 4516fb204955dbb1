"""Sentiment engines: the registry, the shipped model, the cache, rescoring, and one engine
per warehouse."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from cxpulse import config, ingest, schema, sentiment, sentiment_model, warehouse
from cxpulse.adapters import AdapterOptions

NOW = pd.Timestamp("2026-03-01T12:00", tz="UTC")
PARAMS = Path(__file__).resolve().parents[1] / "params"


def reviews_csv(path: Path, texts: list[str | None]) -> Path:
    """A reviews export (the Trustpilot columns) with one review per text."""
    rows = [
        {
            "id": f"r{i}",
            "text": t or "",
            "rating": 3,
            "title": "",
            "likes": 0,
            "published": "2026-02-01T10:00:00Z",
            "source": "https://www.trustpilot.com/review/www.northwind.com",
        }
        for i, t in enumerate(texts)
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def stored(path: Path) -> pd.DataFrame:
    con = warehouse.connect(path, read_only=True)
    try:
        return con.execute(
            "SELECT id, text, sentiment, p_negative, p_neutral, p_positive FROM interactions "
            "ORDER BY id"
        ).df()
    finally:
        con.close()


def test_registry_has_the_model_as_default_and_vader():
    assert sentiment.DEFAULT_ENGINE == "care-lr"
    assert {"care-lr", "vader"} <= set(sentiment.ENGINES)
    assert sentiment.engine_label() == f"care-lr {sentiment_model.VERSION}"
    assert sentiment.engine_label("vader").startswith("vader 3.3.2+")


def test_unknown_engine_is_refused_with_the_known_names():
    with pytest.raises(sentiment.EngineError, match="care-lr"):
        sentiment.get_engine("bert")


@pytest.mark.parametrize("engine", sorted(sentiment.ENGINES))
def test_engines_give_probabilities_that_sum_to_one_and_a_score_in_range(engine):
    scores = sentiment.score_texts(["I love this", "worst service ever", "", "my bill"], engine)
    assert np.allclose(scores[:, 1:].sum(axis=1), 1)
    assert ((scores[:, 0] >= -1) & (scores[:, 0] <= 1)).all()
    assert scores[0, 3] > scores[0, 1] and scores[1, 1] > scores[1, 3]


def test_model_score_is_p_positive_minus_p_negative():
    scores = sentiment.score_texts(["thanks, sorted in minutes", "still no refund"])
    assert np.allclose(scores[:, 0], scores[:, 3] - scores[:, 1])


def test_model_loads_from_the_package_offline_without_pickles():
    npz, info = sentiment_model.model_paths()
    assert npz.parent == Path(sentiment.__file__).parent / "data" / "sentiment"
    assert npz.stat().st_size < 5_000_000 and info.is_file()
    # a fresh process with no network route and no proxy: the model comes from the package
    code = "from cxpulse import sentiment; print(sentiment.score_texts(['thank you!'])[0, 3])"
    env = {"PATH": "/usr/bin", "HTTP_PROXY": "http://0.0.0.0:9", "HTTPS_PROXY": "http://0.0.0.0:9"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout  # fmt: skip
    assert float(out) > 0.5
    with np.load(npz, allow_pickle=False) as arrays:
        assert arrays["weights"].dtype == np.float32


@pytest.mark.parametrize("engine", sorted(sentiment.ENGINES))
def test_calibration_has_the_contract_shape(engine):
    cal = sentiment.calibration(engine)
    assert cal["classes"] == ["negative", "neutral", "positive"]
    assert np.allclose(np.sum(cal["mean_posteriors"], axis=1), 1, atol=1e-3)
    assert np.array(cal["confusion"]).shape == (3, 3)
    assert np.sum(cal["confusion"]) == cal["n_heldout"] > 1000
    assert abs(sum(cal["train_priors"]) - 1) < 1e-3
    assert set(cal["net_error"]) == {"mean_abs", "p90_abs"}


def test_ingest_fills_scores_and_records_the_engine(tmp_path):
    path = tmp_path / "w.duckdb"
    source = reviews_csv(tmp_path / "r.csv", ["awful, still waiting", None, "great help"])
    ingest.ingest_file(source, "reviews", path, AdapterOptions(), now=NOW)
    rows = stored(path)
    assert rows.loc[1, ["sentiment", "p_negative"]].isna().all()
    scored = rows.loc[[0, 2]]
    assert np.allclose(scored[["p_negative", "p_neutral", "p_positive"]].sum(axis=1), 1)
    con = warehouse.connect(path, read_only=True)
    assert warehouse.scored_by(con) == ("care-lr", sentiment_model.VERSION)
    status = warehouse.status_text(con)
    con.close()
    assert f"Sentiment scored by: care-lr {sentiment_model.VERSION}" in status


def test_cache_is_keyed_by_engine_and_version(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    rows = pd.DataFrame({"text": ["so slow, again", "so slow, again", None]}, dtype="string")
    try:
        model, scored = sentiment.attach_sentiment(con, rows)
        assert scored == 1
        lexicon, scored = sentiment.attach_sentiment(con, rows, "vader")
        assert scored == 1  # the model's score is not VADER's
        again, scored = sentiment.attach_sentiment(con, rows, "vader")
        assert scored == 0
        pd.testing.assert_frame_equal(again, lexicon)
        keys = con.execute("SELECT engine, version FROM sentiment_cache ORDER BY engine").fetchall()
        assert keys == [
            ("care-lr", sentiment_model.VERSION),
            ("vader", sentiment.vader_version()),
        ]
        assert model.loc[0, "sentiment"] != lexicon.loc[0, "sentiment"]
    finally:
        con.close()


def test_ingest_refuses_rows_from_another_engine_and_names_both_and_the_fix(tmp_path):
    path = tmp_path / "w.duckdb"
    first = reviews_csv(tmp_path / "a.csv", ["slow refund"])
    ingest.ingest_file(first, "reviews", path, AdapterOptions(), now=NOW, engine="vader")
    second = reviews_csv(tmp_path / "b.csv", ["slow refund", "fast fix"])
    with pytest.raises(sentiment.EngineError) as caught:
        ingest.ingest_file(second, "reviews", path, AdapterOptions(), now=NOW)
    message = str(caught.value)
    assert "vader" in message and "care-lr" in message
    assert "cxpulse sentiment rescore" in message
    assert len(stored(path)) == 1


def test_rescore_moves_every_row_to_the_engine_and_cache_hits_give_the_same_values(tmp_path):
    path = tmp_path / "w.duckdb"
    texts = ["slow refund", "love the new app", None, "slow refund", "bill went up"]
    source = reviews_csv(tmp_path / "a.csv", texts)
    ingest.ingest_file(source, "reviews", path, AdapterOptions(), now=NOW, engine="vader")
    stream = io.StringIO()
    updated, scored = ingest.rescore(path, "care-lr", stream=stream)
    assert (updated, scored) == (4, 3)
    assert "rescoring with care-lr" in stream.getvalue()
    rows = stored(path)
    fresh = sentiment.score_texts([t for t in texts if t])
    with_text = rows[rows["text"].notna() & (rows["text"] != "")]
    assert np.allclose(with_text[list(sentiment.SCORE_COLUMNS)].to_numpy(), fresh)
    assert rows.loc[rows["text"].fillna("") == "", "sentiment"].isna().all()
    # back to VADER: every value comes from the cache and equals the first ingest's
    updated, scored = ingest.rescore(path, "vader", stream=io.StringIO())
    assert scored == 0
    vader_rows = stored(path)
    expected = sentiment.score_texts([t for t in texts if t], "vader")
    got = vader_rows.loc[with_text.index, list(sentiment.SCORE_COLUMNS)].to_numpy()
    assert np.array_equal(got, expected)
    more = reviews_csv(tmp_path / "b.csv", ["fine"])
    ingest.ingest_file(more, "reviews", path, AdapterOptions(), now=NOW, engine="vader")


def test_an_old_warehouse_gains_the_columns_and_counts_as_raw_vader(tmp_path):
    path = tmp_path / "old.duckdb"
    old_columns = {c: t for c, t in schema.COLUMNS.items() if not c.startswith("p_")}
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE interactions (" + ", ".join(f"{c} {t}" for c, t in old_columns.items()) + ")"
    )
    con.execute("CREATE TABLE sentiment_cache (text_md5 VARCHAR, sentiment DOUBLE)")
    con.execute(
        "INSERT INTO interactions (id, channel, brand, direction, created_at, text, sentiment) "
        "VALUES ('review:1', 'review', 'B', 'inbound', '2026-01-01', '@united ok', 0.6)"
    )
    con.close()
    con = warehouse.connect(path)
    try:
        assert warehouse.scored_by(con) == warehouse.LEGACY_ENGINE
        columns = [r[0] for r in con.execute("DESCRIBE interactions").fetchall()]
        assert {"p_negative", "p_neutral", "p_positive"} <= set(columns)
    finally:
        con.close()
    source = reviews_csv(tmp_path / "a.csv", ["ok"])
    with pytest.raises(sentiment.EngineError, match="3.3.2 raw text"):
        ingest.ingest_file(source, "reviews", path, AdapterOptions(), now=NOW)
    ingest.rescore(path, stream=io.StringIO())
    ingest.ingest_file(source, "reviews", path, AdapterOptions(), now=NOW)
    rows = stored(path)
    assert len(rows) == 2 and rows["p_negative"].notna().all()


def test_brand_yaml_sentiment_section_is_validated(tmp_path):
    params = config.load_brand(PARAMS).sentiment
    assert params.engine == "care-lr"
    assert params.negative_probability <= params.strongly_negative_probability
    for bad, key in [
        ({"engine": "bert"}, "engine"),
        ({"negative_probability": 0.9, "strongly_negative_probability": 0.8}, "strongly"),
        ({"negative_probability": 1.5}, "negative_probability"),
    ]:
        with pytest.raises(ValueError, match=key):
            config.SentimentParams(**bad)


def test_brand_names_include_competitors_and_source_accounts():
    names = config.brand_names(PARAMS)
    assert {"Northwind Mobile", "Contoso Telecom", "NorthwindHelp"} <= set(names)


def test_ngrams_are_lowercased_tokens_and_neighbour_pairs():
    assert sentiment_model.ngrams("Not GOOD!! <3") == [
        "not", "good", "!", "!", "<3", "not good", "good !", "! !", "! <3",
    ]  # fmt: skip


def test_ngram_buckets_are_the_ones_the_model_was_trained_with():
    for gram, bucket in sentiment_model.PROBE.items():
        assert sentiment_model.buckets([gram]).tolist() == [bucket]
    counts = sentiment_model.counts(["ok ok", "", "fine"])
    assert counts.shape == (3, sentiment_model.N_FEATURES)
    assert counts.sum(axis=1).A1.tolist() == [3, 0, 1]  # ok, ok, "ok ok"; nothing; fine
