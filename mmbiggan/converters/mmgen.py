"""Checkpoints of MMGeneration 0.7.x and mmagic 1.x (BigGAN, BigGAN-Deep,
SAGAN, SNGAN-proj).

Both save one file: ``{'meta': ..., 'state_dict': {'generator.*',
'generator_ema.*', 'discriminator.*'}, 'optimizer': ...}``. mmagic wraps
the EMA generator in mmengine's averaged model (``generator_ema.module.*``
and a ``generator_ema.steps`` counter). Their networks wrap convolutions
in ``ConvModule`` (``conv1.conv.weight``) and spectral norm is stored
either as ``torch.nn.utils.spectral_norm`` stores it (``weight_orig``,
``weight_u``, ``weight_v``; ``sn_style='torch'``) or as BigGAN-PyTorch
does (``u0``, ``sv0``; ``sn_style='ajbrock'``). Keys are renamed to
mmbiggan's modules, the architecture is read from the keys and shapes, and
the settings no weight records (epsilons, channel order, SNGAN's
batch-norm gain convention) come from the source config: the one the
training run recorded in ``meta`` (``meta['config']`` in MMGeneration,
``meta['cfg']`` in mmagic) or one given by the caller; their defaults
otherwise, reported as assumed.
"""
import logging
import math
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F

from mmbiggan.models.architectures.biggan import (biggan_discriminator_arch,
                                                  biggan_generator_arch)
from mmbiggan.models.architectures.biggan_deep import \
    biggan_deep_discriminator_arch
from mmbiggan.utils.checkpoint import CheckpointError, load_checkpoint_file
from .biggan_pytorch import _arch_args
from .conversion import (NETWORKS, Conversion, ConvertedNetwork, check_finite,
                         short_list, verify_network)
from .pytorch_pretrained_biggan import gen_z_permutation

SOURCE_FORMAT = 'MMGeneration/mmagic'
logger = logging.getLogger(__name__)

# Source architectures, recognised by a key only each has.
BIGGAN_G, BIGGAN_DEEP_G, SNGAN_G = ('BigGANGenerator', 'BigGANDeepGenerator',
                                    'SNGANGenerator')
BIGGAN_D, BIGGAN_DEEP_D, PROJ_D = ('BigGANDiscriminator',
                                   'BigGANDeepDiscriminator',
                                   'ProjDiscriminator')

# Settings that change outputs but no weight, per source architecture, with
# MMGeneration's defaults, and the name the config check gives each (see
# config_check.eval_settings).
_SETTINGS = {
    BIGGAN_G: dict(sn_eps=1e-6, rgb2bgr=False),
    BIGGAN_DEEP_G: dict(sn_eps=1e-6, rgb2bgr=False),
    SNGAN_G: dict(sn_eps=1e-12, norm_eps=1e-4, init_cfg=dict(type='BigGAN')),
    BIGGAN_D: dict(sn_eps=1e-6),
    BIGGAN_DEEP_D: dict(sn_eps=1e-6),
    PROJ_D: dict(sn_eps=1e-12),
}
_CHECKED_AS = dict(
    sn_eps='sn_eps', rgb2bgr='rgb2bgr', norm_eps='bn_eps',
    init_cfg='residual_gain', act_cfg='activation')
# Further source arguments taken over as they are when the source config
# gives them (they change outputs, and mmbiggan accepts MMGeneration's
# spelling).
_PASSED_THROUGH = ('act_cfg', 'out_norm_cfg', 'upsample_cfg')

_SN_LEAF = re.compile(r'^(u|sv)(\d+)$')
_WRAPPED_LEAF = re.compile(r'^(weight|bias|weight_orig|weight_u|weight_v|'
                           r'u\d+|sv\d+)$')
# Module names of MMGeneration's blocks -> mmbiggan's.
_MODULE_NAMES = {
    'shortcut': 'conv_sc', 'conv_1': 'conv1', 'conv_2': 'conv2',
    'norm_1': 'bn1', 'norm_2': 'bn2', 'weight_embedding': 'gain',
    'bias_embedding': 'bias'
}
_TOP_LEVEL = [('output_layer.bn.', 'out_bn.'),
              ('output_layer.conv.', 'out_conv.'),
              ('to_rgb.bn.', 'out_bn.'), ('to_rgb.conv.', 'out_conv.')]


# ---------------------------------------------------------------------------
# Reading the file
# ---------------------------------------------------------------------------
def load_source(path: str) -> Tuple[Dict[str, 'OrderedDict'], dict]:
    """Split an MMGeneration/mmagic checkpoint into per-network state dicts.

    Returns:
        tuple: ``{'generator' | 'generator_ema' | 'discriminator':
        OrderedDict}`` (keys without the network prefix) and the ``meta``
        dict.
    """
    checkpoint = load_checkpoint_file(path)
    if not isinstance(checkpoint, dict):
        raise CheckpointError(
            f'{path} holds a {type(checkpoint).__name__}, not an '
            'MMGeneration/mmagic checkpoint (a dict with `state_dict`).')
    state_dict = checkpoint.get('state_dict', checkpoint)
    meta = checkpoint.get('meta') if isinstance(checkpoint.get('meta'),
                                                dict) else {}
    if not isinstance(state_dict, dict):
        raise CheckpointError(f'{path}: `state_dict` is a '
                              f'{type(state_dict).__name__}, not a dict.')
    networks = {name: OrderedDict() for name in NETWORKS}
    unexpected, ema_steps = [], None
    for key, value in state_dict.items():
        if not isinstance(key, str) or not torch.is_tensor(value):
            unexpected.append(str(key))
            continue
        if key.startswith('module.'):  # saved from a DDP wrapper
            key = key[len('module.'):]
        name, _, rest = key.partition('.')
        if name not in networks or not rest:
            unexpected.append(key)
            continue
        if name == 'generator_ema':
            if rest == 'steps':  # mmengine's averaged-model counter
                ema_steps = int(value)
                continue
            if rest.startswith('module.'):
                rest = rest[len('module.'):]
        networks[name][rest] = value
    networks = {k: v for k, v in networks.items() if v}
    if not networks:
        raise CheckpointError(
            f'{path} holds no `generator.*`, `generator_ema.*` or '
            f'`discriminator.*` weights (keys: {short_list(list(state_dict), 6)}'
            '); is it an MMGeneration/mmagic GAN checkpoint?')
    if unexpected:
        raise CheckpointError(
            f'{path} has {len(unexpected)} keys outside the generator, EMA '
            f'generator and discriminator: {short_list(unexpected)}; it is '
            'not an MMGeneration/mmagic GAN checkpoint of a supported model.')
    if ema_steps is not None:
        meta = dict(meta, ema_steps=ema_steps)
    return networks, meta


def source_model_cfg(meta: dict, source_config: Optional[str]) -> dict:
    """The source's ``model`` config: from ``source_config`` (a config file
    of MMGeneration or mmagic) or the config text recorded in ``meta``;
    ``{}`` when neither is available."""
    from mmengine.config import Config
    if source_config is not None:
        try:
            cfg = Config.fromfile(source_config)
        except Exception as err:  # any parse or _base_ error of a foreign file
            raise CheckpointError(
                f'Cannot read the source config {source_config}: '
                f'{err}') from err
        origin = source_config
    else:
        text = meta.get('config', meta.get('cfg'))
        if not isinstance(text, str):
            return {}
        try:
            cfg = Config.fromstring(text, '.py')
        except Exception as err:  # recorded text of another tool version
            logger.warning('The config recorded in the checkpoint meta cannot'
                           f' be read ({str(err).splitlines()[0]}); it is '
                           'ignored.')
            return {}
        origin = 'the checkpoint meta'
    model = cfg.get('model')
    if not isinstance(model, dict):
        raise CheckpointError(f'{origin} has no `model` dict.')
    model = model.to_dict() if hasattr(model, 'to_dict') else dict(model)
    model['_origin'] = origin
    model['_custom_hooks'] = list(cfg.get('custom_hooks') or [])
    return model


# ---------------------------------------------------------------------------
# Key mapping
# ---------------------------------------------------------------------------
def source_architecture(state_dict: dict, source: str) -> str:
    """Which MMGeneration network a state dict belongs to."""
    keys = list(state_dict)

    def has(prefix):
        return any(k.startswith(prefix) for k in keys)

    if has('to_rgb.'):
        return SNGAN_G
    if has('from_rgb.'):
        return PROJ_D
    if has('output_layer.'):
        return BIGGAN_DEEP_G if any('.conv4.' in k for k in keys) \
            else BIGGAN_G
    if has('decision.'):
        return BIGGAN_DEEP_D if has('input_conv.') else BIGGAN_D
    raise CheckpointError(
        f'{source}: no output layer (`output_layer`, `to_rgb`) or decision '
        f'layer found (keys: {short_list(keys, 6)}); not a BigGAN, '
        'BigGAN-Deep, SAGAN or SNGAN network of MMGeneration/mmagic.')


def map_key(key: str) -> Optional[str]:
    """mmbiggan's name of an MMGeneration/mmagic key, or None for keys
    mmbiggan does not keep (batch-norm counters)."""
    if key.endswith('num_batches_tracked'):
        return None
    for old, new in _TOP_LEVEL:
        if key.startswith(old):
            key = new + key[len(old):]
            break
    parts = key.split('.')
    # ConvModule: `<name>.conv.<leaf>` is the convolution of `<name>`;
    # BigGANConditionBN / SNConditionNorm: `<bn>.bn.*`, `<bn>.norm.*`.
    if len(parts) >= 3 and parts[-2] == 'conv' and _WRAPPED_LEAF.match(
            parts[-1]):
        del parts[-2]
    if len(parts) >= 3 and parts[-2] in ('bn', 'norm'):
        del parts[-2]
    parts = [_MODULE_NAMES.get(p, p) for p in parts[:-1]] + [parts[-1]]
    leaf = parts[-1]
    if leaf == 'weight_orig':
        parts[-1] = 'weight'
    elif leaf in ('weight_u', 'weight_v'):
        parts[-1:] = ['sn', leaf[-1]]
    elif _SN_LEAF.match(leaf):
        parts[-1:] = ['sn', leaf]
    return '.'.join(parts)


def map_keys(state_dict: dict) -> Tuple['OrderedDict', Dict[str, str]]:
    """Rename a network's keys to mmbiggan's (values unchanged).

    Returns:
        tuple: the renamed state dict and ``{new key: source key}``.
    """
    mapped, origins = OrderedDict(), {}
    for key, value in state_dict.items():
        new = map_key(key)
        if new is not None:
            mapped[new], origins[new] = value, key
    return mapped, origins


def sn_layers(state_dict: dict) -> Dict[str, str]:
    """``{layer: 'torch' | 'ajbrock'}`` for every spectrally normalized
    layer of a mapped state dict."""
    layers = {}
    for key in state_dict:
        if key.endswith('.sn.u'):
            layers[key[:-len('.sn.u')]] = 'torch'
        elif key.endswith('.sn.u0'):
            layers[key[:-len('.sn.u0')]] = 'ajbrock'
    return layers


@torch.no_grad()
def ajbrock_to_torch(state_dict: dict, layer: str, eps: float):
    """Store an ajbrock-style layer's singular vectors the way
    ``torch.nn.utils.spectral_norm`` does.

    In eval, ajbrock's spectral norm runs one power iteration from the
    stored ``u0`` (``v = normalize(u0 W)``, ``u = normalize(v W^T)``) and
    divides by ``v W^T u^T``; torch's uses its stored ``u``, ``v`` as they
    are and divides by ``u W v``, the same bilinear form. Storing the
    iterated pair therefore gives the same normalized weight.
    """
    weight = state_dict[f'{layer}.weight']
    matrix = weight.reshape(weight.shape[0], -1)
    u0 = state_dict.pop(f'{layer}.sn.u0')
    for key in [k for k in state_dict if k.startswith(f'{layer}.sn.')]:
        if re.match(r'^(u|sv)\d+$', key.rsplit('.', 1)[-1]):
            del state_dict[key]
    v = F.normalize(u0 @ matrix, eps=eps)
    u = F.normalize(v @ matrix.t(), eps=eps)
    state_dict[f'{layer}.sn.u'] = u.reshape(-1)
    state_dict[f'{layer}.sn.v'] = v.reshape(-1)


def unify_sn_style(state_dict: dict, origins: dict, sn_eps: float,
                   source: str) -> Optional[str]:
    """The spectral-norm style of a mapped state dict (None without spectral
    norm). MMGeneration's SNGAN/SAGAN with ``sn_style='ajbrock'`` keeps
    torch's spectral norm in ``noise2feat``, ``to_rgb``, ``decision`` and
    ``proj_y``; such mixed networks get torch-style vectors throughout (see
    :func:`ajbrock_to_torch`), which reproduces their eval outputs."""
    layers = sn_layers(state_dict)
    styles = set(layers.values())
    if len(styles) <= 1:
        return styles.pop() if styles else None
    converted = [k for k, s in layers.items() if s == 'ajbrock']
    for layer in converted:
        ajbrock_to_torch(state_dict, layer, sn_eps)
        origins[f'{layer}.sn.u'] = origins.get(f'{layer}.weight', layer)
        origins[f'{layer}.sn.v'] = origins[f'{layer}.sn.u']
    logger.info(
        f'{source}: {len(converted)} layers with ajbrock-style and '
        f'{len(layers) - len(converted)} with torch-style spectral norm; '
        'the ajbrock ones were converted to torch style (same eval output).')
    return 'torch'


# ---------------------------------------------------------------------------
# Architecture inference (on mmbiggan's key names)
# ---------------------------------------------------------------------------
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
    scale = input_scale * 2**sum(upsample)
    arch = dict(in_channels=[b['in_channels'] for b in blocks],
                out_channels=[b['out_channels'] for b in blocks],
                upsample=upsample,
                attention=[b['attention'] for b in blocks])
    cfg.update(output_scale=scale,
               out_channels=_shape(sd, 'out_conv.weight', source, origins)[0])
    cfg.update(_arch_args(arch, biggan_generator_arch, scale))
    if input_scale != 4:
        cfg['input_scale'] = input_scale
    cfg.update(_sn_args(style))
    return cfg


def biggan_deep_generator_cfg(sd, style, source, origins,
                              block_depth: int) -> dict:
    blocks = _residual_blocks(sd, source, origins, last_conv='conv4')
    if len(blocks) % block_depth:
        raise CheckpointError(
            f'{source}: {len(blocks)} blocks do not make stages of '
            f'block_depth={block_depth}; give the source config.')
    stages = [blocks[i:i + block_depth]
              for i in range(0, len(blocks), block_depth)]
    for stage in stages:
        if any(b['attention'] for b in stage[:-1]) or any(
                b['in_channels'] != b['out_channels'] for b in stage[:-1]):
            raise CheckpointError(
                f'{source}: the blocks do not group into stages of '
                f'block_depth={block_depth} (width changes or attention '
                'inside a stage); give the source config.')
    in_channels = [s[0]['in_channels'] for s in stages]
    cfg = dict(type='BigGANDeepGenerator', block_depth=block_depth)
    linear_in = _shape(sd, 'noise2feat.weight', source, origins)[1]
    gain = _cond_dim(sd, f'conv_blocks.{blocks[0]["index"]}.bn1.gain.weight')
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
    scale = input_scale * 2**len(stages)
    cfg.update(output_scale=scale,
               out_channels=_shape(sd, 'out_conv.weight', source, origins)[0])
    cfg.update(_arch_args(arch, biggan_generator_arch, scale))
    if input_scale != 4:
        cfg['input_scale'] = input_scale
    cfg.update(_sn_args(style))
    return cfg


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
    blocks = _residual_blocks(sd, source, origins, last_conv='conv4')
    if len(blocks) % block_depth:
        raise CheckpointError(
            f'{source}: {len(blocks)} blocks do not make stages of '
            f'block_depth={block_depth}; give the source config.')
    stages = [blocks[i:i + block_depth]
              for i in range(0, len(blocks), block_depth)]
    if any(b['attention'] for s in stages for b in s[:-1]):
        raise CheckpointError(f'{source}: attention inside a stage of '
                              f'block_depth={block_depth}; give the source '
                              'config.')
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
    from mmbiggan.models.architectures.sngan_proj import _G_CHANNELS
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
    from mmbiggan.models.architectures.sngan_proj import (_D_CHANNELS,
                                                          _D_DOWNSAMPLE)
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


# ---------------------------------------------------------------------------
# Settings from the source config
# ---------------------------------------------------------------------------
def network_settings(arch: str, source_cfg: Optional[dict],
                     assumed: dict) -> dict:
    """Arguments that change outputs but no weight: from the source's
    network config (MMGeneration's defaults where it leaves them out), or,
    without one, MMGeneration's defaults, recorded in ``assumed``."""
    settings = {}
    for key, default in _SETTINGS[arch].items():
        if source_cfg is not None:
            # what the source config leaves out is its default
            settings[key] = source_cfg.get(key, default)
        else:
            settings[key] = default
            assumed[_CHECKED_AS[key]] = default
    if source_cfg is not None:
        for key in _PASSED_THROUGH:
            if key in source_cfg:
                settings[key] = source_cfg[key]
    return settings


def ema_config(model_cfg: dict) -> Optional[dict]:
    """mmbiggan's ``ema_config`` (decay convention) from MMGeneration's EMA
    hook (``interp_cfg.momentum`` is the decay; buffers use
    ``momentum_nontrainable``, 0 by default: copied) or mmagic's
    ``model.ema_config`` (``momentum`` is 1 - decay; buffers copied)."""
    for hook in model_cfg.get('_custom_hooks', []):
        if isinstance(hook, dict) and hook.get(
                'type') == 'ExponentialMovingAverageHook':
            interp = hook.get('interp_cfg') or {}
            return dict(
                momentum=float(interp.get('momentum', 0.999)),
                buffer_momentum=float(
                    interp.get('momentum_nontrainable', 0.0)),
                interval=max(int(hook.get('interval', -1)), 1),
                start_iter=int(hook.get('start_iter', 0)))
    ema = model_cfg.get('ema_config')
    if isinstance(ema, dict) and ema:
        return dict(
            momentum=1.0 - float(ema.get('momentum', 0.0002)),
            buffer_momentum=0.0 if not ema.get('update_buffers') else
            1.0 - float(ema.get('momentum', 0.0002)),
            interval=int(ema.get('interval', 1)),
            start_iter=int(ema.get('start_iter', 0)))
    return None


# ---------------------------------------------------------------------------
# Conversion
# ---------------------------------------------------------------------------
def convert_network(state_dict: dict, name: str, source: str,
                    source_cfg: Optional[dict], scale: Optional[int],
                    assumed: dict) -> ConvertedNetwork:
    """One network of an MMGeneration/mmagic checkpoint in mmbiggan's
    layout, checked against the module its config builds."""
    where = f'{source} ({name})'
    check_finite(state_dict, where)
    arch = source_architecture(state_dict, where)
    want_g = name != 'discriminator'
    if (arch in (BIGGAN_G, BIGGAN_DEEP_G, SNGAN_G)) != want_g:
        raise CheckpointError(
            f'{where} holds a {arch}, which is not a '
            f'{"generator" if want_g else "discriminator"}.')
    settings = network_settings(arch, source_cfg, assumed)
    mapped, origins = map_keys(state_dict)
    style = unify_sn_style(mapped, origins, settings['sn_eps'], where)
    block_depth = int((source_cfg or {}).get('block_depth', 2))
    if arch == BIGGAN_G:
        cfg = biggan_generator_cfg(mapped, style, where, origins)
    elif arch == BIGGAN_DEEP_G:
        cfg = biggan_deep_generator_cfg(mapped, style, where, origins,
                                        block_depth)
        # MMGeneration reads the noise2feat output as NHWC, mmbiggan as NCHW.
        perm = gen_z_permutation(cfg['arch_cfg']['in_channels'][0]
                                 if 'arch_cfg' in cfg else
                                 biggan_generator_arch(
                                     cfg['output_scale'],
                                     cfg['base_channels'])['in_channels'][0],
                                 cfg.get('input_scale', 4))
        for key in ('noise2feat.weight', 'noise2feat.bias', 'noise2feat.sn.u'):
            if key in mapped:
                mapped[key] = mapped[key][perm].contiguous()
        if 'noise2feat.sn.u0' in mapped:
            mapped['noise2feat.sn.u0'] = mapped['noise2feat.sn.u0'][:, perm]
    elif arch == SNGAN_G:
        cfg = sngan_generator_cfg(mapped, style, where, origins)
    elif arch == BIGGAN_D:
        cfg = biggan_discriminator_cfg(mapped, style, where, origins, scale)
    elif arch == BIGGAN_DEEP_D:
        cfg = biggan_deep_discriminator_cfg(mapped, style, where, origins,
                                            scale, block_depth)
    else:
        cfg = proj_discriminator_cfg(mapped, style, where, origins, scale)
    if style is None:
        settings.pop('sn_eps', None)
        assumed.pop('sn_eps', None)
    cfg.update(settings)
    net = ConvertedNetwork(cfg, mapped, where, origins)
    verify_network(net, name)
    return net


def convert_mmgen(path: str,
                  source_config: Optional[str] = None) -> Conversion:
    """Convert an MMGeneration 0.7.x or mmagic 1.x checkpoint.

    Args:
        path (str): The checkpoint (``iter_*.pth`` of a run, or a
            published model).
        source_config (str, optional): The MMGeneration/mmagic config of
            the run; by default the one recorded in the checkpoint meta.

    Returns:
        Conversion: the checked generator, EMA generator and discriminator
        found in the file.
    """
    if not osp.isfile(path):
        raise CheckpointError(f'Input not found: {path}')
    weights, meta = load_source(path)
    model_cfg = source_model_cfg(meta, source_config)
    assumed = {}
    networks = {}
    scale = None
    for name in NETWORKS:
        if name not in weights:
            continue
        key = 'discriminator' if name == 'discriminator' else 'generator'
        net_cfg = model_cfg.get(key) if model_cfg else None
        if name == 'discriminator' and net_cfg is not None:
            scale = net_cfg.get('input_scale', scale)
        net = convert_network(weights[name], name, path, net_cfg, scale,
                              assumed)
        networks[name] = net
        if name != 'discriminator':
            scale = net.cfg['output_scale']
    if 'generator' in networks and 'generator_ema' in networks and \
            networks['generator'].cfg != networks['generator_ema'].cfg:
        raise CheckpointError(
            f'{path}: the generator and the EMA generator have different '
            'architectures; the file is damaged.')

    info = dict(source_files=dict(checkpoint=osp.abspath(path)))
    for key in ('iter', 'epoch', 'mmgen_version', 'mmagic_version',
                'exp_name', 'experiment_name', 'ema_steps'):
        if key in meta and isinstance(meta[key], (int, float, str)):
            info[key] = meta[key]
    if model_cfg:
        info['source_config'] = model_cfg['_origin']
    if assumed:
        info['assumed_settings'] = assumed
        logger.warning(
            f'No source config (none recorded in the checkpoint and no '
            f'--source-config): assumed MMGeneration\'s defaults {assumed}.')
    ema = ema_config(model_cfg) if model_cfg else None
    return Conversion(SOURCE_FORMAT, networks, info, ema)
