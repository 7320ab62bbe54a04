"""Every conditional-GAN training config of MMGeneration 0.7.3 and mmagic
1.x, copied verbatim into tests/data, translates into an mmbiggan config
with the source's D steps, EMA, optimizers, iterations and intervals.

The expected numbers are read from the source config itself (mmengine's
Config of the copied file) and converted with the conventions of the
source's code, which the last tests check by simulating both schedules.
"""
import glob
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from mmbiggan.compat import detect_dialect, translate_config
from mmbiggan.models.gans.conditional_gan import BigGAN
from ._fake_data import MMAGIC_DIR, MMGEN_DIR


def training_configs(folder):
    return sorted(
        p for p in glob.glob(osp.join(folder, '*', '*.py'))
        if '_base_' not in p and 'cvt' not in p)


MMGEN_CONFIGS = training_configs(MMGEN_DIR)
MMAGIC_CONFIGS = training_configs(MMAGIC_DIR)
EMA_HOOK = 'ExponentialMovingAverageHook'


def test_all_copied_training_configs_are_found():
    # MMGeneration 0.7.3: 3 BigGAN, 4 SAGAN, 4 SNGAN-proj training configs;
    # mmagic: 2 BigGAN, 4 SAGAN, 4 SNGAN-proj.
    assert len(MMGEN_CONFIGS) == 11
    assert len(MMAGIC_CONFIGS) == 10


def name(path):
    return osp.basename(path)[:-3]


def optimizer_of(out, network):
    return out.optim_wrapper[network].optimizer


@pytest.mark.parametrize('path', MMGEN_CONFIGS, ids=name)
def test_mmgen_config_keeps_its_schedule(path):
    src = Config.fromfile(path)
    assert detect_dialect(src) == 'mmgen'
    out, _ = translate_config(src)
    train_cfg = src.get('train_cfg') or {}
    disc_iters = train_cfg.get('disc_steps', 1)
    accumulation = train_cfg.get('batch_accumulation_steps', 1)
    model = out.model
    # MMGeneration: D batches per G cycle = disc_steps; each D update
    # accumulates batch_accumulation_steps batches.
    d_counts = out.optim_wrapper.discriminator.get('accumulative_counts', 1)
    g_counts = out.optim_wrapper.generator.get('accumulative_counts', 1)
    assert model.discriminator_steps * d_counts == disc_iters
    assert d_counts == g_counts == accumulation
    assert model.generator_steps == train_cfg.get('gen_steps', 1)
    hooks = [h for h in src.custom_hooks if h.type == EMA_HOOK]
    if not hooks:
        assert model.ema_config is None and model.sample_model == 'orig'
    else:
        hook = hooks[0]
        ema = model.ema_config
        assert ema.momentum == hook.interp_cfg.momentum
        assert ema.buffer_momentum == hook.interp_cfg.get(
            'momentum_nontrainable', 0.0)
        assert ema.start_iter == hook.start_iter
        assert ema.interval * disc_iters == hook.interval
    for network in ('generator', 'discriminator'):
        source = src.optimizer[network]
        optimizer = optimizer_of(out, network)
        assert optimizer.type == source.type
        assert optimizer.lr == source.lr
        assert tuple(optimizer.betas) == tuple(source.betas)
        assert optimizer.get('eps') == source.get('eps')
    assert out.train_cfg.max_iters == src.total_iters
    hooks = out.default_hooks
    assert hooks.checkpoint.interval == src.checkpoint_config.interval
    assert hooks.checkpoint.max_keep_ckpts == \
        src.checkpoint_config.max_keep_ckpts
    assert hooks.logger.interval == src.log_config.interval
    interval = src.evaluation.interval
    if isinstance(interval, dict):
        assert out.train_cfg.val_interval == interval.interval[0]
        assert out.train_cfg.dynamic_intervals == list(
            zip(interval.milestones, interval.interval[1:]))
    else:
        assert out.train_cfg.val_interval == interval
    assert out.train_dataloader.batch_size == src.data.samples_per_gpu
    assert [m.num_images for m in out.val_evaluator.metrics] == [
        m.num_images for m in src.evaluation.metrics]
    samples = [h for h in src.custom_hooks if h.type != EMA_HOOK]
    assert [h.interval for h in out.custom_hooks] == [
        h.interval for h in samples]


@pytest.mark.parametrize('path', MMAGIC_CONFIGS, ids=name)
def test_mmagic_config_keeps_its_schedule(path):
    src = Config.fromfile(path)
    assert detect_dialect(src) == 'mmagic'
    out, warnings = translate_config(src)
    model = out.model
    assert model.type == 'BigGAN'
    assert model.discriminator_steps == src.model.get(
        'discriminator_steps', 1)
    assert model.generator_steps == src.model.get('generator_steps', 1)
    d_counts = src.optim_wrapper.discriminator.get('accumulative_counts', 1)
    for network in ('generator', 'discriminator'):
        source = src.optim_wrapper[network]
        wrapper = out.optim_wrapper[network]
        assert wrapper.get('accumulative_counts', 1) == source.get(
            'accumulative_counts', 1)
        assert wrapper.optimizer.lr == source.optimizer.lr
        assert tuple(wrapper.optimizer.betas) == tuple(source.optimizer.betas)
        assert wrapper.optimizer.get('eps') == source.optimizer.get('eps')
    ema_src = src.model.get('ema_config')
    if not ema_src:
        assert model.ema_config is None and model.sample_model == 'orig'
    else:
        ema = model.ema_config
        new_weight = ema_src.get('momentum', 0.0002)
        # mmagic's momentum weighs the new value, mmbiggan's the average.
        assert ema.momentum == pytest.approx(1 - new_weight, abs=1e-15)
        assert ema.buffer_momentum == (
            ema.momentum if ema_src.get('update_buffers') else 0.0)
        # mmagic's start_iter counts generator updates.
        assert ema.start_iter == max(ema_src.get('start_iter', 0), 1) * \
            model.discriminator_steps * d_counts
        assert ema.interval == ema_src.get('interval', 1)
        assert any('weight of the new value' in w for w in warnings)
    assert out.train_cfg.max_iters == src.train_cfg.max_iters
    assert out.train_cfg.val_interval == src.train_cfg.val_interval
    assert out.train_cfg.get('dynamic_intervals') == src.train_cfg.get(
        'dynamic_intervals')
    for hook in ('checkpoint', 'logger'):
        assert out.default_hooks[hook].interval == \
            src.default_hooks[hook].interval
    assert out.train_dataloader.batch_size == src.train_dataloader.batch_size
    assert [m.num_images for m in out.val_evaluator.metrics] == [
        m.fake_nums for m in src.val_evaluator.metrics]
    assert [h.interval for h in out.custom_hooks] == [
        h.interval for h in src.custom_hooks]


@pytest.mark.parametrize('config, d_steps, d_counts, ema, lrs', [
    # BigGAN CIFAR-10: 4 D steps, EMA 0.9999 from iteration 4000, buffers
    # copied.
    ('mmgen/biggan/biggan_cifar10_32x32_b25x2_500k', 4, 1,
     (0.9999, 1, 4000, 0.0), (2e-4, 2e-4)),
    # BigGAN ImageNet: 8 accumulated batches = one D update per G update.
    ('mmgen/biggan/biggan_ajbrock-sn_imagenet1k_128x128_b32x8_1500k', 1, 8,
     (0.9999, 1, 160000, 0.9999), (1e-4, 4e-4)),
    ('mmgen/sagan/sagan_32_wReLUinplace_lr-2e-4_ndisc5_cifar10_b64x1', 5, 1,
     None, (2e-4, 2e-4)),
    ('mmgen/sngan_proj/sngan_proj_128_wReLUinplace_Glr-2e-4_Dlr-5e-5_'
     'ndisc5_imagenet1k_b128x2', 5, 1, None, (2e-4, 5e-5)),
    # mmagic's momentum 0.0001 from generator update 1000, 4 D steps.
    ('mmagic/biggan/biggan_2xb25-500kiters_cifar10-32x32', 4, 1,
     (0.9999, 1, 4000, 0.0), (2e-4, 2e-4)),
    ('mmagic/biggan/biggan_ajbrock-sn_8xb32-1500kiters_imagenet1k-128x128',
     1, 8, (0.9999, 1, 160000, 0.9999), (1e-4, 4e-4)),
])
def test_hand_checked_values(config, d_steps, d_counts, ema, lrs):
    dialect, rest = config.split('/', 1)
    folder = MMGEN_DIR if dialect == 'mmgen' else MMAGIC_DIR
    out, _ = translate_config(Config.fromfile(osp.join(folder, rest + '.py')))
    assert out.model.discriminator_steps == d_steps
    assert out.optim_wrapper.discriminator.get('accumulative_counts',
                                               1) == d_counts
    if ema is None:
        assert out.model.ema_config is None
    else:
        got = out.model.ema_config
        assert (round(got.momentum, 12), got.interval, got.start_iter,
                round(got.buffer_momentum, 12)) == ema
    assert (optimizer_of(out, 'generator').lr,
            optimizer_of(out, 'discriminator').lr) == lrs


# ----------------------------------------------------------------------
# The EMA conventions: simulate the source's schedule (as its code runs it)
# and mmbiggan's BigGAN.update_ema on the same generator trajectory.
# ----------------------------------------------------------------------
def mmbiggan_trajectory(ema_config, cycle, iterations, values):
    generator = nn.Linear(1, 1, bias=False)
    model = SimpleNamespace(
        generator=generator,
        generator_ema=nn.Linear(1, 1, bias=False),
        ema_config=dict(ema_config),
        generator_cycle=lambda _: cycle)
    # The EMA starts as a copy of the generator (here both 0).
    generator.weight.data.zero_()
    model.generator_ema.weight.data.zero_()
    out = []
    for it in range(iterations):
        if (it + 1) % cycle == 0:
            generator.weight.data.fill_(values[it])
            BigGAN.update_ema(model, it, None)
        out.append(model.generator_ema.weight.item())
    return out


def mmgen_trajectory(hook, cycle, iterations, values):
    """ExponentialMovingAverageHook.after_train_iter, every iteration."""
    generator = ema = 0.0
    out = []
    for it in range(iterations):
        if (it + 1) % cycle == 0:
            generator = values[it]
        if it < hook['start_iter']:
            ema = generator
        elif (it + 1 - hook['start_iter']) % hook['interval'] == 0:
            ema = generator + (ema - generator) * hook['momentum']
        out.append(ema)
    return out


def mmagic_trajectory(ema_cfg, cycle, iterations, values):
    """BaseGAN.train_step with mmengine's BaseAveragedModel."""
    generator = ema = 0.0
    steps = 0
    out = []
    for it in range(iterations):
        if (it + 1) % cycle == 0:
            generator = values[it]
            if it + 1 >= ema_cfg['start_iter'] * cycle:
                if steps == 0:
                    ema = generator
                elif steps % ema_cfg['interval'] == 0:
                    ema = ema * (1 - ema_cfg['momentum']) + \
                        generator * ema_cfg['momentum']
                steps += 1
            else:
                ema = generator
        out.append(ema)
    return out


def ema_of(source_text, dialect):
    cfg = Config.fromstring(source_text, '.py')
    return translate_config(cfg, for_training=False)[0].model.ema_config


@pytest.mark.parametrize('disc_steps, interval, start_iter, momentum', [
    (4, 4, 8, 0.5), (1, 1, 0, 0.9), (2, 4, 4, 0.7), (5, 5, 0, 0.25)])
def test_mmgen_ema_hook_schedule_is_reproduced(disc_steps, interval,
                                               start_iter, momentum):
    source = f"""
model = dict(type='BasiccGAN', num_classes=10,
             generator=dict(type='SNGANGenerator', output_scale=32),
             discriminator=None, gan_loss=None)
train_cfg = dict(disc_steps={disc_steps}, use_ema=True)
custom_hooks = [dict(type='{EMA_HOOK}', module_keys=('generator_ema', ),
                     interval={interval}, start_iter={start_iter},
                     interp_cfg=dict(momentum={momentum}))]
"""
    ema = ema_of(source, 'mmgen')
    values = torch.randn(60, generator=torch.Generator().manual_seed(0))
    values = values.tolist()
    expected = mmgen_trajectory(
        dict(start_iter=start_iter, interval=interval, momentum=momentum),
        disc_steps, 60, values)
    got = mmbiggan_trajectory(ema, disc_steps, 60, values)
    assert got == pytest.approx(expected, abs=1e-6)
    # The averaging happened (the trajectories are not mere copies).
    assert any(abs(e - values[i]) > 1e-3 for i, e in enumerate(expected)
               if (i + 1) % disc_steps == 0)


@pytest.mark.parametrize('disc_steps, interval, start_iter, new_weight', [
    (4, 1, 3, 0.3), (1, 1, 0, 0.1), (2, 2, 4, 0.5), (5, 1, 1, 0.25)])
def test_mmagic_ema_schedule_is_reproduced(disc_steps, interval, start_iter,
                                           new_weight):
    source = f"""
model = dict(type='SAGAN', num_classes=10,
             data_preprocessor=dict(type='DataPreprocessor'),
             generator=dict(type='SNGANGenerator', output_scale=32),
             discriminator_steps={disc_steps},
             ema_config=dict(type='ExponentialMovingAverage',
                             interval={interval}, momentum={new_weight},
                             start_iter={start_iter}))
"""
    ema = ema_of(source, 'mmagic')
    values = torch.randn(60, generator=torch.Generator().manual_seed(1))
    values = values.tolist()
    expected = mmagic_trajectory(
        dict(start_iter=start_iter, interval=interval, momentum=new_weight),
        disc_steps, 60, values)
    got = mmbiggan_trajectory(ema, disc_steps, 60, values)
    assert got == pytest.approx(expected, abs=1e-6)
