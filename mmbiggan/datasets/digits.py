"""scikit-learn's handwritten digits, upscaled: the dataset that needs no
download."""
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset
from PIL import Image

from mmbiggan.registry import DATASETS
from .class_names import DIGITS_CLASSES
from .pipeline import build_pipeline

# load_digits stores ink intensity as integers 0..16.
_DIGITS_MAX_VALUE = 16


def upscale_digits(images: np.ndarray, image_size: int) -> np.ndarray:
    """Upscale 8x8 digit images to RGB uint8 squares.

    Args:
        images (np.ndarray): ``[N, 8, 8]`` values in ``[0, 16]`` as
            ``sklearn.datasets.load_digits().images`` gives them.
        image_size (int): Side of the output images.

    Returns:
        np.ndarray: ``[N, image_size, image_size, 3]`` uint8, ink bright on a
        black background, the grey level repeated in the 3 channels.
    """
    scaled = images.astype(np.float32) * (255.0 / _DIGITS_MAX_VALUE)
    # Bicubic on float32 (Pillow mode 'F') so rounding happens once, after
    # resizing.
    upscaled = np.stack([
        np.asarray(
            Image.fromarray(img).resize(
                (image_size, image_size), Image.BICUBIC)) for img in scaled
    ])
    grey = np.clip(np.rint(upscaled), 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=-1)


@DATASETS.register_module()
class DigitsDataset(BaseDataset):
    """The 1,797 handwritten digits scikit-learn ships, as RGB squares.

    Each sample is ``dict(img=uint8 [S, S, 3] RGB, gt_label=int)`` before the
    pipeline, with ``S = image_size``; labels are the digits 0..9 in
    ``sklearn.datasets.load_digits`` order. The images are upscaled once at
    initialization, so items cost no file I/O.

    Args:
        image_size (int): Side of the square images.
        pipeline (Sequence[dict | Callable]): Transforms applied to each
            sample, usually just ``PackInputs``.
        indices (int | Sequence[int], optional): Keep only these samples
            (the first ``indices`` when an int).
        serialize_data (bool): Store the samples as one byte buffer that
            data loader workers share.
        lazy_init (bool): Defer loading until first use.
    """

    METAINFO = dict(classes=DIGITS_CLASSES)

    def __init__(self,
                 image_size: int = 32,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 serialize_data: bool = True,
                 lazy_init: bool = False):
        if not isinstance(image_size, int) or image_size < 8:
            raise ValueError('DigitsDataset image_size must be an int >= 8 '
                             f'(the digits are 8x8), got {image_size!r}.')
        self.image_size = image_size
        super().__init__(
            pipeline=build_pipeline(pipeline),
            indices=indices,
            serialize_data=serialize_data,
            lazy_init=lazy_init)

    def load_data_list(self) -> List[dict]:
        # Imported here: scikit-learn takes a while to import.
        from sklearn.datasets import load_digits
        digits = load_digits()
        images = upscale_digits(digits.images, self.image_size)
        return [
            dict(img=img, gt_label=int(label))
            for img, label in zip(images, digits.target)
        ]
