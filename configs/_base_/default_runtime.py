# Runtime shared by every training config: logging, checkpoints, sample
# grids, the iteration-based loop and distributed settings.
default_scope = 'mmbiggan'

# diff_rank_seed: every process draws its own noise and labels (with one
# seed for all, each GPU would generate the same fakes).
randomness = dict(seed=None, diff_rank_seed=True)

env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py starts the process group itself (NCCL on GPUs, gloo on
    # CPUs) before the Runner is built.
    dist_cfg=dict(backend='nccl'))

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        interval=10000,
        by_epoch=False,
        max_keep_ckpts=20,
        save_optimizer=True,
        # The learning-rate schedule's position: needed to resume exactly.
        save_param_scheduler=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # Checkpoints that load with weights_only=True and carry the RNG states,
    # the sampler's position and accumulated gradients.
    checkpoint_state=dict(type='CheckpointStateHook'),
    # SIGTERM / Ctrl-C: finish the iteration, save a checkpoint, stop.
    signal_checkpoint=dict(type='SignalCheckpointHook'),
    # A NaN or infinite loss stops the run ('skip': drop the updates with
    # non-finite gradients); non-finite weights are never checkpointed.
    divergence_guard=dict(type='DivergenceGuardHook', action='stop'))

custom_hooks = [dict(type='SampleGridHook', interval=1000)]

log_processor = dict(type='LogProcessor', window_size=100, by_epoch=False)
log_level = 'INFO'

visualizer = dict(
    type='Visualizer', vis_backends=[dict(type='LocalVisBackend')])

# Each trained network in its own DDP; works with NCCL and with gloo. The
# scope prefix: mmengine's Runner looks wrapper types up in its own registry.
model_wrapper_cfg = dict(
    type='mmbiggan.SeparateDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)

train_cfg = dict(type='IterBasedTrainLoop', max_iters=100000)

# mmbiggan's replacements of mmengine's local IO, switched on by
# tools/train.py (mmbiggan.engine.install_mmengine_overrides): checkpoints
# written atomically (temporary file, then rename) and read with
# torch.load(weights_only=True).
mmengine_overrides = dict(atomic_local_writes=True,
                          safe_checkpoint_loading=True)

load_from = None
resume = False
