"""Class-conditional batch normalization of the BigGAN family."""
import math
from typing import Optional, Tuple

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from .spectral_norm import SNEmbedding, SNLinear
from .truncation import check_truncation


def truncation_stat_rows(truncation: float,
                         num_stats: int) -> Tuple[int, float]:
    """Row index and blend weight of per-truncation BN statistics.

    pytorch-pretrained-biggan keeps ``num_stats`` rows of statistics for
    truncations ``0, 1/(n-1), ..., 1`` and, for a truncation between rows
    ``i`` and ``i+1``, uses ``row[i] * coef + row[i+1] * (1 - coef)`` where
    ``coef, i = modf(truncation / step)``. The weights are the reverse of a
    linear interpolation; they are reproduced here because the released
    statistics were used that way, float64 rounding of ``modf`` included.

    Returns:
        tuple: ``(i, coef)``; ``coef == 0`` means row ``i`` alone.
    """
    check_truncation(truncation, num_stats)
    coef, index = math.modf(truncation / (1.0 / (num_stats - 1)))
    return int(index), coef


class ConditionalBatchNorm2d(nn.Module):
    """Batch normalization whose affine transform depends on the sample.

    Exactly one conditioning applies:

    * ``cond_dim > 0``: ``gain = 1 + gain(c)``, ``bias = bias(c)`` with
      bias-free (spectrally normalized) linear maps of a condition vector
      ``c`` ``[N, cond_dim]`` (shared class embedding and noise chunk).
    * ``num_classes > 0``: the same with per-class embedding tables indexed
      by int labels ``[N]`` or mixed by float class vectors ``[N,
      num_classes]`` (BigGAN-PyTorch without shared embedding, SNGAN).
    * neither: an ordinary learnable per-channel ``weight`` and ``bias``.

    SNGAN's variants: ``residual_gain=False`` takes the gain as is
    (``gain = gain(c)``, tables initialized to ones), and ``norm_affine``
    adds an ordinary per-channel affine (``norm_weight``, ``norm_bias``)
    between the normalization and the conditional affine.

    Statistics are ``running_mean``/``running_var`` of shape ``[C]``, or
    ``[num_stats, C]`` for generators converted from pytorch-pretrained-biggan,
    whose statistics were recorded per truncation value (see
    :func:`truncation_stat_rows`). In training, batch statistics are used and
    the running statistics (the row of the given truncation, default 1.0)
    are updated with ``momentum``.

    Args:
        num_features (int): Channels ``C``.
        cond_dim (int): Size of the condition vector, 0 for none.
        num_classes (int): Classes of label-indexed conditioning, 0 for none.
        eps (float): Added to the variance.
        momentum (float): Running statistics update rate.
        num_stats (int): Rows of statistics, 1 for ordinary batch norm.
        sn_cfg (dict, optional): Spectral norm of the condition maps (the
            projections or the per-class tables).
        sync_stats (bool): Average batch statistics over all processes when
            ``torch.distributed`` is initialized (SyncBN).
        residual_gain (bool): Conditional gain ``1 + gain(c)`` (BigGAN) or
            ``gain(c)``.
        norm_affine (bool): Also learn a per-channel affine before the
            conditional one (MMGeneration's ``use_norm_affine``); an
            unconditional batch norm always has its affine.

    Shapes: ``x`` ``[N, C, H, W]`` -> ``[N, C, H, W]``.
    """

    def __init__(self,
                 num_features: int,
                 cond_dim: int = 0,
                 num_classes: int = 0,
                 eps: float = 1e-5,
                 momentum: float = 0.1,
                 num_stats: int = 1,
                 sn_cfg: Optional[dict] = None,
                 sync_stats: bool = False,
                 residual_gain: bool = True,
                 norm_affine: bool = False):
        super().__init__()
        if cond_dim and num_classes:
            raise ValueError('Give cond_dim (projected condition vector) or '
                             'num_classes (per-class tables), not both.')
        if num_stats < 1:
            raise ValueError(f'num_stats must be >= 1, got {num_stats}.')
        if num_classes and not residual_gain and sn_cfg is not None:
            raise ValueError('residual_gain=False starts the bias table at '
                             'zero, which spectral norm cannot normalize '
                             '(0 / 0); give sn_cfg=None or residual_gain='
                             'True.')
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.num_stats = num_stats
        self.sync_stats = sync_stats
        self.conditional = bool(cond_dim or num_classes)
        self.residual_gain = residual_gain
        if cond_dim:
            self.gain = SNLinear(
                cond_dim, num_features, bias=False, sn_cfg=sn_cfg)
            self.bias = SNLinear(
                cond_dim, num_features, bias=False, sn_cfg=sn_cfg)
        elif num_classes:
            self.gain = SNEmbedding(num_classes, num_features, sn_cfg=sn_cfg)
            self.bias = SNEmbedding(num_classes, num_features, sn_cfg=sn_cfg)
            if not residual_gain:
                nn.init.ones_(self.gain.weight)
                nn.init.zeros_(self.bias.weight)
        else:
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
        if norm_affine and self.conditional:
            self.norm_weight = nn.Parameter(torch.ones(num_features))
            self.norm_bias = nn.Parameter(torch.zeros(num_features))
        else:
            self.norm_weight = self.norm_bias = None
        stats_shape = (num_features, ) if num_stats == 1 else (
            num_stats, num_features)
        self.register_buffer('running_mean', torch.zeros(stats_shape))
        self.register_buffer('running_var', torch.ones(stats_shape))

    def extra_repr(self) -> str:
        return (f'{self.num_features}, eps={self.eps}, '
                f'momentum={self.momentum}, num_stats={self.num_stats}')

    def _stored_stats(self, truncation: Optional[float]):
        if self.num_stats == 1:
            return self.running_mean, self.running_var
        index, coef = truncation_stat_rows(
            1.0 if truncation is None else truncation, self.num_stats)
        if coef == 0.0:
            return self.running_mean[index], self.running_var[index]
        mean = (self.running_mean[index] * coef +
                self.running_mean[index + 1] * (1 - coef))
        var = (self.running_var[index] * coef +
               self.running_var[index + 1] * (1 - coef))
        return mean, var

    def _stats_to_update(self, truncation: Optional[float]):
        if self.num_stats == 1:
            return self.running_mean, self.running_var
        index, _ = truncation_stat_rows(
            1.0 if truncation is None else truncation, self.num_stats)
        return self.running_mean[index], self.running_var[index]

    def statistics_affine(self, truncation: Optional[float]):
        """The eval-mode normalization as a per-channel ``x * factor +
        offset`` (stored statistics, epsilon and the ``norm_affine`` affine
        folded), before the conditional gain: the layer's output is
        ``x * gain * factor + (bias + gain * offset)``.

        Returns:
            tuple: ``factor`` and ``offset``, each ``[C]``.
        """
        mean, var = self._stored_stats(truncation)
        factor = torch.rsqrt(var + self.eps)
        if self.norm_weight is None:
            return factor, -mean * factor
        factor = factor * self.norm_weight
        return factor, self.norm_bias - mean * factor

    def eval_affine_map(self, truncation: Optional[float]):
        """The eval-mode scale and shift as an affine map of the condition:
        ``[scale, shift] = constant + cond @ table`` for a condition vector
        or a float class vector ``cond``, ``constant + table[label]`` for an
        int label, ``constant`` alone when unconditional.

        Returns:
            tuple: ``table`` ``[cond_dim or num_classes, 2C]`` (None when
            unconditional) and ``constant`` ``[2C]``.
        """
        factor, offset = self.statistics_affine(truncation)
        if not self.conditional:
            return None, torch.cat([self.weight * factor,
                                    self.bias + self.weight * offset])
        # Both kinds of condition map hold a row of C values per input
        # (the linear maps' weights transposed, the tables as they are).
        gain, bias = (self.gain.normalized_weight(),
                      self.bias.normalized_weight())
        if isinstance(self.gain, nn.Linear):
            gain, bias = gain.t(), bias.t()
        # scale = (g0 + cond G) * factor, shift = cond B + (g0 + cond G) *
        # offset, with g0 = 1 for the residual gain and 0 otherwise.
        table = torch.cat([gain * factor, torch.addcmul(bias, gain, offset)],
                          dim=1)
        constant = torch.cat([factor, offset])
        if not self.residual_gain:
            constant = torch.zeros_like(constant)
        return table, constant

    def _affine(self, cond: Optional[torch.Tensor]):
        """Per-sample ``(gain, bias)`` of shape ``[N, C]``, or per-channel
        ``[C]`` when unconditional."""
        if not self.conditional:
            return self.weight, self.bias
        if cond is None:
            raise ValueError('This batch norm is class-conditional: pass the '
                             'condition (labels or condition vector).')
        gain = self.gain(cond)
        return (1 + gain if self.residual_gain else gain), self.bias(cond)

    def _normalize_synced(self, x: torch.Tensor,
                          truncation: Optional[float]) -> torch.Tensor:
        import torch.distributed.nn.functional as dist_fn
        count = torch.full((1, ), x.numel() / x.shape[1], device=x.device,
                           dtype=x.dtype)
        moments = torch.cat([
            x.sum(dim=(0, 2, 3)), (x * x).sum(dim=(0, 2, 3)), count])
        moments = dist_fn.all_reduce(moments)
        c = self.num_features
        total = moments[2 * c]
        mean = moments[:c] / total
        var = (moments[c:2 * c] / total - mean * mean).clamp_min(0)
        with torch.no_grad():
            running_mean, running_var = self._stats_to_update(truncation)
            running_mean.lerp_(mean.detach(), self.momentum)
            running_var.lerp_(var.detach() * total / (total - 1).clamp_min(1),
                              self.momentum)
        out = (x - mean.view(1, -1, 1, 1)) * torch.rsqrt(
            var.view(1, -1, 1, 1) + self.eps)
        if self.norm_weight is not None:
            out = out * self.norm_weight.view(1, -1, 1, 1) + \
                self.norm_bias.view(1, -1, 1, 1)
        return out

    def forward(self,
                x: torch.Tensor,
                cond: Optional[torch.Tensor] = None,
                truncation: Optional[float] = None) -> torch.Tensor:
        gain, bias = self._affine(cond)
        if self.training:
            if (self.sync_stats and dist.is_available()
                    and dist.is_initialized() and dist.get_world_size() > 1):
                out = self._normalize_synced(x, truncation)
            else:
                running_mean, running_var = self._stats_to_update(truncation)
                out = F.batch_norm(x, running_mean, running_var,
                                   self.norm_weight, self.norm_bias, True,
                                   self.momentum, self.eps)
            if gain.dim() == 1:
                return out * gain.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)
            return out * gain[:, :, None, None] + bias[:, :, None, None]
        # Eval: statistics and affine as one scale and shift.
        factor, offset = self.statistics_affine(truncation)
        scale, shift = gain * factor, torch.addcmul(bias, gain, offset)
        if scale.dim() == 1:
            scale, shift = scale.view(1, -1, 1, 1), shift.view(1, -1, 1, 1)
        else:
            scale, shift = scale[:, :, None, None], shift[:, :, None, None]
        return torch.addcmul(shift, x, scale)
