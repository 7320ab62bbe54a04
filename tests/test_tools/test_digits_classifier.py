"""The digits judge of the README's main job (tools/utils/digits_classifier.py):
it must recognise the training images as the digits they are, and give a
generator that ignores its labels the chance level."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn as nn

from mmbiggan.datasets import DigitsDataset

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def judge():
    spec = importlib.util.spec_from_file_location(
        'digits_classifier',
        osp.join(ROOT, 'tools', 'utils', 'digits_classifier.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_upscaled_training_digits_come_back_to_the_original_features(judge):
    from sklearn.datasets import load_digits
    dataset = DigitsDataset(pipeline=[dict(type='PackInputs')])
    images = torch.stack([dataset[i]['inputs'] for i in range(300)])
    features = judge.to_digits_features(images)
    original = load_digits().data[:300]
    assert features.shape == (300, 64)
    # The upscaling is smooth, so box averages blur the strokes a little.
    assert np.abs(features - original).mean() < 1.0
    for got, want in zip(features, original):
        assert np.corrcoef(got, want)[0, 1] > 0.95
    predicted = judge.classify_digits(images)
    labels = [int(dataset[i]['data_samples'].gt_label) for i in range(300)]
    assert (predicted == np.array(labels)).mean() > 0.99


def test_float_images_in_minus_one_one_read_like_uint8(judge):
    dataset = DigitsDataset(pipeline=[dict(type='PackInputs')])
    images = torch.stack([dataset[i]['inputs'] for i in range(20)])
    as_float = images.float() / 127.5 - 1
    np.testing.assert_allclose(
        judge.to_digits_features(as_float),
        judge.to_digits_features(images), atol=1e-4)
    with pytest.raises(ValueError, match=r'\[N, C, H, W\]'):
        judge.to_digits_features(images[0])


class ReplayGenerator(nn.Module):
    """Returns real digits of one fixed class whatever it is asked for (or,
    with ``follow_labels``, a real digit of the requested class)."""
    num_classes = 10
    noise_size = 4

    def __init__(self, follow_labels: bool):
        super().__init__()
        self.follow_labels = follow_labels
        dataset = DigitsDataset(pipeline=[dict(type='PackInputs')])
        items = [dataset[i] for i in range(200)]
        self.by_class = {}
        for item in items:
            self.by_class.setdefault(int(item['data_samples'].gt_label),
                                     item['inputs'].float() / 127.5 - 1)
        self.anchor = nn.Parameter(torch.zeros(1))

    def forward(self, noise=None, label=None, num_batches=0, **kwargs):
        labels = label if self.follow_labels else torch.full_like(label, 3)
        return torch.stack([self.by_class[int(c)] for c in labels])


@pytest.mark.parametrize('follow_labels, accuracy', [(True, 1.0),
                                                     (False, 0.1)])
def test_accuracy_is_the_share_of_the_requested_class(judge, follow_labels,
                                                       accuracy):
    result = judge.evaluate_generator(
        ReplayGenerator(follow_labels), num_per_class=5, batch_size=25)
    assert result['accuracy'] == pytest.approx(accuracy)
    assert result['confusion'].sum() == 50
    if not follow_labels:
        # Every request is answered with a 3.
        assert (result['confusion'][:, 3] == 5).all()


def test_training_images_set_the_bar(judge):
    result = judge.judge_training_images(100)
    assert result['accuracy'] > 0.99
    # The upscale and shrink round trip blurs the strokes a little: the
    # training images are faithful (precision 1) and cover much of the
    # 1,797 originals, with a little less spread than the originals.
    assert result['precision'] > 0.99
    assert 0.6 < result['recall'] < 0.9
    assert 0.75 < result['diversity'] < 1.0
    assert 0 < result['fd'] < 5


def test_the_bar_weighs_every_digit_the_same(judge):
    # 174 images of the rarest digit (8) among the 1,797: a larger request
    # is cut to that count for all ten.
    _, labels = judge.training_images_per_class(500, image_size=8)
    assert np.bincount(labels).tolist() == [174] * 10
    _, labels = judge.training_images_per_class(3, image_size=8)
    assert np.bincount(labels).tolist() == [3] * 10


def test_a_generator_with_one_image_per_class_is_caught(judge):
    """Right class every time, no variety: accuracy 1, recall and
    within-class diversity 0, a Fréchet distance far above the bar."""
    result = judge.evaluate_generator(
        ReplayGenerator(follow_labels=True), num_per_class=20, batch_size=50)
    bar = judge.judge_training_images(20)
    assert result['accuracy'] == 1.0
    assert result['diversity'] == 0.0
    assert result['recall'] < 0.02 and result['coverage'] < 0.05
    assert result['fd'] > 3 * bar['fd']


def test_thresholds_fail_with_the_numbers(judge):
    from argparse import Namespace
    result = dict(accuracy=0.99, fd=5.0, precision=0.9, recall=0.1,
                  density=1.0, coverage=0.5, diversity=0.7)
    bar = dict(result, fd=2.0)
    args = Namespace(min_accuracy=0.95, max_fd_ratio=2.0, min_precision=None,
                     min_recall=0.5, min_diversity=0.6)
    failures = judge.failed_checks(result, bar, args)
    assert failures == [
        "Frechet distance 5.00 > 2.0 x the training images' 2.00",
        'recall (k=3) 0.100 < 0.5'
    ]
    args.max_fd_ratio, args.min_recall = 3.0, 0.1
    assert judge.failed_checks(result, bar, args) == []
