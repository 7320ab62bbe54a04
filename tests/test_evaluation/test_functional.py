"""FID and IS mathematics against independent float64 computations."""
import numpy as np
import pytest
import scipy.linalg
from scipy.special import softmax

from mmbiggan.evaluation.functional import (covariance_factor,
                                            feature_statistics,
                                            frechet_distance, inception_score,
                                            trace_sqrt_product)


def relu_features(rng, num, dim):
    """Non-negative correlated features, like Inception pool outputs."""
    mixing = rng.standard_normal((dim, dim)) * 0.1
    return np.maximum(rng.standard_normal((num, dim)) @ mixing + 0.2, 0)


def reference_fid_sqrtm(x1, x2):
    """Textbook FID: np.cov and scipy's matrix square root."""
    mu1, mu2 = x1.mean(0), x2.mean(0)
    s1, s2 = np.cov(x1, rowvar=False), np.cov(x2, rowvar=False)
    root = scipy.linalg.sqrtm(s1 @ s2).real
    return ((mu1 - mu2)**2).sum() + np.trace(s1) + np.trace(s2) \
        - 2 * np.trace(root)


def reference_trace_svd(x1, x2):
    """tr sqrt(S1 S2) as the nuclear norm of A1^T A2 (S = A A^T from the
    centred features): exact also with fewer samples than dimensions."""
    a1 = (x1 - x1.mean(0)) / np.sqrt(len(x1) - 1)
    a2 = (x2 - x2.mean(0)) / np.sqrt(len(x2) - 1)
    return scipy.linalg.svdvals(a1 @ a2.T).sum()


def test_fid_matches_independent_float64():
    rng = np.random.default_rng(0)
    x1 = relu_features(rng, 700, 96)
    x2 = relu_features(rng, 500, 96) * 1.1 + 0.05
    m1, c1 = feature_statistics(x1.astype(np.float32))
    m2, c2 = feature_statistics(x2.astype(np.float32))
    assert m1.dtype == c1.dtype == np.float64
    expected = reference_fid_sqrtm(
        x1.astype(np.float32).astype(np.float64),
        x2.astype(np.float32).astype(np.float64))
    result = frechet_distance(m1, c1, m2, c2, num_samples=(700, 500))
    assert result.fid == pytest.approx(expected, rel=1e-6)
    assert result.mean_term == pytest.approx(((m1 - m2)**2).sum(), rel=1e-12)
    assert result.fid == pytest.approx(result.mean_term + result.cov_term)
    # Unknown sample counts take the same route here.
    assert frechet_distance(m1, c1, m2, c2).fid == pytest.approx(
        expected, rel=1e-6)


@pytest.mark.parametrize('n1,n2', [(40, 60), (40, 500), (500, 40)])
def test_trace_with_fewer_samples_than_dimensions(n1, n2):
    rng = np.random.default_rng(1)
    x1, x2 = relu_features(rng, n1, 128), relu_features(rng, n2, 128)
    _, c1 = feature_statistics(x1)
    _, c2 = feature_statistics(x2)
    expected = reference_trace_svd(x1, x2)
    got = trace_sqrt_product(c1, c2, num_samples=(n1, n2))
    assert got == pytest.approx(expected, rel=1e-9)
    # The thin factor of the features gives the same number.
    got_factor = trace_sqrt_product(
        c1, c2, num_samples=(n1, n2), factor1=covariance_factor(x1))
    assert got_factor == pytest.approx(expected, rel=1e-9)
    # Without the counts rounding noise remains, but small.
    assert trace_sqrt_product(c1, c2) == pytest.approx(expected, rel=1e-6)


def test_fid_of_a_set_with_itself_is_zero():
    rng = np.random.default_rng(2)
    for num in (300, 60):  # full rank and singular (60 < 128)
        x = relu_features(rng, num, 128)
        mean, cov = feature_statistics(x)
        result = frechet_distance(mean, cov, mean, cov, (num, num))
        assert abs(result.fid) < 1e-9 * np.trace(cov)
        assert result.mean_term == 0


def test_fid_rejects_bad_statistics():
    mean, cov = np.zeros(4), np.eye(4)
    with pytest.raises(ValueError, match='differ in shape'):
        frechet_distance(mean, cov, np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match='NaN or inf'):
        frechet_distance(mean, cov, np.full(4, np.nan), cov)
    with pytest.raises(ValueError, match='N >= 2'):
        feature_statistics(np.zeros((1, 4)))


def reference_inception_score(logits, splits):
    """The original TensorFlow code's formula on softmax probabilities."""
    preds = softmax(logits.astype(np.float64), axis=1)
    scores = []
    for i in range(splits):
        part = preds[i * len(preds) // splits:(i + 1) * len(preds) // splits]
        kl = part * (np.log(part) - np.log(part.mean(0, keepdims=True)))
        scores.append(np.exp(kl.sum(1).mean()))
    return np.mean(scores), np.std(scores)


def test_inception_score_of_uniform_logits_is_one():
    mean, std = inception_score(np.full((50, 1008), 3.5), splits=10)
    assert mean == pytest.approx(1.0, abs=1e-12)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_of_confident_distinct_classes():
    num_classes, splits = 7, 10
    labels = np.arange(splits * num_classes * 3) % num_classes
    logits = np.zeros((len(labels), 1008))
    logits[np.arange(len(labels)), labels * 100] = 60.0
    mean, std = inception_score(logits, splits)
    assert mean == pytest.approx(num_classes, rel=1e-9)
    assert std == pytest.approx(0.0, abs=1e-9)


def test_inception_score_matches_reference_formula():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((103, 1008)) * 4  # uneven splits
    mean, std = inception_score(logits, splits=10)
    ref_mean, ref_std = reference_inception_score(logits, 10)
    assert mean == pytest.approx(ref_mean, rel=1e-12)
    assert std == pytest.approx(ref_std, rel=1e-9)
    # Extreme logits whose probabilities underflow stay finite.
    logits[0, 0] = 5000
    assert np.isfinite(inception_score(logits, 10)[0])
    with pytest.raises(ValueError, match='N >= 10'):
        inception_score(logits[:5], splits=10)
