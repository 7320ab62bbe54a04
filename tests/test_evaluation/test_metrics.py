"""FID and IS metrics through evaluate_generator, with a stand-in
TorchScript Inception so the tests stay fast."""
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.evaluator import Evaluator
from torch.utils.data import DataLoader

from mmbiggan.apis.sampling import sample_images
from mmbiggan.evaluation import (FID, IS, build_inception, covariance_factor,
                                 evaluate_generator, feature_statistics,
                                 frechet_distance, inception_score,
                                 load_inception_stats, save_inception_stats,
                                 shard_indices)
from mmbiggan.models import BigGANGenerator
from mmbiggan.utils.image import to_uint8

from eval_helpers import CountingLoader


@pytest.fixture(scope='module')
def generator():
    torch.manual_seed(0)
    return BigGANGenerator(
        32, noise_size=32, num_classes=10, base_channels=8, shared_dim=16,
        auto_sync_bn=False).eval()


@pytest.fixture
def inception_args(standin_inception_path):
    return dict(type='StyleGAN', inception_path=standin_inception_path)


@pytest.fixture
def real_pkl(tmp_path):
    rng = np.random.default_rng(0)
    features = np.abs(rng.standard_normal((300, 2048)))
    mean, cov = feature_statistics(features)
    path = str(tmp_path / 'real.pkl')
    save_inception_stats(path, mean, cov, 300, 'StyleGAN')
    return path


def outputs_of(generator, inception_args, num, seed):
    samples = sample_images(generator, num, seed=seed, batch_size=num)
    out = build_inception(inception_args)(to_uint8(samples.images))
    return out.pool.numpy(), out.logits.numpy(), samples


def test_metrics_equal_direct_computation(generator, inception_args,
                                          real_pkl):
    evaluator = Evaluator([
        FID(num_images=24, inception_args=inception_args,
            inception_pkl=real_pkl),
        IS(num_images=20, inception_args=inception_args, splits=4),
    ])
    results = evaluate_generator(
        generator, evaluator, seed=3, batch_size=7, progress=False)
    assert set(results) == {'FID', 'FID_mean', 'FID_cov', 'IS', 'IS_std'}

    pool, logits, _ = outputs_of(generator, inception_args, 24, seed=3)
    real = load_inception_stats(real_pkl)
    expected = frechet_distance(
        *feature_statistics(pool), real.mean, real.cov,
        num_samples=(24, None), factor1=covariance_factor(pool))
    assert results['FID'] == pytest.approx(expected.fid, rel=1e-5)
    assert results['FID_mean'] == pytest.approx(expected.mean_term, rel=1e-5)
    is_mean, is_std = inception_score(logits[:20], splits=4)
    assert results['IS'] == pytest.approx(is_mean, rel=1e-5)
    assert results['IS_std'] == pytest.approx(is_std, rel=1e-4)
    assert results['IS'] > 1.05  # the stand-in's classes are not uniform

    # Same seed, other batching: same numbers; other seed: others.
    again = evaluate_generator(
        generator, evaluator, seed=3, batch_size=24, progress=False)
    assert again['FID'] == pytest.approx(results['FID'], rel=1e-5)
    other = evaluate_generator(
        generator, evaluator, seed=4, batch_size=24, progress=False)
    assert other['FID'] != pytest.approx(results['FID'], rel=1e-3)


def test_fid_of_generated_images_with_themselves_is_zero(
        generator, inception_args):
    """Real images = the generated ones: FID ~ 0, and the real statistics
    are computed once and kept."""
    _, _, samples = outputs_of(generator, inception_args, 30, seed=5)
    images = list(to_uint8(samples.images))
    batches = [dict(inputs=images[i:i + 8]) for i in range(0, 30, 8)]
    loader = CountingLoader(batches, dataset=images)
    fid = FID(num_images=30, inception_args=inception_args)
    assert fid.needs_real_images
    evaluator = Evaluator([fid])
    result = evaluate_generator(
        generator, evaluator, seed=5, batch_size=8, real_dataloader=loader,
        progress=False)
    assert abs(result['FID']) < 1e-6
    assert fid.real_stats.num_images == 30 and not fid.needs_real_images
    evaluate_generator(generator, evaluator, seed=6, real_dataloader=loader,
                       progress=False)
    assert loader.passes == 1


def test_evaluation_leaves_the_global_random_state(generator,
                                                   inception_args):
    reals = torch.randint(0, 256, (10, 3, 32, 32), dtype=torch.uint8)
    loader = DataLoader([dict(inputs=r) for r in reals], batch_size=4,
                        shuffle=True, collate_fn=pseudo_collate)
    evaluator = Evaluator([FID(num_images=4, inception_args=inception_args)])
    state = torch.get_rng_state()
    evaluate_generator(generator, evaluator, real_dataloader=loader,
                       progress=False)
    assert torch.equal(torch.get_rng_state(), state)


def test_shard_indices_cover_every_image_once():
    for num, world in [(10, 1), (10, 3), (7, 4), (2, 5)]:
        shards = [shard_indices(num, r, world) for r in range(world)]
        assert len({len(s) for s in shards}) == 1
        # mmengine's collect_results interleaves the shards, then truncates.
        order = torch.stack(shards, 1).flatten()[:num]
        assert order.tolist() == list(range(num))


def test_metric_configs_that_cannot_work(tmp_path, inception_args, real_pkl):
    with pytest.raises(ValueError, match='bgr2rgb is not used'):
        FID(num_images=10, inception_args=inception_args, bgr2rgb=True)
    other = str(tmp_path / 'other.pkl')
    save_inception_stats(other, np.zeros(2048), np.eye(2048), 10,
                         'PyTorchFID')
    with pytest.raises(ValueError, match='computed with the PyTorchFID'):
        FID(num_images=10, inception_args=inception_args,
            inception_pkl=other)
    small = str(tmp_path / 'small.npz')
    np.savez(small, mu=np.zeros(64), sigma=np.eye(64))
    with pytest.raises(ValueError, match='64-d statistics'):
        FID(num_images=10, inception_args=inception_args,
            inception_pkl=small)
    with pytest.raises(ValueError, match='splits must be'):
        IS(num_images=5, inception_args=inception_args, splits=10)
    with pytest.raises(ValueError, match='num_images >= 2'):
        IS(num_images=1, inception_args=inception_args)
    fid = FID(num_images=4, inception_args=inception_args)
    generator = BigGANGenerator(
        32, noise_size=32, num_classes=10, base_channels=8, shared_dim=16)
    with pytest.raises(ValueError, match='set inception_pkl'):
        evaluate_generator(generator, Evaluator([fid]), progress=False)
