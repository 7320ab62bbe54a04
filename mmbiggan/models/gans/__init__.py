from .conditional_gan import BigGAN
from .data_preprocessor import GANDataPreprocessor
from .ema import copy_weights, update_ema

__all__ = ['BigGAN', 'GANDataPreprocessor', 'copy_weights', 'update_ema']
