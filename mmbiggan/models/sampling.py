"""Sampling from a generator: the one code path that the GAN model, demo,
apps, metrics, hooks and tests use, so a seed and a truncation mean the same
everywhere. It sits with the models (not in :mod:`mmbiggan.apis`) because the
GAN model's ``val_step`` samples through it too."""
from typing import Iterator, NamedTuple, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.utils import ProgressBar

from .architectures.base_generator import output_order_to_rgb
from .folding import fold_for_inference
from .layers.truncation import (check_truncation, num_truncation_stats,
                                sample_truncated_noise)


class Samples(NamedTuple):
    images: torch.Tensor  # [N, C, H, W] in [-1, 1], RGB, on the CPU
    noise: torch.Tensor  # [N, noise_size]
    labels: Optional[torch.Tensor]  # [N] int64, None if unconditional


def unwrap_model(model: nn.Module) -> nn.Module:
    """The model inside a DDP (or other ``.module``) wrapper, or the model
    itself: the one unwrapping every part of mmbiggan uses."""
    return getattr(model, 'module', model)


def get_sampling_generator(model: nn.Module,
                           sample_model: str = 'ema') -> nn.Module:
    """The generator of a GAN model to sample from: its EMA copy when
    ``sample_model='ema'`` and the model has one (falling back to the
    trained generator otherwise), or the trained one for ``'orig'``. A bare
    generator is returned as it is."""
    model = unwrap_model(model)
    if sample_model not in ('ema', 'orig'):
        raise ValueError(f"sample_model must be 'ema' or 'orig', got "
                         f'{sample_model!r}.')
    if not hasattr(model, 'generator'):
        return model
    if sample_model == 'ema' and getattr(model, 'generator_ema',
                                         None) is not None:
        return model.generator_ema
    return model.generator


def draw_inputs(generator: nn.Module,
                num_samples: int,
                labels: Union[Sequence[int], torch.Tensor, None] = None,
                truncation: Optional[float] = None,
                seed: Optional[int] = None):
    """Noise ``[N, noise_size]`` and int labels ``[N]`` (None for an
    unconditional generator), drawn on the CPU from ``seed`` so the same
    seed gives the same inputs on any device. Labels, when not given, are
    uniform over the classes; noise is standard normal, or truncated normal
    (:func:`sample_truncated_noise`) when ``truncation`` is set."""
    rng = torch.Generator().manual_seed(
        seed if seed is not None else torch.seed() % 2**63)
    num_classes = getattr(generator, 'num_classes', 0)
    if labels is not None:
        labels = torch.as_tensor(labels, dtype=torch.long).reshape(-1)
        if num_classes == 0:
            raise ValueError('This generator is unconditional; it takes no '
                             'labels.')
        bad = labels[(labels < 0) | (labels >= num_classes)]
        if bad.numel():
            raise ValueError(f'Label {int(bad[0])} is out of range: the '
                             f'model has classes 0..{num_classes - 1}.')
        num_samples = labels.numel()
    if truncation is None:
        noise = torch.randn(num_samples, generator.noise_size, generator=rng)
    else:
        noise = sample_truncated_noise(
            num_samples, generator.noise_size,
            check_truncation(truncation, num_truncation_stats(generator)),
            generator=rng)
    if num_classes and labels is None:
        labels = torch.randint(0, num_classes, (num_samples, ), generator=rng)
    return noise, labels


@torch.no_grad()
def iter_samples(generator: nn.Module,
                 noise: torch.Tensor,
                 labels: Optional[torch.Tensor],
                 truncation: Optional[float] = None,
                 batch_size: int = 32,
                 progress: bool = False) -> Iterator[Samples]:
    """Run ``generator`` in eval mode over ``noise``/``labels`` in batches
    of ``batch_size``, yielding :class:`Samples` on the CPU (RGB even when
    the generator outputs BGR). The batches come from one folded copy
    (:func:`fold_for_inference`); ``generator`` itself is left as it is."""
    folded = fold_for_inference(generator, truncation)
    device = next(folded.parameters()).device
    rgb2bgr = getattr(generator, 'rgb2bgr', False)
    bar = ProgressBar(noise.shape[0]) if progress else None
    for start in range(0, noise.shape[0], batch_size):
        z = noise[start:start + batch_size]
        y = None if labels is None else labels[start:start + batch_size]
        images = folded(
            z.to(device),
            None if y is None else y.to(device),
            truncation=truncation)
        images = output_order_to_rgb(images, rgb2bgr)
        if bar is not None:
            bar.update(z.shape[0])
        yield Samples(images.float().cpu(), z, y)


def sample_images(generator: nn.Module,
                  num_samples: int = 0,
                  labels: Union[Sequence[int], torch.Tensor, None] = None,
                  truncation: Optional[float] = None,
                  seed: Optional[int] = None,
                  batch_size: int = 32,
                  progress: bool = False) -> Samples:
    """Draw inputs with :func:`draw_inputs` and generate all images."""
    noise, labels = draw_inputs(generator, num_samples, labels, truncation,
                                seed)
    batches = list(
        iter_samples(generator, noise, labels, truncation, batch_size,
                     progress))
    return Samples(
        torch.cat([b.images for b in batches]), noise, labels)
