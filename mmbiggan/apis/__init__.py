from .inference import check_device, default_device, init_model, load_config
from .sampling import (Samples, draw_inputs, get_sampling_generator,
                       iter_samples, sample_images, unwrap_model)

__all__ = [
    'init_model', 'load_config', 'check_device', 'default_device',
    'Samples', 'draw_inputs', 'get_sampling_generator', 'iter_samples',
    'sample_images', 'unwrap_model'
]
