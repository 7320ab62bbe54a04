from .inference import check_device, default_device, init_model, load_config
from .interpolation import (INTERP_MODES, ClassInputs, Walk, class_inputs,
                            frame_positions, interpolate_path,
                            iter_walk_frames, lerp, plan_walk, slerp)
from .sampling import (Samples, draw_inputs, get_sampling_generator,
                       iter_samples, sample_images, unwrap_model)

__all__ = [
    'init_model', 'load_config', 'check_device', 'default_device',
    'Samples', 'draw_inputs', 'get_sampling_generator', 'iter_samples',
    'sample_images', 'unwrap_model', 'INTERP_MODES', 'ClassInputs', 'Walk',
    'class_inputs', 'frame_positions', 'interpolate_path', 'iter_walk_frames',
    'lerp', 'plan_walk', 'slerp'
]
