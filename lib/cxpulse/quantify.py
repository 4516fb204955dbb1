"""A group's positive / neutral / negative shares as estimates, not counts of labels.

A classifier that is right 70 % of the time still misjudges a group whose mix differs
from its training data's: its mistakes are not symmetric, so counting its labels (or
averaging its probabilities) pulls every group towards the mixes it has seen. Write
``M`` for the engine's calibration matrix, measured on held-out labelled texts: row i is
the mean of (p_negative, p_neutral, p_positive) over texts whose human label is class i.
A group whose true class shares are ``pi`` then has mean probabilities ``q = M^T pi`` in
expectation, whatever its mix; solving that for ``pi`` is probabilistic adjusted
classify-and-count (PACC; Bella, Ferri, Hernandez-Orallo & Ramirez-Quintana 2010,
"Quantification via probability estimators", ICDM).

PACC needs only each group's mean probabilities, so the engine computes per-group
aggregates (count, sums and sums of squares of p_*) in SQL and nothing row by row
reaches pandas. ``em_priors`` (Saerens, Latinne & Decaestecker 2002) re-weights the
class priors from row-level probabilities instead, for tools that hold the rows (the
evaluate command). Pure numpy; classes always in ``CLASSES`` order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

CLASSES: tuple[str, ...] = ("negative", "neutral", "positive")
NEGATIVE, NEUTRAL, POSITIVE = range(3)

ROW_SUM_TOLERANCE = 0.01
"""How far a calibration row (or the train priors) may sum from 1 (JSON rounding)."""

MAX_CONDITION = 100.0
"""Largest condition number of ``M`` that PACC inverts. Beyond it an error of one point
in the mean probabilities can become a hundred in the shares: the classes are not told
apart well enough to correct, and the uncorrected means are returned, flagged."""

Z90 = 1.6448536269514722
"""The standard normal quantile of 0.95: a two-sided 90 % interval is mean +- Z90 x se."""


def _matrix(value: object, key: str, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` as a finite float array of ``shape``, or ``ValueError`` naming ``key``."""
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"calibration: key {key!r} must be numbers, got {value!r}") from None
    if array.shape != shape:
        raise ValueError(f"calibration: key {key!r} must have shape {shape}, got {array.shape}")
    if not np.isfinite(array).all() or (array < 0).any():
        raise ValueError(f"calibration: key {key!r} must hold finite numbers >= 0")
    return array


def _sums_to_one(array: np.ndarray, key: str) -> None:
    sums = np.atleast_1d(array.sum(axis=-1))
    bad = np.flatnonzero(np.abs(sums - 1) > ROW_SUM_TOLERANCE)
    if len(bad):
        where = f" row {bad[0]}" if array.ndim == 2 else ""
        raise ValueError(f"calibration: key {key!r}{where} sums to {sums[bad[0]]:.4f}; expected 1")


@dataclass(frozen=True)
class Calibration:
    """How an engine's probabilities relate to people's labels (SENTIMENT-CONTRACT.md).

    ``mean_posteriors`` row i = mean (p_negative, p_neutral, p_positive) over held-out
    texts whose human label is ``CLASSES[i]``; ``confusion`` = counts, row = human label,
    column = the engine's argmax label; ``train_priors`` = class shares of the data the
    engine was fitted on; ``net_mean_abs`` and ``net_p90_abs`` = mean and 90th-percentile
    absolute error, in net-sentiment points, of PACC on held-out groups.
    """

    mean_posteriors: tuple[tuple[float, float, float], ...]
    confusion: tuple[tuple[float, float, float], ...]
    train_priors: tuple[float, float, float]
    n_heldout: int
    net_mean_abs: float
    net_p90_abs: float

    @classmethod
    def from_dict(cls, d: Mapping) -> Calibration:
        """The calibration of the contract's dict; ``ValueError`` naming the key that is
        missing or wrong."""
        keys = ("classes", "mean_posteriors", "confusion", "train_priors", "n_heldout")
        missing = [k for k in (*keys, "net_error") if k not in d]
        if missing:
            raise ValueError(f"calibration: missing key(s) {missing}")
        if list(d["classes"]) != list(CLASSES):
            raise ValueError(
                f"calibration: key 'classes' must be {list(CLASSES)}, got {d['classes']!r}"
            )
        means = _matrix(d["mean_posteriors"], "mean_posteriors", (3, 3))
        _sums_to_one(means, "mean_posteriors")
        confusion = _matrix(d["confusion"], "confusion", (3, 3))
        priors = _matrix(d["train_priors"], "train_priors", (3,))
        _sums_to_one(priors, "train_priors")
        n = d["n_heldout"]
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"calibration: key 'n_heldout' must be a count >= 0, got {n!r}")
        error = d["net_error"]
        if not isinstance(error, Mapping) or not {"mean_abs", "p90_abs"} <= set(error):
            raise ValueError("calibration: key 'net_error' must hold 'mean_abs' and 'p90_abs'")
        mean_abs = float(_matrix(error["mean_abs"], "net_error.mean_abs", ()))
        p90_abs = float(_matrix(error["p90_abs"], "net_error.p90_abs", ()))
        return cls(
            mean_posteriors=tuple(tuple(map(float, row)) for row in means),
            confusion=tuple(tuple(map(float, row)) for row in confusion),
            train_priors=tuple(map(float, priors)),
            n_heldout=n,
            net_mean_abs=mean_abs,
            net_p90_abs=p90_abs,
        )

    @property
    def matrix(self) -> np.ndarray:
        """``M`` (3 x 3): row = true class, column = mean probability of each class."""
        return np.array(self.mean_posteriors)


def correction(calibration: Calibration | ArrayLike | None) -> np.ndarray | None:
    """``(M^T)^-1``, the linear map PACC applies to mean probabilities (``calibration``: a
    Calibration or its matrix M); None when there is no calibration or ``M`` is singular or
    worse conditioned than ``MAX_CONDITION``."""
    if calibration is None:
        return None
    m = calibration.matrix if isinstance(calibration, Calibration) else np.asarray(calibration)
    if not np.linalg.cond(m) <= MAX_CONDITION:  # also catches inf and nan
        return None
    return np.linalg.inv(m.T)


def _clip_to_simplex(raw: np.ndarray) -> np.ndarray:
    clipped = np.clip(raw, 0.0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        return clipped / clipped.sum(axis=-1, keepdims=True)


@dataclass(frozen=True, eq=False)
class Pacc:
    """Estimated class shares (..., 3), and whether PACC corrected them."""

    shares: np.ndarray
    corrected: bool
    """False when the calibration is singular or ill-conditioned: ``shares`` are then
    the mean probabilities as given."""


def pacc(mean_posteriors: ArrayLike, calibration: Calibration | ArrayLike) -> Pacc:
    """Class shares of a group (or of each row of groups) from its mean probabilities.

    Solves ``M^T p = q`` for p, clips it to p >= 0 and renormalises it to sum to 1 (the
    solution already sums to 1 when M's rows do; clipping may not). Falls back to q,
    with ``corrected`` False, when ``correction`` refuses M. A group with no
    probabilities (NaN) gets NaN shares.
    """
    q = np.asarray(mean_posteriors, dtype=float)
    inverse = correction(calibration)
    if inverse is None:
        return Pacc(q, corrected=False)
    return Pacc(_clip_to_simplex(q @ inverse.T), corrected=True)


@dataclass(frozen=True, eq=False)
class EmPriors:
    """The outcome of ``em_priors``."""

    priors: np.ndarray
    """Estimated class shares of the rows (3,)."""
    posteriors: np.ndarray
    """The rows' probabilities re-weighted to those priors (n, 3)."""
    iterations: int
    converged: bool


def em_priors(
    posteriors: ArrayLike,
    train_priors: ArrayLike,
    tolerance: float = 1e-6,
    max_iterations: int = 1000,
) -> EmPriors:
    """Class shares of a set of rows by EM re-weighting of the priors (Saerens, Latinne &
    Decaestecker 2002, "Adjusting the outputs of a classifier to new a priori
    probabilities", Neural Computation 14).

    Starting from ``train_priors``, repeat: re-weight each row's probabilities by
    prior / train prior and renormalise (Bayes' rule under the new priors); the new
    priors are the mean of the re-weighted rows. Stops when no prior moves more than
    ``tolerance`` or after ``max_iterations`` (``converged`` False). Assumes the
    probabilities are calibrated on data with ``train_priors`` (each > 0).
    """
    p = np.asarray(posteriors, dtype=float)
    train = np.asarray(train_priors, dtype=float)
    if p.ndim != 2 or p.shape[1] != len(CLASSES) or len(p) == 0:
        raise ValueError(f"posteriors must be a non-empty (n, 3) array, got shape {p.shape}")
    if train.shape != (3,) or not (train > 0).all():
        raise ValueError(f"train_priors must be 3 shares > 0, got {train_priors!r}")
    priors = train / train.sum()
    weighted = p
    for iteration in range(1, max_iterations + 1):
        weighted = p * (priors / train)
        weighted = weighted / weighted.sum(axis=1, keepdims=True)
        updated = weighted.mean(axis=0)
        moved = np.abs(updated - priors).max()
        priors = updated
        if moved < tolerance:
            return EmPriors(priors, weighted, iteration, converged=True)
    return EmPriors(priors, weighted, max_iterations, converged=False)


def net_sentiment(shares: ArrayLike) -> np.ndarray:
    """(positive - negative) / (positive + negative) x 100, points in [-100, 100], of
    shares (..., 3) in ``CLASSES`` order; NaN when positive + negative is 0."""
    s = np.asarray(shares, dtype=float)
    pos, neg = s[..., POSITIVE], s[..., NEGATIVE]
    voiced = pos + neg
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(voiced > 0, (pos - neg) / voiced * 100, np.nan)


@dataclass(frozen=True, eq=False)
class GroupEstimate:
    """Shares, net sentiment and its 90 % interval of each group (``estimate_groups``)."""

    shares: np.ndarray
    """(g, 3) estimated class shares, ``CLASSES`` order."""
    net: np.ndarray
    net_low: np.ndarray
    net_high: np.ndarray
    net_chance: np.ndarray
    """Half-width of the sampling part of the interval alone: how far the figure moves by
    chance between two periods scored by the same engine, whose calibration error is a bias
    both share and a change cancels (``narrative.noise_margin``)."""
    corrected: bool
    """False when there was no calibration, or PACC refused it (``correction``)."""


def _row_covariance(count: np.ndarray, sums: np.ndarray, sums_sq: np.ndarray) -> np.ndarray:
    """(g, 3, 3) sample covariance of one row's (p_negative, p_neutral, p_positive).

    Only the variances come from the aggregates; the covariances follow because every
    row sums to 1: Var(a + b) = Var(c), so Cov(a, b) = (Var(c) - Var(a) - Var(b)) / 2.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (sums_sq - sums**2 / count[:, None]) / (count[:, None] - 1)
    var = np.clip(var, 0.0, None)
    total = var.sum(axis=1, keepdims=True)
    cov = (total[:, :, None] - 2 * var[:, :, None] - 2 * var[:, None, :]) / 2
    diagonal = np.arange(3)
    cov[:, diagonal, diagonal] = var
    return cov


def _net_gradient(shares: np.ndarray) -> np.ndarray:
    """(g, 3) gradient of net sentiment (points) with respect to the shares."""
    neg, pos = shares[:, NEGATIVE], shares[:, POSITIVE]
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = 200 / (neg + pos) ** 2
        return np.stack([-pos * scale, np.zeros_like(neg), neg * scale], axis=1)


def estimate_groups(
    count: ArrayLike,
    sums: ArrayLike,
    sums_sq: ArrayLike,
    calibration: Calibration | None = None,
) -> GroupEstimate:
    """Each group's shares (PACC; the plain mean of probabilities without a calibration)
    and net sentiment with a 90 % interval, from its aggregates: ``count`` (g,) rows,
    ``sums`` and ``sums_sq`` (g, 3) of (p_negative, p_neutral, p_positive) and of their
    squares.

    The interval combines two errors in quadrature:

    - sampling: the delta method through the linear solve. The mean probabilities q
      have covariance S / n (S from the sums of squares, ``_row_covariance``); the shares
      p = A q (A = ``correction``, the identity without one) have A S A^T / n; net
      sentiment's variance is g^T A S A^T g / n with g its gradient at p; half-width
      ``Z90`` x its root. Chosen over a bootstrap because it needs only the aggregates
      the engine computes in SQL, is deterministic (a report reads the same every run)
      and costs nothing for thousands of groups; it is least exact for tiny groups
      and for shares clipped at 0, where the interval is approximate.
    - the engine: ``net_p90_abs`` of the calibration, the 90th percentile of PACC's
      error on held-out groups (none without a calibration; kept, as a floor, when PACC
      refuses the calibration and the shares are uncorrected).

    Bounds are clipped to [-100, 100]; NaN when the net is NaN or count < 2.
    """
    n = np.asarray(count, dtype=float).reshape(-1)
    s = np.asarray(sums, dtype=float).reshape(-1, 3)
    ss = np.asarray(sums_sq, dtype=float).reshape(-1, 3)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = s / n[:, None]
    inverse = correction(calibration)
    a = np.eye(3) if inverse is None else inverse
    shares = _clip_to_simplex(q @ a.T)
    net = net_sentiment(shares)
    cov = a @ _row_covariance(n, s, ss) @ a.T
    gradient = _net_gradient(shares)
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = np.einsum("gi,gij,gj->g", gradient, cov, gradient) / n
    sampling = Z90 * np.sqrt(np.clip(variance, 0.0, None))
    engine = 0.0 if calibration is None else calibration.net_p90_abs
    half = np.hypot(sampling, engine)
    half = np.where(n >= 2, half, np.nan)
    return GroupEstimate(
        shares=shares,
        net=net,
        net_low=np.clip(net - half, -100, 100),
        net_high=np.clip(net + half, -100, 100),
        net_chance=np.where(n >= 2, sampling, np.nan),
        corrected=inverse is not None,
    )
