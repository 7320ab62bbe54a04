"""Nearest-neighbour 2x upsampling of the BigGAN generators, and the exact
shortcuts that avoid materializing the upsampled maps.

* ``conv1x1(up(x)) == up(conv1x1(x))``: a per-pixel map commutes with
  nearest upsampling, so 1x1 convolutions run at the low resolution.
* ``h + up(x)`` is a broadcast add over a ``[N, C, H, 2, W, 2]`` view of
  ``h``; no upsampled copy of ``x`` is made.
* ``conv3x3(up(x))`` (padding 1) is four 2x2 convolutions of ``x``, one per
  output phase ``(a, b)`` (output pixel ``(2i + a, 2j + b)``), with the
  3x3 taps that read the same low-resolution pixel summed: 16 instead of
  36 multiply-adds per output pixel and input channel. The sums of taps
  change the rounding, not the result.
"""
import torch
import torch.nn.functional as F

# Which 3x3 taps (rows) land on the two low-resolution pixels a 2x2 kernel
# of phase a reads: phase 0 reads rows i-1 (tap 0) and i (taps 1, 2),
# phase 1 rows i (taps 0, 1) and i+1 (tap 2). Columns alike. (A list: a
# module-level tensor would be created on whatever default device is set
# when this module is first imported, e.g. meta.)
_PHASE_TAPS = [[[1., 0., 0.], [0., 1., 1.]], [[1., 1., 0.], [0., 0., 1.]]]


def upsample_nearest(x: torch.Tensor) -> torch.Tensor:
    """``[N, C, H, W] -> [N, C, 2H, 2W]``, every pixel repeated 2x2."""
    return F.interpolate(x, scale_factor=2, mode='nearest')


def add_upsampled(h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``h + upsample_nearest(x)`` for ``h`` ``[N, C, 2H, 2W]`` and ``x``
    ``[N, C, H, W]``, equal to it bit for bit.

    With autograd off the sum is written into ``h`` (callers pass a fresh
    tensor they own, e.g. a convolution output), saving an allocation.
    """
    n, c, height, width = x.shape
    if h.shape != (n, c, 2 * height, 2 * width):
        raise ValueError(f'Cannot add an upsampled {tuple(x.shape)} to '
                         f'{tuple(h.shape)}.')
    # Splitting a dimension in two is a view whatever the strides.
    phases = h.view(n, c, height, 2, width, 2)
    x = x[:, :, :, None, :, None]
    if torch.is_grad_enabled():
        return (phases + x).view(h.shape)
    phases.add_(x)
    return h


def subpixel_weight(weight: torch.Tensor) -> torch.Tensor:
    """Fold a 3x3 kernel ``[O, I, 3, 3]`` into the 2x2 kernels of the four
    output phases, ``[4 * O, I, 2, 2]`` ordered ``(a, b, o)``, for
    :func:`conv3x3_upsampled`."""
    if weight.shape[2:] != (3, 3):
        raise ValueError(f'Expected a 3x3 kernel, got {tuple(weight.shape)}.')
    taps = torch.tensor(_PHASE_TAPS, dtype=weight.dtype,
                        device=weight.device)
    folded = torch.einsum('apk,bql,oikl->aboipq', taps, taps, weight)
    return folded.reshape(4 * weight.shape[0], *weight.shape[1:2], 2, 2)


def conv3x3_upsampled(x: torch.Tensor, folded_weight: torch.Tensor,
                      folded_bias) -> torch.Tensor:
    """``conv2d(upsample_nearest(x), weight, bias, padding=1)`` from the
    folded kernel of :func:`subpixel_weight` and the bias repeated four
    times (or None).

    Shapes: ``x`` ``[N, I, H, W]`` -> ``[N, O, 2H, 2W]``.
    """
    n, _, height, width = x.shape
    out_channels = folded_weight.shape[0] // 4
    # One convolution computes all phases; phase (a, b) of output row i
    # starts its 2x2 window at padded row i + a, hence the (H+1, W+1) map.
    phases = F.conv2d(x, folded_weight, folded_bias, padding=1)
    out = phases.new_empty(n, out_channels, height, 2, width, 2)
    for a in (0, 1):
        for b in (0, 1):
            first = (2 * a + b) * out_channels
            out[:, :, :, a, :, b] = phases[:, first:first + out_channels,
                                           a:a + height, b:b + width]
    return out.view(n, out_channels, 2 * height, 2 * width)
