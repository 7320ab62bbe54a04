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


def check_truncation(truncation: float) -> float:
    """Reject truncation values that select no valid distribution."""
    if not isinstance(truncation, (int, float)) or not truncation > 0:
        raise ValueError(
            f'truncation must be a number > 0, got {truncation!r}; use 1.0 '
            'for no truncation and smaller values for less variety.')
    return float(truncation)
