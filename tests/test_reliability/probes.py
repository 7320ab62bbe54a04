"""Test-only components loaded by the test configs through
``custom_imports``: hooks that break a training run on purpose, and a
dataset that needs no download and no scikit-learn import."""
import os
import signal

import numpy as np
import torch
from mmengine.hooks import Hook

from mmbiggan.datasets import DigitsDataset
from mmbiggan.registry import DATASETS, HOOKS


@DATASETS.register_module()
class NoiseDigits(DigitsDataset):
    """36 fixed random 32x32 RGB images labelled 0..9 in turn."""

    def load_data_list(self):
        images = np.random.default_rng(0).integers(
            0, 256, (36, 32, 32, 3), dtype=np.uint8)
        return [dict(img=img, gt_label=i % 10) for i, img in enumerate(images)]


def first_time(runner, event: str) -> bool:
    """True the first time ``event`` happens in this work dir (later runs
    resumed there do not repeat it)."""
    marker = os.path.join(runner.work_dir, f'.probe_{event}')
    if os.path.exists(marker):
        return False
    open(marker, 'w').close()
    return True


@HOOKS.register_module()
class SendSignalHook(Hook):
    """Send this process a real signal as iteration ``n`` (1-based) starts,
    once per work dir.

    Args:
        signals (list): ``[iteration, signal name]`` pairs.
    """

    def __init__(self, signals):
        self.signals = {int(n): name for n, name in signals}

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        name = self.signals.get(runner.iter + 1)
        if name is not None and first_time(runner, f'{name}_{runner.iter}'):
            os.kill(os.getpid(), getattr(signal, name))


@HOOKS.register_module()
class KillDuringSaveHook(Hook):
    """SIGKILL this process while it writes the checkpoint of iteration
    ``at_iter`` (once per work dir): after the bytes went to disk, before
    the file is complete (the atomic writer's fsync)."""

    priority = 'LOWEST'

    def __init__(self, at_iter):
        self.at_iter = at_iter

    def before_save_checkpoint(self, runner, checkpoint):
        if checkpoint['meta']['iter'] != self.at_iter or not first_time(
                runner, 'kill'):
            return
        from mmbiggan.utils import atomic

        def fsync_then_die(fd):
            os.kill(os.getpid(), signal.SIGKILL)

        atomic.os = _OsWith(fsync=fsync_then_die)


class _OsWith:
    """The ``os`` module with some functions replaced."""

    def __init__(self, **replaced):
        self.__dict__.update(replaced)

    def __getattr__(self, name):
        return getattr(os, name)


@HOOKS.register_module()
class PoisonHook(Hook):
    """At iteration ``at_iter`` (1-based): ``'d_output'`` makes the
    discriminator's output NaN for that iteration only (the losses and the
    discriminator's gradients become NaN, the weights are untouched);
    ``'g_buffer'`` puts a NaN into a batch-norm running mean of the
    generator (unused by training-mode forwards: the losses stay finite).
    With ``record``, the discriminator's parameters and Adam moments before
    and after that iteration go to the file ``record``."""

    priority = 'HIGHEST'

    def __init__(self, at_iter, what, record=None):
        self.at_iter = at_iter
        self.what = what
        self.record = record
        self._handle = None
        self._before = None

    def _model(self, runner):
        return getattr(runner.model, 'module', runner.model)

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter + 1 != self.at_iter:
            return
        model = self._model(runner)
        if self.record:
            self._before = self._d_state(runner)
        if self.what == 'd_output':
            self._handle = model.discriminator.register_forward_hook(
                lambda module, args, out: out * float('nan'))
        elif self.what == 'g_buffer':
            name, buffer = next((n, b)
                                for n, b in model.generator.named_buffers()
                                if n.endswith('running_mean'))
            buffer[0] = float('nan')
        else:
            raise ValueError(self.what)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
        if self._before is not None:
            torch.save(
                dict(before=self._before, after=self._d_state(runner)),
                self.record)
            self._before = None

    def _d_state(self, runner):
        """Parameters (not the spectral-norm vectors, which every forward
        updates) and optimizer moments of the discriminator, copied."""
        network = self._model(runner).discriminator
        optimizer = runner.optim_wrapper['discriminator'].optimizer
        state = {n: p.detach().clone()
                 for n, p in network.named_parameters()}
        for index, param in enumerate(network.parameters()):
            for key, value in optimizer.state.get(param, {}).items():
                state[f'optim.{index}.{key}'] = value.clone()
        return state
