"""The result of a conversion, its checks and how it is written.

A converter turns a foreign checkpoint into a :class:`Conversion`: one
mmbiggan network config and state dict per network found (``generator``,
``generator_ema``, ``discriminator``). Every network is checked by building
it from its config and comparing keys and shapes before anything is
written, and the checkpoint is saved atomically in mmengine's layout
(``{'meta': ..., 'state_dict': {'generator.*': ...}}``).
"""
import os.path as osp
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

import torch

from mmbiggan.utils.atomic import write_text_atomic
from mmbiggan.utils.checkpoint import CheckpointError, save_checkpoint_atomic

NETWORKS = ('generator', 'generator_ema', 'discriminator')


@dataclass
class ConvertedNetwork:
    """One network in mmbiggan's layout.

    Attributes:
        cfg (dict): Registry config (``type`` and arguments) that builds a
            module reproducing the source network.
        state_dict (OrderedDict): Its weights and buffers, keys without the
            network prefix.
        source (str): Where the weights came from (for messages).
        origins (dict): mmbiggan key -> source key, to name the source's
            keys in error messages.
    """
    cfg: dict
    state_dict: 'OrderedDict[str, torch.Tensor]'
    source: str
    origins: Dict[str, str] = field(default_factory=dict)


@dataclass
class Conversion:
    """Networks converted from one source checkpoint.

    Attributes:
        source_format (str): ``'BigGAN-PyTorch'``,
            ``'pytorch-pretrained-biggan'`` or ``'MMGeneration/mmagic'``.
        networks (dict): ``{'generator' | 'generator_ema' | 'discriminator':
            ConvertedNetwork}``.
        info (dict): Facts about the source recorded in the checkpoint meta
            (files, training iteration, settings not stored in weights).
        ema_config (dict, optional): EMA settings of the source run, used in
            :meth:`model_cfg` when it holds an EMA generator.
    """
    source_format: str
    networks: Dict[str, ConvertedNetwork]
    info: dict = field(default_factory=dict)
    ema_config: Optional[dict] = None

    def state_dict(self) -> 'OrderedDict[str, torch.Tensor]':
        """All weights with the network prefixes of mmbiggan's GAN model."""
        merged = OrderedDict()
        for name in NETWORKS:
            if name in self.networks:
                for key, value in self.networks[name].state_dict.items():
                    merged[f'{name}.{key}'] = value
        return merged

    def model_cfg(self) -> dict:
        """The ``model`` config of a GAN holding exactly these networks."""
        if 'generator' not in self.networks:
            raise CheckpointError(
                'The conversion holds no `generator` (only '
                f'{sorted(self.networks)}), so no model config fits it; '
                'convert the generator too, or convert the EMA weights with '
                '--role generator for a sampling-only model.')
        disc = self.networks.get('discriminator')
        cfg = dict(
            type='BigGAN',
            generator=dict(self.networks['generator'].cfg),
            discriminator=None if disc is None else dict(disc.cfg),
            data_preprocessor=dict(type='GANDataPreprocessor'),
            ema_config=None)
        if 'generator_ema' in self.networks:
            cfg['ema_config'] = dict(self.ema_config or dict(momentum=0.9999))
        else:
            cfg['sample_model'] = 'orig'
        return cfg

    def checkpoint(self) -> dict:
        """The mmengine checkpoint: ``meta`` and the prefixed state dict."""
        meta = dict(
            converted_from=self.source_format,
            networks=[n for n in NETWORKS if n in self.networks],
            network_cfgs={
                name: net.cfg
                for name, net in self.networks.items()
            },
            **self.info)
        from mmbiggan import __version__
        meta.update(
            mmbiggan_version=__version__, torch_version=str(torch.__version__))
        return dict(meta=meta, state_dict=self.state_dict())

    def describe(self) -> List[str]:
        """Log lines saying what was found."""
        lines = []
        for name in NETWORKS:
            if name not in self.networks:
                continue
            net = self.networks[name]
            cfg = net.cfg
            scale = cfg.get('output_scale', cfg.get('input_scale'))
            facts = [
                f'{cfg["type"]} {scale}x{scale}',
                f'base_channels={cfg.get("base_channels")}',
                f'num_classes={cfg.get("num_classes")}'
            ]
            if 'noise_size' in cfg:
                facts.append(f'noise_size={cfg["noise_size"]}' + (
                    ' (hierarchical)' if cfg.get('split_noise') else ''))
            if cfg.get('with_shared_embedding'):
                facts.append(f'shared embedding {cfg["shared_dim"]}')
            if cfg.get('num_bn_stats', 1) > 1:
                facts.append(f'{cfg["num_bn_stats"]} rows of per-truncation '
                             'BN statistics')
            if 'arch_cfg' in cfg:
                facts.append(f'arch_cfg {cfg["arch_cfg"]}')
            lines.append(f'{name}: {", ".join(facts)}; {len(net.state_dict)} '
                         f'tensors from {net.source}')
        return lines


# Below this many numbers a network is built faster on the CPU than on the
# meta device, whose per-operation overhead dominates for small layers.
SMALL_NETWORK_NUMEL = 4_000_000


def build_network_shapes_only(cfg: dict,
                              device: str = 'meta') -> torch.nn.Module:
    """Build a network to read the keys and shapes of its state dict: on the
    meta device (no memory, no init cost) or, for small networks, on the
    CPU."""
    from mmbiggan.registry import MODELS
    with torch.device(device):
        try:
            return MODELS.build(dict(cfg))
        except (KeyError, TypeError, ValueError) as err:
            raise CheckpointError(
                f'Cannot build {cfg.get("type")} from {cfg}: {err}') from err


def verify_network(net: ConvertedNetwork, name: str):
    """Check that the weights of ``net`` load into the module built from
    ``net.cfg``: same keys, same shapes. Raise :class:`CheckpointError`
    naming the differences in the source's own key names otherwise."""
    numel = sum(v.numel() for v in net.state_dict.values())
    module = build_network_shapes_only(
        net.cfg, 'cpu' if numel < SMALL_NETWORK_NUMEL else 'meta')
    problems = key_problems(module.state_dict(), net.state_dict, net.origins,
                            ('in the file', 'in the inferred layout'))
    if problems:
        raise CheckpointError(
            f'{net.source} does not hold a complete {net.cfg["type"]} of the '
            f'layout inferred for the {name} (keys {"; ".join(problems)}); '
            'the file is damaged or not of this format.')
    return module


def key_problems(expected: dict, given: dict, origins: Dict[str, str],
                 where: Tuple[str, str]) -> List[str]:
    """Missing, unexpected and differently shaped keys of ``given``
    against ``expected`` (both name -> tensor), as short phrases; keys of
    ``given`` are shown by their ``origins`` name when known, and ``where``
    names the two sides of a shape difference."""
    missing = [k for k in expected if k not in given]
    unexpected = [origins.get(k, k) for k in given if k not in expected]
    wrong_shape = [
        f'{origins.get(k, k)} is {tuple(given[k].shape)} {where[0]} but '
        f'{tuple(v.shape)} {where[1]}' for k, v in expected.items()
        if k in given and tuple(given[k].shape) != tuple(v.shape)
    ]
    problems = []
    for label, keys, limit in (('missing (as mmbiggan names them)', missing,
                                10), ('unexpected', unexpected, 10),
                               ('with other shapes', wrong_shape, 3)):
        if keys:
            problems.append(f'{len(keys)} {label}: {short_list(keys, limit)}')
    return problems


def short_list(items: List[str], limit: int = 10) -> str:
    shown = ', '.join(items[:limit])
    if len(items) > limit:
        shown += f', ... ({len(items) - limit} more)'
    return shown


def check_finite(state_dict: dict, source: str):
    """Reject weights holding NaN or infinity (a diverged or uninitialised
    network converts to an unusable model)."""
    bad = [
        k for k, v in state_dict.items() if torch.is_tensor(v)
        and v.is_floating_point() and not bool(torch.isfinite(v).all())
    ]
    if bad:
        raise CheckpointError(f'{source} holds NaN or infinite values in '
                              f'{len(bad)} tensors ({short_list(bad)}); it '
                              'cannot produce images. Convert a healthy '
                              'checkpoint.')


def check_outputs_free(paths: Iterable[str],
                       force: bool,
                       inputs: Iterable[str] = ()):
    """Refuse outputs that exist (unless ``force``) or that are inputs."""
    inputs = {osp.realpath(p) for p in inputs}
    for path in paths:
        if path is None:
            continue
        if osp.realpath(path) in inputs:
            raise CheckpointError(f'The output {path} is one of the input '
                                  'files; choose another output path.')
        if osp.isdir(path):
            raise CheckpointError(f'The output {path} is a directory; give '
                                  'a file path.')
        if osp.exists(path) and not force:
            raise CheckpointError(f'The output {path} already exists; pass '
                                  '--force to overwrite it or choose another'
                                  ' path.')


def save_conversion(conversion: Conversion,
                    out: str,
                    config_out: Optional[str] = None):
    """Write the checkpoint to ``out`` (and the model config to
    ``config_out``) through temporary files and atomic renames."""
    checkpoint = conversion.checkpoint()
    config_text = None
    if config_out is not None:
        config_text = dump_config_text(conversion)
    save_checkpoint_atomic(checkpoint, out)
    if config_text is not None:
        write_text_atomic(config_out, config_text)


def dump_config_text(conversion: Conversion) -> str:
    """An mmbiggan config file (Python) for the converted model."""
    from mmengine.config import Config
    cfg = Config(dict(default_scope='mmbiggan', model=conversion.model_cfg()))
    header = (f'# Model of a checkpoint converted from '
              f'{conversion.source_format} by mmbiggan.\n')
    return header + cfg.pretty_text
