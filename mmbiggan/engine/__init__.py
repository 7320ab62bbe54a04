from .config_check import ConfigError, check_training_config
from .dist import (DistributedSetupError, init_distributed,
                   shutdown_distributed)
from .hooks import *  # noqa: F401,F403
from .loops import IterBasedTrainLoop
from .model_wrappers import SeparateDistributedDataParallel
from .optimizers import (AutocastOptimWrapper, GANOptimWrapperDict,
                         MultiOptimWrapperConstructor)
from .overrides import install_mmengine_overrides

__all__ = [
    'ConfigError', 'check_training_config', 'DistributedSetupError',
    'init_distributed', 'shutdown_distributed', 'IterBasedTrainLoop',
    'SeparateDistributedDataParallel',
    'AutocastOptimWrapper', 'GANOptimWrapperDict',
    'MultiOptimWrapperConstructor', 'install_mmengine_overrides'
]
