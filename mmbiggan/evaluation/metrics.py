"""Metrics of generated images as mmengine metrics: FID and IS, and the
diversity metrics PrecisionRecall (improved precision and recall, density
and coverage) and IntraClassFID.

All are fed per generated image by :func:`evaluate_generator`, which runs
each feature extractor once per batch for all metrics that share it:
``process`` receives dicts with the image's global ``index``, its
conditioning ``label`` (None when unconditional) and its Inception
``pool`` features and ``logits``. mmengine's ``BaseMetric`` gathers the
results of all ranks in index order, so the numbers do not depend on the
number of processes.

Metric keys are ``FID`` (with its two terms ``FID_mean`` and ``FID_cov``),
``IS`` (with ``IS_std``), ``precision``, ``recall``, ``density``,
``coverage`` and ``iFID``; set ``prefix`` to tell apart two metrics of the
same kind (``prefix='cifar'`` gives ``cifar/FID``).
"""
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.dist import broadcast_object_list, is_main_process
from mmengine.evaluator import BaseMetric

from mmbiggan.registry import METRICS

from .fid_inception import NUM_FEATURES
from .functional import (covariance_factor, feature_statistics,
                         frechet_distance, frechet_distance_of_features,
                         inception_score)
from .inception import build_inception
from .inception_stats import InceptionStats, load_inception_stats
from .manifold import manifold_metrics
from .real_features import (FEATURES_TOOL, RealFeatures, load_real_features,
                            subset_indices)


def _reject_bgr2rgb(bgr2rgb):
    if bgr2rgb is not None:
        raise ValueError(
            'bgr2rgb is not used by mmbiggan metrics: they always see RGB '
            'images, because the sampling API flips the output of '
            'generators built with rgb2bgr=True. Remove bgr2rgb from the '
            'metric config.')


class GenerativeMetric(BaseMetric):
    """A metric on the Inception outputs of ``num_images`` generated images.

    Subclasses that compare with real images say so with
    ``needs_real_images`` and take them in :meth:`set_real_features`; those
    that need images of given classes return them from
    :meth:`sample_labels`.

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
    # Whether the metric waits for real images (see set_real_features).
    needs_real_images = False

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

    def sample_labels(self, num_classes: int) -> Optional[torch.Tensor]:
        """The classes ``[num_images]`` the metric's images must be drawn
        with, or None to share the evaluation's images (classes uniform at
        random). ``num_classes`` is the generator's (0: unconditional)."""
        return None

    def set_real_features(self, real: Optional[RealFeatures]):
        """Take the features of the real images (:class:`RealFeatures` on
        the main process, None on the others, as
        :func:`~mmbiggan.evaluation.features.gather_real_features` gives
        them); :func:`evaluate_generator` calls it while
        ``needs_real_images``. ``real_images_hint`` says how to provide
        them otherwise."""
        raise NotImplementedError

    def process(self, data_batch, data_samples: Sequence[dict]):
        """Keep ``(index, output, label)`` of each generated image;
        ``data_samples`` hold ``index``, ``label`` and the outputs of
        ``self.inception``."""
        for sample in data_samples:
            self.results.append((sample['index'], sample[self.output_key],
                                 sample.get('label')))

    def _results_in_order(self, results: list) -> list:
        """The results of images ``0 .. num_images - 1``."""
        results = results[:self.num_images]
        if [result[0] for result in results] != list(range(self.num_images)):
            raise RuntimeError(
                f'{type(self).__name__} got {len(results)} results, not '
                f'images 0..{self.num_images - 1} in order; evaluate it with '
                'mmbiggan.evaluation.evaluate_generator.')
        return results

    def _outputs_in_order(self, results: list) -> np.ndarray:
        """The outputs of images ``0 .. num_images - 1``, ``[N, D]``."""
        return np.stack(
            [result[1] for result in self._results_in_order(results)])

    def _check_style(self, style: Optional[str], source: str):
        """Refuse real data computed with another extractor."""
        if style is not None and style != self.inception.style:
            raise ValueError(
                f'{source} was computed with the {style} features but this '
                f'{type(self).__name__} uses {self.inception.style}; '
                'features of different networks are not comparable. Match '
                'inception_args to the file or recompute it.')


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

    real_images_hint = (
        'set inception_pkl (see tools/utils/inception_stat.py) or give the '
        'evaluation a dataloader of real images (val_dataloader).')

    def _check_real_stats(self, stats: InceptionStats,
                          source: str) -> InceptionStats:
        if stats.mean.shape != (NUM_FEATURES, ):
            raise ValueError(
                f'{source} holds {stats.mean.shape[0]}-d statistics; FID '
                f'uses the {NUM_FEATURES}-d Inception pool features.')
        self._check_style(stats.inception, source)
        return stats

    @property
    def needs_real_images(self) -> bool:
        return self.real_stats is None

    def set_real_features(self, real: Optional[RealFeatures]):
        """Compute the real statistics on the main process and keep them
        on all ranks."""
        stats = [None]
        if is_main_process():
            mean, cov = feature_statistics(real.features)
            stats = [InceptionStats(mean, cov, len(real.features),
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
        if not self.inception.has_logits:
            raise ValueError(
                f'IS needs the 1008 Inception class logits; the '
                f'{self.inception.style} extractor has none. Give IS an '
                'Inception network (type StyleGAN or PyTorchFID).')
        if not isinstance(splits, int) or not 1 <= splits <= num_images:
            raise ValueError(f'IS splits must be an int in 1..num_images '
                             f'({num_images}), got {splits!r}.')
        self.splits = splits

    def compute_metrics(self, results: list) -> dict:
        mean, std = inception_score(
            self._outputs_in_order(results), self.splits)
        return {'IS': mean, 'IS_std': std}


class RealFeaturesMetric(GenerativeMetric):
    """A metric comparing generated features with the features of real
    images (not only their mean and covariance).

    The real features come from ``real_features``, a ``.npz`` written by
    ``tools/utils/inception_stat.py --save-features`` with the same
    extractor, or, when it is None, once from every image of the evaluation
    loop's dataloader (each rank extracts its share; every rank then holds
    all of them, so checks fail on all ranks alike).

    Args:
        num_images (int): Number of generated images.
        inception_args (dict): The feature extractor (see
            :func:`~mmbiggan.evaluation.inception.build_inception`).
        real_features (str, optional): The real features file.
        collect_device, prefix, collect_dir: As mmengine's ``BaseMetric``.
    """

    output_key = 'pool'

    def __init__(self,
                 num_images: int,
                 inception_args: dict,
                 real_features: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None):
        super().__init__(num_images, inception_args, collect_device, prefix,
                         collect_dir)
        self.real_features = real_features
        self.real: Optional[RealFeatures] = None
        if real_features is not None:
            real = load_real_features(real_features)
            self._check_style(real.inception, real_features)
            self._accept_real(real, real_features)

    @property
    def real_images_hint(self) -> str:
        return (f'set real_features (written by python {FEATURES_TOOL}) or '
                'give the evaluation a dataloader of real images '
                '(val_dataloader).')

    @property
    def needs_real_images(self) -> bool:
        return self.real is None

    def set_real_features(self, real: Optional[RealFeatures]):
        holder = [real]
        broadcast_object_list(holder)
        self._accept_real(holder[0], 'the real images')

    def _accept_real(self, real: RealFeatures, source: str):
        """Check and keep the real features."""
        self.real = real


@METRICS.register_module()
class PrecisionRecall(RealFeaturesMetric):
    """Improved precision and recall (Kynkäänniemi et al., 2019) with
    density and coverage (Naeem et al., 2020) of generated images against
    real ones, from ``k``-nearest-neighbour balls in a feature space (see
    :mod:`mmbiggan.evaluation.manifold`).

    Keys: ``precision`` (share of generated images on the real manifold:
    fidelity), ``recall`` (share of real images on the generated manifold:
    diversity), ``density`` (fidelity that counts overlapping real balls; 1
    on average for equal distributions, can exceed 1) and ``coverage``
    (share of real balls holding a generated image: diversity, robust to
    outliers). All four are computed at once, as StudioGAN's ``prdc``.

    Args:
        num_images (int): Number of generated images (10000 for PR10k).
        inception_args (dict): The feature extractor: an Inception network
            as FID's, or ``type`` a registered ``FEATURE_EXTRACTORS`` entry.
        k (int): Neighbourhood size. Defaults to 3 (Kynkäänniemi et al.,
            MMGeneration); StudioGAN and Naeem et al. use 5.
        real_features (str, optional): Real features file, see
            :class:`RealFeaturesMetric`.
        num_real_images (int, optional): Use this many real images, drawn
            at random with seed 0 from the file or dataloader; None (all).
        collect_device, prefix, collect_dir: As mmengine's ``BaseMetric``.
    """

    def __init__(self,
                 num_images: int,
                 inception_args: dict,
                 k: int = 3,
                 real_features: Optional[str] = None,
                 num_real_images: Optional[int] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None):
        if not isinstance(k, int) or k < 1:
            raise ValueError(f'PrecisionRecall k must be an int >= 1, got '
                             f'{k!r}.')
        if isinstance(num_images, int) and num_images <= k:
            raise ValueError(
                f'PrecisionRecall with k={k} needs num_images > k (each '
                f'image needs {k} neighbours), got {num_images}; raise '
                'num_images or lower k.')
        if num_real_images is not None and (
                not isinstance(num_real_images, int)
                or num_real_images <= k):
            raise ValueError(
                f'PrecisionRecall num_real_images must be None or an int > '
                f'k={k}, got {num_real_images!r}.')
        self.k = k
        self.num_real_images = num_real_images
        super().__init__(num_images, inception_args, real_features,
                         collect_device, prefix, collect_dir)

    def _accept_real(self, real: RealFeatures, source: str):
        keep = subset_indices(len(real.features), self.num_real_images)
        features = real.features[keep]
        if len(features) <= self.k:
            raise ValueError(
                f'PrecisionRecall with k={self.k} needs more than {self.k} '
                f'real images, got {len(features)} from {source}; lower k '
                'or use more real images.')
        self.real = RealFeatures(features, None, real.inception)

    def compute_metrics(self, results: list) -> dict:
        fake = self._outputs_in_order(results)
        real = self.real.features
        if real.shape[1] != fake.shape[1]:
            raise ValueError(
                f'The real features are {real.shape[1]}-d but the '
                f'{self.inception.style} extractor gives {fake.shape[1]}-d '
                'ones; recompute the real features with this extractor.')
        result = manifold_metrics(real, fake, self.k)
        return result._asdict()


@METRICS.register_module()
class IntraClassFID(RealFeaturesMetric):
    """Intra-class FID of a class-conditional generator (StudioGAN's iFID):
    the FID between its images of class ``c`` and the real images of class
    ``c``, averaged over the classes. A generator that draws good images
    of the wrong class, or one image per class, scores far worse here than
    in FID.

    The images are drawn class by class: image ``i`` has class ``i mod
    num_classes``, so each class gets ``num_images / num_classes`` (at
    least 2) from the evaluation's seed. The real features need labels
    (``gt_label`` of the dataloader's items, or ``labels`` in the file).

    Keys: ``iFID`` (the mean) and, with ``per_class=True``,
    ``iFID_class{c}`` for each class.

    Args:
        num_images (int): Generated images over all classes.
        inception_args (dict): The feature extractor, as FID's.
        real_features (str, optional): Labelled real features file, see
            :class:`RealFeaturesMetric`.
        per_class (bool): Also report each class's FID.
        collect_device, prefix, collect_dir: As mmengine's ``BaseMetric``.
    """

    def __init__(self,
                 num_images: int,
                 inception_args: dict,
                 real_features: Optional[str] = None,
                 per_class: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None):
        self.per_class = per_class
        self.num_classes: Optional[int] = None
        super().__init__(num_images, inception_args, real_features,
                         collect_device, prefix, collect_dir)

    def sample_labels(self, num_classes: int) -> torch.Tensor:
        if not num_classes:
            raise ValueError('IntraClassFID needs a class-conditional '
                             'generator; this one has no classes.')
        if self.num_images < 2 * num_classes:
            raise ValueError(
                f'IntraClassFID needs num_images >= 2 per class, >= '
                f'{2 * num_classes} for {num_classes} classes, got '
                f'{self.num_images}.')
        self.num_classes = num_classes
        if self.real is not None:
            self._check_classes(self.real, 'the real features')
        return torch.arange(self.num_images) % num_classes

    def _accept_real(self, real: RealFeatures, source: str):
        if real.labels is None:
            raise ValueError(
                f'IntraClassFID needs the class of each real image, and '
                f'{source} has none: use a dataset with labels (gt_label), '
                f'e.g. python {FEATURES_TOOL} --data-cfg CONFIG.')
        if self.num_classes is not None:
            self._check_classes(real, source)
        self.real = real

    def _check_classes(self, real: RealFeatures, source: str):
        counts = np.bincount(real.labels[real.labels >= 0],
                             minlength=self.num_classes)
        if real.labels.min() < 0 or len(counts) > self.num_classes:
            raise ValueError(
                f'{source} has classes {int(real.labels.min())}..'
                f'{int(real.labels.max())} but the generator has '
                f'0..{self.num_classes - 1}; use the dataset it was trained '
                'on.')
        few = np.flatnonzero(counts < 2)
        if len(few):
            raise ValueError(
                f'{source} has {int(counts[few[0]])} image(s) of class '
                f'{int(few[0])}; IntraClassFID needs >= 2 real images of '
                'every class.')

    def compute_metrics(self, results: list) -> dict:
        results = self._results_in_order(results)
        fake = np.stack([result[1] for result in results])
        fake_labels = np.array([result[2] for result in results])
        real = self.real
        fids = {}
        for c in range(self.num_classes):
            fids[c] = frechet_distance_of_features(
                fake[fake_labels == c], real.features[real.labels == c]).fid
        metrics = {'iFID': float(np.mean(list(fids.values())))}
        if self.per_class:
            metrics.update(
                {f'iFID_class{c}': fid for c, fid in fids.items()})
        return metrics
