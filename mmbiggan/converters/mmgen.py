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
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F

from mmbiggan.models.architectures.biggan import biggan_generator_arch
from mmbiggan.utils.checkpoint import CheckpointError, load_checkpoint_file
from .conversion import (NETWORKS, Conversion, ConvertedNetwork, check_finite,
                         short_list, verify_network)
from .mmgen_layout import (biggan_deep_discriminator_cfg,
                           biggan_deep_generator_cfg, biggan_discriminator_cfg,
                           biggan_generator_cfg, proj_discriminator_cfg,
                           sngan_generator_cfg)
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
    init_cfg='residual_gain')
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
        keys = short_list([str(k) for k in state_dict], 6)
        raise CheckpointError(
            f'{path} holds no `generator.*`, `generator_ema.*` or '
            f'`discriminator.*` weights (keys: {keys}); is it an '
            'MMGeneration/mmagic GAN checkpoint?')
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
    train_cfg = cfg.get('train_cfg')
    if isinstance(train_cfg, dict) and 'disc_steps' in train_cfg:
        model['_disc_steps'] = int(train_cfg['disc_steps'])
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
    """mmbiggan's ``ema_config`` (decay convention, ``interval`` counted in
    generator updates) from MMGeneration's EMA hook or mmagic's
    ``model.ema_config``.

    MMGeneration: ``interp_cfg.momentum`` is the decay, buffers use
    ``momentum_nontrainable`` (0 by default: copied), ``interval`` counts
    runner iterations (its default -1: never), of which
    ``train_cfg.disc_steps`` make one generator update. mmagic:
    ``momentum`` is 1 - decay, buffers are copied unless ``update_buffers``,
    ``interval`` counts generator updates.
    """
    for hook in model_cfg.get('_custom_hooks', []):
        if isinstance(hook, dict) and hook.get(
                'type') == 'ExponentialMovingAverageHook':
            interp = hook.get('interp_cfg') or {}
            every = int(hook.get('interval', -1))
            if every <= 0:
                # mmcv's every_n_iters is never true for n <= 0
                logger.warning(
                    f'The source\'s EMA hook has interval={every}: it never '
                    'averaged (the EMA generator stayed a copy); the '
                    'converted model config uses the default ema_config.')
                return None
            disc_steps = model_cfg.get('_disc_steps', 1)
            if every % disc_steps:
                logger.warning(
                    f'The source averaged the EMA every {every} iterations '
                    f'with {disc_steps} discriminator steps per generator '
                    'step, not a whole number of generator steps; the '
                    'converted ema_config averages after every generator '
                    'step.')
            return dict(
                momentum=float(interp.get('momentum', 0.999)),
                buffer_momentum=float(
                    interp.get('momentum_nontrainable', 0.0)),
                interval=max(every // disc_steps, 1),
                start_iter=int(hook.get('start_iter', 0)))
    ema = model_cfg.get('ema_config')
    if isinstance(ema, dict) and ema:
        decay = 1.0 - float(ema.get('momentum', 0.0002))
        return dict(
            momentum=decay,
            buffer_momentum=decay if ema.get('update_buffers') else 0.0,
            interval=int(ema.get('interval', 1)),
            start_iter=int(ema.get('start_iter', 0)))
    return None


# Source arguments read from the weights, compared with the source config.
_INFERRED = ('num_classes', 'output_scale', 'input_scale', 'shared_dim',
             'with_shared_embedding', 'split_noise', 'concat_noise',
             'block_depth', 'use_cbn', 'with_spectral_norm', 'sn_style')
# Source arguments that only shape initialisation or training.
_TRAINING_ONLY = ('type', 'pretrained', 'init_type', 'init_cfg',
                  'auto_sync_bn')


def check_source_cfg(cfg: dict, source_cfg: dict, source: str,
                     mixed_sn: bool):
    """Refuse a source config that contradicts the weights (the config of
    another run) and warn about its arguments the conversion does not
    take over."""
    contradictions = []
    for key in _INFERRED:
        if key in source_cfg and key in cfg and source_cfg[key] != cfg[key]:
            if key == 'sn_style' and mixed_sn:
                continue  # converted to torch style on purpose
            contradictions.append(f'{key}={source_cfg[key]!r} in the config '
                                  f'but {cfg[key]!r} in the weights')
    if 'base_channels' in source_cfg and not any(
            k in cfg for k in ('arch_cfg', 'channels_cfg')) and \
            source_cfg['base_channels'] != cfg.get('base_channels'):
        contradictions.append(
            f'base_channels={source_cfg["base_channels"]!r} in the config '
            f'but {cfg.get("base_channels")!r} in the weights')
    if contradictions:
        raise CheckpointError(
            f'{source}: the source config ({source_cfg.get("_origin")}) does '
            f'not describe these weights: {"; ".join(contradictions)}; give '
            'the config of this run.')
    known = set(cfg) | set(_INFERRED) | set(_TRAINING_ONLY) | set(
        _PASSED_THROUGH) | set(_SETTINGS[_ARCH_OF_TYPE.get(
            cfg['type'], cfg['type'])]) | {
                'base_channels', 'noise_size', 'arch_cfg', 'channels_cfg',
                'downsample_cfg', 'attention_after_nth_block', 'in_channels',
                'out_channels', 'input_channels',
                'with_embedding_spectral_norm'
            }
    ignored = sorted(
        k for k in source_cfg if k not in known and not k.startswith('_')
        and source_cfg[k] not in _DEFAULT_MODULE_CFGS)
    if ignored:
        logger.warning(
            f'{source}: the source config sets {ignored}, which the '
            'conversion does not take over (the weights and the other '
            'settings fix the network); check that the converted model '
            'matches if they differ from MMGeneration\'s defaults.')


# `blocks_cfg`, `attention_cfg`, `from_rgb_cfg` naming MMGeneration's own
# modules without arguments: what the converted model builds.
_DEFAULT_MODULE_CFGS = [
    dict(type=t) for t in
    ('SelfAttentionBlock', 'BigGANGenResBlock', 'BigGANDiscResBlock',
     'BigGANDeepGenResBlock', 'BigGANDeepDiscResBlock', 'SNGANGenResBlock',
     'SNGANDiscResBlock', 'SNGANDiscHeadResBlock')
]
_ARCH_OF_TYPE = {'SAGANGenerator': SNGAN_G,
                 'SAGANDiscriminator': PROJ_D}


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
    if source_cfg is not None:
        check_source_cfg(cfg, source_cfg, where, mixed_sn=style == 'torch'
                         and source_cfg.get('sn_style') == 'ajbrock')
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
