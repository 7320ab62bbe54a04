"""Self-attention of SAGAN / BigGAN."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmbiggan.registry import MODELS
from .spectral_norm import SNConv2d


@MODELS.register_module()
class SelfAttentionBlock(nn.Module):
    """Non-local block with max-pooled keys and values and a learned gain.

    Queries (``theta``) and keys (``phi``) have ``C/8`` channels, values
    (``g``) ``C/2``; keys and values are max-pooled 2x2; ``o`` maps the
    attended values back to ``C`` channels; ``out = x + gamma * o``. No
    convolution has a bias. ``gamma`` starts at 0, so the block starts as the
    identity.

    Args:
        in_channels (int): Channels ``C`` (a multiple of 8).
        sn_cfg (dict, optional): Spectral norm of the four convolutions.

    Shapes: ``[N, C, H, W] -> [N, C, H, W]`` with even ``H`` and ``W``.
    """

    def __init__(self, in_channels: int, sn_cfg: Optional[dict] = None):
        super().__init__()
        if in_channels % 8:
            raise ValueError('Self-attention needs channels divisible by 8, '
                             f'got {in_channels}.')
        self.in_channels = in_channels
        key_channels, value_channels = in_channels // 8, in_channels // 2
        self.theta = SNConv2d(
            in_channels, key_channels, 1, bias=False, sn_cfg=sn_cfg)
        self.phi = SNConv2d(
            in_channels, key_channels, 1, bias=False, sn_cfg=sn_cfg)
        self.g = SNConv2d(
            in_channels, value_channels, 1, bias=False, sn_cfg=sn_cfg)
        self.o = SNConv2d(
            value_channels, in_channels, 1, bias=False, sn_cfg=sn_cfg)
        self.gamma = nn.Parameter(torch.tensor(0.))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        theta = self.theta(x).reshape(n, c // 8, h * w)
        phi = F.max_pool2d(self.phi(x), 2).reshape(n, c // 8, h * w // 4)
        g = F.max_pool2d(self.g(x), 2).reshape(n, c // 2, h * w // 4)
        beta = F.softmax(torch.bmm(theta.transpose(1, 2), phi), dim=-1)
        attended = torch.bmm(g, beta.transpose(1, 2)).reshape(n, c // 2, h, w)
        return x + self.gamma * self.o(attended)
