"""What the MMGeneration and mmagic translations share: the report of
warnings and refusals, and the mmbiggan pieces both produce (runtime,
optimizers, EMA, checkpoints, metrics, datasets)."""
import logging
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Tuple

from mmengine.logging import print_log

from mmbiggan.engine.config_check import ConfigError

# Where mmbiggan looks for the Inception weights that MMGeneration and mmagic
# downloaded (nothing is downloaded here; README, "Evaluation").
STYLEGAN_INCEPTION = 'work_dirs/cache/inception-2015-12-05.pt'
PYTORCH_FID_INCEPTION = 'work_dirs/cache/pt_inception-2015-12-05-6726825d.pth'


class Translation:
    """The warnings of one translation; refusals raise :class:`ConfigError`
    (one line naming the key, which ``tools/train.py`` prints as is).

    Args:
        dialect (str): ``'MMGeneration'`` or ``'mmagic'``, named in every
            message.
    """

    def __init__(self, dialect: str):
        self.dialect = dialect
        self.warnings: List[str] = []

    def warn(self, key: str, message: str):
        """Log ``key: message`` as a warning and keep it."""
        line = f'{self.dialect} config, {key}: {message}'
        self.warnings.append(line)
        print_log(line, logger='current', level=logging.WARNING)

    def refuse(self, key: str, message: str):
        """Raise the one-line error for a value mmbiggan cannot honour."""
        raise ConfigError(f'{self.dialect} config, {key}: {message}')

    def expect_value(self, cfg: dict, where: str, key: str, allowed):
        """Refuse ``cfg[key]`` outside ``allowed``; a missing key counts as
        ``allowed[0]``, the source's default."""
        if cfg.get(key, allowed[0]) not in allowed:
            self.refuse(f'{where}.{key}', f'{cfg[key]!r} is not supported.')

    def expect_keys(self, cfg: dict, where: str, allowed):
        """Refuse the first key of ``cfg`` outside ``allowed``."""
        for key in cfg:
            if key not in allowed:
                self.refuse(f'{where}.{key}',
                            'not supported by mmbiggan; remove it (known '
                            f'keys here: {", ".join(sorted(allowed))}).')


def runtime_defaults() -> dict:
    """mmbiggan's runtime (as ``configs/_base_/default_runtime.py``) less
    the parts a translation sets from the source: logger and checkpoint
    intervals, training loop, sample hooks."""
    return dict(
        default_scope='mmbiggan',
        randomness=dict(seed=None, diff_rank_seed=True),
        env_cfg=dict(
            cudnn_benchmark=True,
            mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
            dist_cfg=dict(backend='nccl')),
        default_hooks=dict(
            timer=dict(type='IterTimerHook'),
            logger=dict(
                type='LoggerHook', interval=100, log_metric_by_epoch=False),
            param_scheduler=dict(type='ParamSchedulerHook'),
            checkpoint=dict(
                type='CheckpointHook',
                interval=10000,
                by_epoch=False,
                save_optimizer=True,
                save_param_scheduler=True),
            sampler_seed=dict(type='DistSamplerSeedHook')),
        log_processor=dict(
            type='LogProcessor', window_size=100, by_epoch=False),
        log_level='INFO',
        visualizer=dict(
            type='Visualizer', vis_backends=[dict(type='LocalVisBackend')]),
        model_wrapper_cfg=dict(
            type='mmbiggan.SeparateDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=False),
        load_from=None,
        resume=False)


def optim_wrapper(generator: dict, discriminator: dict, gen_accumulation=1,
                  disc_accumulation=1) -> dict:
    """``optim_wrapper`` of mmbiggan's :class:`MultiOptimWrapperConstructor`
    from two optimizer configs (``type``, ``lr``, ``betas``...)."""
    wrappers = {}
    for name, optimizer, accumulation in (
            ('generator', generator, gen_accumulation),
            ('discriminator', discriminator, disc_accumulation)):
        wrapper = dict(optimizer=dict(optimizer))
        if accumulation != 1:
            wrapper['accumulative_counts'] = accumulation
        wrappers[name] = wrapper
    return dict(constructor='MultiOptimWrapperConstructor', **wrappers)


def inception_args(kind: Optional[str], path: Optional[str],
                   report: Translation, where: str) -> dict:
    """mmbiggan's ``inception_args`` for a source's Inception ``kind``
    (``'StyleGAN'``: NVIDIA's TorchScript network; anything else: the
    pytorch-fid weights) and its path, which must be a local file name:
    URLs are replaced by the local default with a warning."""
    if kind == 'StyleGAN':
        default, kind = STYLEGAN_INCEPTION, 'StyleGAN'
    else:
        default, kind = PYTORCH_FID_INCEPTION, 'PyTorchFID'
    if path is None or '://' in str(path):
        report.warn(
            where, f'the Inception weights are read from {default} '
            '(mmbiggan never downloads them; see README, Evaluation).')
        path = default
    return dict(type=kind, inception_path=path)


def best_checkpoint(names: List[str]) -> Dict:
    """``save_best``/``rule`` keeping the best checkpoint by each metric
    (``'FID'`` lower is better, ``'IS'`` higher)."""
    rules = ['less' if n == 'FID' else 'greater' for n in names]
    if len(names) == 1:
        return dict(save_best=names[0], rule=rules[0])
    return dict(save_best=list(names), rule=rules)


def cifar10_dataset(root: str, split: str, flip: bool) -> dict:
    """mmbiggan's CIFAR-10 (``root`` holds ``cifar-10-batches-py``)."""
    pipeline = [dict(type='RandomFlip', prob=0.5, direction='horizontal')
                ] if flip else []
    return dict(
        type='CIFAR10Dataset',
        data_root=root,
        split=split,
        pipeline=pipeline + [dict(type='PackInputs')])


def imagenet_dataset(data_root: str, data_prefix: str, ann_file: str,
                     pipeline: list) -> dict:
    """ImageNet from an annotation file (``path label`` lines), or, without
    one, from class subfolders sorted by name as mmcls's ImageNet does."""
    if ann_file:
        return dict(type='ImageNetDataset', data_root=data_root,
                    data_prefix=data_prefix, ann_file=ann_file,
                    pipeline=pipeline)
    return dict(type='ImageFolderDataset', data_root=data_root,
                data_prefix=data_prefix, pipeline=pipeline)


def join_root(root: Optional[str], prefix: Optional[str]) -> str:
    """``root/prefix`` as mmengine's datasets join them."""
    if root and prefix:
        return osp.join(root, prefix)
    return root or prefix or ''


def train_dataloader(dataset: dict, batch_size: int,
                     num_workers: int) -> dict:
    """An endless shuffled stream whose position checkpoints save, as every
    mmbiggan recipe trains (MMGeneration's and mmagic's samplers shuffle
    every epoch too)."""
    return dict(
        batch_size=batch_size,
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
        sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
        collate_fn=dict(type='pseudo_collate'),
        dataset=dataset)


def eval_dataloader(dataset: dict, batch_size: int, num_workers: int) -> dict:
    """The real images of FID, in order."""
    return dict(
        batch_size=batch_size,
        num_workers=num_workers,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='pseudo_collate'),
        dataset=dataset)


def channel_order_warning(report: Translation, key: str):
    """The source trained on BGR images; mmbiggan trains on RGB."""
    report.warn(
        key, 'the source trained on BGR images; mmbiggan trains on RGB '
        '(datasets load RGB, samples and checkpoints are RGB), so the '
        'channel order of the data differs from the source run.')


class PipelineDialect(NamedTuple):
    """How a source names the transforms that mmbiggan has too."""
    flip: str  # the flip transform ('RandomFlip' in mmcls, 'Flip' mmagic)
    flip_prob: str  # its probability argument
    size_keys: Tuple[str, ...]  # Resize's output-size argument(s)
    dropped: Tuple[str, ...]  # packing steps mmbiggan's PackInputs replaces
    with_normalize: bool  # mmcls's Normalize (mean/std 127.5, to_rgb)


MMCLS_PIPELINE = PipelineDialect('RandomFlip', 'flip_prob', ('size', 'scale'),
                                 ('ImageToTensor', 'ToTensor', 'Collect'),
                                 True)
MMAGIC_PIPELINE = PipelineDialect('Flip', 'flip_ratio', ('scale', ),
                                  ('PackInputs', ), False)


def convert_pipeline(report: Translation, steps: list, where: str,
                     dialect: PipelineDialect,
                     cifar: bool) -> Tuple[list, bool, bool]:
    """mmbiggan's pipeline for a source's ``steps``; CIFAR-10 items are
    arrays already, so only flips are allowed there.

    Returns:
        tuple: The transforms (ending with ``PackInputs``), whether they
        flip, and whether a ``Normalize(to_rgb=True)`` swapped the channels.
    """
    out, flip, swapped = [], False, False
    file_steps = () if cifar else ('LoadImageFromFile', 'CenterCropLongEdge',
                                   'RandomCropLongEdge', 'Resize')
    for index, step in enumerate(steps):
        at = f'{where}.pipeline[{index}]'
        kind = step.get('type')
        if kind in dialect.dropped:
            continue
        if kind == 'LoadImageFromFile' and kind in file_steps:
            report.expect_keys(step, at, ('type', 'key'))
            out.append(dict(type=kind))
        elif kind in ('CenterCropLongEdge', 'RandomCropLongEdge') and \
                kind in file_steps:
            report.expect_keys(step, at, ('type', 'keys'))
            out.append(dict(type=kind))
        elif kind == 'Resize' and kind in file_steps:
            report.expect_keys(
                step, at, ('type', 'backend', 'interpolation', 'keys',
                           'keep_ratio') + dialect.size_keys)
            size = next((step[k] for k in dialect.size_keys if k in step),
                        None)
            if step.get('keep_ratio') or isinstance(size, (int, type(None))) \
                    or size[0] != size[1]:
                report.refuse(at, f'size {size}: mmbiggan resizes to a '
                              'square (h, w) without keep_ratio.')
            # mmcls's and mmagic's Resize default to OpenCV, bilinear.
            out.append(
                dict(type='Resize', scale=tuple(size),
                     backend=step.get('backend') or 'cv2',
                     interpolation=step.get('interpolation', 'bilinear')))
        elif kind == dialect.flip:
            report.expect_keys(
                step, at, ('type', 'keys', 'direction', dialect.flip_prob))
            if step.get('direction', 'horizontal') != 'horizontal':
                report.refuse(f'{at}.direction', 'only horizontal flips.')
            prob = float(step.get(dialect.flip_prob, 0.5))
            if cifar and prob != 0.5:
                report.refuse(f'{at}.{dialect.flip_prob}',
                              f'{prob}; CIFAR-10 flips with 0.5.')
            flip = True
            out.append(
                dict(type='RandomFlip', prob=prob, direction='horizontal'))
        elif kind == 'Normalize' and dialect.with_normalize:
            report.expect_keys(step, at, ('type', 'mean', 'std', 'to_rgb'))
            if list(step.get('mean')) != [127.5] * 3 or \
                    list(step.get('std')) != [127.5] * 3:
                report.refuse(
                    at, 'mmbiggan maps pixels to [-1, 1] (mean = std = '
                    f'127.5); got mean {step.get("mean")}, std '
                    f'{step.get("std")}.')
            swapped ^= bool(step.get('to_rgb'))
        else:
            report.refuse(f'{at}.type',
                          f'{kind!r} has no mmbiggan equivalent.')
    return out + [dict(type='PackInputs')], flip, swapped
