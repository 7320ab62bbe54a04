"""Self-attention of SAGAN / BigGAN."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmbiggan.registry import MODELS
from .derived_cache import (DerivedCacheMixin, DerivedTensorCache,
                            weights_frozen)
from .spectral_norm import SNConv2d


@MODELS.register_module()
class SelfAttentionBlock(DerivedCacheMixin, nn.Module):
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
        self._fused = DerivedTensorCache()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = [layer.normalized_weight()
                   for layer in (self.theta, self.phi, self.g, self.o)]
        if weights_frozen(self, self.gamma, *weights):
            return self._forward_fused(x, weights)
        n, c, h, w = x.shape
        theta = self.theta(x).reshape(n, c // 8, h * w)
        phi = F.max_pool2d(self.phi(x), 2).reshape(n, c // 8, h * w // 4)
        g = F.max_pool2d(self.g(x), 2).reshape(n, c // 2, h * w // 4)
        beta = F.softmax(torch.bmm(theta.transpose(1, 2), phi), dim=-1)
        attended = torch.bmm(g, beta.transpose(1, 2)).reshape(n, c // 2, h, w)
        return x + self.gamma * self.o(attended)

    def _forward_fused(self, x: torch.Tensor, weights: list) -> torch.Tensor:
        """The same attention with frozen weights: one product for queries,
        keys and values (written position-major, as attention reads them),
        pooling on that layout, the fused attention kernel (its scale 1.0 is
        BigGAN's unscaled softmax) and the output map, gain and residual
        sum in one batched multiply-add. Only the rounding differs."""
        n, c, h, w = x.shape
        key_c, value_c = c // 8, c // 2
        qkv_weight, out_weight = self._fused.get(
            (*weights, self.gamma), None, lambda: (
                torch.cat([wt.flatten(1) for wt in weights[:3]]),
                self.gamma * weights[3].flatten(1)))
        flat = x.reshape(n, c, h * w)
        qkv = torch.matmul(flat.transpose(1, 2), qkv_weight.t())
        # Max pooling of keys and values on the [N, C, H, W] view of the
        # position-major map (channels-last strides, no copy).
        kv = qkv[..., key_c:].unflatten(1, (h, w)).permute(0, 3, 1, 2)
        kv = F.max_pool2d(kv, 2).permute(0, 2, 3, 1).reshape(
            n, 1, h * w // 4, key_c + value_c)
        # The CPU's fused kernel wants one head size for queries, keys and
        # values: zero channels added to both leave the products unchanged.
        pad = (0, value_c - key_c)
        attended = F.scaled_dot_product_attention(
            F.pad(qkv[:, None, :, :key_c], pad),
            F.pad(kv[..., :key_c], pad), kv[..., key_c:], scale=1.0)
        out = torch.baddbmm(flat, out_weight.expand(n, c, value_c),
                            attended[:, 0].transpose(1, 2))
        return out.view(n, c, h, w)
