"""BigGAN and BigGAN-Deep networks at every resolution, and their
parameter counts against the reference implementations."""
import pytest
import torch
from pytorch_pretrained_biggan import BigGAN, BigGANConfig

from mmbiggan.models import (BigGANDeepDiscriminator, BigGANDeepGenerator,
                             BigGANDiscriminator, BigGANGenerator)
from ._checks import (assert_eval_deterministic,
                      assert_grads_reach_every_parameter, num_params,
                      open_attention)

NUM_CLASSES = 7
N = 2

# Smallest widths whose attention layers still have channels divisible by
# 8; full widths are built (on the meta device) only for the counts below.
G_WIDTH = {32: 8, 64: 4, 128: 4, 256: 4, 512: 4}
D_WIDTH = {32: 8, 64: 4, 128: 8, 256: 4, 512: 4}
DEEP_WIDTH = {128: 4, 256: 4, 512: 4}
# The discriminator's first bottleneck has out/4 channels: at width 4 a
# single one, which a ReLU can silence for a whole batch.
DEEP_D_WIDTH = {128: 8, 256: 8, 512: 8}


def check_generator(g, scale, num_classes=NUM_CLASSES):
    open_attention(g)
    g.train()
    labels = torch.arange(N) % max(num_classes, 1)
    noise = torch.randn(N, g.noise_size)
    out = g(noise, labels)
    assert out.shape == (N, 3, scale, scale)
    assert float(out.detach().abs().max()) <= 1
    assert_grads_reach_every_parameter(g, out)
    out = assert_eval_deterministic(g, lambda: g(noise, labels))
    assert float(out.abs().max()) <= 1


def check_discriminator(d, scale, num_classes=NUM_CLASSES):
    open_attention(d)
    d.train()
    images = torch.rand(N, 3, scale, scale) * 2 - 1
    labels = torch.arange(N) % num_classes if num_classes else None
    out = d(images, labels)
    assert out.shape == (N, 1)
    assert_grads_reach_every_parameter(d, out)
    assert_eval_deterministic(d, lambda: d(images, labels))


@pytest.mark.parametrize('scale', sorted(G_WIDTH))
def test_biggan_generator(scale):
    g = BigGANGenerator(
        scale, num_classes=NUM_CLASSES, base_channels=G_WIDTH[scale],
        shared_dim=16)
    num_blocks = len(g.arch['out_channels'])
    assert g.noise_size == 120 // (num_blocks + 1) * (num_blocks + 1)
    check_generator(g, scale)


@pytest.mark.parametrize('scale', sorted(D_WIDTH))
def test_biggan_discriminator(scale):
    check_discriminator(
        BigGANDiscriminator(
            scale, num_classes=NUM_CLASSES, base_channels=D_WIDTH[scale]),
        scale)


@pytest.mark.parametrize('scale', sorted(DEEP_WIDTH))
def test_biggan_deep_generator(scale):
    check_generator(
        BigGANDeepGenerator(
            scale,
            num_classes=NUM_CLASSES,
            base_channels=DEEP_WIDTH[scale],
            noise_size=16,
            shared_dim=16), scale)


@pytest.mark.parametrize('scale', sorted(DEEP_WIDTH))
def test_biggan_deep_discriminator(scale):
    check_discriminator(
        BigGANDeepDiscriminator(
            scale, num_classes=NUM_CLASSES,
            base_channels=DEEP_D_WIDTH[scale]),
        scale)


@pytest.mark.parametrize('split_noise', [True, False])
def test_unconditional_biggan(split_noise):
    g = BigGANGenerator(
        32, base_channels=8, with_shared_embedding=False,
        split_noise=split_noise)
    assert g.shared_embedding is None
    assert all(not bn.conditional or bn.gain.in_features == g.noise_chunk_size
               for bn in g.modules() if hasattr(bn, 'conditional'))
    check_generator(g, 32, num_classes=0)
    d = BigGANDiscriminator(32, base_channels=8)
    assert d.proj_y is None
    check_discriminator(d, 32, num_classes=0)


def test_unconditional_biggan_deep():
    g = BigGANDeepGenerator(
        128, base_channels=4, noise_size=16, with_shared_embedding=False,
        concat_noise=False)
    assert not any(getattr(m, 'conditional', False) for m in g.modules())
    check_generator(g, 128, num_classes=0)
    check_discriminator(BigGANDeepDiscriminator(128, base_channels=8), 128,
                        num_classes=0)


def test_cifar_biggan_uses_plain_per_class_tables():
    g = BigGANGenerator(
        32, num_classes=10, base_channels=8, noise_size=128,
        with_shared_embedding=False, split_noise=False)
    bn = g.conv_blocks[0].bn1
    assert tuple(bn.gain.weight.shape) == (10, 32) and bn.gain.sn is None
    check_generator(g, 32, num_classes=10)


def meta_count(build):
    # Parameter counts only: the meta device skips allocation and init.
    with torch.device('meta'):
        return num_params(build())


def test_parameter_counts_of_biggan_128():
    """BigGAN-PyTorch's ImageNet 128 recipe: G_ch = D_ch = 96, dim_z 120,
    shared embedding 128, hierarchical z, attention at 64."""
    assert meta_count(lambda: BigGANGenerator(
        128, noise_size=120, num_classes=1000, base_channels=96,
        shared_dim=128)) == 70_433_988
    assert meta_count(lambda: BigGANDiscriminator(
        128, num_classes=1000, base_channels=96)) == 87_982_370


def test_parameter_counts_of_cifar_biggan_32():
    """BigGAN-PyTorch's CIFAR-10 recipe: G_ch = D_ch = 64, dim_z 128, no
    shared embedding, no hierarchy, no attention."""
    assert meta_count(lambda: BigGANGenerator(
        32, noise_size=128, num_classes=10, base_channels=64,
        with_shared_embedding=False, split_noise=False)) == 4_304_387
    assert meta_count(lambda: BigGANDiscriminator(
        32, num_classes=10, base_channels=64)) == 4_207_361


def test_parameter_count_of_biggan_deep_128_equals_pytorch_pretrained():
    reference = num_params(BigGAN(BigGANConfig()))
    assert reference == 50_388_609
    assert meta_count(lambda: BigGANDeepGenerator(
        128, noise_size=128, num_classes=1000, base_channels=128,
        shared_dim=128, out_conv_channels=128)) == reference


def test_spectral_norm_style_does_not_change_parameters():
    kwargs = dict(num_classes=3, base_channels=8)
    ajbrock = BigGANGenerator(32, sn_style='ajbrock', **kwargs)
    torch_style = BigGANGenerator(32, sn_style='torch', **kwargs)
    shapes = lambda m: {k: v.shape for k, v in m.named_parameters()}  # noqa
    assert shapes(ajbrock) == shapes(torch_style)


def test_parameter_count_of_biggan_deep_512_discriminator():
    """MMGeneration's BigGAN-Deep-512 D (base 128, 1000 classes) attends
    after the fourth stage, on 32x32 features of 8 * 128 channels; at the
    third stage (64x64, 4 * 128 channels) it would count 1.25 * (1024**2 -
    512**2) = 983,040 parameters fewer (theta, phi, g, o of the block)."""
    assert meta_count(lambda: BigGANDeepDiscriminator(
        512, num_classes=1000, base_channels=128)) == 39_284_162


def attention_sites(network, scale, downsampling):
    """(feature size, channels) at every attention block of ``network``,
    from the blocks' in/out layout (``downsampling``: discriminator)."""
    from mmbiggan.models.layers.attention import SelfAttentionBlock
    arch = network.arch
    size = scale if downsampling else network.input_scale
    sites = []
    for index, channels in enumerate(arch['out_channels']):
        if downsampling and arch['downsample'][index]:
            size //= 2
        if not downsampling and arch['upsample'][index]:
            size *= 2
        if arch['attention'][index]:
            sites.append((size, channels))
    assert len(sites) == sum(
        isinstance(m, SelfAttentionBlock) for m in network.modules())
    return sites


# Where MMGeneration 0.7.3 puts attention at base width 1 (its
# ``_get_default_arch_cfg`` tables: (feature size, channels) after the
# attended block).
MMGEN_ATTENTION = {
    'BigGANGenerator': {32: [], 64: [(64, 2)], 128: [(64, 2)],
                        256: [(64, 4)], 512: [(64, 4)]},
    'BigGANDiscriminator': {32: [], 64: [], 128: [(64, 1)], 256: [(64, 2)],
                            512: [(32, 4)]},
    'BigGANDeepGenerator': {32: [], 64: [(64, 2)], 128: [(64, 2)],
                            256: [(64, 4)], 512: [(64, 4)]},
    'BigGANDeepDiscriminator': {32: [], 64: [], 128: [(64, 2)],
                                256: [(64, 4)], 512: [(32, 8)]},
}


@pytest.mark.parametrize('name', sorted(MMGEN_ATTENTION))
def test_attention_sits_where_mmgeneration_puts_it(name):
    import mmbiggan.models as models
    cls = getattr(models, name)
    for scale, expected in MMGEN_ATTENTION[name].items():
        with torch.device('meta'):
            network = cls(scale, num_classes=3, base_channels=8)
        found = attention_sites(network, scale, 'Discriminator' in name)
        assert found == [(s, c * 8) for s, c in expected], (scale, found)
