import numpy as np
import pytest

from mmbiggan.evaluation.manifold import (knn_radii, manifold_metrics,
                                          mean_pairwise_distance)


def column(values):
    return np.asarray(values, dtype=np.float64)[:, None]


def test_hand_computed_one_dimensional_case():
    real = column([0, 1, 3, 7])
    fake = column([0.5, 5, 12])
    assert knn_radii(real, k=1).tolist() == [1, 1, 2, 4]
    assert knn_radii(fake, k=1).tolist() == [4.5, 4.5, 7]
    result = manifold_metrics(real, fake, k=1)
    # 0.5 lies in the balls of 0 and 1, 5 in those of 3 (radius 2, on the
    # border) and 7, 12 in none.
    assert result.precision == pytest.approx(2 / 3)
    assert result.density == pytest.approx(4 / 3)
    # Every real point lies within 4.5 of 0.5 or 5; each real ball holds a
    # fake (0 and 1: 0.5; 3 and 7: 5).
    assert result.recall == 1.0
    assert result.coverage == 1.0
    # Swapping the roles swaps precision and recall.
    swapped = manifold_metrics(fake, real, k=1)
    assert swapped.precision == 1.0
    assert swapped.recall == pytest.approx(2 / 3)


def test_identical_sets_and_a_collapsed_generator():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(600, 8))
    same = manifold_metrics(real, real.copy())
    assert same.precision == same.recall == same.coverage == 1.0
    # Ten distinct outputs repeated: faithful but no diversity.
    collapsed = manifold_metrics(real, np.repeat(real[:10], 60, axis=0))
    assert collapsed.precision == 1.0
    assert collapsed.recall <= 10 / 600
    assert collapsed.coverage < 0.1
    other = manifold_metrics(real, rng.normal(size=(600, 8)))
    assert 0.6 < other.precision < 1 and 0.6 < other.recall < 1
    assert 0.8 < other.density < 1.2


def test_blocks_give_the_unblocked_answer(monkeypatch):
    import mmbiggan.evaluation.manifold as manifold
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(70, 5)), rng.normal(size=(50, 5)) + 0.3
    expected = manifold_metrics(real, fake, k=4)
    monkeypatch.setattr(manifold, '_BLOCK', 16)
    assert manifold_metrics(real, fake, k=4) == expected


def test_mean_pairwise_distance():
    assert mean_pairwise_distance(column([0, 1, 3])) == pytest.approx(2.0)
    rng = np.random.default_rng(2)
    spread = rng.normal(size=(400, 6))
    assert mean_pairwise_distance(spread * 3) == pytest.approx(
        3 * mean_pairwise_distance(spread))


@pytest.mark.parametrize('real, fake, k, message', [
    (np.zeros((5, 2)), np.zeros((5, 3)), 3, 'differ in size'),
    (np.zeros((5, 2)), np.zeros((5, 2)), 5, 'k must be in'),
    (np.zeros(5), np.zeros((5, 2)), 3, r'\[N, D\]'),
    (np.full((5, 2), np.nan), np.zeros((5, 2)), 3, 'NaN'),
])
def test_bad_inputs(real, fake, k, message):
    with pytest.raises(ValueError, match=message):
        manifold_metrics(real, fake, k=k)
