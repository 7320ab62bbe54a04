"""Checkpoints that load with ``weights_only=True`` and hold the whole
training state."""
import logging
import random
from typing import Any, Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer, print_log

from mmbiggan.registry import HOOKS
from mmbiggan.utils.checkpoint import check_state_dict

MESSAGE_HUB_FORMAT = 'mmbiggan.message_hub.v1'
RNG_FORMAT = 'mmbiggan.rng_states.v1'


def to_plain(value: Any) -> Any:
    """``value`` with numpy arrays and scalars turned into tensors and Python
    numbers, so ``torch.load(weights_only=True)`` reads it back; anything
    else that is not a tensor, number, string or container becomes its
    ``repr`` (runtime information is for display only)."""
    # Before the Python types: numpy.float64 subclasses float but pickles
    # as a numpy object.
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    if value is None or isinstance(value, (bool, int, float, str, bytes,
                                           torch.Tensor)):
        return value
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_plain(v) for v in value)
    return repr(value)


def encode_message_hub(state: dict) -> dict:
    """mmengine's ``MessageHub.state_dict()`` as tensors and plain
    containers. Its ``HistoryBuffer`` objects do not unpickle with
    ``weights_only=True`` (and allowing what they need, ``getattr``, would
    let a crafted file call arbitrary methods)."""
    scalars = {}
    for key, buffer in state['log_scalars'].items():
        logs, counts = buffer.data
        scalars[key] = dict(
            log=torch.from_numpy(np.asarray(logs, dtype=np.float64)),
            count=torch.from_numpy(np.asarray(counts, dtype=np.int64)),
            max_length=int(buffer.max_length))
    return dict(
        format=MESSAGE_HUB_FORMAT,
        log_scalars=scalars,
        runtime_info={k: to_plain(v)
                      for k, v in state['runtime_info'].items()},
        resumed_keys={k: bool(v)
                      for k, v in state['resumed_keys'].items()})


def decode_message_hub(state: dict) -> dict:
    """Inverse of :func:`encode_message_hub`: the dict that
    ``MessageHub.load_state_dict`` takes."""
    if state.get('format') != MESSAGE_HUB_FORMAT:
        return state
    scalars = {
        key: HistoryBuffer(entry['log'].numpy(), entry['count'].numpy(),
                           entry['max_length'])
        for key, entry in state['log_scalars'].items()
    }
    return dict(
        log_scalars=scalars,
        runtime_info=dict(state['runtime_info']),
        resumed_keys=dict(state['resumed_keys']))


def get_rng_states() -> dict:
    """The states of torch (CPU and CUDA), numpy and Python's ``random``
    generators, as tensors and numbers."""
    name, keys, pos, has_gauss, cached_gauss = np.random.get_state()
    version, py_state, py_gauss = random.getstate()
    states = dict(
        format=RNG_FORMAT,
        torch=torch.get_rng_state(),
        numpy=dict(
            name=name,
            keys=torch.from_numpy(keys.astype(np.int64)),
            pos=int(pos),
            has_gauss=int(has_gauss),
            cached_gaussian=float(cached_gauss)),
        python=dict(
            version=version,
            state=torch.tensor(py_state, dtype=torch.int64),
            gauss=py_gauss))
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict):
    """Restore what :func:`get_rng_states` returned."""
    torch.set_rng_state(states['torch'].cpu())
    if 'cuda' in states and torch.cuda.is_available() and len(
            states['cuda']) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in states['cuda']])
    np_state = states['numpy']
    np.random.set_state(
        (np_state['name'], np_state['keys'].numpy().astype(np.uint32),
         np_state['pos'], np_state['has_gauss'],
         np_state['cached_gaussian']))
    py_state = states['python']
    random.setstate((py_state['version'],
                     tuple(int(x) for x in py_state['state'].tolist()),
                     py_state['gauss']))


def _optim_wrappers(optim_wrapper) -> dict:
    """Name -> wrapper of an ``OptimWrapperDict`` (or ``{'': wrapper}``)."""
    if hasattr(optim_wrapper, 'optim_wrappers'):
        return dict(optim_wrapper.optim_wrappers)
    return {'': optim_wrapper}


def _params(wrapper) -> list:
    return [p for group in wrapper.optimizer.param_groups
            for p in group['params']]


def has_pending_grads(optim_wrapper) -> bool:
    """Whether gradients were accumulated and not yet stepped (the run is
    inside an accumulation window)."""
    return any(p.grad is not None
               for wrapper in _optim_wrappers(optim_wrapper).values()
               for p in _params(wrapper))


def get_pending_grads(optim_wrapper) -> dict:
    """The gradients accumulated but not yet stepped, per optimizer wrapper
    name, as a list over the optimizer's parameters (None where a parameter
    has none); wrappers without any are left out. Between accumulation
    windows (``zero_grad`` sets them to None) the dict is empty."""
    pending = {}
    for name, wrapper in _optim_wrappers(optim_wrapper).items():
        grads = [p.grad for p in _params(wrapper)]
        if any(g is not None for g in grads):
            pending[name] = [
                None if g is None else g.detach().cpu() for g in grads
            ]
    return pending


def set_pending_grads(optim_wrapper, pending: dict):
    """Put back what :func:`get_pending_grads` returned."""
    wrappers = _optim_wrappers(optim_wrapper)
    for name, grads in pending.items():
        params = _params(wrappers[name])
        if len(grads) != len(params):
            raise ValueError(
                f'The checkpoint holds {len(grads)} accumulated gradients '
                f'for optimizer {name!r}, which has {len(params)} '
                'parameters.')
        for param, grad in zip(params, grads):
            param.grad = None if grad is None else grad.to(
                device=param.device, dtype=param.dtype)


def train_sampler(runner):
    """The training dataloader's sampler when it has a saveable position
    (:class:`~mmbiggan.datasets.ResumableInfiniteSampler`), else None."""
    loop = runner.train_loop
    sampler = getattr(getattr(loop, 'dataloader', None), 'sampler', None)
    return sampler if hasattr(sampler, 'state_dict') else None


@HOOKS.register_module()
class CheckpointStateHook(Hook):
    """Make mmengine checkpoints safe to load and complete.

    Saving (``before_save_checkpoint``): the message hub is stored as
    tensors and plain containers (:func:`encode_message_hub`) and the
    dataset meta as plain values, so the file loads with
    ``weights_only=True``. Added: the random generator states of torch,
    numpy and Python (:func:`get_rng_states`) under ``rng_states``, the
    training sampler's position under ``data_sampler``, and, for a
    checkpoint inside a gradient-accumulation window, the gradients
    accumulated so far under ``pending_grads``.

    Loading (``after_load_checkpoint``, which ``Runner.load_checkpoint``
    calls before ``resume`` reads the message hub): the message hub is
    rebuilt, the weights are checked against the model (missing, unexpected
    and mis-shaped keys are listed, instead of mmengine's silent non-strict
    load), and when resuming the sampler continues from the saved position,
    and the random states and accumulated gradients are restored just
    before the first resumed iteration.

    Args:
        strict (bool): Reject checkpoints whose keys differ from the
            model's (shape mismatches are always rejected).
    """

    priority = 'VERY_HIGH'

    def __init__(self, strict: bool = True):
        self.strict = strict
        self._pending_rng_states: Optional[dict] = None
        self._pending_grads: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['message_hub'] = encode_message_hub(
            checkpoint['message_hub'])
        checkpoint['meta'] = to_plain(checkpoint.get('meta', {}))
        checkpoint['rng_states'] = get_rng_states()
        sampler = train_sampler(runner)
        if sampler is not None:
            checkpoint['data_sampler'] = sampler.state_dict()
        grads = get_pending_grads(runner.optim_wrapper)
        if grads:
            checkpoint['pending_grads'] = grads
            if runner.world_size > 1:
                print_log(
                    f'The checkpoint of iteration {runner.iter + 1} falls '
                    'inside a gradient-accumulation window: only rank 0\'s '
                    'partial gradients are saved, so a run resumed from it '
                    'differs slightly from an uninterrupted one; make the '
                    'checkpoint interval a multiple of the accumulation.',
                    logger='current', level=logging.WARNING)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if 'message_hub' in checkpoint:
            checkpoint['message_hub'] = decode_message_hub(
                checkpoint['message_hub'])
        state_dict = checkpoint.get('state_dict')
        if state_dict is not None:
            model = getattr(runner.model, 'module', runner.model)
            check_state_dict(
                model, state_dict, source='checkpoint', strict=self.strict)
        if not getattr(runner, '_resume', False):
            return
        self._pending_rng_states = checkpoint.get('rng_states')
        self._pending_grads = checkpoint.get('pending_grads')
        sampler = train_sampler(runner)
        if sampler is not None and 'data_sampler' in checkpoint:
            sampler.load_state_dict(checkpoint['data_sampler'])

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        # Restored here, not at load time: the runner re-seeds and rebuilds
        # the optimizers after loading.
        if self._pending_grads is not None:
            grads, self._pending_grads = self._pending_grads, None
            if runner.rank == 0:  # the partial gradients saved are rank 0's
                set_pending_grads(runner.optim_wrapper, grads)
        if self._pending_rng_states is None:
            return
        states, self._pending_rng_states = self._pending_rng_states, None
        if runner.rank == 0:
            set_rng_states(states)
        else:
            # Only rank 0's states are saved (checkpoints are written by
            # rank 0); other ranks get distinct, reproducible streams.
            seed = (runner.seed or 0) + 1000003 * runner.iter + runner.rank
            torch.manual_seed(seed)
            np.random.seed(seed % 2**32)
            random.seed(seed)
        print_log(f'Restored random generator states at iteration '
                  f'{runner.iter}.', logger='current')
