from .gan_loss import GANLoss
from .ortho_reg import OrthogonalRegularization, ortho_reg_parameters

__all__ = ['GANLoss', 'OrthogonalRegularization', 'ortho_reg_parameters']
