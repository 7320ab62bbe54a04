"""Laying images out as one picture."""

import numpy as np
from PIL import Image

from .atomic import atomic_path


def make_image_grid(images: np.ndarray,
                    num_columns: int,
                    padding: int = 2,
                    pad_value: int = 255) -> np.ndarray:
    """Tile ``images`` ``[N, H, W, C]`` uint8 row by row, ``num_columns``
    per row, with ``padding`` pixels of ``pad_value`` around every cell.

    Returns:
        np.ndarray: ``[rows * (H + p) + p, cols * (W + p) + p, C]`` uint8
        with ``rows = ceil(N / num_columns)``, ``cols = min(N,
        num_columns)``; missing cells of the last row stay blank.
    """
    if images.ndim != 4 or images.dtype != np.uint8:
        raise ValueError('images must be a uint8 array [N, H, W, C], got '
                         f'{images.dtype} {images.shape}.')
    if num_columns < 1:
        raise ValueError(f'num_columns must be >= 1, got {num_columns}.')
    num, height, width, channels = images.shape
    cols = min(num, num_columns)
    rows = -(-num // num_columns)
    grid = np.full((rows * (height + padding) + padding,
                    cols * (width + padding) + padding, channels),
                   pad_value, dtype=np.uint8)
    for index, image in enumerate(images):
        row, col = divmod(index, num_columns)
        top = padding + row * (height + padding)
        left = padding + col * (width + padding)
        grid[top:top + height, left:left + width] = image
    return grid


def save_image_atomic(image: np.ndarray, path: str):
    """Write ``image`` ``[H, W, 3]`` (or ``[H, W, 1]``) uint8 as a PNG
    atomically (see :func:`~mmbiggan.utils.atomic.atomic_path`), so viewers
    never see half a file."""
    if image.shape[-1] == 1:
        image = image[..., 0]
    with atomic_path(path) as tmp:
        Image.fromarray(image).save(tmp, format='PNG')
