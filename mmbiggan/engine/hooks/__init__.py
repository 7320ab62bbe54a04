from .checkpoint_hook import CheckpointHook
from .checkpoint_state_hook import (CheckpointStateHook, decode_message_hub,
                                    encode_message_hub, get_rng_states,
                                    set_rng_states)
from .divergence_guard_hook import DivergenceGuardHook, TrainingDiverged
from .sample_grid_hook import SampleGridHook
from .signal_checkpoint_hook import SignalCheckpointHook, TrainingInterrupted

__all__ = [
    'CheckpointHook', 'CheckpointStateHook', 'DivergenceGuardHook',
    'SampleGridHook', 'SignalCheckpointHook', 'TrainingDiverged',
    'TrainingInterrupted', 'encode_message_hub', 'decode_message_hub',
    'get_rng_states', 'set_rng_states'
]
