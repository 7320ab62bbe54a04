"""Reading image files."""
import numpy as np
from mmcv.transforms import BaseTransform
from PIL import Image

from mmbiggan.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadImageFromFile(BaseTransform):
    """Read ``results['img_path']`` with Pillow as an RGB image.

    Grey, palette, CMYK and alpha images are converted to RGB (alpha is
    dropped), as torchvision's ImageFolder loader does. Adds ``img`` (uint8
    ``[H, W, 3]``), ``img_shape`` and ``ori_shape`` (``(H, W)``).

    A missing, unreadable or corrupt (e.g. truncated) file raises an error
    naming the file.
    """

    def transform(self, results: dict) -> dict:
        path = results['img_path']
        try:
            with Image.open(path) as image:
                img = np.asarray(image.convert('RGB'))
        except FileNotFoundError:
            raise FileNotFoundError(
                f'Image {path} does not exist; restore it or remove it from '
                'the dataset (its annotation line or folder).') from None
        except (OSError, SyntaxError, ValueError,
                Image.DecompressionBombError) as exc:
            raise OSError(
                f'Cannot read image {path} ({type(exc).__name__}: {exc}); it '
                'is corrupt or not an image: replace it or remove it from the '
                'dataset.') from None
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results
