"""MMGeneration 0.x (mmcv-1.x) configs -> mmbiggan configs.

Every key MMGeneration 0.7.3 reads for a conditional GAN is either mapped
to the mmbiggan setting that trains the same way, mapped with a logged
warning where mmbiggan's behaviour differs in a stated way, or refused
with one line naming it. The meanings follow MMGeneration's code:

* ``BasicConditionalGAN.train_step``: the discriminator steps every
  ``batch_accumulation_steps`` iterations; the generator makes ``gen_steps``
  updates (each accumulating ``batch_accumulation_steps`` batches) at the
  iterations ``i`` with ``(i + 1) % disc_steps == 0``, so ``disc_steps``
  counts discriminator *iterations* (batches), i.e. ``disc_steps /
  batch_accumulation_steps`` discriminator updates, per generator cycle.
* ``ExponentialMovingAverageHook``: before ``start_iter`` it copies the
  generator every iteration; from then on, at iterations ``i`` with
  ``(i + 1 - start_iter) % interval == 0``, ``ema = orig + (ema - orig) *
  momentum`` (``momentum`` weighs the average, as mmbiggan's), buffers with
  ``momentum_nontrainable`` (default 0: copied).
* ``apis/train.py``: the evaluation dataset is ``data.val`` built with
  ``test_mode=True`` (CIFAR-10's test split).
"""
from copy import deepcopy
from typing import List, Optional, Tuple

from .common import (MMCLS_PIPELINE,
                     Translation,
                     best_checkpoint,
                     channel_order_warning,
                     cifar10_dataset,
                     convert_pipeline,
                     eval_dataloader,
                     imagenet_dataset,
                     inception_args,
                     optim_wrapper,
                     runtime_defaults,
                     train_dataloader)

GAN_TYPES = ('BasiccGAN', 'BasicConditionalGAN')
CIFAR_TYPES = ('mmcls.CIFAR10', 'CIFAR10')
IMAGENET_TYPES = ('mmcls.ImageNet', 'ImageNet')
SAMPLE_HOOKS = ('VisualizeUnconditionalSamples', 'MMGenVisualizationHook')
EMA_HOOK = 'ExponentialMovingAverageHook'

# Keys of mmcv's runner that change nothing a translation must carry.
HARMLESS_KEYS = ('workflow', 'gpu_ids', 'test_cfg', 'deterministic')
# Config variables of MMGeneration's own files (read through other keys).
KNOWN_VARIABLES = ('dataset_type', 'img_norm_cfg', 'train_pipeline',
                   'test_pipeline', 'inception_pkl')
# mmcv / MMGeneration settings with no mmbiggan equivalent.
REFUSED_KEYS = {
    'fp16': 'use tools/train.py --amp instead',
    'apex_amp': 'use tools/train.py --amp instead',
    'momentum_config': 'momentum schedules are not supported',
    'resume_from': 'use tools/train.py --resume CKPT instead',
}


def is_mmgen_config(cfg: dict) -> bool:
    """Whether ``cfg`` is written for MMGeneration 0.x: an mmcv-1.x runtime
    key or MMGeneration's ``train_cfg`` (the model type alone does not
    tell: mmbiggan registers ``BasiccGAN`` too)."""
    keys = ('optimizer', 'total_iters', 'data', 'evaluation',
            'checkpoint_config', 'log_config', 'lr_config', 'runner')
    train_cfg = cfg.get('train_cfg') or {}
    return any(k in cfg for k in keys) or (
        isinstance(train_cfg, dict) and
        any(k in train_cfg for k in ('disc_steps', 'use_ema')))


class MMGenTranslator:
    """One translation of an MMGeneration config (a plain dict).

    Args:
        source (dict): The config as :class:`mmengine.config.Config` reads
            it (``_base_`` merged, ``--cfg-options`` applied).
        for_training (bool): Refuse configs without training data and
            schedule (``tools/train.py``); else an inference config (model
            only) is enough (``tools/test.py``).
    """

    def __init__(self, source: dict, for_training: bool = True):
        self.src = deepcopy(source)
        self.for_training = for_training
        self.report = Translation('MMGeneration')
        self.out = runtime_defaults()

    # ------------------------------------------------------------------
    def translate(self) -> Tuple[dict, List[str]]:
        src = self.src
        for key, fix in REFUSED_KEYS.items():
            if src.get(key):
                self.report.refuse(key, f'not supported; {fix}.')
        optimizer_config = src.get('optimizer_config')
        if optimizer_config:
            self.report.refuse(
                'optimizer_config', 'optimizer hooks (gradient clipping) are '
                'not translated; set clip_grad in optim_wrapper instead.')
        train_cfg = self._train_cfg()
        ema_config = self._ema(train_cfg)
        self.out['model'] = self._model(train_cfg, ema_config)
        self._optimizer(train_cfg)
        self._schedule()
        self._data()
        self._evaluation()
        self._test_metrics()
        self._hooks()
        self._runtime()
        self._unknown_keys()
        return self.out, self.report.warnings

    # ------------------------------------------------------------------
    def _train_cfg(self) -> dict:
        model = self.src.get('model') or {}
        train_cfg = dict(model.get('train_cfg') or {})
        train_cfg.update(self.src.get('train_cfg') or {})
        known = ('disc_steps', 'gen_steps', 'batch_accumulation_steps',
                 'use_ema')
        unread = sorted(k for k in train_cfg if k not in known)
        if unread:
            # BasicConditionalGAN reads its keys with .get(): others never
            # had an effect.
            self.report.warn(
                'train_cfg.' + ', train_cfg.'.join(unread),
                'ignored, as MMGeneration ignores it (it reads only '
                f'{", ".join(known)}).')
        cfg = dict(
            disc_steps=int(train_cfg.get('disc_steps', 1)),
            gen_steps=int(train_cfg.get('gen_steps', 1)),
            accumulation=int(train_cfg.get('batch_accumulation_steps', 1)),
            use_ema=bool(train_cfg.get('use_ema', False)))
        if cfg['disc_steps'] < 1 or cfg['gen_steps'] < 1 or \
                cfg['accumulation'] < 1:
            self.report.refuse('train_cfg',
                               'disc_steps, gen_steps and '
                               'batch_accumulation_steps must be >= 1.')
        if cfg['disc_steps'] % cfg['accumulation']:
            self.report.refuse(
                'train_cfg.disc_steps',
                f'{cfg["disc_steps"]} is not a multiple of '
                f'batch_accumulation_steps={cfg["accumulation"]}: '
                'MMGeneration would update the generator in the middle of '
                'an accumulated discriminator step, which mmbiggan does '
                'not do.')
        return cfg

    def _ema(self, train_cfg: dict) -> Optional[dict]:
        """mmbiggan's ``ema_config`` from the EMA hook (None without one)."""
        hooks = [
            (i, h) for i, h in enumerate(self.src.get('custom_hooks') or [])
            if isinstance(h, dict) and h.get('type') == EMA_HOOK
        ]
        if not hooks:
            if train_cfg['use_ema'] and not self.for_training:
                # Converted checkpoints carry generator_ema weights.
                return dict(momentum=0.9999)
            if train_cfg['use_ema']:
                self.report.refuse(
                    'train_cfg.use_ema',
                    'True without an ExponentialMovingAverageHook: '
                    'MMGeneration never updates that EMA generator; add the '
                    'hook to custom_hooks or set use_ema=False.')
            return None
        if len(hooks) > 1:
            self.report.refuse(f'custom_hooks[{hooks[1][0]}]',
                               'a second ExponentialMovingAverageHook.')
        index, hook = hooks[0]
        where = f'custom_hooks[{index}]'
        self.report.expect_keys(
            hook, where,
            ('type', 'module_keys', 'interp_mode', 'interp_cfg', 'interval',
             'start_iter', 'momentum_policy', 'momentum_cfg', 'priority'))
        keys = hook.get('module_keys', ())
        keys = (keys, ) if isinstance(keys, str) else tuple(keys)
        if keys != ('generator_ema', ):
            self.report.refuse(f'{where}.module_keys',
                               f"{keys}: only ('generator_ema',) exists.")
        if hook.get('interp_mode', 'lerp') != 'lerp':
            self.report.refuse(f'{where}.interp_mode',
                               f'{hook["interp_mode"]!r}; only lerp.')
        if hook.get('momentum_policy', 'fixed') != 'fixed':
            self.report.refuse(
                f'{where}.momentum_policy',
                f'{hook["momentum_policy"]!r}: ramped-up momentum is not '
                'supported; use the fixed policy.')
        interp = dict(hook.get('interp_cfg') or {})
        self.report.expect_keys(interp, f'{where}.interp_cfg',
                                ('momentum', 'momentum_nontrainable'))
        # Defaults of MMGeneration's ExponentialMovingAverageHook.lerp.
        momentum = float(interp.get('momentum', 0.999))
        buffer_momentum = float(interp.get('momentum_nontrainable', 0.0))
        interval = int(hook.get('interval', -1))
        start_iter = int(hook.get('start_iter', 0))
        cycle = train_cfg['disc_steps']
        if interval < 1:
            self.report.refuse(
                f'{where}.interval',
                f'{interval}: MMGeneration then never averages (the EMA '
                'stays a copy of the generator before start_iter and frozen '
                'after it); give an interval >= 1 or remove the hook.')
        if interval % cycle:
            self.report.refuse(
                f'{where}.interval',
                f'{interval} iterations is not a multiple of the generator '
                f'cycle (disc_steps={cycle}); mmbiggan averages after '
                'generator updates only.')
        if start_iter % interval:
            self.report.refuse(
                f'{where}.start_iter',
                f'{start_iter} is not a multiple of interval={interval}; '
                'mmbiggan counts the averaging phase from iteration 0.')
        if not train_cfg['use_ema']:
            self.report.warn(
                'train_cfg.use_ema',
                'False, but the EMA hook is there: MMGeneration creates and '
                'averages generator_ema anyway; mmbiggan trains with it.')
        return dict(
            momentum=momentum,
            interval=interval // cycle,
            start_iter=start_iter,
            buffer_momentum=buffer_momentum)

    def _model(self, train_cfg: dict, ema_config: Optional[dict]) -> dict:
        model = dict(self.src.get('model') or {})
        if not model:
            self.report.refuse('model', 'missing.')
        self.report.expect_keys(
            model, 'model',
            ('type', 'generator', 'discriminator', 'gan_loss',
             'disc_auxiliary_loss', 'gen_auxiliary_loss', 'train_cfg',
             'test_cfg', 'num_classes'))
        if model.get('type') not in GAN_TYPES:
            self.report.refuse(
                'model.type', f'{model.get("type")!r}: mmbiggan trains '
                "class-conditional GANs ('BasiccGAN').")
        for key in ('disc_auxiliary_loss', 'gen_auxiliary_loss'):
            if model.get(key):
                self.report.refuse(
                    f'model.{key}', 'auxiliary losses are not supported '
                    '(orthogonal regularization: model.ortho_reg).')
        generator = dict(model['generator'])
        num_classes = model.get('num_classes') or generator.get('num_classes')
        if not num_classes:
            self.report.refuse(
                'model.num_classes',
                'not set, so the generator would be unconditional; BasiccGAN '
                'and the StudioGAN/BigGAN checkpoints are class-conditional: '
                'set model.num_classes (10 for CIFAR-10, 1000 for ImageNet).')
        out = dict(
            type='BigGAN',
            num_classes=model.get('num_classes'),
            data_preprocessor=dict(type='GANDataPreprocessor'),
            generator=generator,
            discriminator=model.get('discriminator'),
            gan_loss=model.get('gan_loss'),
            generator_steps=train_cfg['gen_steps'],
            discriminator_steps=(train_cfg['disc_steps'] //
                                 train_cfg['accumulation']),
            ema_config=ema_config,
            sample_model='ema' if ema_config else 'orig')
        if out['num_classes'] is None:
            del out['num_classes']
        return out

    def _optimizer(self, train_cfg: dict):
        optimizer = self.src.get('optimizer')
        if not optimizer:
            if self.for_training:
                self.report.refuse('optimizer', 'missing.')
            return
        self.report.expect_keys(optimizer, 'optimizer',
                                ('generator', 'discriminator'))
        for name in ('generator', 'discriminator'):
            if name not in optimizer:
                self.report.refuse(f'optimizer.{name}', 'missing.')
        accumulation = train_cfg['accumulation']
        self.out['optim_wrapper'] = optim_wrapper(
            optimizer['generator'], optimizer['discriminator'], accumulation,
            accumulation)

    def _schedule(self):
        src = self.src
        if src.get('lr_config'):
            self.report.refuse(
                'lr_config', 'learning-rate schedules are not translated; '
                'set lr_config=None and write param_scheduler.')
        runner = dict(src.get('runner') or {})
        if runner:
            kind = runner.get('type')
            if kind not in ('DynamicIterBasedRunner', 'IterBasedRunner'):
                self.report.refuse(
                    'runner.type', f'{kind!r}: mmbiggan trains by iterations '
                    '(DynamicIterBasedRunner).')
            self.report.expect_keys(
                runner, 'runner',
                ('type', 'is_dynamic_ddp', 'pass_training_status',
                 'max_iters', 'fp16_loss_scaler', 'use_apex_amp'))
            if runner.get('fp16_loss_scaler') or runner.get('use_apex_amp'):
                self.report.refuse('runner', 'mixed precision: use '
                                   'tools/train.py --amp instead.')
        max_iters = src.get('total_iters', runner.get('max_iters'))
        if max_iters is None:
            if self.for_training:
                self.report.refuse('total_iters', 'missing.')
            return
        self.out['train_cfg'] = dict(
            type='IterBasedTrainLoop', max_iters=int(max_iters))
        checkpoint = dict(src.get('checkpoint_config') or {})
        self.report.expect_keys(
            checkpoint, 'checkpoint_config',
            ('interval', 'by_epoch', 'max_keep_ckpts', 'save_optimizer',
             'create_symlink'))
        if checkpoint.get('by_epoch'):
            self.report.refuse('checkpoint_config.by_epoch',
                               'True; mmbiggan saves by iterations.')
        hook = self.out['default_hooks']['checkpoint']
        hook['interval'] = int(checkpoint.get('interval', -1))
        hook['save_optimizer'] = bool(checkpoint.get('save_optimizer', True))
        if checkpoint.get('max_keep_ckpts') is not None:
            hook['max_keep_ckpts'] = int(checkpoint['max_keep_ckpts'])
        log_config = dict(src.get('log_config') or {})
        self.report.expect_keys(log_config, 'log_config',
                                ('interval', 'hooks'))
        if 'interval' in log_config:
            self.out['default_hooks']['logger']['interval'] = int(
                log_config['interval'])
        for index, logger in enumerate(log_config.get('hooks') or []):
            kind = logger.get('type')
            if kind == 'TensorboardLoggerHook':
                self.out['visualizer']['vis_backends'].append(
                    dict(type='TensorboardVisBackend'))
            elif kind != 'TextLoggerHook':
                self.report.refuse(f'log_config.hooks[{index}]',
                                   f'{kind!r} is not supported.')

    # ------------------------------------------------------------------
    def _data(self):
        data = dict(self.src.get('data') or {})
        if not data.get('train'):
            if self.for_training:
                self.report.refuse(
                    'data.train', 'missing: this config has no training data '
                    '(a converted-checkpoint config?); use tools/test.py, or '
                    'add data.train.')
            return
        self.report.expect_keys(
            data, 'data',
            ('samples_per_gpu', 'workers_per_gpu', 'persistent_workers',
             'train', 'val', 'test', 'train_dataloader', 'val_data_loader',
             'val_dataloader', 'test_dataloader'))
        batch_size, workers = self._loader_settings(data, 'train_dataloader')
        self.out['train_dataloader'] = train_dataloader(
            self._dataset(data['train'], 'data.train', test_mode=False),
            batch_size, workers)

    def _loader_settings(self, data: dict, override: str) -> tuple:
        """Batch size and workers of a dataloader as MMGeneration's
        apis/train.py sets them: ``data``'s settings, overridden by
        ``data[override]`` (``train_dataloader``; ``val_data_loader`` for
        the evaluation)."""
        settings = dict(data)
        settings.update(data.get(override) or {})
        self.report.expect_keys(
            data.get(override) or {}, f'data.{override}',
            ('samples_per_gpu', 'workers_per_gpu', 'persistent_workers',
             'shuffle'))
        if not settings.get('samples_per_gpu'):
            self.report.refuse('data.samples_per_gpu',
                               'not set; MMGeneration needs it too.')
        return (int(settings['samples_per_gpu']),
                int(settings.get('workers_per_gpu', 2)))

    def _dataset(self, cfg: dict, where: str, test_mode: bool) -> dict:
        cfg = dict(cfg)
        if cfg.get('type') == 'RepeatDataset':
            self.report.warn(
                f'{where}.type', 'RepeatDataset is dropped: mmbiggan '
                'streams shuffled epochs endlessly, so the repetition only '
                'changed the epoch length.')
            cfg = dict(cfg['dataset'])
            where = f'{where}.dataset'
        kind = cfg.get('type')
        test_mode = cfg.get('test_mode', test_mode)
        if kind in CIFAR_TYPES:
            self.report.expect_keys(
                cfg, where, ('type', 'data_prefix', 'pipeline', 'test_mode'))
            flip = self._pipeline(cfg.get('pipeline') or [], where, 'RGB',
                                  cifar=True)
            return cifar10_dataset(cfg.get('data_prefix', ''),
                                   'test' if test_mode else 'train', flip)
        if kind in IMAGENET_TYPES:
            self.report.expect_keys(
                cfg, where,
                ('type', 'data_prefix', 'ann_file', 'pipeline', 'test_mode'))
            pipeline = self._pipeline(cfg.get('pipeline') or [], where,
                                      'BGR', cifar=False)
            return imagenet_dataset('', cfg.get('data_prefix', ''),
                                    cfg.get('ann_file') or '', pipeline)
        self.report.refuse(
            f'{where}.type', f'{kind!r}: mmbiggan reads CIFAR-10 '
            '(mmcls.CIFAR10) and ImageNet-style folders (mmcls.ImageNet).')

    def _pipeline(self, steps: list, where: str, loaded_order: str,
                  cifar: bool):
        """mmbiggan's pipeline for mmcls's steps (for CIFAR-10 only whether
        it flips). ``loaded_order``: the channel order mmcls loads."""
        pipeline, flip, swapped = convert_pipeline(
            self.report, steps, where, MMCLS_PIPELINE, cifar)
        if (loaded_order == 'BGR') != swapped:  # BGR reaches the model
            channel_order_warning(self.report, f'{where}.pipeline')
        return flip if cifar else pipeline

    # ------------------------------------------------------------------
    def _metric(self, cfg: dict, where: str) -> dict:
        cfg = dict(cfg)
        kind = cfg.get('type')
        if kind not in ('FID', 'IS'):
            self.report.refuse(f'{where}.type',
                               f'{kind!r}; mmbiggan computes FID and IS.')
        allowed = ('type', 'num_images', 'inception_args', 'bgr2rgb',
                   'image_shape')
        allowed += ('inception_pkl', ) if kind == 'FID' else (
            'resize', 'splits', 'use_pil_resize')
        self.report.expect_keys(cfg, where, allowed)
        if kind == 'IS' and not cfg.get('resize', True):
            self.report.refuse(f'{where}.resize', 'False; IS resizes.')
        args = dict(cfg.get('inception_args') or {})
        # MMGeneration's defaults: FID with the pytorch-fid network, IS
        # with StyleGAN's.
        default_kind = 'StyleGAN' if kind == 'IS' else None
        metric = dict(
            type=kind,
            num_images=int(cfg['num_images']),
            inception_args=inception_args(
                args.get('type', default_kind), args.get('inception_path'),
                self.report, f'{where}.inception_args'))
        if kind == 'FID' and cfg.get('inception_pkl'):
            metric['inception_pkl'] = cfg['inception_pkl']
        if kind == 'IS' and 'splits' in cfg:
            metric['splits'] = int(cfg['splits'])
        return metric

    def _evaluation(self):
        evaluation = self.src.get('evaluation')
        if not evaluation or 'train_cfg' not in self.out:
            return
        evaluation = dict(evaluation)
        self.report.expect_keys(
            evaluation, 'evaluation',
            ('type', 'interval', 'metrics', 'sample_kwargs', 'best_metric',
             'save_best_ckpt', 'priority', 'dist'))
        self.report.expect_value(evaluation, 'evaluation', 'type',
                                 ('GenerativeEvalHook', ))
        interval = evaluation.get('interval', 1)
        if isinstance(interval, dict):
            # GenerativeEvalHook: intervals[i] from milestones[i - 1] on,
            # which is mmengine's dynamic_intervals.
            self.report.expect_keys(interval, 'evaluation.interval',
                                    ('milestones', 'interval'))
            milestones, intervals = interval['milestones'], interval[
                'interval']
            if len(intervals) != len(milestones) + 1:
                self.report.refuse('evaluation.interval',
                                   'needs one interval more than milestones.')
            self.out['train_cfg']['dynamic_intervals'] = [
                (int(m), int(i)) for m, i in zip(milestones, intervals[1:])
            ]
            interval = intervals[0]
        sample_kwargs = dict(evaluation.get('sample_kwargs') or {})
        self.report.expect_keys(sample_kwargs, 'evaluation.sample_kwargs',
                                ('sample_model', ))
        sample_model = sample_kwargs.get('sample_model', 'ema/orig')
        if sample_model not in ('ema', 'orig'):
            self.report.refuse(
                'evaluation.sample_kwargs.sample_model',
                f'{sample_model!r}: set sample_model to ema or orig (mixing '
                'both generators in one FID is not supported).')
        if sample_model == 'ema' and not self.out['model']['ema_config']:
            self.report.warn(
                'evaluation.sample_kwargs.sample_model',
                "'ema' but the model has no EMA: MMGeneration would stop at "
                "the first evaluation (assert use_ema); mmbiggan evaluates "
                'the trained generator (orig).')
            sample_model = 'orig'
        metrics = evaluation.get('metrics') or []
        metrics = [metrics] if isinstance(metrics, dict) else metrics
        self.out['val_evaluator'] = dict(metrics=[
            self._metric(m, f'evaluation.metrics[{i}]')
            for i, m in enumerate(metrics)
        ])
        self.out['val_cfg'] = dict(
            type='GenerativeValLoop',
            seed=0,
            sample_model=sample_model)
        self.out['train_cfg']['val_interval'] = int(interval)
        data = self.src.get('data') or {}
        if not data.get('val'):
            # MMGeneration builds the evaluation's dataloader from it.
            self.report.refuse('data.val', 'missing; the evaluation needs '
                               'it (as in MMGeneration).')
        batch_size, workers = self._loader_settings(data, 'val_data_loader')
        self.out['val_cfg']['batch_size'] = batch_size
        self.out['val_dataloader'] = eval_dataloader(
            self._dataset(data['val'], 'data.val', test_mode=True),
            batch_size, workers)
        best = evaluation.get('best_metric', 'fid')
        best = [best] if isinstance(best, str) else list(best or [])
        if evaluation.get('save_best_ckpt', True) and best:
            names = []
            for name in best:
                if name.lower() not in ('fid', 'is'):
                    self.report.refuse('evaluation.best_metric',
                                       f'{name!r}; fid or is.')
                names.append(name.upper())
            self.out['default_hooks']['checkpoint'].update(
                best_checkpoint(names))

    def _test_metrics(self):
        """MMGeneration's top-level ``metrics`` (tools/evaluation.py) become
        the ``test_evaluator`` that tools/test.py evaluates."""
        metrics = self.src.get('metrics')
        # mmengine's Runner wants a test loop with a test evaluator.
        if not metrics or self.for_training:
            return
        self.out['test_evaluator'] = dict(metrics=[
            self._metric(m, f'metrics.{name}')
            for name, m in dict(metrics).items()
        ])

    def _hooks(self):
        hooks = []
        for index, hook in enumerate(self.src.get('custom_hooks') or []):
            kind = hook.get('type')
            where = f'custom_hooks[{index}]'
            if kind == EMA_HOOK:
                continue
            if kind not in SAMPLE_HOOKS:
                self.report.refuse(f'{where}.type',
                                   f'{kind!r} has no mmbiggan equivalent.')
            interval = int(hook.get('interval', -1))
            if interval < 1:
                continue  # MMGeneration never runs it.
            grid = dict(type='SampleGridHook', interval=interval)
            if hook.get('output_dir'):
                grid['out_dir'] = hook['output_dir']
            grid['sample_model'] = 'ema' if \
                self.out['model']['ema_config'] else 'orig'
            self.report.warn(
                f'{where}', f'{kind} becomes SampleGridHook every {interval} '
                'iterations: one row per class, fixed noise, RGB; the '
                'layout options of the source hook do not apply.')
            hooks.append(grid)
        self.out['custom_hooks'] = hooks

    def _runtime(self):
        src, out = self.src, self.out
        env = out['env_cfg']
        if 'dist_params' in src:
            env['dist_cfg'] = dict(src['dist_params'] or {})
        for key in ('cudnn_benchmark', ):
            if key in src:
                env[key] = bool(src[key])
        for key in ('opencv_num_threads', 'mp_start_method'):
            if key in src:
                env['mp_cfg'][key] = src[key]
        if 'find_unused_parameters' in src:
            out['model_wrapper_cfg']['find_unused_parameters'] = bool(
                src['find_unused_parameters'])
        for key in ('log_level', 'load_from', 'work_dir'):
            if src.get(key) is not None:
                out[key] = src[key]
        if src.get('seed') is not None:
            out['randomness']['seed'] = src['seed']
        workflow = src.get('workflow')
        if workflow and any(phase != 'train' for phase, _ in workflow):
            self.report.refuse('workflow', 'only training phases.')

    def _unknown_keys(self):
        handled = {
            'model', 'train_cfg', 'optimizer', 'optimizer_config',
            'lr_config', 'runner', 'total_iters', 'checkpoint_config',
            'log_config', 'data', 'evaluation', 'metrics', 'custom_hooks',
            'dist_params', 'cudnn_benchmark', 'opencv_num_threads',
            'mp_start_method', 'find_unused_parameters', 'use_ddp_wrapper',
            'log_level', 'load_from', 'work_dir', 'seed', 'launcher'
        } | set(HARMLESS_KEYS) | set(KNOWN_VARIABLES) | set(REFUSED_KEYS)
        unknown = sorted(k for k in self.src if k not in handled)
        if unknown:
            self.report.warn(
                ', '.join(unknown), 'not read: MMGeneration reads no such '
                'top-level key (a variable of the config file?).')
