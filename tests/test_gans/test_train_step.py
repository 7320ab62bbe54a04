"""BigGAN.train_step: step schedule, accumulation, EMA, mixed precision."""
from copy import deepcopy

import pytest
import torch
from mmengine.logging import MessageHub

from mmbiggan.models import BigGAN
from toy_gan import (LinearDiscriminator, LinearGenerator, build_optim,
                       make_batch, run_iterations)


def toy_model(**kwargs):
    torch.manual_seed(0)
    return BigGAN(LinearGenerator(), LinearDiscriminator(), **kwargs)


def random_batches(num, batch_size, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [
        make_batch(
            torch.randint(0, 256, (batch_size, 3, 4, 4), dtype=torch.uint8,
                          generator=g),
            torch.randint(0, 3, (batch_size, ), generator=g))
        for _ in range(num)
    ]


class LatentBank:
    """Hands out consecutive slices of fixed noise and labels, so two
    models that split the same work differently see the same inputs."""

    def __init__(self, size=256, noise_size=6, num_classes=3):
        g = torch.Generator().manual_seed(7)
        self.noise = torch.randn(size, noise_size, generator=g)
        self.labels = torch.randint(0, num_classes, (size, ), generator=g)
        self.position = 0

    def __call__(self, batch_size, device):
        start, self.position = self.position, self.position + batch_size
        return (self.noise[start:self.position].to(device),
                self.labels[start:self.position].to(device))


def count_calls(obj, name):
    calls = []
    original = getattr(obj, name)

    def wrapper(*args, **kwargs):
        calls.append(torch.is_grad_enabled())
        return original(*args, **kwargs)

    setattr(obj, name, wrapper)
    return calls


def test_discriminator_and_generator_step_counts(message_hub):
    model = toy_model(discriminator_steps=2, generator_steps=2)
    optim = build_optim(model, d_accumulation=2, g_accumulation=3)
    d_steps = count_calls(optim['discriminator'].optimizer, 'step')
    g_steps = count_calls(optim['generator'].optimizer, 'step')
    g_forwards = count_calls(model.generator, 'forward')
    logs = run_iterations(model, optim, random_batches(12, 2))

    # D: one batch per iteration, an update every 2 batches.
    assert len(d_steps) == 6
    # G: a cycle is 2 D updates x 2 batches = 4 iterations; 3 cycles of 2
    # updates, each over 3 accumulated batches.
    assert len(g_steps) == 6
    assert g_forwards.count(True) == 3 * 2 * 3
    assert g_forwards.count(False) == 12  # the fakes of every D batch
    assert [i for i, log in enumerate(logs) if 'loss_gen' in log] == [3, 7, 11]
    assert all({'loss_disc_real', 'loss_disc_fake'} <= set(log)
               for log in logs)
    # Logged values are tensors on the device: no host sync in the step.
    assert all(isinstance(v, torch.Tensor) and not v.requires_grad
               for log in logs for v in log.values())
    # The discriminator is trainable again after the generator steps.
    assert all(p.requires_grad for p in model.discriminator.parameters())


@pytest.mark.parametrize('accumulation', [3])
def test_accumulation_equals_one_larger_batch(message_hub, accumulation):
    batch_size = 2
    small = toy_model(discriminator_steps=1)
    large = deepcopy(small)
    small.draw_latents, large.draw_latents = LatentBank(), LatentBank()
    images = random_batches(1, batch_size * accumulation)[0]
    parts = [
        dict(inputs=images['inputs'][i:i + batch_size],
             data_samples=images['data_samples'][i:i + batch_size])
        for i in range(0, batch_size * accumulation, batch_size)
    ]
    small_optim = build_optim(small, d_accumulation=accumulation,
                              g_accumulation=accumulation)
    large_optim = build_optim(large)
    small_logs = run_iterations(small, small_optim, parts)
    large_logs = run_iterations(large, large_optim, [images])

    assert 'loss_gen' in small_logs[-1] and 'loss_gen' in large_logs[-1]
    for (name, p_small), p_large in zip(small.named_parameters(),
                                        large.parameters()):
        torch.testing.assert_close(p_small, p_large, rtol=1e-5, atol=1e-6,
                                   msg=name)
    # Both were updated: the comparison is not between untouched copies.
    start = toy_model()
    assert not torch.allclose(small.discriminator.fc.weight,
                              start.discriminator.fc.weight)
    assert not torch.allclose(small.generator.fc.weight,
                              start.generator.fc.weight)
    torch.testing.assert_close(small_logs[-1]['loss_gen'],
                               large_logs[-1]['loss_gen'])
    mean_real = sum(log['loss_disc_real'] for log in small_logs) / 3
    torch.testing.assert_close(mean_real, large_logs[0]['loss_disc_real'])


def biggan_pytorch_ema(ema_state, state, decay):
    return {k: ema_state[k] * decay + state[k] * (1 - decay) for k in state}


def test_ema_copies_before_start_iter_then_averages(message_hub):
    model = toy_model(
        discriminator_steps=2,
        ema_config=dict(momentum=0.9, start_iter=5, buffer_momentum=0.5))
    optim = build_optim(model)
    batches = random_batches(8, 2)
    # G updates at iterations 1, 3 (before start_iter: copies), 5, 7.
    run_iterations(model, optim, batches[:4])
    for key, value in model.generator.state_dict().items():
        assert torch.equal(model.generator_ema.state_dict()[key], value)
    for start in (4, 6):
        ema_before = deepcopy(model.generator_ema.state_dict())
        with torch.no_grad():
            model.generator.scale.mul_(1.5)  # a buffer that changes
        run_iterations(model, optim, batches[start:start + 2], start=start)
        state = model.generator.state_dict()
        expected = biggan_pytorch_ema(
            {k: v for k, v in ema_before.items() if k != 'scale'},
            {k: v for k, v in state.items() if k != 'scale'}, 0.9)
        expected['scale'] = ema_before['scale'] * 0.5 + state['scale'] * 0.5
        for key, value in expected.items():
            # Bit-exact to BigGAN-PyTorch's utils.ema arithmetic.
            assert torch.equal(model.generator_ema.state_dict()[key],
                               value), key
        assert not torch.equal(model.generator_ema.fc.weight,
                               model.generator.fc.weight)


def test_ema_interval_counts_generator_updates(message_hub):
    model = toy_model(ema_config=dict(momentum=0.5, interval=2))
    optim = build_optim(model)
    batches = random_batches(3, 2)
    snapshots = []
    for index, batch in enumerate(batches):
        run_iterations(model, optim, [batch], start=index)
        snapshots.append(model.generator_ema.fc.weight.clone())
    # G updates 1, 2, 3: the EMA moves at update 2 only.
    assert torch.equal(snapshots[0], snapshots[0]) and torch.equal(
        snapshots[0], toy_model().generator.fc.weight)
    assert not torch.equal(snapshots[1], snapshots[0])
    assert torch.equal(snapshots[2], snapshots[1])


def test_without_ema_and_frozen_copy(message_hub):
    model = toy_model(ema_config=None)
    assert model.generator_ema is None
    run_iterations(model, build_optim(model), random_batches(1, 2))
    with_ema = toy_model()
    assert not any(p.requires_grad
                   for p in with_ema.generator_ema.parameters())


def test_orthogonal_regularization_is_logged_and_applied(message_hub):
    plain = toy_model()
    regularized = deepcopy(plain)
    regularized.ortho_reg = torch.nn.Identity()  # replaced below
    from mmbiggan.models.losses import OrthogonalRegularization
    regularized.ortho_reg = OrthogonalRegularization(loss_weight=0.5)
    plain.draw_latents, regularized.draw_latents = LatentBank(), LatentBank()
    batches = random_batches(1, 4)
    run_iterations(plain, build_optim(plain, lr=1.0), batches)
    logs = run_iterations(regularized, build_optim(regularized, lr=1.0),
                          batches)
    assert logs[0]['loss_ortho'] > 0
    w = toy_model().generator.fc.weight.detach()
    gram = w @ w.t()
    extra = 2 * 0.5 * (gram * (1 - torch.eye(w.shape[0]))) @ w
    # SGD with lr 1: the weights differ by exactly the ortho gradient.
    torch.testing.assert_close(
        plain.generator.fc.weight - regularized.generator.fc.weight, extra,
        rtol=1e-4, atol=1e-6)


def test_train_step_needs_the_iteration():
    MessageHub.get_instance('test_without_iter')
    model = toy_model()
    with pytest.raises(RuntimeError, match="update_info\\('iter'"):
        model.train_step(random_batches(1, 2)[0], build_optim(model))
    MessageHub.get_instance('mmengine')


def test_sampling_only_model_cannot_train(message_hub):
    model = BigGAN(LinearGenerator(), None, ema_config=None)
    message_hub.update_info('iter', 0)
    with pytest.raises(RuntimeError, match='cannot train'):
        model.train_step(random_batches(1, 2)[0], None)


def test_val_step_returns_samples_for_the_batch_labels(message_hub):
    model = toy_model()
    batch = random_batches(1, 5)[0]
    outputs = model.val_step(batch)
    assert len(outputs) == 5
    for sample, item in zip(outputs, batch['data_samples']):
        assert sample.fake_img.shape == (3, 4, 4)
        assert sample.fake_img.abs().max() <= 1
        assert int(sample.gt_label) == int(item.gt_label)
    # EMA by default; 'orig' samples the trained generator.
    model.generator_ema.fc.weight.data.zero_()
    model.generator_ema.fc.bias.data.zero_()
    assert all(s.fake_img.abs().max() == 0 for s in model.val_step(batch))
    model.sample_model = 'orig'
    assert any(s.fake_img.abs().max() > 0 for s in model.val_step(batch))
    assert model.training


def tiny_biggan(**kwargs):
    torch.manual_seed(0)
    return BigGAN(
        generator=dict(type='BigGANGenerator', output_scale=32,
                       noise_size=16, num_classes=3, base_channels=4,
                       with_shared_embedding=False, split_noise=False,
                       auto_sync_bn=False),
        discriminator=dict(type='BigGANDiscriminator', input_scale=32,
                           num_classes=3, base_channels=4),
        **kwargs)


def image_batches(num, batch_size):
    g = torch.Generator().manual_seed(3)
    return [
        make_batch(
            torch.randint(0, 256, (batch_size, 3, 32, 32), dtype=torch.uint8,
                          generator=g),
            torch.randint(0, 3, (batch_size, ), generator=g))
        for _ in range(num)
    ]


def test_bfloat16_autocast_on_cpu_trains_close_to_float32(message_hub):
    from mmbiggan.engine import MultiOptimWrapperConstructor
    batches = image_batches(2, 2)
    results = {}
    for wrapper_type in ('OptimWrapper', 'AutocastOptimWrapper'):
        model = tiny_biggan()
        optim = MultiOptimWrapperConstructor(
            dict(
                generator=dict(
                    type=wrapper_type,
                    optimizer=dict(type='Adam', lr=2e-4,
                                   betas=(0.0, 0.999))),
                discriminator=dict(
                    type=wrapper_type,
                    optimizer=dict(type='Adam', lr=2e-4,
                                   betas=(0.0, 0.999)))))(model)
        dtypes = []
        model.discriminator.conv_blocks[0].register_forward_hook(
            lambda m, i, o: dtypes.append(o.dtype))
        before = model.discriminator.decision.weight.clone()
        torch.manual_seed(5)
        logs = run_iterations(model, optim, batches)
        results[wrapper_type] = logs
        assert model.discriminator.decision.weight.dtype == torch.float32
        assert not torch.equal(before, model.discriminator.decision.weight)
        expected = torch.float32 if wrapper_type == 'OptimWrapper' \
            else torch.bfloat16
        assert set(dtypes) == {expected}
    for fp32, bf16 in zip(results['OptimWrapper'],
                          results['AutocastOptimWrapper']):
        for key in fp32:
            assert torch.isfinite(bf16[key])
            torch.testing.assert_close(bf16[key], fp32[key], rtol=0.05,
                                       atol=0.05)


def test_compiled_networks_train_like_eager(message_hub):
    batches = random_batches(4, 3)
    params = {}
    for compile_cfg in (None, dict(backend='aot_eager')):
        model = toy_model(compile_cfg=compile_cfg)
        optim = build_optim(model, lr=0.1)
        torch.manual_seed(5)
        run_iterations(model, optim, batches)
        params[str(compile_cfg)] = [p.detach().clone()
                                    for p in model.parameters()]
        # Compiled in place: checkpoints keep the usual keys.
        assert not any('_orig_mod' in k for k in model.state_dict())
    assert not torch.equal(params['None'][0], toy_model().generator.fc.weight)
    for eager, compiled in zip(*params.values()):
        torch.testing.assert_close(compiled, eager, rtol=1e-5, atol=1e-6)


def test_channels_last_preprocessor_converts_the_networks():
    model = tiny_biggan(data_preprocessor=dict(
        type='GANDataPreprocessor', channels_last=True))
    conv = model.discriminator.conv_blocks[0].conv1.weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
