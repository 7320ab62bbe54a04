"""Checkpoints of BigGAN-PyTorch (ajbrock/BigGAN-PyTorch, ``BigGAN.py``).

A run folder holds ``G.pth``, ``G_ema.pth``, ``D.pth`` (state dicts),
``state_dict.pth`` (the training config and counters; it pickles
``torch.nn.ReLU`` objects, the only class allowed when loading it) and
optimizer states, which are not needed. The architecture is read from the
keys and shapes of the weights (number of blocks, attention, widths,
hierarchical latent, shared embedding, singular values tracked) and checked
against ``state_dict.pth`` when present; the epsilons, which no weight
records, come from it or from the options (BigGAN-PyTorch's defaults
otherwise).
"""
import logging
import math
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from mmbiggan.models.architectures.biggan import (biggan_discriminator_arch,
                                                  biggan_generator_arch)
from mmbiggan.utils.checkpoint import CheckpointError, load_checkpoint_file
from .conversion import (Conversion, ConvertedNetwork, check_finite,
                         verify_network)

SOURCE_FORMAT = 'BigGAN-PyTorch'
logger = logging.getLogger(__name__)

# prepare_parser()'s defaults, used by runs that did not set them.
DEFAULT_SN_EPS = 1e-8
DEFAULT_BN_EPS = 1e-5

# Activations of BigGAN-PyTorch's utils.activation_dict: all ReLU.
RELU_NAMES = ('relu', 'inplace_relu', 'ir')

ROLES = ('generator', 'generator_ema', 'discriminator')
# File stems written by utils.save_weights, with the optional name suffix
# of copies and best checkpoints (``G_ema_best0.pth``).
_FILE_ROLE = [(re.compile(r'^G_ema(_.+)?$'), 'generator_ema'),
              (re.compile(r'^(G|D)_optim(_.+)?$'), 'optimizer'),
              (re.compile(r'^state_dict(_.+)?$'), 'run_state'),
              (re.compile(r'^G(_.+)?$'), 'generator'),
              (re.compile(r'^D(_.+)?$'), 'discriminator')]

_BLOCK_KEY = re.compile(r'^blocks\.(\d+)\.(\d+)\.(.+)$')
_SN_VECTOR = re.compile(r'^(.+)\.(u|sv)(\d+)$')
# Batch-norm statistics: plain (``stored_*``), ``mybn`` (``bn.stored_*``)
# or cross-replica SyncBN (``bn.running_*``).
_BN_STAT = re.compile(r'^(.+?)(?:\.bn)?\.(?:stored|running)_(mean|var)$')
_BN_DROPPED = re.compile(r'^(.*\.)?bn\.(accumulation_counter|'
                         r'num_batches_tracked)$')


def role_of_file(path: str) -> str:
    """``generator``, ``generator_ema``, ``discriminator``, ``run_state``
    or ``optimizer`` from a BigGAN-PyTorch file name, or ``''``."""
    stem = osp.splitext(osp.basename(path))[0]
    for pattern, role in _FILE_ROLE:
        if pattern.match(stem):
            return role
    return ''


def find_run_files(sources: Sequence[str],
                   role: Optional[str] = None,
                   name_suffix: str = '') -> Dict[str, str]:
    """Map roles to files: a run folder, or files named as
    ``utils.save_weights`` names them (``role`` overrides the name of a
    single weights file).

    Returns:
        dict: some of ``generator``, ``generator_ema``, ``discriminator``
        and ``run_state`` (``state_dict.pth``) -> path.
    """
    if role is not None and role not in ROLES:
        raise CheckpointError(f'--role must be one of {ROLES}, got {role!r}.')
    files = {}
    for source in sources:
        if osp.isdir(source):
            files.update(_files_in_folder(source, name_suffix))
            continue
        if not osp.exists(source):
            raise CheckpointError(f'Input not found: {source}')
        found = role_of_file(source)
        if found == 'optimizer':
            raise CheckpointError(
                f'{source} is an optimizer state; give G.pth, G_ema.pth, '
                'D.pth or the run folder.')
        if found != 'run_state' and role is not None:
            found = role
        if not found:
            raise CheckpointError(
                f'Cannot tell from its name whether {source} holds G, G_ema '
                'or D; pass --role generator|generator_ema|discriminator.')
        if found in files:
            raise CheckpointError(f'Two inputs for {found}: {files[found]} '
                                  f'and {source}.')
        files[found] = source
    if role is not None and sum(r in ROLES for r in files) != 1:
        raise CheckpointError(
            '--role applies to a single weights file, got '
            f'{[p for r, p in files.items() if r in ROLES]}.')
    if not any(r in ROLES for r in files):
        raise CheckpointError(
            f'No G.pth, G_ema.pth or D.pth among {list(sources)}; give a '
            'BigGAN-PyTorch run folder or its weight files.')
    return files


def _files_in_folder(folder: str, name_suffix: str) -> Dict[str, str]:
    suffix = f'_{name_suffix}' if name_suffix else ''
    names = dict(
        generator=f'G{suffix}.pth',
        generator_ema=f'G_ema{suffix}.pth',
        discriminator=f'D{suffix}.pth',
        run_state=f'state_dict{suffix}.pth')
    files = {
        role: osp.join(folder, name)
        for role, name in names.items() if osp.isfile(osp.join(folder, name))
    }
    if not any(r in ROLES for r in files):
        present = sorted(os.listdir(folder))[:12]
        raise CheckpointError(
            f'{folder} holds none of {names["generator"]}, '
            f'{names["generator_ema"]}, {names["discriminator"]} (it has '
            f'{present}); is it a BigGAN-PyTorch weights folder'
            f'{" with that --name-suffix" if suffix else ""}?')
    return files


def load_run_state(path: str) -> dict:
    """``state_dict.pth``: counters and the training ``config``. Its config
    pickles ``torch.nn.ReLU`` modules, the one class allowed here."""
    state = load_checkpoint_file(path, allowed_globals=[torch.nn.ReLU])
    if not isinstance(state, dict) or not isinstance(
            state.get('config'), dict):
        raise CheckpointError(
            f'{path} is not a BigGAN-PyTorch state_dict.pth (no `config` '
            'dict); give the one written by train.py.')
    return state


def load_weights(path: str) -> 'OrderedDict[str, torch.Tensor]':
    """A BigGAN-PyTorch G/D state dict (``module.`` prefixes of a parallel
    wrapper removed)."""
    state_dict = load_checkpoint_file(path)
    if not isinstance(state_dict, dict) or not state_dict or not all(
            isinstance(k, str) and torch.is_tensor(v)
            for k, v in state_dict.items()):
        keys = list(state_dict)[:6] if isinstance(state_dict, dict) else []
        raise CheckpointError(
            f'{path} is not a BigGAN-PyTorch G/D state dict (a flat dict of '
            f'tensors); it holds {type(state_dict).__name__} with keys '
            f'{keys}.')
    if all(k.startswith('module.') for k in state_dict):
        state_dict = OrderedDict(
            (k[len('module.'):], v) for k, v in state_dict.items())
    return OrderedDict(state_dict)


def network_kind(state_dict: dict) -> str:
    """``'generator'`` or ``'discriminator'`` from the keys, or ``''``."""
    if 'linear.weight' not in state_dict or \
            'blocks.0.0.conv1.weight' not in state_dict:
        return ''
    if 'output_layer.2.weight' in state_dict:
        return 'generator'
    if not any(k.startswith('output_layer.') for k in state_dict):
        return 'discriminator'
    return ''


# ---------------------------------------------------------------------------
# Key mapping
# ---------------------------------------------------------------------------
_TOP_LEVEL = {
    'generator': [('linear.', 'noise2feat.'), ('shared.', 'shared_embedding.'),
                  ('output_layer.0.gain', 'out_bn.weight'),
                  ('output_layer.0.bias', 'out_bn.bias'),
                  ('output_layer.0.', 'out_bn.'),
                  ('output_layer.2.', 'out_conv.')],
    'discriminator': [('linear.', 'decision.'), ('embed.', 'proj_y.')],
}


def block_order(state_dict: dict) -> List[Tuple[int, int]]:
    """``(i, j)`` of every ``blocks.i.j`` module (``j = 0`` the residual
    block, ``j = 1`` the attention after it), in forward order."""
    pairs = sorted({(int(m.group(1)), int(m.group(2)))
                    for m in map(_BLOCK_KEY.match, state_dict) if m})
    return pairs


def map_keys(state_dict: dict, kind: str, source: str) -> Tuple[dict, dict]:
    """Rename BigGAN-PyTorch keys to mmbiggan's (values unchanged).

    ``blocks.i.j`` modules are enumerated in order into ``conv_blocks.k``;
    spectral-norm buffers ``u{n}``/``sv{n}`` move to the ``sn`` submodule;
    ``stored_mean``/``stored_var`` become ``running_mean``/``running_var``.

    Returns:
        tuple: the renamed state dict (OrderedDict) and ``{new key: source
        key}``.
    """
    flat = {ij: k for k, ij in enumerate(block_order(state_dict))}
    mapped, origins, unknown = OrderedDict(), {}, []
    for key, value in state_dict.items():
        if _BN_DROPPED.match(key):
            continue  # counters of mybn / SyncBN, unused in eval
        new = _map_prefix(key, kind, flat)
        if new is None:
            unknown.append(key)
            continue
        new = _map_suffix(new)
        mapped[new], origins[new] = value, key
    if unknown:
        raise CheckpointError(
            f'{source} has keys that are not part of a BigGAN-PyTorch '
            f'{"G" if kind == "generator" else "D"} ({len(unknown)}): '
            f'{", ".join(unknown[:12])}.')
    return mapped, origins


def _map_prefix(key: str, kind: str, flat: dict) -> Optional[str]:
    match = _BLOCK_KEY.match(key)
    if match:
        index = flat[(int(match.group(1)), int(match.group(2)))]
        return f'conv_blocks.{index}.{match.group(3)}'
    for old, new in _TOP_LEVEL[kind]:
        if key.startswith(old):
            return new + key[len(old):]
    return None


def _map_suffix(key: str) -> str:
    match = _SN_VECTOR.match(key)
    if match:
        return f'{match.group(1)}.sn.{match.group(2)}{match.group(3)}'
    match = _BN_STAT.match(key)
    if match:
        return f'{match.group(1)}.running_{match.group(2)}'
    return key


# ---------------------------------------------------------------------------
# Architecture inference
# ---------------------------------------------------------------------------
def _blocks(state_dict: dict, source: str) -> List[dict]:
    """Per ``blocks.i``: conv shapes and whether attention follows."""
    order = block_order(state_dict)
    indices = sorted({i for i, _ in order})
    if indices != list(range(len(indices))):
        raise CheckpointError(f'{source}: block indices {indices} are not '
                              'consecutive from 0; the file is incomplete.')
    extra = [f'blocks.{i}.{j}' for i, j in order if j > 1]
    if extra:
        raise CheckpointError(f'{source}: unexpected modules {extra} (a '
                              'BigGAN-PyTorch block holds a residual block '
                              'and at most one attention).')
    blocks = []
    for i in indices:
        conv1 = state_dict.get(f'blocks.{i}.0.conv1.weight')
        conv2 = state_dict.get(f'blocks.{i}.0.conv2.weight')
        if conv1 is None or conv2 is None or conv1.dim() != 4:
            raise CheckpointError(f'{source}: blocks.{i}.0 has no conv1/conv2'
                                  ' weights; the file is incomplete.')
        blocks.append(
            dict(
                in_channels=int(conv1.shape[1]),
                hidden_channels=int(conv1.shape[0]),
                out_channels=int(conv2.shape[0]),
                attention=(i, 1) in order))
    return blocks


def _num_svs(state_dict: dict, layer: str) -> int:
    count = 0
    while f'{layer}.u{count}' in state_dict:
        count += 1
    return count


def _arch_args(arch: dict, default_arch, scale: int) -> dict:
    """``base_channels`` and, when the layout is not the default one of
    that width, an explicit ``arch_cfg``."""
    try:
        unit = default_arch(scale, 1)['out_channels'][0]
    except ValueError:
        return dict(base_channels=arch['out_channels'][0], arch_cfg=arch)
    base = max(arch['out_channels'][0] // unit, 1)
    if default_arch(scale, base) == arch:
        return dict(base_channels=base)
    return dict(base_channels=base, arch_cfg=arch)


def generator_cfg(state_dict: dict, settings: dict, source: str) -> dict:
    """The :class:`BigGANGenerator` config reproducing a BigGAN-PyTorch
    ``Generator`` state dict. ``settings`` holds ``sn_eps``, ``bn_eps`` and
    optionally the run's ``dim_z`` and ``num_G_SV_itrs``."""
    blocks = _blocks(state_dict, source)
    linear = state_dict['linear.weight']
    first_channels = blocks[0]['in_channels']
    cells, rest = divmod(int(linear.shape[0]), first_channels)
    bottom = math.isqrt(cells)
    if rest or bottom * bottom != cells:
        raise CheckpointError(
            f'{source}: linear.weight has {linear.shape[0]} outputs, not '
            f'{first_channels} channels times a square; the file is not a '
            'BigGAN-PyTorch generator or is damaged.')
    num_blocks = len(blocks)
    scale = bottom * 2**num_blocks
    linear_in = int(linear.shape[1])
    cfg = dict(type='BigGANGenerator', output_scale=scale)

    bn_gain = state_dict.get('blocks.0.0.bn1.gain.weight')
    if bn_gain is None:
        raise CheckpointError(
            f'{source}: no class-conditional batch norm (blocks.0.0.bn1.'
            'gain.weight); only class-conditional BigGAN-PyTorch generators '
            'with norm_style "bn" are supported.')
    shared = state_dict.get('shared.weight')
    if shared is not None:
        num_classes, shared_dim = (int(s) for s in shared.shape)
        chunk = int(bn_gain.shape[1]) - shared_dim
        if chunk not in (0, linear_in):
            raise CheckpointError(
                f'{source}: batch-norm projections take {bn_gain.shape[1]} '
                f'inputs, neither the shared embedding ({shared_dim}) nor it '
                f'plus a noise chunk of {linear_in}; the file is damaged.')
        split = chunk > 0
        noise_size = linear_in * (num_blocks + 1) if split else linear_in
        dim_z = settings.get('dim_z')
        if split and dim_z is not None:
            if dim_z // (num_blocks + 1) != linear_in:
                raise CheckpointError(
                    f'state_dict.pth says dim_z={dim_z}, which splits into '
                    f'chunks of {dim_z // (num_blocks + 1)}, but {source} '
                    f'takes chunks of {linear_in}; the files come from '
                    'different runs.')
            noise_size = dim_z  # the generator rounds it down the same way
        cfg.update(
            noise_size=noise_size,
            num_classes=num_classes,
            with_shared_embedding=True,
            shared_dim=shared_dim,
            split_noise=split)
    else:
        cfg.update(
            noise_size=linear_in,
            num_classes=int(bn_gain.shape[0]),
            with_shared_embedding=False,
            split_noise=False)

    arch = dict(
        in_channels=[b['in_channels'] for b in blocks],
        out_channels=[b['out_channels'] for b in blocks],
        upsample=[True] * num_blocks,
        attention=[b['attention'] for b in blocks])
    cfg.update(_arch_args(arch, biggan_generator_arch, scale))
    if bottom != 4:
        cfg['input_scale'] = bottom
    _sn_args(cfg, state_dict, settings, 'num_G_SV_itrs')
    cfg['bn_eps'] = settings['bn_eps']
    return cfg


def _sn_args(cfg: dict, state_dict: dict, settings: dict, iters_key: str):
    num_svs = _num_svs(state_dict, 'linear')
    if num_svs == 0:
        cfg['with_spectral_norm'] = False
        return
    cfg['sn_eps'] = settings['sn_eps']
    cfg['sn_style'] = 'ajbrock'
    if num_svs > 1:
        cfg['sn_svs'] = num_svs
    if settings.get(iters_key, 1) != 1:
        cfg['sn_iters'] = settings[iters_key]


def discriminator_cfg(state_dict: dict,
                      settings: dict,
                      source: str,
                      scale: Optional[int] = None) -> dict:
    """The :class:`BigGANDiscriminator` config reproducing a
    BigGAN-PyTorch ``Discriminator`` state dict; ``scale`` is the image size
    when known (from the generator or the run config)."""
    blocks = _blocks(state_dict, source)
    skinny = [
        i for i, b in enumerate(blocks)
        if b['hidden_channels'] != b['out_channels']
    ]
    if skinny:
        raise CheckpointError(
            f'{source}: blocks {skinny} are not wide (D_wide=False); '
            'mmbiggan has the wide BigGAN discriminator blocks only.')
    num_blocks = len(blocks)
    by_depth = {
        len(biggan_discriminator_arch(s, 3, 1)['out_channels']): s
        for s in (32, 64, 128, 256, 512)
    }
    if scale is None:
        scale = by_depth.get(num_blocks)
    try:
        downsample = biggan_discriminator_arch(scale, 3, 1)['downsample']
    except (ValueError, TypeError):
        downsample = None
    if downsample is None or len(downsample) != num_blocks:
        raise CheckpointError(
            f'{source}: a discriminator with {num_blocks} blocks does not '
            f'match BigGAN-PyTorch\'s layout for {scale}x{scale} images; '
            'give state_dict.pth or the generator of the run.')
    arch = dict(
        in_channels=[b['in_channels'] for b in blocks],
        out_channels=[b['out_channels'] for b in blocks],
        downsample=list(downsample),
        attention=[b['attention'] for b in blocks])
    embed = state_dict.get('embed.weight')
    cfg = dict(
        type='BigGANDiscriminator',
        input_scale=scale,
        num_classes=0 if embed is None else int(embed.shape[0]),
        in_channels=arch['in_channels'][0])
    out_channels = int(state_dict['linear.weight'].shape[0])
    if out_channels != 1:
        cfg['out_channels'] = out_channels

    def default_arch(s, base):
        return biggan_discriminator_arch(s, arch['in_channels'][0], base)

    cfg.update(_arch_args(arch, default_arch, scale))
    _sn_args(cfg, state_dict, settings, 'num_D_SV_itrs')
    return cfg


# ---------------------------------------------------------------------------
# Run config
# ---------------------------------------------------------------------------
def settings_from_run(run_config: Optional[dict], sn_eps: Optional[float],
                      bn_eps: Optional[float]) -> Tuple[dict, dict]:
    """Settings not stored in the weights, and those assumed.

    Options win over ``state_dict.pth``, which wins over BigGAN-PyTorch's
    defaults; a default that had to be assumed is reported.
    """
    run_config = run_config or {}
    model = run_config.get('model', 'BigGAN')
    if model != 'BigGAN':
        raise CheckpointError(
            f'The run used model={model!r}; only BigGAN-PyTorch\'s '
            '`BigGAN` model converts (BigGAN-Deep converts from '
            'pytorch-pretrained-biggan).')
    for key in ('G_nl', 'D_nl'):
        if run_config.get(key, 'relu') not in RELU_NAMES:
            raise CheckpointError(
                f'The run used {key}={run_config[key]!r}; BigGAN-PyTorch '
                f'knows {RELU_NAMES} only.')
    if run_config.get('norm_style', 'bn') != 'bn':
        raise CheckpointError(
            f'The run used norm_style={run_config["norm_style"]!r}; mmbiggan'
            ' converts batch-norm generators (norm_style "bn") only.')
    settings, assumed = {}, {}
    for name, option, key, default in (('sn_eps', sn_eps, 'SN_eps',
                                        DEFAULT_SN_EPS),
                                       ('bn_eps', bn_eps, 'BN_eps',
                                        DEFAULT_BN_EPS)):
        if option is not None:
            settings[name] = float(option)
        elif key in run_config:
            settings[name] = float(run_config[key])
        else:
            settings[name] = assumed[name] = default
    for key in ('dim_z', 'num_G_SV_itrs', 'num_D_SV_itrs'):
        if key in run_config:
            settings[key] = int(run_config[key])
    return settings, assumed


def check_against_run(cfg: dict, kind: str, run_config: dict, source: str):
    """Compare an inferred config with the run's own config."""
    args = dict(cfg)
    expected = dict(
        resolution=args.get('output_scale', args.get('input_scale')))
    if 'n_classes' in run_config:
        expected['n_classes'] = args['num_classes']
    if kind == 'generator':
        expected.update(
            G_ch=args['base_channels'],
            G_shared=args['with_shared_embedding'],
            hier=args['split_noise'],
            num_G_SVs=args.get('sn_svs', 1) if args.get(
                'with_spectral_norm', True) else None)
        if args['with_shared_embedding']:
            shared_dim = run_config.get('shared_dim',
                                        0) or run_config.get('dim_z')
            if shared_dim is not None and shared_dim != args['shared_dim']:
                raise CheckpointError(
                    f'state_dict.pth says shared_dim={shared_dim} but '
                    f'{source} has a shared embedding of size '
                    f'{args["shared_dim"]}; the files come from different '
                    'runs.')
        if not args['split_noise']:
            expected['dim_z'] = args['noise_size']
    else:
        expected.update(
            D_ch=args['base_channels'], num_D_SVs=args.get('sn_svs', 1))
    for key, value in expected.items():
        if value is None or key not in run_config:
            continue
        if run_config[key] != value:
            raise CheckpointError(
                f'state_dict.pth says {key}={run_config[key]!r} but {source} '
                f'has {key}={value!r}; the files come from different runs '
                '(or give the weight files without state_dict.pth).')
    if kind == 'generator' and 'G_param' in run_config and (
            run_config['G_param'] == 'SN') != cfg.get('with_spectral_norm',
                                                      True):
        raise CheckpointError(
            f'state_dict.pth says G_param={run_config["G_param"]!r} but '
            f'{source} {"has no" if run_config["G_param"] == "SN" else "has"}'
            ' spectral-norm buffers; the files come from different runs.')


# ---------------------------------------------------------------------------
# Conversion
# ---------------------------------------------------------------------------
def convert_biggan_pytorch(sources: Sequence[str],
                           role: Optional[str] = None,
                           name_suffix: str = '',
                           sn_eps: Optional[float] = None,
                           bn_eps: Optional[float] = None) -> Conversion:
    """Convert a BigGAN-PyTorch run folder or weight files.

    Args:
        sources: A run folder, or ``G.pth`` / ``G_ema.pth`` / ``D.pth`` /
            ``state_dict.pth`` files (any subset).
        role (str, optional): Network of a single weights file whose name
            does not say it (``generator``, ``generator_ema``,
            ``discriminator``); also maps ``G_ema.pth`` to the
            ``generator`` of a sampling-only model.
        name_suffix (str): Suffix of the files to take from a run folder
            (``best0`` for ``G_best0.pth`` ...), empty for the latest.
        sn_eps, bn_eps (float, optional): Epsilons of the run when
            ``state_dict.pth`` is not at hand.

    Returns:
        Conversion: checked networks.
    """
    files = find_run_files(sources, role, name_suffix)
    state = load_run_state(files['run_state']) if 'run_state' in files \
        else None
    run_config = state['config'] if state else {}
    settings, assumed = settings_from_run(run_config, sn_eps, bn_eps)

    weights = {}
    for net_role in ROLES:
        if net_role not in files:
            continue
        path = files[net_role]
        state_dict = load_weights(path)
        kind = network_kind(state_dict)
        want = 'discriminator' if net_role == 'discriminator' else 'generator'
        if kind != want:
            found = f'a {kind}' if kind else 'neither a BigGAN-PyTorch G nor D'
            raise CheckpointError(
                f'{path} was given as {net_role} but holds {found} (keys '
                f'{list(state_dict)[:4]}...).')
        check_finite(state_dict, path)
        weights[net_role] = (path, state_dict)

    networks = {}
    scale = run_config.get('resolution')
    for net_role, (path, state_dict) in weights.items():
        kind = network_kind(state_dict)
        if kind == 'generator':
            cfg = generator_cfg(state_dict, settings, path)
            scale = scale or cfg['output_scale']
        else:
            cfg = discriminator_cfg(state_dict, settings, path, scale)
        if run_config:
            check_against_run(cfg, kind, run_config, path)
        mapped, origins = map_keys(state_dict, kind, path)
        net = ConvertedNetwork(cfg, mapped, path, origins)
        verify_network(net, net_role)
        networks[net_role] = net
    _check_same_generators(networks)
    _check_same_scale(networks)
    _warn_standing_stats(weights)

    info = dict(source_files={r: osp.abspath(p) for r, p in files.items()})
    if assumed:
        info['assumed_settings'] = assumed
        logger.warning(
            f'{SOURCE_FORMAT} weights do not record {sorted(assumed)}; '
            f'assumed the BigGAN-PyTorch defaults {assumed} (pass --sn-eps/'
            '--bn-eps or give state_dict.pth if the run set them).')
    ema_config = None
    if state:
        info.update({
            k: state[k]
            for k in ('itr', 'epoch', 'best_IS', 'best_FID') if k in state
        })
        info['experiment_name'] = run_config.get('experiment_name')
        if 'ema_decay' in run_config:
            ema_config = dict(
                momentum=float(run_config['ema_decay']),
                interval=1,
                start_iter=int(run_config.get('ema_start', 0)))
    return Conversion(SOURCE_FORMAT, networks, info, ema_config)


def _check_same_generators(networks: dict):
    if 'generator' in networks and 'generator_ema' in networks:
        g, ema = networks['generator'], networks['generator_ema']
        if g.cfg != ema.cfg:
            raise CheckpointError(
                f'{g.source} and {ema.source} have different architectures '
                f'({g.cfg} vs {ema.cfg}); they are not from the same run.')


def _check_same_scale(networks: dict):
    scales = {
        name: net.cfg.get('output_scale', net.cfg.get('input_scale'))
        for name, net in networks.items()
    }
    if len(set(scales.values())) > 1:
        raise CheckpointError(f'The networks disagree on the image size '
                              f'{scales}; they are not from the same run.')


def _warn_standing_stats(weights: dict):
    for _, (path, state_dict) in weights.items():
        counters = [
            k for k, v in state_dict.items()
            if k.endswith('accumulation_counter') and float(v.sum()) > 0
        ]
        if counters:
            logger.warning(
                f'{path}: {len(counters)} batch norms hold accumulated '
                'standing statistics (mybn); they are used as stored, as '
                'BigGAN-PyTorch does after loading.')
