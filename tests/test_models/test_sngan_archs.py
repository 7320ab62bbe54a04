"""SNGAN-projection and SAGAN networks: behaviour at 32 and 128, the
layout and parameter counts of PyTorch-StudioGAN, and MMGeneration's
constructor arguments and configs."""
import glob
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from mmbiggan.models import (ProjDiscriminator, SAGANDiscriminator,
                             SAGANGenerator, SNGANGenerator)
from mmbiggan.models.layers import (ConditionalBatchNorm2d, SelfAttentionBlock,
                                    SpectralNorm)
from mmbiggan.registry import MODELS
from ._checks import (assert_eval_deterministic,
                      assert_grads_reach_every_parameter, num_params)
from .test_biggan_archs import check_discriminator, check_generator

CONFIG_ROOT = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')


@pytest.mark.parametrize('scale', [32, 128])
@pytest.mark.parametrize('sagan', [False, True])
def test_generator(scale, sagan):
    g = (SAGANGenerator if sagan else SNGANGenerator)(
        scale, num_classes=7, base_channels=8, noise_size=16)
    has_attention = any(isinstance(m, SelfAttentionBlock) for m in g.modules())
    assert has_attention == sagan
    check_generator(g, scale)


@pytest.mark.parametrize('scale', [32, 128])
@pytest.mark.parametrize('sagan', [False, True])
def test_discriminator(scale, sagan):
    d = (SAGANDiscriminator if sagan else ProjDiscriminator)(
        scale, num_classes=7, base_channels=8)
    assert isinstance(d.conv_blocks[0], SelfAttentionBlock) == sagan
    check_discriminator(d, scale)


def test_unconditional_variants():
    g = SNGANGenerator(32, base_channels=8, noise_size=16)
    assert not g.class_conditional_bn
    assert not any(
        getattr(m, 'conditional', False) for m in g.modules())
    check_generator(g, 32, num_classes=0)
    d = ProjDiscriminator(32, base_channels=8)
    assert d.proj_y is None
    check_discriminator(d, 32, num_classes=0)
    # use_cbn=False: ordinary batch norms even with classes.
    g = SNGANGenerator(32, num_classes=5, base_channels=8, use_cbn=False)
    assert not g.conv_blocks[0].bn1.conditional
    check_generator(g, 32, num_classes=5)


def test_generator_at_64():
    g = SNGANGenerator(64, num_classes=3, base_channels=2, noise_size=8)
    assert g(None, num_batches=2).shape == (2, 3, 64, 64)
    d = ProjDiscriminator(64, num_classes=3, base_channels=2)
    assert d(torch.randn(2, 3, 64, 64), torch.tensor([0, 2])).shape == (2, 1)


# -- PyTorch-StudioGAN's layout (src/models/resnet.py, utils/model_ops.py):
# generator blocks BN-ReLU-up-conv3x3-BN-ReLU-conv3x3 + up-conv1x1, convs
# with bias, class-conditional BN = BN without affine + two class tables;
# output BN with affine; discriminator head conv-ReLU-conv-pool + pool-conv,
# then pre-activated blocks, linear + projection embedding. Attention:
# theta, phi (C/8), g (C/2), o, no biases, one gain.


def conv(cin, cout, k, bias=True):
    return cin * cout * k * k + (cout if bias else 0)


def attention(c):
    return 2 * conv(c, c // 8, 1, False) + conv(c, c // 2, 1, False) + conv(
        c // 2, c, 1, False) + 1


def studiogan_generator(z_dim, ins, outs, num_classes, attention_after=()):
    n = z_dim * ins[0] * 16 + ins[0] * 16
    for index, (a, b) in enumerate(zip(ins, outs)):
        n += 2 * num_classes * (a + b)
        n += conv(a, b, 1) + conv(a, b, 3) + conv(b, b, 3)
        if index + 1 in attention_after:
            n += attention(b)
    return n + 2 * outs[-1] + conv(outs[-1], 3, 3)


def studiogan_discriminator(ins, outs, down, num_classes, attention_after=()):
    n = 0
    for index, (a, b) in enumerate(zip(ins, outs)):
        if index == 0 or a != b or down[index]:
            n += conv(a, b, 1)
        n += conv(a, b, 3) + conv(b, b, 3)
        if index + 1 in attention_after:
            n += attention(b)
    return n + outs[-1] + 1 + num_classes * outs[-1]


# StudioGAN's CIFAR-10 and ImageNet configs: g_conv_dim = d_conv_dim = 64,
# z_dim 128; resnet.py's 32 and 128 channel tables.
W = 64
STUDIOGAN = {
    32: dict(
        g=dict(ins=[4 * W] * 3, outs=[4 * W] * 3, num_classes=10),
        d=dict(
            ins=[3] + [2 * W] * 3,
            outs=[2 * W] * 4,
            down=[True, True, False, False],
            num_classes=10),
        sagan_g=2),
    128: dict(
        g=dict(
            ins=[16 * W, 16 * W, 8 * W, 4 * W, 2 * W],
            outs=[16 * W, 8 * W, 4 * W, 2 * W, W],
            num_classes=1000),
        d=dict(
            ins=[3, W, 2 * W, 4 * W, 8 * W, 16 * W],
            outs=[W, 2 * W, 4 * W, 8 * W, 16 * W, 16 * W],
            down=[True] * 5 + [False],
            num_classes=1000),
        sagan_g=4),
}
# The same models in MMGeneration's base configs.
MMGEN_WIDTHS = {32: (256, 128), 128: (64, 64)}


def meta_count(network_type, scale, **kwargs):
    # Parameters only: the meta device skips allocation and init.
    with torch.device('meta'):
        return num_params(network_type(scale, **kwargs))


@pytest.mark.parametrize('scale', [32, 128])
def test_parameter_counts_equal_studiogan(scale):
    ref = STUDIOGAN[scale]
    g_width, d_width = MMGEN_WIDTHS[scale]
    classes = ref['g']['num_classes']
    expected = {
        'sngan_g': studiogan_generator(128, **ref['g']),
        'sngan_d': studiogan_discriminator(**ref['d']),
        'sagan_g': studiogan_generator(
            128, attention_after=(ref['sagan_g'], ), **ref['g']),
        'sagan_d': studiogan_discriminator(attention_after=(1, ), **ref['d']),
    }
    got = {
        'sngan_g': meta_count(SNGANGenerator, scale, num_classes=classes,
                              base_channels=g_width),
        'sngan_d': meta_count(ProjDiscriminator, scale, num_classes=classes,
                              base_channels=d_width),
        'sagan_g': meta_count(SAGANGenerator, scale, num_classes=classes,
                              base_channels=g_width),
        'sagan_d': meta_count(SAGANDiscriminator, scale,
                              num_classes=classes, base_channels=d_width),
    }
    assert got == expected
    known = {
        32: dict(sngan_g=4_304_387, sngan_d=1_055_105, sagan_g=4_386_308,
                 sagan_d=1_075_586),
        128: dict(sngan_g=41_996_931, sngan_d=39_443_137,
                  sagan_g=42_017_412, sagan_d=39_448_258)
    }
    assert got == known[scale]


def test_layout_follows_studiogan():
    g = SAGANGenerator(32, num_classes=10, base_channels=16)
    block = g.conv_blocks[0]
    assert not hasattr(block.bn1, 'weight')  # BN without its own affine
    assert tuple(block.bn1.gain.weight.shape) == (10, 16)
    assert block.bn1.eps == 1e-4 and g.out_bn.eps == 1e-4
    assert block.conv1.bias is not None and block.conv_sc is not None
    assert isinstance(g.conv_blocks[2], SelfAttentionBlock)  # after block 2
    # SAGAN normalizes everything in G (tables included), torch style.
    sn = [m for m in g.modules() if isinstance(m, SpectralNorm)]
    assert len(sn) == 2 + 3 * 3 + 4 + 3 * 4
    assert all(m.style == 'torch' and m.eps == 1e-12 for m in sn)
    # SNGAN's generator has no spectral norm at all.
    g = SNGANGenerator(32, num_classes=10, base_channels=16)
    assert not any(isinstance(m, SpectralNorm) for m in g.modules())
    d = ProjDiscriminator(32, num_classes=10, base_channels=16)
    assert [type(b).__name__ for b in d.conv_blocks] == ['SNGANDiscResBlock'
                                                         ] * 3
    assert [b.downsample for b in d.conv_blocks] == [True, False, False]
    assert d.from_rgb.is_head_block and d.from_rgb.downsample


def test_channels_and_attention_arguments():
    g = SNGANGenerator(
        32, base_channels=8, channels_cfg={32: [4, 2, 1]},
        attention_after_nth_block=[1, 3, 0, -1])
    assert [b.conv1.out_channels for b in g.conv_blocks
            if not isinstance(b, SelfAttentionBlock)] == [16, 8, 8]
    assert [type(b).__name__ for b in g.conv_blocks] == [
        'SNGANGenResBlock', 'SelfAttentionBlock', 'SNGANGenResBlock',
        'SNGANGenResBlock', 'SelfAttentionBlock'
    ]
    assert g(None, num_batches=2).shape == (2, 3, 32, 32)
    d = ProjDiscriminator(
        32, base_channels=8, channels_cfg=[2, 4], downsample_cfg=[True, True],
        attention_after_nth_block=2)
    assert d(torch.randn(2, 3, 32, 32)).shape == (2, 1)
    assert isinstance(d.conv_blocks[1], SelfAttentionBlock)
    assert d.conv_blocks[1].in_channels == 16

    with pytest.raises(KeyError, match='output_scale=32'):
        SNGANGenerator(32, channels_cfg={64: [1, 1]})
    with pytest.raises(ValueError, match='channels_cfg'):
        SNGANGenerator(32, channels_cfg='1234')
    with pytest.raises(ValueError, match='attention_after_nth_block'):
        SNGANGenerator(32, attention_after_nth_block='2')
    with pytest.raises(ValueError, match='one per block'):
        ProjDiscriminator(32, downsample_cfg=[True])
    with pytest.raises(KeyError, match='input_scale=48'):
        ProjDiscriminator(48)
    with pytest.raises(KeyError, match='attention_cfg'):
        SNGANGenerator(32, attention_after_nth_block=1,
                       attention_cfg=dict(type='NoSuchAttention'))
    with pytest.raises(ValueError, match='attention_after_nth_block'):
        SAGANGenerator(64)


def test_init_arguments():
    with pytest.raises(ValueError, match='init_cfg'):
        SNGANGenerator(32, init_cfg=dict(type='kaiming'))
    with pytest.raises(ValueError, match='with_embedding_spectral_norm'):
        SAGANGenerator(32, num_classes=3, init_cfg=dict(type='sagan'))
    g = SAGANGenerator(
        32, num_classes=3, base_channels=8, init_cfg=dict(type='sagan'),
        with_embedding_spectral_norm=False)
    bn = g.conv_blocks[0].bn1
    assert bn.gain.sn is None and g.conv_blocks[0].conv1.sn is not None
    assert not bn.residual_gain


def test_blocks_cfg_overrides_the_generator_arguments():
    g = SNGANGenerator(
        32, num_classes=3, base_channels=8,
        blocks_cfg=dict(type='SNGANGenResBlock', use_norm_affine=True,
                        bn_eps=1e-3))
    bn = g.conv_blocks[0].bn1
    assert bn.norm_weight is not None and bn.eps == 1e-3
    check_generator(g, 32, num_classes=3)


def test_inplace_relu_changes_only_the_discriminator():
    """MMGeneration's wReLUinplace models: in place, the discriminator
    blocks' pre-activation also rewrites their shortcut input; the
    generator computes the same."""
    torch.manual_seed(0)
    kwargs = dict(num_classes=4, base_channels=8)
    relu = dict(act_cfg=dict(type='ReLU', inplace=True))
    d, d_inplace = ProjDiscriminator(32, **kwargs), ProjDiscriminator(
        32, **kwargs, **relu)
    d_inplace.load_state_dict(d.state_dict())
    g, g_inplace = SNGANGenerator(32, **kwargs), SNGANGenerator(
        32, **kwargs, **relu)
    g_inplace.load_state_dict(g.state_dict())
    for net in (d, d_inplace, g, g_inplace):
        net.eval()
    x, y = torch.randn(2, 3, 32, 32), torch.tensor([1, 3])
    z = torch.randn(2, 128)
    with torch.no_grad():
        assert not torch.allclose(d(x, y), d_inplace(x, y))
        torch.testing.assert_close(g(z, y), g_inplace(z, y))
    # Training through in-place activations works.
    out = d_inplace.train()(g_inplace.train()(z, y), y)
    assert_grads_reach_every_parameter(d_inplace, out)


def test_state_dict_keys():
    g = SAGANGenerator(32, num_classes=3, base_channels=8)
    keys = set(g.state_dict())
    assert {
        'noise2feat.weight', 'noise2feat.bias', 'noise2feat.sn.u',
        'noise2feat.sn.v', 'conv_blocks.0.bn1.gain.weight',
        'conv_blocks.0.bn1.gain.sn.u', 'conv_blocks.0.bn1.running_mean',
        'conv_blocks.0.conv_sc.weight', 'conv_blocks.2.gamma',
        'conv_blocks.2.theta.sn.v', 'out_bn.weight', 'out_bn.running_var',
        'out_conv.weight'
    } <= keys
    d = SAGANDiscriminator(32, num_classes=3, base_channels=8)
    assert {'from_rgb.conv1.weight', 'from_rgb.conv_sc.sn.u',
            'conv_blocks.0.gamma', 'decision.weight', 'proj_y.weight',
            'proj_y.sn.v'} <= set(d.state_dict())


def model_configs():
    return sorted(
        glob.glob(osp.join(CONFIG_ROOT, 'sngan_proj', '*.py')) +
        glob.glob(osp.join(CONFIG_ROOT, 'sagan', '*.py')))


def test_configs_exist():
    names = {osp.basename(p) for p in model_configs()}
    assert {
        'sngan_proj_32_woReLUinplace_lr-2e-4_ndisc5_cifar10_b64x1.py',
        'sngan_proj_128_woReLUinplace_Glr-2e-4_Dlr-5e-5_ndisc5_imagenet1k_'
        'b128x2.py',
        'sagan_32_woReLUinplace_lr-2e-4_ndisc5_cifar10_b64x1.py',
        'sagan_128_woReLUinplace_Glr-1e-4_Dlr-4e-4_ndisc1_imagenet1k_b64x4.py'
    } <= names


@pytest.mark.parametrize(
    'path', model_configs(), ids=[osp.basename(p) for p in model_configs()])
def test_networks_build_from_configs(path):
    """The generator and discriminator entries, as MMGeneration writes them,
    build unchanged (the full-size networks, on the meta device)."""
    cfg = Config.fromfile(path)
    scale = 32 if '_32' in osp.basename(path) else 128
    expected = dict(STUDIOGAN[scale]['g'])
    classes = cfg.model.num_classes
    assert classes == expected['num_classes']
    with torch.device('meta'):
        g = MODELS.build(cfg.model.generator,
                         default_args=dict(num_classes=classes))
        d = MODELS.build(cfg.model.discriminator,
                         default_args=dict(num_classes=classes))
    sagan = 'sagan' in osp.basename(path)
    g_attention = (STUDIOGAN[scale]['sagan_g'], ) if sagan else ()
    assert num_params(g) == studiogan_generator(
        128, attention_after=g_attention, **expected)
    assert num_params(d) == studiogan_discriminator(
        attention_after=(1, ) if sagan else (), **STUDIOGAN[scale]['d'])
    assert g.output_scale == scale and d.input_scale == scale


def test_sngan_forward_is_mmgeneration_style():
    g = SNGANGenerator(32, num_classes=5, base_channels=8, noise_size=16)
    out = g(None, num_batches=3, return_noise=True)
    assert out['fake_img'].shape == (3, 3, 32, 32)
    assert out['noise_batch'].shape == (3, 16) and out['label'].shape == (3, )
    g.eval()
    noise, label = torch.randn(2, 16), torch.tensor([4, 0])
    one_hot = nn.functional.one_hot(label, 5).float()
    with torch.no_grad():
        torch.testing.assert_close(g(noise, one_hot), g(noise, label))
    assert_eval_deterministic(g, lambda: g(noise, label))


def test_batch_norm_tables_are_conditional_batch_norms():
    g = SNGANGenerator(32, num_classes=5, base_channels=8)
    bns = [m for m in g.modules() if isinstance(m, ConditionalBatchNorm2d)]
    assert len(bns) == 7 and sum(bn.conditional for bn in bns) == 6
