"""Registries of mmbiggan, children of mmengine's root registries.

Every registry names the package where its components live (``locations``),
so ``type='BigGANGenerator'`` in a config resolves without importing
``mmbiggan.models`` by hand, as long as the config sets
``default_scope = 'mmbiggan'``.
"""
from mmengine import registry as mmengine_registry
from mmengine.registry import Registry

_ENGINE = ['mmbiggan.engine']
_EVALUATION = ['mmbiggan.evaluation']


def _child(name: str, scope: str, locations=()) -> Registry:
    """A child of mmengine's root registry ``name`` (e.g. ``'HOOKS'``)."""
    return Registry(scope, parent=getattr(mmengine_registry, name),
                    locations=list(locations))


RUNNERS = _child('RUNNERS', 'runner')
LOOPS = _child('LOOPS', 'loop', _ENGINE + _EVALUATION)
HOOKS = _child('HOOKS', 'hook', _ENGINE + _EVALUATION)
DATASETS = _child('DATASETS', 'dataset', ['mmbiggan.datasets'])
DATA_SAMPLERS = _child('DATA_SAMPLERS', 'data sampler', ['mmbiggan.datasets'])
TRANSFORMS = _child('TRANSFORMS', 'transform',
                    ['mmbiggan.datasets.transforms'])
FUNCTIONS = _child('FUNCTIONS', 'function', ['mmbiggan.datasets'])
MODELS = _child('MODELS', 'model', ['mmbiggan.models'])
MODEL_WRAPPERS = _child('MODEL_WRAPPERS', 'model_wrapper', _ENGINE)
OPTIMIZERS = _child('OPTIMIZERS', 'optimizer', _ENGINE)
OPTIM_WRAPPERS = _child('OPTIM_WRAPPERS', 'optim_wrapper', _ENGINE)
OPTIM_WRAPPER_CONSTRUCTORS = _child('OPTIM_WRAPPER_CONSTRUCTORS',
                                    'optimizer wrapper constructor', _ENGINE)
PARAM_SCHEDULERS = _child('PARAM_SCHEDULERS', 'parameter scheduler', _ENGINE)
METRICS = _child('METRICS', 'metric', _EVALUATION)
EVALUATOR = _child('EVALUATOR', 'evaluator', _EVALUATION)
VISUALIZERS = _child('VISUALIZERS', 'visualizer', _ENGINE)
VISBACKENDS = _child('VISBACKENDS', 'vis_backend', _ENGINE)
LOG_PROCESSORS = _child('LOG_PROCESSORS', 'log_processor', _ENGINE)
# Image feature extractors for the metrics of generated images, besides the
# two Inception weight files (``inception_args=dict(type=...)``).
FEATURE_EXTRACTORS = Registry(
    'feature extractor', locations=_EVALUATION)
