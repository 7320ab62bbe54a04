from .gan_loss import GANLoss
from .lecam import LeCamRegularization
from .mode_seeking import ModeSeekingLoss
from .ortho_reg import OrthogonalRegularization, ortho_reg_parameters

__all__ = [
    'GANLoss', 'LeCamRegularization', 'ModeSeekingLoss',
    'OrthogonalRegularization',
    'ortho_reg_parameters'
]
