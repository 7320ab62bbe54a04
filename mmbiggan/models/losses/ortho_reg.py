"""BigGAN's modified orthogonal regularization."""
from typing import Iterator

import torch
import torch.nn as nn

from mmbiggan.registry import MODELS


def ortho_reg_parameters(module: nn.Module) -> Iterator[nn.Parameter]:
    """The weights the regularizer applies to: every parameter with two or
    more dimensions outside embedding tables (the shared class embedding,
    per-class batch-norm tables), whose rows are not directions to
    decorrelate. Biases and gains are 0-d or 1-d and drop out."""
    skip = set()
    for layer in module.modules():
        if isinstance(layer, nn.Embedding):
            skip.update(id(p) for p in layer.parameters(recurse=False))
    for param in module.parameters():
        if param.dim() >= 2 and id(param) not in skip and param.requires_grad:
            yield param


@MODELS.register_module()
class OrthogonalRegularization(nn.Module):
    """Penalize the off-diagonal entries of ``W W^T`` (Brock et al., 2019,
    Sec. 3.1) for every weight of ``ortho_reg_parameters``, ``W`` being the
    weight viewed as ``[out, in]``.

    The value is ``loss_weight / 2 * sum ||(W W^T) * (1 - I)||_F^2``. Its
    gradient, ``loss_weight * 2 * ((W W^T) * (1 - I)) W``, is exactly what
    BigGAN-PyTorch's ``utils.ortho`` adds to ``W.grad``; the paper's
    ``beta * ||.||_F^2`` would give twice that. Written as a loss it goes
    through loss scaling under mixed precision like every other term, and
    it is computed in float32 (or the weights' higher precision).

    Args:
        loss_weight (float): ``strength`` of BigGAN-PyTorch (``G_ortho``);
            1e-4 in the paper.
    """

    def __init__(self, loss_weight: float = 1e-4):
        super().__init__()
        if loss_weight <= 0:
            raise ValueError('OrthogonalRegularization needs loss_weight > 0; '
                             'set ortho_reg=None to disable it.')
        self.loss_weight = loss_weight

    def extra_repr(self) -> str:
        return f'loss_weight={self.loss_weight}'

    def forward(self, module: nn.Module) -> torch.Tensor:
        """The penalty (0-d tensor, at least float32) of ``module``'s weights."""
        terms = []
        for param in ortho_reg_parameters(module):
            # Autocast would run the Gram matrix in half precision.
            with torch.autocast(param.device.type, enabled=False):
                w = param.to(torch.promote_types(param.dtype, torch.float32))
                w = w.reshape(param.shape[0], -1)
                gram = w @ w.t()
                off_diagonal = gram - torch.diag_embed(torch.diagonal(gram))
                terms.append(off_diagonal.square().sum())
        if not terms:
            raise ValueError(f'{type(module).__name__} has no weight matrix '
                             'for the orthogonal regularizer.')
        return torch.stack(terms).sum() * (self.loss_weight / 2)
