"""Residual blocks of BigGAN and BigGAN-Deep, and the SNGAN / SAGAN blocks
that are BigGAN's with SNGAN's conditioning and pre-activation.

Every block is registered so ``blocks_cfg=dict(type=...)`` in a generator or
discriminator config can swap it; the architecture passes the arguments
shared by all blocks (``act_cfg``, ``sn_cfg``, ...).
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer

from mmbiggan.registry import MODELS
from .conditional_norm import ConditionalBatchNorm2d
from .spectral_norm import SNConv2d
from .upsampling import add_upsampled


def norm_act(norm: ConditionalBatchNorm2d, activation: nn.Module,
             x: torch.Tensor, cond=None,
             truncation: Optional[float] = None) -> torch.Tensor:
    """``activation(norm(x, cond, truncation))``; a ReLU runs in place on
    the fresh batch-norm output when autograd is off (one allocation and
    one pass over the map less). Shapes: ``[N, C, H, W]`` in and out."""
    out = norm(x, cond, truncation)
    if type(activation) is nn.ReLU and not torch.is_grad_enabled():
        return out.relu_()
    return activation(out)


class _GenBlockBase(nn.Module):
    """Holds what generator blocks share: the activation, the upsampling and
    a factory of class-conditional batch norms.

    ``upsampled_conv`` names the convolution that runs on the upsampled map
    (through its ``forward_upsampled``), for
    :func:`mmbiggan.models.fold_for_inference`.
    """

    upsampled_conv: str

    def __init__(self,
                 cond_dim: int,
                 num_classes: int,
                 act_cfg: dict,
                 upsample: bool,
                 bn_eps: float,
                 num_bn_stats: int,
                 sn_cfg: Optional[dict],
                 sync_bn: bool,
                 bn_options: Optional[dict] = None):
        super().__init__()
        self.activation = build_activation_layer(act_cfg)
        self.upsample = upsample
        # BigGAN-PyTorch normalizes the condition projections but keeps
        # per-class tables (no shared embedding) plain.
        self._bn_kwargs = dict(
            cond_dim=cond_dim,
            num_classes=num_classes,
            eps=bn_eps,
            num_stats=num_bn_stats,
            sn_cfg=sn_cfg if cond_dim else None,
            sync_stats=sync_bn)
        self._bn_kwargs.update(bn_options or {})

    def _make_bn(self, channels: int) -> ConditionalBatchNorm2d:
        return ConditionalBatchNorm2d(channels, **self._bn_kwargs)

    def _norm_act(self, norm: ConditionalBatchNorm2d, x: torch.Tensor,
                  cond, truncation: Optional[float]) -> torch.Tensor:
        return norm_act(norm, self.activation, x, cond, truncation)


@MODELS.register_module()
class BigGANGenResBlock(_GenBlockBase):
    """BigGAN generator block: ``BN-act-[up]-conv3x3-BN-act-conv3x3`` plus a
    ``[up]-conv1x1`` shortcut (learned when channels change or it upsamples).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        cond_dim (int): Size of the condition vector of the batch norms
            (shared class embedding + noise chunk), 0 when they are indexed
            by labels or unconditional.
        num_classes (int): Classes of label-indexed batch norms, 0 otherwise.
        upsample (bool): Double the resolution (nearest neighbour).
        act_cfg (dict): Activation config (mmcv).
        sn_cfg (dict, optional): Spectral norm of convolutions and batch-norm
            projections; None disables it.
        bn_eps (float): Batch-norm epsilon.
        num_bn_stats (int): Rows of per-truncation BN statistics.
        sync_bn (bool): Synchronize batch statistics across processes.
        bn_options (dict, optional): Further arguments of the two
            :class:`ConditionalBatchNorm2d` (SNGAN's variants, see
            :class:`SNGANGenResBlock`).

    Shapes: ``x`` ``[N, in, H, W]``, condition ``[N, cond_dim]`` or labels
    ``[N]`` -> ``[N, out, 2H, 2W]`` (``[N, out, H, W]`` without upsample).
    """

    upsampled_conv = 'conv1'

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 cond_dim: int = 0,
                 num_classes: int = 0,
                 upsample: bool = True,
                 act_cfg: dict = dict(type='ReLU'),
                 sn_cfg: Optional[dict] = None,
                 bn_eps: float = 1e-5,
                 num_bn_stats: int = 1,
                 sync_bn: bool = False,
                 bn_options: Optional[dict] = None):
        super().__init__(cond_dim, num_classes, act_cfg, upsample, bn_eps,
                         num_bn_stats, sn_cfg, sync_bn, bn_options)
        self.bn1 = self._make_bn(in_channels)
        self.conv1 = SNConv2d(
            in_channels, out_channels, 3, padding=1, sn_cfg=sn_cfg)
        self.bn2 = self._make_bn(out_channels)
        self.conv2 = SNConv2d(
            out_channels, out_channels, 3, padding=1, sn_cfg=sn_cfg)
        if in_channels != out_channels or upsample:
            self.conv_sc = SNConv2d(
                in_channels, out_channels, 1, sn_cfg=sn_cfg)
        else:
            self.conv_sc = None

    def forward(self,
                x: torch.Tensor,
                cond: Optional[torch.Tensor] = None,
                truncation: Optional[float] = None) -> torch.Tensor:
        h = self._norm_act(self.bn1, x, cond, truncation)
        h = self.conv1.forward_upsampled(h) if self.upsample else \
            self.conv1(h)
        h = self.conv2(self._norm_act(self.bn2, h, cond, truncation))
        # The 1x1 shortcut commutes with nearest upsampling: run it at the
        # input resolution and broadcast it in the sum.
        if self.conv_sc is not None:
            x = self.conv_sc(x)
        return add_upsampled(h, x) if self.upsample else h + x


@MODELS.register_module()
class BigGANDeepGenResBlock(_GenBlockBase):
    """BigGAN-Deep generator bottleneck block.

    ``BN-act-conv1x1`` (to ``in/channel_ratio``) ``-BN-act-[up]-conv3x3-
    BN-act-conv3x3-BN-act-conv1x1`` (to ``out``); the shortcut keeps the first
    ``out`` channels of the input (no parameters) and upsamples them.

    Args: as :class:`BigGANGenResBlock`, plus ``channel_ratio`` (int), the
    bottleneck reduction (4 in BigGAN-Deep). ``out_channels`` must not exceed
    ``in_channels``.
    """

    upsampled_conv = 'conv2'

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 cond_dim: int = 0,
                 num_classes: int = 0,
                 upsample: bool = True,
                 act_cfg: dict = dict(type='ReLU'),
                 sn_cfg: Optional[dict] = None,
                 bn_eps: float = 1e-5,
                 num_bn_stats: int = 1,
                 sync_bn: bool = False,
                 channel_ratio: int = 4):
        super().__init__(cond_dim, num_classes, act_cfg, upsample, bn_eps,
                         num_bn_stats, sn_cfg, sync_bn)
        if out_channels > in_channels:
            raise ValueError('BigGAN-Deep generator blocks drop channels on '
                             f'the shortcut; out_channels ({out_channels}) '
                             f'must be <= in_channels ({in_channels}).')
        hidden = in_channels // channel_ratio
        self.out_channels = out_channels
        self.bn1 = self._make_bn(in_channels)
        self.conv1 = SNConv2d(in_channels, hidden, 1, sn_cfg=sn_cfg)
        self.bn2 = self._make_bn(hidden)
        self.conv2 = SNConv2d(hidden, hidden, 3, padding=1, sn_cfg=sn_cfg)
        self.bn3 = self._make_bn(hidden)
        self.conv3 = SNConv2d(hidden, hidden, 3, padding=1, sn_cfg=sn_cfg)
        self.bn4 = self._make_bn(hidden)
        self.conv4 = SNConv2d(hidden, out_channels, 1, sn_cfg=sn_cfg)

    def forward(self,
                x: torch.Tensor,
                cond: Optional[torch.Tensor] = None,
                truncation: Optional[float] = None) -> torch.Tensor:
        h = self.conv1(self._norm_act(self.bn1, x, cond, truncation))
        h = self._norm_act(self.bn2, h, cond, truncation)
        h = self.conv2.forward_upsampled(h) if self.upsample else \
            self.conv2(h)
        h = self.conv3(self._norm_act(self.bn3, h, cond, truncation))
        h = self.conv4(self._norm_act(self.bn4, h, cond, truncation))
        x = x[:, :self.out_channels]
        return add_upsampled(h, x) if self.upsample else h + x


@MODELS.register_module()
class BigGANDiscResBlock(nn.Module):
    """BigGAN discriminator block (wide: ``conv1`` maps to ``out``).

    ``[act]-conv3x3-act-conv3x3-[avgpool]`` plus a learned 1x1 shortcut when
    channels change or it downsamples. The first block of a discriminator
    (``is_head_block``) has no pre-activation and pools before its shortcut
    convolution; later blocks convolve first.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        downsample (bool): Halve the resolution (2x2 average pooling).
        is_head_block (bool): Block applied to the image.
        act_cfg (dict): Activation config.
        sn_cfg (dict, optional): Spectral norm of the convolutions.

    Shapes: ``[N, in, H, W] -> [N, out, H/2, W/2]`` (``H, W`` without
    downsample).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 downsample: bool = True,
                 is_head_block: bool = False,
                 act_cfg: dict = dict(type='ReLU'),
                 sn_cfg: Optional[dict] = None):
        super().__init__()
        self.activation = build_activation_layer(act_cfg)
        self.downsample = downsample
        self.is_head_block = is_head_block
        self.conv1 = SNConv2d(
            in_channels, out_channels, 3, padding=1, sn_cfg=sn_cfg)
        self.conv2 = SNConv2d(
            out_channels, out_channels, 3, padding=1, sn_cfg=sn_cfg)
        if in_channels != out_channels or downsample:
            self.conv_sc = SNConv2d(
                in_channels, out_channels, 1, sn_cfg=sn_cfg)
        else:
            self.conv_sc = None

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if self.is_head_block:
            if self.downsample:
                x = F.avg_pool2d(x, 2)
            if self.conv_sc is not None:
                x = self.conv_sc(x)
        else:
            if self.conv_sc is not None:
                x = self.conv_sc(x)
            if self.downsample:
                x = F.avg_pool2d(x, 2)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The pre-activation must not be in place: x feeds the shortcut.
        h = x if self.is_head_block else F.relu(x)
        h = self.conv2(self.activation(self.conv1(h)))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        return h + self.shortcut(x)


@MODELS.register_module()
class BigGANDeepDiscResBlock(nn.Module):
    """BigGAN-Deep discriminator bottleneck block.

    ``relu-conv1x1`` (to ``out/channel_ratio``) ``-act-conv3x3-act-conv3x3-
    act-[avgpool]-conv1x1`` (to ``out``); the shortcut pools and, when
    channels grow, concatenates ``out - in`` new channels from a 1x1
    convolution to the input.

    Args: as :class:`BigGANDiscResBlock` without ``is_head_block``, plus
    ``channel_ratio`` (int, 4).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 downsample: bool = True,
                 act_cfg: dict = dict(type='ReLU'),
                 sn_cfg: Optional[dict] = None,
                 channel_ratio: int = 4):
        super().__init__()
        if out_channels < in_channels:
            raise ValueError('BigGAN-Deep discriminator blocks grow channels '
                             f'by concatenation; out_channels ({out_channels})'
                             f' must be >= in_channels ({in_channels}).')
        hidden = out_channels // channel_ratio
        self.activation = build_activation_layer(act_cfg)
        self.downsample = downsample
        self.conv1 = SNConv2d(in_channels, hidden, 1, sn_cfg=sn_cfg)
        self.conv2 = SNConv2d(hidden, hidden, 3, padding=1, sn_cfg=sn_cfg)
        self.conv3 = SNConv2d(hidden, hidden, 3, padding=1, sn_cfg=sn_cfg)
        self.conv4 = SNConv2d(hidden, out_channels, 1, sn_cfg=sn_cfg)
        if out_channels != in_channels:
            self.conv_sc = SNConv2d(
                in_channels, out_channels - in_channels, 1, sn_cfg=sn_cfg)
        else:
            self.conv_sc = None

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if self.downsample:
            x = F.avg_pool2d(x, 2)
        if self.conv_sc is not None:
            x = torch.cat([x, self.conv_sc(x)], dim=1)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.relu(x))
        h = self.conv2(self.activation(h))
        h = self.conv3(self.activation(h))
        h = self.activation(h)
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        return self.conv4(h) + self.shortcut(x)


@MODELS.register_module()
class SNGANGenResBlock(BigGANGenResBlock):
    """SNGAN / SAGAN generator block (MMGeneration's ``SNGANGenResBlock``).

    The layers and their order are those of :class:`BigGANGenResBlock`
    (``BN-act-up-conv3x3-BN-act-conv3x3`` plus ``up-conv1x1``, convolutions
    with bias); only the batch norms differ: they are conditioned on
    per-class gain and bias tables as in SNGAN, PyTorch-StudioGAN and
    MMGeneration.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        num_classes (int): Classes of the per-class tables; 0 gives
            unconditional batch norms with a learned affine.
        upsample (bool): Double the resolution (nearest neighbour).
        act_cfg (dict): Activation config (mmcv).
        sn_cfg (dict, optional): Spectral norm of the convolutions.
        embedding_sn_cfg (dict, optional): Spectral norm of the per-class
            tables.
        bn_eps (float): Batch-norm epsilon (1e-4 in SNGAN and StudioGAN).
        sync_bn (bool): Synchronize batch statistics across processes.
        residual_gain (bool): Gain ``1 + table(y)`` (MMGeneration's
            ``'BigGAN'`` and ``'studio'`` inits) or ``table(y)`` (its
            ``'sngan'`` and ``'sagan'`` inits).
        use_norm_affine (bool): Learn a per-channel affine before the
            class-conditional one.

    Shapes: ``x`` ``[N, in, H, W]``, labels ``[N]`` (int) or ``[N,
    num_classes]`` (float) -> ``[N, out, 2H, 2W]``.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 num_classes: int = 0,
                 upsample: bool = True,
                 act_cfg: dict = dict(type='ReLU'),
                 sn_cfg: Optional[dict] = None,
                 embedding_sn_cfg: Optional[dict] = None,
                 bn_eps: float = 1e-4,
                 sync_bn: bool = False,
                 residual_gain: bool = True,
                 use_norm_affine: bool = False):
        super().__init__(
            in_channels,
            out_channels,
            num_classes=num_classes,
            upsample=upsample,
            act_cfg=act_cfg,
            sn_cfg=sn_cfg,
            bn_eps=bn_eps,
            sync_bn=sync_bn,
            bn_options=dict(
                sn_cfg=embedding_sn_cfg,
                residual_gain=residual_gain,
                norm_affine=use_norm_affine))


@MODELS.register_module()
class SNGANDiscHeadResBlock(BigGANDiscResBlock):
    """First block of the SNGAN / SAGAN projection discriminator
    (MMGeneration's ``SNGANDiscHeadResBlock``): :class:`BigGANDiscResBlock`
    as a head block that always downsamples, ``conv3x3-act-conv3x3-avgpool``
    plus ``avgpool-conv1x1``.

    Shapes: ``[N, in, H, W] -> [N, out, H/2, W/2]``.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 act_cfg: dict = dict(type='ReLU'),
                 sn_cfg: Optional[dict] = None):
        super().__init__(
            in_channels,
            out_channels,
            downsample=True,
            is_head_block=True,
            act_cfg=act_cfg,
            sn_cfg=sn_cfg)


@MODELS.register_module()
class SNGANDiscResBlock(BigGANDiscResBlock):
    """Later blocks of the SNGAN / SAGAN projection discriminator
    (MMGeneration's ``SNGANDiscResBlock``): :class:`BigGANDiscResBlock`
    whose pre-activation is the configured activation rather than a fixed
    ReLU, ``act-conv3x3-act-conv3x3-[avgpool]`` plus ``conv1x1-[avgpool]``
    when channels change or it downsamples.

    An in-place activation (``act_cfg=dict(type='ReLU', inplace=True)``)
    also rewrites the block input that feeds the shortcut, exactly as in
    MMGeneration, whose ``wReLUinplace`` checkpoints were trained that way.

    Shapes: ``[N, in, H, W] -> [N, out, H/2, W/2]`` (``H, W`` without
    downsample).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 downsample: bool = False,
                 act_cfg: dict = dict(type='ReLU'),
                 sn_cfg: Optional[dict] = None):
        super().__init__(
            in_channels,
            out_channels,
            downsample=downsample,
            is_head_block=False,
            act_cfg=act_cfg,
            sn_cfg=sn_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.activation(x)
        h = self.conv2(self.activation(self.conv1(h)))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        return h + self.shortcut(x)
