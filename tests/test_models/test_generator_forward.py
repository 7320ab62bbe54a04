"""MMGeneration's generator forward, shared by every generator: noise and
labels as tensors, callables or None, the truncation trick, and clear
errors for bad input."""
import pytest
import torch
import torch.nn.functional as F

from mmbiggan.models import (BigGANDeepGenerator, BigGANGenerator,
                             SNGANGenerator)

NUM_CLASSES = 5


def make(kind):
    torch.manual_seed(0)
    if kind == 'biggan':
        g = BigGANGenerator(32, num_classes=NUM_CLASSES, base_channels=8,
                            noise_size=16, shared_dim=8)
    elif kind == 'deep':
        g = BigGANDeepGenerator(32, num_classes=NUM_CLASSES, base_channels=8,
                                noise_size=16, shared_dim=8)
    else:
        g = SNGANGenerator(32, num_classes=NUM_CLASSES, base_channels=8,
                           noise_size=16)
    return g.eval()


KINDS = ['biggan', 'deep', 'sngan']


@pytest.mark.parametrize('kind', KINDS)
def test_noise_and_label_sources(kind):
    g = make(kind)
    noise = torch.randn(3, g.noise_size)
    label = torch.tensor([0, 4, 2])
    with torch.no_grad():
        reference = g(noise, label)
        assert reference.shape == (3, 3, 32, 32)
        # Callables receive the shape to draw.
        shapes = []

        def noise_fn(shape):
            shapes.append(shape)
            return noise

        def label_fn(shape):
            shapes.append(shape)
            return label

        torch.testing.assert_close(g(noise_fn, label_fn, num_batches=3),
                                   reference)
        assert shapes == [(3, g.noise_size), (3, )]
        # None samples: standard normal noise, uniform labels.
        out = g(None, num_batches=4, return_noise=True)
        assert out['fake_img'].shape == (4, 3, 32, 32)
        assert out['noise_batch'].shape == (4, g.noise_size)
        assert out['label'].dtype == torch.int64
        assert 0 <= int(out['label'].min()) and int(
            out['label'].max()) < NUM_CLASSES
        torch.testing.assert_close(
            g(out['noise_batch'], out['label']), out['fake_img'])
        # Float class vectors: one-hot equals the int label; mixtures work.
        torch.testing.assert_close(
            g(noise, F.one_hot(label, NUM_CLASSES).float()), reference,
            rtol=1e-5, atol=1e-5)
        mix = torch.full((3, NUM_CLASSES), 1 / NUM_CLASSES)
        assert g(noise, mix).shape == (3, 3, 32, 32)


@pytest.mark.parametrize('kind', ['biggan', 'deep'])
def test_outside_embedding(kind):
    g = make(kind)
    noise, label = torch.randn(2, g.noise_size), torch.tensor([1, 3])
    with torch.no_grad():
        embedding = g.shared_embedding(label)
        torch.testing.assert_close(
            g(noise, embedding, use_outside_embedding=True), g(noise, label))
        with pytest.raises(ValueError, match='class embedding'):
            g(noise, label, use_outside_embedding=True)
        with pytest.raises(ValueError, match=r'\[N, 8\]'):
            g(noise, torch.randn(2, 7), use_outside_embedding=True)


@pytest.mark.parametrize('kind', KINDS)
def test_truncation_samples_truncated_noise(kind):
    g = make(kind)
    with torch.no_grad():
        out = g(None, num_batches=64, truncation=0.4, return_noise=True)
    assert float(out['noise_batch'].abs().max()) <= 0.8
    assert float(out['noise_batch'].std()) > 0.2
    # A given noise tensor is used as is.
    noise = torch.randn(2, g.noise_size) * 3
    with torch.no_grad():
        out = g(noise, torch.tensor([0, 1]), truncation=0.4,
                return_noise=True)
    assert torch.equal(out['noise_batch'], noise)


@pytest.mark.parametrize('kind', KINDS)
def test_bad_input_gives_clear_errors(kind):
    g = make(kind)
    size = g.noise_size
    with pytest.raises(ValueError,
                       match=rf'noise must have shape \[N, {size}'):
        g(torch.randn(2, size + 1))
    with pytest.raises(ValueError, match='noise must have shape'):
        g(torch.randn(2, 1, size))
    with pytest.raises(ValueError, match='noise must have shape'):
        g(lambda shape: torch.randn(shape[0], size + 2), num_batches=2)
    with pytest.raises(ValueError, match='num_batches'):
        g(None)
    with pytest.raises(TypeError, match='noise must be'):
        g('noise', num_batches=2)
    for mode in (False, True):
        g.train(mode)
        with pytest.raises(ValueError, match='Label 5 is out of range'):
            g(torch.randn(2, size), torch.tensor([0, 5]))
        with pytest.raises(ValueError, match='Label -1 is out of range'):
            g(None, lambda shape: torch.full(shape, -1), num_batches=2)
    with pytest.raises(ValueError, match=r'shape \[N\]'):
        g(torch.randn(2, size), torch.tensor([[0], [1]]))
    with pytest.raises(ValueError, match='2 noise vectors but 3 labels'):
        g(torch.randn(2, size), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match='class vector'):
        g(torch.randn(2, size), torch.rand(2, NUM_CLASSES + 1))
    for truncation in (0, -0.5):
        with pytest.raises(ValueError, match='truncation must be'):
            g(None, num_batches=2, truncation=truncation)


def test_unconditional_generator_ignores_labels():
    g = BigGANGenerator(32, base_channels=8, noise_size=16,
                        with_shared_embedding=False).eval()
    noise = torch.randn(2, g.noise_size)
    with torch.no_grad():
        out = g(noise, torch.tensor([7, 9]), return_noise=True)
        assert out['label'] is None
        torch.testing.assert_close(out['fake_img'], g(noise))


def test_rgb2bgr_flips_the_channels():
    g = make('sngan')
    g_bgr = SNGANGenerator(32, num_classes=NUM_CLASSES, base_channels=8,
                           noise_size=16, rgb2bgr=True).eval()
    g_bgr.load_state_dict(g.state_dict())
    noise, label = torch.randn(2, 16), torch.tensor([0, 1])
    with torch.no_grad():
        torch.testing.assert_close(g_bgr(noise, label),
                                   g(noise, label).flip(1))


def test_discriminator_needs_labels_when_conditional():
    from mmbiggan.models import ProjDiscriminator
    d = ProjDiscriminator(32, num_classes=3, base_channels=8)
    with pytest.raises(ValueError, match='pass the labels'):
        d(torch.randn(2, 3, 32, 32))


def test_the_output_step_and_its_inverse():
    from mmbiggan.models.architectures.base_generator import (
        output_order_to_rgb, rgb_to_output_order)
    rgb = torch.arange(24.).reshape(2, 3, 2, 2)
    bgr = rgb_to_output_order(rgb, True)
    assert bgr[:, 0].equal(rgb[:, 2]) and bgr[:, 2].equal(rgb[:, 0])
    assert bgr[:, 1].equal(rgb[:, 1])
    assert output_order_to_rgb(bgr, True).equal(rgb)
    assert rgb_to_output_order(rgb, False) is rgb
