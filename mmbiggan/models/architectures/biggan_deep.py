"""BigGAN-Deep: bottleneck residual blocks, two per resolution, the whole
latent concatenated to the class embedding for every batch norm."""
import itertools
from typing import Optional

import torch
import torch.nn as nn

from mmbiggan.registry import MODELS
from ..layers.attention import SelfAttentionBlock
from ..layers.blocks import norm_act
from ..layers.spectral_norm import SNConv2d, SNEmbedding, SNLinear
from ..layers.weight_init import init_biggan_weights
from .base_generator import (ConditionalGenerator, check_norm_cfg,
                             check_upsample_cfg, init_weights, make_sn_cfg,
                             resolve_block_type)
from .biggan import (DISCRIMINATOR_ARCH_KEYS, GENERATOR_ARCH_KEYS,
                     biggan_generator_arch, build_projection_head,
                     projection_head, resolve_arch)

# Channel multipliers, downsampling and attention per stage, as
# MMGeneration's BigGANDeepDiscriminator. BigGAN-PyTorch's BigGANdeep.py has
# no 512 discriminator; MMGeneration attends after the fourth stage (32x32
# features, 8 * base_channels) there, which the 512 entry follows.
_D_ARCH = {
    32: ([4, 4, 4], [4, 4, 4], [True, True, False], [False] * 3),
    64: ([1, 2, 4, 8], [2, 4, 8, 16], [True] * 4, [False] * 4),
    128: ([1, 2, 4, 8, 16], [2, 4, 8, 16, 16], [True] * 5,
          [True] + [False] * 4),
    256: ([1, 2, 4, 8, 8, 16], [2, 4, 8, 8, 16, 16], [True] * 6,
          [False, True] + [False] * 4),
    512: ([1, 1, 2, 4, 8, 8, 16], [1, 2, 4, 8, 8, 16, 16], [True] * 7,
          [False, False, False, True] + [False] * 3),
}


def biggan_deep_discriminator_arch(input_scale: int,
                                   base_channels: int) -> dict:
    """Default ``arch_cfg`` of :class:`BigGANDeepDiscriminator`."""
    if input_scale not in _D_ARCH:
        raise ValueError('BigGAN-Deep discriminators exist for input_scale '
                         f'in {sorted(_D_ARCH)}, got {input_scale}.')
    ins, outs, down, attention = _D_ARCH[input_scale]
    return dict(
        in_channels=[base_channels * m for m in ins],
        out_channels=[base_channels * m for m in outs],
        downsample=list(down),
        attention=list(attention))


@MODELS.register_module()
class BigGANDeepGenerator(ConditionalGenerator):
    """BigGAN-Deep generator.

    ``noise2feat`` maps ``[noise, class embedding]`` (noise first, as in the
    TF-Hub release) to a ``[C0, input_scale, input_scale]`` map; each
    resolution has ``block_depth`` bottleneck blocks (the last one
    upsamples and drops channels) and attention follows the flagged stages;
    ``BN-act-conv3x3`` keeps the first ``out_channels`` channels, then tanh.

    Args (as :class:`BigGANGenerator` where the names agree):
        output_scale (int): 128, 256 or 512 (32 and 64 also build).
        noise_size (int): Length of the noise.
        num_classes (int): Classes; 0 builds the unconditional model.
        out_channels (int): Image channels.
        base_channels (int): Channel multiplier.
        block_depth (int): Blocks per resolution.
        input_scale (int): Size of the first feature map.
        with_shared_embedding (bool): Class embedding shared by all blocks.
        shared_dim (int): Size of the class embedding.
        sn_eps, sn_style, init_type, act_cfg, upsample_cfg,
        with_spectral_norm, auto_sync_bn, blocks_cfg, out_norm_cfg,
        pretrained, rgb2bgr, bn_eps, num_bn_stats, sn_iters, sn_svs:
            see :class:`BigGANGenerator`.
        concat_noise (bool): Condition the batch norms on ``[noise,
            embedding]`` rather than on the embedding alone.
        arch_cfg (dict, optional): ``in_channels``, ``out_channels``,
            ``upsample`` and ``attention`` per resolution stage.
        out_conv_channels (int, optional): Channels the output convolution
            computes before the first ``out_channels`` are kept.
            pytorch-pretrained-biggan computes ``base_channels`` of them; its
            spectral norm spans all of them, so converted models keep them.
    """

    # MMGeneration's keyword arguments, in its order, grouped by concern.
    def __init__(
            self, output_scale: int, noise_size: int = 128,
            num_classes: int = 0, out_channels: int = 3,
            base_channels: int = 128, block_depth: int = 2,
            input_scale: int = 4,
            with_shared_embedding: bool = True, shared_dim: int = 128,
            sn_eps: float = 1e-6, sn_style: str = 'ajbrock',
            init_type: str = 'ortho', concat_noise: bool = True,
            act_cfg: dict = dict(type='ReLU'),
            upsample_cfg: dict = dict(type='nearest', scale_factor=2),
            with_spectral_norm: bool = True, auto_sync_bn: bool = True,
            blocks_cfg: dict = dict(type='BigGANDeepGenResBlock'),
            arch_cfg: Optional[dict] = None,
            out_norm_cfg: dict = dict(type='BN'), pretrained=None,
            rgb2bgr: bool = False, bn_eps: float = 1e-5,
            num_bn_stats: int = 1, sn_iters: int = 1, sn_svs: int = 1,
            out_conv_channels: Optional[int] = None):
        super().__init__()
        check_upsample_cfg(upsample_cfg)
        check_norm_cfg(out_norm_cfg)
        if num_classes == 0 and (with_shared_embedding or concat_noise):
            raise ValueError('An unconditional generator (num_classes=0) '
                             'needs with_shared_embedding=False and '
                             'concat_noise=False.')
        if num_classes and not with_shared_embedding and concat_noise:
            raise ValueError('concat_noise needs a shared embedding to '
                             'concatenate to.')
        self.output_scale = output_scale
        self.noise_size = noise_size
        self.num_classes = num_classes
        self.out_channels = out_channels
        self.rgb2bgr = rgb2bgr
        self.input_scale = input_scale
        self.concat_noise = concat_noise
        self.num_bn_stats = num_bn_stats
        self.arch = resolve_arch(
            arch_cfg, lambda: biggan_generator_arch(output_scale,
                                                    base_channels),
            GENERATOR_ARCH_KEYS, 'BigGANDeepGenerator')
        sn_cfg = make_sn_cfg(with_spectral_norm, sn_style, sn_eps, sn_iters,
                             sn_svs)

        self.with_shared_embedding = with_shared_embedding
        self.shared_embedding = SNEmbedding(
            num_classes, shared_dim) if with_shared_embedding else None
        input_dim = noise_size + (shared_dim if concat_noise else 0)
        self.noise2feat = SNLinear(
            input_dim,
            self.arch['in_channels'][0] * input_scale**2,
            sn_cfg=sn_cfg)
        if concat_noise:
            cond_dim, label_classes = input_dim, 0
        elif num_classes and with_shared_embedding:
            cond_dim, label_classes = shared_dim, 0
        else:
            cond_dim, label_classes = 0, num_classes

        block_type, extra_block_args = resolve_block_type(blocks_cfg)
        self.conv_blocks = nn.ModuleList()
        for index, out_ch in enumerate(self.arch['out_channels']):
            in_ch = self.arch['in_channels'][index]
            for depth in range(block_depth):
                last = depth == block_depth - 1
                self.add_block(
                    block_type(
                        in_channels=in_ch,
                        out_channels=out_ch if last else in_ch,
                        cond_dim=cond_dim,
                        num_classes=label_classes,
                        upsample=self.arch['upsample'][index] and last,
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
        out_conv_channels = out_conv_channels or out_channels
        if out_conv_channels < out_channels:
            raise ValueError(f'out_conv_channels ({out_conv_channels}) must '
                             f'be >= out_channels ({out_channels}).')
        self.build_output_layers(
            last_channels, out_conv_channels, act_cfg, sn_cfg, eps=bn_eps,
            num_stats=num_bn_stats, sync_stats=auto_sync_bn)

        init_weights(self, init_biggan_weights, init_type, sn_style, pretrained)

    def synthesize(self, noise, label, truncation, use_outside_embedding):
        if label is None:
            class_vector = None
        elif use_outside_embedding or self.shared_embedding is None:
            class_vector = label
        else:
            class_vector = self.shared_embedding(label)
        if self.concat_noise:
            z = cond = torch.cat([noise, class_vector], dim=1)
        else:
            z, cond = noise, class_vector
        x = self.noise2feat(z)
        x = x.view(x.shape[0], -1, self.input_scale, self.input_scale)
        x = self.run_blocks(x, itertools.repeat(cond), truncation)
        x = norm_act(self.out_bn, self.out_activation, x,
                     truncation=truncation)
        # Converted generators compute more channels than they return
        # (fold_for_inference keeps only these).
        return torch.tanh(self.out_conv(x)[:, :self.out_channels])


@MODELS.register_module()
class BigGANDeepDiscriminator(nn.Module):
    """BigGAN-Deep discriminator.

    A 3x3 input convolution, ``block_depth`` bottleneck blocks per
    resolution (the first downsamples), attention after flagged stages and
    the projection head of :class:`BigGANDiscriminator`.

    Args: as :class:`BigGANDiscriminator`, plus ``block_depth`` (int).
    """

    # MMGeneration's keyword arguments, in its order, grouped by concern.
    def __init__(
            self, input_scale: int, num_classes: int = 0,
            in_channels: int = 3, out_channels: int = 1,
            base_channels: int = 128, block_depth: int = 2,
            sn_eps: float = 1e-6, sn_style: str = 'ajbrock',
            init_type: str = 'ortho', act_cfg: dict = dict(type='ReLU'),
            with_spectral_norm: bool = True,
            blocks_cfg: dict = dict(type='BigGANDeepDiscResBlock'),
            arch_cfg: Optional[dict] = None, pretrained=None,
            sn_iters: int = 1, sn_svs: int = 1):
        super().__init__()
        self.input_scale = input_scale
        self.num_classes = num_classes
        self.arch = resolve_arch(
            arch_cfg, lambda: biggan_deep_discriminator_arch(
                input_scale, base_channels),
            DISCRIMINATOR_ARCH_KEYS, 'BigGANDeepDiscriminator')
        sn_cfg = make_sn_cfg(with_spectral_norm, sn_style, sn_eps, sn_iters,
                             sn_svs)
        self.input_conv = SNConv2d(
            in_channels, self.arch['in_channels'][0], 3, padding=1,
            sn_cfg=sn_cfg)
        block_type, extra_block_args = resolve_block_type(blocks_cfg)
        self.conv_blocks = nn.ModuleList()
        for index, out_ch in enumerate(self.arch['out_channels']):
            for depth in range(block_depth):
                self.conv_blocks.append(
                    block_type(
                        in_channels=self.arch['in_channels'][index]
                        if depth == 0 else out_ch,
                        out_channels=out_ch,
                        downsample=self.arch['downsample'][index]
                        and depth == 0,
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
        x = self.input_conv(x)
        for block in self.conv_blocks:
            x = block(x)
        return projection_head(self, x, label)
