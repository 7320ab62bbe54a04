"""Registries of mmbiggan, children of mmengine's root registries.

Every registry names the package where its components live (``locations``),
so ``type='BigGANGenerator'`` in a config resolves without importing
``mmbiggan.models`` by hand, as long as the config sets
``default_scope = 'mmbiggan'``.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import Registry

RUNNERS = Registry('runner', parent=MMENGINE_RUNNERS)
LOOPS = Registry(
    'loop',
    parent=MMENGINE_LOOPS,
    locations=['mmbiggan.engine', 'mmbiggan.evaluation'])
HOOKS = Registry(
    'hook',
    parent=MMENGINE_HOOKS,
    locations=['mmbiggan.engine', 'mmbiggan.evaluation'])
DATASETS = Registry(
    'dataset', parent=MMENGINE_DATASETS, locations=['mmbiggan.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler',
    parent=MMENGINE_DATA_SAMPLERS,
    locations=['mmbiggan.datasets'])
TRANSFORMS = Registry(
    'transform',
    parent=MMENGINE_TRANSFORMS,
    locations=['mmbiggan.datasets.transforms'])
FUNCTIONS = Registry(
    'function', parent=MMENGINE_FUNCTIONS, locations=['mmbiggan.datasets'])
MODELS = Registry(
    'model', parent=MMENGINE_MODELS, locations=['mmbiggan.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper',
    parent=MMENGINE_MODEL_WRAPPERS,
    locations=['mmbiggan.engine'])
OPTIMIZERS = Registry(
    'optimizer', parent=MMENGINE_OPTIMIZERS, locations=['mmbiggan.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper',
    parent=MMENGINE_OPTIM_WRAPPERS,
    locations=['mmbiggan.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['mmbiggan.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMENGINE_PARAM_SCHEDULERS,
    locations=['mmbiggan.engine'])
METRICS = Registry(
    'metric', parent=MMENGINE_METRICS, locations=['mmbiggan.evaluation'])
EVALUATOR = Registry(
    'evaluator', parent=MMENGINE_EVALUATOR, locations=['mmbiggan.evaluation'])
VISUALIZERS = Registry(
    'visualizer',
    parent=MMENGINE_VISUALIZERS,
    locations=['mmbiggan.engine'])
VISBACKENDS = Registry(
    'vis_backend',
    parent=MMENGINE_VISBACKENDS,
    locations=['mmbiggan.engine'])
LOG_PROCESSORS = Registry(
    'log_processor',
    parent=MMENGINE_LOG_PROCESSORS,
    locations=['mmbiggan.engine'])
# Image feature extractors for the metrics of generated images, besides the
# two Inception weight files (``inception_args=dict(type=...)``).
FEATURE_EXTRACTORS = Registry(
    'feature extractor', locations=['mmbiggan.evaluation'])
