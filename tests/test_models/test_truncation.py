"""The truncation sampler against scipy's truncated normal."""
import math

import numpy as np
import pytest
import torch
from pytorch_pretrained_biggan.utils import truncated_noise_sample
from scipy import stats

from mmbiggan.models.layers import (check_truncation, sample_truncated_noise,
                                    truncated_normal)

N = 200_000


def sample_moments(x: np.ndarray):
    x = x.astype(np.float64)
    mean = x.mean()
    centred = x - mean
    var = (centred**2).mean()
    return mean, var, (centred**4).mean() / var**2 - 3


@pytest.mark.parametrize('bound', [0.5, 1.0, 2.0, 3.0])
def test_truncated_normal_matches_scipy(bound):
    x = truncated_normal(
        N, bound, generator=torch.Generator().manual_seed(int(bound * 10)))
    assert x.shape == (N, ) and x.dtype == torch.float32
    assert float(x.abs().max()) <= bound
    x = x.numpy()
    ref = stats.truncnorm(-bound, bound)
    mean, var, kurt = sample_moments(x)
    ref_var = ref.var()
    ref_m4 = ref.moment(4)
    # Standard errors of the sample mean, variance and excess kurtosis.
    se_mean = math.sqrt(ref_var / N)
    se_var = math.sqrt((ref_m4 - ref_var**2) / N)
    assert abs(mean) < 5 * se_mean
    assert abs(var - ref_var) < 5 * se_var
    assert abs(kurt - ref.stats(moments='k')) < 5 * math.sqrt(24 / N)
    assert stats.kstest(x, ref.cdf).pvalue > 1e-3


@pytest.mark.parametrize('bound', [0.5, 2.0])
def test_no_probability_mass_piles_up_at_the_bounds(bound):
    """Resampling, not clamping: values at the bound are as rare as the
    density there says."""
    x = truncated_normal(N, bound, generator=torch.Generator().manual_seed(1))
    width = 1e-3 * bound
    near = float(((bound - x.abs()) < width).double().mean())
    expected = 2 * stats.truncnorm(-bound, bound).pdf(bound) * width
    assert near < 2 * expected + 5 * math.sqrt(expected / N)
    assert int((x.abs() == bound).sum()) == 0


@pytest.mark.parametrize('truncation', [0.2, 0.653, 1.0, 1.5])
def test_noise_is_scaled_like_pytorch_pretrained_biggan(truncation):
    ours = sample_truncated_noise(
        2000, 100, truncation,
        generator=torch.Generator().manual_seed(2)).numpy().ravel()
    theirs = truncated_noise_sample(
        2000, 100, truncation=truncation, seed=3).ravel()
    assert np.abs(ours).max() <= 2 * truncation + 1e-6
    expected_std = truncation * stats.truncnorm(-2, 2).std()
    assert ours.std() == pytest.approx(expected_std, rel=0.01)
    assert stats.ks_2samp(ours, theirs).pvalue > 1e-3


def test_sampler_is_reproducible_with_a_generator():
    def draw():
        generator = torch.Generator().manual_seed(7)
        return sample_truncated_noise(4, 8, 0.5, generator=generator)

    a, b = draw(), draw()
    assert torch.equal(a, b) and a.shape == (4, 8)


@pytest.mark.parametrize('bad', [0, -0.5, 'a', None, float('nan')])
def test_bad_truncation_is_rejected(bad):
    with pytest.raises(ValueError, match='truncation'):
        check_truncation(bad)


def test_bad_bound_is_rejected():
    with pytest.raises(ValueError, match='bound'):
        truncated_normal(3, 0.0)


def test_the_one_check_rejects_bools_and_knows_the_statistic_rows():
    # True is an int to Python, but not a truncation.
    with pytest.raises(ValueError, match=r'truncation=True is not a number'):
        check_truncation(True)
    # Without per-truncation statistics any value > 0 is a noise scale.
    assert check_truncation(1.5) == 1.5
    assert check_truncation(2, num_stats=1) == 2.0
    assert check_truncation(1, num_stats=51) == 1.0
    with pytest.raises(ValueError) as info:
        check_truncation(1.5, num_stats=51, name='--truncation')
    assert str(info.value) == (
        "--truncation=1.5 is above 1: this model's batch-norm statistics "
        'were recorded for truncation in (0, 1] (51 rows); use a truncation '
        '<= 1.')


def test_generators_check_truncation_against_their_statistic_rows():
    from mmbiggan.models import BigGANDeepGenerator, BigGANGenerator
    from mmbiggan.models.layers import num_truncation_stats
    from mmbiggan.models.sampling import sample_images
    with_stats = BigGANDeepGenerator(
        128, noise_size=16, num_classes=3, base_channels=4,
        num_bn_stats=6).eval()
    plain = BigGANGenerator(32, noise_size=16, num_classes=3,
                            base_channels=4).eval()
    assert num_truncation_stats(with_stats) == 6
    assert num_truncation_stats(plain) == 1
    with torch.no_grad():
        with pytest.raises(ValueError, match=r'truncation=1.5 is above 1'):
            with_stats(None, num_batches=1, truncation=1.5)
        assert plain(None, num_batches=1, truncation=1.5).shape == (1, 3, 32,
                                                                    32)
    # The sampler refuses before drawing any noise.
    with pytest.raises(ValueError, match='(6 rows)'):
        sample_images(with_stats, 2, truncation=1.2, seed=0)
