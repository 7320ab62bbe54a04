"""Residual blocks: shapes, gradients, eval determinism and, for the SNGAN
blocks, their forward written out."""
import pytest
import torch
import torch.nn.functional as F

from mmbiggan.models.layers import (BigGANDeepDiscResBlock,
                                    BigGANDeepGenResBlock, BigGANDiscResBlock,
                                    BigGANGenResBlock, SNGANDiscHeadResBlock,
                                    SNGANDiscResBlock, SNGANGenResBlock)
from ._checks import (assert_eval_deterministic,
                      assert_grads_reach_every_parameter)

SN = dict(style='ajbrock', eps=1e-6)
N = 3

GEN_BLOCKS = {
    'biggan_projection': (BigGANGenResBlock,
                          dict(in_channels=16, out_channels=8, cond_dim=5,
                               sn_cfg=SN), 'vector'),
    'biggan_tables': (BigGANGenResBlock,
                      dict(in_channels=8, out_channels=8, num_classes=4,
                           upsample=False), 'label'),
    'biggan_unconditional': (BigGANGenResBlock,
                             dict(in_channels=8, out_channels=4), None),
    'deep_projection': (BigGANDeepGenResBlock,
                        dict(in_channels=16, out_channels=8, cond_dim=5,
                             sn_cfg=SN), 'vector'),
    'deep_same_width': (BigGANDeepGenResBlock,
                        dict(in_channels=16, out_channels=16, cond_dim=5,
                             upsample=False, num_bn_stats=3), 'vector'),
    'sngan_tables_sn': (SNGANGenResBlock,
                        dict(in_channels=16, out_channels=8, num_classes=4,
                             sn_cfg=dict(style='torch'),
                             embedding_sn_cfg=dict(style='torch')), 'label'),
    'sngan_norm_affine': (SNGANGenResBlock,
                          dict(in_channels=8, out_channels=8, num_classes=4,
                               residual_gain=False, use_norm_affine=True),
                          'label'),
    'sngan_unconditional': (SNGANGenResBlock,
                            dict(in_channels=8, out_channels=8), None),
}


def make_condition(kind):
    if kind == 'vector':
        return torch.randn(N, 5)
    if kind == 'label':
        return torch.tensor([0, 3, 1])
    return None


@pytest.mark.parametrize('name', sorted(GEN_BLOCKS))
def test_generator_blocks(name):
    block_type, kwargs, cond_kind = GEN_BLOCKS[name]
    block = block_type(**kwargs)
    x, cond = torch.randn(N, kwargs['in_channels'], 4, 4), make_condition(
        cond_kind)
    out = block(x, cond)
    size = 8 if kwargs.get('upsample', True) else 4
    assert out.shape == (N, kwargs['out_channels'], size, size)
    assert_grads_reach_every_parameter(block, out)
    assert_eval_deterministic(block, lambda: block(x, cond))


DISC_BLOCKS = {
    'biggan_head': (BigGANDiscResBlock,
                    dict(in_channels=3, out_channels=8, is_head_block=True,
                         sn_cfg=SN)),
    'biggan_same_width': (BigGANDiscResBlock,
                          dict(in_channels=8, out_channels=8,
                               downsample=False)),
    'deep_grow': (BigGANDeepDiscResBlock,
                  dict(in_channels=8, out_channels=16, sn_cfg=SN)),
    'deep_same_width': (BigGANDeepDiscResBlock,
                        dict(in_channels=16, out_channels=16,
                             downsample=False)),
    'sngan_head': (SNGANDiscHeadResBlock,
                   dict(in_channels=3, out_channels=8,
                        sn_cfg=dict(style='torch'))),
    'sngan_down': (SNGANDiscResBlock,
                   dict(in_channels=8, out_channels=16, downsample=True,
                        sn_cfg=dict(style='torch'))),
}


@pytest.mark.parametrize('name', sorted(DISC_BLOCKS))
def test_discriminator_blocks(name):
    block_type, kwargs = DISC_BLOCKS[name]
    block = block_type(**kwargs)
    x = torch.randn(N, kwargs['in_channels'], 8, 8)
    out = block(x)
    size = 4 if kwargs.get('downsample', True) else 8
    assert out.shape == (N, kwargs['out_channels'], size, size)
    assert_grads_reach_every_parameter(block, out)
    assert_eval_deterministic(block, lambda: block(x))


def test_channel_contracts_of_deep_blocks():
    with pytest.raises(ValueError, match='out_channels'):
        BigGANDeepGenResBlock(8, 16)
    with pytest.raises(ValueError, match='out_channels'):
        BigGANDeepDiscResBlock(16, 8)


def test_sngan_generator_block_written_out():
    block = SNGANGenResBlock(8, 4, num_classes=3, residual_gain=False).eval()
    with torch.no_grad():
        for bn in (block.bn1, block.bn2):
            bn.gain.weight.uniform_(0.5, 1.5)
            bn.bias.weight.normal_()
            bn.running_mean.normal_()
            bn.running_var.uniform_(0.5, 2)
    x, y = torch.randn(2, 8, 4, 4), torch.tensor([2, 0])

    def bn(layer, h):
        h = (h - layer.running_mean.view(1, -1, 1, 1)) / torch.sqrt(
            layer.running_var.view(1, -1, 1, 1) + 1e-4)
        return h * layer.gain.weight[y][..., None, None] + \
            layer.bias.weight[y][..., None, None]

    up = lambda t: F.interpolate(t, scale_factor=2, mode='nearest')  # noqa
    h = block.conv1(up(F.relu(bn(block.bn1, x))))
    h = block.conv2(F.relu(bn(block.bn2, h)))
    expected = h + block.conv_sc(up(x))
    with torch.no_grad():
        torch.testing.assert_close(block(x, y), expected, rtol=1e-5,
                                   atol=1e-5)


@pytest.mark.parametrize('inplace', [False, True])
def test_sngan_disc_block_preactivation(inplace):
    """The configured activation pre-activates; in place, it also rewrites
    the shortcut's input, as in MMGeneration's wReLUinplace models."""
    block = SNGANDiscResBlock(
        4, 8, downsample=True,
        act_cfg=dict(type='LeakyReLU', negative_slope=0.2, inplace=inplace))
    x = torch.randn(2, 4, 6, 6)
    act = F.leaky_relu(x, 0.2)
    h = block.conv2(F.leaky_relu(block.conv1(act), 0.2))
    shortcut_input = act if inplace else x
    expected = F.avg_pool2d(h, 2) + F.avg_pool2d(
        block.conv_sc(shortcut_input), 2)
    with torch.no_grad():
        torch.testing.assert_close(block(x.clone()), expected, rtol=1e-5,
                                   atol=1e-5)
