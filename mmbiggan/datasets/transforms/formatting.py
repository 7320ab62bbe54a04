"""Packing a transformed sample into the item format the GAN models read."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement

from mmbiggan.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackInputs(BaseTransform):
    """Pack an RGB image and its label into a dataset item.

    Required keys: ``img`` (uint8 ``[H, W, 3]`` RGB array); optional
    ``gt_label`` (int) and the keys named in ``meta_keys``.

    Returns ``dict(inputs=uint8 tensor [3, H, W], data_samples=
    BaseDataElement)`` whose data sample holds ``gt_label`` as an int64 0-d
    tensor (when the sample has one) and the present ``meta_keys`` as
    metainfo.

    Args:
        meta_keys (Sequence[str]): Keys copied into the data sample's
            metainfo when present.
    """

    def __init__(self,
                 meta_keys: Sequence[str] = ('img_path', 'ori_shape',
                                             'img_shape', 'flip',
                                             'sample_idx')):
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        img = results.get('img')
        if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or (
                img.ndim != 3 or img.shape[2] != 3):
            described = (f'{img.dtype} array of shape {img.shape}' if
                         isinstance(img, np.ndarray) else type(img).__name__)
            raise ValueError(
                'PackInputs expects results["img"] as a uint8 [H, W, 3] RGB '
                f'array, got a {described}; load images with '
                'LoadImageFromFile and do not normalize before packing.')
        # Flips leave negative strides that torch.from_numpy rejects.
        inputs = torch.from_numpy(
            np.ascontiguousarray(img.transpose(2, 0, 1)))
        data_sample = BaseDataElement(metainfo={
            key: results[key]
            for key in self.meta_keys if key in results
        })
        if results.get('gt_label') is not None:
            data_sample.gt_label = torch.tensor(
                int(results['gt_label']), dtype=torch.int64)
        return dict(inputs=inputs, data_samples=data_sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
