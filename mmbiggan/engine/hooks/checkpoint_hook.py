"""mmengine's CheckpointHook, never losing a checkpoint it already wrote."""
import os.path as osp
from contextlib import contextmanager
from typing import Iterator, List

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook as MMEngineCheckpointHook

from mmbiggan.registry import HOOKS
from mmbiggan.utils.atomic import write_text_atomic


class _DeferredRemoval:
    """A file backend whose ``remove``/``rmtree`` only note the path."""

    def __init__(self, backend):
        self._backend = backend
        self.paths: List[str] = []

    def remove(self, path):
        self.paths.append(path)

    def rmtree(self, path):
        self.paths.append(path)

    def __getattr__(self, name):
        return getattr(self._backend, name)


# Registered under mmengine's name: in mmbiggan's scope every
# `type='CheckpointHook'` (and the Runner's default) gets this one.
@HOOKS.register_module(name='CheckpointHook')
class CheckpointHook(MMEngineCheckpointHook):
    """mmengine's :class:`~mmengine.hooks.CheckpointHook` (same arguments)
    with the order of its writes fixed.

    mmengine deletes the checkpoint that falls out of ``max_keep_ckpts`` (and
    the previous best checkpoint) *before* writing the new one, and writes
    the ``last_checkpoint`` pointer with a plain ``open``: a save that fails
    (full disk, a killed job, the divergence guard refusing non-finite
    weights) loses a good checkpoint, with ``max_keep_ckpts=1`` the only
    one. Here the new checkpoint is written first (atomically, through
    :class:`~mmbiggan.engine.file_backend.AtomicLocalBackend`), then the
    pointer (atomically), and only then are outdated files removed.
    Learning-rate schedulers are saved when the run has any (mmengine warns
    at every save otherwise).
    """

    @contextmanager
    def _removals_after_writes(self) -> Iterator[_DeferredRemoval]:
        """Within the block, removals are collected; they happen when the
        block has finished without error."""
        backend = self.file_backend
        deferred = _DeferredRemoval(backend)
        self.file_backend = deferred
        try:
            yield deferred
        finally:
            self.file_backend = backend
        for path in deferred.paths:
            if backend.isfile(path):
                backend.remove(path)
            elif backend.isdir(path):  # DeepSpeed checkpoints are folders
                backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step, meta):
        with self._removals_after_writes():
            # mmengine's method without its last lines, which write the
            # pointer file in place.
            self._save_with_step(runner, step, meta)
            if is_main_process():
                write_text_atomic(
                    osp.join(runner.work_dir, 'last_checkpoint'),
                    self.last_ckpt)

    def _save_with_step(self, runner, step, meta):
        """Update the kept steps, then write the checkpoint of ``step``."""
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
                if is_main_process():
                    self.file_backend.remove(
                        self.file_backend.join_path(
                            self.out_dir, self.filename_tmpl.format(outdated)))
            self.keep_ckpt_ids.append(step)
            # Saved inside the checkpoint: a resumed run knows what to prune.
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            # Without schedulers mmengine would warn at every save.
            save_param_scheduler=self.save_param_scheduler
            and runner.param_schedulers is not None,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        with self._removals_after_writes():
            super()._save_best_checkpoint(runner, metrics)
