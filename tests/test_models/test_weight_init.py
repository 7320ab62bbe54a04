"""Initialization schemes: BigGAN-PyTorch's and MMGeneration's SNGAN ones."""
import math

import pytest
import torch
import torch.nn as nn

from mmbiggan.models import ProjDiscriminator, SNGANGenerator
from mmbiggan.models.layers import (ConditionalBatchNorm2d, SelfAttentionBlock,
                                    init_biggan_weights, init_sngan_weights)


def small_net():
    return nn.Sequential(
        nn.Conv2d(16, 64, 3), nn.Linear(300, 40), nn.Embedding(10, 200),
        SelfAttentionBlock(16), ConditionalBatchNorm2d(8))


def weights(net):
    return [
        m.weight.detach() for m in net.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding))
    ]


def xavier_bound(w, gain=1.0):
    fan_in = w[0].numel()
    fan_out = w.shape[0] * (w[0][0].numel() if w.dim() > 2 else 1)
    return gain * math.sqrt(6 / (fan_in + fan_out))


def assert_xavier(w, gain=1.0):
    w = w.detach()
    bound = xavier_bound(w, gain)
    assert float(w.abs().max()) <= bound
    if w.numel() > 2000:
        assert float(w.std()) == pytest.approx(bound / math.sqrt(3), rel=0.1)


def assert_orthogonal(w):
    m = w.detach().reshape(w.shape[0], -1)
    gram = m @ m.t() if m.shape[0] <= m.shape[1] else m.t() @ m
    torch.testing.assert_close(gram, torch.eye(gram.shape[0]), atol=1e-4,
                               rtol=0)


def test_ortho():
    net = small_net()
    init_biggan_weights(net, 'ortho')
    for w in weights(net):
        assert_orthogonal(w)
    # Gains and batch-norm affines keep their defaults.
    assert float(net[3].gamma.detach()) == 0
    assert torch.equal(net[4].weight, torch.ones(8))


def test_n02():
    torch.manual_seed(0)
    net = small_net()
    init_biggan_weights(net, 'N02')
    w = torch.cat([w.flatten() for w in weights(net)])
    assert float(w.std()) == pytest.approx(0.02, rel=0.02)
    assert abs(float(w.mean())) < 5 * 0.02 / math.sqrt(w.numel())


def test_xavier():
    net = small_net()
    init_biggan_weights(net, 'xavier')
    for w in weights(net):
        assert_xavier(w)


def test_unknown_schemes_are_rejected():
    with pytest.raises(ValueError, match='init_type'):
        init_biggan_weights(small_net(), 'kaiming')
    with pytest.raises(ValueError, match='init_cfg'):
        init_sngan_weights(small_net(), 'ortho')


def tiny_pair(init_type, **kwargs):
    g = SNGANGenerator(
        32, num_classes=5, base_channels=16,
        init_cfg=dict(type=init_type), **kwargs)
    d = ProjDiscriminator(
        32, num_classes=5, base_channels=16, init_cfg=dict(type=init_type))
    return g, d


def test_studio_is_orthogonal_with_zero_biases():
    g, d = tiny_pair('STUDIO')
    for net in (g, d):
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding)):
                assert_orthogonal(m.weight)
                if getattr(m, 'bias', None) is not None:
                    assert not m.bias.any()
    assert g.conv_blocks[0].bn1.residual_gain


def test_biggan_is_xavier_with_default_biases():
    g, d = tiny_pair('BigGAN')
    for net in (g, d):
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding)):
                assert_xavier(m.weight)
    assert g.out_conv.bias.any() and g.conv_blocks[0].bn1.residual_gain


@pytest.mark.parametrize('init_type', ['sngan', 'SNGAN-Proj', 'gan-proj',
                                       'sagan'])
def test_official_schemes(init_type):
    g, d = tiny_pair(init_type, with_embedding_spectral_norm=False)
    sngan = init_type.upper() != 'SAGAN'
    for net in (g, d):
        for name, m in net.named_modules():
            if isinstance(m, ConditionalBatchNorm2d) and m.conditional:
                assert not m.residual_gain
                assert torch.equal(m.gain.weight, torch.ones_like(
                    m.gain.weight))
                assert not m.bias.weight.any()
            elif isinstance(m, nn.Conv2d):
                unit = name.endswith(('conv_sc', 'out_conv')) or not sngan
                assert_xavier(m.weight, 1.0 if unit else math.sqrt(2))
                if not unit:
                    assert float(m.weight.abs().max()) > xavier_bound(
                        m.weight)
                assert not m.bias.any()
            elif isinstance(m, (nn.Linear, nn.Embedding)) and \
                    not name.endswith(('gain', 'bias')):
                assert_xavier(m.weight)
    assert isinstance(d.proj_y, nn.Embedding)
