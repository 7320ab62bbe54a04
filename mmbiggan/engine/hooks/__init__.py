from .checkpoint_state_hook import (CheckpointStateHook, decode_message_hub,
                                    encode_message_hub, get_rng_states,
                                    set_rng_states)
from .sample_grid_hook import SampleGridHook

__all__ = [
    'CheckpointStateHook', 'SampleGridHook', 'encode_message_hub',
    'decode_message_hub', 'get_rng_states', 'set_rng_states'
]
