"""k-nearest-neighbour manifold metrics of two feature sets.

Improved precision and recall (Kynkäänniemi et al., NeurIPS 2019) and
density and coverage (Naeem et al., ICML 2020) estimate the real and the
generated distributions' supports as unions of balls: around each feature
vector, a ball reaching its ``k``-th nearest neighbour within its own set.

* precision: share of generated samples inside the real manifold (fidelity);
* recall: share of real samples inside the generated manifold (diversity);
* density: mean number of real balls holding a generated sample, over
  ``k`` (1 on average when the two distributions are equal; not capped);
* coverage: share of real samples whose ball holds a generated sample.

Distances are Euclidean, computed in float64 in blocks so that 50k x 50k
pairs never sit in memory at once.
"""
from typing import NamedTuple

import numpy as np
import torch

_BLOCK = 1024


class ManifoldResult(NamedTuple):
    precision: float
    recall: float
    density: float
    coverage: float


def _as_features(features, name: str) -> torch.Tensor:
    features = torch.as_tensor(np.asarray(features), dtype=torch.float64)
    if features.dim() != 2 or features.shape[0] < 2:
        raise ValueError(f'{name} features must be [N, D] with N >= 2, got '
                         f'shape {tuple(features.shape)}.')
    if not torch.isfinite(features).all():
        raise ValueError(f'{name} features contain NaN or inf.')
    return features


def _blocks(features: torch.Tensor):
    for start in range(0, features.shape[0], _BLOCK):
        yield start, features[start:start + _BLOCK]


def knn_radii(features, k: int = 3) -> torch.Tensor:
    """Distance of each of ``features [N, D]`` to its ``k``-th nearest
    other member of the set: ``[N]`` float64. A duplicate counts as a
    neighbour at distance 0."""
    features = _as_features(features, 'The')
    if not 1 <= k < features.shape[0]:
        raise ValueError(f'k must be in [1, N - 1] = [1, '
                         f'{features.shape[0] - 1}], got {k}.')
    radii = torch.empty(features.shape[0], dtype=torch.float64)
    for start, block in _blocks(features):
        dist = torch.cdist(block, features)
        # Each row's own zero distance: exclude it as the neighbour 0.
        rows = torch.arange(block.shape[0])
        dist[rows, rows + start] = float('inf')
        radii[start:start + block.shape[0]] = dist.kthvalue(k, dim=1).values
    return radii


def _ball_counts(points: torch.Tensor, centres: torch.Tensor,
                 radii: torch.Tensor) -> torch.Tensor:
    """For each point, how many balls ``(centres [M, D], radii [M])`` hold
    it (distance <= radius): ``[N]`` int64."""
    counts = torch.empty(points.shape[0], dtype=torch.int64)
    for start, block in _blocks(points):
        inside = torch.cdist(block, centres) <= radii[None]
        counts[start:start + block.shape[0]] = inside.sum(1)
    return counts


def manifold_metrics(real_features, fake_features,
                     k: int = 3) -> ManifoldResult:
    """Precision, recall, density and coverage of ``fake_features [M, D]``
    against ``real_features [N, D]`` with ``k``-NN balls.

    Identical sets give 1 for all four; a generator that draws one point
    per mode has recall and coverage near 0 while its precision stays high.
    """
    real = _as_features(real_features, 'Real')
    fake = _as_features(fake_features, 'Generated')
    if real.shape[1] != fake.shape[1]:
        raise ValueError('Real and generated features differ in size: '
                         f'{real.shape[1]} against {fake.shape[1]}; were '
                         'they made by the same feature extractor?')
    real_radii = knn_radii(real, k)
    fake_radii = knn_radii(fake, k)
    # How many real balls hold each generated sample (precision, density).
    fake_in_real = _ball_counts(fake, real, real_radii)
    # Whether each real sample is inside some generated ball (recall).
    real_in_fake = _ball_counts(real, fake, fake_radii)
    # Whether each real ball holds some generated sample (coverage):
    # its nearest generated sample lies within its radius.
    nearest_fake = torch.empty(real.shape[0], dtype=torch.float64)
    for start, block in _blocks(real):
        nearest_fake[start:start + block.shape[0]] = torch.cdist(
            block, fake).min(1).values
    return ManifoldResult(
        precision=float((fake_in_real > 0).double().mean()),
        recall=float((real_in_fake > 0).double().mean()),
        density=float(fake_in_real.double().mean() / k),
        coverage=float((nearest_fake <= real_radii).double().mean()))


def mean_pairwise_distance(features) -> float:
    """Mean Euclidean distance over all unordered pairs of ``features [N,
    D]``: the spread of a set (within-class diversity when the set is one
    class)."""
    features = _as_features(features, 'The')
    total = 0.0
    for _, block in _blocks(features):
        total += float(torch.cdist(block, features).sum())
    num = features.shape[0]
    return total / (num * (num - 1))
