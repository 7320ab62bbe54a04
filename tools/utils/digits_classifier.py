"""Does a generator trained on the digits draw the digits it is asked for,
and all the ways they are written?

An independent judge, fitted on scikit-learn's original 8x8 ``load_digits``
data only, looks at generated images shrunk back to 8x8 (box averages of the
grey level, rescaled to the 0..16 range of the original data):

* class accuracy: the share of samples an RBF SVM labels as their
  conditioning class (fidelity to the label);
* Fréchet distance, improved precision/recall (k = 3) and density/coverage
  in the 64 hidden ReLU features of a small MLP classifier, against all
  1,797 original digits (distribution, fidelity, diversity);
* within-class diversity: mean pairwise feature distance of each class's
  samples over that of the class's original digits, averaged over classes.

Each number is printed next to the value the training images themselves
get through the same pipeline (upscaled to 32x32 as the dataset does, then
shrunk back): a generator cannot be expected to beat that row. Thresholds
make the command fail (exit status 4) for use in tests and CI.

    python tools/utils/digits_classifier.py CONFIG CHECKPOINT \
        [--num-per-class 100] [--seed 0] [--truncation T] \
        [--sample-model ema|orig] \
        [--min-accuracy 0.95] [--min-recall 0.5] [--min-diversity 0.6] \
        [--max-fd-ratio 2]
"""
import argparse
import functools
import os.path as osp
import sys
from typing import Optional

import numpy as np
import torch
from PIL import Image

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

DIGITS_SIZE = 8
DIGITS_MAX_VALUE = 16.0


@functools.lru_cache(maxsize=1)
def digits_classifier():
    """An RBF SVM fitted on all 1,797 original digits (64 features in
    0..16); about 99% accurate on held-out digits."""
    from sklearn.datasets import load_digits
    from sklearn.svm import SVC
    digits = load_digits()
    return SVC(gamma=0.001, C=10.0).fit(digits.data, digits.target)


def to_digits_features(images: torch.Tensor) -> np.ndarray:
    """Images ``[N, C, H, W]`` (float in ``[-1, 1]`` or uint8) -> the
    classifier's ``[N, 64]`` features: grey level, box-downsampled to 8x8,
    scaled to 0..16."""
    if images.dim() != 4:
        raise ValueError('images must be [N, C, H, W], got shape '
                         f'{tuple(images.shape)}.')
    images = images.detach().cpu()
    if images.dtype == torch.uint8:
        grey = images.float().mean(1)
    else:
        grey = ((images.float().mean(1) + 1) * 127.5).clamp(0, 255)
    grey = grey.numpy()
    num, height, width = grey.shape
    if height % DIGITS_SIZE == 0 and width % DIGITS_SIZE == 0:
        small = grey.reshape(num, DIGITS_SIZE, height // DIGITS_SIZE,
                             DIGITS_SIZE, width // DIGITS_SIZE).mean((2, 4))
    else:
        small = np.stack([
            np.asarray(
                Image.fromarray(g, mode='F').resize(
                    (DIGITS_SIZE, DIGITS_SIZE), Image.BOX)) for g in grey
        ])
    return small.reshape(num, -1) * (DIGITS_MAX_VALUE / 255.0)


@functools.lru_cache(maxsize=1)
def digits_feature_net():
    """A one-hidden-layer MLP (64 ReLU units) fitted on all 1,797 original
    digits (inputs scaled to 0..1); about 96% accurate on held-out digits.
    Its hidden layer is the judge's feature space."""
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier
    digits = load_digits()
    return MLPClassifier(
        hidden_layer_sizes=(64, ), alpha=1e-3, max_iter=1000,
        random_state=0).fit(digits.data / DIGITS_MAX_VALUE, digits.target)


def digits_embedding(features: np.ndarray) -> np.ndarray:
    """The judge's feature vectors ``[N, 64]`` of digit features ``[N, 64]``
    in 0..16 (:func:`to_digits_features` or ``load_digits().data``)."""
    net = digits_feature_net()
    hidden = (features / DIGITS_MAX_VALUE) @ net.coefs_[0] + \
        net.intercepts_[0]
    return np.maximum(hidden, 0)


def classify_digits(images: torch.Tensor) -> np.ndarray:
    """Predicted digit ``[N]`` for images ``[N, C, H, W]``."""
    return digits_classifier().predict(to_digits_features(images))


def reference_digits():
    """The original digits as the judge sees them: ``(features [1797, 64]
    in 0..16, labels [1797])``."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    return digits.data, digits.target


def judge_images(images: torch.Tensor, labels: np.ndarray) -> dict:
    """Judge images ``[N, C, H, W]`` that should show the digits ``labels``
    ``[N]`` (every digit at least twice).

    Returns:
        dict: ``accuracy``, ``per_class`` ``[10]``, ``confusion`` ``[10,
        10]`` (rows: requested digit), ``fd``, ``precision``, ``recall``,
        ``density``, ``coverage`` and ``diversity`` (within-class spread
        relative to the original digits).
    """
    from mmbiggan.evaluation import frechet_distance, feature_statistics
    from mmbiggan.evaluation.manifold import (manifold_metrics,
                                              mean_pairwise_distance)
    labels = np.asarray(labels)
    digit_features = to_digits_features(images)
    predicted = digits_classifier().predict(digit_features)
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    if (confusion.sum(1) < 2).any():
        raise ValueError('The judge needs at least two samples of every '
                         'digit.')

    fake = digits_embedding(digit_features)
    real_digits, real_labels = reference_digits()
    real = digits_embedding(real_digits)
    fd = frechet_distance(*feature_statistics(fake),
                          *feature_statistics(real),
                          num_samples=(len(fake), len(real))).fid
    manifold = manifold_metrics(real, fake, k=3)
    diversity = np.mean([
        mean_pairwise_distance(fake[labels == digit]) /
        mean_pairwise_distance(real[real_labels == digit])
        for digit in range(10)
    ])
    return dict(
        accuracy=float((predicted == labels).mean()),
        per_class=confusion.diagonal() / confusion.sum(1),
        confusion=confusion,
        fd=float(fd),
        diversity=float(diversity),
        **manifold._asdict())


def training_images_per_class(num_per_class: int, image_size: int = 32):
    """The first ``n`` training images of every digit as the dataset serves
    them (uint8 ``[10 * n, 3, S, S]``) and their labels, ``n`` being
    ``num_per_class`` or, if fewer, the count of the rarest digit (so every
    digit weighs the same)."""
    from mmbiggan.datasets.digits import upscale_digits
    from sklearn.datasets import load_digits
    digits = load_digits()
    num_per_class = min(num_per_class, int(np.bincount(digits.target).min()))
    picks = np.concatenate([
        np.flatnonzero(digits.target == digit)[:num_per_class]
        for digit in range(10)
    ])
    images = upscale_digits(digits.images[picks], image_size)
    return torch.from_numpy(images).permute(0, 3, 1, 2), digits.target[picks]


def judge_training_images(num_per_class: int = 100,
                          image_size: int = 32) -> dict:
    """:func:`judge_images` of the training images themselves, the bar a
    generator is measured against (see :func:`training_images_per_class`
    for how many)."""
    images, labels = training_images_per_class(num_per_class, image_size)
    return judge_images(images, labels)


def evaluate_generator(generator: torch.nn.Module,
                       num_per_class: int = 100,
                       seed: int = 0,
                       truncation: Optional[float] = None,
                       batch_size: int = 100) -> dict:
    """Sample ``num_per_class`` images of every digit and judge them with
    :func:`judge_images`."""
    from mmbiggan.apis import sample_images
    labels = torch.arange(10).repeat_interleave(num_per_class)
    samples = sample_images(
        generator,
        labels=labels,
        truncation=truncation,
        seed=seed,
        batch_size=batch_size)
    return judge_images(samples.images, labels.numpy())


# (result key, label, format, threshold option, kind of bound)
REPORT_ROWS = (
    ('accuracy', 'class accuracy', '{:.3f}', 'min_accuracy', 'min'),
    ('fd', 'Frechet distance', '{:.2f}', 'max_fd_ratio', 'ratio'),
    ('precision', 'precision (k=3)', '{:.3f}', 'min_precision', 'min'),
    ('recall', 'recall (k=3)', '{:.3f}', 'min_recall', 'min'),
    ('density', 'density (k=3)', '{:.3f}', None, None),
    ('coverage', 'coverage (k=3)', '{:.3f}', None, None),
    ('diversity', 'within-class diversity / real', '{:.3f}',
     'min_diversity', 'min'),
)


def failed_checks(result: dict, baseline: dict, args) -> list:
    """The thresholds of ``args`` that ``result`` misses, as sentences."""
    failures = []
    for key, label, fmt, option, bound in REPORT_ROWS:
        limit = None if option is None else getattr(args, option)
        if limit is None:
            continue
        value = result[key]
        if bound == 'min' and value < limit:
            failures.append(f'{label} {fmt.format(value)} < {limit}')
        elif bound == 'ratio' and value > limit * baseline[key]:
            failures.append(
                f'{label} {fmt.format(value)} > {limit} x the training '
                f'images\' {fmt.format(baseline[key])}')
    return failures


def main(argv=None):
    from mmbiggan.apis.cli import add_truncation_argument
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='training config of the model')
    parser.add_argument('checkpoint', help='checkpoint to judge')
    parser.add_argument('--num-per-class', type=int, default=100)
    parser.add_argument('--seed', type=int, default=0)
    add_truncation_argument(parser)
    parser.add_argument('--sample-model', choices=['ema', 'orig'],
                        default='ema')
    parser.add_argument('--device', default='cpu')
    thresholds = parser.add_argument_group(
        'thresholds', 'exit with status 4 when a number misses its bound')
    thresholds.add_argument('--min-accuracy', type=float, default=None)
    thresholds.add_argument('--min-precision', type=float, default=None)
    thresholds.add_argument('--min-recall', type=float, default=None)
    thresholds.add_argument(
        '--min-diversity', type=float, default=None,
        help='within-class diversity relative to the original digits')
    thresholds.add_argument(
        '--max-fd-ratio', type=float, default=None,
        help='Frechet distance at most this times the training images\'')
    args = parser.parse_args(argv)
    if args.num_per_class < 2:
        parser.error('--num-per-class must be at least 2.')

    from mmbiggan.apis import get_sampling_generator, init_model
    from mmbiggan.apis.cli import UsageError, check_truncation_option
    from mmbiggan.utils.errors import CheckFailed
    model = init_model(args.config, args.checkpoint, device=args.device)
    generator = get_sampling_generator(model, args.sample_model)
    if getattr(generator, 'num_classes', 0) != 10:
        raise UsageError(
            'the digits judge needs a generator with 10 classes, this one '
            f'has {getattr(generator, "num_classes", 0)}.')
    truncation = check_truncation_option(args.truncation, '--truncation',
                                         generator)
    result = evaluate_generator(generator, args.num_per_class, args.seed,
                                truncation)
    baseline = judge_training_images(args.num_per_class,
                                     getattr(generator, 'output_scale', 32))
    for digit, accuracy in enumerate(result['per_class']):
        print(f'digit {digit}: {accuracy:.1%}')
    count = 10 * args.num_per_class
    print(f'\n{"":32}{"generated":>12}{"training images":>18}')
    for key, label, fmt, _, _ in REPORT_ROWS:
        print(f'{label:32}{fmt.format(result[key]):>12}'
              f'{fmt.format(baseline[key]):>18}')
    print(f'class-conditional accuracy: {result["accuracy"]:.1%} of '
          f'{count} samples')
    failures = failed_checks(result, baseline, args)
    if failures:
        raise CheckFailed('; '.join(failures) + '.')


if __name__ == '__main__':
    from mmbiggan.utils.errors import run
    sys.exit(run(main))
