"""Weight initialization schemes: BigGAN-PyTorch's (``init_type``) and
those MMGeneration offers for SNGAN and SAGAN (``init_cfg=dict(type=...)``).
"""
import math

import torch.nn as nn

from .conditional_norm import ConditionalBatchNorm2d

INIT_TYPES = ('ortho', 'N02', 'xavier')

# MMGeneration's names, compared case-insensitively; the last three are
# one scheme.
SNGAN_INIT_TYPES = ('BigGAN', 'studio', 'sagan', 'sngan', 'sngan-proj',
                    'gan-proj')

# Convolutions outside the residual path, which the official SNGAN code
# initializes with gain 1 instead of sqrt(2).
_UNIT_GAIN_CONVS = ('conv_sc', 'out_conv')


def init_biggan_weights(module: nn.Module, init_type: str = 'ortho'):
    """Initialize every Conv2d, Linear and Embedding weight of ``module`` as
    BigGAN-PyTorch does: orthogonal, N(0, 0.02) or Xavier uniform. Biases,
    batch-norm parameters and attention gains keep their defaults."""
    if init_type not in INIT_TYPES:
        raise ValueError(f'Unknown init_type {init_type!r}; choose one of '
                         f'{INIT_TYPES}.')
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear, nn.Embedding)):
            if init_type == 'ortho':
                nn.init.orthogonal_(layer.weight)
            elif init_type == 'N02':
                nn.init.normal_(layer.weight, 0, 0.02)
            else:
                nn.init.xavier_uniform_(layer.weight)


def check_sngan_init_type(init_type: str) -> str:
    """The scheme's canonical upper-case name, or a clear error."""
    if not isinstance(init_type, str) or init_type.upper() not in {
            t.upper()
            for t in SNGAN_INIT_TYPES
    }:
        raise ValueError(f'Unknown init_cfg type {init_type!r}; choose one '
                         f'of {SNGAN_INIT_TYPES} (case does not matter).')
    init_type = init_type.upper()
    return 'SNGAN' if init_type in ('SNGAN-PROJ', 'GAN-PROJ') else init_type


def init_sngan_weights(module: nn.Module, init_type: str = 'BigGAN'):
    """Initialize ``module`` with one of MMGeneration's SNGAN / SAGAN schemes
    (``init_type`` is its ``init_cfg['type']``, any case):

    * ``'BigGAN'``: Xavier uniform weights of every Conv2d, Linear and
      Embedding; biases keep PyTorch's defaults.
    * ``'studio'`` (PyTorch-StudioGAN): orthogonal weights, zero biases.
    * ``'sagan'`` (the official TensorFlow SAGAN): Xavier uniform weights,
      zero biases; per-class batch-norm tables start at gain 1, bias 0.
    * ``'sngan'``, ``'sngan-proj'``, ``'gan-proj'`` (the official Chainer
      SNGAN): as ``'sagan'`` but residual-path convolutions get Xavier gain
      ``sqrt(2)``; shortcut (``conv_sc``) and output (``out_conv``)
      convolutions, linears and other embeddings gain 1.

    Batch-norm affines and attention gains keep their defaults.
    """
    scheme = check_sngan_init_type(init_type)
    tables = set()
    if scheme in ('SAGAN', 'SNGAN'):
        for layer in module.modules():
            if isinstance(layer, ConditionalBatchNorm2d) and isinstance(
                    getattr(layer, 'gain', None), nn.Embedding):
                nn.init.ones_(layer.gain.weight)
                nn.init.zeros_(layer.bias.weight)
                tables.update((id(layer.gain), id(layer.bias)))
    for name, layer in module.named_modules():
        if not isinstance(layer, (nn.Conv2d, nn.Linear, nn.Embedding)) or \
                id(layer) in tables:
            continue
        if scheme == 'BIGGAN':
            nn.init.xavier_uniform_(layer.weight)
            continue
        if scheme == 'STUDIO':
            nn.init.orthogonal_(layer.weight)
        elif scheme == 'SAGAN' or not isinstance(layer, nn.Conv2d) or \
                name.rsplit('.', 1)[-1] in _UNIT_GAIN_CONVS:
            nn.init.xavier_uniform_(layer.weight)
        else:
            nn.init.xavier_uniform_(layer.weight, gain=math.sqrt(2))
        if getattr(layer, 'bias', None) is not None:
            nn.init.zeros_(layer.bias)
