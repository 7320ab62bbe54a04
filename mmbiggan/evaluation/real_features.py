"""Features of real images, kept in a file for the metrics that need more
than a mean and a covariance (PrecisionRecall, IntraClassFID).

The file is a NumPy ``.npz`` read with ``allow_pickle=False`` (it can hold
arrays only, never code) with

* ``features``: float32 ``[N, D]``, one row per image, in dataset order;
* ``labels``: int64 ``[N]``, the class of each image (absent when the
  images have none);
* ``inception``: the extractor's ``style`` (e.g. ``'StyleGAN'``), checked
  against the metric's extractor;
* ``name``: what the features are of.

``tools/utils/inception_stat.py --save-features`` writes it.
"""
import os.path as osp
from typing import NamedTuple, Optional

import numpy as np
import torch

from mmbiggan.utils.atomic import atomic_path

FEATURES_TOOL = 'tools/utils/inception_stat.py --save-features'


class RealFeatures(NamedTuple):
    features: np.ndarray  # [N, D] float32
    labels: Optional[np.ndarray]  # [N] int64, None when unlabelled
    inception: Optional[str]  # extractor style, None when unknown


def save_real_features(path: str,
                       features: np.ndarray,
                       labels: Optional[np.ndarray],
                       inception: str,
                       name: Optional[str] = None):
    """Write features ``[N, D]`` (and labels ``[N]``) to ``path`` (a
    ``.npz``) atomically."""
    features = np.asarray(features, dtype=np.float32)
    if features.ndim != 2:
        raise ValueError(f'features must be [N, D], got {features.shape}.')
    record = dict(
        features=features,
        inception=np.str_(inception),
        name=np.str_(name or osp.basename(path)))
    if labels is not None:
        labels = np.asarray(labels, dtype=np.int64)
        if labels.shape != (features.shape[0], ):
            raise ValueError(f'labels must be [{features.shape[0]}], got '
                             f'{labels.shape}.')
        record['labels'] = labels
    with atomic_path(path) as tmp:
        with open(tmp, 'wb') as f:
            np.savez(f, **record)


def load_real_features(path: str) -> RealFeatures:
    """Read a file written by :func:`save_real_features`, checked to hold
    finite features ``[N, D]`` and, when present, labels ``[N]``."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'Real features file not found: {path}; write it with '
            f'python {FEATURES_TOOL} (see the README, Evaluation).')
    try:
        with np.load(path, allow_pickle=False) as data:
            record = {key: data[key] for key in data.files}
    except (ValueError, OSError, EOFError) as err:
        raise ValueError(f'{path} is not a readable .npz file ({err}); '
                         f'rewrite it with {FEATURES_TOOL}.') from err
    features = record.get('features')
    if not isinstance(features, np.ndarray) or features.ndim != 2 or \
            features.dtype.kind != 'f':
        raise ValueError(
            f'{path} must hold float features [N, D] (found '
            f'{sorted(record)}); write it with {FEATURES_TOOL}.')
    if not np.isfinite(features).all():
        raise ValueError(f'{path} holds NaN or inf features.')
    labels = record.get('labels')
    if labels is not None and (labels.shape != (features.shape[0], )
                               or labels.dtype.kind not in 'iu'):
        raise ValueError(f'{path} must hold int labels [{features.shape[0]}]'
                         f', got {labels.dtype} {labels.shape}.')
    inception = record.get('inception')
    return RealFeatures(
        features.astype(np.float32, copy=False),
        None if labels is None else labels.astype(np.int64),
        str(inception) if inception is not None else None)


def subset_indices(total: int, num: Optional[int], seed: int = 0
                   ) -> np.ndarray:
    """Indices of ``num`` of ``total`` items drawn without replacement from
    ``seed``, in increasing order (all of them when ``num`` is None or not
    smaller)."""
    if num is None or num >= total:
        return np.arange(total)
    order = torch.randperm(total, generator=torch.Generator().manual_seed(
        seed))
    return np.sort(order[:num].numpy())
