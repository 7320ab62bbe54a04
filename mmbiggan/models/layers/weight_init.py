"""Weight initialization schemes of BigGAN-PyTorch."""
import torch.nn as nn

INIT_TYPES = ('ortho', 'N02', 'xavier')


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
