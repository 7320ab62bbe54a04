"""Cropping, resizing and flipping RGB images (``[H, W, C]`` arrays)."""
from typing import Sequence, Tuple, Union

import numpy as np
from mmcv.image.geometric import cv2_interp_codes, pillow_interp_codes
from mmcv.transforms import BaseTransform
from mmcv.transforms import RandomFlip as MMCVRandomFlip
from mmcv.transforms import Resize as MMCVResize

from mmbiggan.registry import TRANSFORMS

# mmcv's flip does exactly what is needed: ``RandomFlip(prob=0.5,
# direction='horizontal')`` mirrors ``img`` with probability ``prob`` using
# numpy's global RNG and records ``flip`` / ``flip_direction``.
TRANSFORMS.register_module(name='RandomFlip', module=MMCVRandomFlip)

_INTERPOLATIONS = {'pillow': pillow_interp_codes, 'cv2': cv2_interp_codes}


@TRANSFORMS.register_module()
class Resize(MMCVResize):
    """Resize ``img`` to a fixed size, by default as BigGAN does (Pillow,
    bilinear).

    BigGAN's data (BigGAN-PyTorch, MMGeneration's ImageNet configs) is
    resized by Pillow, whose downscaling filters over the whole footprint;
    OpenCV's bilinear samples only 2x2 pixels and aliases. Updates
    ``img_shape`` and ``scale_factor``.

    Args:
        scale (int | tuple[int, int]): Output ``(width, height)``, or the
            side of a square.
        interpolation (str): Pillow's ``'nearest'``, ``'bilinear'``,
            ``'bicubic'``, ``'box'``, ``'lanczos'`` or ``'hamming'``; with
            cv2, ``'area'`` instead of the last two.
        backend (str): ``'pillow'``, or ``'cv2'`` for OpenCV's resize.
    """

    def __init__(self,
                 scale: Union[int, Tuple[int, int]],
                 interpolation: str = 'bilinear',
                 backend: str = 'pillow'):
        filters = _INTERPOLATIONS.get(backend)
        if filters is None:
            raise ValueError(f'Resize backend must be one of '
                             f'{sorted(_INTERPOLATIONS)}, got {backend!r}.')
        if interpolation not in filters:
            raise ValueError(
                f'Resize interpolation {interpolation!r} is not one of '
                f'{backend}\'s {sorted(filters)}.')
        super().__init__(
            scale=scale, backend=backend, interpolation=interpolation)


class _LongEdgeCrop(BaseTransform):
    """Crop the largest centred-or-random square: the short side is kept,
    the long side cut to it. Updates ``img_shape``.

    Args:
        keys (Sequence[str]): The images to crop, all by the same window.
    """

    def __init__(self, keys: Sequence[str] = ('img', )):
        if isinstance(keys, str) or not keys:
            raise ValueError(f'keys must be a non-empty list of result keys, '
                             f'got {keys!r}.')
        self.keys = tuple(keys)

    def _offset(self, excess: int) -> int:
        """Start of the square along an edge ``excess`` pixels too long."""
        raise NotImplementedError

    def transform(self, results: dict) -> dict:
        height, width = results[self.keys[0]].shape[:2]
        size = min(height, width)
        top, left = self._offset(height - size), self._offset(width - size)
        for key in self.keys:
            results[key] = results[key][top:top + size, left:left + size]
        results['img_shape'] = (size, size)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(keys={self.keys})'


@TRANSFORMS.register_module()
class CenterCropLongEdge(_LongEdgeCrop):
    """Crop the centred square of side ``min(H, W)``.

    The offset is ``round((long - short) / 2)`` as in torchvision's
    ``center_crop``, which BigGAN-PyTorch's ``CenterCropLongEdge`` calls.
    """

    def _offset(self, excess: int) -> int:
        return int(round(excess / 2.0))


@TRANSFORMS.register_module()
class RandomCropLongEdge(_LongEdgeCrop):
    """Crop a square of side ``min(H, W)`` at a random place along the long
    edge (numpy's global RNG).

    Every position is equally likely, including the last one, which
    BigGAN-PyTorch and MMGeneration never draw (``randint``'s exclusive
    upper bound).
    """

    def _offset(self, excess: int) -> int:
        return int(np.random.randint(0, excess + 1)) if excess else 0
