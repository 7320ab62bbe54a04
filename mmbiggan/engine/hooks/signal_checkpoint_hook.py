"""Stopping on SIGTERM or Ctrl-C with a checkpoint to resume from."""
import logging
import os
import os.path as osp
import signal
import threading
from typing import Optional, Sequence

import torch
import torch.distributed as dist
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log

from mmbiggan.registry import HOOKS
from .checkpoint_state_hook import has_pending_grads


class TrainingInterrupted(Exception):
    """Training stopped on a signal after saving a checkpoint.

    Attributes:
        signal_name (str): ``'SIGTERM'`` or ``'SIGINT'``.
        iteration (int): Iterations completed (the checkpoint's).
        checkpoint (str): The checkpoint written (or found written).
        exit_code (int): ``128 + signal number``, the shell's convention.
    """

    def __init__(self, signum: int, iteration: int, checkpoint: str):
        self.signal_name = signal.Signals(signum).name
        self.iteration = iteration
        self.checkpoint = checkpoint
        self.exit_code = 128 + signum
        super().__init__(f'{self.signal_name} received: stopped after '
                         f'iteration {iteration}, checkpoint {checkpoint}')

    @property
    def exit_status(self) -> int:
        """The status of :func:`mmbiggan.utils.errors.run`: ``128 +
        signal``."""
        return self.exit_code

    def cli_line(self) -> Optional[str]:
        """What the command line shows: where the checkpoint is and how to
        go on; printed by rank 0 only (None on the other ranks)."""
        if os.environ.get('RANK', '0') != '0':
            return None
        return (f'stopped: {self.signal_name} received; the checkpoint of '
                f'iteration {self.iteration} is {self.checkpoint}. To go on, '
                'run the same command with --resume.')


@HOOKS.register_module()
class SignalCheckpointHook(Hook):
    """On SIGTERM (a scheduler pre-empting the job, ``kill``) or SIGINT
    (Ctrl-C): finish the current iteration, save a checkpoint and stop by
    raising :class:`TrainingInterrupted` (``tools/train.py`` turns it into
    a one-line message with the resume command and exit status ``128 +
    signal``).

    Inside a gradient-accumulation window the run goes on to the window's
    end, so the checkpoint holds no half-accumulated gradients (under DDP
    they would be rank 0's only). A second signal while waiting is not
    caught: it stops at once, like an unhandled Ctrl-C; checkpoints are
    written atomically, so the newest complete one stays intact.

    Under DDP each process is signalled (torchrun and SLURM forward the
    signal); the processes agree on the flag every iteration (a one-integer
    all-reduce over a CPU group, no GPU sync), so they all stop at the same
    iteration and rank 0 writes the checkpoint.

    The checkpoint is written by the runner's ``CheckpointHook`` (same file
    names, ``max_keep_ckpts`` and ``last_checkpoint`` pointer) unless it
    just saved this iteration.

    Args:
        signals (Sequence[str]): Signals to catch.
    """

    # After CheckpointHook (VERY_LOW): it may have saved this iteration.
    priority = 'LOWEST'

    def __init__(self, signals: Sequence[str] = ('SIGTERM', 'SIGINT')):
        try:
            self.signals = [signal.Signals[name] for name in signals]
        except KeyError as err:
            raise ValueError(f'SignalCheckpointHook: unknown signal {err}; '
                             "use names such as 'SIGTERM', 'SIGINT'.") \
                from None
        self._received: Optional[int] = None
        self._previous = {}
        self._group = None
        self._announced_wait = False

    def _handle(self, signum, frame):
        self._received = signum
        # os.write: a handler may interrupt a logging or print call, which
        # must not be re-entered.
        os.write(2, (f'\n{signal.Signals(signum).name} received: saving a '
                     'checkpoint after this iteration (send it again to stop '
                     'at once).\n').encode())
        # A second signal gets the default behaviour.
        signal.signal(signum, self._previous.get(signum, signal.SIG_DFL))

    def before_train(self, runner) -> None:
        if threading.current_thread() is not threading.main_thread():
            print_log('SignalCheckpointHook: not in the main thread, so '
                      'signals cannot be caught.', logger='current',
                      level=logging.WARNING)
            return
        for signum in self.signals:
            self._previous[signum] = signal.signal(signum, self._handle)
        if runner.world_size > 1:
            # The flag travels as a CPU tensor whatever the main backend.
            self._group = dist.new_group(backend='gloo')

    def after_train(self, runner) -> None:
        self.restore_handlers()

    def restore_handlers(self) -> None:
        """Put back the handlers found at ``before_train`` (done after
        training; a caller whose training raised calls it itself)."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def _agreed_signal(self) -> Optional[int]:
        """The signal received by any process (the same on all), or None."""
        if self._group is None:
            return self._received
        flag = torch.tensor([self._received or 0], dtype=torch.int64)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX, group=self._group)
        return int(flag) or None

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        signum = self._agreed_signal()
        if signum is None:
            return
        if has_pending_grads(runner.optim_wrapper):
            if not self._announced_wait:
                print_log('Continuing to the end of the gradient-'
                          'accumulation window before saving.',
                          logger='current', level=logging.WARNING)
                self._announced_wait = True
            return
        checkpoint = self._save(runner)
        if self._group is not None:
            # No process exits before rank 0 has written the checkpoint:
            # launchers kill the others when one exits.
            dist.barrier(group=self._group)
        self.restore_handlers()
        raise TrainingInterrupted(signum, runner.iter + 1, checkpoint)

    @staticmethod
    def _save(runner) -> str:
        """Save the checkpoint of the iteration that is ending through the
        runner's CheckpointHook unless it just did; return its path."""
        step = runner.iter + 1
        for hook in runner.hooks:
            if isinstance(hook, CheckpointHook):
                path = hook.file_backend.join_path(
                    hook.out_dir, hook.filename_tmpl.format(step))
                if runner.message_hub.get_info('last_ckpt') != path:
                    hook._save_checkpoint(runner)
                return path
        # No checkpoint hook configured: save beside the logs anyway.
        filename = f'iter_{step}.pth'
        runner.save_checkpoint(runner.work_dir, filename, by_epoch=False)
        return osp.join(runner.work_dir, filename)
