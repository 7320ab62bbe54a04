"""The sampling form of a generator: :func:`fold_for_inference`.

Training layers compute everything from their parameters on every call, in
one way. Sampling calls the same layers thousands of times with the same
weights, so it runs a folded copy instead, in which whatever does not
depend on the sample is computed once:

* spectrally normalized weights are baked (eval mode: one power-iteration
  step from the stored vectors, as the layers compute it);
* each conditional batch norm becomes one affine map of its condition
  (statistics, epsilon, both affines and, for converted BigGAN-Deep, the
  rows of the chosen truncation folded in);
* a 3x3 convolution that follows a nearest upsampling becomes one 2x2
  sub-pixel convolution of the low-resolution map (16 instead of 36
  multiply-adds per output pixel and input channel);
* self-attention runs its three input maps as one product, the fused
  attention kernel, and the output map with its gain folded in;
* an output convolution that computes channels the generator drops
  (converted BigGAN-Deep: 128 computed, 3 kept) keeps only those it returns.

Each folded module gives its training layer's eval-mode numbers (up to
float rounding; ``tests/test_models/test_folding.py``).
"""
import contextlib
import copy
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .architectures.base_generator import ConditionalGenerator
from .layers.attention import SelfAttentionBlock
from .layers.conditional_norm import ConditionalBatchNorm2d
from .layers.spectral_norm import SpectralNorm, embed_labels
from .layers.truncation import check_truncation
from .layers.upsampling import conv3x3_upsampled, subpixel_weight


class _InferenceOnly:
    """Folded modules hold eval-mode values: training them would train
    something other than the model."""

    def train(self, mode: bool = True):
        if mode:
            raise RuntimeError(
                f'{type(self).__name__} is part of a generator folded for '
                'sampling (fold_for_inference); train the original '
                'generator instead.')
        return super().train(False)


class FoldedConditionalNorm(_InferenceOnly, nn.Module):
    """A :class:`ConditionalBatchNorm2d` in eval mode as ``x * scale +
    shift`` with ``[scale, shift] = constant + cond @ table`` (condition
    vector or float class vector), ``constant + table[label]`` (int label)
    or ``constant`` (unconditional), see
    :meth:`ConditionalBatchNorm2d.eval_affine_map`.

    Shapes: ``x`` ``[N, C, H, W]`` -> ``[N, C, H, W]``.
    """

    def __init__(self, norm: ConditionalBatchNorm2d,
                 truncation: Optional[float]):
        super().__init__()
        table, constant = norm.eval_affine_map(truncation)
        self.num_features = norm.num_features
        self.indexed = norm.conditional and isinstance(
            norm.gain, nn.Embedding)
        # Per-truncation statistics are folded for one truncation.
        self.folded_truncation = None if norm.num_stats == 1 else \
            _truncation_key(truncation)
        self.register_buffer('table', None if table is None else
                             table.contiguous())
        self.register_buffer('constant', constant)

    def extra_repr(self) -> str:
        return (f'{self.num_features}, indexed={self.indexed}, '
                f'folded_truncation={self.folded_truncation}')

    def forward(self,
                x: torch.Tensor,
                cond: Optional[torch.Tensor] = None,
                truncation: Optional[float] = None) -> torch.Tensor:
        if self.folded_truncation is not None and \
                _truncation_key(truncation) != self.folded_truncation:
            raise ValueError(
                f'This generator was folded with the batch-norm statistics '
                f'of truncation {self.folded_truncation}, not {truncation}; '
                'fold it again: fold_for_inference(generator, '
                f'truncation={truncation}).')
        if self.table is None:
            affine = self.constant[None]
        elif self.indexed:
            affine = embed_labels(cond, self.table) + self.constant
        else:
            affine = torch.addmm(self.constant, cond, self.table)
        c = self.num_features
        return torch.addcmul(affine[:, c:, None, None], x,
                             affine[:, :c, None, None])


def _truncation_key(truncation: Optional[float]) -> float:
    # None selects the statistics of truncation 1 (ConditionalBatchNorm2d).
    return 1.0 if truncation is None else check_truncation(truncation)


class SubpixelUpsampledConv2d(_InferenceOnly, nn.Module):
    """``conv3x3(upsample_nearest(x))`` (stride 1, padding 1) of a frozen
    convolution, run as the sub-pixel convolution of
    :mod:`.layers.upsampling`.

    Shapes: ``[N, in, H, W] -> [N, out, 2H, 2W]``.
    """

    def __init__(self, weight: torch.Tensor, bias: Optional[torch.Tensor]):
        super().__init__()
        self.register_buffer('weight', subpixel_weight(weight))
        self.register_buffer('bias', None if bias is None else bias.repeat(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return conv3x3_upsampled(x, self.weight, self.bias)

    def forward_upsampled(self, x: torch.Tensor) -> torch.Tensor:
        """What the blocks call on their upsampling convolution."""
        return self(x)

    @staticmethod
    def applies_to(conv: nn.Module) -> bool:
        return isinstance(conv, nn.Conv2d) and conv.kernel_size == (3, 3) \
            and conv.stride == (1, 1) and conv.padding == (1, 1) \
            and conv.dilation == (1, 1) and conv.groups == 1 \
            and conv.padding_mode == 'zeros'


class FusedSelfAttention(_InferenceOnly, nn.Module):
    """A :class:`SelfAttentionBlock` with frozen weights: one product for
    queries, keys and values (written position-major, as attention reads
    them), pooling on that layout, the fused attention kernel (its scale
    1.0 is BigGAN's unscaled softmax) and the output map, gain and residual
    sum in one batched multiply-add. Only the rounding differs.

    Shapes: ``[N, C, H, W] -> [N, C, H, W]`` with even ``H`` and ``W``.
    """

    def __init__(self, block: SelfAttentionBlock):
        super().__init__()
        weights = [layer.normalized_weight().flatten(1)
                   for layer in (block.theta, block.phi, block.g, block.o)]
        self.key_channels = block.in_channels // 8
        self.value_channels = block.in_channels // 2
        self.register_buffer('qkv_weight', torch.cat(weights[:3]))
        self.register_buffer('out_weight', block.gamma * weights[3])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        key_c, value_c = self.key_channels, self.value_channels
        flat = x.reshape(n, c, h * w)
        qkv = torch.matmul(flat.transpose(1, 2), self.qkv_weight.t())
        # Max pooling of keys and values on the [N, C, H, W] view of the
        # position-major map (channels-last strides, no copy).
        kv = qkv[..., key_c:].unflatten(1, (h, w)).permute(0, 3, 1, 2)
        kv = F.max_pool2d(kv, 2).permute(0, 2, 3, 1).reshape(
            n, 1, h * w // 4, key_c + value_c)
        # The CPU's fused kernel wants one head size for queries, keys and
        # values: zero channels added to both leave the products unchanged.
        pad = (0, value_c - key_c)
        attended = F.scaled_dot_product_attention(
            F.pad(qkv[:, None, :, :key_c], pad),
            F.pad(kv[..., :key_c], pad), kv[..., key_c:], scale=1.0)
        out = torch.baddbmm(flat, self.out_weight.expand(n, c, value_c),
                            attended[:, 0].transpose(1, 2))
        return out.view(n, c, h, w)


def fold_for_inference(generator: nn.Module,
                       truncation: Optional[float] = None) -> nn.Module:
    """An eval-only copy of ``generator`` for sampling (see the module
    docstring); ``generator`` itself is not changed.

    Args:
        generator (nn.Module): A generator, or any module containing
            mmbiggan layers (a wrapper of one).
        truncation (float, optional): The truncation the copy will sample
            with; it matters only to generators with per-truncation
            batch-norm statistics (converted BigGAN-Deep), whose folded
            copy refuses other values.

    Returns:
        nn.Module: The folded copy, in eval mode, without gradients; its
        ``train()`` raises. Fold again after the weights change (each
        evaluation of a training run folds the current EMA generator).
    """
    folded = _copy_for_folding(generator).eval()
    with torch.no_grad(), _autocast_off(folded):
        _fold_upsampling_convs(folded)
        _replace_layers(folded, truncation)
        _bake_spectral_norms(folded)
        _drop_unreturned_channels(folded)
    _check_independent(folded, generator)
    return folded.requires_grad_(False)


def _copy_for_folding(generator: nn.Module) -> nn.Module:
    """A deep copy, except for the tensors folding replaces (normalized
    weights, batch norms, attention): the copy reads those from the
    original instead of duplicating them, which would hold a third copy of
    the weights at the peak of folding."""
    replaced = {}
    for module in generator.modules():
        if isinstance(module, (ConditionalBatchNorm2d, SelfAttentionBlock)):
            replaced.update((id(t), t) for t in module.parameters())
            replaced.update((id(t), t) for t in module.buffers())
        elif isinstance(getattr(module, 'sn', None), SpectralNorm):
            replaced[id(module.weight)] = module.weight
    return copy.deepcopy(generator, replaced)


def _check_independent(folded: nn.Module, generator: nn.Module):
    def storages(module):
        return {t.untyped_storage().data_ptr()
                for t in (*module.parameters(), *module.buffers())
                if t.numel()}

    if storages(folded) & storages(generator):
        raise RuntimeError(
            'Folding left a tensor shared with the original generator (a '
            'layer it does not know how to fold); please report this.')


def _fold_upsampling_convs(module: nn.Module):
    """Generator blocks name the convolution that reads their upsampled
    map (``upsampled_conv``); a 3x3 one becomes sub-pixel."""
    for block in list(module.modules()):
        name = getattr(block, 'upsampled_conv', None)
        if name is None or not getattr(block, 'upsample', False):
            continue
        conv = getattr(block, name)
        if SubpixelUpsampledConv2d.applies_to(conv):
            setattr(block, name,
                    SubpixelUpsampledConv2d(conv.normalized_weight(),
                                            conv.bias))


def _replace_layers(module: nn.Module, truncation: Optional[float]):
    """Conditional batch norms and self-attention blocks, wherever they
    sit, by their folded forms."""
    for name, child in module.named_children():
        if isinstance(child, ConditionalBatchNorm2d):
            setattr(module, name, FoldedConditionalNorm(child, truncation))
        elif isinstance(child, SelfAttentionBlock):
            setattr(module, name, FusedSelfAttention(child))
        else:
            _replace_layers(child, truncation)


def _bake_spectral_norms(module: nn.Module):
    """Every spectrally normalized layer left keeps its normalized weight
    as its weight and loses its normalization."""
    for layer in list(module.modules()):
        if isinstance(getattr(layer, 'sn', None), SpectralNorm):
            layer.weight = nn.Parameter(layer.sn(layer.weight),
                                        requires_grad=False)
            layer.sn = None


def _drop_unreturned_channels(module: nn.Module):
    """Output convolutions of generators (also inside a wrapper) keep only
    the channels the generator returns."""
    for generator in module.modules():
        if not isinstance(generator, ConditionalGenerator):
            continue
        out_conv, kept = generator.out_conv, generator.out_channels
        if out_conv.out_channels <= kept:
            continue
        out_conv.weight = nn.Parameter(out_conv.weight[:kept].clone(),
                                       requires_grad=False)
        if out_conv.bias is not None:
            out_conv.bias = nn.Parameter(out_conv.bias[:kept].clone(),
                                         requires_grad=False)
        out_conv.out_channels = kept


@contextlib.contextmanager
def _autocast_off(module: nn.Module):
    """Folded values must not depend on whether folding ran under autocast
    (a bfloat16-rounded kernel would then serve float32 sampling)."""
    param = next(module.parameters(), None)
    device = 'cpu' if param is None else param.device.type
    if device not in ('cpu', 'cuda'):
        yield
        return
    with torch.autocast(device, enabled=False):
        yield
