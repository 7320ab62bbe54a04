"""Walks through a generator's inputs: interpolation between endpoints in
noise space (lerp or slerp) and in class space (the shared class embedding,
or class vectors that mix the per-class tables), and the frames of a walk.

A walk over ``K`` endpoints with ``steps`` steps per segment has
``(K - 1) * steps + 1`` frames: frame ``k * steps + i`` lies at weight
``i / steps`` between endpoints ``k`` and ``k + 1``, and the last frame is
the last endpoint, so no frame repeats.
"""
from typing import Iterator, NamedTuple, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from mmbiggan.models.sampling import Samples, draw_inputs, iter_samples

INTERP_MODES = ('lerp', 'slerp')

# Below this sine of the angle between two noise vectors their great circle
# is numerically undefined (parallel or opposite vectors): slerp falls back
# to lerp, which is exact for parallel vectors.
SLERP_MIN_SINE = 1e-6

Weight = Union[float, torch.Tensor]


def _weight_column(weight: Weight, reference: torch.Tensor) -> torch.Tensor:
    """``weight`` (a number, or one per row) as a column ``[N, 1]`` or a
    scalar tensor that broadcasts over ``reference`` ``[N, D]``."""
    weight = torch.as_tensor(weight, dtype=reference.dtype,
                             device=reference.device)
    return weight.reshape(-1, 1) if weight.dim() else weight


def lerp(start: torch.Tensor, end: torch.Tensor,
         weight: Weight) -> torch.Tensor:
    """Linear interpolation of rows: ``start + weight * (end - start)``.

    Args:
        start, end (Tensor): ``[N, D]``.
        weight (float | Tensor): One weight, or one per row ``[N]``; 0 gives
            ``start`` and 1 gives ``end`` exactly.
    """
    return torch.lerp(start, end, _weight_column(weight, start))


def slerp(start: torch.Tensor, end: torch.Tensor,
          weight: Weight) -> torch.Tensor:
    """Spherical interpolation of rows, as BigGAN latent walks use it: the
    direction moves along the great circle from ``start`` to ``end`` at a
    constant angular speed and the length changes linearly, so the walk keeps
    the typical norm of Gaussian noise (normalising to the unit sphere, as
    StyleGAN's path-length slerp does, would shrink BigGAN noise to nearly
    zero).

    Rows whose directions are (anti)parallel or that have a zero vector have
    no unique great circle; they are interpolated linearly, which is the
    same path for parallel rows.

    Args:
        start, end (Tensor): ``[N, D]``.
        weight (float | Tensor): One weight, or one per row ``[N]``; 0 gives
            ``start`` and 1 gives ``end``.
    """
    if start.shape != end.shape or start.dim() != 2:
        raise ValueError('slerp takes two [N, D] tensors of one shape, got '
                         f'{tuple(start.shape)} and {tuple(end.shape)}.')
    # Float64 for the angle: the sines of small angles lose digits in float32.
    a, b = start.double(), end.double()
    t = _weight_column(weight, a)
    norm_a = a.norm(dim=1, keepdim=True)
    norm_b = b.norm(dim=1, keepdim=True)
    unit_a = a / norm_a.clamp_min(torch.finfo(a.dtype).tiny)
    unit_b = b / norm_b.clamp_min(torch.finfo(b.dtype).tiny)
    # Kahan's formula: accurate for angles near 0 and near pi, unlike acos.
    angle = 2 * torch.atan2((unit_a - unit_b).norm(dim=1, keepdim=True),
                            (unit_a + unit_b).norm(dim=1, keepdim=True))
    sine = torch.sin(angle)
    great_circle = (sine > SLERP_MIN_SINE) & (norm_a > 0) & (norm_b > 0)
    safe_sine = torch.where(great_circle, sine, torch.ones_like(sine))
    direction = (torch.sin((1 - t) * angle) * unit_a +
                 torch.sin(t * angle) * unit_b) / safe_sine
    spherical = torch.lerp(norm_a, norm_b, t) * direction
    out = torch.where(great_circle, spherical, torch.lerp(a, b, t))
    return out.to(start.dtype)


def frame_positions(num_endpoints: int,
                    steps: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """For each frame of a walk, the segment it lies on and its weight
    between that segment's endpoints.

    Returns:
        tuple[Tensor, Tensor]: ``segment`` int64 ``[F]`` and ``weight``
        float64 ``[F]`` with ``F = (num_endpoints - 1) * steps + 1``; the
        last frame is segment ``num_endpoints - 2`` at weight 1.
    """
    check_walk_size(num_endpoints, steps)
    num_segments = num_endpoints - 1
    segment = torch.arange(num_segments).repeat_interleave(steps)
    weight = torch.arange(steps, dtype=torch.float64).repeat(num_segments) \
        / steps
    segment = torch.cat([segment, torch.tensor([num_segments - 1])])
    weight = torch.cat([weight, torch.tensor([1.0], dtype=torch.float64)])
    return segment, weight


def check_walk_size(num_endpoints: int, steps: int):
    if num_endpoints < 2:
        raise ValueError('A walk needs at least 2 endpoints, got '
                         f'{num_endpoints}.')
    if steps < 1:
        raise ValueError(f'A walk needs at least 1 step per segment, got '
                         f'{steps}.')


def interpolate_path(endpoints: torch.Tensor,
                     steps: int,
                     mode: str = 'lerp') -> torch.Tensor:
    """The frames ``[F, D]`` of a walk through the rows of ``endpoints``
    ``[K, D]`` (see the module docstring for the layout); ``mode`` is
    ``'lerp'`` or ``'slerp'``. Frame ``k * steps`` is endpoint ``k``."""
    if mode not in INTERP_MODES:
        raise ValueError(f'Unknown interpolation mode {mode!r}; use one of '
                         f'{INTERP_MODES}.')
    if endpoints.dim() != 2:
        raise ValueError('endpoints must be [K, D], got '
                         f'{tuple(endpoints.shape)}.')
    segment, weight = frame_positions(endpoints.shape[0], steps)
    interpolate = lerp if mode == 'lerp' else slerp
    return interpolate(endpoints[segment], endpoints[segment + 1],
                       weight.to(endpoints.dtype))


class ClassInputs(NamedTuple):
    values: torch.Tensor  # [K, shared_dim] embeddings or [K, C] class vectors
    use_outside_embedding: bool


@torch.no_grad()
def class_inputs(generator: nn.Module, labels: torch.Tensor) -> ClassInputs:
    """What a class walk interpolates for int ``labels`` ``[K]``: rows of the
    generator's shared class embedding (fed back with
    ``use_outside_embedding=True``), or, for generators whose batch norms
    index per-class tables, one-hot class vectors ``[K, num_classes]``, whose
    mixtures mix those tables. On the CPU."""
    if not getattr(generator, 'num_classes', 0):
        raise ValueError('This generator is unconditional: it has no class '
                         'space to walk.')
    labels = torch.as_tensor(labels, dtype=torch.long).reshape(-1)
    embedding = getattr(generator, 'shared_embedding', None)
    if embedding is None:
        return ClassInputs(
            nn.functional.one_hot(labels, generator.num_classes).float(),
            False)
    device = next(generator.parameters()).device
    was_training = embedding.training
    embedding.eval()  # spectral-normalised tables must not update here
    try:
        values = embedding(labels.to(device)).float().cpu()
    finally:
        embedding.train(was_training)
    return ClassInputs(values, True)


class Walk(NamedTuple):
    """The inputs of every frame of a walk, on the CPU."""
    noise: torch.Tensor  # [F, noise_size]
    classes: Optional[torch.Tensor]  # [F, E]; None if unconditional
    use_outside_embedding: bool
    endpoint_noise: torch.Tensor  # [K, noise_size]
    endpoint_labels: Optional[torch.Tensor]  # [K] int64


def plan_walk(generator: nn.Module,
              num_endpoints: int,
              steps: int,
              labels: Union[Sequence[int], torch.Tensor, None] = None,
              fix_noise: bool = False,
              fix_class: bool = False,
              interp_mode: str = 'lerp',
              truncation: Optional[float] = None,
              seed: Optional[int] = None) -> Walk:
    """Draw ``num_endpoints`` endpoints with :func:`draw_inputs` and lay out
    the walk through them.

    Args:
        generator (nn.Module): The generator to walk.
        num_endpoints (int): ``K >= 2``.
        steps (int): Steps per segment (``>= 1``).
        labels (Sequence[int] | Tensor, optional): Classes of the endpoints:
            ``K`` of them, or one with ``fix_class``. Uniform when None.
        fix_noise (bool): One noise vector for all endpoints: the walk moves
            through class space only.
        fix_class (bool): One class for all endpoints: the walk moves
            through noise space only.
        interp_mode (str): ``'lerp'`` or ``'slerp'`` for the noise; classes
            are always mixed linearly (points between embeddings).
        truncation (float, optional): Truncation of the endpoint noise.
        seed (int, optional): Seed of the endpoints (same seed, same walk,
            on any device).
    """
    check_walk_size(num_endpoints, steps)
    if interp_mode not in INTERP_MODES:
        raise ValueError(f'Unknown interpolation mode {interp_mode!r}; use '
                         f'one of {INTERP_MODES}.')
    if fix_noise and fix_class:
        raise ValueError('fix_noise and fix_class exclude each other: with '
                         'both fixed nothing moves.')
    conditional = bool(getattr(generator, 'num_classes', 0))
    if not conditional and (fix_noise or fix_class or labels is not None):
        raise ValueError('This generator is unconditional (no classes): a '
                         'walk can only move its noise.')
    labels = _endpoint_labels(labels, num_endpoints, fix_class)
    noise, endpoint_labels = draw_inputs(generator, num_endpoints, labels,
                                         truncation, seed)
    if fix_noise:
        noise = noise[:1].repeat(num_endpoints, 1)
    if fix_class and endpoint_labels is not None:
        endpoint_labels = endpoint_labels[:1].repeat(num_endpoints)
    frames_noise = interpolate_path(noise, steps, interp_mode)
    if not conditional:
        return Walk(frames_noise, None, False, noise, None)
    classes = class_inputs(generator, endpoint_labels)
    return Walk(frames_noise, interpolate_path(classes.values, steps, 'lerp'),
                classes.use_outside_embedding, noise, endpoint_labels)


def _endpoint_labels(labels, num_endpoints: int,
                     fix_class: bool) -> Optional[torch.Tensor]:
    if labels is None:
        return None
    labels = torch.as_tensor(labels, dtype=torch.long).reshape(-1)
    if fix_class and labels.numel() == 1:
        return labels.repeat(num_endpoints)
    if labels.numel() != num_endpoints:
        raise ValueError(
            f'{labels.numel()} endpoint labels for {num_endpoints} '
            'endpoints; give one label per endpoint' +
            (' (or one label with fix_class).' if not fix_class else '.'))
    return labels


class _OutsideEmbedding(nn.Module):
    """``generator`` called with ``use_outside_embedding=True``, so that
    :func:`iter_samples` can batch frames whose labels are embeddings."""

    def __init__(self, generator: nn.Module):
        super().__init__()
        self.generator = generator
        self.rgb2bgr = getattr(generator, 'rgb2bgr', False)

    def forward(self, noise, label, truncation=None):
        return self.generator(
            noise, label, truncation=truncation, use_outside_embedding=True)


def iter_walk_frames(generator: nn.Module,
                     walk: Walk,
                     truncation: Optional[float] = None,
                     batch_size: int = 32,
                     progress: bool = False) -> Iterator[Samples]:
    """Generate the frames of ``walk`` in batches with
    :func:`iter_samples`; pass the ``truncation`` the endpoints were drawn
    with, which also selects per-truncation batch-norm statistics."""
    if walk.use_outside_embedding:
        generator = _OutsideEmbedding(generator)
    return iter_samples(generator, walk.noise, walk.classes, truncation,
                        batch_size, progress)
