"""Mode-seeking regularization of conditional generators (MSGAN)."""
from typing import Optional, Tuple

import torch
import torch.nn as nn

from mmbiggan.registry import MODELS


@MODELS.register_module()
class ModeSeekingLoss(nn.Module):
    """Reward a generator for images that differ as much as their noises do
    (Mao, Lee, Tseng, Ma and Yang, "Mode Seeking Generative Adversarial
    Networks for Diverse Image Synthesis", CVPR 2019).

    The batch is split into pairs ``(i, i + N // 2)`` that share their
    condition (:meth:`pair_labels`) and differ in noise. With

        ratio = mean |G(z_a, y) - G(z_b, y)| / mean |z_a - z_b|

    (means over all pairs and elements, as the authors' code takes them)
    the loss added to the generator's is ``loss_weight / (ratio + eps)``: a
    generator that ignores its noise (ratio 0) pays ``loss_weight / eps``,
    so noise that does not change the image is pushed to change it.

    Args:
        loss_weight (float): ``lambda`` of the paper (1 in its experiments).
        eps (float): Keeps the loss finite for identical images (1e-5 in the
            authors' code).
    """

    def __init__(self, loss_weight: float = 1.0, eps: float = 1e-5):
        super().__init__()
        if loss_weight <= 0 or eps <= 0:
            raise ValueError('ModeSeekingLoss needs loss_weight > 0 and eps '
                             f'> 0, got {loss_weight} and {eps}.')
        self.loss_weight = loss_weight
        self.eps = eps

    def extra_repr(self) -> str:
        return f'loss_weight={self.loss_weight}, eps={self.eps}'

    @staticmethod
    def pair_labels(labels: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        """``labels`` ``[N]`` with the second half replaced by the first, so
        pairs ``(i, i + N // 2)`` share a class (an odd last item is left
        alone). Each label stays uniform when the input's are."""
        if labels is None:
            return None
        half = labels.shape[0] // 2
        paired = labels.clone()
        paired[half:2 * half] = labels[:half]
        return paired

    @staticmethod
    def _halves(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        half = x.shape[0] // 2
        if half == 0:
            raise ValueError('ModeSeekingLoss needs a batch of at least two '
                             'samples to pair.')
        return x[:half], x[half:2 * half]

    def forward(self, images: torch.Tensor,
                noise: torch.Tensor) -> torch.Tensor:
        """The loss for ``images`` ``[N, C, H, W]`` generated from ``noise``
        ``[N, noise_size]`` with labels from :meth:`pair_labels`."""
        images_a, images_b = self._halves(images.float())
        noise_a, noise_b = self._halves(noise.float())
        ratio = (images_a - images_b).abs().mean() / \
            (noise_a - noise_b).abs().mean()
        return self.loss_weight / (ratio + self.eps)
