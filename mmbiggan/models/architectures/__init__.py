from .base_generator import ConditionalGenerator
from .biggan import BigGANDiscriminator, BigGANGenerator
from .biggan_deep import BigGANDeepDiscriminator, BigGANDeepGenerator
from .sngan_proj import (ProjDiscriminator, SAGANDiscriminator,
                         SAGANGenerator, SNGANGenerator)

__all__ = [
    'ConditionalGenerator', 'BigGANGenerator', 'BigGANDiscriminator',
    'BigGANDeepGenerator', 'BigGANDeepDiscriminator', 'SNGANGenerator',
    'SAGANGenerator', 'ProjDiscriminator', 'SAGANDiscriminator'
]
