"""Feature extractors other than Inception, registered in
``FEATURE_EXTRACTORS`` and selected like the Inception networks::

    inception_args=dict(type='PixelFeatures', size=8)

Any :class:`~mmbiggan.evaluation.inception.InceptionExtractor` subclass
registered there works in the metrics that read features (FID,
PrecisionRecall, IntraClassFID); IS needs Inception's class logits.
"""
from typing import Optional

import torch
import torch.nn.functional as F

from mmbiggan.registry import FEATURE_EXTRACTORS

from .inception import InceptionExtractor


@FEATURE_EXTRACTORS.register_module()
class PixelFeatures(InceptionExtractor):
    """Pixels as features: ``uint8 [N, 3, H, W]`` images, area-averaged to
    ``size x size`` (when given), scaled to ``[0, 1]`` and flattened to
    ``[N, 3 * size * size]``.

    A feature space that needs no weight file, for small datasets whose
    images Inception was not trained on (the digits) and for tests where
    features must be known by hand.

    Args:
        size (int, optional): Side the images are averaged down to; None
            keeps their size.
    """

    has_logits = False

    def __init__(self, size: Optional[int] = None):
        super().__init__()
        if size is not None and (not isinstance(size, int) or size < 1):
            raise ValueError(f'PixelFeatures size must be an int >= 1 or '
                             f'None, got {size!r}.')
        self.size = size
        # Follows .to(device), so inputs go where the extractor was moved.
        self.register_buffer('anchor', torch.zeros(0), persistent=False)
        # Features of different sizes must not be compared.
        self.style = 'PixelFeatures' if size is None else \
            f'PixelFeatures{size}'

    def _features(self, images: torch.Tensor):
        x = images.to(self.anchor.device).float() / 255
        if self.size is not None and x.shape[-2:] != (self.size, self.size):
            x = F.adaptive_avg_pool2d(x, self.size)
        return x.flatten(1), None
