"""Differentiable augmentation of the discriminator's inputs (DiffAugment).

Zhao, Liu, Lin, Zhu and Han, "Differentiable Augmentation for Data-Efficient
GAN Training", NeurIPS 2020. Real and generated images are augmented with
the same random family of transforms before every discriminator call, in
the discriminator step and in the generator step; the transforms are
differentiable, so the generator learns through them. The operations and
their constants are those of the authors' ``DiffAugment_pytorch.py``:

- ``'color'``: brightness ``x + (u - 0.5)``, then saturation
  ``(x - mean_C(x)) * 2u + mean_C(x)``, then contrast
  ``(x - mean_CHW(x)) * (u + 0.5) + mean_CHW(x)``, each ``u ~ U[0, 1)``
  drawn per sample;
- ``'translation'``: shifts by integers ``(dy, dx)`` drawn per sample from
  ``[-s, s]``, ``s = int(H * ratio + 0.5)`` (``W`` for ``dx``), ratio 1/8,
  with zero fill: ``out[n, :, i, j] = x[n, :, i + dy, j + dx]``, 0 where
  that index leaves the image;
- ``'cutout'``: zeroes a ``int(H * ratio + 0.5) x int(W * ratio + 0.5)``
  square (ratio 1/2) per sample, centred at a random position, clipped at
  the border.

The random numbers are drawn in the reference's order and shapes, so with
the same torch seed the output equals the reference's on the CPU. They come
from torch's global RNG (which checkpoints save and resume restores) or an
explicit ``torch.Generator``. Every sample gets its own draws and no value
is read back to the host.
"""
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn

from mmbiggan.registry import MODELS

OPERATIONS = ('color', 'translation', 'cutout')


def _uniform(x: torch.Tensor,
             generator: Optional[torch.Generator]) -> torch.Tensor:
    """``u ~ U[0, 1)`` per sample, ``[N, 1, 1, 1]``."""
    return torch.rand(x.shape[0], 1, 1, 1, dtype=x.dtype, device=x.device,
                      generator=generator)


def random_brightness(x: torch.Tensor,
                      generator: Optional[torch.Generator] = None
                      ) -> torch.Tensor:
    """Add ``u - 0.5`` to every pixel of a sample."""
    return x + (_uniform(x, generator) - 0.5)


def random_saturation(x: torch.Tensor,
                      generator: Optional[torch.Generator] = None
                      ) -> torch.Tensor:
    """Scale each pixel's deviation from its channel mean by ``2u``."""
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (_uniform(x, generator) * 2) + mean


def random_contrast(x: torch.Tensor,
                    generator: Optional[torch.Generator] = None
                    ) -> torch.Tensor:
    """Scale a sample's deviation from its mean by ``u + 0.5``."""
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_uniform(x, generator) + 0.5) + mean


def random_color(x: torch.Tensor,
                 generator: Optional[torch.Generator] = None
                 ) -> torch.Tensor:
    """Brightness, saturation and contrast, in this order."""
    x = random_brightness(x, generator)
    x = random_saturation(x, generator)
    return random_contrast(x, generator)


def translate(x: torch.Tensor, shift_h: torch.Tensor,
              shift_w: torch.Tensor) -> torch.Tensor:
    """``out[n, :, i, j] = x[n, :, i + shift_h[n], j + shift_w[n]]``, zero
    where the index leaves the image.

    Args:
        x (Tensor): ``[N, C, H, W]``.
        shift_h, shift_w (Tensor): Integer shifts ``[N]``.
    """
    num, channels, height, width = x.shape
    rows = torch.arange(height, device=x.device) + shift_h.view(num, 1)
    cols = torch.arange(width, device=x.device) + shift_w.view(num, 1)
    inside = ((rows >= 0) & (rows < height)).view(num, 1, height, 1) & \
        ((cols >= 0) & (cols < width)).view(num, 1, 1, width)
    # One gather over the flattened pixels; indices outside the image are
    # clamped to a valid pixel and then masked to zero.
    index = rows.clamp(0, height - 1).view(num, height, 1) * width + \
        cols.clamp(0, width - 1).view(num, 1, width)
    index = index.view(num, 1, height * width).expand(num, channels, -1)
    moved = x.reshape(num, channels, height * width).gather(2, index)
    return torch.where(inside, moved.view(num, channels, height, width),
                       torch.zeros((), dtype=x.dtype, device=x.device))


def random_translation(x: torch.Tensor,
                       generator: Optional[torch.Generator] = None,
                       ratio: float = 0.125) -> torch.Tensor:
    """:func:`translate` by shifts drawn uniformly from ``[-s, s]``,
    ``s = int(size * ratio + 0.5)`` per axis."""
    num, _, height, width = x.shape
    max_h, max_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
    shift_h = torch.randint(-max_h, max_h + 1, (num, 1, 1), device=x.device,
                            generator=generator)
    shift_w = torch.randint(-max_w, max_w + 1, (num, 1, 1), device=x.device,
                            generator=generator)
    return translate(x, shift_h, shift_w)


def cutout(x: torch.Tensor, center_h: torch.Tensor, center_w: torch.Tensor,
           size: Sequence[int]) -> torch.Tensor:
    """Zero rows ``center_h - size[0] // 2`` to ``... + size[0] - 1`` times
    the same span of columns around ``center_w`` (clipped at the border).

    Args:
        x (Tensor): ``[N, C, H, W]``.
        center_h, center_w (Tensor): Integer centres ``[N]``.
        size (tuple[int, int]): Height and width of the square.
    """
    num, _, height, width = x.shape
    top = (center_h.view(num, 1) - size[0] // 2)
    left = (center_w.view(num, 1) - size[1] // 2)
    rows = torch.arange(height, device=x.device) - top
    cols = torch.arange(width, device=x.device) - left
    in_rows = ((rows >= 0) & (rows < size[0])).view(num, 1, height, 1)
    in_cols = ((cols >= 0) & (cols < size[1])).view(num, 1, 1, width)
    return x * (~(in_rows & in_cols)).to(x.dtype)


def random_cutout(x: torch.Tensor,
                  generator: Optional[torch.Generator] = None,
                  ratio: float = 0.5) -> torch.Tensor:
    """:func:`cutout` of a ``ratio``-sized square; the centre is drawn from
    ``[0, H]`` for even sizes and ``[0, H - 1]`` for odd ones (likewise
    along W), so the square always overlaps the image."""
    num, _, height, width = x.shape
    size = (int(height * ratio + 0.5), int(width * ratio + 0.5))
    center_h = torch.randint(0, height + 1 - size[0] % 2, (num, 1, 1),
                             device=x.device, generator=generator)
    center_w = torch.randint(0, width + 1 - size[1] % 2, (num, 1, 1),
                             device=x.device, generator=generator)
    return cutout(x, center_h, center_w, size)


def parse_policy(policy: Union[str, Sequence[str]]) -> tuple:
    """``'color,translation'`` or ``['color', 'translation']`` as a tuple of
    operation names; unknown names are refused."""
    names = policy.split(',') if isinstance(policy, str) else list(policy)
    names = tuple(name.strip() for name in names if name.strip())
    unknown = [name for name in names if name not in OPERATIONS]
    if unknown:
        raise ValueError(f'Unknown DiffAugment operation {unknown[0]!r} in '
                         f'policy {policy!r}; choose from {OPERATIONS} '
                         "(comma-separated, e.g. 'color,translation,"
                         "cutout').")
    return names


@MODELS.register_module()
class DiffAugment(nn.Module):
    """Differentiable augmentation applied to every discriminator input.

    ``[N, C, H, W]`` in, the same shape, dtype and memory format out
    (``channels_last`` stays ``channels_last``); gradients flow to the
    input through every operation. See the module docstring for the
    formulas.

    Args:
        policy (str | list[str]): Operations applied in the given order,
            from ``'color'``, ``'translation'``, ``'cutout'``;
            ``'color,translation,cutout'`` (the paper's choice for
            limited data) by default.
        translation_ratio (float): Largest shift as a fraction of the image
            side (1/8 in the paper).
        cutout_ratio (float): Side of the cut-out square as a fraction of
            the image side (1/2 in the paper).
    """

    def __init__(self,
                 policy: Union[str, Sequence[str]] = 'color,translation,'
                 'cutout',
                 translation_ratio: float = 0.125,
                 cutout_ratio: float = 0.5):
        super().__init__()
        self.policy = parse_policy(policy)
        if not self.policy:
            raise ValueError('DiffAugment needs at least one operation in '
                             f'policy (from {OPERATIONS}); set augment=None '
                             'to train without augmentation.')
        if not 0 <= translation_ratio < 1 or not 0 < cutout_ratio <= 1:
            raise ValueError('DiffAugment needs 0 <= translation_ratio < 1 '
                             f'and 0 < cutout_ratio <= 1, got '
                             f'{translation_ratio} and {cutout_ratio}.')
        self.translation_ratio = translation_ratio
        self.cutout_ratio = cutout_ratio

    def extra_repr(self) -> str:
        return (f"policy='{','.join(self.policy)}', translation_ratio="
                f'{self.translation_ratio}, cutout_ratio={self.cutout_ratio}')

    def forward(self,
                images: torch.Tensor,
                generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Augment ``images`` ``[N, C, H, W]``, each sample with its own
        random draws from ``generator`` (torch's global RNG when None)."""
        if images.dim() != 4:
            raise ValueError('DiffAugment expects images [N, C, H, W], got '
                             f'shape {tuple(images.shape)}.')
        channels_last = images.dim() == 4 and images.shape[1] > 1 and \
            images.is_contiguous(memory_format=torch.channels_last) and \
            not images.is_contiguous()
        out = images
        for name in self.policy:
            if name == 'color':
                out = random_color(out, generator)
            elif name == 'translation':
                out = random_translation(out, generator,
                                         self.translation_ratio)
            else:
                out = random_cutout(out, generator, self.cutout_ratio)
        if channels_last:
            # The discriminator of a channels_last model expects it; the
            # gather of the translation returns a contiguous tensor.
            out = out.contiguous(memory_format=torch.channels_last)
        return out
