"""The mathematics of FID and IS, on NumPy arrays in float64."""
from typing import NamedTuple, Optional, Sequence, Tuple

import numpy as np
import scipy.linalg
from scipy.special import log_softmax


class FIDResult(NamedTuple):
    fid: float  # mean_term + cov_term
    mean_term: float  # |mu1 - mu2|^2
    cov_term: float  # tr(S1) + tr(S2) - 2 tr sqrt(S1 S2)


def feature_statistics(features: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Mean ``[D]`` and unbiased covariance ``[D, D]`` of ``features [N,
    D]``, in float64 whatever the input precision."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError('Statistics need features [N, D] with N >= 2, got '
                         f'shape {features.shape}.')
    dim = features.shape[1]
    # np.cov gives a 0-d array for one dimension.
    return features.mean(axis=0), np.cov(
        features, rowvar=False).reshape(dim, dim)


def covariance_factor(features: np.ndarray) -> np.ndarray:
    """``A [D, N]`` with ``A @ A.T`` the covariance of ``features [N, D]``
    (the centred features over ``sqrt(N - 1)``): a thin factor when there
    are fewer samples than dimensions."""
    features = np.asarray(features, dtype=np.float64)
    centred = features - features.mean(axis=0)
    return centred.T / np.sqrt(features.shape[0] - 1)


def trace_sqrt_product(cov1: np.ndarray,
                       cov2: np.ndarray,
                       num_samples: Sequence[Optional[int]] = (None, None),
                       factor1: Optional[np.ndarray] = None) -> float:
    """``tr sqrt(cov1 @ cov2)`` for symmetric positive semi-definite
    covariances ``[D, D]``.

    ``cov1 @ cov2`` has the nonzero eigenvalues of the symmetric PSD matrix
    ``F^T cov2 F`` for any factor ``cov1 = F F^T``, so one symmetric
    eigenvalue solve replaces the Schur-based ``scipy.linalg.sqrtm``: an
    order of magnitude faster at D = 2048 and as accurate or better
    (``benchmarks/bench_fid.py``). ``F`` is ``factor1`` when given (e.g.
    :func:`covariance_factor`, ``[D, N]``), else the Cholesky factor of
    either covariance that is positive definite (the one from more samples
    tried first), else ``U sqrt(w)`` from an eigendecomposition.

    Args:
        cov1, cov2: The covariances.
        num_samples: How many samples each covariance was estimated from,
            None where unknown. A covariance of ``n`` samples has rank at
            most ``n - 1``; the eigenvalues known to be zero are set to zero
            instead of keeping their rounding noise, whose square roots
            would otherwise add up (about 1e-5 in FID at 500 samples).
        factor1: A factor ``[D, K]`` of ``cov1``.
    """
    dim = cov1.shape[0]
    counts = [n if n is not None else np.inf for n in num_samples]
    rank = min(dim, *(n - 1 for n in counts))
    if factor1 is None:
        # Cholesky applies to a positive definite covariance; try the one
        # from more samples first, skip those known to be singular.
        order = sorted(range(2), key=lambda i: -counts[i])
        covs = (cov1, cov2)
        for i in order:
            if counts[i] - 1 >= dim:
                try:
                    factor1 = scipy.linalg.cholesky(covs[i], lower=True)
                except np.linalg.LinAlgError:
                    continue
                cov1, cov2 = covs[i], covs[1 - i]
                break
        if factor1 is None:
            cov1, cov2 = covs[order[0]], covs[1 - order[0]]
            eigvals, eigvecs = scipy.linalg.eigh(cov1, driver='evd')
            factor1 = eigvecs * np.sqrt(np.clip(eigvals, 0, None))
    product = factor1.T @ cov2 @ factor1
    eigvals = scipy.linalg.eigvalsh(product, driver='evd')  # ascending
    num_zero = len(eigvals) - min(rank, len(eigvals))
    eigvals[:int(num_zero)] = 0
    return float(np.sqrt(np.clip(eigvals, 0, None)).sum())


def frechet_distance(mean1: np.ndarray,
                     cov1: np.ndarray,
                     mean2: np.ndarray,
                     cov2: np.ndarray,
                     num_samples: Sequence[Optional[int]] = (None, None),
                     factor1: Optional[np.ndarray] = None) -> FIDResult:
    """Fréchet distance of two Gaussians, ``|mu1 - mu2|^2 + tr(S1) + tr(S2)
    - 2 tr sqrt(S1 S2)``, computed in float64.

    Args:
        mean1, mean2: Means ``[D]``.
        cov1, cov2: Covariances ``[D, D]``.
        num_samples: Sample counts behind ``(cov1, cov2)``, None where
            unknown (see :func:`trace_sqrt_product`).
        factor1: A factor of ``cov1`` (see :func:`trace_sqrt_product`).
    """
    mean1, mean2 = (np.asarray(m, dtype=np.float64) for m in (mean1, mean2))
    cov1, cov2 = (np.asarray(c, dtype=np.float64) for c in (cov1, cov2))
    dim = mean1.shape[0]
    for name, mean, cov in (('first', mean1, cov1), ('second', mean2, cov2)):
        if mean.shape != (dim, ) or cov.shape != (dim, dim):
            raise ValueError(
                'The two sets of statistics differ in shape: '
                f'mean {mean1.shape} / cov {cov1.shape} against mean '
                f'{mean2.shape} / cov {cov2.shape}; were they made with the '
                'same Inception features?')
        if not (np.isfinite(mean).all() and np.isfinite(cov).all()):
            raise ValueError(f'The {name} statistics contain NaN or inf '
                             '(did the generator diverge?).')
    diff = mean1 - mean2
    mean_term = float(diff @ diff)
    cov_term = float(
        np.trace(cov1) + np.trace(cov2) -
        2 * trace_sqrt_product(cov1, cov2, num_samples, factor1))
    return FIDResult(mean_term + cov_term, mean_term, cov_term)


def frechet_distance_of_features(features1: np.ndarray,
                                 features2: np.ndarray) -> FIDResult:
    """Fréchet distance of the Gaussians fitted to ``features1 [N1, D]``
    and ``features2 [N2, D]`` (see :func:`frechet_distance`).

    When neither set has more samples than dimensions (FID of one class),
    no ``[D, D]`` matrix is formed: with the thin factors ``S = A A^T`` of
    :func:`covariance_factor`, ``tr sqrt(S1 S2)`` is the sum of the
    singular values of ``A1^T A2 [N1, N2]`` and ``tr S = |A|_F^2``.
    """
    features1, features2 = (np.asarray(f, dtype=np.float64)
                            for f in (features1, features2))
    for features in (features1, features2):
        if features.ndim != 2 or features.shape[0] < 2:
            raise ValueError('A Fréchet distance needs features [N, D] with '
                             f'N >= 2, got shape {features.shape}.')
    if features1.shape[1] != features2.shape[1]:
        raise ValueError('The two feature sets differ in size: '
                         f'{features1.shape[1]} against '
                         f'{features2.shape[1]}.')
    dim = features1.shape[1]
    (num1, _), (num2, _) = features1.shape, features2.shape
    if max(num1, num2) > dim:
        return frechet_distance(
            *feature_statistics(features1), *feature_statistics(features2),
            num_samples=(num1, num2),
            factor1=covariance_factor(features1) if num1 <= dim else None)
    for features in (features1, features2):
        if not np.isfinite(features).all():
            raise ValueError('Features contain NaN or inf (did the '
                             'generator diverge?).')
    diff = features1.mean(axis=0) - features2.mean(axis=0)
    factor1, factor2 = (covariance_factor(f) for f in (features1, features2))
    trace_sqrt = scipy.linalg.svdvals(factor1.T @ factor2).sum()
    mean_term = float(diff @ diff)
    cov_term = float((factor1**2).sum() + (factor2**2).sum() - 2 * trace_sqrt)
    return FIDResult(mean_term + cov_term, mean_term, cov_term)


def inception_score(logits: np.ndarray,
                    splits: int = 10) -> Tuple[float, float]:
    """Inception Score of the classifier ``logits [N, C]`` (the 1008 logits
    without output bias): ``exp(E_x KL(p(y|x) || p(y)))`` on each of
    ``splits`` consecutive groups, as the original TensorFlow code,
    StyleGAN2-ADA and torch-fidelity split them, in float64.

    Returns:
        tuple: Mean and (population) standard deviation over the splits.
    """
    logits = np.asarray(logits, dtype=np.float64)
    num = logits.shape[0]
    if logits.ndim != 2 or num < splits or splits < 1:
        raise ValueError(f'IS with {splits} splits needs logits [N, C] with '
                         f'N >= {splits}, got shape {logits.shape}.')
    log_p = log_softmax(logits, axis=1)
    p = np.exp(log_p)
    scores = []
    for i in range(splits):
        part = slice(i * num // splits, (i + 1) * num // splits)
        with np.errstate(divide='ignore', invalid='ignore'):
            log_marginal = np.log(p[part].mean(axis=0))
            # 0 log 0 = 0 where a probability underflows.
            terms = np.where(p[part] > 0,
                             p[part] * (log_p[part] - log_marginal), 0)
        scores.append(np.exp(terms.sum(axis=1).mean()))
    return float(np.mean(scores)), float(np.std(scores))
