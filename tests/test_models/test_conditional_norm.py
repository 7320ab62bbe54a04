"""Class-conditional batch norm: the formula, per-truncation statistics as
pytorch-pretrained-biggan uses them, SNGAN's variants and the synced path."""
import math

import pytest
import torch
import torch.distributed as dist
import torch.nn as nn
from pytorch_pretrained_biggan.model import BigGANBatchNorm

from mmbiggan.models.layers import ConditionalBatchNorm2d, truncation_stat_rows
from mmbiggan.models.layers import conditional_norm


def randomize(bn: ConditionalBatchNorm2d, seed=0):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in bn.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.5 +
                    (1 if p.dim() == 1 else 0))
        bn.running_mean.copy_(torch.randn(bn.running_mean.shape,
                                          generator=gen))
        bn.running_var.copy_(torch.rand(bn.running_var.shape,
                                        generator=gen) + 0.5)
    return bn


def unfolded(bn, x, gain, bias, mean, var):
    """(x - mean) / sqrt(var + eps) [* w + b] * gain + bias, written out."""
    h = (x - mean.view(1, -1, 1, 1)) / torch.sqrt(var.view(1, -1, 1, 1) +
                                                  bn.eps)
    if bn.norm_weight is not None:
        h = h * bn.norm_weight.view(1, -1, 1, 1) + bn.norm_bias.view(
            1, -1, 1, 1)
    if gain.dim() == 1:
        return h * gain.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)
    return h * gain[:, :, None, None] + bias[:, :, None, None]


CASES = {
    'projection': dict(cond_dim=6),
    'tables': dict(num_classes=5),
    'tables_sn': dict(num_classes=5, sn_cfg=dict(style='torch')),
    'tables_plain_gain': dict(num_classes=5, residual_gain=False),
    'tables_norm_affine': dict(num_classes=5, norm_affine=True),
    'unconditional': dict(),
}


def condition(kwargs, n=4):
    if kwargs.get('cond_dim'):
        return torch.randn(n, kwargs['cond_dim'])
    if kwargs.get('num_classes'):
        return torch.tensor([0, 4, 2, 4])[:n]
    return None


@pytest.mark.parametrize('case', sorted(CASES))
def test_eval_equals_the_unfolded_formula(case):
    kwargs = CASES[case]
    bn = randomize(ConditionalBatchNorm2d(8, eps=1e-4, **kwargs)).eval()
    x, c = torch.randn(4, 8, 3, 3), condition(kwargs)
    if bn.conditional:
        g = bn.gain.normalized_weight() if kwargs.get('num_classes') else None
        gain = g[c] if g is not None else bn.gain(c)
        bias = bn.bias(c)
        if bn.residual_gain:
            gain = 1 + gain
    else:
        gain, bias = bn.weight, bn.bias
    with torch.no_grad():
        expected = unfolded(bn, x, gain, bias, bn.running_mean,
                            bn.running_var)
        torch.testing.assert_close(bn(x, c), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('case', sorted(CASES))
def test_training_uses_batch_statistics_and_updates_running_ones(case):
    kwargs = CASES[case]
    bn = randomize(ConditionalBatchNorm2d(8, momentum=0.3, **kwargs)).train()
    ref = nn.BatchNorm2d(8, momentum=0.3, affine=False)
    ref.running_mean.copy_(bn.running_mean)
    ref.running_var.copy_(bn.running_var)
    x, c = torch.randn(4, 8, 3, 3), condition(kwargs)
    out = bn(x, c)
    normalized = ref(x)
    if bn.norm_weight is not None:
        normalized = normalized * bn.norm_weight.view(1, -1, 1, 1) + \
            bn.norm_bias.view(1, -1, 1, 1)
    with torch.no_grad():  # eval reads the singular vectors just written
        gain, bias = bn.eval()._affine(c)
    gain = gain.view(-1, 8, 1, 1) if gain.dim() == 2 else gain.view(
        1, -1, 1, 1)
    bias = bias.view(-1, 8, 1, 1) if bias.dim() == 2 else bias.view(
        1, -1, 1, 1)
    torch.testing.assert_close(out, normalized * gain + bias)
    torch.testing.assert_close(bn.running_mean, ref.running_mean)
    torch.testing.assert_close(bn.running_var, ref.running_var)


def test_plain_gain_tables_start_at_unit_gain_and_zero_bias():
    bn = ConditionalBatchNorm2d(4, num_classes=3, residual_gain=False).eval()
    x = torch.randn(2, 4, 2, 2)
    with torch.no_grad():
        torch.testing.assert_close(
            bn(x, torch.tensor([0, 2])), x / math.sqrt(1 + bn.eps))


def test_plain_gain_with_spectral_norm_is_rejected():
    with pytest.raises(ValueError, match='zero'):
        ConditionalBatchNorm2d(
            4, num_classes=3, residual_gain=False, sn_cfg=dict(style='torch'))


def test_condition_is_required_and_kinds_are_exclusive():
    with pytest.raises(ValueError, match='not both'):
        ConditionalBatchNorm2d(4, cond_dim=3, num_classes=3)
    with pytest.raises(ValueError, match='condition'):
        ConditionalBatchNorm2d(4, num_classes=3)(torch.randn(2, 4, 2, 2))


@pytest.mark.parametrize('conditional', [True, False])
def test_per_truncation_rows_reproduce_pytorch_pretrained_biggan(
        conditional):
    torch.manual_seed(0)
    cond_dim, channels = 10, 6
    ref = BigGANBatchNorm(
        channels,
        condition_vector_dim=cond_dim if conditional else None,
        n_stats=51,
        eps=1e-4,
        conditional=conditional).eval()
    with torch.no_grad():
        ref.running_means.normal_()
        ref.running_vars.uniform_(0.5, 2.0)
        if not conditional:
            ref.weight.normal_()
            ref.bias.normal_()
    ours = ConditionalBatchNorm2d(
        channels,
        cond_dim=cond_dim if conditional else 0,
        eps=1e-4,
        num_stats=51,
        sn_cfg=dict(style='torch', eps=1e-4)).eval()
    with torch.no_grad():
        ours.running_mean.copy_(ref.running_means)
        ours.running_var.copy_(ref.running_vars)
        if conditional:
            for mine, theirs in ((ours.gain, ref.scale), (ours.bias,
                                                          ref.offset)):
                mine.weight.copy_(theirs.weight_orig)
                mine.sn.u.copy_(theirs.weight_u)
                mine.sn.v.copy_(theirs.weight_v)
        else:
            ours.weight.copy_(ref.weight)
            ours.bias.copy_(ref.bias)
    x = torch.randn(3, channels, 4, 4)
    c = torch.randn(3, cond_dim) if conditional else None
    for truncation in (0.02, 0.14, 0.4, 0.58, 0.653, 0.999, 1.0):
        with torch.no_grad():
            torch.testing.assert_close(
                ours(x, c, truncation=truncation),
                ref(x, truncation, c),
                rtol=1e-5,
                atol=1e-5)


def test_truncation_rows_use_the_reversed_blend_with_float64_rounding():
    # 0.653 / 0.02 = 32.65: rows 32 and 33, weights 0.65 and 0.35 (a
    # linear interpolation would weigh row 33 by 0.65).
    index, coef = truncation_stat_rows(0.653, 51)
    assert index == 32 and coef == pytest.approx(0.65)
    # Float64 rounding: 0.14 / 0.02 is 7.000000000000001, so the reference
    # uses row 8 (weight 1 - 9e-16), not row 7; 0.58 / 0.02 is
    # 28.999999999999996, so it uses row 28, not row 29.
    index, coef = truncation_stat_rows(0.14, 51)
    assert index == 7 and 0 < coef < 1e-14
    index, coef = truncation_stat_rows(0.58, 51)
    assert index == 28 and 0 < 1 - coef < 1e-14
    assert truncation_stat_rows(0.4, 51) == (20, 0.0)
    assert truncation_stat_rows(1.0, 51) == (50, 0.0)
    with pytest.raises(ValueError, match='truncation'):
        truncation_stat_rows(1.5, 51)


def test_training_updates_the_row_of_the_given_truncation():
    bn = ConditionalBatchNorm2d(3, num_stats=5).train()
    bn(torch.randn(4, 3, 2, 2) + 3, truncation=0.5)
    changed = (bn.running_mean != 0).any(dim=1)
    assert changed.tolist() == [False, False, True, False, False]


@pytest.fixture
def single_process_group(tmp_path, monkeypatch):
    """A real gloo group of one process, reported as two so the synced
    path runs."""
    dist.init_process_group(
        'gloo', init_method=f'file://{tmp_path}/store', rank=0, world_size=1)
    monkeypatch.setattr(conditional_norm.dist, 'get_world_size', lambda: 2)
    yield
    dist.destroy_process_group()


@pytest.mark.parametrize('case', ['tables', 'tables_norm_affine'])
def test_synced_statistics_equal_local_ones_in_a_single_process(
        case, single_process_group):
    kwargs = CASES[case]
    local = randomize(ConditionalBatchNorm2d(8, **kwargs)).train()
    synced = randomize(
        ConditionalBatchNorm2d(8, sync_stats=True, **kwargs)).train()
    x = torch.randn(4, 8, 3, 3, requires_grad=True)
    c = condition(kwargs)
    out_local, out_synced = local(x, c), synced(x, c)
    torch.testing.assert_close(out_synced, out_local, rtol=1e-5, atol=1e-5)
    grad = torch.randn_like(out_local)
    gx_local, = torch.autograd.grad(out_local, x, grad)
    gx_synced, = torch.autograd.grad(out_synced, x, grad)
    torch.testing.assert_close(gx_synced, gx_local, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(synced.running_mean, local.running_mean)
    torch.testing.assert_close(synced.running_var, local.running_var)
