from .base_generator import ConditionalGenerator
from .biggan import BigGANDiscriminator, BigGANGenerator
from .biggan_deep import BigGANDeepDiscriminator, BigGANDeepGenerator

__all__ = [
    'ConditionalGenerator', 'BigGANGenerator', 'BigGANDiscriminator',
    'BigGANDeepGenerator', 'BigGANDeepDiscriminator'
]
