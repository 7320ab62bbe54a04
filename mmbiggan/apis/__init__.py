from .sampling import (Samples, draw_inputs, get_sampling_generator,
                       iter_samples, sample_images, unwrap_model)

__all__ = [
    'Samples', 'draw_inputs', 'get_sampling_generator', 'iter_samples',
    'sample_images', 'unwrap_model'
]
