"""The opt-in speed switches of training (``--amp``, ``--compile``) give
the numbers of plain float32 eager training on the CPU: float16 with loss
scaling unscales before the update and skips overflowing steps, and the
compiled BigGAN networks (spectral-norm vectors and batch-norm statistics
updated inside the compiled graph) train as the eager ones."""
import pytest
import torch

from mmbiggan.engine import MultiOptimWrapperConstructor
from mmbiggan.models import BigGAN
from toy_gan import (LinearDiscriminator, LinearGenerator, make_batch,
                     run_iterations)


def toy_model(**kwargs):
    torch.manual_seed(0)
    return BigGAN(LinearGenerator(), LinearDiscriminator(), **kwargs)


def batches(num, batch_size=4, size=4):
    g = torch.Generator().manual_seed(1)
    return [
        make_batch(
            torch.randint(0, 256, (batch_size, 3, size, size),
                          dtype=torch.uint8, generator=g),
            torch.randint(0, 3, (batch_size, ), generator=g))
        for _ in range(num)
    ]


def optim_for(model, **wrapper):
    """SGD, whose update is proportional to the gradient: a gradient left
    scaled by the loss scale would move the weights 2**16 times as far."""
    settings = dict(optimizer=dict(type='SGD', lr=0.05), **wrapper)
    return MultiOptimWrapperConstructor(
        dict(generator=dict(settings), discriminator=dict(settings)))(model)


def train(model, optim, data):
    torch.manual_seed(5)
    run_iterations(model, optim, data)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_float16_with_loss_scaling_trains_like_float32(message_hub):
    data = batches(4)
    model = toy_model()
    reference = train(model, optim_for(model), data)
    model = toy_model()
    optim = optim_for(model, type='AutocastOptimWrapper', dtype='float16')
    start = model.discriminator.fc.weight.detach().clone()
    half = train(model, optim, data)
    scaler = optim['discriminator'].loss_scaler
    assert scaler is not None and scaler.get_scale() == 2.0**16
    moved = (reference['discriminator.fc.weight'] - start).abs().max()
    assert moved > 1e-3
    for key, value in reference.items():
        # float16 keeps ~3 decimal digits of each product.
        torch.testing.assert_close(half[key], value, rtol=1e-2, atol=2e-3,
                                   msg=key)


def test_float16_overflow_skips_the_step_and_lowers_the_scale(
        message_hub):
    model = toy_model()
    optim = optim_for(model, type='AutocastOptimWrapper', dtype='float16',
                      loss_scale=dict(init_scale=2.0**60))
    before = {k: v.clone()
              for k, v in model.discriminator.state_dict().items()}
    run_iterations(model, optim, batches(1))
    scaler = optim['discriminator'].loss_scaler
    # Gradients of 2**60 x loss overflow float16: no update, scale halved.
    assert scaler.get_scale() == 2.0**59
    for key, value in model.discriminator.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_bfloat16_needs_no_loss_scale():
    model = toy_model()
    optim = optim_for(model, type='AutocastOptimWrapper')
    assert optim['generator'].cast_dtype == torch.bfloat16
    assert optim['generator'].loss_scaler is None


def tiny_biggan(**kwargs):
    torch.manual_seed(0)
    return BigGAN(
        generator=dict(type='BigGANGenerator', output_scale=32,
                       noise_size=16, num_classes=3, base_channels=8,
                       shared_dim=8, auto_sync_bn=False),
        discriminator=dict(type='BigGANDiscriminator', input_scale=32,
                           num_classes=3, base_channels=8),
        **kwargs)


@pytest.mark.slow
def test_compiled_biggan_networks_train_like_eager(message_hub):
    data = batches(2, batch_size=2, size=32)
    states = []
    for compile_cfg in (None, dict(backend='aot_eager')):
        model = tiny_biggan(compile_cfg=compile_cfg)
        states.append(train(model, optim_for(model), data))
    eager, compiled = states
    start = tiny_biggan().state_dict()
    # Weights, spectral-norm vectors and batch-norm statistics all moved.
    for key in ('generator.conv_blocks.0.conv1.weight',
                'generator.conv_blocks.0.conv1.sn.u0',
                'generator.conv_blocks.0.bn1.running_mean',
                'discriminator.conv_blocks.0.conv1.sn.u0'):
        assert not torch.equal(eager[key], start[key]), key
    for key, value in eager.items():
        torch.testing.assert_close(compiled[key], value, rtol=1e-4,
                                   atol=1e-5, msg=key)
