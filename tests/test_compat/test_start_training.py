"""The copied MMGeneration and mmagic configs start training: data paths
(and, to stay fast, network widths, batch size and iterations) overridden
by --cfg-options, everything else as the source wrote it. Each run lasts
one generator cycle, so both networks are updated; 128x128 configs are
marked slow."""
import importlib.util
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmbiggan.engine import check_training_config
from ._fake_data import (MMGEN_DIR, ROOT, mmagic_options,
                         mmgen_options, write_cifar, write_imagenet)
from .test_translated_values import MMAGIC_CONFIGS, MMGEN_CONFIGS, name


def load_train_tool():
    spec = importlib.util.spec_from_file_location(
        'mmbiggan_train_tool', osp.join(ROOT, 'tools', 'train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def fake_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('data')
    return write_cifar(root / 'cifar10'), write_imagenet(root / 'imagenet')


def cycle_of(src, dialect):
    """Iterations per generator cycle, and the optimizer steps of the
    discriminator and the generator in one cycle, in the source's terms."""
    if dialect == 'mmgen':
        # BasicConditionalGAN.train_step: D steps every
        # batch_accumulation_steps iterations, G when (iter + 1) % disc_steps
        # == 0, gen_steps times.
        train_cfg = src.get('train_cfg') or {}
        iterations = train_cfg.get('disc_steps', 1)
        d_updates = iterations // train_cfg.get('batch_accumulation_steps', 1)
        return iterations, d_updates, train_cfg.get('gen_steps', 1)
    # mmagic's BaseGAN.train_step.
    d_updates = src.model.get('discriminator_steps', 1)
    iterations = d_updates * src.optim_wrapper.discriminator.get(
        'accumulative_counts', 1)
    return iterations, d_updates, src.model.get('generator_steps', 1)


# The default run: two configs of each dialect (a BigGAN and an
# SNGAN/SAGAN); the others are marked slow (2-30 s each on a busy CPU).
DEFAULT_RUN = ('biggan_cifar10_32x32_b25x2_500k',
               'sagan_32_wReLUinplace_lr-2e-4_ndisc5_cifar10_b64x1',
               'biggan_2xb25-500kiters_cifar10-32x32',
               'sngan-proj_wReLUinplace_lr2e-4-ndisc5-1xb64_cifar10-32x32')


def with_slow_marks(paths):
    return [
        p if name(p) in DEFAULT_RUN else pytest.param(
            p, marks=pytest.mark.slow) for p in paths
    ]


def snapshot(module):
    return [p.detach().clone() for p in module.parameters()]


def start_training(path, fake_data, tmp_path):
    dialect = 'mmgen' if path.startswith(MMGEN_DIR) else 'mmagic'
    src = Config.fromfile(path)
    cifar, imagenet = fake_data
    options = (mmgen_options if dialect == 'mmgen' else mmagic_options)(
        src, cifar, imagenet)
    iterations, d_updates, g_updates = cycle_of(src, dialect)
    options['total_iters' if dialect == 'mmgen' else
            'train_cfg.max_iters'] = iterations
    tool = load_train_tool()
    args = tool.parse_args([
        path, '--no-validate', '--work-dir', str(tmp_path), '--cfg-options'
    ] + [f'{k}={v}' for k, v in options.items()])
    cfg = tool.build_config(args)
    check_training_config(cfg)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    before_g = snapshot(model.generator)
    before_d = snapshot(model.discriminator)
    runner.train()
    return runner, (iterations, d_updates, g_updates), before_g, before_d


@pytest.mark.parametrize(
    'path', with_slow_marks(MMGEN_CONFIGS + MMAGIC_CONFIGS), ids=name)
def test_config_starts_training(path, fake_data, tmp_path):
    runner, cycle, before_g, before_d = start_training(
        path, fake_data, tmp_path)
    iterations, d_updates, g_updates = cycle
    assert runner.iter == iterations
    # Adam's step counts: as many updates as the source makes per cycle.
    for network, updates in (('discriminator', d_updates),
                             ('generator', g_updates)):
        optimizer = runner.optim_wrapper[network].optimizer
        steps = {int(state['step']) for state in optimizer.state.values()}
        assert steps == {updates}, (network, steps)
    model = runner.model
    # Both networks were updated: the run went through a generator cycle.
    assert any(not torch.equal(a, b)
               for a, b in zip(before_g, model.generator.parameters()))
    assert any(not torch.equal(a, b)
               for a, b in zip(before_d, model.discriminator.parameters()))
    if model.generator_ema is not None:
        # Every source starts its average later: until then a copy.
        assert model.ema_config['start_iter'] > iterations
        for ema, param in zip(model.generator_ema.parameters(),
                              model.generator.parameters()):
            assert torch.equal(ema, param)
    assert osp.isfile(osp.join(str(tmp_path), f'iter_{iterations}.pth'))
