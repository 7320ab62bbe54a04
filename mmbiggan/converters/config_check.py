"""Checking a conversion against an mmbiggan config.

Keys and shapes catch a wrong width, resolution or layout; settings that no
weight records (epsilons, spectral-norm style, per-truncation statistics,
latent split, channel order) are compared module by module between the
network the converter inferred and the one the config builds.
"""
from collections import defaultdict
from typing import Dict, Tuple, Union

import torch.nn as nn
from mmengine.config import Config

from mmbiggan.models.layers.conditional_norm import ConditionalBatchNorm2d
from mmbiggan.models.layers.spectral_norm import SpectralNorm
from mmbiggan.utils.checkpoint import CheckpointError
from .conversion import (NETWORKS, Conversion, build_network_shapes_only,
                         key_problems, short_list)

# Generator/discriminator attributes that change outputs without changing
# any weight shape.
_NETWORK_ATTRIBUTES = ('noise_size', 'noise_chunk_size', 'split_noise',
                       'concat_noise', 'input_scale', 'rgb2bgr',
                       'out_channels', 'num_classes')
_ACTIVATION_ATTRIBUTES = ('negative_slope', 'alpha')


def eval_settings(network: nn.Module) -> Dict[Tuple[str, str], object]:
    """``{(module name, setting): value}`` for every setting that shapes
    eval outputs but no weight shape."""
    settings = {}
    for attr in _NETWORK_ATTRIBUTES:
        if hasattr(network, attr):
            settings[('', attr)] = getattr(network, attr)
    for name, module in network.named_modules():
        if isinstance(module, SpectralNorm):
            settings[(name, 'spectral-norm style')] = module.style
            settings[(name, 'sn_eps')] = module.eps
            settings[(name, 'sn_svs')] = module.num_svs
        elif isinstance(module, ConditionalBatchNorm2d):
            settings[(name, 'bn_eps')] = module.eps
            settings[(name, 'num_bn_stats')] = module.num_stats
            settings[(name,
                      'residual_gain')] = getattr(module, 'residual_gain',
                                                  True)
        elif module.__class__.__module__.startswith(
                'torch.nn.modules.activation'):
            settings[(name, 'activation')] = type(module).__name__
            for attr in _ACTIVATION_ATTRIBUTES:
                if hasattr(module, attr):
                    settings[(name, attr)] = getattr(module, attr)
    return settings


def check_against_config(conversion: Conversion, config: Union[str, Config]):
    """Raise :class:`CheckpointError` unless the model of ``config`` loads
    the converted checkpoint and computes what the source computes.

    Args:
        conversion (Conversion): The converted networks.
        config (str | Config): An mmbiggan config whose ``model`` is the
            GAN (``type='BigGAN'``) meant to load the checkpoint.
    """
    from mmengine.registry import init_default_scope

    from mmbiggan.apis.inference import load_config
    try:
        cfg = load_config(config)
    except (FileNotFoundError, KeyError, TypeError) as err:
        raise CheckpointError(str(err).strip('"\'')) from err
    init_default_scope(cfg.get('default_scope', 'mmbiggan'))
    model = build_network_shapes_only(cfg.model)
    name = config if isinstance(config, str) else 'the config'

    in_model = [n for n in NETWORKS if getattr(model, n, None) is not None]
    lacking = [n for n in in_model if n not in conversion.networks]
    extra = [n for n in conversion.networks if n not in in_model]
    if lacking or extra:
        parts = []
        if lacking:
            parts.append(f'the model of {name} has {lacking}, which the '
                         'source does not provide (give those files, or set '
                         'model.discriminator=None / ema_config=None)')
        if extra:
            parts.append(f'the source has {extra}, which the model of '
                         f'{name} lacks')
        raise CheckpointError('; '.join(parts) + '.')
    ignored = set(conversion.info.get('assumed_settings', {}))
    for net_name, net in conversion.networks.items():
        network = getattr(model, net_name)
        problems = key_problems(network.state_dict(), net.state_dict, {},
                                ('converted', 'in the config'))
        if problems:
            raise CheckpointError(
                f'The {net_name} of {name} does not fit the converted one '
                f'({_summary(net.cfg)}): keys {"; ".join(problems)}. Use a '
                'config of the same size and layout (the converter writes '
                'one with --out-config).')
        expected = eval_settings(build_network_shapes_only(net.cfg))
        found = eval_settings(network)
        _raise_on_differences(net_name, expected, found, ignored, name)
    extra = [
        k for k in model.state_dict()
        if k.split('.', 1)[0] not in conversion.networks
    ]
    if extra:
        raise CheckpointError(
            f'The model of {name} has weights outside the converted networks:'
            f' {short_list(extra)}.')


def _summary(cfg: dict) -> str:
    scale = cfg.get('output_scale', cfg.get('input_scale'))
    return (f'{cfg["type"]} {scale}x{scale}, base_channels='
            f'{cfg.get("base_channels")}, num_classes='
            f'{cfg.get("num_classes")}')


def _raise_on_differences(net_name: str, expected: dict, found: dict,
                          ignored: set, config_name: str):
    groups = defaultdict(list)
    for key in sorted(set(expected) | set(found)):
        module, setting = key
        if setting in ignored:
            continue  # not recorded by the source: the config decides
        want, have = expected.get(key), found.get(key)
        if want != have:
            groups[(setting, repr(have), repr(want))].append(module
                                                             or net_name)
    if not groups:
        return
    parts = []
    for (setting, have, want), modules in groups.items():
        where = ', '.join(modules[:3]) + (f' and {len(modules) - 3} more'
                                          if len(modules) > 3 else '')
        parts.append(f'{setting} is {have} in the config but {want} in the '
                     f'source ({where})')
    raise CheckpointError(
        f'{config_name} would not reproduce the source {net_name}: ' +
        '; '.join(parts) + '. Fix the config (or use the one the converter '
        'writes with --out-config).')
