from .architectures import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .augment import *  # noqa: F401,F403
from .gans import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .folding import fold_for_inference  # noqa: F401
