"""Checkpoints of pytorch-pretrained-biggan (huggingface, the TF-Hub port of
BigGAN-Deep): a folder with ``pytorch_model.bin`` (the ``BigGAN`` state
dict) and ``config.json`` (``BigGANConfig``).

The config's ``layers`` list (upsample, in, out multipliers of
``channel_width``) and ``attention_layer_position`` give the layout; every
weight is checked against it. What changes on the way:

* ``embeddings`` is a linear map of one-hot vectors: its weight, transposed,
  is mmbiggan's embedding table (a float class vector is multiplied with it,
  so mixtures of classes give the same result).
* ``gen_z`` output is read as NHWC by the reference; its rows (weight,
  bias and the spectral-norm ``u``) are permuted so mmbiggan's NCHW view
  gives the same feature map. ``v`` lives in the input space and stays.
* ``torch.nn.utils.spectral_norm`` keeps ``weight_orig``, ``weight_u``,
  ``weight_v``: they become ``weight``, ``sn.u``, ``sn.v`` of
  ``sn_style='torch'`` layers, which use the stored pair in eval as the
  reference does.
* The per-truncation batch-norm statistics (``n_stats`` rows) are kept
  whole; mmbiggan selects and blends rows as the reference does.
* The final convolution has ``channel_width`` outputs of which the first
  three are the image (``out_conv_channels``).
"""
import json
import os.path as osp
from collections import OrderedDict
from typing import List, Optional, Tuple

import torch

from mmbiggan.models.architectures.biggan import biggan_generator_arch
from mmbiggan.utils.checkpoint import CheckpointError, load_checkpoint_file
from .conversion import (Conversion, ConvertedNetwork, check_finite,
                         verify_network)

SOURCE_FORMAT = 'pytorch-pretrained-biggan'
WEIGHTS_NAME = 'pytorch_model.bin'
CONFIG_NAME = 'config.json'
CONFIG_KEYS = ('channel_width', 'layers', 'attention_layer_position', 'eps',
               'n_stats', 'num_classes', 'z_dim', 'output_dim')

_SN_SUFFIX = (('weight_orig', 'weight'), ('weight_u', 'sn.u'), ('weight_v',
                                                                'sn.v'))
_BLOCK_NAMES = (('bn_0.', 'bn1.'), ('bn_1.', 'bn2.'), ('bn_2.', 'bn3.'),
                ('bn_3.', 'bn4.'), ('conv_0.', 'conv1.'),
                ('conv_1.', 'conv2.'), ('conv_2.', 'conv3.'),
                ('conv_3.', 'conv4.'), ('snconv1x1_theta.',
                                        'theta.'), ('snconv1x1_phi.', 'phi.'),
                ('snconv1x1_g.', 'g.'), ('snconv1x1_o_conv.', 'o.'))
_BN_NAMES = (('scale.', 'gain.'), ('offset.', 'bias.'),
             ('running_means', 'running_mean'), ('running_vars',
                                                 'running_var'))


def find_files(source: str,
               config_path: Optional[str] = None) -> Tuple[str, str]:
    """``(weights, config)`` paths from a folder or the weights file."""
    if osp.isdir(source):
        weights = osp.join(source, WEIGHTS_NAME)
        folder = source
    else:
        weights, folder = source, osp.dirname(source)
    if not osp.isfile(weights):
        raise CheckpointError(
            f'{weights} not found; give a pytorch-pretrained-biggan folder '
            f'holding {WEIGHTS_NAME} and {CONFIG_NAME}, or the weights file.')
    config_path = config_path or osp.join(folder, CONFIG_NAME)
    if not osp.isfile(config_path):
        raise CheckpointError(
            f'{config_path} not found: the layer list of a '
            f'pytorch-pretrained-biggan model is in its {CONFIG_NAME}; put '
            'it beside the weights or pass --hf-config.')
    return weights, config_path


def load_config(path: str) -> dict:
    """``config.json`` as written by ``BigGANConfig.to_json_string``."""
    try:
        with open(path, encoding='utf-8') as f:
            config = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f'{path} is not a readable JSON file '
                              f'({err}).') from err
    if not isinstance(config, dict):
        raise CheckpointError(f'{path} is not a BigGANConfig (a JSON object '
                              'was expected).')
    missing = [k for k in CONFIG_KEYS if k not in config]
    if missing:
        raise CheckpointError(f'{path} is not a pytorch-pretrained-biggan '
                              f'BigGANConfig: it lacks {missing}.')
    wrong_type = [
        k for k in CONFIG_KEYS if k not in ('layers', 'eps') and (
            not isinstance(config[k], int) or isinstance(config[k], bool))
    ]
    if not isinstance(config['eps'], (int, float)) or config['eps'] <= 0:
        wrong_type.append('eps')
    if wrong_type:
        raise CheckpointError(
            f'{path}: {wrong_type} must be integers (eps a positive number); '
            f'got {[config[k] for k in wrong_type]}.')
    layers = config['layers']
    if not isinstance(layers, list) or not layers or not all(
            isinstance(layer, (list, tuple)) and len(layer) == 3
            and isinstance(layer[0], bool) and all(
                isinstance(n, int) and n > 0 for n in layer[1:])
            for layer in layers):
        raise CheckpointError(
            f'{path}: `layers` must be a list of [upsample, in, out] '
            f'entries (bool, positive int, positive int); got {layers!r}.')
    return config


def load_weights(path: str) -> 'OrderedDict[str, torch.Tensor]':
    state_dict = load_checkpoint_file(path)
    if not isinstance(state_dict, dict) or not all(
            isinstance(k, str) and torch.is_tensor(v)
            for k, v in state_dict.items()):
        raise CheckpointError(
            f'{path} is not a pytorch-pretrained-biggan state dict (a flat '
            f'dict of tensors); it holds {type(state_dict).__name__}.')
    if 'embeddings.weight' not in state_dict or \
            'generator.gen_z.weight_orig' not in state_dict:
        raise CheckpointError(
            f'{path} is not a pytorch-pretrained-biggan BigGAN state dict '
            '(no embeddings.weight / generator.gen_z.weight_orig; it has '
            f'{list(state_dict)[:4]}...).')
    return OrderedDict(state_dict)


def stages_of(layers: List[list]) -> Tuple[int, List[Tuple[int, int, bool]]]:
    """Group the reference's blocks into mmbiggan stages.

    A stage is ``block_depth`` blocks of which all but the last keep their
    channels and resolution. The released layouts pair a plain block with
    an upsampling one (depth 2); any other list is one block per stage.

    Returns:
        tuple: ``(block_depth, [(in, out, upsample), ...])`` in multiples of
        ``channel_width``.
    """
    if len(layers) % 2 == 0 and all(
            not layers[i][0] and layers[i][1] == layers[i][2] == layers[i +
                                                                        1][1]
            for i in range(0, len(layers), 2)):
        return 2, [(layers[i][1], layers[i + 1][2], layers[i + 1][0])
                   for i in range(0, len(layers), 2)]
    return 1, [(n_in, n_out, up) for up, n_in, n_out in layers]


def generator_cfg(config: dict, source: str) -> dict:
    """The :class:`BigGANDeepGenerator` config reproducing the reference
    ``BigGAN`` of ``config``, after checking that the reference can run it.
    """
    ch = config['channel_width']
    layers = [list(layer) for layer in config['layers']]
    position = config['attention_layer_position']
    n_stats, eps = config['n_stats'], float(config['eps'])
    problems = []
    if layers[0][1] != 16:
        problems.append('the first layer must take 16 x channel_width '
                        'channels (gen_z makes a 4x4x16ch map)')
    for i in range(1, len(layers)):
        if layers[i][1] != layers[i - 1][2]:
            problems.append(f'layer {i} takes {layers[i][1]} but layer '
                            f'{i - 1} gives {layers[i - 1][2]}')
    for i, (_, n_in, n_out) in enumerate(layers):
        if n_in != n_out and ch * n_out != ch * n_in // 2:
            problems.append(f'layer {i} changes {n_in} to {n_out} channel '
                            'units; the reference only halves them')
    if layers[-1][2] != 1:
        problems.append('the last layer must give channel_width channels '
                        '(the output batch norm has that many)')
    if not isinstance(n_stats, int) or n_stats < 2:
        problems.append(f'n_stats must be an int >= 2, got {n_stats!r}')
    if position < 0 or (position < len(layers)
                        and ch * layers[position][1] % 8):
        problems.append(f'attention_layer_position {position} is invalid or '
                        'its channels are not a multiple of 8')
    scale = 4 * 2**sum(1 for up, _, _ in layers if up)
    if scale != config['output_dim']:
        problems.append(f'output_dim is {config["output_dim"]} but the '
                        f'layers upsample 4x4 to {scale}x{scale}')
    if problems:
        raise CheckpointError(f'{source} describes a model the reference '
                              f'cannot run: {"; ".join(problems)}.')

    if position == 0:
        raise CheckpointError(
            f'{source}: attention before the first block '
            '(attention_layer_position 0) has no mmbiggan counterpart.')
    depth, stages = stages_of(layers)
    if position < len(layers) and position % depth:
        # Attention inside a stage: one block per stage places it exactly.
        depth, stages = 1, [(n_in, n_out, up) for up, n_in, n_out in layers]
    attention = [False] * len(stages)
    if position < len(layers):
        attention[position // depth - 1] = True
    arch = dict(
        in_channels=[ch * n_in for n_in, _, _ in stages],
        out_channels=[ch * n_out for _, n_out, _ in stages],
        upsample=[up for _, _, up in stages],
        attention=attention)
    cfg = dict(
        type='BigGANDeepGenerator',
        output_scale=scale,
        noise_size=config['z_dim'],
        num_classes=config['num_classes'],
        base_channels=ch,
        shared_dim=config['z_dim'],
        with_shared_embedding=True,
        concat_noise=True,
        sn_style='torch',
        sn_eps=eps,
        bn_eps=eps,
        num_bn_stats=n_stats,
        out_conv_channels=ch)
    try:
        default = biggan_generator_arch(scale, ch)
    except ValueError:
        default = None
    if depth != 2:
        cfg['block_depth'] = depth
    if depth != 2 or default != arch:
        cfg['arch_cfg'] = arch
    return cfg


def _reference_layout(config: dict) -> List[str]:
    """``'block'`` or ``'attention'`` for each ``generator.layers`` index."""
    layout = []
    for i in range(len(config['layers'])):
        if i == config['attention_layer_position']:
            layout.append('attention')
        layout.append('block')
    return layout


def check_layout(state_dict: dict, config: dict, source: str):
    """Compare the modules stored in the weights with those the config
    describes, before any key is renamed."""
    stored = {}
    for key in state_dict:
        parts = key.split('.')
        if key.startswith('generator.layers.') and len(parts) > 3:
            kind = 'attention' if parts[3] == 'gamma' or parts[3].startswith(
                'snconv1x1') else 'block'
            stored.setdefault(int(parts[2]), kind)
    expected = dict(enumerate(_reference_layout(config)))
    if stored != expected:
        describe = ' '.join(f'{i}:{k}' for i, k in sorted(stored.items()))
        want = ' '.join(f'{i}:{k}' for i, k in sorted(expected.items()))
        raise CheckpointError(
            f'{source}: the weights hold generator.layers [{describe}] but '
            f'config.json describes [{want}]; the config does not belong to '
            'these weights.')


def gen_z_permutation(channels: int, size: int = 4) -> torch.Tensor:
    """Row order that turns the reference's NHWC reading of ``gen_z``
    outputs into an NCHW one: row ``(c, h, w)`` of mmbiggan is row
    ``(h, w, c)`` of the reference."""
    return torch.arange(size * size * channels).view(size, size,
                                                     channels).permute(
                                                         2, 0, 1).reshape(-1)


def map_keys(state_dict: dict, channels: int,
             source: str) -> Tuple[dict, dict]:
    """Rename (and where needed reorder) reference weights to mmbiggan's
    :class:`BigGANDeepGenerator` layout; ``channels`` is the width of the
    ``gen_z`` map (16 x channel_width).

    Returns:
        tuple: the converted state dict (OrderedDict) and ``{new key:
        source key}``.
    """
    perm = gen_z_permutation(channels)
    mapped, origins, unknown = OrderedDict(), {}, []
    for key, value in state_dict.items():
        new = _map_key(key)
        if new is None:
            unknown.append(key)
            continue
        if new == 'shared_embedding.weight':
            value = value.t().contiguous()
        elif new in ('noise2feat.weight', 'noise2feat.bias',
                     'noise2feat.sn.u'):
            if value.shape[0] != perm.numel():
                raise CheckpointError(
                    f'{source}: {key} has {value.shape[0]} rows, the config '
                    f'says 4x4x{channels} = {perm.numel()}.')
            value = value[perm].contiguous()
        elif key.endswith('.gamma'):
            value = value.reshape(())
        mapped[new], origins[new] = value, key
    if unknown:
        raise CheckpointError(
            f'{source} has keys that are not part of a pytorch-pretrained-'
            f'biggan BigGAN ({len(unknown)}): {", ".join(unknown[:12])}.')
    return mapped, origins


def _map_key(key: str) -> Optional[str]:
    if key == 'embeddings.weight':
        return 'shared_embedding.weight'
    if not key.startswith('generator.'):
        return None
    key = key[len('generator.'):]
    for old, new in (('gen_z.', 'noise2feat.'), ('bn.', 'out_bn.'),
                     ('conv_to_rgb.', 'out_conv.')):
        if key.startswith(old):
            return _map_leaf(new + key[len(old):])
    if not key.startswith('layers.'):
        return None
    _, index, rest = key.split('.', 2)
    for old, new in _BLOCK_NAMES:
        if rest.startswith(old):
            return _map_leaf(f'conv_blocks.{index}.{new}{rest[len(old):]}')
    if rest == 'gamma':
        return f'conv_blocks.{index}.gamma'
    return None


def _map_leaf(key: str) -> str:
    prefix, _, leaf = key.rpartition('.')
    for old, new in _SN_SUFFIX:
        if leaf == old:
            leaf = new
    key = f'{prefix}.{leaf}'
    for old, new in _BN_NAMES:
        key = key.replace(f'.{old}', f'.{new}')
    return key


def convert_pytorch_pretrained_biggan(source: str,
                                      config_path: Optional[str] = None
                                      ) -> Conversion:
    """Convert a pytorch-pretrained-biggan model folder (or weights file
    with ``config_path``) into an mmbiggan ``generator``.

    Returns:
        Conversion: the checked generator (the release has neither a
        discriminator nor an EMA copy).
    """
    weights_path, config_path = find_files(source, config_path)
    config = load_config(config_path)
    state_dict = load_weights(weights_path)
    check_finite(state_dict, weights_path)
    cfg = generator_cfg(config, config_path)
    check_layout(state_dict, config, weights_path)
    embed = state_dict['embeddings.weight']
    if tuple(embed.shape) != (config['z_dim'], config['num_classes']):
        raise CheckpointError(
            f'{weights_path}: embeddings.weight is {tuple(embed.shape)} but '
            f'config.json says z_dim={config["z_dim"]}, num_classes='
            f'{config["num_classes"]}; the config does not belong to these '
            'weights.')
    channels = 16 * config['channel_width']
    mapped, origins = map_keys(state_dict, channels, weights_path)
    net = ConvertedNetwork(cfg, mapped, weights_path, origins)
    verify_network(net, 'generator')
    info = dict(
        source_files=dict(
            weights=osp.abspath(weights_path),
            config=osp.abspath(config_path)),
        source_config=config)
    return Conversion(SOURCE_FORMAT, dict(generator=net), info)
