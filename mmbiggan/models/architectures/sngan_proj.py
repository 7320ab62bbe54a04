"""SNGAN with a projection discriminator (Miyato et al. 2018; Miyato &
Koyama 2018) and SAGAN (Zhang et al. 2019), laid out as PyTorch-StudioGAN
builds them, with MMGeneration's constructor arguments.

Blocks, batch norms, spectral norm and attention are the BigGAN family's
own (see :mod:`mmbiggan.models.layers`); what is SNGAN-specific is the
layout: per-class batch-norm tables instead of a shared embedding, one
unsplit noise vector, batch-norm epsilon 1e-4, PyTorch-style spectral norm
and MMGeneration's init schemes.
"""
import itertools
from copy import deepcopy
from typing import Optional, Union

import torch
import torch.nn as nn

from mmbiggan.registry import MODELS
from ..layers.spectral_norm import SNLinear
from ..layers.weight_init import check_sngan_init_type, init_sngan_weights
from .base_generator import (ConditionalGenerator, init_weights, make_sn_cfg,
                             resolve_block_type)
from .biggan import build_projection_head, projection_head

# Channel multipliers per block (of base_channels), MMGeneration's and
# StudioGAN's defaults. Generator: block i maps factor[i] -> factor[i + 1]
# (the last block maps to 1). Discriminator: block i maps factor[i - 1]
# (1 for the first) -> factor[i], after the head block (3 -> 1).
_G_CHANNELS = {32: [1, 1, 1], 64: [16, 8, 4, 2], 128: [16, 16, 8, 4, 2]}
_D_CHANNELS = {32: [1, 1, 1], 64: [2, 4, 8, 16], 128: [2, 4, 8, 16, 16]}
_D_DOWNSAMPLE = {
    32: [True, False, False],
    64: [True, True, True, True],
    128: [True, True, True, True, False]
}
# SAGAN's attention positions (1-based block index, the discriminator's
# head block counting as block 1), as in StudioGAN's and MMGeneration's
# SAGAN configs.
_SAGAN_G_ATTENTION = {32: 2, 128: 4}
_SAGAN_D_ATTENTION = 1


def _per_scale_list(cfg: Union[list, dict, None], default: dict, scale: int,
                    cfg_name: str, scale_name: str) -> list:
    """``cfg`` as a list: itself, or its entry for ``scale`` when a dict
    (``default`` when None)."""
    cfg = deepcopy(default if cfg is None else cfg)
    if isinstance(cfg, dict):
        if scale not in cfg:
            raise KeyError(f'{cfg_name} has no entry for {scale_name}='
                           f'{scale} (it has {sorted(cfg)}); add one or pass '
                           'a list.')
        cfg = cfg[scale]
    if not isinstance(cfg, (list, tuple)):
        raise ValueError(f'{cfg_name} must be a list or a dict of lists per '
                         f'{scale_name}, got {type(cfg).__name__}.')
    return list(cfg)


def _attention_positions(after_nth_block) -> frozenset:
    positions = after_nth_block if isinstance(after_nth_block,
                                              (list, tuple)) else [
                                                  after_nth_block
                                              ]
    if not all(
            isinstance(p, int) and not isinstance(p, bool)
            for p in positions):
        raise ValueError('attention_after_nth_block must be an int or a list '
                         f'of ints (1-based block numbers), got '
                         f'{after_nth_block!r}.')
    return frozenset(positions)


def _build_attention(attention_cfg: dict, channels: int,
                     sn_cfg: Optional[dict]) -> nn.Module:
    """The attention block named by ``attention_cfg['type']``, built with
    the model's spectral norm and the remaining ``attention_cfg`` keys."""
    attention_type, extra_args = resolve_block_type(attention_cfg,
                                                    'attention_cfg')
    return attention_type(channels, sn_cfg=sn_cfg, **extra_args)


@MODELS.register_module()
class SNGANGenerator(ConditionalGenerator):
    """Generator of SNGAN / Proj-GAN (and, with attention, SAGAN).

    ``noise2feat`` maps the noise to an ``input_scale`` square feature map;
    residual up-blocks (:class:`SNGANGenResBlock`) with per-class
    conditional batch norm grow it, self-attention follows the blocks named
    in ``attention_after_nth_block``, and ``BN-act-conv3x3-tanh`` makes the
    image. The forward is :class:`ConditionalGenerator`'s.

    Args:
        output_scale (int): Image size (defaults exist for 32, 64, 128).
        num_classes (int): Classes; 0 builds the unconditional model.
        base_channels (int): Channel unit of ``channels_cfg``.
        out_channels (int): Image channels.
        input_scale (int): Size of the first feature map.
        noise_size (int): Length of the noise vector.
        attention_cfg (dict): Attention block type (and extra arguments).
        attention_after_nth_block (int | list[int]): Blocks (1-based)
            followed by self-attention; numbers below 1 add none.
        channels_cfg (list | dict, optional): Channel multipliers of the
            blocks' inputs, or a dict of them per output scale; the last
            block outputs ``base_channels``.
        blocks_cfg (dict): Block type and extra block arguments (they
            override the generator's).
        act_cfg (dict): Activation of the blocks and the output layer.
        use_cbn (bool): Class-conditional batch norm (needs
            ``num_classes > 0``); False gives ordinary batch norms.
        auto_sync_bn (bool): Synchronize batch statistics across processes
            when ``torch.distributed`` is initialized.
        with_spectral_norm (bool): Spectrally normalize linear and
            convolution weights (False in SNGAN's generator, True in
            SAGAN's).
        with_embedding_spectral_norm (bool, optional): Spectrally normalize
            the per-class batch-norm tables; None follows
            ``with_spectral_norm``.
        sn_style (str): ``'torch'`` or ``'ajbrock'``, for every normalized
            layer.
        norm_eps (float): Batch-norm epsilon.
        sn_eps (float): Spectral-norm epsilon.
        init_cfg (dict): ``dict(type=...)`` with a scheme of
            :func:`init_sngan_weights`; ``'BigGAN'`` and ``'studio'`` also
            make the batch-norm gains residual (``1 + table(y)``).
        pretrained (str | dict, optional): Checkpoint to load.
        rgb2bgr (bool): Output BGR instead of RGB.

    Shapes: noise ``[N, noise_size]``, labels ``[N]`` -> images ``[N,
    out_channels, S, S]`` in ``[-1, 1]`` with ``S = input_scale * 2 **
    num_blocks``.
    """

    def __init__(self,
                 output_scale: int,
                 num_classes: int = 0,
                 base_channels: int = 64,
                 out_channels: int = 3,
                 input_scale: int = 4,
                 noise_size: int = 128,
                 attention_cfg: dict = dict(type='SelfAttentionBlock'),
                 attention_after_nth_block: Union[int, list] = 0,
                 channels_cfg: Union[list, dict, None] = None,
                 blocks_cfg: dict = dict(type='SNGANGenResBlock'),
                 act_cfg: dict = dict(type='ReLU'),
                 use_cbn: bool = True,
                 auto_sync_bn: bool = True,
                 with_spectral_norm: bool = False,
                 with_embedding_spectral_norm: Optional[bool] = None,
                 sn_style: str = 'torch',
                 norm_eps: float = 1e-4,
                 sn_eps: float = 1e-12,
                 init_cfg: dict = dict(type='BigGAN'),
                 pretrained=None,
                 rgb2bgr: bool = False):
        super().__init__()
        init_type = check_sngan_init_type((init_cfg or {}).get('type'))
        factors = _per_scale_list(channels_cfg, _G_CHANNELS, output_scale,
                                  'channels_cfg', 'output_scale')
        attention_positions = _attention_positions(attention_after_nth_block)
        self.output_scale = output_scale
        self.num_classes = num_classes
        self.noise_size = noise_size
        self.input_scale = input_scale
        self.out_channels = out_channels
        self.rgb2bgr = rgb2bgr
        self.class_conditional_bn = bool(use_cbn and num_classes > 0)

        if with_embedding_spectral_norm is None:
            with_embedding_spectral_norm = with_spectral_norm
        if self.class_conditional_bn and with_embedding_spectral_norm and \
                init_type in ('SAGAN', 'SNGAN'):
            # MMGeneration builds this too, and its outputs are NaN.
            raise ValueError(
                f'init_cfg type {init_cfg["type"]!r} starts the batch-norm '
                'bias tables at zero, which spectral norm cannot normalize; '
                'set with_embedding_spectral_norm=False or use init_cfg='
                "dict(type='studio') or dict(type='BigGAN').")
        sn_cfg = make_sn_cfg(with_spectral_norm, sn_style, sn_eps)
        embedding_sn_cfg = make_sn_cfg(with_embedding_spectral_norm,
                                       sn_style, sn_eps)
        in_channels = [base_channels * f for f in factors]
        out_channels_per_block = in_channels[1:] + [base_channels]

        self.noise2feat = SNLinear(
            noise_size, in_channels[0] * input_scale**2, sn_cfg=sn_cfg)
        block_type, extra_block_args = resolve_block_type(blocks_cfg)
        block_args = dict(
            num_classes=num_classes if self.class_conditional_bn else 0,
            act_cfg=act_cfg,
            sn_cfg=sn_cfg,
            embedding_sn_cfg=embedding_sn_cfg,
            bn_eps=norm_eps,
            sync_bn=auto_sync_bn,
            residual_gain=init_type in ('BIGGAN', 'STUDIO'))
        block_args.update(extra_block_args)
        self.conv_blocks = nn.ModuleList()
        for index, (in_ch, out_ch) in enumerate(
                zip(in_channels, out_channels_per_block)):
            self.add_block(
                block_type(
                    in_channels=in_ch, out_channels=out_ch, **block_args))
            if index + 1 in attention_positions:
                self.add_block(
                    _build_attention(attention_cfg, out_ch, sn_cfg),
                    reads_condition=False)

        self.build_output_layers(base_channels, out_channels, act_cfg,
                                 sn_cfg, eps=norm_eps,
                                 sync_stats=auto_sync_bn)

        init_weights(self, init_sngan_weights, init_type, sn_style, pretrained)

    def synthesize(self, noise, label, truncation, use_outside_embedding):
        x = self.noise2feat(noise)
        x = x.view(x.shape[0], -1, self.input_scale, self.input_scale)
        cond = label if self.class_conditional_bn else None
        x = self.run_blocks(x, itertools.repeat(cond), truncation)
        x = self.out_activation(self.out_bn(x))
        return torch.tanh(self.out_conv(x))


@MODELS.register_module()
class SAGANGenerator(SNGANGenerator):
    """SAGAN generator: :class:`SNGANGenerator` with self-attention and
    spectral norm on by default (MMGeneration registers the SNGAN class
    under this name too; a config for it builds the same network here).

    Args:
        output_scale (int): Image size.
        attention_after_nth_block (int | list[int], optional): None puts the
            attention where SAGAN has it: after block 2 at 32 (16x16
            features) and after block 4 at 128 (64x64 features).
        with_spectral_norm (bool): True, as in SAGAN.
        **kwargs: The other arguments of :class:`SNGANGenerator`.
    """

    def __init__(self,
                 output_scale: int,
                 attention_after_nth_block: Union[int, list, None] = None,
                 with_spectral_norm: bool = True,
                 **kwargs):
        if attention_after_nth_block is None:
            if output_scale not in _SAGAN_G_ATTENTION:
                raise ValueError(
                    'SAGANGenerator knows the attention position for '
                    f'output_scale {sorted(_SAGAN_G_ATTENTION)}; give '
                    f'attention_after_nth_block for {output_scale}.')
            attention_after_nth_block = _SAGAN_G_ATTENTION[output_scale]
        super().__init__(
            output_scale,
            attention_after_nth_block=attention_after_nth_block,
            with_spectral_norm=with_spectral_norm,
            **kwargs)


@MODELS.register_module()
class ProjDiscriminator(nn.Module):
    """Projection discriminator of SNGAN / Proj-GAN (and, with attention,
    SAGAN).

    ``from_rgb`` (:class:`SNGANDiscHeadResBlock`, halving the resolution)
    maps the image to ``base_channels``; residual blocks
    (:class:`SNGANDiscResBlock`) follow, self-attention after the blocks
    named in ``attention_after_nth_block`` (``from_rgb`` is block 1); the
    head is BigGAN's: activation, global sum pooling, ``decision(h) +
    <proj_y(y), h>``.

    Args:
        input_scale (int): Image size (defaults exist for 32, 64, 128).
        num_classes (int): Classes; 0 drops the projection term.
        base_channels (int): Channel unit of ``channels_cfg``.
        input_channels (int): Image channels.
        attention_cfg (dict): Attention block type (and extra arguments).
        attention_after_nth_block (int | list[int]): Blocks (1-based,
            counting ``from_rgb``) followed by self-attention; numbers below
            1 add none.
        channels_cfg (list | dict, optional): Output channel multipliers of
            the blocks after ``from_rgb``, or a dict of them per input scale.
        downsample_cfg (list | dict, optional): Whether each of those blocks
            halves the resolution, or a dict of such lists per input scale.
        from_rgb_cfg (dict): Head block type (and extra arguments).
        blocks_cfg (dict): Block type (and extra arguments).
        act_cfg (dict): Activation.
        with_spectral_norm (bool): Spectrally normalize every weight.
        sn_style (str): ``'torch'`` or ``'ajbrock'``.
        sn_eps (float): Spectral-norm epsilon.
        init_cfg (dict): ``dict(type=...)`` with a scheme of
            :func:`init_sngan_weights`.
        pretrained (str | dict, optional): Checkpoint to load.

    Shapes: images ``[N, input_channels, S, S]``, labels ``[N]`` -> logits
    ``[N, 1]``.
    """

    def __init__(self,
                 input_scale: int,
                 num_classes: int = 0,
                 base_channels: int = 128,
                 input_channels: int = 3,
                 attention_cfg: dict = dict(type='SelfAttentionBlock'),
                 attention_after_nth_block: Union[int, list] = -1,
                 channels_cfg: Union[list, dict, None] = None,
                 downsample_cfg: Union[list, dict, None] = None,
                 from_rgb_cfg: dict = dict(type='SNGANDiscHeadResBlock'),
                 blocks_cfg: dict = dict(type='SNGANDiscResBlock'),
                 act_cfg: dict = dict(type='ReLU'),
                 with_spectral_norm: bool = True,
                 sn_style: str = 'torch',
                 sn_eps: float = 1e-12,
                 init_cfg: dict = dict(type='BigGAN'),
                 pretrained=None):
        super().__init__()
        init_type = check_sngan_init_type((init_cfg or {}).get('type'))
        factors = _per_scale_list(channels_cfg, _D_CHANNELS, input_scale,
                                  'channels_cfg', 'input_scale')
        downsample = _per_scale_list(downsample_cfg, _D_DOWNSAMPLE,
                                     input_scale, 'downsample_cfg',
                                     'input_scale')
        if len(downsample) != len(factors):
            raise ValueError(
                f'downsample_cfg has {len(downsample)} entries but '
                f'channels_cfg {len(factors)}; give one per block.')
        attention_positions = _attention_positions(attention_after_nth_block)
        self.input_scale = input_scale
        self.num_classes = num_classes
        sn_cfg = make_sn_cfg(with_spectral_norm, sn_style, sn_eps)

        head_type, extra_head_args = resolve_block_type(
            from_rgb_cfg, 'from_rgb_cfg')
        head_args = dict(act_cfg=act_cfg, sn_cfg=sn_cfg)
        head_args.update(extra_head_args)
        self.from_rgb = head_type(
            in_channels=input_channels,
            out_channels=base_channels,
            **head_args)

        block_type, extra_block_args = resolve_block_type(blocks_cfg)
        block_args = dict(act_cfg=act_cfg, sn_cfg=sn_cfg)
        block_args.update(extra_block_args)
        self.conv_blocks = nn.ModuleList()
        if 1 in attention_positions:
            self.conv_blocks.append(
                _build_attention(attention_cfg, base_channels, sn_cfg))
        channels = [base_channels] + [base_channels * f for f in factors]
        for index, down in enumerate(downsample):
            self.conv_blocks.append(
                block_type(
                    in_channels=channels[index],
                    out_channels=channels[index + 1],
                    downsample=down,
                    **block_args))
            if index + 2 in attention_positions:
                self.conv_blocks.append(
                    _build_attention(attention_cfg, channels[index + 1],
                                     sn_cfg))

        build_projection_head(self, act_cfg, channels[-1], 1, num_classes,
                              sn_cfg)
        init_weights(self, init_sngan_weights, init_type, sn_style, pretrained)

    def forward(self,
                x: torch.Tensor,
                label: Optional[torch.Tensor] = None) -> torch.Tensor:
        x = self.from_rgb(x)
        for block in self.conv_blocks:
            x = block(x)
        return projection_head(self, x, label)


@MODELS.register_module()
class SAGANDiscriminator(ProjDiscriminator):
    """SAGAN discriminator: :class:`ProjDiscriminator` with self-attention
    after ``from_rgb`` by default (MMGeneration registers the projection
    discriminator under this name too; a config for it builds the same
    network here).

    Args:
        input_scale (int): Image size.
        attention_after_nth_block (int | list[int]): 1, SAGAN's position.
        **kwargs: The other arguments of :class:`ProjDiscriminator`.
    """

    def __init__(self,
                 input_scale: int,
                 attention_after_nth_block: Union[int,
                                                  list] = _SAGAN_D_ATTENTION,
                 **kwargs):
        super().__init__(
            input_scale,
            attention_after_nth_block=attention_after_nth_block,
            **kwargs)
