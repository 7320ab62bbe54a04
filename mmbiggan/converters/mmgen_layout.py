"""The architecture of an MMGeneration/mmagic network, read from its keys
and shapes once renamed to mmbiggan's (see :mod:`.mmgen`): one function per
source architecture, each returning the mmbiggan network config (type,
sizes, widths, attention, conditioning, spectral-norm style) whose module
has exactly these weights.

Layouts follow MMGeneration's defaults where the weights cannot tell (which
blocks of a discriminator downsample, the image size of a lone
discriminator, BigGAN-Deep's ``block_depth``); a different layout gets an
explicit ``arch_cfg``/``channels_cfg``.
"""
import math
import re
from typing import List, Optional, Tuple

from mmbiggan.models.architectures.biggan import (biggan_discriminator_arch,
                                                  biggan_generator_arch)
from mmbiggan.models.architectures.biggan_deep import \
    biggan_deep_discriminator_arch
from mmbiggan.models.architectures.sngan_proj import (_D_CHANNELS,
                                                      _D_DOWNSAMPLE,
                                                      _G_CHANNELS)
from mmbiggan.utils.checkpoint import CheckpointError
from .biggan_pytorch import _arch_args


def _entries(state_dict: dict, source: str, prefix: str = 'conv_blocks'):
    """``[(index, is_attention)]`` of the ``conv_blocks`` entries, checked
    to run 0, 1, 2, ..."""
    pattern = re.compile(rf'^{prefix}\.(\d+)\.')
    indices = sorted({int(m.group(1)) for m in map(pattern.match, state_dict)
                      if m})
    if indices != list(range(len(indices))):
        raise CheckpointError(f'{source}: {prefix} indices {indices} are not'
                              ' consecutive from 0; the file is incomplete.')
    return [(i, f'{prefix}.{i}.gamma' in state_dict) for i in indices]


def _shape(state_dict: dict, key: str, source: str, origins: dict):
    if key not in state_dict:
        raise CheckpointError(
            f'{source}: `{origins.get(key, key)}` is missing (mmbiggan '
            f'{key}); the file is incomplete or of another architecture.')
    return tuple(state_dict[key].shape)


def _residual_blocks(state_dict, source, origins, last_conv='conv2'):
    """Per residual block: its index, input and output channels, whether
    it has a shortcut convolution and whether attention follows."""
    entries = _entries(state_dict, source)
    blocks = []
    for index, is_attention in entries:
        if is_attention:
            if not blocks:
                raise CheckpointError(f'{source}: attention before the first'
                                      ' block is not supported here.')
            blocks[-1]['attention'] = True
            continue
        conv1 = _shape(state_dict, f'conv_blocks.{index}.conv1.weight',
                       source, origins)
        out = _shape(state_dict, f'conv_blocks.{index}.{last_conv}.weight',
                     source, origins)
        blocks.append(
            dict(index=index, in_channels=conv1[1], hidden=conv1[0],
                 out_channels=out[0], attention=False,
                 shortcut=f'conv_blocks.{index}.conv_sc.weight' in state_dict))
    if not blocks:
        raise CheckpointError(f'{source}: no residual blocks found.')
    return blocks


def _sn_args(style: Optional[str]) -> dict:
    if style is None:
        return dict(with_spectral_norm=False)
    return dict(sn_style=style)


def _input_scale(state_dict, channels, source, origins):
    out = _shape(state_dict, 'noise2feat.weight', source, origins)[0]
    cells, rest = divmod(out, channels)
    size = math.isqrt(cells)
    if rest or size * size != cells:
        raise CheckpointError(
            f'{source}: noise2feat has {out} outputs, not {channels} '
            'channels times a square; the file is damaged.')
    return size


def _cond_dim(state_dict: dict, key: str) -> Optional[Tuple[int, int]]:
    """Shape of a batch-norm gain projection or table, or None."""
    value = state_dict.get(key)
    return None if value is None else tuple(value.shape)


def biggan_generator_cfg(sd, style, source, origins) -> dict:
    blocks = _residual_blocks(sd, source, origins)
    first = blocks[0]
    input_scale = _input_scale(sd, first['in_channels'], source, origins)
    linear_in = _shape(sd, 'noise2feat.weight', source, origins)[1]
    num_blocks = len(blocks)
    cfg = dict(type='BigGANGenerator')
    gain = _cond_dim(sd, f'conv_blocks.{first["index"]}.bn1.gain.weight')
    gain_is_projection = f'conv_blocks.{first["index"]}.bn1.gain.sn.u' in sd \
        or f'conv_blocks.{first["index"]}.bn1.gain.sn.u0' in sd
    if 'shared_embedding.weight' in sd:
        num_classes, shared_dim = sd['shared_embedding.weight'].shape
        chunk = gain[1] - shared_dim if gain else 0
        split = chunk > 0
        cfg.update(num_classes=int(num_classes), with_shared_embedding=True,
                   shared_dim=int(shared_dim), split_noise=split,
                   noise_size=linear_in * (num_blocks + 1)
                   if split else linear_in)
    elif gain is not None and gain_is_projection:  # unconditional, split
        cfg.update(num_classes=0, with_shared_embedding=False,
                   split_noise=True, noise_size=linear_in * (num_blocks + 1))
    else:  # per-class tables, or plain batch norm
        cfg.update(num_classes=int(gain[0]) if gain else 0,
                   with_shared_embedding=False, split_noise=False,
                   noise_size=linear_in)
    # MMGeneration's blocks all upsample; a block keeping its size and
    # width has no shortcut convolution.
    upsample = [b['shortcut'] or b['in_channels'] != b['out_channels']
                for b in blocks]
    arch = dict(in_channels=[b['in_channels'] for b in blocks],
                out_channels=[b['out_channels'] for b in blocks],
                upsample=upsample,
                attention=[b['attention'] for b in blocks])
    return _with_layout(cfg, arch, input_scale, style, sd, source, origins)


def _with_layout(cfg, arch, input_scale, style, sd, source, origins):
    """``cfg`` of a BigGAN(-Deep) generator completed with its image size,
    channels, widths (``base_channels`` or ``arch_cfg``) and spectral
    norm."""
    scale = input_scale * 2**sum(arch['upsample'])
    cfg.update(output_scale=scale,
               out_channels=_shape(sd, 'out_conv.weight', source, origins)[0])
    cfg.update(_arch_args(arch, biggan_generator_arch, scale))
    if input_scale != 4:
        cfg['input_scale'] = input_scale
    cfg.update(_sn_args(style))
    return cfg


def _deep_stages(sd, source, origins, block_depth: int,
                 generator: bool) -> List[List[dict]]:
    """BigGAN-Deep's residual blocks grouped ``block_depth`` to a stage.
    Attention may only follow a stage's last block, and only one block of
    a stage changes width: the last in the generator, the first in the
    discriminator."""
    blocks = _residual_blocks(sd, source, origins, last_conv='conv4')
    if len(blocks) % block_depth:
        raise CheckpointError(
            f'{source}: {len(blocks)} blocks do not make stages of '
            f'block_depth={block_depth}; give the source config.')
    stages = [blocks[i:i + block_depth]
              for i in range(0, len(blocks), block_depth)]
    for stage in stages:
        same_width = stage[:-1] if generator else stage[1:]
        if any(b['attention'] for b in stage[:-1]) or any(
                b['in_channels'] != b['out_channels'] for b in same_width):
            raise CheckpointError(
                f'{source}: the blocks do not group into stages of '
                f'block_depth={block_depth} (width changes or attention '
                'inside a stage); give the source config.')
    return stages


def biggan_deep_generator_cfg(sd, style, source, origins,
                              block_depth: int) -> dict:
    stages = _deep_stages(sd, source, origins, block_depth, generator=True)
    in_channels = [s[0]['in_channels'] for s in stages]
    cfg = dict(type='BigGANDeepGenerator', block_depth=block_depth)
    linear_in = _shape(sd, 'noise2feat.weight', source, origins)[1]
    gain = _cond_dim(sd,
                     f'conv_blocks.{stages[0][0]["index"]}.bn1.gain.weight')
    if 'shared_embedding.weight' in sd:
        num_classes, shared_dim = (int(s) for s in
                                   sd['shared_embedding.weight'].shape)
        concat = gain is not None and gain[1] == linear_in and \
            linear_in > shared_dim
        cfg.update(num_classes=num_classes, with_shared_embedding=True,
                   shared_dim=shared_dim, concat_noise=concat,
                   noise_size=linear_in - shared_dim if concat else linear_in)
    else:
        cfg.update(num_classes=int(gain[0]) if gain else 0,
                   with_shared_embedding=False, concat_noise=False,
                   noise_size=linear_in)
    input_scale = _input_scale(sd, in_channels[0], source, origins)
    arch = dict(in_channels=in_channels,
                out_channels=[s[-1]['out_channels'] for s in stages],
                upsample=[True] * len(stages),
                attention=[s[-1]['attention'] for s in stages])
    return _with_layout(cfg, arch, input_scale, style, sd, source, origins)


def _scale_by_depth(arch_fn, num_blocks: int, given: Optional[int],
                    source: str) -> int:
    if given is not None:
        return given
    scales = [s for s in (32, 64, 128, 256, 512)
              if len(arch_fn(s)['out_channels']) == num_blocks]
    if len(scales) != 1:
        raise CheckpointError(
            f'{source}: a discriminator of {num_blocks} stages fits image '
            f'sizes {scales}; convert it with its generator or give the '
            'source config.')
    return scales[0]


def biggan_discriminator_cfg(sd, style, source, origins,
                             scale: Optional[int]) -> dict:
    blocks = _residual_blocks(sd, source, origins)
    in_channels = blocks[0]['in_channels']
    scale = _scale_by_depth(
        lambda s: biggan_discriminator_arch(s, in_channels, 1), len(blocks),
        scale, source)
    default = biggan_discriminator_arch(scale, in_channels, 1)
    if len(default['downsample']) != len(blocks):
        raise CheckpointError(
            f'{source}: {len(blocks)} blocks, but a {scale}x{scale} BigGAN '
            f'discriminator has {len(default["downsample"])}.')
    arch = dict(in_channels=[b['in_channels'] for b in blocks],
                out_channels=[b['out_channels'] for b in blocks],
                downsample=default['downsample'],
                attention=[b['attention'] for b in blocks])
    cfg = dict(type='BigGANDiscriminator', input_scale=scale,
               in_channels=in_channels,
               num_classes=int(sd['proj_y.weight'].shape[0])
               if 'proj_y.weight' in sd else 0)
    out = _shape(sd, 'decision.weight', source, origins)[0]
    if out != 1:
        cfg['out_channels'] = out
    cfg.update(_arch_args(
        arch, lambda s, b: biggan_discriminator_arch(s, in_channels, b),
        scale))
    cfg.update(_sn_args(style))
    return cfg


def biggan_deep_discriminator_cfg(sd, style, source, origins,
                                  scale: Optional[int],
                                  block_depth: int) -> dict:
    stages = _deep_stages(sd, source, origins, block_depth, generator=False)
    scale = _scale_by_depth(lambda s: biggan_deep_discriminator_arch(s, 1),
                            len(stages), scale, source)
    default = biggan_deep_discriminator_arch(scale, 1)
    arch = dict(in_channels=[s[0]['in_channels'] for s in stages],
                out_channels=[s[-1]['out_channels'] for s in stages],
                downsample=default['downsample'],
                attention=[s[-1]['attention'] for s in stages])
    cfg = dict(type='BigGANDeepDiscriminator', input_scale=scale,
               block_depth=block_depth,
               in_channels=_shape(sd, 'input_conv.weight', source,
                                  origins)[1],
               num_classes=int(sd['proj_y.weight'].shape[0])
               if 'proj_y.weight' in sd else 0)
    out = _shape(sd, 'decision.weight', source, origins)[0]
    if out != 1:
        cfg['out_channels'] = out
    cfg.update(_arch_args(arch, biggan_deep_discriminator_arch, scale))
    cfg.update(_sn_args(style))
    return cfg


def sngan_generator_cfg(sd, style, source, origins) -> dict:
    blocks = _residual_blocks(sd, source, origins)
    base = _shape(sd, 'out_conv.weight', source, origins)[1]
    factors = [b['in_channels'] // base for b in blocks]
    if any(b['in_channels'] % base for b in blocks):
        raise CheckpointError(f'{source}: block widths are not multiples '
                              f'of the output width {base}.')
    input_scale = _input_scale(sd, blocks[0]['in_channels'], source, origins)
    scale = input_scale * 2**len(blocks)
    first = blocks[0]['index']
    gain = _cond_dim(sd, f'conv_blocks.{first}.bn1.gain.weight')
    noise_sn = 'noise2feat.sn.u' in sd or 'noise2feat.sn.u0' in sd
    gain_sn = f'conv_blocks.{first}.bn1.gain.sn.u' in sd or \
        f'conv_blocks.{first}.bn1.gain.sn.u0' in sd
    attention = [i + 1 for i, b in enumerate(blocks) if b['attention']]
    cfg = dict(type='SAGANGenerator' if attention else 'SNGANGenerator',
               output_scale=scale, base_channels=base,
               noise_size=_shape(sd, 'noise2feat.weight', source,
                                 origins)[1],
               num_classes=int(gain[0]) if gain else 0,
               use_cbn=gain is not None,
               out_channels=_shape(sd, 'out_conv.weight', source, origins)[0],
               attention_after_nth_block=attention or 0,
               with_spectral_norm=noise_sn)
    if gain is not None and gain_sn != noise_sn:
        cfg['with_embedding_spectral_norm'] = gain_sn
    if _G_CHANNELS.get(scale) != factors:
        cfg['channels_cfg'] = factors
    if input_scale != 4:
        cfg['input_scale'] = input_scale
    if style is not None:
        cfg['sn_style'] = style
    return cfg


def proj_discriminator_cfg(sd, style, source, origins,
                           scale: Optional[int]) -> dict:
    head = _shape(sd, 'from_rgb.conv1.weight', source, origins)
    base = head[0]
    entries = _entries(sd, source)
    attention, blocks = [], []
    for index, is_attention in entries:
        if is_attention:
            # position 1 is after the head block, k >= 2 after block k - 1
            attention.append(len(blocks) + 1)
            continue
        conv1 = _shape(sd, f'conv_blocks.{index}.conv1.weight', source,
                       origins)
        out = _shape(sd, f'conv_blocks.{index}.conv2.weight', source,
                     origins)[0]
        blocks.append(dict(in_channels=conv1[1], out_channels=out,
                           shortcut=f'conv_blocks.{index}.conv_sc.weight'
                           in sd))
    factors = [b['out_channels'] // base for b in blocks]
    if scale is None:
        matches = [s for s, f in _D_CHANNELS.items() if f == factors]
        if len(matches) != 1:
            raise CheckpointError(
                f'{source}: channel factors {factors} match none of '
                'MMGeneration\'s default discriminators; convert it with its'
                ' generator or give the source config.')
        scale = matches[0]
    if _D_CHANNELS.get(scale) == factors:
        downsample = list(_D_DOWNSAMPLE[scale])
    else:
        # Without a shortcut convolution a block neither downsamples nor
        # changes width; with one, downsampling is assumed (where the width
        # also changes the weights cannot tell).
        downsample = [b['shortcut'] for b in blocks]
    cfg = dict(type='SAGANDiscriminator' if attention else
               'ProjDiscriminator', input_scale=scale, base_channels=base,
               input_channels=head[1],
               num_classes=int(sd['proj_y.weight'].shape[0])
               if 'proj_y.weight' in sd else 0,
               attention_after_nth_block=attention or -1,
               with_spectral_norm='decision.sn.u' in sd
               or 'decision.sn.u0' in sd)
    if _D_CHANNELS.get(scale) != factors:
        cfg['channels_cfg'] = factors
        cfg['downsample_cfg'] = downsample
    if style is not None:
        cfg['sn_style'] = style
    return cfg
