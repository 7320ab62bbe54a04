"""BigGAN (Brock et al., ICLR 2019) as BigGAN-PyTorch builds it, with
MMGeneration's constructor arguments."""
from copy import deepcopy
from typing import Callable, Optional

import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer

from mmbiggan.registry import MODELS
from ..layers.attention import SelfAttentionBlock
from ..layers.blocks import norm_act
from ..layers.spectral_norm import SNEmbedding, SNLinear
from ..layers.weight_init import init_biggan_weights
from .base_generator import (ConditionalGenerator, check_norm_cfg,
                             check_upsample_cfg, init_weights, make_sn_cfg,
                             resolve_block_type)

# Channel multipliers of each block and the block after which attention
# sits, per resolution (BigGAN-PyTorch's G_arch / D_arch with attention at
# 64, MMGeneration's defaults).
_G_ARCH = {
    32: ([4, 4, 4], [4, 4, 4], [False, False, False]),
    64: ([16, 16, 8, 4], [16, 8, 4, 2], [False, False, False, True]),
    128: ([16, 16, 8, 4, 2], [16, 8, 4, 2, 1],
          [False, False, False, True, False]),
    256: ([16, 16, 8, 8, 4, 2], [16, 8, 8, 4, 2, 1],
          [False, False, False, True, False, False]),
    512: ([16, 16, 8, 8, 4, 2, 1], [16, 8, 8, 4, 2, 1, 1],
          [False, False, False, True, False, False, False]),
}
_D_ARCH = {
    32: ([4, 4, 4], [4, 4, 4, 4], [True, True, False, False],
         [False] * 4),
    64: ([1, 2, 4, 8], [1, 2, 4, 8, 16], [True] * 4 + [False], [False] * 5),
    128: ([1, 2, 4, 8, 16], [1, 2, 4, 8, 16, 16], [True] * 5 + [False],
          [True] + [False] * 5),
    256: ([1, 2, 4, 8, 8, 16], [1, 2, 4, 8, 8, 16, 16], [True] * 6 + [False],
          [False, True] + [False] * 5),
    512: ([1, 1, 2, 4, 8, 8, 16], [1, 1, 2, 4, 8, 8, 16, 16],
          [True] * 7 + [False], [False, False, False, True] + [False] * 4),
}


def biggan_generator_arch(output_scale: int, base_channels: int) -> dict:
    """Default ``arch_cfg`` of :class:`BigGANGenerator`."""
    if output_scale not in _G_ARCH:
        raise ValueError(f'BigGAN generators exist for output_scale in '
                         f'{sorted(_G_ARCH)}, got {output_scale}; give an '
                         'arch_cfg for other sizes.')
    ins, outs, attention = _G_ARCH[output_scale]
    return dict(
        in_channels=[base_channels * m for m in ins],
        out_channels=[base_channels * m for m in outs],
        upsample=[True] * len(ins),
        attention=list(attention))


def biggan_discriminator_arch(input_scale: int, in_channels: int,
                              base_channels: int) -> dict:
    """Default ``arch_cfg`` of :class:`BigGANDiscriminator`."""
    if input_scale not in _D_ARCH:
        raise ValueError(f'BigGAN discriminators exist for input_scale in '
                         f'{sorted(_D_ARCH)}, got {input_scale}; give an '
                         'arch_cfg for other sizes.')
    ins, outs, down, attention = _D_ARCH[input_scale]
    return dict(
        in_channels=[in_channels] + [base_channels * m for m in ins],
        out_channels=[base_channels * m for m in outs],
        downsample=list(down),
        attention=list(attention))


GENERATOR_ARCH_KEYS = ('in_channels', 'out_channels', 'upsample', 'attention')
DISCRIMINATOR_ARCH_KEYS = ('in_channels', 'out_channels', 'downsample',
                           'attention')


def resolve_arch(arch_cfg: Optional[dict], default: Callable[[], dict],
                 keys: tuple, owner: str) -> dict:
    """A copy of ``arch_cfg`` (or ``default()`` when it is None), checked
    to have every list in ``keys`` for every block."""
    arch = deepcopy(arch_cfg) if arch_cfg else default()
    check_arch(arch, keys, owner)
    return arch


def check_arch(arch: dict, keys: tuple, owner: str):
    missing = [k for k in keys if k not in arch]
    if missing:
        raise KeyError(f'{owner} arch_cfg lacks {missing}; it needs {keys}.')
    lengths = {len(arch[k]) for k in keys}
    if min(lengths) < len(arch['out_channels']):
        raise ValueError(f'{owner} arch_cfg lists must cover every block: '
                         f'{ {k: len(arch[k]) for k in keys} }.')


@MODELS.register_module()
class BigGANGenerator(ConditionalGenerator):
    """BigGAN generator.

    A linear layer maps the first noise chunk to an ``input_scale`` square
    feature map, residual up-blocks with class-conditional batch norm grow
    it, self-attention sits after the blocks flagged in ``arch_cfg``, and
    ``BN-act-conv3x3-tanh`` makes the image.

    Args:
        output_scale (int): Image size (32, 64, 128, 256, 512).
        noise_size (int): Length of the noise; with ``split_noise`` it is
            rounded down to a multiple of the number of chunks.
        num_classes (int): Classes; 0 builds the unconditional model.
        out_channels (int): Image channels.
        base_channels (int): Channel multiplier (``G_ch``).
        input_scale (int): Size of the first feature map.
        with_shared_embedding (bool): One class embedding for all blocks,
            projected per batch norm; otherwise per-class gain/bias tables.
        shared_dim (int): Size of the shared embedding.
        sn_eps (float): Spectral-norm epsilon.
        sn_style (str): ``'ajbrock'`` or ``'torch'``.
        init_type (str): ``'ortho'``, ``'N02'`` or ``'xavier'``.
        split_noise (bool): Hierarchical latent: one noise chunk for the
            linear layer and one per block, concatenated to the embedding.
        act_cfg (dict): Activation.
        upsample_cfg (dict): Must be nearest x2 (BigGAN's upsampling).
        with_spectral_norm (bool): Spectrally normalize weights.
        auto_sync_bn (bool): Synchronize batch statistics across processes
            when ``torch.distributed`` is initialized.
        blocks_cfg (dict): Block type and extra block arguments.
        arch_cfg (dict, optional): ``in_channels``, ``out_channels``,
            ``upsample`` and ``attention`` lists, one entry per block.
        out_norm_cfg (dict): Output normalization, batch norm only.
        pretrained (str | dict, optional): Checkpoint to load.
        rgb2bgr (bool): Output BGR instead of RGB.
        bn_eps (float): Batch-norm epsilon.
        num_bn_stats (int): Rows of per-truncation BN statistics.
        sn_iters (int): Power iterations per training step.
        sn_svs (int): Singular values tracked (``'ajbrock'``).
    """

    # MMGeneration's keyword arguments, in its order, grouped by concern.
    def __init__(
            self, output_scale: int, noise_size: int = 120,
            num_classes: int = 0, out_channels: int = 3,
            base_channels: int = 96, input_scale: int = 4,
            with_shared_embedding: bool = True, shared_dim: int = 128,
            sn_eps: float = 1e-6, sn_style: str = 'ajbrock',
            init_type: str = 'ortho', split_noise: bool = True,
            act_cfg: dict = dict(type='ReLU'),
            upsample_cfg: dict = dict(type='nearest', scale_factor=2),
            with_spectral_norm: bool = True, auto_sync_bn: bool = True,
            blocks_cfg: dict = dict(type='BigGANGenResBlock'),
            arch_cfg: Optional[dict] = None,
            out_norm_cfg: dict = dict(type='BN'), pretrained=None,
            rgb2bgr: bool = False, bn_eps: float = 1e-5,
            num_bn_stats: int = 1, sn_iters: int = 1, sn_svs: int = 1):
        super().__init__()
        check_upsample_cfg(upsample_cfg)
        check_norm_cfg(out_norm_cfg)
        if num_classes == 0 and with_shared_embedding:
            raise ValueError('An unconditional generator (num_classes=0) has '
                             'no class embedding: set '
                             'with_shared_embedding=False.')
        if num_classes and not with_shared_embedding and split_noise:
            raise ValueError('Without a shared embedding the batch norms '
                             'index per-class tables and take no noise: set '
                             'split_noise=False.')
        self.output_scale = output_scale
        self.num_classes = num_classes
        self.out_channels = out_channels
        self.rgb2bgr = rgb2bgr
        self.arch = resolve_arch(
            arch_cfg, lambda: biggan_generator_arch(output_scale,
                                                    base_channels),
            GENERATOR_ARCH_KEYS, 'BigGANGenerator')
        self.input_scale = input_scale
        self.split_noise = split_noise
        num_blocks = len(self.arch['out_channels'])
        if split_noise:
            self.noise_chunk_size = noise_size // (num_blocks + 1)
            self.noise_size = self.noise_chunk_size * (num_blocks + 1)
        else:
            self.noise_chunk_size = 0
            self.noise_size = noise_size
        sn_cfg = make_sn_cfg(with_spectral_norm, sn_style, sn_eps, sn_iters,
                             sn_svs)
        self.num_bn_stats = num_bn_stats

        first_noise = self.noise_chunk_size if split_noise else noise_size
        self.noise2feat = SNLinear(
            first_noise,
            self.arch['in_channels'][0] * input_scale**2,
            sn_cfg=sn_cfg)
        self.with_shared_embedding = with_shared_embedding
        self.shared_embedding = SNEmbedding(
            num_classes, shared_dim) if with_shared_embedding else None
        if num_classes and with_shared_embedding:
            cond_dim = shared_dim + self.noise_chunk_size
        else:
            cond_dim = self.noise_chunk_size
        label_classes = num_classes if (num_classes and
                                        not with_shared_embedding) else 0

        block_type, extra_block_args = resolve_block_type(blocks_cfg)
        self.conv_blocks = nn.ModuleList()
        for index, out_ch in enumerate(self.arch['out_channels']):
            self.add_block(
                block_type(
                    in_channels=self.arch['in_channels'][index],
                    out_channels=out_ch,
                    cond_dim=cond_dim,
                    num_classes=label_classes,
                    upsample=self.arch['upsample'][index],
                    act_cfg=act_cfg,
                    sn_cfg=sn_cfg,
                    bn_eps=bn_eps,
                    num_bn_stats=num_bn_stats,
                    sync_bn=auto_sync_bn,
                    **extra_block_args))
            if self.arch['attention'][index]:
                self.add_block(SelfAttentionBlock(out_ch, sn_cfg),
                               reads_condition=False)

        last_channels = self.arch['out_channels'][-1]
        self.build_output_layers(
            last_channels, out_channels, act_cfg, sn_cfg, eps=bn_eps,
            num_stats=num_bn_stats, sync_stats=auto_sync_bn)

        init_weights(self, init_biggan_weights, init_type, sn_style, pretrained)

    def class_vector(self, label: torch.Tensor,
                     use_outside_embedding: bool) -> torch.Tensor:
        """What the batch norms are conditioned on for ``label``: the shared
        embedding ``[N, shared_dim]``, or the labels themselves."""
        if use_outside_embedding or self.shared_embedding is None:
            return label
        return self.shared_embedding(label)

    def synthesize(self, noise, label, truncation, use_outside_embedding):
        class_vector = None if label is None else self.class_vector(
            label, use_outside_embedding)
        num_blocks = len(self.arch['out_channels'])
        if self.split_noise:
            chunks = torch.split(noise, self.noise_chunk_size, dim=1)
            first, block_noise = chunks[0], chunks[1:]
            if class_vector is None:
                conds = list(block_noise)
            else:
                conds = [torch.cat([class_vector, z], 1) for z in block_noise]
        else:
            first = noise
            conds = [class_vector] * num_blocks

        x = self.noise2feat(first)
        x = x.view(x.shape[0], -1, self.input_scale, self.input_scale)
        x = self.run_blocks(x, conds, truncation)
        x = norm_act(self.out_bn, self.out_activation, x,
                     truncation=truncation)
        return torch.tanh(self.out_conv(x))


@MODELS.register_module()
class BigGANDiscriminator(nn.Module):
    """BigGAN discriminator with a projection head.

    Residual down-blocks (self-attention after the flagged ones), ReLU,
    global sum pooling ``h``; the logit is ``decision(h) + <proj_y(y), h>``.

    Args:
        input_scale (int): Image size (32, 64, 128, 256, 512).
        num_classes (int): Classes; 0 drops the projection term.
        in_channels (int): Image channels.
        out_channels (int): Logits per image.
        base_channels (int): Channel multiplier (``D_ch``).
        sn_eps (float): Spectral-norm epsilon.
        sn_style (str): ``'ajbrock'`` or ``'torch'``.
        init_type (str): ``'ortho'``, ``'N02'`` or ``'xavier'``.
        act_cfg (dict): Activation.
        with_spectral_norm (bool): Spectrally normalize weights.
        blocks_cfg (dict): Block type and extra block arguments.
        arch_cfg (dict, optional): ``in_channels``, ``out_channels``,
            ``downsample`` and ``attention`` lists.
        pretrained (str | dict, optional): Checkpoint to load.
        sn_iters (int): Power iterations per training step.
        sn_svs (int): Singular values tracked (``'ajbrock'``).

    Shapes: images ``[N, in_channels, S, S]``, labels ``[N]`` -> ``[N,
    out_channels]``.
    """

    # MMGeneration's keyword arguments, in its order, grouped by concern.
    def __init__(
            self, input_scale: int, num_classes: int = 0,
            in_channels: int = 3, out_channels: int = 1,
            base_channels: int = 96,
            sn_eps: float = 1e-6, sn_style: str = 'ajbrock',
            init_type: str = 'ortho', act_cfg: dict = dict(type='ReLU'),
            with_spectral_norm: bool = True,
            blocks_cfg: dict = dict(type='BigGANDiscResBlock'),
            arch_cfg: Optional[dict] = None, pretrained=None,
            sn_iters: int = 1, sn_svs: int = 1):
        super().__init__()
        self.input_scale = input_scale
        self.num_classes = num_classes
        self.arch = resolve_arch(
            arch_cfg, lambda: biggan_discriminator_arch(
                input_scale, in_channels, base_channels),
            DISCRIMINATOR_ARCH_KEYS, 'BigGANDiscriminator')
        sn_cfg = make_sn_cfg(with_spectral_norm, sn_style, sn_eps, sn_iters,
                             sn_svs)
        block_type, extra_block_args = resolve_block_type(blocks_cfg)
        self.conv_blocks = nn.ModuleList()
        for index, out_ch in enumerate(self.arch['out_channels']):
            self.conv_blocks.append(
                block_type(
                    in_channels=self.arch['in_channels'][index],
                    out_channels=out_ch,
                    downsample=self.arch['downsample'][index],
                    is_head_block=index == 0,
                    act_cfg=act_cfg,
                    sn_cfg=sn_cfg,
                    **extra_block_args))
            if self.arch['attention'][index]:
                self.conv_blocks.append(SelfAttentionBlock(out_ch, sn_cfg))
        build_projection_head(self, act_cfg, self.arch['out_channels'][-1],
                              out_channels, num_classes, sn_cfg)
        init_weights(self, init_biggan_weights, init_type, sn_style, pretrained)

    def forward(self,
                x: torch.Tensor,
                label: Optional[torch.Tensor] = None) -> torch.Tensor:
        for block in self.conv_blocks:
            x = block(x)
        return projection_head(self, x, label)


def build_projection_head(disc: nn.Module, act_cfg: dict, in_channels: int,
                          out_channels: int, num_classes: int,
                          sn_cfg: Optional[dict]) -> None:
    """Give ``disc`` the layers :func:`projection_head` uses, in this
    order: ``activation``, ``decision`` (``SNLinear(in_channels,
    out_channels)``) and ``proj_y`` (``SNEmbedding(num_classes,
    in_channels)``; None for an unconditional discriminator)."""
    disc.activation = build_activation_layer(act_cfg)
    disc.decision = SNLinear(in_channels, out_channels, sn_cfg=sn_cfg)
    disc.proj_y = SNEmbedding(
        num_classes, in_channels, sn_cfg=sn_cfg) if num_classes else None


def projection_head(disc: nn.Module, x: torch.Tensor,
                    label: Optional[torch.Tensor]) -> torch.Tensor:
    """Activation, global sum pooling, linear logit plus the class projection
    ``<proj_y(label), h>`` (Miyato & Koyama, 2018). Shapes: ``[N, C, H, W]``
    -> ``[N, out]``."""
    h = torch.sum(disc.activation(x), dim=(2, 3))
    out = disc.decision(h)
    if disc.proj_y is not None:
        if label is None:
            raise ValueError('This discriminator is class-conditional: pass '
                             'the labels.')
        out = out + torch.sum(disc.proj_y(label) * h, dim=1, keepdim=True)
    return out
