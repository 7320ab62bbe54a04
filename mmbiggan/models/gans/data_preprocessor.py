"""Turning dataset items into the tensors a GAN trains on."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from mmbiggan.registry import MODELS


@MODELS.register_module()
class GANDataPreprocessor(BaseDataPreprocessor):
    """Stack a batch of dataset items and move it to the model's device.

    Items are ``dict(inputs=uint8 [3, H, W] RGB, data_samples=BaseDataElement
    with gt_label)``; after the default ``pseudo_collate`` ``inputs`` is a
    list of such tensors (a stacked ``[N, 3, H, W]`` uint8 tensor works too).

    Returns ``dict(inputs, labels, data_samples)``: images ``[N, 3, H, W]``
    float32 in ``[-1, 1]`` (``x / 127.5 - 1``), labels ``[N]`` int64 (None
    when the items carry no ``gt_label``), and the data samples as given.
    Images travel to the device as uint8 (a quarter of the bytes) and are
    converted there.

    Args:
        channels_last (bool): Return images in channels-last memory format
            (faster convolutions with AMP on recent GPUs).
        non_blocking (bool): Asynchronous host-to-device copies.
    """

    def __init__(self, channels_last: bool = False, non_blocking: bool = True):
        super().__init__(non_blocking=non_blocking)
        self.channels_last = channels_last
        # Set by the GAN model so out-of-range labels fail here, on the CPU,
        # with the fix, instead of deep inside an embedding lookup.
        self.num_classes: Optional[int] = None

    @staticmethod
    def _stack_images(inputs) -> torch.Tensor:
        if isinstance(inputs, torch.Tensor):
            images = inputs
        elif isinstance(inputs, Sequence) and len(inputs) and all(
                isinstance(x, torch.Tensor) for x in inputs):
            shapes = {tuple(x.shape) for x in inputs}
            if len(shapes) > 1:
                raise ValueError('Images of one batch must share a shape; got '
                                 f'{sorted(shapes)}. Resize them in the '
                                 'dataset pipeline.')
            images = torch.stack(list(inputs))
        else:
            raise TypeError('data["inputs"] must be a list of image tensors '
                            f'or a tensor, got {type(inputs).__name__}.')
        if images.dim() != 4:
            raise ValueError('Images must be [C, H, W] each (batch [N, C, H, '
                             f'W]); got a batch of shape {tuple(images.shape)}.')
        if images.dtype != torch.uint8:
            raise TypeError('GANDataPreprocessor expects uint8 images in [0, '
                            f'255], got {images.dtype}; end the dataset '
                            'pipeline with the packing transform, not a '
                            'normalization.')
        return images

    def _stack_labels(self, data_samples) -> Optional[torch.Tensor]:
        if not data_samples or not all(
                hasattr(s, 'gt_label') for s in data_samples):
            return None
        labels = torch.stack([
            torch.as_tensor(s.gt_label).reshape(()) for s in data_samples
        ]).long()
        # The labels are still on the CPU: checking them costs no sync.
        if self.num_classes is not None and labels.numel() and (
                int(labels.min()) < 0
                or int(labels.max()) >= self.num_classes):
            bad = labels[(labels < 0) | (labels >= self.num_classes)]
            raise ValueError(
                f'Label {int(bad[0])} is out of range: the model has classes '
                f'0..{self.num_classes - 1}. Check the dataset annotations or '
                'num_classes in the config.')
        return labels

    def forward(self, data: dict, training: bool = False) -> dict:
        """``data`` from the dataloader -> ``dict(inputs, labels,
        data_samples)`` on the device (see the class docstring)."""
        if not isinstance(data, dict) or 'inputs' not in data:
            raise TypeError('A data batch must be a dict with "inputs" (and '
                            '"data_samples"), as the datasets produce.')
        data_samples = data.get('data_samples')
        images = self.cast_data(self._stack_images(data['inputs']))
        labels = self._stack_labels(data_samples)
        if labels is not None:
            labels = self.cast_data(labels)
        images = images.float() / 127.5 - 1
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        return dict(inputs=images, labels=labels, data_samples=data_samples)
