"""Quantification on synthetic groups whose true mix is known.

A group is drawn from a known calibration ``M``: true labels with a given mix, then each
row's probabilities from a Dirichlet whose mean is the row of ``M`` for its label (so
the group's mean probabilities are ``M^T mix`` in expectation, as PACC assumes).
"""

import math

import numpy as np
import pytest

from cxpulse import quantify
from cxpulse.quantify import Calibration, em_priors, estimate_groups, net_sentiment, pacc

M = np.array([[0.70, 0.20, 0.10], [0.25, 0.50, 0.25], [0.10, 0.20, 0.70]])
TRAIN_PRIORS = np.array([0.3, 0.4, 0.3])
CONCENTRATION = 4.0
NEAR = np.array([0.3, 0.4, 0.3])
FAR = np.array([0.8, 0.15, 0.05])  # a care inbox: mostly complaints


def contract(means=M, p90_abs=0.0, **changes) -> dict:
    d = {
        "classes": ["negative", "neutral", "positive"],
        "mean_posteriors": np.asarray(means).tolist(),
        "confusion": [[70, 20, 10], [25, 50, 25], [10, 20, 70]],
        "train_priors": TRAIN_PRIORS.tolist(),
        "n_heldout": 300,
        "net_error": {"mean_abs": p90_abs / 2, "p90_abs": p90_abs},
    }
    return {**d, **changes}


CALIBRATION = Calibration.from_dict(contract())


def draw(rng: np.random.Generator, mix: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """True labels (n,) with ``mix``; probabilities (n, 3) from Dirichlets of mean M[label]."""
    labels = rng.choice(3, size=n, p=mix)
    probabilities = np.empty((n, 3))
    for k in range(3):
        rows = labels == k
        probabilities[rows] = rng.dirichlet(CONCENTRATION * M[k], size=rows.sum())
    return labels, probabilities


def calibrated(rng: np.random.Generator, mix: np.ndarray, n: int) -> np.ndarray:
    """Probabilities that are calibrated for ``TRAIN_PRIORS`` (EM's assumption): Bayes'
    rule over the class-conditional Dirichlet densities of ``draw``'s scores."""
    _, scores = draw(rng, mix, n)
    scores = np.clip(scores, 1e-12, None)
    alphas = CONCENTRATION * M
    log_density = np.stack(
        [
            math.lgamma(a.sum()) - sum(map(math.lgamma, a)) + (np.log(scores) * (a - 1)).sum(1)
            for a in alphas
        ],
        axis=1,
    )
    log_joint = log_density + np.log(TRAIN_PRIORS)
    joint = np.exp(log_joint - log_joint.max(axis=1, keepdims=True))
    return joint / joint.sum(axis=1, keepdims=True)


def classify_and_count(probabilities: np.ndarray) -> np.ndarray:
    return np.bincount(probabilities.argmax(axis=1), minlength=3) / len(probabilities)


def test_calibration_reads_the_contracts_dict():
    c = Calibration.from_dict(contract(p90_abs=8.0))
    np.testing.assert_allclose(c.matrix, M)
    assert c.train_priors == (0.3, 0.4, 0.3) and c.n_heldout == 300
    assert (c.net_mean_abs, c.net_p90_abs) == (4.0, 8.0)
    assert c == Calibration.from_dict(contract(p90_abs=8.0))  # frozen, comparable


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"classes": ["positive", "neutral", "negative"]}, "key 'classes' must be"),
        ({"mean_posteriors": [[1, 0], [0, 1]]}, r"'mean_posteriors' must have shape \(3, 3\)"),
        (
            {"mean_posteriors": [[0.7, 0.2, 0.1], [0.2, 0.5, 0.2], [0.1, 0.2, 0.7]]},
            "'mean_posteriors' row 1 sums to 0.9000; expected 1",
        ),
        ({"train_priors": [0.5, 0.5, 0.5]}, "'train_priors' sums to 1.5000"),
        ({"confusion": [[1, 2, 3], [4, 5, 6], [7, 8, -1]]}, "'confusion' must hold finite"),
        ({"n_heldout": 12.5}, "'n_heldout' must be a count"),
        ({"net_error": {"mean_abs": 4.0}}, "'net_error' must hold 'mean_abs' and 'p90_abs'"),
    ],
)
def test_calibration_refuses_a_wrong_dict_naming_the_key(change, message):
    with pytest.raises(ValueError, match=message):
        Calibration.from_dict(contract(**change))


def test_calibration_missing_key_is_named():
    d = contract()
    del d["train_priors"]
    with pytest.raises(ValueError, match=r"missing key\(s\) \['train_priors'\]"):
        Calibration.from_dict(d)


@pytest.mark.parametrize("mix", [NEAR, FAR], ids=["near", "far"])
def test_pacc_recovers_the_mix_near_and_far_from_the_training_priors(mix):
    _, probabilities = draw(np.random.default_rng(1), mix, 20_000)
    estimate = pacc(probabilities.mean(axis=0), CALIBRATION)
    assert estimate.corrected
    np.testing.assert_allclose(estimate.shares, mix, atol=0.015)
    assert abs(net_sentiment(estimate.shares) - net_sentiment(mix)) < 3


def test_counting_labels_is_far_off_where_pacc_is_not():
    _, probabilities = draw(np.random.default_rng(2), FAR, 20_000)
    counted = classify_and_count(probabilities)
    mean = probabilities.mean(axis=0)
    corrected = pacc(mean, CALIBRATION).shares
    assert abs(counted[0] - FAR[0]) > 0.05  # 72% negative counted, 80% true
    assert abs(mean[0] - FAR[0]) > 0.15  # the plain mean of probabilities: 60%
    assert abs(corrected[0] - FAR[0]) < 0.015
    assert abs(net_sentiment(counted) - net_sentiment(FAR)) > 8
    assert abs(net_sentiment(corrected) - net_sentiment(FAR)) < 2


def test_pacc_clips_an_impossible_solution_to_shares():
    # mean probabilities below what even an all-negative group gives
    estimate = pacc([0.95, 0.04, 0.01], CALIBRATION)
    assert (estimate.shares >= 0).all() and estimate.shares.sum() == pytest.approx(1)
    assert estimate.shares[0] == pytest.approx(1, abs=1e-9)


def test_singular_calibration_falls_back_to_the_mean_probabilities_with_a_flag():
    same_rows = Calibration.from_dict(contract(means=[[0.4, 0.3, 0.3]] * 3))
    estimate = pacc([0.5, 0.2, 0.3], same_rows)
    assert estimate.corrected is False
    np.testing.assert_allclose(estimate.shares, [0.5, 0.2, 0.3])
    groups = estimate_groups([10], [[5, 2, 3]], [[3, 1, 1.5]], same_rows)
    assert groups.corrected is False
    np.testing.assert_allclose(groups.shares, [[0.5, 0.2, 0.3]])


def test_ill_conditioned_calibration_falls_back_too():
    # Eigenvalues 1 and 0.335 - 0.3325 = 0.0025 (twice): a condition number of 400, well
    # past the limit (0.34/0.33 gave exactly 100, which rounding put on either side).
    near_singular = [[0.335, 0.3325, 0.3325], [0.3325, 0.335, 0.3325], [0.3325, 0.3325, 0.335]]
    assert np.linalg.cond(np.array(near_singular)) == pytest.approx(400)
    assert np.linalg.cond(np.array(near_singular)) > quantify.MAX_CONDITION
    estimate = pacc([0.5, 0.2, 0.3], Calibration.from_dict(contract(means=near_singular)))
    assert estimate.corrected is False


@pytest.mark.parametrize("mix", [NEAR, FAR], ids=["near", "far"])
def test_em_priors_recover_the_mix_from_calibrated_probabilities(mix):
    probabilities = calibrated(np.random.default_rng(3), mix, 20_000)
    result = em_priors(probabilities, TRAIN_PRIORS)
    assert result.converged and result.iterations < 100
    np.testing.assert_allclose(result.priors, mix, atol=0.015)
    np.testing.assert_allclose(result.posteriors.sum(axis=1), 1)
    if mix is FAR:
        assert abs(classify_and_count(probabilities)[0] - mix[0]) > 0.1


def test_em_priors_stop_at_the_iteration_cap():
    probabilities = calibrated(np.random.default_rng(4), FAR, 2_000)
    result = em_priors(probabilities, TRAIN_PRIORS, max_iterations=2)
    assert (result.iterations, result.converged) == (2, False)


def test_em_priors_refuse_a_zero_training_prior():
    with pytest.raises(ValueError, match="train_priors must be 3 shares > 0"):
        em_priors([[0.2, 0.3, 0.5]], [0.5, 0.5, 0.0])


def test_net_sentiment_is_points_and_null_without_positive_or_negative():
    assert net_sentiment([0.5, 0.25, 0.25]) == pytest.approx(-100 / 3)
    assert net_sentiment([0.0, 0.3, 0.7]) == 100
    assert math.isnan(net_sentiment([0.0, 1.0, 0.0]))
    np.testing.assert_allclose(net_sentiment([[0.25, 0.5, 0.25], [np.nan] * 3]), [0.0, np.nan])


def test_interval_of_a_small_group_by_hand():
    # 4 messages scored one-hot: negative, neutral, positive, positive; no calibration.
    est = estimate_groups([4], [[1, 1, 2]], [[1, 1, 2]])
    # variances (Q - S^2/n) / (n - 1): 0.25, 0.25, 1/3; cov(neg, pos) = (0.25 - 0.25 - 1/3) / 2
    # net = (0.5 - 0.25) / 0.75 x 100; gradient (-200 P, 0, 200 N) / (N + P)^2
    d_neg, d_pos = -200 * 0.5 / 0.75**2, 200 * 0.25 / 0.75**2
    variance = (d_neg**2 * 0.25 + d_pos**2 / 3 + 2 * d_neg * d_pos * (-1 / 6)) / 4
    half = 1.6448536 * math.sqrt(variance)
    assert est.net[0] == pytest.approx(100 / 3)
    assert est.net_low[0] == pytest.approx(100 / 3 - half)
    assert est.net_high[0] == 100  # clipped
    assert est.corrected is False


def test_engine_error_widens_the_interval_in_quadrature():
    _, probabilities = draw(np.random.default_rng(5), FAR, 400)
    aggregates = ([400], [probabilities.sum(0)], [(probabilities**2).sum(0)])
    exact = estimate_groups(*aggregates, CALIBRATION)
    rough = estimate_groups(*aggregates, Calibration.from_dict(contract(p90_abs=8.0)))
    sampling = exact.net_high[0] - exact.net[0]
    assert rough.net_high[0] - rough.net[0] == pytest.approx(math.hypot(sampling, 8.0))
    assert rough.net[0] == exact.net[0]
    assert rough.net_chance[0] == pytest.approx(sampling)  # the sampling part alone


def test_groups_from_aggregates_match_pacc_of_their_mean():
    rng = np.random.default_rng(6)
    groups = [draw(rng, mix, 500)[1] for mix in (NEAR, FAR)]
    est = estimate_groups(
        [500, 500], [g.sum(0) for g in groups], [(g**2).sum(0) for g in groups], CALIBRATION
    )
    for i, g in enumerate(groups):
        np.testing.assert_allclose(est.shares[i], pacc(g.mean(0), CALIBRATION).shares)
    assert (est.net_low < est.net).all() and (est.net < est.net_high).all()


def test_empty_and_single_row_groups_have_no_interval():
    est = estimate_groups([0, 1], [[0, 0, 0], [0, 0, 1]], [[0, 0, 0], [0, 0, 1]], CALIBRATION)
    assert np.isnan(est.net[0]) and np.isnan(est.net_low).all() and np.isnan(est.net_high).all()
    assert est.net[1] == 100


@pytest.mark.parametrize(
    ("mix", "n"), [(np.array([0.6, 0.25, 0.15]), 500), (FAR, 300)], ids=["mixed", "far"]
)
def test_interval_covers_the_true_net_sentiment_about_90_percent_of_the_time(mix, n):
    truth = net_sentiment(mix)
    covered = 0
    for seed in range(200):
        _, probabilities = draw(np.random.default_rng(seed), mix, n)
        est = estimate_groups([n], [probabilities.sum(0)], [(probabilities**2).sum(0)], CALIBRATION)
        covered += bool(est.net_low[0] <= truth <= est.net_high[0])
    assert 0.80 <= covered / 200 <= 0.97
