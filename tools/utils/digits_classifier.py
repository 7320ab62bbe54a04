"""Does a generator trained on the digits draw the digit it is asked for?

An independent judge: a scikit-learn SVM trained on the original 8x8
``load_digits`` data labels generated images after shrinking them back to
8x8 (4x4 box averages of the grey level, rescaled to the 0..16 range of the
original data). The class-conditional accuracy is the share of samples the
judge labels as their conditioning class.

    python tools/utils/digits_classifier.py CONFIG CHECKPOINT \
        [--num-per-class 100] [--seed 0] [--truncation T] \
        [--sample-model ema|orig] \
        [--min-accuracy 0.9]
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


def classify_digits(images: torch.Tensor) -> np.ndarray:
    """Predicted digit ``[N]`` for images ``[N, C, H, W]``."""
    return digits_classifier().predict(to_digits_features(images))


def evaluate_generator(generator: torch.nn.Module,
                       num_per_class: int = 100,
                       seed: int = 0,
                       truncation: Optional[float] = None,
                       batch_size: int = 100) -> dict:
    """Sample ``num_per_class`` images of every digit and judge them.

    Returns:
        dict: ``accuracy`` (float), ``per_class`` (``[10]`` accuracies) and
        ``confusion`` (``[10, 10]`` counts, rows = requested class).
    """
    from mmbiggan.apis import sample_images
    labels = torch.arange(10).repeat_interleave(num_per_class)
    samples = sample_images(
        generator,
        labels=labels,
        truncation=truncation,
        seed=seed,
        batch_size=batch_size)
    predicted = classify_digits(samples.images)
    wanted = labels.numpy()
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (wanted, predicted), 1)
    return dict(
        accuracy=float((predicted == wanted).mean()),
        per_class=confusion.diagonal() / confusion.sum(1),
        confusion=confusion)


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
    parser.add_argument(
        '--min-accuracy',
        type=float,
        default=None,
        help='exit with status 4 when the accuracy is below this')
    args = parser.parse_args(argv)

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
    for digit, accuracy in enumerate(result['per_class']):
        print(f'digit {digit}: {accuracy:.1%}')
    print(f'class-conditional accuracy: {result["accuracy"]:.1%} of '
          f'{10 * args.num_per_class} samples')
    if args.min_accuracy is not None and \
            result['accuracy'] < args.min_accuracy:
        raise CheckFailed(
            f'accuracy {result["accuracy"]:.1%} is below --min-accuracy '
            f'{args.min_accuracy:.1%}.')


if __name__ == '__main__':
    from mmbiggan.utils.errors import run
    sys.exit(run(main))
