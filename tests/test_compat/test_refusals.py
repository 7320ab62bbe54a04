"""What the translation refuses (one line naming the key), what it warns
about, the converted-checkpoint configs, and the command-line tools."""
import glob
import importlib.util
import json
import logging
import os.path as osp
import pickle
import subprocess
import sys
from unittest import mock

import numpy as np
import pytest
from mmengine.config import Config

from mmbiggan.apis.inference import build_model
from mmbiggan.compat import translate_config
from mmbiggan.engine import ConfigError
from ._fake_data import MMAGIC_DIR, MMGEN_DIR, ROOT, write_cifar

MMGEN_CIFAR = osp.join(MMGEN_DIR, 'biggan',
                       'biggan_cifar10_32x32_b25x2_500k.py')
MMAGIC_CIFAR = osp.join(MMAGIC_DIR, 'biggan',
                        'biggan_2xb25-500kiters_cifar10-32x32.py')


def translate_with(path, options, for_training=True):
    cfg = Config.fromfile(path)
    for key, value in options.items():
        if '.' in key:
            cfg.merge_from_dict({key: value})
        else:  # replaced, not merged (mmengine merges no dict into None)
            cfg[key] = value
    return translate_config(cfg, for_training)


def ema_hook_options(path, **changes):
    """--cfg-options style change of the EMA hook (custom_hooks[1])."""
    hooks = Config.fromfile(path).custom_hooks
    hooks[1].update(changes)
    return {'custom_hooks': hooks}


@pytest.mark.parametrize('options, message', [
    ({'fp16': dict(loss_scale=512.)}, 'fp16: not supported; use '
     'tools/train.py --amp'),
    ({'lr_config': dict(policy='Linear')}, 'lr_config: learning-rate '
     'schedules are not translated'),
    ({'optimizer_config': dict(grad_clip=dict(max_norm=1))},
     'optimizer_config: optimizer hooks'),
    ({'model.type': 'StaticUnconditionalGAN'}, "model.type: "
     "'StaticUnconditionalGAN'"),
    ({'model.gen_auxiliary_loss': dict(type='GeneratorPathRegularizer')},
     'model.gen_auxiliary_loss: auxiliary losses are not supported'),
    ({'train_cfg.batch_accumulation_steps': 3},
     'train_cfg.disc_steps: 4 is not a multiple of '
     'batch_accumulation_steps=3'),
    ({'optimizer.encoder': dict(type='Adam')}, 'optimizer.encoder: not '
     'supported'),
    ({'checkpoint_config.by_epoch': True}, 'checkpoint_config.by_epoch'),
    ({'evaluation.sample_kwargs.sample_model': 'ema/orig'},
     "evaluation.sample_kwargs.sample_model: 'ema/orig'"),
    ({'evaluation.type': 'EvalHook'},
     "evaluation.type: 'EvalHook' is not supported."),
    ({'evaluation.metrics': [dict(type='PR', num_images=10)]},
     "evaluation.metrics[0].type: 'PR'"),
    ({'data.train.dataset.type': 'UnconditionalImageDataset'},
     "data.train.dataset.type: 'UnconditionalImageDataset'"),
    ({'data.train.dataset.pipeline': [dict(type='Normalize', mean=[0] * 3,
                                           std=[1] * 3, to_rgb=True)]},
     'data.train.dataset.pipeline[0]: mmbiggan maps pixels to [-1, 1]'),
    ({'data.train.dataset.pipeline': [dict(type='ColorJitter')]},
     "data.train.dataset.pipeline[0].type: 'ColorJitter' has no mmbiggan "
     'equivalent'),
    ({'log_config.hooks': [dict(type='WandbLoggerHook')]},
     "log_config.hooks[0]: 'WandbLoggerHook' is not supported"),
    ({'runner.type': 'EpochBasedRunner'}, "runner.type: 'EpochBasedRunner'"),
    ({'data.train': None}, 'data.train: missing'),
    ({'data.val': None}, 'data.val: missing; the evaluation needs it'),
    ({'data.samples_per_gpu': None}, 'data.samples_per_gpu: not set'),
])
def test_mmgen_keys_without_equivalent_are_refused(options, message):
    with pytest.raises(ConfigError) as info:
        translate_with(MMGEN_CIFAR, options)
    text = str(info.value)
    assert '\n' not in text
    assert text.startswith('MMGeneration config, ') and message in text, text


@pytest.mark.parametrize('changes, message', [
    (dict(momentum_policy='rampup'), 'momentum_policy: '
     "'rampup': ramped-up momentum is not supported"),
    (dict(interval=6), 'interval: 6 iterations is not a multiple of the '
     'generator cycle (disc_steps=4)'),
    (dict(start_iter=4004, interval=8), 'start_iter: 4004 is not a multiple '
     'of interval=8'),
    (dict(interval=-1), 'interval: -1: MMGeneration then never averages'),
    (dict(module_keys=('discriminator_ema', )), 'module_keys'),
    (dict(interp_mode='slerp'), "interp_mode: 'slerp'"),
])
def test_mmgen_ema_hooks_mmbiggan_cannot_follow_are_refused(
        changes, message):
    with pytest.raises(ConfigError, match='custom_hooks') as info:
        translate_with(MMGEN_CIFAR, ema_hook_options(MMGEN_CIFAR, **changes))
    assert message in str(info.value)


def test_mmgen_use_ema_without_hook_is_refused_for_training():
    hooks = [h for h in Config.fromfile(MMGEN_CIFAR).custom_hooks
             if h.type != 'ExponentialMovingAverageHook']
    with pytest.raises(ConfigError, match='train_cfg.use_ema: True without'):
        translate_with(MMGEN_CIFAR, {'custom_hooks': hooks})


@pytest.mark.parametrize('options, message', [
    ({'model.ema_config.type': 'RampUpEMA'},
     "model.ema_config.type: 'RampUpEMA'"),
    ({'model.ema_config.interval': 3}, 'model.ema_config.interval: 3 does '
     'not divide the first averaged generator update (1000)'),
    ({'model.data_preprocessor.mean': 0}, 'model.data_preprocessor.mean: 0'),
    ({'model.loss_config': dict(gp_loss_weight=10)},
     'model.loss_config: not supported'),
    ({'train_cfg.by_epoch': True}, 'train_cfg.by_epoch: True'),
    ({'train_dataloader.dataset.pipeline': [dict(type='RandomResizedCrop')]},
     "train_dataloader.dataset.pipeline[0].type: 'RandomResizedCrop'"),
    ({'train_dataloader.dataset.type': 'UnconditionalImageDataset'},
     "train_dataloader.dataset.type: 'UnconditionalImageDataset'"),
    ({'custom_hooks': [dict(type='PickleDataHook')]},
     "custom_hooks[0].type: 'PickleDataHook' has no mmbiggan equivalent"),
    ({'val_evaluator.metrics': [dict(type='PrecisionAndRecall',
                                     fake_nums=10)]},
     "val_evaluator.metrics[0].type: 'PrecisionAndRecall'"),
    ({'default_hooks.checkpoint.save_best': 'SWD/avg'},
     "save_best: 'SWD/avg' names no metric"),
    ({'optim_wrapper.constructor': 'DefaultOptimWrapperConstructor'},
     "optim_wrapper.constructor: 'DefaultOptimWrapperConstructor' is not "
     'supported.'),
    ({'model.data_preprocessor.type': 'EditDataPreprocessor'},
     "model.data_preprocessor.type: 'EditDataPreprocessor' is not "
     'supported.'),
    ({'train_cfg.type': 'EpochBasedTrainLoop'},
     "train_cfg.type: 'EpochBasedTrainLoop' is not supported."),
    ({'val_cfg.type': 'EditValLoop'},
     "val_cfg.type: 'EditValLoop' is not supported."),
])
def test_mmagic_keys_without_equivalent_are_refused(options, message):
    with pytest.raises(ConfigError) as info:
        translate_with(MMAGIC_CIFAR, options)
    text = str(info.value)
    assert '\n' not in text
    assert text.startswith('mmagic config, ') and message in text, text


def test_reinterpreted_values_are_logged_warnings():
    _, warnings = translate_with(
        MMGEN_CIFAR, {'train_cfg.disc_step': 2})
    assert any('train_cfg.disc_step: ignored, as MMGeneration ignores it'
               in w for w in warnings)
    # RepeatDataset and MMGeneration's BGR training data.
    assert any('RepeatDataset is dropped' in w for w in warnings)
    assert any('source trained on BGR images' in w for w in warnings)
    with mock.patch('mmbiggan.compat.common.print_log') as print_log:
        _, warnings = translate_with(MMAGIC_CIFAR, {})
    momentum = [w for w in warnings if 'model.ema_config.momentum' in w]
    assert momentum == [
        'mmagic config, model.ema_config.momentum: 0.0001 is the weight of '
        'the new value in mmagic; mmbiggan uses the weight of the average: '
        'momentum=0.9999.'
    ]
    assert any('model.ema_config.start_iter: 1000 counts generator updates '
               'in mmagic; mmbiggan counts runner iterations: '
               'start_iter=4000' in w for w in warnings)
    # Logged through mmengine's logger, not only returned.
    assert mock.call(momentum[0], logger='current',
                     level=logging.WARNING) in print_log.call_args_list


def test_mmgen_evaluation_of_a_missing_ema_falls_back_with_a_warning():
    path = osp.join(MMGEN_DIR, 'sagan', 'sagan_128_woReLUinplace_Glr-1e-4_'
                    'Dlr-4e-4_ndisc1_imagenet1k_b64x4.py')
    out, warnings = translate_config(Config.fromfile(path))
    assert out.val_cfg.sample_model == 'orig'
    assert any('assert use_ema' in w for w in warnings)


@pytest.mark.parametrize('path', sorted(
    glob.glob(osp.join(MMGEN_DIR, '*', '*cvt_studioGAN.py'))),
    ids=osp.basename)
def test_mmgen_studiogan_configs_refuse_an_unconditional_model(path):
    # MMGeneration's versions name no num_classes: BasiccGAN would build an
    # unconditional generator that StudioGAN's weights do not fit.
    with pytest.raises(ConfigError, match='model.num_classes: not set'):
        translate_config(Config.fromfile(path), for_training=False)
    classes = 10 if '_32_' in path else 1000
    out, _ = translate_with(path, {'model.num_classes': classes}, False)
    assert out.model.num_classes == classes


@pytest.mark.parametrize('path', sorted(
    glob.glob(osp.join(ROOT, 'configs', '*', '*cvt_studioGAN.py'))),
    ids=osp.basename)
def test_shipped_studiogan_configs_build_conditional_models(path):
    cfg = Config.fromfile(path)
    model = build_model(cfg.model, on_meta=True)
    classes = 10 if '_32_' in path else 1000
    assert model.num_classes == classes
    assert model.generator.num_classes == classes
    assert model.discriminator.num_classes == classes


def test_mmagic_converted_configs_map_rgb_to_bgr():
    path = osp.join(MMAGIC_DIR, 'sagan',
                    'sagan_cvt-studioGAN_cifar10-32x32.py')
    out, _ = translate_config(Config.fromfile(path), for_training=False)
    assert out.model.generator.rgb2bgr is True
    assert 'rgb_to_bgr' not in out.model.generator
    model = build_model(out.model, on_meta=True)
    assert model.num_classes == 10
    assert out.test_evaluator.metrics[0].type == 'IS'


def run_train(*args):
    return subprocess.run(
        [sys.executable, 'tools/train.py', *args], cwd=ROOT,
        capture_output=True, text=True, timeout=600,
        env={'PYTHONPATH': ROOT, 'OMP_NUM_THREADS': '1',
             'PATH': '/usr/bin:/bin'})


def test_train_cli_prints_one_line_for_a_refused_key(tmp_path):
    result = run_train(MMGEN_CIFAR, '--work-dir', str(tmp_path),
                       '--cfg-options', 'fp16.loss_scale=512.')
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        'error: MMGeneration config, fp16: not supported; use '
        'tools/train.py --amp instead.')


@pytest.mark.slow
def test_train_cli_trains_an_mmgen_config(tmp_path):
    cifar = write_cifar(tmp_path / 'cifar10')
    result = run_train(
        MMGEN_CIFAR, '--work-dir', str(tmp_path / 'work'), '--no-validate',
        '--cfg-options', f'data.train.dataset.data_prefix={cifar}',
        f'data.val.data_prefix={cifar}', 'total_iters=4',
        'data.samples_per_gpu=2', 'data.workers_per_gpu=0')
    assert result.returncode == 0, result.stderr[-2000:]
    assert osp.isfile(tmp_path / 'work' / 'iter_4.pth')
    output = result.stdout + result.stderr
    assert 'RepeatDataset is dropped' in output


def test_mmbiggan_ema_momentum_in_mmagic_convention_is_warned():
    # An mmagic momentum written straight into an mmbiggan ema_config.
    from mmbiggan.models.gans import conditional_gan
    with mock.patch.object(conditional_gan, 'print_log') as print_log:
        conditional_gan.check_ema_config(dict(momentum=0.9999))
        assert not print_log.called
        conditional_gan.check_ema_config(dict(momentum=0.0001))
    (message, ), kwargs = print_log.call_args
    assert 'keeps only 0.01% of the average' in message
    assert kwargs['level'] == logging.WARNING


def test_demo_and_test_tool_configs_load_through_the_translation():
    # load_config (tools/test.py, the demo, the apps, the converters'
    # --config) translates; a translated config passes through unchanged.
    from mmbiggan.apis.inference import load_config
    path = osp.join(MMAGIC_DIR, 'sngan_proj',
                    'sngan-proj-cvt-studioGAN_cifar10-32x32.py')
    cfg = load_config(path)
    assert cfg.model.type == 'BigGAN' and cfg.model.generator.rgb2bgr
    assert cfg.default_scope == 'mmbiggan'
    assert load_config(cfg).to_dict() == cfg.to_dict()
    model = build_model(cfg.model, on_meta=True)
    assert model.num_classes == 10
    # mmbiggan's own configs, and a BasiccGAN model in an mmbiggan config,
    # are left alone.
    ours = osp.join(ROOT, 'configs', 'sagan', 'sagan_32_cvt_studioGAN.py')
    assert load_config(ours).to_dict() == Config.fromfile(ours).to_dict()
    alias = Config(dict(model=dict(type='BasiccGAN', generator=dict(
        type='SNGANGenerator', output_scale=32, num_classes=10))))
    assert load_config(alias).to_dict() == alias.to_dict()


def load_module(relative_path, name):
    spec = importlib.util.spec_from_file_location(
        name, osp.join(ROOT, relative_path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_test_tool_evaluates_with_an_mmagic_config(tmp_path):
    from mmbiggan.apis import init_model
    from mmbiggan.utils.checkpoint import save_checkpoint_atomic
    standin = load_module('tests/test_evaluation/conftest.py',
                          'standin_inception')
    inception = standin.make_standin_inception(str(tmp_path / 'incep.pt'))
    config = osp.join(MMAGIC_DIR, 'sagan',
                      'sagan_cvt-studioGAN_cifar10-32x32.py')
    narrow = {'model.generator.base_channels': 8,
              'model.discriminator.base_channels': 8}
    model = init_model(config, cfg_options=narrow, device='cpu')
    checkpoint = str(tmp_path / 'cvt.pth')
    save_checkpoint_atomic({'state_dict': model.state_dict()}, checkpoint)
    stats = tmp_path / 'real.pkl'
    with open(stats, 'wb') as f:
        pickle.dump({'mean': np.zeros(2048), 'cov': np.eye(2048)}, f)
    out = tmp_path / 'results.json'
    tool = load_module('tools/test.py', 'mmbiggan_test_tool')
    tool.main([
        config, checkpoint, '--inception-path', inception, '--inception-pkl',
        str(stats), '--num-images', '10', '--batch-size', '5',
        '--sample-model', 'orig', '--out', str(out), '--cfg-options'
    ] + [f'{k}={v}' for k, v in narrow.items()])
    record = json.loads(out.read_text())
    # mmagic's test_evaluator: IS50k and FID50k, here at 10 images.
    assert [m['type'] for m in record['metric_configs']] == ['IS', 'FID']
    assert record['metrics']['FID'] > 0 and record['metrics']['IS'] >= 1


def test_mmgen_dataloader_overrides_are_honoured():
    # apis/train.py: data-level settings, then data.train_dataloader for
    # training and data.val_data_loader for the evaluation.
    out, _ = translate_with(MMGEN_CIFAR, {
        'data.train_dataloader': dict(samples_per_gpu=8, workers_per_gpu=1),
        'data.val_data_loader': dict(samples_per_gpu=50)})
    assert (out.train_dataloader.batch_size,
            out.train_dataloader.num_workers) == (8, 1)
    assert (out.val_dataloader.batch_size,
            out.val_dataloader.num_workers) == (50, 8)
    assert out.val_cfg.batch_size == 50
    # CIFAR-10's test split, as mmcls builds data.val with test_mode=True.
    assert out.val_dataloader.dataset.split == 'test'
    assert out.train_dataloader.dataset.split == 'train'
