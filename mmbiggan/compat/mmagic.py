"""mmagic 1.x (mmengine-style) configs of BigGAN, SAGAN and SNGAN-proj ->
mmbiggan configs.

mmagic's configs already have mmbiggan's layout (``train_dataloader``,
``optim_wrapper``, ``default_hooks``); what differs are type names,
argument names and three conventions, taken from mmagic's code:

* ``ExponentialMovingAverage.momentum`` weighs the *new* value
  (``avg = (1 - m) * avg + m * new``); mmbiggan's weighs the average, so
  mmbiggan's momentum is ``1 - m``. ``update_buffers=False`` copies the
  buffers (mmbiggan ``buffer_momentum=0``).
* ``BaseGAN.train_step`` starts the average when ``(iter + 1) >=
  start_iter * discriminator_steps * accumulative_counts``: mmagic's
  ``start_iter`` counts generator updates, and the first averaging call
  (mmengine's ``BaseAveragedModel``, ``steps == 0``) copies. mmbiggan's
  ``start_iter`` counts runner iterations.
* ``DataPreprocessor(output_channel_order='BGR')`` trains on BGR images;
  mmbiggan trains on RGB. ``rgb_to_bgr`` of a generator is mmbiggan's
  ``rgb2bgr``.
"""
from copy import deepcopy
from typing import List, Tuple

from .common import (MMAGIC_PIPELINE,
                     Translation,
                     best_checkpoint,
                     channel_order_warning,
                     cifar10_dataset,
                     convert_pipeline,
                     eval_dataloader,
                     imagenet_dataset,
                     inception_args,
                     join_root,
                     runtime_defaults,
                     train_dataloader)

GAN_TYPES = ('BigGAN', 'SAGAN', 'SNGAN', 'BasicConditionalGAN',
             'BaseConditionalGAN')
# Generator/discriminator types whose weight init is ``init_type`` in
# mmbiggan (mmagic gives it as ``init_cfg=dict(type=...)``).
INIT_TYPE_NETWORKS = ('BigGANGenerator', 'BigGANDiscriminator',
                      'BigGANDeepGenerator', 'BigGANDeepDiscriminator')
FID_TYPES = ('FrechetInceptionDistance', 'FID', 'FID-Full')
IS_TYPES = ('IS', 'InceptionScore')
KNOWN_VARIABLES = ('ema_config', 'metrics', 'inception_pkl', 'disc_step',
                   'init_cfg', 'vis_backends', 'dataset_type',
                   'train_pipeline', 'test_pipeline', 'cifar_pipeline',
                   'cifar_dataset', 'cifar_pipeline_test',
                   'cifar_dataset_test', 'num_classes')
# Settings mmengine's Runner ignores in mmagic too.
IGNORED_KEYS = ('dist_params', 'opencv_num_threads', 'mp_start_method')


def is_mmagic_config(cfg: dict) -> bool:
    """Whether ``cfg`` is written for mmagic: its default scope, or a model
    of mmagic's GAN types with its ``DataPreprocessor``."""
    if cfg.get('default_scope') == 'mmagic':
        return True
    model = cfg.get('model') or {}
    preprocessor = model.get('data_preprocessor') or {}
    return model.get('type') in ('SAGAN', 'SNGAN') or (
        isinstance(preprocessor, dict)
        and preprocessor.get('type') == 'DataPreprocessor')


class MMagicTranslator:
    """One translation of an mmagic config (a plain dict); see
    :class:`~mmbiggan.compat.mmgen.MMGenTranslator` for the arguments."""

    def __init__(self, source: dict, for_training: bool = True):
        self.src = deepcopy(source)
        self.for_training = for_training
        self.report = Translation('mmagic')
        self.out = runtime_defaults()
        # Set from optim_wrapper and default_hooks when the config has them.
        self.disc_accumulation = 1
        self.save_best = None

    def translate(self) -> Tuple[dict, List[str]]:
        self._optim_wrapper()
        self.out['model'] = self._model()
        self._schedule()
        self._data()
        self._evaluation()
        self._hooks()
        self._runtime()
        self._unknown_keys()
        return self.out, self.report.warnings

    # ------------------------------------------------------------------
    def _optim_wrapper(self):
        optim = self.src.get('optim_wrapper')
        if not optim or not (optim.get('generator')
                             or optim.get('discriminator')):
            if self.for_training:
                self.report.refuse('optim_wrapper', 'missing (no optimizers'
                                   '); this config cannot train.')
            return
        optim = dict(optim)
        self.report.expect_keys(optim, 'optim_wrapper',
                                ('constructor', 'generator', 'discriminator'))
        self.report.expect_value(optim, 'optim_wrapper', 'constructor',
                                 ('MultiOptimWrapperConstructor', ))
        optim['constructor'] = 'MultiOptimWrapperConstructor'
        self.out['optim_wrapper'] = optim
        self.disc_accumulation = int(
            (optim.get('discriminator') or {}).get('accumulative_counts', 1))

    def _network(self, cfg: dict, where: str) -> dict:
        cfg = dict(cfg)
        if 'rgb_to_bgr' in cfg:
            cfg['rgb2bgr'] = bool(cfg.pop('rgb_to_bgr'))
        init_cfg = cfg.get('init_cfg')
        if cfg.get('type') in INIT_TYPE_NETWORKS and init_cfg is not None:
            init_cfg = dict(cfg.pop('init_cfg'))
            self.report.expect_keys(init_cfg, f'{where}.init_cfg', ('type', ))
            cfg['init_type'] = init_cfg['type']
        return cfg

    def _model(self) -> dict:
        model = dict(self.src.get('model') or {})
        if not model:
            self.report.refuse('model', 'missing.')
        self.report.expect_keys(
            model, 'model',
            ('type', 'num_classes', 'data_preprocessor', 'generator',
             'discriminator', 'generator_steps', 'discriminator_steps',
             'ema_config', 'init_cfg', 'noise_size'))
        if model.get('type') not in GAN_TYPES:
            self.report.refuse(
                'model.type', f'{model.get("type")!r}: mmbiggan trains '
                'BigGAN, SAGAN and SNGAN (class-conditional GANs).')
        if model.get('noise_size') is not None:
            self.report.refuse('model.noise_size',
                               'set noise_size in model.generator instead.')
        out = dict(
            type='BigGAN',
            generator=self._network(model['generator'], 'model.generator'),
            # mmagic's BigGAN, SAGAN and SNGAN train with the hinge loss.
            gan_loss=dict(type='GANLoss', gan_type='hinge'),
            generator_steps=int(model.get('generator_steps', 1)),
            discriminator_steps=int(model.get('discriminator_steps', 1)),
            data_preprocessor=self._preprocessor(
                model.get('data_preprocessor')))
        if model.get('discriminator'):
            out['discriminator'] = self._network(model['discriminator'],
                                                 'model.discriminator')
        for key in ('num_classes', 'init_cfg'):
            if model.get(key) is not None:
                out[key] = model[key]
        num_classes = model.get('num_classes') or \
            model['generator'].get('num_classes')
        if not num_classes:
            self.report.refuse('model.num_classes',
                               'not set; set it (10 for CIFAR-10, 1000 for '
                               'ImageNet) for a class-conditional GAN.')
        cycle = out['discriminator_steps'] * self.disc_accumulation
        out['ema_config'] = self._ema(model.get('ema_config'), cycle)
        out['sample_model'] = 'ema' if out['ema_config'] else 'orig'
        return out

    def _preprocessor(self, cfg) -> dict:
        cfg = dict(cfg or dict(type='DataPreprocessor'))
        where = 'model.data_preprocessor'
        self.report.expect_value(cfg, where, 'type',
                                 ('DataPreprocessor', 'GANDataPreprocessor'))
        self.report.expect_keys(
            cfg, where, ('type', 'output_channel_order', 'mean', 'std'))
        for key in ('mean', 'std'):
            values = cfg.get(key, 127.5)
            values = values if isinstance(values, (list, tuple)) else [values]
            if any(float(v) != 127.5 for v in values):
                self.report.refuse(
                    f'{where}.{key}', f'{cfg[key]}: mmbiggan maps pixels to '
                    '[-1, 1] (mean = std = 127.5).')
        self.output_order = cfg.get('output_channel_order')
        if self.output_order not in (None, 'RGB', 'BGR'):
            self.report.refuse(f'{where}.output_channel_order',
                               f'{self.output_order!r}; RGB or BGR.')
        return dict(type='GANDataPreprocessor')

    def _ema(self, cfg, cycle: int):
        if not cfg:
            return None
        cfg = dict(cfg)
        self.report.expect_keys(
            cfg, 'model.ema_config',
            ('type', 'interval', 'momentum', 'update_buffers', 'start_iter'))
        if cfg.get('type', 'ExponentialMovingAverage') != \
                'ExponentialMovingAverage':
            self.report.refuse('model.ema_config.type',
                               f'{cfg["type"]!r}; only '
                               'ExponentialMovingAverage.')
        new_weight = float(cfg.get('momentum', 0.0002))
        interval = int(cfg.get('interval', 1))
        start = int(cfg.get('start_iter', 0))
        first_average = max(start, 1)
        if first_average % interval:
            self.report.refuse(
                'model.ema_config.interval',
                f'{interval} does not divide the first averaged generator '
                f'update ({first_average}); mmbiggan counts the interval '
                'from the first generator update.')
        momentum = 1 - new_weight
        unusual = ' (mmagic itself warns that a momentum above 0.5 is ' \
            'unusual; 0.999 was probably meant as 1 - 0.999)' \
            if new_weight > 0.5 else ''
        self.report.warn(
            'model.ema_config.momentum',
            f'{new_weight} is the weight of the new value in mmagic; '
            f'mmbiggan uses the weight of the average: momentum={momentum:g}'
            f'{unusual}.')
        start_iter = first_average * cycle
        self.report.warn(
            'model.ema_config.start_iter',
            f'{start} counts generator updates in mmagic; mmbiggan counts '
            f'runner iterations: start_iter={start_iter} (the same update).')
        buffers = momentum if cfg.get('update_buffers', False) else 0.0
        return dict(
            momentum=momentum,
            interval=interval,
            start_iter=start_iter,
            buffer_momentum=buffers)

    # ------------------------------------------------------------------
    def _schedule(self):
        train_cfg = self.src.get('train_cfg')
        if not train_cfg or 'max_iters' not in train_cfg:
            if self.for_training:
                self.report.refuse('train_cfg.max_iters', 'missing; this '
                                   'config cannot train.')
            return
        train_cfg = dict(train_cfg)
        self.report.expect_keys(
            train_cfg, 'train_cfg',
            ('type', 'by_epoch', 'max_iters', 'val_begin', 'val_interval',
             'dynamic_intervals'))
        if train_cfg.pop('by_epoch', False):
            self.report.refuse('train_cfg.by_epoch', 'True; mmbiggan trains '
                               'by iterations.')
        self.report.expect_value(train_cfg, 'train_cfg', 'type',
                                 ('IterBasedTrainLoop', ))
        train_cfg['type'] = 'IterBasedTrainLoop'
        self.out['train_cfg'] = train_cfg
        for name, hook in (self.src.get('default_hooks') or {}).items():
            if name != 'checkpoint':
                self.out['default_hooks'][name] = hook
        checkpoint = dict(
            (self.src.get('default_hooks') or {}).get('checkpoint') or {})
        # mmagic's hints for its own best-checkpoint rule; mmbiggan's rule
        # comes from save_best below.
        checkpoint.pop('less_keys', None)
        checkpoint.pop('greater_keys', None)
        self.save_best = checkpoint.pop('save_best', None)
        checkpoint.pop('rule', None)
        self.out['default_hooks']['checkpoint'].update(checkpoint)

    def _dataset(self, cfg: dict, where: str) -> dict:
        cfg = dict(cfg)
        kind = cfg.get('type')
        if kind == 'CIFAR10':
            self.report.expect_keys(
                cfg, where,
                ('type', 'data_root', 'data_prefix', 'test_mode', 'pipeline'))
            flip = self._pipeline(cfg.get('pipeline') or [], where, 'RGB',
                                  cifar=True)
            return cifar10_dataset(
                join_root(cfg.get('data_root'), cfg.get('data_prefix')),
                'test' if cfg.get('test_mode') else 'train', flip)
        if kind == 'ImageNet':
            self.report.expect_keys(
                cfg, where,
                ('type', 'data_root', 'ann_file', 'data_prefix', 'pipeline'))
            prefix = cfg.get('data_prefix', '')
            if isinstance(prefix, dict):
                prefix = prefix.get('img_path', prefix.get('img', ''))
            return imagenet_dataset(
                cfg.get('data_root', ''), prefix, cfg.get('ann_file', ''),
                self._pipeline(cfg.get('pipeline') or [], where, 'BGR',
                               cifar=False))
        self.report.refuse(f'{where}.type',
                           f'{kind!r}: mmbiggan reads CIFAR10 and ImageNet.')

    def _pipeline(self, steps: list, where: str, loaded_order: str,
                  cifar: bool):
        """mmbiggan's pipeline (for CIFAR-10 only whether it flips);
        ``loaded_order``: the channel order the source dataset yields, which
        the data preprocessor's ``output_channel_order`` overrides."""
        pipeline, flip, _ = convert_pipeline(self.report, steps, where,
                                             MMAGIC_PIPELINE, cifar)
        if (self.output_order or loaded_order) == 'BGR':
            channel_order_warning(self.report, f'{where}.pipeline')
        return flip if cifar else pipeline

    def _data(self):
        loader = self.src.get('train_dataloader')
        if not loader:
            if self.for_training:
                self.report.refuse('train_dataloader', 'missing; this config '
                                   'cannot train.')
            return
        if not loader.get('batch_size'):
            self.report.refuse('train_dataloader.batch_size', 'not set.')
        self.out['train_dataloader'] = train_dataloader(
            self._dataset(loader['dataset'], 'train_dataloader.dataset'),
            int(loader['batch_size']), int(loader.get('num_workers', 2)))

    # ------------------------------------------------------------------
    def _metric(self, cfg: dict, where: str) -> Tuple[dict, str]:
        """An mmbiggan metric and the sample model the source used."""
        cfg = dict(cfg)
        kind = cfg.get('type')
        allowed = ('type', 'prefix', 'fake_nums', 'real_nums',
                   'inception_style', 'inception_path', 'sample_model',
                   'need_cond_input')
        if kind in FID_TYPES:
            kind = 'FID'
            allowed += ('inception_pkl', )
        elif kind in IS_TYPES:
            kind = 'IS'
            allowed += ('resize', 'splits', 'use_pillow_resize')
        else:
            self.report.refuse(f'{where}.type',
                               f'{kind!r}; mmbiggan computes FID and IS.')
        self.report.expect_keys(cfg, where, allowed)
        if cfg.get('real_nums', -1) != -1:
            self.report.refuse(f'{where}.real_nums',
                               'mmbiggan uses all real images (-1).')
        style = cfg.get('inception_style', 'StyleGAN')
        metric = dict(
            type=kind,
            num_images=int(cfg['fake_nums']),
            inception_args=inception_args(
                style, cfg.get('inception_path'), self.report,
                f'{where}.inception_style'))
        if kind == 'FID' and cfg.get('inception_pkl'):
            metric['inception_pkl'] = cfg['inception_pkl']
        if kind == 'IS' and 'splits' in cfg:
            metric['splits'] = int(cfg['splits'])
        self.metric_names[cfg.get('prefix') or kind] = kind
        return metric, cfg.get('sample_model', 'ema')

    def _metrics(self, evaluator, where: str) -> Tuple[list, set]:
        if isinstance(evaluator, dict):
            evaluator = evaluator.get('metrics') or []
        converted = [
            self._metric(m, f'{where}.metrics[{i}]')
            for i, m in enumerate(evaluator or [])
        ]
        return [m for m, _ in converted], {s for _, s in converted}

    def _evaluation(self):
        self.metric_names = {}
        val = self.src.get('val_evaluator')
        metrics, models = self._metrics(val, 'val_evaluator')
        test_metrics, _ = self._metrics(
            self.src.get('test_evaluator'), 'test_evaluator')
        if test_metrics and not self.for_training:
            self.out['test_evaluator'] = dict(metrics=test_metrics)
        if not metrics or 'train_cfg' not in self.out:
            return
        if len(models) > 1 or not models <= {'ema', 'orig'}:
            self.report.refuse(
                'val_evaluator.metrics', f'sample_model {sorted(models)}: '
                'mmbiggan evaluates one generator (ema or orig) per run.')
        sample_model = models.pop()
        if sample_model == 'ema' and not self.out['model']['ema_config']:
            self.report.refuse('val_evaluator.metrics',
                               "sample_model 'ema' but the model has no EMA.")
        loader = self.src.get('val_dataloader') or {}
        self.out['val_evaluator'] = dict(metrics=metrics)
        self.out['val_cfg'] = dict(
            type='GenerativeValLoop',
            seed=0,
            batch_size=int(loader.get('batch_size') or 32),
            sample_model=sample_model)
        if loader.get('dataset'):
            self.out['val_dataloader'] = eval_dataloader(
                self._dataset(loader['dataset'], 'val_dataloader.dataset'),
                int(loader.get('batch_size') or 32),
                int(loader.get('num_workers', 2)))
        if self.save_best:
            names = []
            best = self.save_best
            for name in [best] if isinstance(best, str) else best:
                prefix = name.split('/')[0]
                if prefix not in self.metric_names:
                    self.report.refuse('default_hooks.checkpoint.save_best',
                                       f'{name!r} names no metric.')
                names.append(self.metric_names[prefix])
            self.out['default_hooks']['checkpoint'].update(
                best_checkpoint(names))

    def _hooks(self):
        hooks = []
        for index, hook in enumerate(self.src.get('custom_hooks') or []):
            where = f'custom_hooks[{index}]'
            if hook.get('type') == 'BasicVisualizationHook':
                self.report.warn(where, 'BasicVisualizationHook (test-time '
                                 'image saving) is dropped.')
                continue
            if hook.get('type') not in ('VisualizationHook',
                                        'GenVisualizationHook'):
                self.report.refuse(f'{where}.type',
                                   f'{hook.get("type")!r} has no mmbiggan '
                                   'equivalent.')
            interval = int(hook.get('interval', 1))
            hooks.append(
                dict(type='SampleGridHook', interval=interval,
                     sample_model=self.out['model']['sample_model']))
            self.report.warn(
                where, f'{hook["type"]} becomes SampleGridHook every '
                f'{interval} iterations: one row per class, fixed noise, RGB '
                '(vis_kwargs_list does not apply).')
        self.out['custom_hooks'] = hooks

    def _runtime(self):
        src, out = self.src, self.out
        for key in ('randomness', 'env_cfg', 'log_level', 'log_processor',
                    'load_from', 'resume', 'work_dir'):
            if src.get(key) is not None:
                out[key] = src[key]
        wrapper = dict(src.get('model_wrapper_cfg') or {})
        if wrapper:
            if wrapper.get('type') not in (
                    'MMSeparateDistributedDataParallel',
                    'mmbiggan.SeparateDistributedDataParallel'):
                self.report.refuse('model_wrapper_cfg.type',
                                   f'{wrapper.get("type")!r} is not '
                                   'supported.')
            wrapper['type'] = 'mmbiggan.SeparateDistributedDataParallel'
            out['model_wrapper_cfg'] = wrapper
        visualizer = dict(src.get('visualizer') or {})
        backends = []
        for index, backend in enumerate(visualizer.get('vis_backends') or []):
            kind = backend.get('type')
            if kind in ('VisBackend', 'GenVisBackend', 'LocalVisBackend'):
                backends.append(dict(type='LocalVisBackend'))
            elif kind in ('TensorboardVisBackend', 'WandbVisBackend'):
                backends.append(dict(type=kind))
            else:
                self.report.refuse(f'visualizer.vis_backends[{index}]',
                                   f'{kind!r} is not supported.')
        if backends:
            out['visualizer'] = dict(type='Visualizer', vis_backends=backends)
        val_cfg = src.get('val_cfg') or {}
        self.report.expect_value(val_cfg, 'val_cfg', 'type',
                                 ('MultiValLoop', 'GenerativeValLoop'))

    def _unknown_keys(self):
        handled = {
            'model', 'optim_wrapper', 'train_cfg', 'val_cfg', 'test_cfg',
            'default_hooks', 'custom_hooks', 'train_dataloader',
            'val_dataloader', 'test_dataloader', 'val_evaluator',
            'test_evaluator', 'model_wrapper_cfg', 'visualizer',
            'default_scope', 'randomness', 'env_cfg', 'log_level',
            'log_processor', 'load_from', 'resume', 'work_dir', 'launcher'
        } | set(KNOWN_VARIABLES) | set(IGNORED_KEYS)
        unknown = sorted(k for k in self.src if k not in handled)
        if unknown:
            self.report.warn(
                ', '.join(unknown), 'not read: mmagic reads no such '
                'top-level key (a variable of the config file?).')
