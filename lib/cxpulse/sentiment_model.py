"""The care-text sentiment model at run time: hashed word n-grams, TF-IDF, a linear softmax.

A text (already cleaned by ``textclean``) becomes counts of its lower-cased tokens
(``TOKEN_PATTERN``) and token pairs, each hashed into one of ``N_FEATURES`` buckets
(pandas' ``hash_array``, SipHash-2-4 with a fixed key, modulo ``N_FEATURES``: no vocabulary
to ship, the same bucket for the same word on every machine; ``PROBE`` pins a few buckets
and ``load`` refuses a model whose buckets this machine would not reproduce). Each count
c becomes ``(1 + ln c) x idf`` of its bucket, the row is scaled to unit length, and the
class probabilities are ``softmax(x W + b)`` over (negative, neutral, positive).

The trained arrays (``idf``, ``W``, ``b``) ship as a numpy ``.npz`` beside a JSON of how
they were made and measured (``cxpulse.sentiment_train`` writes both); loading them needs
numpy only, never a pickle, and scoring needs numpy and scipy's sparse matrices, not
scikit-learn (whose import alone takes 1 to 3 s). Word n-grams and not character n-grams:
characters gain about 0.015 macro-F1 on SemEval but score six times slower than the
20,000 texts a second ingest needs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy import sparse

NAME = "care-lr"
VERSION = "2026.12"
N_FEATURES = 2**18
NGRAMS = (1, 2)
TOKEN_PATTERN = r"(?u)\b\w[\w']*\b|[!?]|<3|[:;]-?[()\]\[DPp/\\|]"
"""Words (with inner apostrophes: ``don't``), ``!``, ``?``, the heart ``<3`` and the
common emoticons: each is a token."""


def model_dir() -> Path:
    """The folder in the package that holds the shipped models and their evaluations."""
    return Path(str(resources.files("cxpulse") / "data" / "sentiment"))


def model_paths(version: str = VERSION, folder: Path | None = None) -> tuple[Path, Path]:
    """(arrays ``.npz``, evaluation ``.json``) of a model version."""
    folder = folder or model_dir()
    return folder / f"{NAME}-{version}.npz", folder / f"{NAME}-{version}.json"


_TOKEN = re.compile(TOKEN_PATTERN)
PROBE = {"sorry": 38607, "not good": 35952, "<3": 192209}
"""Buckets of a few n-grams as the model was trained: ``load`` checks them."""


def ngrams(text: str) -> list[str]:
    """The lower-cased tokens of ``text`` and each pair of neighbours, joined by a space."""
    tokens = _TOKEN.findall(text.lower())
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def buckets(grams: list[str]) -> np.ndarray:
    """The bucket of each n-gram: its SipHash (pandas ``hash_array``) modulo N_FEATURES."""
    import pandas as pd

    if not grams:
        return np.zeros(0, dtype=np.int64)
    hashed = pd.util.hash_array(np.array(grams, dtype=object), categorize=False)
    return (hashed % np.uint64(N_FEATURES)).astype(np.int64)


def counts(texts: list[str]) -> sparse.csr_matrix:
    """Hashed n-gram counts of ``texts``, one row each (float32)."""
    from scipy import sparse

    per_text = [ngrams(t) for t in texts]
    lengths = np.fromiter(map(len, per_text), dtype=np.int64, count=len(per_text))
    rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    keys = rows * N_FEATURES + buckets([g for grams in per_text for g in grams])
    keys, values = np.unique(keys, return_counts=True)
    indptr = np.searchsorted(keys // N_FEATURES, np.arange(len(texts) + 1))
    return sparse.csr_matrix(
        (values.astype(np.float32), keys % N_FEATURES, indptr), shape=(len(texts), N_FEATURES)
    )


def weigh(matrix: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """TF-IDF rows of unit length: each count c becomes (1 + ln c) x idf, then each row is
    divided by its Euclidean norm (rows without tokens stay zero)."""
    from scipy import sparse

    out = matrix.copy()
    out.data = (1.0 + np.log(out.data)) * idf[out.indices]
    squares = out.copy()
    squares.data **= 2
    norms = np.sqrt(np.asarray(squares.sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.diags(1.0 / norms).astype(np.float32) @ out


def fit_idf(matrix: sparse.csr_matrix) -> np.ndarray:
    """Smoothed inverse document frequency of each bucket: ln((1 + n) / (1 + df)) + 1."""
    n = matrix.shape[0]
    df = np.bincount(matrix.indices, minlength=matrix.shape[1])
    return (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    scores = scores - scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    return scores / scores.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Model:
    """Trained arrays: ``idf`` (n_features), ``weights`` (n_features x 3), ``bias`` (3)."""

    idf: np.ndarray
    weights: np.ndarray
    bias: np.ndarray
    info: dict

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """(p_negative, p_neutral, p_positive) of each cleaned text, one row each."""
        if not texts:
            return np.zeros((0, 3))
        features = weigh(counts(texts), self.idf)
        return softmax(np.asarray(features @ self.weights, dtype=np.float64) + self.bias)


def save(model: Model, npz: Path) -> None:
    """Write the arrays (float32, compressed) and the info JSON beside them."""
    npz.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        npz,
        idf=model.idf.astype(np.float32),
        weights=model.weights.astype(np.float32),
        bias=model.bias.astype(np.float32),
    )
    npz.with_suffix(".json").write_text(json.dumps(model.info, indent=1) + "\n")


def load(version: str = VERSION, folder: Path | None = None) -> Model:
    """The model shipped in the package (or in ``folder``); numpy only, no pickle."""
    npz, info = model_paths(version, folder)
    if not npz.is_file():
        raise FileNotFoundError(f"{npz}: no sentiment model here; run 'make sentiment-model'")
    moved = {g: b for g, b in PROBE.items() if buckets([g])[0] != b}
    if moved:
        raise RuntimeError(
            f"{npz}: this machine hashes n-grams into other buckets than the model was "
            f"trained with ({moved}); the pandas version differs from constraints.txt"
        )
    with np.load(npz, allow_pickle=False) as arrays:
        return Model(
            idf=arrays["idf"],
            weights=arrays["weights"],
            bias=arrays["bias"].astype(np.float64),
            info=json.loads(info.read_text()),
        )
