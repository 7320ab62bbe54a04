"""PrecisionRecall and IntraClassFID as mmengine metrics: hand-computed
values through the metric classes, known cases through
evaluate_generator (identical sets, a collapsed generator, a generator
that swaps classes), the real features file and bad inputs. Features are
pixels (PixelFeatures), so every number can be computed by hand."""
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.dataset import pseudo_collate
from mmengine.evaluator import Evaluator
from mmengine.structures import BaseDataElement

from mmbiggan.apis.sampling import sample_images
from mmbiggan.evaluation import (FID, IS, IntraClassFID, PrecisionRecall,
                                 RealFeatures, build_inception,
                                 evaluate_generator, feature_statistics,
                                 frechet_distance,
                                 frechet_distance_of_features,
                                 load_real_features, manifold_metrics,
                                 save_real_features, subset_indices)
from mmbiggan.models import BigGANGenerator
from mmbiggan.utils.image import to_uint8

from eval_helpers import CountingLoader

PIXELS = dict(type='PixelFeatures')


def feed(metric, features, labels=None):
    """Pass generated features to ``metric`` as evaluate_generator does and
    compute its values."""
    metric.process(None, [
        dict(index=i, pool=np.asarray(f, dtype=np.float32), logits=None,
             label=None if labels is None else int(labels[i]))
        for i, f in enumerate(features)
    ])
    return metric.compute_metrics(metric.results)


def column(values):
    return np.asarray(values, dtype=np.float32)[:, None]


def test_precision_recall_hand_computed():
    # Real balls (k=1): 0 r1, 1 r1, 3 r2, 7 r4; generated: 0.5 r4.5, 5 r4.5,
    # 12 r7. 0.5 lies in the balls of 0 and 1, 5 in those of 3 and 7.
    metric = PrecisionRecall(num_images=3, inception_args=PIXELS, k=1)
    metric.set_real_features(RealFeatures(column([0, 1, 3, 7]), None, None))
    result = feed(metric, column([0.5, 5, 12]))
    assert result == pytest.approx(
        dict(precision=2 / 3, recall=1.0, density=4 / 3, coverage=1.0))


def test_intra_class_fid_hand_computed():
    # One dimension: FID = (m1 - m2)^2 + (s1 - s2)^2 with s the unbiased
    # standard deviation. Class 0: real {0, 2} (mean 1, var 2), generated
    # {1, 3} (mean 2, var 2): 1. Class 1: real {10, 14} (12, 8), generated
    # {11, 13} (12, 2): (sqrt 8 - sqrt 2)^2 = 2.
    metric = IntraClassFID(num_images=4, inception_args=PIXELS,
                           per_class=True)
    assert metric.sample_labels(2).tolist() == [0, 1, 0, 1]
    metric.set_real_features(
        RealFeatures(column([0, 10, 2, 14]), np.array([0, 1, 0, 1]), None))
    result = feed(metric, column([1, 11, 3, 13]), labels=[0, 1, 0, 1])
    assert result == pytest.approx(
        {'iFID': 1.5, 'iFID_class0': 1.0, 'iFID_class1': 2.0}, rel=1e-9)


def test_thin_frechet_distance_equals_the_full_one():
    rng = np.random.default_rng(0)
    few = rng.normal(size=(30, 64))
    other = rng.normal(size=(40, 64)) * 1.3 + 0.2
    many = rng.normal(size=(100, 64))
    for first, second in [(few, other), (many, other), (other, many)]:
        thin = frechet_distance_of_features(first, second)
        full = frechet_distance(
            *feature_statistics(first), *feature_statistics(second),
            num_samples=(len(first), len(second)))
        assert thin.fid == pytest.approx(full.fid, rel=1e-10)
        assert thin.mean_term == pytest.approx(full.mean_term, rel=1e-12)
    assert abs(frechet_distance_of_features(few, few).fid) < 1e-9


def test_pixel_features():
    extractor = build_inception(dict(type='PixelFeatures', size=2))
    assert extractor is build_inception(dict(type='PixelFeatures', size=2))
    images = torch.zeros(1, 3, 4, 4, dtype=torch.uint8)
    images[0, 0, :2, :2] = 255  # top-left quarter of the red channel
    images[0, 2] = 51
    out = extractor(images)
    assert out.logits is None and extractor.style == 'PixelFeatures2'
    expected = [1, 0, 0, 0] + [0] * 4 + [0.2] * 4
    np.testing.assert_allclose(out.pool[0].numpy(), expected, atol=1e-7)


# Known cases through evaluate_generator.


@pytest.fixture(scope='module')
def biggan():
    torch.manual_seed(0)
    return BigGANGenerator(
        32, noise_size=32, num_classes=10, base_channels=8, shared_dim=16,
        auto_sync_bn=False).eval()


class CollapsedGenerator(nn.Module):
    """Ignores its noise: one image per class."""

    def __init__(self, generator):
        super().__init__()
        self.generator = generator
        self.noise_size = generator.noise_size
        self.num_classes = generator.num_classes

    def forward(self, noise, label, truncation=None):
        return self.generator(torch.zeros_like(noise), label,
                              truncation=truncation)


def loader_of(images, labels=None, batch_size=16):
    items = []
    for i, image in enumerate(images):
        sample = BaseDataElement()
        if labels is not None:
            sample.gt_label = torch.tensor(int(labels[i]))
        items.append(dict(inputs=image, data_samples=sample))
    batches = [pseudo_collate(items[i:i + batch_size])
               for i in range(0, len(items), batch_size)]
    return CountingLoader(batches, items)


def test_identical_and_collapsed_generators(biggan):
    pixels_args = dict(type='PixelFeatures', size=8)
    samples = sample_images(biggan, 80, seed=5, batch_size=80)
    reals = loader_of(to_uint8(samples.images))
    same = PrecisionRecall(num_images=80, inception_args=pixels_args)
    fid = FID(num_images=80, inception_args=pixels_args)
    evaluator = Evaluator([same, fid])
    result = evaluate_generator(biggan, evaluator, seed=5, batch_size=80,
                                real_dataloader=reals, progress=False)
    assert result['precision'] == result['recall'] == 1.0
    assert result['coverage'] == 1.0 and abs(result['FID']) < 1e-6
    # Both metrics use one extractor: the real images are read once.
    assert reals.passes == 1

    collapsed = PrecisionRecall(num_images=80, inception_args=pixels_args)
    collapsed.set_real_features(same.real)
    result = evaluate_generator(CollapsedGenerator(biggan),
                                Evaluator([collapsed]), seed=5,
                                batch_size=80, progress=False)
    # Ten distinct images, each repeated more than k times: every
    # generated ball has radius 0 and holds no real image.
    assert result['recall'] == 0.0 and result['coverage'] < 0.5

    # Other images of the same generator: near but not equal to 1, and
    # the values of manifold_metrics on the same features.
    other = PrecisionRecall(num_images=40, inception_args=pixels_args, k=5,
                            num_real_images=70)
    other.set_real_features(same.real)
    result = evaluate_generator(biggan, Evaluator([other]), seed=6,
                                batch_size=40, progress=False)
    pixels = build_inception(pixels_args)
    fake = pixels(to_uint8(sample_images(biggan, 40, seed=6).images)).pool
    real = same.real.features[subset_indices(80, 70)]
    expected = manifold_metrics(real, fake.numpy(), k=5)._asdict()
    assert result == pytest.approx(expected, rel=1e-12)
    assert 0.5 < result['recall'] < 1 and 0.5 < result['precision'] <= 1


class ClassGaussianGenerator(nn.Module):
    """Class ``c`` draws ``3 x 2 x 2`` images around its own pattern;
    ``swap=True`` draws class ``c + 1`` when asked for ``c``."""

    noise_size = 12
    num_classes = 3

    def __init__(self, swap: bool = False):
        super().__init__()
        self.swap = swap
        patterns = torch.tensor([[-0.6] * 6 + [0.6] * 6,
                                 [0.6] * 6 + [-0.6] * 6,
                                 [0.0, 0.6] * 6])
        self.register_buffer('patterns', patterns)
        self.anchor = nn.Parameter(torch.zeros(()))  # gives a device

    def forward(self, noise, label, truncation=None):
        if self.swap:
            label = (label + 1) % self.num_classes
        images = self.patterns[label] + 0.2 * noise + self.anchor
        return images.clamp(-1, 1).view(-1, 3, 2, 2)


@pytest.fixture(scope='module')
def labelled_reals():
    real = sample_images(ClassGaussianGenerator(), 300, seed=100,
                         batch_size=300)
    return to_uint8(real.images), real.labels


def test_intra_class_fid_of_a_class_swapping_generator(labelled_reals):
    images, labels = labelled_reals
    results = {}
    for swap in (False, True):
        evaluator = Evaluator([
            FID(num_images=150, inception_args=PIXELS),
            IntraClassFID(num_images=150, inception_args=PIXELS,
                          per_class=True),
        ])
        results[swap] = evaluate_generator(
            ClassGaussianGenerator(swap), evaluator, seed=1, batch_size=64,
            real_dataloader=loader_of(images, labels), progress=False)
    right, swapped = results[False], results[True]
    # Both draw the same mixture of the classes: FIDs near 0 (0.009 and
    # 0.065); within each class the swapped one is far off (iFID 0.016
    # and 2.5).
    assert right['FID'] < 0.1 and swapped['FID'] < 0.1
    assert right['iFID'] < 0.1 and swapped['iFID'] > 50 * right['iFID']
    assert swapped['iFID'] > 20 * swapped['FID'] and swapped['iFID'] > 1
    assert right['iFID'] == pytest.approx(
        np.mean([right[f'iFID_class{c}'] for c in range(3)]))

    # The class-c images are drawn class by class from the seed.
    pixels = build_inception(PIXELS)
    class_labels = torch.arange(150) % 3
    fake = pixels(to_uint8(sample_images(
        ClassGaussianGenerator(), labels=class_labels, seed=1).images))
    real = pixels(images).pool.numpy()
    for c in range(3):
        expected = frechet_distance_of_features(
            fake.pool.numpy()[class_labels.numpy() == c],
            real[labels.numpy() == c]).fid
        assert right[f'iFID_class{c}'] == pytest.approx(expected, rel=1e-9)


def test_real_features_file_round_trip(tmp_path, biggan, labelled_reals):
    path = str(tmp_path / 'real_features.npz')
    rng = np.random.default_rng(0)
    features = rng.normal(size=(50, 7)).astype(np.float32)
    labels = np.arange(50) % 5
    save_real_features(path, features, labels, 'StyleGAN', 'toy')
    loaded = load_real_features(path)
    assert np.array_equal(loaded.features, features)
    assert loaded.labels.dtype == np.int64
    assert np.array_equal(loaded.labels, labels)
    assert loaded.inception == 'StyleGAN'
    save_real_features(path, features, None, 'StyleGAN')
    assert load_real_features(path).labels is None

    # A metric reading the file gives the numbers of one reading the
    # dataloader.
    images, labels = labelled_reals
    pixels = build_inception(PIXELS)
    save_real_features(path, pixels(images).pool.numpy(), labels.numpy(),
                       pixels.style)
    generator = ClassGaussianGenerator()
    from_loader = Evaluator([
        PrecisionRecall(num_images=90, inception_args=PIXELS,
                        num_real_images=200),
        IntraClassFID(num_images=90, inception_args=PIXELS)])
    from_file = Evaluator([
        PrecisionRecall(num_images=90, inception_args=PIXELS,
                        num_real_images=200, real_features=path),
        IntraClassFID(num_images=90, inception_args=PIXELS,
                      real_features=path)])
    assert not any(m.needs_real_images for m in from_file.metrics)
    expected = evaluate_generator(generator, from_loader, seed=2,
                                  real_dataloader=loader_of(images, labels),
                                  progress=False)
    assert evaluate_generator(generator, from_file, seed=2,
                              progress=False) == expected


def test_bad_inputs(tmp_path, biggan, labelled_reals):
    with pytest.raises(ValueError, match='k=3 needs num_images > k'):
        PrecisionRecall(num_images=3, inception_args=PIXELS)
    with pytest.raises(ValueError, match='num_real_images must be None or '
                       'an int > k=5'):
        PrecisionRecall(num_images=30, inception_args=PIXELS, k=5,
                        num_real_images=5)
    with pytest.raises(ValueError, match='k must be an int >= 1'):
        PrecisionRecall(num_images=30, inception_args=PIXELS, k=0)
    missing = str(tmp_path / 'absent.npz')
    with pytest.raises(FileNotFoundError) as info:
        PrecisionRecall(num_images=30, inception_args=PIXELS,
                        real_features=missing)
    assert 'inception_stat.py --save-features' in str(info.value)
    assert '\n' not in str(info.value)
    small = PrecisionRecall(num_images=30, inception_args=PIXELS)
    with pytest.raises(ValueError, match='needs more than 3 real images, '
                       'got 3'):
        small.set_real_features(RealFeatures(column([0, 1, 2]), None, None))
    with pytest.raises(ValueError, match='IS needs the 1008 Inception'):
        IS(num_images=10, inception_args=PIXELS)
    with pytest.raises(ValueError, match='PixelFeatures size must be'):
        build_inception(dict(type='PixelFeatures', size=0))

    # A file of another extractor, unlabelled features, another class set.
    other = str(tmp_path / 'other.npz')
    save_real_features(other, np.zeros((10, 12)), np.arange(10) % 3,
                       'StyleGAN')
    with pytest.raises(ValueError, match='computed with the StyleGAN '
                       'features but this PrecisionRecall uses PixelFeat'):
        PrecisionRecall(num_images=30, inception_args=PIXELS,
                        real_features=other)
    unlabelled = str(tmp_path / 'unlabelled.npz')
    save_real_features(unlabelled, np.zeros((10, 12)), None,
                       'PixelFeatures')
    with pytest.raises(ValueError, match='needs the class of each real '
                       'image.*--data-cfg'):
        IntraClassFID(num_images=30, inception_args=PIXELS,
                      real_features=unlabelled)
    images, labels = labelled_reals
    ifid = IntraClassFID(num_images=30, inception_args=PIXELS)
    with pytest.raises(ValueError, match='classes 0..2 but the generator '
                       'has 0..1'):
        ifid.sample_labels(2)
        ifid.set_real_features(RealFeatures(
            np.zeros((300, 12)), labels.numpy(), None))
    one_of_class_1 = np.array([0, 0, 1, 2, 2])
    with pytest.raises(ValueError, match='1 image.*of class 1; '
                       'IntraClassFID needs >= 2'):
        ifid.sample_labels(3)
        ifid.set_real_features(RealFeatures(np.zeros((5, 12)),
                                            one_of_class_1, None))
    with pytest.raises(ValueError, match='num_images >= 2 per class, >= '
                       '20 for 10 classes, got 10'):
        IntraClassFID(num_images=10, inception_args=PIXELS).sample_labels(10)
    evaluator = Evaluator([IntraClassFID(num_images=30,
                                         inception_args=PIXELS)])
    with pytest.raises(ValueError, match='needs a class-conditional'):
        unconditional = ClassGaussianGenerator()
        unconditional.num_classes = 0
        evaluate_generator(unconditional, evaluator, progress=False)
    evaluator = Evaluator([PrecisionRecall(num_images=30,
                                           inception_args=PIXELS)])
    with pytest.raises(ValueError, match='PrecisionRecall needs real '
                       'images: set real_features'):
        evaluate_generator(biggan, evaluator, progress=False)
