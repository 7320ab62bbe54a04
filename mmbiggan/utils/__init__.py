from .checkpoint import (CheckpointError, check_state_dict,
                         extract_state_dict, find_latest_checkpoint,
                         incomplete_reason, load_checkpoint_file,
                         load_module_weights, save_checkpoint_atomic,
                         trusted_pickle)
from .image import to_hwc_numpy, to_uint8

__all__ = [
    'CheckpointError', 'check_state_dict', 'extract_state_dict',
    'find_latest_checkpoint', 'load_checkpoint_file', 'load_module_weights',
    'save_checkpoint_atomic', 'incomplete_reason', 'trusted_pickle',
    'to_uint8', 'to_hwc_numpy'
]
