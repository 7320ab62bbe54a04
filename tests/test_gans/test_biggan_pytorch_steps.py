"""mmbiggan's training step against BigGAN-PyTorch's, on recorded tensors.

``tests/data/biggan_pytorch_steps/steps.pth`` holds a tiny CIFAR-layout
BigGAN-PyTorch G and D (its initial state dicts), the real batches, every
noise/label draw, and what BigGAN-PyTorch's ``train_fns.
GAN_training_function`` made of them: the losses of each step and the G, D
and G_ema states after the first and the last step (see the README there).
Here the same networks, converted with mmbiggan's converter, train through
``BigGAN.train_step`` on the same tensors; in float64 the two agree to
rounding, so any difference in the step (losses, gradient flow, Adam,
spectral-norm power iterations, batch-norm statistics, the D/G schedule,
EMA) shows up as a mismatch.
"""
import os.path as osp
import re
from collections import OrderedDict

import pytest
import torch
from mmengine.structures import BaseDataElement

from mmbiggan.converters.biggan_pytorch import (discriminator_cfg,
                                                generator_cfg, map_keys)
from mmbiggan.engine import MultiOptimWrapperConstructor
from mmbiggan.models import BigGAN, GANDataPreprocessor
from toy_gan import run_iterations

FIXTURE = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'data',
    'biggan_pytorch_steps', 'steps.pth')

# float64 rounding grows over the steps to ~1e-10 (relative to each tensor's
# largest value); a real difference (one power iteration too many, a
# statistic updated twice, a wrong EMA step) is orders of magnitude larger.
STATE_RTOL = 1e-7
# mmbiggan computes the logged loss values in float32.
LOSS_ATOL = 1e-5
# Biases of generator convolutions followed by a batch norm: the norm cancels
# them, their gradient is 0 up to rounding and Adam's steps on that noise
# are meaningless; they are compared with the running means they shift.
BN_CANCELLED = re.compile(r'^conv_blocks\.\d+\.conv(1|2|_sc)\.bias$')


class Float64Preprocessor(GANDataPreprocessor):
    """The project's preprocessor, with images cast to float64 afterwards."""

    def forward(self, data, training=False):
        out = super().forward(data, training)
        out['inputs'] = out['inputs'].double()
        return out


@pytest.fixture(scope='module')
def recorded():
    return torch.load(FIXTURE, weights_only=True)


@pytest.fixture
def float64():
    """float64 default dtype and one thread (these networks are tiny: thread
    hand-offs on shared cores cost more than the convolutions)."""
    dtype, threads = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    yield
    torch.set_default_dtype(dtype)
    torch.set_num_threads(threads)


def unpack(packed: dict) -> 'OrderedDict[str, torch.Tensor]':
    """A state dict stored as keys, shapes and one flat tensor."""
    state, start = OrderedDict(), 0
    for key, shape in zip(packed['keys'], packed['shapes']):
        numel = int(torch.Size(shape).numel())
        state[key] = packed['values'][start:start + numel].view(shape)
        start += numel
    return state


def converted(packed: dict, kind: str) -> dict:
    return map_keys(unpack(packed), kind, f'recorded {kind}')[0]


def real_images(digits_8x8: torch.Tensor) -> torch.Tensor:
    """``[N, 8, 8]`` uint8 -> ``[N, 3, 32, 32]`` uint8, nearest x4, grey."""
    x = digits_8x8.repeat_interleave(4, 1).repeat_interleave(4, 2)
    return x[:, None].expand(-1, 3, -1, -1).contiguous()


def build_model(recorded: dict) -> tuple:
    """mmbiggan's BigGAN with the recorded initial weights, and its Adam
    optimizers with BigGAN-PyTorch's settings."""
    cfg = recorded['config']
    settings = dict(sn_eps=cfg['SN_eps'], bn_eps=cfg['BN_eps'])
    g_state = unpack(recorded['initial']['G'])
    d_state = unpack(recorded['initial']['D'])
    model = BigGAN(
        generator=generator_cfg(g_state, settings, 'G'),
        discriminator=discriminator_cfg(d_state, settings, 'D',
                                        cfg['resolution']),
        data_preprocessor=Float64Preprocessor(),
        discriminator_steps=cfg['num_D_steps'],
        # BigGAN-PyTorch copies G into G_ema while its 1-based G-step counter
        # is below ema_start; mmbiggan counts 0-based runner iterations.
        ema_config=dict(
            momentum=cfg['ema_decay'],
            start_iter=(cfg['ema_start'] - 1) * cfg['num_D_steps']))
    model.generator.load_state_dict(converted(recorded['initial']['G'],
                                              'generator'))
    model.generator_ema.load_state_dict(model.generator.state_dict())
    model.discriminator.load_state_dict(converted(recorded['initial']['D'],
                                                  'discriminator'))
    model.double()

    def adam(prefix):
        return dict(optimizer=dict(
            type='Adam', lr=cfg[f'{prefix}_lr'],
            betas=(cfg[f'{prefix}_B1'], cfg[f'{prefix}_B2']),
            eps=cfg['adam_eps']))

    optim = MultiOptimWrapperConstructor(
        dict(generator=adam('G'), discriminator=adam('D')))(model)
    return model, optim


def replay_latents(model: BigGAN, recorded: dict):
    """``draw_latents`` hands out the recorded draws in order (D steps and
    G steps alike, as BigGAN-PyTorch's samplers were called)."""
    draws = iter(zip(recorded['z'], recorded['y']))

    def draw(batch_size, device):
        noise, labels = next(draws)
        assert noise.shape[0] == batch_size
        return noise.clone(), labels.clone()

    model.draw_latents = draw


def batches(recorded: dict, first_step: int, num_steps: int) -> list:
    """The real batches of BigGAN-PyTorch steps ``first_step ...``: one per
    D step, as the data loader gives them."""
    cfg = recorded['config']
    size = cfg['batch_size']
    images = real_images(recorded['digits_8x8'])
    out = []
    for step in range(first_step, first_step + num_steps):
        for d_step in range(cfg['num_D_steps']):
            start = (step * cfg['num_D_steps'] + d_step) * size
            out.append(
                dict(inputs=list(images[start:start + size]),
                     data_samples=[
                         BaseDataElement(gt_label=label)
                         for label in recorded['labels'][start:start + size]
                     ]))
    return out


def mismatches(expected: dict, actual: dict, kind: str) -> list:
    """``(key, max |diff| / max |expected|)`` above tolerance."""
    bad = []
    for key, value in converted(expected, kind).items():
        if kind == 'generator' and BN_CANCELLED.match(key):
            continue
        diff = (actual[key] - value).abs().max().item()
        scale = max(value.abs().max().item(), 1e-12)
        if diff > STATE_RTOL * scale:
            bad.append((key, diff / scale))
    return bad


def train(model, optim, recorded, first_step, num_steps):
    """BigGAN-PyTorch steps ``first_step ...`` as mmbiggan runner
    iterations; returns each step's ``(loss_gen, loss_disc_real,
    loss_disc_fake)`` (the last D step's, as BigGAN-PyTorch reports)."""
    d_steps = recorded['config']['num_D_steps']
    logs = run_iterations(
        model, optim, batches(recorded, first_step, num_steps),
        start=first_step * d_steps)
    return torch.tensor([[
        float(logs[i]['loss_gen']),
        float(logs[i]['loss_disc_real']),
        float(logs[i]['loss_disc_fake'])
    ] for i in range(d_steps - 1, len(logs), d_steps)])


def test_fixture_is_small_and_self_consistent(recorded):
    cfg = recorded['config']
    assert osp.getsize(FIXTURE) < 500_000
    num_draws = recorded['steps'] * (cfg['num_D_steps'] + 1)
    assert recorded['z'].shape == (num_draws, cfg['batch_size'],
                                   cfg['dim_z'])
    assert recorded['digits_8x8'].shape[0] == (
        recorded['steps'] * cfg['num_D_steps'] * cfg['batch_size'])
    # The CIFAR layout of BigGAN-PyTorch's launch_cifar_ema.sh.
    assert (cfg['resolution'], cfg['G_shared'], cfg['hier'],
            cfg['G_init']) == (32, False, False, 'N02')


def test_training_steps_match_biggan_pytorch(recorded, message_hub,
                                             float64):
    model, optim = build_model(recorded)
    replay_latents(model, recorded)
    model.train()

    losses = train(model, optim, recorded, 0, 1)
    after_first = recorded['after_first_step']
    assert mismatches(after_first['D'], model.discriminator.state_dict(),
                      'discriminator') == []
    assert mismatches(after_first['G'], model.generator.state_dict(),
                      'generator') == []

    steps = recorded['steps']
    losses = torch.cat([losses, train(model, optim, recorded, 1, steps - 1)])
    torch.testing.assert_close(
        losses, recorded['losses'], atol=LOSS_ATOL, rtol=0)
    final = recorded['final']
    assert mismatches(final['D'], model.discriminator.state_dict(),
                      'discriminator') == []
    assert mismatches(final['G'], model.generator.state_dict(),
                      'generator') == []
    assert mismatches(final['G_ema'], model.generator_ema.state_dict(),
                      'generator') == []
    # The EMA started averaging within the recorded steps: it is not G.
    assert not torch.allclose(model.generator_ema.noise2feat.weight,
                              model.generator.noise2feat.weight)


def test_an_extra_power_iteration_is_caught(recorded, message_hub, float64):
    """The comparison can fail: one more power-iteration step per forward
    of the generator's upsampling convolutions (a bug mmbiggan had) moves
    the singular vectors and, through sigma, everything after them."""
    model, optim = build_model(recorded)
    replay_latents(model, recorded)
    model.train()
    conv = model.generator.conv_blocks[0].conv1
    original = conv.forward_upsampled

    def twice(x):
        conv.normalized_weight()
        return original(x)

    conv.forward_upsampled = twice
    train(model, optim, recorded, 0, 1)
    bad = dict(mismatches(recorded['after_first_step']['G'],
                          model.generator.state_dict(), 'generator'))
    assert bad.get('conv_blocks.0.conv1.sn.u0', 0) > 1e-3
