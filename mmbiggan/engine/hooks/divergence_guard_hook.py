"""Stopping (or skipping updates) when training produces NaN or infinity."""
import logging
import math
import os.path as osp
from typing import Dict, Iterable, List

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmbiggan.registry import HOOKS
from mmbiggan.utils.errors import EXIT_DIVERGED

ACTIONS = ('stop', 'skip')


class TrainingDiverged(RuntimeError):
    """A loss or the weights of the model became non-finite."""

    exit_status = EXIT_DIVERGED


def all_finite(tensors: Iterable[torch.Tensor]) -> bool:
    """Whether every element of every tensor is finite (one host sync per
    device)."""
    flags: Dict[torch.device, List[torch.Tensor]] = {}
    for tensor in tensors:
        flags.setdefault(tensor.device,
                         []).append(torch.isfinite(tensor).all())
    return all(bool(torch.stack(f).all()) for f in flags.values())


def _format(values: Dict[str, float]) -> str:
    return ', '.join(f'{k}={v}' for k, v in values.items())


@HOOKS.register_module()
class DivergenceGuardHook(Hook):
    """Stop the run, or skip the updates, when training produces NaN or
    infinity, and never write a checkpoint of non-finite weights.

    Losses are checked every iteration, from the values mmengine's
    ``RuntimeInfoHook`` has just logged: it converts every logged loss to a
    Python number there (a device sync mmengine makes anyway), so reading
    them costs no further sync. The model's floating tensors (all networks,
    the EMA copy, batch-norm statistics, spectral-norm vectors) are checked
    before every checkpoint is written: a checkpoint of non-finite weights is
    refused, so the newest checkpoint on disk stays the last good one.

    Actions:

    - ``'stop'``: a non-finite loss stops the run with
      :class:`TrainingDiverged`, naming the iteration and the losses.
      Nothing is added to the training steps.
    - ``'skip'``: an optimizer step whose gradients are not all finite is
      skipped (its gradients are dropped just before ``optimizer.step``,
      through torch's step pre-hooks, so neither weights nor optimizer
      moments move: one device sync per optimizer step). Each affected
      iteration is logged as a warning; after ``max_consecutive_skips``
      such iterations in a row the run stops as with ``'stop'``.

    Non-finite weights stop the run in both modes (there is nothing left to
    skip).

    Args:
        action (str): ``'stop'`` or ``'skip'``.
        max_consecutive_skips (int): With ``'skip'``: iterations in a row
            with non-finite losses or gradients before the run stops.
    """

    # After RuntimeInfoHook (VERY_HIGH), which logs the losses, and before
    # CheckpointHook (VERY_LOW), so a diverged iteration is never saved.
    priority = 'ABOVE_NORMAL'

    def __init__(self, action: str = 'stop', max_consecutive_skips: int = 20):
        if action not in ACTIONS:
            raise ValueError(f'DivergenceGuardHook action must be one of '
                             f'{ACTIONS}, got {action!r}.')
        if int(max_consecutive_skips) < 1:
            raise ValueError('DivergenceGuardHook max_consecutive_skips must '
                             f'be >= 1, got {max_consecutive_skips}.')
        self.action = action
        self.max_consecutive_skips = int(max_consecutive_skips)
        self._skipped_steps: List[str] = []
        self._consecutive = 0
        self._handles = []

    # -- skipping ---------------------------------------------------------
    def before_train(self, runner) -> None:
        if self.action != 'skip':
            return
        wrappers = getattr(runner.optim_wrapper, 'optim_wrappers',
                           {'optimizer': runner.optim_wrapper})
        for name, wrapper in wrappers.items():
            self._handles.append(
                wrapper.optimizer.register_step_pre_hook(
                    self._step_pre_hook(name)))

    def after_train(self, runner) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _step_pre_hook(self, name: str):

        def drop_nonfinite_grads(optimizer, args, kwargs):
            params = [p for group in optimizer.param_groups
                      for p in group['params'] if p.grad is not None]
            if all_finite(p.grad for p in params):
                return None
            # Parameters without gradients are left alone by the step.
            for param in params:
                param.grad = None
            self._skipped_steps.append(name)
            return None

        return drop_nonfinite_grads

    # -- checks -----------------------------------------------------------
    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        iteration = runner.iter + 1
        bad = self._nonfinite_losses(runner, outputs or {})
        skipped, self._skipped_steps = self._skipped_steps, []
        if not bad and not skipped:
            self._consecutive = 0
            return
        if self.action == 'stop':
            raise TrainingDiverged(
                f'Iteration {iteration}: non-finite loss ({_format(bad)}); '
                'training stopped. ' + self._advice(runner))
        self._consecutive += 1
        what = []
        if bad:
            what.append(f'non-finite loss ({_format(bad)})')
        if skipped:
            what.append(f'skipped the {" and ".join(skipped)} update '
                        '(non-finite gradients)')
        print_log(f'Iteration {iteration}: ' + '; '.join(what) +
                  f' [{self._consecutive} in a row].', logger='current',
                  level=logging.WARNING)
        if self._consecutive >= self.max_consecutive_skips:
            raise TrainingDiverged(
                f'Iteration {iteration}: {self._consecutive} iterations in a '
                f'row with non-finite losses or gradients (last: '
                f'{"; ".join(what)}); training stopped. ' +
                self._advice(runner))

    @staticmethod
    def _nonfinite_losses(runner, outputs: dict) -> Dict[str, float]:
        bad = {}
        for key, value in outputs.items():
            buffer = runner.message_hub.log_scalars.get(f'train/{key}')
            if buffer is not None:
                value = buffer.current()
            elif isinstance(value, torch.Tensor) and value.numel() == 1:
                value = value.item()
            else:
                continue
            if not math.isfinite(value):
                bad[key] = value
        return bad

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('state_dict', {})
        tensors = [v for v in state.values()
                   if isinstance(v, torch.Tensor) and v.is_floating_point()]
        if all_finite(tensors):
            return
        names = [k for k, v in state.items()
                 if isinstance(v, torch.Tensor) and v.is_floating_point()
                 and not bool(torch.isfinite(v).all())]
        shown = ', '.join(names[:5]) + (
            f', ... ({len(names) - 5} more)' if len(names) > 5 else '')
        raise TrainingDiverged(
            f'Iteration {checkpoint["meta"]["iter"]}: non-finite weights '
            f'({shown}); the checkpoint was not written and training '
            'stopped. ' + self._advice(runner))

    @staticmethod
    def _advice(runner) -> str:
        # The pointer CheckpointHook writes after each complete save (the
        # message hub already names a checkpoint while it is being written).
        pointer = osp.join(runner.work_dir, 'last_checkpoint')
        last = open(pointer).read().strip() if osp.isfile(pointer) else None
        where = (f'The newest checkpoint, {last}, is intact' if last else
                 'No checkpoint was written yet')
        return (f'{where}: resume from it with a lower learning rate, or '
                "set default_hooks.divergence_guard.action='skip'.")
