"""BigGAN.train_step with DiffAugment and LeCam regularization."""
from copy import deepcopy

import pytest
import torch
from toy_gan import (LinearDiscriminator, LinearGenerator, build_optim,
                     make_batch, run_iterations)

from mmbiggan.models import BigGAN, DiffAugment, LeCamRegularization
from mmbiggan.registry import MODELS

AUGMENT = dict(type='DiffAugment', policy='color,translation,cutout')
LECAM = dict(type='LeCamRegularization', loss_weight=0.3)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks: on a busy machine a second thread costs far more than
    it saves (10 s instead of 0.3 s for the short training)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def toy_model(**kwargs):
    torch.manual_seed(0)
    return BigGAN(LinearGenerator(image_size=8),
                  LinearDiscriminator(image_size=8), **kwargs)


def batches(num, batch_size, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [
        make_batch(
            torch.randint(0, 256, (batch_size, 3, 8, 8), dtype=torch.uint8,
                          generator=g),
            torch.randint(0, 3, (batch_size, ), generator=g))
        for _ in range(num)
    ]


class Recorder:
    """Inputs and outputs of a module's forward calls, with whether
    gradients were enabled."""

    def __init__(self, module):
        self.calls = []
        module.register_forward_hook(self.hook)

    def hook(self, module, args, output):
        self.calls.append(
            dict(inputs=args[0].detach().clone(), output=output,
                 grad=torch.is_grad_enabled()))


def test_discriminator_sees_augmented_images_in_both_steps(message_hub):
    model = toy_model(augment=AUGMENT)
    assert isinstance(model.augment, DiffAugment)
    augment_calls = Recorder(model.augment)
    disc_calls = Recorder(model.discriminator)
    batch = batches(1, 4)[0]
    reals = model.data_preprocessor(deepcopy(batch), True)['inputs']
    run_iterations(model, build_optim(model), [batch])

    # D step: [fake, real] augmented in one call, then D on exactly that.
    d_aug, g_aug = augment_calls.calls
    d_disc, g_disc = disc_calls.calls
    assert d_aug['inputs'].shape == (8, 3, 8, 8)
    assert torch.equal(d_aug['inputs'][4:], reals)
    assert torch.equal(d_disc['inputs'], d_aug['output'].detach())
    assert not torch.equal(d_disc['inputs'][4:], reals)
    # G step: the fakes, augmented with gradients enabled.
    assert g_aug['grad'] and g_aug['output'].requires_grad
    assert g_aug['inputs'].shape == (4, 3, 8, 8)
    assert torch.equal(g_disc['inputs'], g_aug['output'].detach())
    assert not torch.equal(g_disc['inputs'], g_aug['inputs'])


def test_without_augment_the_discriminator_sees_the_images(message_hub):
    model = toy_model()
    assert model.augment is None and model.lecam_reg is None
    disc_calls = Recorder(model.discriminator)
    batch = batches(1, 4)[0]
    reals = model.data_preprocessor(deepcopy(batch), True)['inputs']
    logs = run_iterations(model, build_optim(model), [batch])
    assert torch.equal(disc_calls.calls[0]['inputs'][4:], reals)
    assert 'loss_lecam' not in logs[0]


class Blank(torch.nn.Module):
    """An augmentation that blanks the images: nothing of them reaches D."""

    def forward(self, images):
        return images * 0


def test_generator_gradient_goes_through_the_augmentation(message_hub):
    # Blanked fakes: D's output does not depend on G, so G's SGD step is
    # zero; with DiffAugment the generator moves.
    blank = toy_model(augment=Blank())
    logs = run_iterations(blank, build_optim(blank), batches(1, 4))
    assert 'loss_gen' in logs[0]  # the generator step ran
    start = toy_model()
    assert torch.equal(blank.generator.fc.weight, start.generator.fc.weight)
    augmented = toy_model(augment=AUGMENT)
    run_iterations(augmented, build_optim(augmented), batches(1, 4))
    assert not torch.equal(augmented.generator.fc.weight,
                           start.generator.fc.weight)


def test_lecam_loss_is_logged_and_equals_the_hand_value(message_hub):
    model = toy_model(lecam_reg=LECAM)
    assert isinstance(model.lecam_reg, LeCamRegularization)
    disc_calls = Recorder(model.discriminator)
    logs = run_iterations(model, build_optim(model), batches(1, 4))
    logits = disc_calls.calls[0]['output'].detach()
    fake, real = logits[:4], logits[4:]
    # First update: the averages are this batch's means.
    expected = 0.3 * (torch.relu(real - fake.mean()).pow(2).mean() +
                      torch.relu(real.mean() - fake).pow(2).mean())
    torch.testing.assert_close(logs[0]['loss_lecam'], expected)
    assert logs[0]['loss_lecam'] > 0
    torch.testing.assert_close(model.lecam_reg.ema_real, real.mean())
    # Checkpointed with the model.
    assert {'lecam_reg.ema_real', 'lecam_reg.ema_fake',
            'lecam_reg.num_updates'} <= set(model.state_dict())


def test_lecam_changes_the_discriminator_update_by_its_gradient(message_hub):
    """With SGD the difference of the discriminator weights with and
    without LeCam is lr times the gradient of the penalty."""
    lr = 0.1
    plain = toy_model()
    regularized = toy_model(lecam_reg=dict(type='LeCamRegularization',
                                           loss_weight=2.0))
    # Averages far apart (as after some training), so both sides of the
    # penalty are active; the update below moves them by 1%.
    reg = regularized.lecam_reg
    reg.ema_real.fill_(3.0)
    reg.ema_fake.fill_(-3.0)
    reg.num_updates.fill_(1)
    start = deepcopy(plain.discriminator)
    batch = batches(1, 4)[0]
    for model in (plain, regularized):
        torch.manual_seed(3)
        # One D step only: two D steps per cycle, so no G update.
        model.discriminator_steps = 2
        run_iterations(model, build_optim(model, lr=lr), [deepcopy(batch)])
    # Recompute the penalty's gradient at the starting weights.
    torch.manual_seed(3)
    images = regularized.data_preprocessor(deepcopy(batch), True)
    noise, labels = plain.draw_latents(4, images['inputs'].device)
    with torch.no_grad():
        fakes = plain.generator(noise, labels)
    logits = start(torch.cat([fakes, images['inputs']]),
                   torch.cat([labels, images['labels']]))
    fake, real = logits[:4], logits[4:]
    a_real = 0.99 * 3.0 + 0.01 * real.mean().detach()
    a_fake = 0.99 * -3.0 + 0.01 * fake.mean().detach()
    torch.testing.assert_close(reg.ema_real, a_real)
    penalty = 2.0 * (torch.relu(real - a_fake).pow(2).mean() +
                     torch.relu(a_real - fake).pow(2).mean())
    grads = torch.autograd.grad(penalty, list(start.parameters()))
    for p_plain, p_reg, grad in zip(plain.discriminator.parameters(),
                                    regularized.discriminator.parameters(),
                                    grads):
        torch.testing.assert_close(p_plain - p_reg, lr * grad, rtol=1e-4,
                                   atol=1e-6)
    assert any(g.abs().sum() > 0 for g in grads)


def test_builds_from_a_config_dict_and_trains(message_hub):
    torch.manual_seed(0)
    model = MODELS.build(
        dict(type='BigGAN',
             generator=dict(type='BigGANGenerator', output_scale=32,
                            noise_size=16, num_classes=3, base_channels=4,
                            with_shared_embedding=False, split_noise=False,
                            auto_sync_bn=False),
             discriminator=dict(type='BigGANDiscriminator', input_scale=32,
                                num_classes=3, base_channels=4),
             augment=AUGMENT, lecam_reg=LECAM,
             data_preprocessor=dict(type='GANDataPreprocessor',
                                    channels_last=True)))
    assert model.augment.policy == ('color', 'translation', 'cutout')
    g = torch.Generator().manual_seed(3)
    data = [make_batch(torch.randint(0, 256, (2, 3, 32, 32),
                                     dtype=torch.uint8, generator=g),
                       torch.randint(0, 3, (2, ), generator=g))
            for _ in range(2)]
    logs = run_iterations(model, build_optim(model, lr=2e-4,
                                             optimizer='Adam'), data)
    assert {'loss_disc_real', 'loss_disc_fake', 'loss_lecam',
            'loss_gen'} <= set(logs[-1])
    assert all(torch.isfinite(v) for log in logs for v in log.values())


def digit_like_batches(num, batch_size, seed=0):
    """Real images of two shapes (a bar and a cross) on 8x8, labelled."""
    bar = torch.zeros(3, 8, 8)
    bar[:, 2:6, 3:5] = 1
    cross = torch.zeros(3, 8, 8)
    cross[:, 3:5, :] = 1
    cross[:, :, 3:5] = 1
    shapes = torch.stack([bar, cross, 1 - bar])
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(num):
        labels = torch.randint(0, 3, (batch_size, ), generator=g)
        images = (shapes[labels] * 255).to(torch.uint8)
        out.append(make_batch(images, labels))
    return out


@pytest.mark.parametrize('stabilisers', [
    dict(augment=AUGMENT, lecam_reg=LECAM),
])
def test_short_training_lowers_the_discriminator_loss(message_hub,
                                                      stabilisers):
    model = toy_model(**stabilisers)
    optim = build_optim(model, lr=1e-3, optimizer='Adam')
    logs = run_iterations(model, optim, digit_like_batches(60, 16))
    d_loss = torch.stack([
        log['loss_disc_real'] + log['loss_disc_fake'] + log['loss_lecam']
        for log in logs
    ])
    assert torch.isfinite(d_loss).all()
    first, last = d_loss[:10].mean(), d_loss[-10:].mean()
    assert last < 0.9 * first, (first, last)


def test_resume_continues_exactly_with_augment_and_lecam(message_hub):
    """Model and optimizer state plus torch's RNG state are all a resumed
    run needs: DiffAugment draws from the global RNG and LeCam's averages
    are model buffers."""
    data = digit_like_batches(8, 4)
    model = toy_model(augment=AUGMENT, lecam_reg=dict(LECAM, start_iter=2))
    optim = build_optim(model, optimizer='Adam')
    run_iterations(model, optim, data[:4])
    checkpoint = deepcopy(dict(model=model.state_dict(),
                               optim=optim.state_dict(),
                               rng=torch.get_rng_state()))
    straight = run_iterations(model, optim, data[4:], start=4)

    resumed = toy_model(augment=AUGMENT,
                        lecam_reg=dict(LECAM, start_iter=2))
    resumed_optim = build_optim(resumed, optimizer='Adam')
    resumed.load_state_dict(checkpoint['model'])
    resumed_optim.load_state_dict(checkpoint['optim'])
    for wrapper in resumed_optim.values():  # as the runner's resume does
        wrapper._inner_count = 4
    torch.set_rng_state(checkpoint['rng'])
    again = run_iterations(resumed, resumed_optim, data[4:], start=4)

    for first, second in zip(straight, again):
        assert first.keys() == second.keys()
        for key in first:
            assert torch.equal(first[key], second[key]), key
    for (name, value), other in zip(model.state_dict().items(),
                                    resumed.state_dict().values()):
        assert torch.equal(value, other), name
    assert int(model.lecam_reg.num_updates) == 8


# ---------------------------------------------------------------------------
# Mode seeking (MSGAN)
# ---------------------------------------------------------------------------
def test_mode_seeking_loss_hand_value_and_label_pairs():
    from mmbiggan.models.losses import ModeSeekingLoss
    loss = ModeSeekingLoss(loss_weight=2.0, eps=1e-5)
    images = torch.tensor([0., 1., 4., 3.]).view(4, 1, 1, 1)
    noise = torch.tensor([[0., 0.], [1., 1.], [1., 2.], [1., 3.]])
    # Pairs (0, 2) and (1, 3): image gaps 4 and 2 (mean 3), noise gaps
    # |(-1, -2)| and |(0, -2)| (mean 5 / 4): ratio 2.4.
    torch.testing.assert_close(loss(images, noise),
                               torch.tensor(2.0 / (2.4 + 1e-5)))
    # Identical images: the loss is weight / eps.
    torch.testing.assert_close(
        loss(torch.zeros(4, 1, 1, 1), noise), torch.tensor(2.0 / 1e-5))
    labels = torch.tensor([3, 1, 4, 1, 5])
    assert loss.pair_labels(labels).tolist() == [3, 1, 3, 1, 5]
    assert labels.tolist() == [3, 1, 4, 1, 5]  # not modified in place
    assert loss.pair_labels(None) is None
    with pytest.raises(ValueError, match='at least two'):
        loss(images[:1], noise[:1])
    with pytest.raises(ValueError, match='loss_weight > 0'):
        ModeSeekingLoss(loss_weight=0)


def test_mode_seeking_pairs_the_generator_step_and_spreads_its_images(
        message_hub):
    model = toy_model(mode_seeking=dict(type='ModeSeekingLoss',
                                        loss_weight=1.0))
    labels_seen = []
    model.generator.register_forward_hook(
        lambda module, args, output: labels_seen.append(args[1].clone()))
    logs = run_iterations(model, build_optim(model), batches(1, 6))
    assert 'loss_mode_seeking' in logs[0]
    d_labels, g_labels = labels_seen
    assert torch.equal(g_labels[3:], g_labels[:3])
    # The same training without the term moves the generator less apart:
    # mode seeking makes paired images differ more.
    def spread(generator):
        torch.manual_seed(5)
        noise = torch.randn(64, generator.noise_size)
        label = torch.zeros(64, dtype=torch.long)
        with torch.no_grad():
            images = generator(noise, label)
        return (images[:32] - images[32:]).abs().mean()

    spreads = {}
    for weight in (None, 1.0):
        model = toy_model(mode_seeking=None if weight is None else dict(
            type='ModeSeekingLoss', loss_weight=weight))
        run_iterations(model, build_optim(model, lr=0.5), batches(10, 6))
        spreads[weight] = spread(model.generator)
    assert spreads[1.0] > 1.05 * spreads[None]
