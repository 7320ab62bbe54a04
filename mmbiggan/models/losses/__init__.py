from .gan_loss import GANLoss
from .lecam import LeCamRegularization
from .ortho_reg import OrthogonalRegularization, ortho_reg_parameters

__all__ = [
    'GANLoss', 'LeCamRegularization', 'OrthogonalRegularization',
    'ortho_reg_parameters'
]
