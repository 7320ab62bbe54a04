"""The iteration-based training loop, resuming without re-reading data."""
import atexit
import ctypes
import multiprocessing
import os
import signal
from functools import partial
from typing import Callable, Optional, Sequence

from mmengine.dist import get_world_size
from mmengine.runner import IterBasedTrainLoop as MMEngineIterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator

from mmbiggan.registry import LOOPS


class _WorkerSignals:
    """Dataloader workers that outlive SIGINT and SIGTERM until the main
    process has finished.

    Ctrl-C reaches every process of the terminal's group, and schedulers
    (SLURM) signal every process of a job; a worker that died of it would
    fail the iteration before ``SignalCheckpointHook`` saves the checkpoint.
    So workers ignore SIGINT, and ignore SIGTERM while the shared flag says
    the main process is running: at exit the flag is cleared, and the
    SIGTERM with which multiprocessing ends daemonic workers ends them
    (with status 0).
    """

    def __init__(self):
        self.main_running = multiprocessing.Value(ctypes.c_bool, True,
                                                  lock=False)
        # Runs before multiprocessing's exit handler (registered earlier,
        # atexit runs last-in first-out).
        atexit.register(self.release)

    def release(self):
        self.main_running.value = False

    def wrap(self, init_fn: Optional[Callable]) -> Callable:
        """``worker_init_fn`` that installs the handlers, then ``init_fn``
        (mmengine's seeding)."""
        return partial(_worker_init, main_running=self.main_running,
                       init_fn=init_fn)


def _worker_init(worker_id: int, main_running,
                 init_fn: Optional[Callable]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def on_sigterm(signum, frame):
        if main_running.value:
            return  # the main process saves, then shuts the workers down
        # Status 0: torch's check in the main process reports a worker
        # killed by a signal as a failure.
        os._exit(0)

    signal.signal(signal.SIGTERM, on_sigterm)
    if init_fn is not None:
        init_fn(worker_id)


# Registered under mmengine's name: in mmbiggan's scope every config's
# `type='IterBasedTrainLoop'` gets this loop ('mmengine.IterBasedTrainLoop'
# still names the original).
@LOOPS.register_module(name='IterBasedTrainLoop')
class IterBasedTrainLoop(MMEngineIterBasedTrainLoop):
    """mmengine's :class:`~mmengine.runner.IterBasedTrainLoop` (same
    arguments, same hooks and validation schedule) that keeps a resumable
    sampler's position and resumes from it.

    mmengine's loop resumes at iteration ``k`` by drawing ``k`` batches from
    the dataloader and dropping them: every image of those batches is read
    and decoded again (hours, a million iterations into an ImageNet run),
    and the order only matches when the sampler's seed happens to be the
    same. With a sampler that has a position
    (:class:`~mmbiggan.datasets.ResumableInfiniteSampler`: ``consumed`` and
    ``load_state_dict``), this loop adds the batch of all ranks to
    ``consumed`` at every iteration, so checkpoints record where the stream
    is (``CheckpointStateHook`` saves and restores it), and a resumed run
    starts a fresh iterator there instead of replaying. Other samplers are
    replayed as by mmengine.

    Dataloader workers leave SIGINT and SIGTERM to the main process while
    it runs (see :class:`_WorkerSignals`).
    """

    def __init__(self, runner, dataloader, *args, **kwargs):
        if isinstance(dataloader, dict):
            # Built here, not by BaseLoop: the workers start as soon as the
            # loop makes its iterator, and must start with the handlers.
            dataloader = runner.build_dataloader(
                dataloader,
                seed=runner.seed,
                diff_rank_seed=runner._randomness_cfg.get(
                    'diff_rank_seed', False))
        if dataloader.num_workers > 0:
            dataloader.worker_init_fn = _WorkerSignals().wrap(
                dataloader.worker_init_fn)
        super().__init__(runner, dataloader, *args, **kwargs)

    def _resumable_sampler(self):
        """The dataloader's sampler when it has a position, else None."""
        sampler = getattr(self.dataloader, 'sampler', None)
        if self.dataloader.batch_size is None or not hasattr(
                sampler, 'consumed') or not hasattr(sampler,
                                                    'load_state_dict'):
            return None
        return sampler

    def samples_per_iter(self) -> int:
        """Items of the sampler's stream one iteration uses (all ranks)."""
        return self.dataloader.batch_size * get_world_size()

    def _continue_data(self) -> None:
        """Position the data at iteration ``self._iter`` of a resumed run."""
        sampler = self._resumable_sampler()
        if sampler is None:
            # mmengine's way: draw and drop the batches already trained on.
            for _ in range(self._iter):
                next(self.dataloader_iterator)
            return
        if sampler.consumed == 0:
            # A checkpoint without the sampler's state (written by another
            # sampler): the position a constant batch size gives.
            sampler.consumed = self._iter * self.samples_per_iter()
        # The iterator built with the loop read from the stream's start.
        self.dataloader_iterator = _InfiniteDataloaderIterator(
            self.dataloader)

    def run(self):
        """Launch training (as mmengine's loop, with :meth:`_continue_data`
        instead of replaying the trained batches)."""
        self.runner.call_hook('before_train')
        # The whole run is one big epoch to the epoch hooks.
        self.runner.call_hook('before_train_epoch')
        if self._iter > 0:
            self._continue_data()
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            data_batch = next(self.dataloader_iterator)
            self.run_iter(data_batch)
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0
                         or self._iter == self._max_iters)):
                self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model

    def run_iter(self, data_batch: Sequence[dict]) -> None:
        # Counted before the hooks run: a checkpoint written in
        # after_train_iter includes this batch.
        sampler = self._resumable_sampler()
        if sampler is not None:
            sampler.consumed += self.samples_per_iter()
        super().run_iter(data_batch)
