"""After a short training on a few digits, the generator's images still
depend on its noise, in training mode (batch statistics) and in eval mode
(running statistics, folded batch norms, cached spectral norms), and so do
the EMA generator's: a mechanism-level guard against a generator that
ignores its noise (issue 11's collapse, whatever the recipe)."""
import pytest
import torch
from mmengine.structures import BaseDataElement

from mmbiggan.datasets.digits import upscale_digits
from mmbiggan.models import BigGAN
from toy_gan import build_optim, run_iterations

NUM_CLASSES = 10
NOISE_SIZE = 16
# Within-class spread over total spread (see noise_share): about 1 for the
# briefly trained generator below (its classes have barely separated yet),
# exactly 0 for one that ignores its noise.
MIN_NOISE_SHARE = 0.2


def digits_generator_cfg(width=4):
    """The digits recipe's generator layout (per-class batch-norm tables,
    one noise vector into the first linear layer, torch-style spectral
    norm), narrower."""
    return dict(
        type='BigGANGenerator', output_scale=32, noise_size=NOISE_SIZE,
        num_classes=NUM_CLASSES, base_channels=width,
        with_shared_embedding=False, split_noise=False, sn_style='torch',
        init_type='N02', auto_sync_bn=False,
        arch_cfg=dict(in_channels=[4 * width, 2 * width, width],
                      out_channels=[2 * width, width, width],
                      upsample=[True] * 3, attention=[False] * 3))


def digits_discriminator_cfg(width=4):
    return dict(
        type='BigGANDiscriminator', input_scale=32, num_classes=NUM_CLASSES,
        base_channels=width, sn_style='torch', init_type='N02',
        arch_cfg=dict(in_channels=[3, width, 2 * width, 4 * width],
                      out_channels=[width, 2 * width, 4 * width, 4 * width],
                      downsample=[True, True, False, False],
                      attention=[False] * 4))


def digit_batches(num_batches, batch_size, num_images=64):
    """Batches drawn from the first ``num_images`` scikit-learn digits."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    images = torch.from_numpy(upscale_digits(
        digits.images[:num_images], 32)).permute(0, 3, 1, 2)
    labels = torch.from_numpy(digits.target[:num_images])
    g = torch.Generator().manual_seed(0)
    batches = []
    for _ in range(num_batches):
        index = torch.randint(0, num_images, (batch_size, ), generator=g)
        batches.append(
            dict(inputs=list(images[index]),
                 data_samples=[BaseDataElement(gt_label=int(label))
                               for label in labels[index]]))
    return batches


def cut_noise(linear):
    original = linear.forward
    linear.forward = lambda z: original(z * 0)


def train_tiny_gan(ignore_noise=False, iterations=20):
    """A digits-layout BigGAN after ``iterations`` steps on 64 digits.
    ``ignore_noise`` builds the defect this file guards against: noise
    multiplied by 0 before the first layer (zeroing that layer's weight
    instead would make its spectral norm divide 0 by 0)."""
    torch.manual_seed(0)
    model = BigGAN(digits_generator_cfg(), digits_discriminator_cfg(),
                   ema_config=dict(momentum=0.9))
    if ignore_noise:
        for generator in (model.generator, model.generator_ema):
            cut_noise(generator.noise2feat)
    optim = build_optim(model, lr=2e-4, optimizer='Adam')
    model.train()
    run_iterations(model, optim, digit_batches(iterations, 8))
    return model


@torch.no_grad()
def noise_share(generator, training: bool, per_class=16) -> float:
    """Mean over classes of the per-pixel variance over noise, divided by
    the per-pixel variance over all samples: the part of the images'
    variation the noise explains (0 for a generator that ignores it).
    Each class is generated as one batch (batch statistics in training
    mode are then those of the class)."""
    generator.train(training)
    g = torch.Generator().manual_seed(1)
    images = torch.stack([
        generator(torch.randn(per_class, NOISE_SIZE, generator=g),
                  torch.full((per_class, ), label))
        for label in range(NUM_CLASSES)
    ])  # [classes, per_class, 3, 32, 32]
    within = images.var(dim=1).mean()
    total = images.flatten(0, 1).var(dim=0).mean()
    return float(within / total)


@pytest.fixture(scope='module')
def trained():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny networks: threads only add hand-offs
    try:
        yield train_tiny_gan()
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize('training', [True, False])
@pytest.mark.parametrize('network', ['generator', 'generator_ema'])
def test_trained_generator_images_vary_with_noise(trained, network,
                                                  training, message_hub):
    share = noise_share(getattr(trained, network), training)
    assert share > MIN_NOISE_SHARE


def test_noise_ignoring_generator_is_caught(message_hub):
    """The check can fail: the same training with the noise cut off."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = train_tiny_gan(ignore_noise=True, iterations=5)
    finally:
        torch.set_num_threads(threads)
    for training in (True, False):
        assert noise_share(model.generator, training) < 1e-6
        assert noise_share(model.generator_ema, training) < 1e-6
