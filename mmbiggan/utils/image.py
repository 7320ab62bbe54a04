"""Conversions between generator outputs and 8-bit images."""
import numpy as np
import torch


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Images in ``[-1, 1]`` to ``uint8`` in ``[0, 255]``, rounding to the
    nearest level (``x * 127.5 + 127.5``, half up; StyleGAN2-ADA's and
    MMGeneration's convention). Shape is kept."""
    return (images.detach().float() * 127.5 + 128).clamp(0, 255).to(
        torch.uint8)


def to_hwc_numpy(images: torch.Tensor) -> np.ndarray:
    """``[N, C, H, W]`` in ``[-1, 1]`` to a ``uint8`` array ``[N, H, W,
    C]`` for Pillow or imageio."""
    return to_uint8(images).permute(0, 2, 3, 1).cpu().numpy()
