"""BigGAN / SAGAN self-attention against its formula."""
import pytest
import torch
import torch.nn.functional as F

from mmbiggan.models.layers import SelfAttentionBlock
from mmbiggan.registry import MODELS
from ._checks import assert_grads_reach_every_parameter, open_attention


def direct_attention(block, x):
    """out[i] = x[i] + gamma * W_o sum_j softmax_j(theta_i . phi_j) g_j, with
    j running over the 2x2 max-pooled positions."""
    w = {k: getattr(block, k).normalized_weight().flatten(1)
         for k in ('theta', 'phi', 'g', 'o')}
    theta = torch.einsum('kc,nchw->nhwk', w['theta'], x).flatten(1, 2)
    phi = F.max_pool2d(torch.einsum('kc,nchw->nkhw', w['phi'], x), 2)
    g = F.max_pool2d(torch.einsum('kc,nchw->nkhw', w['g'], x), 2)
    phi, g = phi.flatten(2), g.flatten(2)  # [N, K, M]
    beta = torch.softmax(torch.einsum('nik,nkj->nij', theta, phi), dim=-1)
    attended = torch.einsum('nij,nkj->nki', beta, g)  # [N, C/2, HW]
    o = torch.einsum('ck,nki->nci', w['o'], attended).view_as(x)
    return x + block.gamma * o


@pytest.mark.parametrize('sn_cfg', [None, dict(style='ajbrock')])
def test_attention_equals_direct_formula(sn_cfg):
    block = SelfAttentionBlock(16, sn_cfg=sn_cfg).eval()
    open_attention(block, 0.7)
    x = torch.randn(2, 16, 6, 4)
    with torch.no_grad():
        torch.testing.assert_close(block(x), direct_attention(block, x),
                                   rtol=1e-5, atol=1e-5)


def test_attention_starts_as_identity_and_trains():
    block = SelfAttentionBlock(8, sn_cfg=dict(style='torch'))
    x = torch.randn(2, 8, 4, 4)
    assert torch.equal(block(x), x)
    # gamma's own gradient is non-zero even at 0...
    block(x).mul(torch.randn_like(x)).sum().backward()
    assert float(block.gamma.grad.abs()) > 0
    # ...and once it moves, every convolution learns.
    open_attention(block)
    assert_grads_reach_every_parameter(block, block(x))


def test_attention_layout_and_registry():
    block = MODELS.build(dict(type='SelfAttentionBlock', in_channels=64))
    shapes = {k: tuple(v.shape) for k, v in block.named_parameters()}
    assert shapes == {
        'theta.weight': (8, 64, 1, 1),
        'phi.weight': (8, 64, 1, 1),
        'g.weight': (32, 64, 1, 1),
        'o.weight': (64, 32, 1, 1),
        'gamma': ()
    }
    with pytest.raises(ValueError, match='divisible by 8'):
        SelfAttentionBlock(12)
