"""Sample a sheet of class-conditional images: one row per class.

    python demo/conditional_demo.py CONFIG CHECKPOINT \
        [--label L [L ...] | --sample-all-classes] [--samples-per-classes N] \
        [--sample-cfg truncation=0.4] [--seed S] [--save-path out.png] \
        [--draw-class-names] [--sample-model ema|orig] [--batch-size B] \
        [--padding P] [--nrow R] [--device cpu|cuda:0]

Without ``--label`` or ``--sample-all-classes``, ``--samples-per-classes``
images of random classes are laid out ``--nrow`` per row (MMGeneration's
behaviour). The same seed gives the same picture on any device.
"""
import argparse
import math
import os.path as osp
import secrets
import sys
from typing import List, Optional, Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:  # running from a clone without installing
    sys.path.insert(0, REPO_ROOT)

from mmbiggan.apis import draw_inputs, iter_samples  # noqa: E402
from mmbiggan.apis.cli import (  # noqa: E402
    UsageError, add_generator_arguments, check_output_folder,
    class_names_for_config, format_classes, load_generator, non_negative_int,
    parse_sample_cfg, positive_int, resolve_device, run, short_class_name,
    truncation_from_args)
from mmbiggan.utils.grid import make_image_grid, save_image_atomic  # noqa
from mmbiggan.utils.image import to_hwc_numpy  # noqa: E402

PAD_VALUE = 255  # white gaps and label margin
TEXT_COLOR = (0, 0, 0)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Sample a class-conditional GAN: a grid PNG with one row '
        'per class.')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'checkpoint', help='checkpoint (tools/train.py iter_N.pth, or a '
        'converted one)')
    parser.add_argument(
        '--save-path',
        default='./work_dirs/demos/conditional_samples.png',
        help='PNG to write (its folder is created)')
    parser.add_argument(
        '--label',
        type=int,
        nargs='+',
        help='classes to sample, one row each in the given order (repeats '
        'are dropped)')
    parser.add_argument(
        '--sample-all-classes',
        action='store_true',
        help='one row for every class of the model')
    parser.add_argument(
        '--samples-per-classes',
        type=positive_int,
        default=5,
        help='images per class (the columns); without --label or '
        '--sample-all-classes: the number of images of random classes')
    parser.add_argument(
        '--seed',
        type=int,
        help='seed of the noise and random classes (default: a fresh one, '
        'printed so that the sheet can be made again)')
    parser.add_argument(
        '--batch-size',
        '--num-batches',
        dest='batch_size',
        type=positive_int,
        default=32,
        help='images per generator call (--num-batches is MMGeneration\'s '
        'name for it)')
    parser.add_argument(
        '--nrow',
        type=positive_int,
        help='images per row of a sheet of random classes (default: a '
        'square-ish grid)')
    parser.add_argument(
        '--padding',
        type=non_negative_int,
        default=2,
        help='pixels between images')
    parser.add_argument(
        '--draw-class-names',
        action='store_true',
        help='write each row\'s class name left of the row')
    add_generator_arguments(parser)
    return parser.parse_args(argv)


def check_output_path(path: str):
    if osp.isdir(path):
        raise UsageError(f'--save-path {path} is a folder; give a .png file '
                         'path.')
    if not path.lower().endswith('.png'):
        raise UsageError(f'--save-path {path}: the sheet is a PNG; give a '
                         'path ending in .png.')
    check_output_folder(osp.dirname(path), '--save-path')


def requested_classes(args: argparse.Namespace,
                      num_classes: int) -> Optional[List[int]]:
    """The classes of the rows, or None for a sheet of random classes."""
    if args.label is None and not args.sample_all_classes:
        if args.draw_class_names:
            raise UsageError('--draw-class-names labels rows of classes; add '
                             '--label or --sample-all-classes.')
        return None
    if num_classes == 0:
        raise UsageError('This model is unconditional (no classes); drop '
                         '--label, --sample-all-classes and '
                         '--draw-class-names.')
    if args.nrow is not None:
        raise UsageError('--nrow sets the columns of a sheet of random '
                         'classes; with classes each row has '
                         '--samples-per-classes images.')
    if args.sample_all_classes:
        if args.label is not None:
            raise UsageError('Give --label or --sample-all-classes, not '
                             'both.')
        return list(range(num_classes))
    bad = [label for label in args.label if not 0 <= label < num_classes]
    if bad:
        raise UsageError(f'--label {bad[0]} is not a class of this model; '
                         f'use labels 0..{num_classes - 1}.')
    return list(dict.fromkeys(args.label))


def generate_images(generator: torch.nn.Module,
                    noise: torch.Tensor,
                    labels: Optional[torch.Tensor],
                    truncation: Optional[float],
                    batch_size: int = 32,
                    progress: bool = False) -> np.ndarray:
    """Generate ``noise``/``labels`` in batches of ``batch_size``: uint8
    images ``[N, H, W, 3]``, RGB."""
    return np.concatenate([
        to_hwc_numpy(batch.images) for batch in iter_samples(
            generator, noise, labels, truncation, batch_size, progress)
    ])


def default_font(size: int) -> ImageFont.ImageFont:
    """Pillow's default font at ``size`` pixels where Pillow can scale it
    (10.1 and later), else its fixed bitmap font."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:
        return ImageFont.load_default()


def draw_row_labels(grid: np.ndarray, names: Sequence[str],
                    cell_height: int, padding: int) -> np.ndarray:
    """``grid`` with a margin on the left holding ``names[i]`` beside row
    ``i``, in Pillow's default font sized to the rows."""
    font = default_font(max(10, cell_height // 8))
    measure = ImageDraw.Draw(Image.new('RGB', (1, 1)))
    boxes = [measure.textbbox((0, 0), name, font=font) for name in names]
    margin = max(box[2] - box[0] for box in boxes) + 2 * max(padding, 4)
    height, width = grid.shape[:2]
    canvas = Image.new('RGB', (margin + width, height), (PAD_VALUE, ) * 3)
    canvas.paste(Image.fromarray(grid), (margin, 0))
    draw = ImageDraw.Draw(canvas)
    for row, (name, box) in enumerate(zip(names, boxes)):
        centre = padding + row * (cell_height + padding) + cell_height / 2
        top = centre - (box[1] + box[3]) / 2
        draw.text((max(padding, 4) - box[0], top), name, fill=TEXT_COLOR,
                  font=font)
    return np.asarray(canvas)


def main(argv: Optional[List[str]] = None):
    args = parse_args(argv)
    check_output_path(args.save_path)
    parse_sample_cfg(args.sample_cfg)  # refuse bad values before loading
    device = resolve_device(args.device)
    model, generator, sample_model = load_generator(
        args.config, args.checkpoint, device, args.sample_model,
        args.trust_pickle)
    truncation = truncation_from_args(args, generator)
    num_classes = getattr(generator, 'num_classes', 0)
    classes = requested_classes(args, num_classes)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)

    per_class = args.samples_per_classes
    if classes is None:
        noise, labels = draw_inputs(generator, per_class, None, truncation,
                                    seed)
        num_columns = args.nrow or math.ceil(math.sqrt(per_class))
    else:
        labels = torch.tensor(classes).repeat_interleave(per_class)
        noise, labels = draw_inputs(generator, labels.numel(), labels,
                                    truncation, seed)
        num_columns = per_class
    names = class_names_for_config(model.cfg, num_classes)
    print(f'Sampling {noise.shape[0]} images on {device} from the '
          f'{sample_model} generator, truncation {truncation}, seed '
          f'{seed} (pass --seed {seed} to get this sheet again).')
    if classes is not None:
        print('Rows: ' + ', '.join(format_classes(classes, names)))

    images = generate_images(generator, noise, labels, truncation,
                             args.batch_size, progress=True)
    print()  # end the progress bar's line
    grid = make_image_grid(images, num_columns, args.padding, PAD_VALUE)
    if args.draw_class_names:
        row_names = [
            short_class_name(names[c]) if names else str(c) for c in classes
        ]
        grid = draw_row_labels(grid, row_names, images.shape[1],
                               args.padding)
    save_image_atomic(grid, args.save_path)
    print(f'Saved {args.save_path} ({grid.shape[1]}x{grid.shape[0]}).')


if __name__ == '__main__':
    sys.exit(run(main))
