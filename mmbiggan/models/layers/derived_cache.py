"""Tensors derived from frozen weights (spectrally normalized weights,
folded kernels, folded batch-norm maps), computed once and reused while
sampling.

A derived tensor is only reused when three things hold (see
:func:`weights_frozen`): the module is in eval mode, no autograd graph is
wanted through it, and it is not being traced (``torch.compile``,
``torch.jit.trace``), whose graphs must contain the computation. Otherwise
the layers compute everything afresh, exactly as without a cache.

A cached value is recomputed when any source tensor is replaced (another
object or another storage) or modified in place (its version counter), or
when the inference-mode state differs. Writes through ``tensor.data``
bypass version counters (mmengine's EMA, hand-written EMA loops, parameter
swaps); they happen in training, and every ``train()`` / ``eval()`` call
clears the caches (:class:`DerivedCacheMixin`), so code that switches to
eval mode before sampling always sees the current weights. After writing
through ``.data`` while staying in eval mode, call ``model.eval()`` again.
"""
import weakref
from typing import Callable, Sequence

import torch
import torch.nn as nn


def weights_frozen(module: nn.Module, *tensors: torch.Tensor) -> bool:
    """Whether tensors derived from ``tensors`` may be computed once and
    reused: ``module`` in eval mode, no autograd graph wanted through them,
    not being traced by ``torch.compile`` or ``torch.jit.trace``."""
    if module.training or torch.compiler.is_compiling() or \
            torch.jit.is_tracing():
        return False
    return not (torch.is_grad_enabled()
                and any(t.requires_grad for t in tensors))


class DerivedTensorCache:
    """One value computed from some tensors, reused while every source is
    the same tensor object (held by weak reference, so a replaced weight is
    never mistaken for its predecessor) on the same storage at the same
    in-place version, and the extra key is equal.

    It is not state: copies, pickles and deep copies of the owning module
    start empty, and :class:`DerivedCacheMixin` clears it when the module
    is moved, cast or switched between train and eval.
    """

    def __init__(self):
        self.clear()

    def clear(self):
        self._key = self._refs = self._value = None

    def get(self, sources: Sequence[torch.Tensor], extra_key,
            compute: Callable[[], object]):
        """``compute()``, or its stored result while the sources and
        ``extra_key`` are unchanged."""
        if any(t.is_inference() for t in sources):
            # Inference tensors have no version counter to watch.
            return compute()
        key = (extra_key, torch.is_inference_mode_enabled(),
               tuple((t._version, t.data_ptr()) for t in sources))
        refs = self._refs
        if refs is None or key != self._key or len(refs) != len(sources) \
                or any(r() is not t for r, t in zip(refs, sources)):
            self._value = _full_precision(compute, sources)
            self._key = key
            self._refs = tuple(weakref.ref(t) for t in sources)
        return self._value

    def __reduce__(self):
        # Copies and pickles (deep copies for EMA, torch.save of a whole
        # module) start empty rather than carrying tensors along.
        return DerivedTensorCache, ()


def _full_precision(compute: Callable[[], object],
                    sources: Sequence[torch.Tensor]):
    """``compute()`` with autocast off: a value kept for later calls must
    not depend on whether the first call ran under autocast (which would
    leave, say, a bfloat16-rounded kernel in float32 sampling). Autocast
    still casts the kept weights where they are used."""
    device = sources[0].device.type if sources else 'cpu'
    if device in ('cpu', 'cuda') and torch.is_autocast_enabled(device):
        with torch.autocast(device, enabled=False):
            return compute()
    return compute()


class DerivedCacheMixin:
    """For modules holding :class:`DerivedTensorCache` attributes: clears
    them on every ``train()`` / ``eval()`` call (see the module docstring
    for why) and when the module is moved or cast (``_apply``; the keys
    would catch the new storages, but clearing frees the stale tensors,
    e.g. GPU memory after ``.cpu()``, at once)."""

    def clear_derived_caches(self):
        for value in vars(self).values():
            if isinstance(value, DerivedTensorCache):
                value.clear()

    def _apply(self, fn, *args, **kwargs):
        self.clear_derived_caches()
        return super()._apply(fn, *args, **kwargs)

    def train(self, mode: bool = True):
        self.clear_derived_caches()
        return super().train(mode)
