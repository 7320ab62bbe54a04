"""Checking a training config before anything is built, so a typo ends in
one line naming the key and the closest valid name instead of a traceback
from deep inside a constructor."""
import difflib
import inspect
from typing import Iterable, Optional

from mmengine.config import Config
from mmengine.registry import Registry, init_default_scope

from mmbiggan import registry as mmbiggan_registry

# Top-level keys the Runner (or tools/train.py) reads.
RUNNER_KEYS = (
    'model', 'work_dir', 'train_dataloader', 'val_dataloader',
    'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr',
    'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator',
    'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from',
    'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level',
    'visualizer', 'default_scope', 'randomness', 'experiment_name',
    'model_wrapper_cfg', 'runner_type', 'compile', 'strategy', 'cfg',
    'dist_cfg', 'find_unused_parameters', 'sync_bn', 'custom_imports',
    # Read by tools/train.py (mmbiggan.engine.install_mmengine_overrides).
    'mmengine_overrides')


class ConfigError(ValueError):
    """A config names something that does not exist."""


def _suggest(name: str, candidates: Iterable[str]) -> str:
    hint = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f'; did you mean {hint[0]!r}?' if hint else ''


def _registry_names(registry: Registry) -> set:
    names = set()
    while registry is not None:
        registry.import_from_location()
        names.update(registry.module_dict)
        registry = registry.parent
    return names


def check_component(cfg, registry: Registry, where: str):
    """Check that ``cfg['type']`` is registered in ``registry`` and that
    every other key is an argument of that class; raise
    :class:`ConfigError` naming ``where`` (e.g. ``model.generator``)."""
    if not isinstance(cfg, dict) or 'type' not in cfg:
        return
    type_name = cfg['type']
    if not isinstance(type_name, str):
        return
    target = registry.get(type_name)
    if target is None:
        raise ConfigError(
            f'{where}: unknown {registry.name} type {type_name!r}' +
            _suggest(type_name, _registry_names(registry)))
    init = target.__init__ if inspect.isclass(target) else target
    try:
        params = inspect.signature(init).parameters
    except (TypeError, ValueError):
        return
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return
    for key in cfg:
        if key not in params and key not in ('type', '_scope_'):
            raise ConfigError(
                f'{where}: {type_name} has no argument {key!r}' +
                _suggest(key, [k for k in params if k != 'self']))


def _check_nested(cfg, registry: Registry, where: str, nested: dict):
    """Check ``cfg`` and its sub-configs named in ``nested`` (key ->
    registry)."""
    check_component(cfg, registry, where)
    if not isinstance(cfg, dict):
        return
    for key, sub_registry in nested.items():
        sub_cfg = cfg.get(key)
        if isinstance(sub_cfg, dict):
            check_component(sub_cfg, sub_registry, f'{where}.{key}')


def check_training_config(cfg: Config,
                          extra_keys: Optional[Iterable[str]] = ()):
    """Raise :class:`ConfigError` for misspelt top-level keys and for
    unknown types or arguments of the model, its networks and losses, the
    datasets and their pipelines, hooks, optimizers and the training loop.

    Top-level names that resemble no Runner key are taken as the config's
    own variables (``data_root``, ``train_pipeline``) and left alone.
    """
    init_default_scope(cfg.get('default_scope', 'mmbiggan'))
    known = set(RUNNER_KEYS) | set(extra_keys)
    for key in cfg.keys():
        if key in known:
            continue
        hint = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
        if hint:
            raise ConfigError(f'Unknown config key {key!r}; did you mean '
                              f'{hint[0]!r}?')
    reg = mmbiggan_registry
    if 'model' not in cfg:
        raise ConfigError('The config defines no `model`.')
    _check_nested(
        cfg.model, reg.MODELS, 'model',
        dict(generator=reg.MODELS, discriminator=reg.MODELS,
             gan_loss=reg.MODELS, ortho_reg=reg.MODELS,
             augment=reg.MODELS, lecam_reg=reg.MODELS,
             mode_seeking=reg.MODELS,
             data_preprocessor=reg.MODELS))
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if not isinstance(loader, dict):
            continue
        dataset = loader.get('dataset')
        check_component(dataset, reg.DATASETS, f'{split}_dataloader.dataset')
        check_component(loader.get('sampler'), reg.DATA_SAMPLERS,
                        f'{split}_dataloader.sampler')
        if isinstance(dataset, dict):
            for index, step in enumerate(dataset.get('pipeline') or []):
                check_component(
                    step, reg.TRANSFORMS,
                    f'{split}_dataloader.dataset.pipeline[{index}]')
    default_hooks = cfg.get('default_hooks') or {}
    for name, hook in default_hooks.items():
        if isinstance(hook, dict) and 'type' not in hook:
            # mmengine replaces its default hook of this name by the entry.
            others = [k for k, v in default_hooks.items()
                      if isinstance(v, dict) and 'type' in v]
            hint = difflib.get_close_matches(name, others, n=1, cutoff=0.6)
            raise ConfigError(
                f'default_hooks.{name} has no type' +
                (f'; did you mean default_hooks.{hint[0]}?' if hint else
                 f"; give its type, e.g. type='{name.title()}Hook'."))
        check_component(hook, reg.HOOKS, f'default_hooks.{name}')
    for index, hook in enumerate(cfg.get('custom_hooks') or []):
        check_component(hook, reg.HOOKS, f'custom_hooks[{index}]')
    check_component(cfg.get('train_cfg'), reg.LOOPS, 'train_cfg')
    optim_wrapper = cfg.get('optim_wrapper')
    if not isinstance(optim_wrapper, dict):
        return
    constructor = optim_wrapper.get('constructor')
    if isinstance(constructor, str) and \
            reg.OPTIM_WRAPPER_CONSTRUCTORS.get(constructor) is None:
        raise ConfigError(
            f'optim_wrapper: unknown constructor {constructor!r}' +
            _suggest(constructor,
                     _registry_names(reg.OPTIM_WRAPPER_CONSTRUCTORS)))
    if constructor == 'MultiOptimWrapperConstructor':
        wrappers = {
            f'optim_wrapper.{name}': sub
            for name, sub in optim_wrapper.items() if isinstance(sub, dict)
        }
    else:
        wrappers = {'optim_wrapper': optim_wrapper}
    for where, sub in wrappers.items():
        check_component(sub, reg.OPTIM_WRAPPERS, where)
        check_component(sub.get('optimizer'), reg.OPTIMIZERS,
                        f'{where}.optimizer')
