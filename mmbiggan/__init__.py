"""mmbiggan: class-conditional GANs of the BigGAN family on mmengine."""
from .version import __version__

__all__ = ['__version__']
