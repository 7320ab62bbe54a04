"""Running an Inception network over a dataloader of real images."""
from typing import Optional

import numpy as np
import torch
from mmengine.dist import collect_results, get_dist_info, is_main_process
from mmengine.logging import print_log
from mmengine.utils import ProgressBar

from .inception import InceptionExtractor, images_to_inception_input
from .real_features import RealFeatures


def batch_images(data_batch) -> torch.Tensor:
    """The images of a dataloader batch as a tensor ``[N, C, H, W]``: the
    batch itself, or its ``inputs`` (a tensor or a list of ``[C, H, W]``
    tensors, as mmengine's collate functions give)."""
    images = data_batch['inputs'] if isinstance(data_batch, dict) \
        else data_batch
    if isinstance(images, dict) and len(images) == 1:
        images = next(iter(images.values()))
    if isinstance(images, (list, tuple)):
        images = torch.stack(list(images))
    if not isinstance(images, torch.Tensor):
        raise TypeError('Expected a batch of images (a tensor, a list of '
                        'tensors or a dict with "inputs"), got '
                        f'{type(images).__name__}.')
    return images


def batch_labels(data_batch) -> Optional[torch.Tensor]:
    """The classes ``[N]`` (int64) of a dataloader batch: the ``gt_label``
    of each of its ``data_samples``; None when any item has none."""
    if not isinstance(data_batch, dict):
        return None
    samples = data_batch.get('data_samples')
    if samples is None:
        return None
    labels = [getattr(sample, 'gt_label', None) for sample in samples]
    if not labels or any(label is None for label in labels):
        return None
    return torch.stack(
        [torch.as_tensor(label).reshape(()).long() for label in labels])


@torch.no_grad()
def dataset_features(dataloader, inception: InceptionExtractor,
                     progress: bool = True,
                     with_labels: bool = False) -> list:
    """Inception pool features of the images of ``dataloader``, one
    ``[2048]`` array per image (or ``(features, label)`` pairs when
    ``with_labels``, the label an int or None, see :func:`batch_labels`);
    RGB images ``uint8`` or float in ``[-1, 1]``. Under DDP each rank reads
    its sampler's share, and at most ``ceil(len(dataset) / world_size)``
    images, so an infinite sampler ends after one pass too."""
    device = inception.device
    total = len(dataloader.dataset)
    rank, world_size = get_dist_info()
    share = -(-total // world_size)
    bar = None
    if progress and rank == 0:
        print_log(f'Extracting Inception features of {total} real images',
                  logger='current')
        bar = ProgressBar(share)
    features = []
    for data_batch in dataloader:
        images = images_to_inception_input(batch_images(data_batch))
        images = images[:share - len(features)]
        pool = inception(images.to(device)).pool.cpu().numpy()
        if with_labels:
            labels = batch_labels(data_batch)
            labels = [None] * len(pool) if labels is None else \
                labels[:len(pool)].tolist()
            features.extend(zip(pool, labels))
        else:
            features.extend(pool)
        if bar is not None:
            bar.update(len(pool))
        if len(features) >= share:
            break
    if bar is not None:
        print()
    return features


def gather_real_features(dataloader,
                         inception: InceptionExtractor,
                         collect_device: str = 'cpu',
                         collect_dir: Optional[str] = None,
                         progress: bool = True) -> Optional[RealFeatures]:
    """Features and labels of every image of ``dataloader``, in dataset
    order: each rank extracts its sampler's share (see
    :func:`dataset_features`) and mmengine's ``collect_results`` gathers
    them on the main process, which gets :class:`RealFeatures` (labels None
    unless every image has one); the other ranks get None."""
    if dataloader is None:
        raise ValueError('no dataloader of real images was given')
    items = dataset_features(dataloader, inception, progress,
                             with_labels=True)
    items = collect_results(
        items, len(dataloader.dataset), collect_device,
        **({'tmpdir': collect_dir} if collect_device == 'cpu' else {}))
    if not is_main_process():
        return None
    labels = [label for _, label in items]
    return RealFeatures(
        np.stack([features for features, _ in items]),
        None if any(label is None for label in labels) else np.asarray(
            labels, dtype=np.int64), inception.style)
