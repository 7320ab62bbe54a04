"""Building a model from a config and loading a checkpoint into it, for the
demo, the apps and the test tool."""
import os.path as osp
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmbiggan.utils.checkpoint import (check_state_dict, extract_state_dict,
                                       load_checkpoint_file)


def default_device() -> str:
    """``'cuda'`` when a GPU is visible, else ``'cpu'``."""
    return 'cuda' if torch.cuda.is_available() else 'cpu'


def load_config(config: Union[str, Config],
                cfg_options: Optional[dict] = None) -> Config:
    """Read a config file (or take a Config), apply ``cfg_options`` and
    translate an MMGeneration or mmagic config (see
    :func:`mmbiggan.compat.translate_config`)."""
    from mmbiggan.compat import translate_config
    if isinstance(config, (str, bytes)):
        if not osp.isfile(config):
            raise FileNotFoundError(f'Config file not found: {config}')
        config = Config.fromfile(config)
    elif not isinstance(config, Config):
        raise TypeError('config must be a path or an mmengine Config, got '
                        f'{type(config).__name__}.')
    if cfg_options:
        config.merge_from_dict(cfg_options)
    # MMGeneration and mmagic configs (of converted checkpoints, say).
    config = translate_config(config, for_training=False)[0]
    if 'model' not in config:
        raise KeyError('The config defines no `model`.')
    return config


def check_device(device: Union[str, torch.device]) -> torch.device:
    """Reject devices this machine does not have, with the fix."""
    device = torch.device(device)
    if device.type == 'cuda':
        if not torch.cuda.is_available():
            raise RuntimeError(f'Device {device} was asked for but CUDA is '
                               'not available here; use --device cpu.')
        if device.index is not None and \
                device.index >= torch.cuda.device_count():
            raise RuntimeError(
                f'Device {device} was asked for but only '
                f'{torch.cuda.device_count()} GPU(s) are visible.')
    return device


def build_model(model_cfg, on_meta: bool = False) -> nn.Module:
    """Build a model config in the current scope; ``on_meta`` builds it on
    the meta device (no memory, no initialization), for loading weights
    with ``assign=True``."""
    from mmbiggan.registry import MODELS
    if on_meta:
        with torch.device('meta'):
            return MODELS.build(model_cfg)
    return MODELS.build(model_cfg)


def _has_meta_tensors(model: nn.Module) -> bool:
    """Whether anything in ``model`` still lives on the meta device after
    loading (tensors a checkpoint does not hold)."""
    for module in model.modules():
        for value in module.__dict__.values():
            if torch.is_tensor(value) and value.is_meta:
                return True
        if any(t.is_meta for t in module.parameters(recurse=False)) or any(
                t.is_meta for t in module.buffers(recurse=False)):
            return True
    return False


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: Union[str, torch.device, None] = None,
               cfg_options: Optional[dict] = None,
               strict: bool = True) -> nn.Module:
    """Build ``config.model`` and load ``checkpoint`` into it.

    The checkpoint is read with ``weights_only=True``; its keys and shapes
    are checked against the model first, and a mismatch raises
    :class:`mmbiggan.utils.CheckpointError` listing the differences.

    Returns:
        nn.Module: The model in eval mode on ``device`` (cuda if available
        by default), with the config attached as ``model.cfg``.
    """
    device = check_device(device if device is not None else default_device())
    config = load_config(config, cfg_options)
    init_default_scope(config.get('default_scope', 'mmbiggan'))
    if checkpoint is None:
        model = build_model(config.model)
    else:
        state_dict = extract_state_dict(load_checkpoint_file(checkpoint))
        model = build_model(config.model, on_meta=True)
        check_state_dict(model, state_dict, source=checkpoint, strict=strict)
        # The checkpoint supplies every value: assign its tensors instead
        # of initializing full-size networks first (seconds per network).
        model.load_state_dict(state_dict, strict=strict, assign=True)
        if _has_meta_tensors(model):
            model = build_model(config.model)
            model.load_state_dict(state_dict, strict=strict)
    model.cfg = config
    return model.to(device).eval()

