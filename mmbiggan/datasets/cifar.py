"""CIFAR-10 from the ``cifar-10-batches-py`` pickles of the official
``cifar-10-python.tar.gz``."""
import codecs
import os.path as osp
import pickle
from typing import Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset

from mmbiggan.registry import DATASETS
from .class_names import CIFAR10_CLASSES
from .pipeline import build_pipeline

CIFAR10_FOLDER = 'cifar-10-batches-py'
CIFAR10_SPLIT_FILES = {
    'train': tuple(f'data_batch_{i}' for i in range(1, 6)),
    'test': ('test_batch', ),
}
CIFAR10_META_FILE = 'batches.meta'
_CIFAR_IMAGE_SIZE = 32


class _CIFARUnpickler(pickle.Unpickler):
    """Unpickler that builds only what the CIFAR batches hold: dicts, lists,
    bytes, ints and numpy arrays.

    Any other global (a function call hidden in a tampered file) is refused
    instead of executed.
    """

    _ALLOWED = {
        # The batches were pickled by Python 2 numpy ('numpy.core');
        # numpy 2 names the module 'numpy._core'.
        ('numpy.core.multiarray', '_reconstruct'): np.ndarray.__reduce__(
            np.zeros(0))[0],
        ('numpy._core.multiarray', '_reconstruct'): np.ndarray.__reduce__(
            np.zeros(0))[0],
        ('numpy', 'ndarray'): np.ndarray,
        ('numpy', 'dtype'): np.dtype,
        # Python 3 re-pickles bytes with protocol 2 as _codecs.encode calls.
        ('_codecs', 'encode'): codecs.encode,
    }

    def find_class(self, module: str, name: str):
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f'refusing to load {module}.{name}: a CIFAR-10 batch holds '
                'only numpy arrays, lists and bytes') from None


def load_cifar_pickle(path: str) -> dict:
    """Load one CIFAR batch or meta file safely.

    Args:
        path (str): A file such as ``data_batch_1`` or ``batches.meta``.

    Returns:
        dict: The file's dict with ``str`` keys (``'data'``, ``'labels'``,
        ``'label_names'``, ...); values as stored (Python 2 strings come
        back as ``bytes``).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'CIFAR-10 file {path} is missing; extract the complete '
            'cifar-10-python.tar.gz into the data root.')
    try:
        with open(path, 'rb') as f:
            content = _CIFARUnpickler(f, encoding='bytes').load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError,
            AttributeError, IndexError, UnicodeDecodeError) as exc:
        raise ValueError(
            f'{path} is not a readable CIFAR-10 pickle ({exc}); the file is '
            'truncated or of another kind: extract cifar-10-python.tar.gz '
            'again.') from None
    if not isinstance(content, dict):
        raise ValueError(f'{path} holds a {type(content).__name__}, not the '
                         'dict of a CIFAR-10 batch; extract '
                         'cifar-10-python.tar.gz again.')
    return {
        k.decode('latin1') if isinstance(k, bytes) else k: v
        for k, v in content.items()
    }


@DATASETS.register_module()
class CIFAR10Dataset(BaseDataset):
    """CIFAR-10, 32x32 RGB images of 10 classes, read from the official
    pickles.

    Each sample is ``dict(img=uint8 [32, 32, 3] RGB, gt_label=int)`` before
    the pipeline, in file order (``data_batch_1`` .. ``data_batch_5`` for
    ``'train'``, 50,000 images; ``test_batch`` for ``'test'``, 10,000).
    Class names come from ``batches.meta`` (the standard 10 when it is
    absent).

    Args:
        data_root (str): The ``cifar-10-batches-py`` folder, or the folder
            that contains it.
        split (str): ``'train'`` or ``'test'``.
        pipeline (Sequence[dict | Callable]): Transforms applied to each
            sample, usually just ``PackInputs``.
        indices (int | Sequence[int], optional): Keep only these samples
            (the first ``indices`` when an int).
        serialize_data (bool): Store the samples as one byte buffer that
            data loader workers share.
        lazy_init (bool): Defer loading until first use.
    """

    METAINFO = dict(classes=CIFAR10_CLASSES)

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 serialize_data: bool = True,
                 lazy_init: bool = False):
        if split not in CIFAR10_SPLIT_FILES:
            raise ValueError(f'CIFAR10Dataset split must be one of '
                             f'{sorted(CIFAR10_SPLIT_FILES)}, got {split!r}.')
        self.split = split
        self.batches_dir = self._find_batches_dir(data_root)
        super().__init__(
            metainfo=dict(classes=self._read_class_names()),
            data_root=data_root,
            pipeline=build_pipeline(pipeline),
            indices=indices,
            serialize_data=serialize_data,
            lazy_init=lazy_init)

    @staticmethod
    def _find_batches_dir(data_root: str) -> str:
        expected = (f'{CIFAR10_FOLDER}/ (data_batch_1..5, test_batch, '
                    f'{CIFAR10_META_FILE}) from cifar-10-python.tar.gz')
        if not osp.isdir(data_root):
            raise FileNotFoundError(
                f'CIFAR-10 data root {data_root} does not exist; set '
                f'data_root to the folder holding {expected}.')
        for candidate in (osp.join(data_root, CIFAR10_FOLDER), data_root):
            if osp.isfile(osp.join(candidate, 'data_batch_1')) or osp.isfile(
                    osp.join(candidate, 'test_batch')):
                return candidate
        raise FileNotFoundError(
            f'No CIFAR-10 batches in {data_root}; expected {expected}.')

    def _read_class_names(self) -> Tuple[str, ...]:
        meta_path = osp.join(self.batches_dir, CIFAR10_META_FILE)
        if not osp.isfile(meta_path):
            return CIFAR10_CLASSES
        names = load_cifar_pickle(meta_path).get('label_names')
        if not isinstance(names, list) or len(names) != len(CIFAR10_CLASSES):
            raise ValueError(
                f'{meta_path} has no list of 10 label_names; extract '
                'cifar-10-python.tar.gz again.')
        return tuple(
            n.decode('latin1') if isinstance(n, bytes) else str(n)
            for n in names)

    def _load_batch(self, path: str) -> Tuple[np.ndarray, np.ndarray]:
        """Images ``[N, 32, 32, 3]`` uint8 RGB and labels ``[N]`` int64 of
        one batch file."""
        batch = load_cifar_pickle(path)
        data, labels = batch.get('data'), batch.get('labels')
        num_pixels = 3 * _CIFAR_IMAGE_SIZE * _CIFAR_IMAGE_SIZE
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or (
                data.ndim != 2 or data.shape[1] != num_pixels):
            raise ValueError(
                f'{path} has no uint8 "data" array of shape [N, {num_pixels}];'
                ' extract cifar-10-python.tar.gz again.')
        labels = np.asarray(labels if labels is not None else [])
        if labels.shape != (len(data), ) or labels.dtype.kind not in 'iu':
            raise ValueError(
                f'{path} has {labels.size} labels for {len(data)} images; '
                'extract cifar-10-python.tar.gz again.')
        num_classes = len(self.metainfo['classes'])
        bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
        if bad.size:
            raise ValueError(
                f'{path}: image {bad[0]} has label {labels[bad[0]]}, outside '
                f'0..{num_classes - 1}; the file is not CIFAR-10.')
        # Each row is three 32x32 planes, R then G then B.
        images = data.reshape(-1, 3, _CIFAR_IMAGE_SIZE,
                              _CIFAR_IMAGE_SIZE).transpose(0, 2, 3, 1)
        return images, labels.astype(np.int64)

    def load_data_list(self) -> List[dict]:
        data_list = []
        for name in CIFAR10_SPLIT_FILES[self.split]:
            images, labels = self._load_batch(osp.join(self.batches_dir, name))
            data_list.extend(
                dict(img=np.ascontiguousarray(img), gt_label=int(label))
                for img, label in zip(images, labels))
        return data_list
