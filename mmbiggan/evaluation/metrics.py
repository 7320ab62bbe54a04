"""FID and IS as mmengine metrics.

Both are fed per generated image by :func:`evaluate_generator`, which runs
each Inception network once per batch for all metrics that share it:
``process`` receives dicts with the image's global ``index`` and its
Inception ``pool`` features and ``logits``. mmengine's ``BaseMetric``
gathers the results of all ranks in index order, so the numbers do not
depend on the number of processes.

Metric keys are ``FID`` (with its two terms ``FID_mean`` and ``FID_cov``)
and ``IS`` (with ``IS_std``); set ``prefix`` to tell apart two metrics of
the same kind (``prefix='cifar'`` gives ``cifar/FID``).
"""
from typing import Optional, Sequence

import numpy as np
from mmengine.dist import (broadcast_object_list, collect_results,
                           is_main_process)
from mmengine.evaluator import BaseMetric

from mmbiggan.registry import METRICS

from .features import dataset_features
from .fid_inception import NUM_FEATURES
from .functional import (covariance_factor, feature_statistics,
                         frechet_distance, inception_score)
from .inception import build_inception
from .inception_stats import InceptionStats, load_inception_stats


def _reject_bgr2rgb(bgr2rgb):
    if bgr2rgb is not None:
        raise ValueError(
            'bgr2rgb is not used by mmbiggan metrics: they always see RGB '
            'images, because the sampling API flips the output of '
            'generators built with rgb2bgr=True. Remove bgr2rgb from the '
            'metric config.')


class GenerativeMetric(BaseMetric):
    """A metric on the Inception outputs of ``num_images`` generated images.

    Args:
        num_images (int): Number of generated images evaluated.
        inception_args (dict): The Inception network, see
            :func:`~mmbiggan.evaluation.inception.build_inception`.
        collect_device, prefix, collect_dir: As mmengine's ``BaseMetric``.
    """

    # Which Inception output the metric keeps: 'pool' or 'logits'.
    output_key: str
    # Metric keys carry no prefix unless one is given.
    default_prefix = ''

    def __init__(self,
                 num_images: int,
                 inception_args: dict,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None):
        super().__init__(collect_device, prefix, collect_dir)
        if not isinstance(num_images, int) or num_images < 2:
            raise ValueError(f'{type(self).__name__} needs num_images >= 2, '
                             f'got {num_images!r}.')
        self.num_images = num_images
        self.inception = build_inception(inception_args)

    def process(self, data_batch, data_samples: Sequence[dict]):
        """Keep ``(index, output)`` of each generated image; ``data_samples``
        hold ``index`` and the outputs of ``self.inception``."""
        for sample in data_samples:
            self.results.append((sample['index'], sample[self.output_key]))

    def _outputs_in_order(self, results: list) -> np.ndarray:
        """The outputs of images ``0 .. num_images - 1``, ``[N, D]``."""
        indices = [index for index, _ in results[:self.num_images]]
        if indices != list(range(self.num_images)):
            raise RuntimeError(
                f'{type(self).__name__} got {len(results)} results, not '
                f'images 0..{self.num_images - 1} in order; evaluate it with '
                'mmbiggan.evaluation.evaluate_generator.')
        return np.stack([output for _, output in results[:self.num_images]])


@METRICS.register_module()
class FID(GenerativeMetric):
    """Fréchet Inception Distance between generated images and real ones.

    Args:
        num_images (int): Number of generated images (50000 for FID50k).
        inception_args (dict): The Inception network, e.g.
            ``dict(type='StyleGAN', inception_path=...)``.
        inception_pkl (str, optional): Statistics of the real images
            (``.pkl`` as written by ``tools/utils/inception_stat.py`` or
            MMGeneration, or pytorch-fid's ``.npz``). When None, they are
            computed once from all images of the evaluation loop's
            dataloader and kept.
        bgr2rgb: Not used (mmbiggan metrics always see RGB); refused with an
            explanation so MMGeneration configs are fixed, not misread.
        collect_device, prefix, collect_dir: As mmengine's ``BaseMetric``.
    """

    output_key = 'pool'

    def __init__(self,
                 num_images: int,
                 inception_args: dict,
                 inception_pkl: Optional[str] = None,
                 bgr2rgb: Optional[bool] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None):
        _reject_bgr2rgb(bgr2rgb)
        super().__init__(num_images, inception_args, collect_device, prefix,
                         collect_dir)
        self.inception_pkl = inception_pkl
        self.real_stats: Optional[InceptionStats] = None
        if inception_pkl is not None:
            stats = load_inception_stats(inception_pkl)
            # A file's image count is not trusted to bound the rank of its
            # covariance (see frechet_distance).
            self.real_stats = self._check_real_stats(
                stats._replace(num_images=None), inception_pkl)

    def _check_real_stats(self, stats: InceptionStats,
                          source: str) -> InceptionStats:
        if stats.mean.shape != (NUM_FEATURES, ):
            raise ValueError(
                f'{source} holds {stats.mean.shape[0]}-d statistics; FID '
                f'uses the {NUM_FEATURES}-d Inception pool features.')
        if stats.inception is not None and \
                stats.inception != self.inception.style:
            raise ValueError(
                f'{source} was computed with the {stats.inception} '
                f'Inception but this FID uses {self.inception.style}; '
                'FIDs from different networks are not comparable. Match '
                'inception_args to the statistics or recompute them.')
        return stats

    @property
    def needs_real_images(self) -> bool:
        return self.real_stats is None

    def prepare_real_stats(self, dataloader, progress: bool = True):
        """Compute the real statistics from every image of ``dataloader``
        (each rank its sampler's share) and keep them on all ranks."""
        if dataloader is None:
            raise ValueError(
                'FID needs statistics of real images: set inception_pkl (see '
                'tools/utils/inception_stat.py) or give the evaluation a '
                'dataloader of real images (val_dataloader).')
        features = dataset_features(dataloader, self.inception, progress)
        features = collect_results(
            features, len(dataloader.dataset), self.collect_device,
            **({'tmpdir': self.collect_dir} if self.collect_device == 'cpu'
               else {}))
        stats = [None]
        if is_main_process():
            mean, cov = feature_statistics(np.stack(features))
            stats = [InceptionStats(mean, cov, len(features),
                                    self.inception.style)]
        broadcast_object_list(stats)
        self.real_stats = stats[0]

    def compute_metrics(self, results: list) -> dict:
        features = self._outputs_in_order(results)
        mean, cov = feature_statistics(features)
        # Fewer images than dimensions: the thin factor of the features is
        # exact and much cheaper than factoring the covariance.
        factor = covariance_factor(features) \
            if len(features) <= NUM_FEATURES else None
        real = self.real_stats
        result = frechet_distance(
            mean, cov, real.mean, real.cov,
            num_samples=(len(features), real.num_images), factor1=factor)
        return {
            'FID': result.fid,
            'FID_mean': result.mean_term,
            'FID_cov': result.cov_term
        }


@METRICS.register_module()
class IS(GenerativeMetric):
    """Inception Score of generated images: softmax over the 1008 logits
    without output bias, ``splits`` consecutive groups, mean and standard
    deviation over the groups (as the original TensorFlow code and
    StyleGAN2-ADA).

    Args:
        num_images (int): Number of generated images (50000 for IS50k).
        inception_args (dict): The Inception network.
        splits (int): Number of groups. Defaults to 10.
        bgr2rgb: Not used, see :class:`FID`.
        collect_device, prefix, collect_dir: As mmengine's ``BaseMetric``.
    """

    output_key = 'logits'

    def __init__(self,
                 num_images: int,
                 inception_args: dict,
                 splits: int = 10,
                 bgr2rgb: Optional[bool] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None):
        _reject_bgr2rgb(bgr2rgb)
        super().__init__(num_images, inception_args, collect_device, prefix,
                         collect_dir)
        if not isinstance(splits, int) or not 1 <= splits <= num_images:
            raise ValueError(f'IS splits must be an int in 1..num_images '
                             f'({num_images}), got {splits!r}.')
        self.splits = splits

    def compute_metrics(self, results: list) -> dict:
        mean, std = inception_score(
            self._outputs_in_order(results), self.splits)
        return {'IS': mean, 'IS_std': std}
