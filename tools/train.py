"""Train a GAN of the BigGAN family from a config.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--compile] [--cfg-options key=value ...] [--launcher none|pytorch|slurm]
        [--trust-pickle] [--no-validate]

Multi-process: ``bash tools/dist_train.sh CONFIG NUM_PROCESSES [args]``
(GPUs with NCCL, or CPU processes with gloo).

SIGTERM or Ctrl-C finishes the iteration, saves a checkpoint and stops;
``--resume`` then continues exactly. Exit status: 0 done, 2 a mistake in
the command line, config, data or checkpoint (one line says what to fix),
3 training diverged (non-finite loss or weights), 128 + N stopped by
signal N (143 SIGTERM, 130 Ctrl-C).
"""
import argparse
import os
import os.path as osp
import sys

# Before torch loads OpenMP: idle worker threads sleep instead of spinning.
# On a busy CPU, spinning threads wait for each other's time slices and a
# step takes many times longer (11 s instead of 0.6 s measured on this
# project's 2-core machine under load); on an idle one sleeping costs little.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

from mmengine.config import Config, DictAction  # noqa: E402

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:  # running from a clone without installing
    sys.path.insert(0, REPO_ROOT)


def parse_args(argv=None):
    from mmbiggan.utils.checkpoint import add_trust_pickle_argument
    parser = argparse.ArgumentParser(
        description='Train a class-conditional GAN (BigGAN family).')
    parser.add_argument('config', help='training config file')
    parser.add_argument(
        '--work-dir',
        help='folder for logs, checkpoints and sample grids '
        '(default: work_dirs/<config name>)')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        metavar='CKPT',
        help='resume from CKPT, or without a path from the newest complete '
        'checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: float16 with loss scaling on GPUs, bfloat16 '
        'on CPUs')
    parser.add_argument(
        '--compile',
        action='store_true',
        help='torch.compile the generator and discriminator')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='train without the FID/IS evaluation the config schedules '
        '(e.g. without the Inception weights at hand)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. train_cfg.max_iters=1000')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm'],
        default='none',
        help='how the processes were started (tools/dist_train.sh uses '
        'pytorch)')
    add_trust_pickle_argument(parser)
    return parser.parse_args(argv)


def build_config(args) -> Config:
    """The config of ``args``, with the command-line switches applied."""
    from mmbiggan.compat import translate_config
    from mmbiggan.engine import ConfigError
    if not osp.isfile(args.config):
        raise ConfigError(f'Config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg = translate_config(cfg)[0]  # MMGeneration / mmagic configs
    cfg.launcher = args.launcher
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif not cfg.get('work_dir'):
        cfg.work_dir = osp.join('work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.no_validate:
        disable_validation(cfg)
    if args.amp:
        enable_amp(cfg)
    if args.compile:
        cfg.model.compile_cfg = True
    if args.resume:
        set_resume(cfg, args.resume)
    # Required by mmbiggan's checkpoints and by the promise that a signal
    # leaves a checkpoint, whatever the config says.
    cfg.setdefault('default_hooks', {})
    for name, hook in (('checkpoint_state', 'CheckpointStateHook'),
                       ('signal_checkpoint', 'SignalCheckpointHook')):
        if not cfg.default_hooks.get(name):
            cfg.default_hooks[name] = dict(type=hook)
    # On unless the config switches it off with `divergence_guard=None`.
    if 'divergence_guard' not in cfg.default_hooks:
        cfg.default_hooks['divergence_guard'] = dict(
            type='DivergenceGuardHook')
    cfg.setdefault(
        'model_wrapper_cfg',
        dict(type='mmbiggan.SeparateDistributedDataParallel'))
    return cfg


def disable_validation(cfg: Config):
    """Drop the evaluation during training (mmengine builds the val loop
    only from all three of these) and the best-checkpoint rule that reads
    its metrics."""
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    checkpoint = (cfg.get('default_hooks') or {}).get('checkpoint')
    if isinstance(checkpoint, dict):
        checkpoint.pop('save_best', None)
        checkpoint.pop('rule', None)


def enable_amp(cfg: Config):
    from mmbiggan.engine import ConfigError
    optim_wrapper = cfg.get('optim_wrapper')
    if not isinstance(optim_wrapper, dict):
        raise ConfigError('--amp needs an optim_wrapper in the config.')
    if optim_wrapper.get('constructor') == 'MultiOptimWrapperConstructor':
        wrappers = [
            v for k, v in optim_wrapper.items()
            if k not in ('constructor', 'paramwise_cfg') and isinstance(v, dict)
        ]
    else:
        wrappers = [optim_wrapper]
    for wrapper in wrappers:
        wrapper['type'] = 'AutocastOptimWrapper'


def set_resume(cfg: Config, resume: str):
    from mmbiggan.engine import ConfigError
    from mmbiggan.utils.checkpoint import find_latest_checkpoint
    if resume == 'auto':
        checkpoint = find_latest_checkpoint(cfg.work_dir)
        if checkpoint is None:
            print(f'--resume: no checkpoint in {cfg.work_dir}; training from '
                  'the start.', file=sys.stderr)
            cfg.resume = False
            return
    else:
        checkpoint = resume
        if not osp.isfile(checkpoint):
            raise ConfigError(f'--resume: checkpoint not found: {checkpoint}')
    cfg.load_from = checkpoint
    cfg.resume = True


def check_work_dir(work_dir: str):
    from mmbiggan.engine import ConfigError
    try:
        os.makedirs(work_dir, exist_ok=True)
    except OSError as err:
        raise ConfigError(
            f'Cannot create the work dir {work_dir}: {err.strerror}; pass a '
            'writable --work-dir.') from None
    if not os.access(work_dir, os.W_OK):
        raise ConfigError(f'The work dir {work_dir} is not writable; pass a '
                          'writable --work-dir.')


def main(argv=None):
    args = parse_args(argv)
    from mmbiggan.engine import (SignalCheckpointHook, check_training_config,
                                 init_distributed, install_mmengine_overrides,
                                 shutdown_distributed)
    from mmbiggan.utils.checkpoint import trusted_pickle
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    cfg = build_config(args)
    check_training_config(cfg)
    # Atomic checkpoint writes and weights_only loading, as the config says
    # (default_runtime switches both on; a config without the key gets both).
    install_mmengine_overrides(cfg.get('mmengine_overrides'))
    check_work_dir(cfg.work_dir)
    # Before the Runner: mmengine's launcher would call
    # torch.cuda.set_device even without GPUs.
    init_distributed(args.launcher)
    try:
        with trusted_pickle(args.trust_pickle):
            if 'runner_type' in cfg:
                runner = RUNNERS.build(cfg)
            else:
                runner = Runner.from_cfg(cfg)
            try:
                runner.train()
            finally:
                # Training that raised skipped after_train: leave the
                # caller's signal handlers as they were.
                for hook in runner.hooks:
                    if isinstance(hook, SignalCheckpointHook):
                        hook.restore_handlers()
    except BaseException as err:
        err.work_dir = cfg.work_dir  # where run() finds this run's log
        raise
    shutdown_distributed()


def log_traceback(err: BaseException) -> str:
    """Append the traceback of ``err`` to the run's log file, if the run got
    as far as having one; return a note naming it (or '')."""
    import logging
    import traceback

    from mmengine.logging import MMLogger
    work_dir = getattr(err, 'work_dir', None)
    if work_dir is None:
        return ''
    for handler in MMLogger.get_current_instance().handlers:
        if isinstance(handler, logging.FileHandler) and \
                handler.baseFilename.startswith(osp.abspath(work_dir) + '/'):
            with open(handler.baseFilename, 'a') as f:
                f.write(''.join(traceback.format_exception(err)))
            return f' (traceback in {handler.baseFilename})'
    return ''


def explain(err: BaseException) -> str:
    """What train.py adds to an error line: for a missing Inception file,
    how to train without the evaluation that needs it; for other mistakes,
    where their traceback went (the run's log), for a bug report."""
    from mmbiggan.engine import TrainingDiverged
    from mmbiggan.evaluation import InceptionLoadError
    if isinstance(err, InceptionLoadError):
        return ' Or train without evaluation: --no-validate.'
    if isinstance(err, TrainingDiverged):
        return ''
    return log_traceback(err)


def run():
    """Entry point under the scripts' one policy
    (:func:`mmbiggan.utils.errors.run`): mistakes end in one line (exit
    status 2), divergence in one line (3), a signal in a saved checkpoint and
    one line (128 + N)."""
    from mmbiggan.utils.errors import run as run_script

    # Ctrl-C during training is handled by SignalCheckpointHook; one that
    # gets here came before training started.
    sys.exit(
        run_script(
            main,
            interrupted='interrupted before training started; nothing was '
            'saved.',
            explain=explain))


if __name__ == '__main__':
    run()
