"""Sampling from a generator, kept importable from here: the code lives in
:mod:`mmbiggan.models.sampling` (the GAN model samples through it too)."""
from mmbiggan.models.sampling import (Samples, draw_inputs,
                                      get_sampling_generator, iter_samples,
                                      sample_images, unwrap_model)

__all__ = [
    'Samples', 'draw_inputs', 'get_sampling_generator', 'iter_samples',
    'sample_images', 'unwrap_model'
]
