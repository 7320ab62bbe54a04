"""Spectral normalization, in the two styles BigGAN users meet.

``style='ajbrock'`` follows BigGAN-PyTorch: buffers ``u{i}`` of shape
``[1, out]`` and ``sv{i}`` of shape ``[1]`` for each of ``num_svs`` singular
values. Every forward runs the power iteration from the stored ``u``; in
training the new ``u`` and ``sv`` are written back, in eval they are not (so
eval still performs one iteration step, without side effects).

``style='torch'`` follows ``torch.nn.utils.spectral_norm``: buffers ``u``
``[out]`` and ``v`` ``[in]``. Training runs ``num_iters`` power iterations
that update ``u`` and ``v`` in place; eval uses the stored pair without
iterating. ``sigma = u . (W v)`` in both modes.

In both styles the gradient flows through ``W`` in ``sigma`` but not through
the singular vectors, as in the references. Sampling bakes the normalized
weights once instead (:func:`mmbiggan.models.fold_for_inference`).
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .upsampling import upsample_nearest

SN_STYLES = ('ajbrock', 'torch')


def _project_out(x: torch.Tensor, basis: list) -> torch.Tensor:
    """Gram-Schmidt: remove from the row vector ``x`` its components along
    each row vector in ``basis``."""
    for y in basis:
        x = x - torch.mm(y, x.t()) * y / torch.mm(y, y.t())
    return x


class SpectralNorm(nn.Module):
    """Power-iteration state of one weight matrix and its normalization.

    The weight of shape ``[out, ...]`` is viewed as an ``[out, in]`` matrix,
    ``in`` being the product of the remaining dimensions.

    Args:
        num_outputs (int): Rows of the weight matrix (``out``).
        num_inputs (int): Columns of the weight matrix (``in``).
        style (str): ``'ajbrock'`` or ``'torch'`` (see the module docstring).
        eps (float): Epsilon of the vector normalizations.
        num_iters (int): Power iterations per training forward.
        num_svs (int): Singular values tracked (``'ajbrock'`` only); the
            weight is divided by the first.
    """

    def __init__(self,
                 num_outputs: int,
                 num_inputs: int,
                 style: str = 'ajbrock',
                 eps: float = 1e-6,
                 num_iters: int = 1,
                 num_svs: int = 1):
        super().__init__()
        if style not in SN_STYLES:
            raise ValueError(f'Unknown spectral-norm style {style!r}; '
                             f'choose one of {SN_STYLES}.')
        if style == 'torch' and num_svs != 1:
            raise ValueError("sn_style='torch' tracks one singular value; "
                             'num_svs must be 1.')
        if num_iters < 1:
            raise ValueError(f'num_iters must be >= 1, got {num_iters}.')
        self.style = style
        self.eps = eps
        self.num_iters = num_iters
        self.num_svs = num_svs
        if style == 'ajbrock':
            for i in range(num_svs):
                self.register_buffer(f'u{i}', torch.randn(1, num_outputs))
                self.register_buffer(f'sv{i}', torch.ones(1))
        else:
            self.register_buffer(
                'u', F.normalize(torch.randn(num_outputs), dim=0, eps=eps))
            self.register_buffer(
                'v', F.normalize(torch.randn(num_inputs), dim=0, eps=eps))

    def extra_repr(self) -> str:
        return (f'style={self.style!r}, eps={self.eps}, '
                f'num_iters={self.num_iters}, num_svs={self.num_svs}')

    def _vectors(self) -> list:
        if self.style == 'ajbrock':
            return [getattr(self, f'u{i}') for i in range(self.num_svs)]
        return [self.u, self.v]

    def sigma(self, weight: torch.Tensor) -> torch.Tensor:
        """The estimated largest singular value of ``weight`` (0-d tensor),
        updating the stored vectors when in training mode."""
        matrix = weight.reshape(weight.shape[0], -1)
        if self.style == 'ajbrock':
            return self._sigma_ajbrock(matrix)
        return self._sigma_torch(matrix)

    def _sigma_ajbrock(self, matrix: torch.Tensor) -> torch.Tensor:
        stored_us = self._vectors()
        # Without write-back every iteration restarts from the stored u, so
        # extra iterations in eval would repeat the same step.
        num_iters = self.num_iters if self.training else 1
        for _ in range(num_iters):
            us, vs, svs = [], [], []
            for i, stored_u in enumerate(stored_us):
                with torch.no_grad():
                    v = torch.matmul(stored_u, matrix)
                    v = F.normalize(_project_out(v, vs), eps=self.eps)
                    vs.append(v)
                    u = torch.matmul(v, matrix.t())
                    u = F.normalize(_project_out(u, us), eps=self.eps)
                    us.append(u)
                    if self.training:
                        stored_u.copy_(u)
                svs.append(
                    torch.squeeze(
                        torch.matmul(torch.matmul(v, matrix.t()), u.t())))
        if self.training:
            with torch.no_grad():
                for i, sv in enumerate(svs):
                    getattr(self, f'sv{i}').copy_(sv.reshape(1))
        return svs[0]

    def _sigma_torch(self, matrix: torch.Tensor) -> torch.Tensor:
        u, v = self.u, self.v
        if self.training:
            with torch.no_grad():
                for _ in range(self.num_iters):
                    v = F.normalize(
                        torch.mv(matrix.t(), u), dim=0, eps=self.eps, out=v)
                    u = F.normalize(
                        torch.mv(matrix, v), dim=0, eps=self.eps, out=u)
            # The stored vectors were updated in place; autograd needs copies.
            u = u.clone(memory_format=torch.contiguous_format)
            v = v.clone(memory_format=torch.contiguous_format)
        return torch.dot(u, torch.mv(matrix, v))

    @torch.no_grad()
    def reset_vectors(self, weight: torch.Tensor, num_iters: int = 15):
        """Bring the stored vectors near the top singular pair of
        ``weight`` with ``num_iters`` power iterations (as
        ``torch.nn.utils.parametrizations.spectral_norm`` does when it is
        registered), so a fresh model starts with a usable sigma. Weights
        on the meta device have no values to iterate on and are skipped."""
        if weight.is_meta:
            return
        matrix = weight.reshape(weight.shape[0], -1)
        if self.style == 'torch':
            for _ in range(num_iters):
                self.v.copy_(F.normalize(matrix.t() @ self.u, dim=0,
                                         eps=self.eps))
                self.u.copy_(F.normalize(matrix @ self.v, dim=0,
                                         eps=self.eps))
            return
        for _ in range(num_iters):
            us, vs = [], []
            for stored_u in self._vectors():
                v = F.normalize(_project_out(stored_u @ matrix, vs),
                                eps=self.eps)
                vs.append(v)
                u = F.normalize(_project_out(v @ matrix.t(), us),
                                eps=self.eps)
                us.append(u)
                stored_u.copy_(u)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        """Return ``weight / sigma`` (same shape as ``weight``)."""
        return weight / self.sigma(weight)


def _make_sn(num_outputs: int, num_inputs: int,
             sn_cfg: Optional[dict]) -> Optional[SpectralNorm]:
    if sn_cfg is None:
        return None
    return SpectralNorm(num_outputs, num_inputs, **sn_cfg)


class SNConv2d(nn.Conv2d):
    """``nn.Conv2d`` whose weight is spectrally normalized when ``sn_cfg``
    (keyword arguments of :class:`SpectralNorm` without the sizes) is given.

    Shapes: ``[N, in, H, W] -> [N, out, H', W']``.
    """

    def __init__(self, *args, sn_cfg: Optional[dict] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sn = _make_sn(self.weight.shape[0],
                           self.weight[0].numel(), sn_cfg)

    def normalized_weight(self) -> torch.Tensor:
        return self.weight if self.sn is None else self.sn(self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.normalized_weight(), self.bias)

    def forward_upsampled(self, x: torch.Tensor) -> torch.Tensor:
        """``self(upsample_nearest(x))``; a 1x1 convolution (stride 1, no
        padding) runs before the upsampling, which it commutes with.
        (:func:`mmbiggan.models.fold_for_inference` turns a 3x3 one into a
        sub-pixel convolution for sampling.)

        Shapes: ``[N, in, H, W] -> [N, out, 2H, 2W]``.
        """
        if self.kernel_size == (1, 1) and self.stride == (1, 1) and \
                self.padding == (0, 0):
            return upsample_nearest(self(x))
        return self(upsample_nearest(x))


class SNLinear(nn.Linear):
    """``nn.Linear`` with optional spectral normalization (see
    :class:`SNConv2d`). Shapes: ``[N, in] -> [N, out]``."""

    def __init__(self, *args, sn_cfg: Optional[dict] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sn = _make_sn(self.out_features, self.in_features, sn_cfg)

    def normalized_weight(self) -> torch.Tensor:
        return self.weight if self.sn is None else self.sn(self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.normalized_weight(), self.bias)


class SNEmbedding(nn.Embedding):
    """``nn.Embedding`` with optional spectral normalization of the whole
    ``[num_embeddings, dim]`` table (rows are the outputs, as in
    BigGAN-PyTorch). Shapes: ``[N] (int64) -> [N, dim]``; a float ``[N,
    num_embeddings]`` input (soft or mixed one-hot labels) is multiplied with
    the table instead of indexing it."""

    def __init__(self, *args, sn_cfg: Optional[dict] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sn = _make_sn(self.num_embeddings, self.embedding_dim, sn_cfg)

    def normalized_weight(self) -> torch.Tensor:
        return self.weight if self.sn is None else self.sn(self.weight)

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        return embed_labels(labels, self.normalized_weight())


def embed_labels(labels: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Look up ``table`` ``[num_classes, dim]`` for int labels ``[N]``, or
    mix its rows for float class vectors ``[N, num_classes]``."""
    if labels.is_floating_point():
        if labels.dim() != 2 or labels.shape[1] != table.shape[0]:
            raise ValueError(
                'A float label must be a class vector of shape [N, '
                f'{table.shape[0]}], got {tuple(labels.shape)}.')
        return labels.to(table.dtype) @ table
    return F.embedding(labels, table)


def spectral_norm_modules(module: nn.Module):
    """Yield ``(layer, SpectralNorm)`` for every normalized layer."""
    for layer in module.modules():
        sn = getattr(layer, 'sn', None)
        if isinstance(sn, SpectralNorm):
            yield layer, sn


def reset_spectral_norm_vectors(module: nn.Module, num_iters: int = 15):
    """Bring every stored singular vector in ``module`` near the top singular
    pair of its weight (what ``torch.nn.utils.parametrizations.spectral_norm``
    does at registration), so a fresh model starts with a usable sigma."""
    for layer, sn in spectral_norm_modules(module):
        sn.reset_vectors(layer.weight, num_iters)
