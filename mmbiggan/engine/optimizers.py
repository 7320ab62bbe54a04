"""Optimizer wrappers of GAN training: one per network, built from one
config, counting accumulation steps the way the GAN's schedule needs."""
import difflib
from contextlib import contextmanager
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.optim import (DefaultOptimWrapperConstructor, OptimWrapper,
                            OptimWrapperDict)
from mmengine.registry import DefaultScope

from mmbiggan.models.sampling import unwrap_model
from mmbiggan.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS


class GANOptimWrapperDict(OptimWrapperDict):
    """:class:`OptimWrapperDict` that keeps each wrapper's accumulation
    counter in step with the runner (mmengine's leaves them at 0, so after a
    resume accumulation windows would shift).

    The discriminator's wrapper counts one batch per runner iteration. The
    generator's counts its own micro-steps: ``generator_steps *
    accumulative_counts`` per generator cycle of the model.
    """

    def initialize_count_status(self, model: nn.Module, cur_iter: int,
                                max_iters: int) -> None:
        model = unwrap_model(model)
        for name, wrapper in self.optim_wrappers.items():
            network = unwrap_model(getattr(model, name))
            if name == 'generator' and hasattr(model, 'generator_cycle'):
                cycles_done = cur_iter // model.generator_cycle(self)
                micro_steps = model.generator_steps * \
                    wrapper._accumulative_counts
                # No end-of-training remainder: every update is complete.
                wrapper.initialize_count_status(
                    network, cycles_done * micro_steps, -1)
            else:
                wrapper.initialize_count_status(network, cur_iter, max_iters)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MultiOptimWrapperConstructor:
    """Build one optimizer wrapper per sub-network of a GAN.

    Example::

        optim_wrapper = dict(
            constructor='MultiOptimWrapperConstructor',
            generator=dict(
                optimizer=dict(type='Adam', lr=1e-4, betas=(0.0, 0.999)),
                accumulative_counts=8),
            discriminator=dict(
                optimizer=dict(type='Adam', lr=4e-4, betas=(0.0, 0.999))))

    Each entry names a sub-module of the model and is an ordinary mmengine
    optimizer-wrapper config (``type``, ``optimizer``,
    ``accumulative_counts``, ``clip_grad``, ``paramwise_cfg``), built with
    :class:`DefaultOptimWrapperConstructor`.

    Returns:
        GANOptimWrapperDict: The wrappers under the same names.
    """

    def __init__(self, optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None):
        if not isinstance(optim_wrapper_cfg, dict) or not optim_wrapper_cfg:
            raise TypeError('optim_wrapper for MultiOptimWrapperConstructor '
                            'must map sub-network names (generator, '
                            'discriminator) to optimizer wrapper configs.')
        if paramwise_cfg is not None:
            raise ValueError('Put paramwise_cfg inside the generator or '
                             'discriminator entry of optim_wrapper.')
        for name, cfg in optim_wrapper_cfg.items():
            if not isinstance(cfg, dict) or 'optimizer' not in cfg:
                raise ValueError(
                    f'optim_wrapper.{name} must be a dict with an "optimizer"'
                    f', got {cfg!r}.')
        self.optim_wrapper_cfg = optim_wrapper_cfg

    def __call__(self, model: nn.Module) -> GANOptimWrapperDict:
        model = unwrap_model(model)
        wrappers = {}
        for name, cfg in self.optim_wrapper_cfg.items():
            network = getattr(model, name, None)
            if not isinstance(network, nn.Module):
                modules = [n for n, _ in model.named_children()]
                hint = difflib.get_close_matches(name, modules, n=1)
                raise KeyError(
                    f'optim_wrapper.{name}: {type(model).__name__} has no '
                    f'sub-network {name!r}' +
                    (f'; did you mean {hint[0]!r}?' if hint else
                     f'; it has {modules}.'))
            cfg = dict(cfg)
            paramwise_cfg = cfg.pop('paramwise_cfg', None)
            # mmbiggan's wrappers (AutocastOptimWrapper) also without a
            # Runner setting the scope.
            with DefaultScope.overwrite_default_scope('mmbiggan'):
                wrappers[name] = DefaultOptimWrapperConstructor(
                    cfg, paramwise_cfg)(network)
        return GANOptimWrapperDict(**wrappers)


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """Mixed-precision training on any device.

    The forward passes inside :meth:`optim_context` run under
    ``torch.autocast``: float16 with dynamic loss scaling on CUDA, bfloat16
    (no scaling needed) on the CPU by default. mmengine's
    ``AmpOptimWrapper`` refuses to run without a GPU.

    Args:
        dtype (str | torch.dtype, optional): ``'float16'`` or
            ``'bfloat16'``; None picks by device as above.
        loss_scale (str | float | dict): For float16: ``'dynamic'``, a
            fixed scale, or ``torch.amp.GradScaler`` arguments.
        **kwargs: :class:`OptimWrapper` arguments (``optimizer``,
            ``accumulative_counts``, ``clip_grad``).
    """

    def __init__(self,
                 dtype: Union[str, torch.dtype, None] = None,
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 **kwargs):
        super().__init__(**kwargs)
        params = [p for group in self.optimizer.param_groups
                  for p in group['params']]
        self.device_type = params[0].device.type if params else 'cpu'
        if dtype is None:
            dtype = torch.float16 if self.device_type == 'cuda' else \
                torch.bfloat16
        if isinstance(dtype, str):
            if dtype not in ('float16', 'bfloat16'):
                raise ValueError("AutocastOptimWrapper dtype must be "
                                 f"'float16' or 'bfloat16', got {dtype!r}.")
            dtype = getattr(torch, dtype)
        self.cast_dtype = dtype
        self.loss_scaler = None
        if dtype == torch.float16:
            if loss_scale == 'dynamic':
                scaler_args = {}
            elif isinstance(loss_scale, (int, float)):
                scaler_args = dict(init_scale=float(loss_scale),
                                   growth_interval=2**31 - 1)
            elif isinstance(loss_scale, dict):
                scaler_args = dict(loss_scale)
            else:
                raise TypeError('loss_scale must be "dynamic", a number or a '
                                f'dict, got {loss_scale!r}.')
            self.loss_scaler = torch.amp.GradScaler(self.device_type,
                                                    **scaler_args)

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        if self.loss_scaler is not None:
            loss = self.loss_scaler.scale(loss)
        loss.backward(**kwargs)
        self._inner_count += 1

    def step(self, **kwargs) -> None:
        if self.loss_scaler is None:
            return super().step(**kwargs)
        if self.clip_grad_kwargs:
            self.loss_scaler.unscale_(self.optimizer)
            self._clip_grad()
        self.loss_scaler.step(self.optimizer, **kwargs)
        self.loss_scaler.update()

    def state_dict(self) -> dict:
        state = super().state_dict()
        if self.loss_scaler is not None:
            state['loss_scaler'] = self.loss_scaler.state_dict()
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        scaler_state = state_dict.pop('loss_scaler', None)
        if scaler_state is not None and self.loss_scaler is not None:
            self.loss_scaler.load_state_dict(scaler_state)
        super().load_state_dict(state_dict)

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), torch.autocast(
                self.device_type, dtype=self.cast_dtype):
            yield
