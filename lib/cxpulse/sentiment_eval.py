"""How well a sentiment engine agrees with people's labels. Pure numpy; no I/O.

Labels are class indices in ``CLASSES`` order (negative, neutral, positive).

- accuracy: share of texts whose engine label (argmax) is the human label;
- macro-F1: the mean over the three classes of F1 = 2 x precision x recall /
  (precision + recall) (0 for a class never predicted nor labelled);
- confusion: counts, row = human label, column = engine label;
- a group's net sentiment and its PACC-corrected shares: ``cxpulse.quantify``.
"""

from __future__ import annotations

import numpy as np

from cxpulse.quantify import CLASSES, net_sentiment, pacc


def label_index(labels: list[str]) -> np.ndarray:
    """Class index of each label (case-insensitive); ``ValueError`` naming the first bad one
    and its position otherwise."""
    lookup = {c: i for i, c in enumerate(CLASSES)}
    out = np.empty(len(labels), dtype=np.int64)
    for i, value in enumerate(labels):
        key = str(value).strip().lower()
        if key not in lookup:
            raise ValueError(f"row {i}: label {value!r}; expected one of {', '.join(CLASSES)}")
        out[i] = lookup[key]
    return out


def confusion(truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """3 x 3 counts: row = human label, column = engine label."""
    out = np.zeros((3, 3), dtype=np.int64)
    np.add.at(out, (truth, predicted), 1)
    return out


def accuracy(matrix: np.ndarray) -> float:
    """Share of texts on the diagonal of the confusion matrix."""
    total = matrix.sum()
    return float(np.trace(matrix) / total) if total else float("nan")


def macro_f1(matrix: np.ndarray) -> float:
    """Mean over classes of 2 TP / (2 TP + FP + FN) (0 when a class has no texts at all)."""
    tp = np.diag(matrix).astype(float)
    fp = matrix.sum(axis=0) - tp
    fn = matrix.sum(axis=1) - tp
    denominator = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denominator, out=np.zeros(3), where=denominator > 0)
    return float(f1.mean())


def one_hot(indices: np.ndarray) -> np.ndarray:
    """Rows of zeros with a 1 at each index (an engine without probabilities)."""
    return np.eye(3)[indices]


def mean_posteriors(truth: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Row i: the mean probabilities over texts whose human label is class i (the
    calibration matrix M; a class without texts gets its one-hot row)."""
    out = np.eye(3)
    for i in range(3):
        rows = probabilities[truth == i]
        if len(rows):
            out[i] = rows.mean(axis=0)
    return out


def net_errors(
    truth: np.ndarray,
    probabilities: np.ndarray,
    matrix: np.ndarray,
    rng: np.random.Generator,
    groups: int = 250,
    size: int = 300,
) -> list[float]:
    """Absolute errors, in net-sentiment points, of PACC on resampled groups.

    Each group draws ``size`` texts (with replacement) from the labelled ones, its class
    mix drawn from a flat Dirichlet (every mix equally likely, far from the training data's
    too); its PACC net sentiment (with ``matrix``, which should come from other texts) is
    compared with its labelled one.
    """
    by_class = [np.flatnonzero(truth == i) for i in range(3)]
    errors = []
    for _ in range(groups):
        mix = rng.dirichlet(np.ones(3))
        n = rng.multinomial(size, mix)
        rows = np.concatenate([rng.choice(by_class[i], n[i]) for i in range(3) if n[i]])
        estimate = float(net_sentiment(pacc(probabilities[rows].mean(axis=0), matrix).shares))
        actual = float(net_sentiment(n.astype(float)))
        if not np.isnan(actual) and not np.isnan(estimate):
            errors.append(abs(estimate - actual))
    return errors


def error_summary(errors: list[float]) -> dict[str, float]:
    """The mean and the 90th percentile of absolute errors, rounded to 0.01."""
    return {
        "mean_abs": round(float(np.mean(errors)), 2),
        "p90_abs": round(float(np.quantile(errors, 0.9)), 2),
    }
