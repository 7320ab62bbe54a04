"""Reading and writing the Inception statistics of a dataset.

The pickle holds a dict with ``mean`` (float64 ``[2048]``), ``cov``
(float64 ``[2048, 2048]``), ``size`` (number of images) and ``name``, as
MMGeneration's ``tools/utils/inception_stat.py`` writes it, so its
published ``cifar10.pkl``/``imagenet.pkl`` load here and files written here
load in MMGeneration. mmbiggan adds ``inception`` (the extractor type), which
MMGeneration ignores and mmbiggan checks. pytorch-fid's ``.npz`` files
(``mu``, ``sigma``) are read too.

Statistics files come from elsewhere, so pickles are read by an unpickler
that only builds NumPy arrays and plain containers: a file naming any other
Python object is refused, never run.
"""
import io
import os.path as osp
import pickle
from typing import NamedTuple, Optional

import numpy as np

from mmbiggan.utils.atomic import write_bytes_atomic


class InceptionStats(NamedTuple):
    mean: np.ndarray  # [D] float64
    cov: np.ndarray  # [D, D] float64
    num_images: Optional[int]  # None when the file does not say
    inception: Optional[str]  # extractor type, None when the file does not say


# (module, name) pairs a statistics pickle may reference: how NumPy 1.x and
# 2.x pickle arrays, dtypes and scalars, and how this module writes arrays.
_ALLOWED_GLOBALS = {
    ('numpy', 'ndarray'): np.ndarray,
    ('numpy', 'dtype'): np.dtype,
    ('builtins', 'bytearray'): bytearray,
    ('collections', 'OrderedDict'): dict,
}
for _module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
    _ALLOWED_GLOBALS[(_module, '_reconstruct')] = \
        np.ndarray.__reduce__(np.zeros(0))[0]
    _ALLOWED_GLOBALS[(_module, 'scalar')] = \
        np.float64(0).__reduce__()[0]


class _RefusedObject(pickle.UnpicklingError):
    """A pickle names a Python object outside the allowed set."""


class _ArrayUnpickler(pickle.Unpickler):

    def find_class(self, module, name):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise _RefusedObject(
                f'it references {module}.{name}; a statistics file may only '
                'hold NumPy arrays, numbers and strings') from None


class _PortableArrayPickler(pickle.Pickler):
    """Pickles arrays as ``numpy.ndarray(shape, dtype, bytearray)``, which
    every NumPy version reads (NumPy 2 otherwise writes
    ``numpy._core.multiarray``, unknown to the NumPy 1.x that MMGeneration
    runs on)."""

    def reducer_override(self, obj):
        if type(obj) is np.ndarray and obj.dtype != object:
            obj = np.ascontiguousarray(obj)
            return np.ndarray, (obj.shape, obj.dtype.str,
                                bytearray(obj.tobytes()))
        return NotImplemented


def save_inception_stats(path: str,
                         mean: np.ndarray,
                         cov: np.ndarray,
                         num_images: int,
                         inception: str,
                         name: Optional[str] = None):
    """Write statistics to ``path`` (a ``.pkl``) atomically: readers see
    the old file or the complete new one."""
    record = {
        'mean': np.asarray(mean, dtype=np.float64),
        'cov': np.asarray(cov, dtype=np.float64),
        'size': int(num_images),
        'name': name or osp.basename(path),
        'inception': str(inception),
    }
    buffer = io.BytesIO()
    _PortableArrayPickler(buffer, protocol=4).dump(record)
    write_bytes_atomic(path, buffer.getvalue())


def load_inception_stats(path: str) -> InceptionStats:
    """Read statistics from an MMGeneration-style ``.pkl`` (``mean``,
    ``cov``) or a pytorch-fid ``.npz`` (``mu``, ``sigma``), checked to be a
    finite mean ``[D]`` and covariance ``[D, D]``."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'Inception statistics not found: {path}')
    if path.endswith('.npz'):
        try:
            with np.load(path, allow_pickle=False) as data:
                record = {k: data[k] for k in data.files}
        except (ValueError, OSError) as err:
            raise ValueError(f'{path} is not a readable .npz file ({err}).') \
                from err
        keys = ('mu', 'sigma')
    else:
        try:
            with open(path, 'rb') as f:
                record = _ArrayUnpickler(f).load()
        except _RefusedObject as err:
            raise ValueError(f'{path} is not loaded: {err}.') from err
        except Exception as err:  # any malformed pickle
            raise ValueError(f'{path} is truncated or not a statistics '
                             f'pickle ({err}).') from err
        keys = ('mean', 'cov')
    if not isinstance(record, dict) or not all(k in record for k in keys):
        found = sorted(record) if isinstance(record, dict) else \
            type(record).__name__
        raise ValueError(
            f'{path} must hold {keys[0]!r} and {keys[1]!r} (found {found}); '
            'write one with tools/utils/inception_stat.py.')
    mean, cov = record[keys[0]], record[keys[1]]
    if not (isinstance(mean, np.ndarray) and isinstance(cov, np.ndarray)
            and mean.ndim == 1 and cov.shape == (mean.size, mean.size)
            and mean.dtype.kind == 'f' and cov.dtype.kind == 'f'):
        raise ValueError(
            f'{path} must hold a float mean [D] and covariance [D, D], got '
            f'{getattr(mean, "shape", type(mean))} and '
            f'{getattr(cov, "shape", type(cov))}.')
    if not (np.isfinite(mean).all() and np.isfinite(cov).all()):
        raise ValueError(f'{path} holds NaN or inf statistics.')
    size = record.get('size')
    inception = record.get('inception')
    return InceptionStats(
        mean.astype(np.float64), cov.astype(np.float64),
        int(size) if isinstance(size, (int, np.integer)) else None,
        inception if isinstance(inception, str) else None)
