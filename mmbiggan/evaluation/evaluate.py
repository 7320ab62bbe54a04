"""Evaluating a generator: sample images from a seed, run the Inception
networks of the metrics once per batch, and gather the results of all
ranks. The validation loop during training and ``tools/test.py`` both run
this function."""
import math
from typing import Optional

import torch
import torch.nn as nn
from mmengine.dist import get_dist_info
from mmengine.evaluator import Evaluator
from mmengine.logging import print_log

from mmbiggan.models.sampling import draw_inputs, iter_samples

from .features import gather_real_features
from .inception import images_to_inception_input
from .metrics import GenerativeMetric


def shard_indices(num_images: int, rank: int, world_size: int
                  ) -> torch.Tensor:
    """The image indices of ``rank``: every ``world_size``-th index,
    padded by wrapping around to ``ceil(num_images / world_size)`` so all
    ranks run equal batches, the layout mmengine's ``collect_results``
    interleaves back into ``0 .. num_images - 1``."""
    padded = math.ceil(num_images / world_size) * world_size
    return torch.arange(rank, padded, world_size) % num_images


def evaluate_generator(generator: nn.Module,
                       evaluator: Evaluator,
                       seed: int = 0,
                       batch_size: int = 32,
                       truncation: Optional[float] = None,
                       real_dataloader=None,
                       progress: bool = True) -> dict:
    """Evaluate ``evaluator``'s metrics on images of ``generator``.

    The noise and labels of all ``max(num_images)`` images are drawn on the
    CPU from ``seed`` (see :func:`draw_inputs`), so the images are the same
    on any device and number of processes; each rank generates its share
    (:func:`shard_indices`), each Inception network runs once per batch for
    all metrics using it, and the metrics gather the outputs in image order.
    A metric that asks for its own classes (``sample_labels``, e.g.
    IntraClassFID) gets images of its own, from the same seed. The result
    equals the single-process result, and the global random state is left
    as it was.

    Args:
        generator (nn.Module): The generator (e.g. from
            :func:`get_sampling_generator`); its mode is restored after.
        evaluator (Evaluator): Holds :class:`GenerativeMetric` s.
        seed (int): Seed of the noise and labels.
        batch_size (int): Images per generator and Inception batch.
        truncation (float, optional): Truncation of the noise.
        real_dataloader: Real images, for the metrics without a file of
            real statistics or features (``needs_real_images``); their
            features are extracted once per feature extractor.
        progress (bool): Show progress bars on rank 0.

    Returns:
        dict: Metric values, the same on every rank.
    """
    device = next(generator.parameters()).device
    # The training's random stream must not depend on whether and when an
    # evaluation ran (exact resume): a DataLoader draws its base seed from
    # the global generator.
    fork_devices = [device] if device.type == 'cuda' else []
    with torch.random.fork_rng(devices=fork_devices):
        return _evaluate(generator, evaluator, seed, batch_size, truncation,
                         real_dataloader, progress, device)


def _evaluate(generator, evaluator, seed, batch_size, truncation,
              real_dataloader, progress, device):
    metrics = evaluator.metrics
    for metric in metrics:
        if not isinstance(metric, GenerativeMetric):
            raise TypeError(
                f'{type(metric).__name__} is not a metric of generated '
                'images; use mmbiggan metrics such as FID and IS.')
    rank, world_size = get_dist_info()
    # Metrics that ask for their own classes (IntraClassFID) get their own
    # images; the others share one set, classes drawn at random. Asked
    # first: a metric checks its real data against the generator's classes.
    num_classes = getattr(generator, 'num_classes', 0)
    own_labels = [metric.sample_labels(num_classes) for metric in metrics]
    for metric in metrics:
        # Leftovers of an interrupted evaluation would be mixed in.
        metric.results.clear()
        metric.inception.to(device)
    _prepare_real(metrics, real_dataloader, progress)

    shared = [m for m, labels in zip(metrics, own_labels) if labels is None]
    streams = [(None, max(m.num_images for m in shared), shared)] \
        if shared else []
    streams += [(labels, metric.num_images, [metric])
                for metric, labels in zip(metrics, own_labels)
                if labels is not None]
    show = progress and rank == 0
    for labels, num_images, members in streams:
        if show:
            print_log(
                f'Sampling {num_images} images (seed {seed}) for '
                f'{", ".join(type(m).__name__ for m in members)} and '
                f'extracting features on {world_size} process(es)',
                logger='current')
        _feed_metrics(generator, members, labels, num_images, seed,
                      batch_size, truncation, device, show)
    return evaluator.evaluate(max(m.num_images for m in metrics))


def _prepare_real(metrics, real_dataloader, progress):
    """Real features for the metrics waiting for them, extracted once per
    feature extractor."""
    extracted = {}
    for metric in metrics:
        if not getattr(metric, 'needs_real_images', False):
            continue
        if real_dataloader is None:
            raise ValueError(f'{type(metric).__name__} needs real images: '
                             f'{metric.real_images_hint}')
        key = id(metric.inception)
        if key not in extracted:
            extracted[key] = gather_real_features(
                real_dataloader, metric.inception, metric.collect_device,
                metric.collect_dir, progress)
        metric.set_real_features(extracted[key])


def _feed_metrics(generator, metrics, labels, num_images, seed, batch_size,
                  truncation, device, show):
    """Generate ``num_images`` images from ``seed`` (with ``labels`` when
    given, else classes at random), this rank's share, and pass their
    features to ``metrics``."""
    rank, world_size = get_dist_info()
    noise, labels = draw_inputs(
        generator, num_images, labels=labels, truncation=truncation,
        seed=seed)
    indices = shard_indices(num_images, rank, world_size)
    if labels is not None:
        labels = labels[indices]
    # Metrics sharing an Inception network share its outputs.
    groups = {}
    for metric in metrics:
        groups.setdefault(id(metric.inception),
                          (metric.inception, []))[1].append(metric)
    start = 0
    for batch in iter_samples(generator, noise[indices], labels, truncation,
                              batch_size, progress=show):
        batch_indices = indices[start:start + batch.images.shape[0]].tolist()
        start += len(batch_indices)
        batch_labels = [None] * len(batch_indices) if batch.labels is None \
            else batch.labels.tolist()
        images = images_to_inception_input(batch.images).to(device)
        for inception, members in groups.values():
            outputs = inception(images)
            pool = outputs.pool.cpu().numpy()
            logits = None if outputs.logits is None else \
                outputs.logits.cpu().numpy()
            samples = [
                dict(index=index, label=batch_labels[i], pool=pool[i],
                     logits=None if logits is None else logits[i])
                for i, index in enumerate(batch_indices)
            ]
            for metric in members:
                metric.process(None, samples)
    if show:
        print()
