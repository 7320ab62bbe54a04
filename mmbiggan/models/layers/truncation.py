"""The truncation trick: truncated normal noise, by rejection."""
from typing import Optional, Sequence, Union

import torch

# Public BigGAN samplers (TF-Hub colab, pytorch-pretrained-biggan,
# BigGAN-PyTorch's utils) draw N(0, 1) truncated to [-2, 2] and scale it by
# the truncation value.
DEFAULT_BOUND = 2.0


def truncated_normal(shape: Union[int, Sequence[int]],
                     bound: float,
                     generator: Optional[torch.Generator] = None,
                     device=None,
                     dtype=torch.float32) -> torch.Tensor:
    """Standard normal samples conditioned on ``|z| <= bound``.

    Values outside the bound are redrawn until none is left (the definition
    of the truncated normal, as ``scipy.stats.truncnorm(-bound, bound)``);
    they are never clamped.
    """
    if not bound > 0:
        raise ValueError(f'The truncation bound must be > 0, got {bound}.')
    if isinstance(shape, int):
        shape = (shape, )
    out = torch.randn(
        tuple(shape), generator=generator, device=device, dtype=dtype)
    outside = out.abs() > bound
    # Acceptance is erf(bound / sqrt 2) per draw: 0.38 at bound 0.5, so a
    # few rounds resample nearly everything; the loop ends with probability 1.
    while bool(outside.any()):
        redraw = torch.randn(
            int(outside.sum()), generator=generator, device=device,
            dtype=dtype)
        out[outside] = redraw
        outside = out.abs() > bound
    return out


def sample_truncated_noise(num_samples: int,
                           noise_size: int,
                           truncation: float = 1.0,
                           bound: float = DEFAULT_BOUND,
                           generator: Optional[torch.Generator] = None,
                           device=None) -> torch.Tensor:
    """Latent noise ``[num_samples, noise_size]`` for the truncation trick:
    ``truncation * truncated_normal(bound)``, the sampler of
    pytorch-pretrained-biggan's ``truncated_noise_sample`` (values lie in
    ``[-bound * truncation, bound * truncation]``)."""
    check_truncation(truncation)
    return truncation * truncated_normal((num_samples, noise_size), bound,
                                         generator=generator, device=device)


def check_truncation(truncation: float,
                     num_stats: int = 1,
                     name: str = 'truncation') -> float:
    """The one check of a truncation value, for the API and every tool.

    Args:
        truncation (float): The value to check.
        num_stats (int): Rows of per-truncation batch-norm statistics of the
            model it is meant for (:func:`num_truncation_stats`); with more
            than one row, values above 1 select no statistics.
        name (str): How the user gave it, for the message (e.g.
            ``'--truncation'``).

    Returns:
        float: ``truncation`` as a float.

    Raises:
        ValueError: One line naming the value and the fix.
    """
    if isinstance(truncation, bool) or not isinstance(
            truncation, (int, float)) or not truncation > 0:
        raise ValueError(
            f'{name}={truncation!r} is not a number > 0: truncation must be '
            'above 0; use e.g. 0.5 (smaller: less variety), 1.0, or leave it '
            'out (None) for untruncated noise.')
    if num_stats > 1 and truncation > 1:
        raise ValueError(
            f'{name}={truncation!r} is above 1: this model\'s batch-norm '
            f'statistics were recorded for truncation in (0, 1] ({num_stats} '
            'rows); use a truncation <= 1.')
    return float(truncation)


def num_truncation_stats(generator) -> int:
    """Rows of per-truncation batch-norm statistics of ``generator`` (its
    ``num_bn_stats``; 1 for models without them)."""
    return int(getattr(generator, 'num_bn_stats', 1))
