"""The eval-mode fast paths of the generators against the plain layers.

With frozen weights (eval mode, no gradient wanted, not traced) the layers
reuse derived tensors (normalized weights, folded kernels, folded batch-norm
maps), fuse attention, convolve before upsampling and work in place. Every
fast path must give the plain path's numbers, stay off whenever autograd
or tracing needs the computation, and follow every kind of weight update.
"""
import copy
import pickle

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmbiggan.models import BigGANDeepGenerator, BigGANGenerator
from mmbiggan.models.gans.ema import update_ema
from mmbiggan.models.layers import (BigGANDeepGenResBlock, BigGANGenResBlock,
                                    ConditionalBatchNorm2d, SelfAttentionBlock,
                                    SNConv2d, SNLinear)
from mmbiggan.models.layers import attention as attention_module
from mmbiggan.models.layers.conditional_norm import (FoldedAffines,
                                                     fold_conditions)
from mmbiggan.models.layers.derived_cache import (DerivedTensorCache,
                                                  weights_frozen)
from mmbiggan.models.layers.upsampling import (add_upsampled,
                                               conv3x3_upsampled,
                                               subpixel_weight,
                                               upsample_nearest)
from ._checks import open_attention
from .test_attention import direct_attention
from .test_conditional_norm import randomize, unfolded

SN = dict(style='ajbrock')
CLOSE = dict(rtol=1e-5, atol=1e-5)


def plain(module, *args, **kwargs):
    """``module(*args)`` on the plain path: gradients on, so no derived
    tensor is reused and nothing runs in place."""
    with torch.enable_grad():
        return module(*args, **kwargs).detach()


def fast(module, *args, **kwargs):
    with torch.no_grad():
        return module(*args, **kwargs)


def cached_values(module):
    """The values held by every derived-tensor cache in ``module``."""
    return [v._value for m in module.modules() for v in vars(m).values()
            if isinstance(v, DerivedTensorCache)]


def randomize_generator(g, seed=0):
    """Non-trivial batch-norm statistics and attention gains, so that every
    folded term matters."""
    gen = torch.Generator().manual_seed(seed)
    open_attention(g, 0.6)
    with torch.no_grad():
        for m in g.modules():
            if isinstance(m, ConditionalBatchNorm2d):
                m.running_mean.copy_(
                    torch.randn(m.running_mean.shape, generator=gen) * 0.3)
                m.running_var.copy_(
                    torch.rand(m.running_var.shape, generator=gen) + 0.5)
    return g


def deep_generator(scale=128, **kwargs):
    args = dict(num_classes=5, base_channels=8, noise_size=16, shared_dim=8)
    args.update(kwargs)
    return randomize_generator(BigGANDeepGenerator(scale, **args)).eval()


def biggan_generator(**kwargs):
    args = dict(num_classes=5, base_channels=4, shared_dim=8)
    args.update(kwargs)
    return randomize_generator(BigGANGenerator(64, **args)).eval()


# --- derived-tensor cache ---------------------------------------------------


def test_cache_recomputes_for_new_versions_objects_storages_and_keys():
    calls = []
    cache = DerivedTensorCache()
    a = torch.ones(3)

    def get(source, key=None):
        return cache.get((source, ), key, lambda: calls.append(1) or
                         source * 2)

    first = get(a)
    assert get(a) is first and len(calls) == 1
    a.add_(1)  # in place: new version
    torch.testing.assert_close(get(a), torch.full((3, ), 4.))
    assert len(calls) == 2
    get(a, key='other')
    assert len(calls) == 3
    b = a.clone()  # equal values, another tensor
    get(b, key='other')
    assert len(calls) == 4
    b.data = torch.zeros(3)  # same object and version, another storage
    torch.testing.assert_close(get(b, key='other'), torch.zeros(3))
    assert len(calls) == 5
    with torch.inference_mode():
        get(b, key='other')
    assert len(calls) == 6
    get(b, key='other')  # an inference tensor is not reused outside
    assert len(calls) == 7


def test_frozen_only_in_eval_without_gradient():
    layer = SNLinear(3, 2, sn_cfg=SN)
    assert not weights_frozen(layer.train(), layer.weight)
    layer.eval()
    assert not weights_frozen(layer, layer.weight)
    with torch.no_grad():
        assert weights_frozen(layer, layer.weight)
    layer.weight.requires_grad_(False)
    assert weights_frozen(layer, layer.weight)


# --- spectral norm -----------------------------------------------------------


def sn_conv_reference(layer, x):
    """The layer's convolution with a freshly normalized weight."""
    fresh = copy.deepcopy(layer)
    return plain(fresh, x)


def test_normalized_weight_is_reused_only_when_frozen():
    layer = SNConv2d(4, 5, 3, padding=1, sn_cfg=SN).eval()
    with torch.no_grad():
        assert layer.normalized_weight() is layer.normalized_weight()
    assert layer.normalized_weight() is not layer.normalized_weight()
    assert layer.normalized_weight().requires_grad
    layer.train()
    with torch.no_grad():
        first = layer.normalized_weight()
        u = layer.sn.u0.clone()
        assert layer.normalized_weight() is not first
    assert not torch.equal(layer.sn.u0, u), 'training must iterate'
    assert cached_values(layer) == [None, None]


def test_cache_follows_optimizer_steps_and_training_updates():
    layer = SNConv2d(4, 5, 3, padding=1, sn_cfg=SN).eval()
    x = torch.randn(2, 4, 6, 6)
    before = fast(layer, x)
    optimizer = torch.optim.Adam(layer.parameters(), lr=0.1)
    (layer.weight**2).sum().backward()
    optimizer.step()
    after = fast(layer, x)
    assert not torch.allclose(before, after, atol=1e-3)
    torch.testing.assert_close(after, sn_conv_reference(layer, x), **CLOSE)
    # A training forward moves the singular vector, which eval reads.
    layer.train()
    with torch.no_grad():
        layer(x)
    layer.eval()
    torch.testing.assert_close(fast(layer, x), sn_conv_reference(layer, x),
                               **CLOSE)


def test_cache_follows_load_state_dict_casts_and_data_writes():
    layer = SNConv2d(4, 5, 3, padding=1, sn_cfg=SN).eval()
    other = SNConv2d(4, 5, 3, padding=1, sn_cfg=SN).eval()
    x = torch.randn(2, 4, 6, 6)
    fast(layer, x)
    layer.load_state_dict(other.state_dict())
    torch.testing.assert_close(fast(layer, x), fast(other, x), rtol=0,
                               atol=0)
    layer.double()
    out = fast(layer, x.double())
    assert out.dtype == torch.float64
    torch.testing.assert_close(out, fast(other.double(), x.double()))
    # Writes through .data escape version counters (mmengine's EMA does
    # them); switching to eval mode again picks them up.
    # (Not a uniform scaling, which spectral norm would undo.)
    layer.weight.data.add_(torch.randn_like(layer.weight))
    layer.eval()
    torch.testing.assert_close(fast(layer, x.double()),
                               sn_conv_reference(layer, x.double()))


@pytest.mark.parametrize('copier', [copy.deepcopy,
                                    lambda m: pickle.loads(pickle.dumps(m))])
def test_copies_start_with_empty_caches_and_stay_independent(copier):
    g = deep_generator()
    noise, labels = torch.randn(2, 16), torch.tensor([0, 3])
    out = fast(g, noise, labels, truncation=0.5)
    assert g._folded_norm_maps._value is not None
    twin = copier(g)
    assert all(v is None for v in cached_values(twin))
    torch.testing.assert_close(fast(twin, noise, labels, truncation=0.5),
                               out, rtol=0, atol=0)
    with torch.no_grad():
        for p in twin.parameters():
            p.mul_(0.9)
    assert not torch.allclose(fast(twin, noise, labels, truncation=0.5),
                              out, atol=1e-4)
    torch.testing.assert_close(fast(g, noise, labels, truncation=0.5), out,
                               rtol=0, atol=0)


# --- attention ------------------------------------------------------------


@pytest.fixture
def count_fused_attention(monkeypatch):
    calls = []
    original = F.scaled_dot_product_attention

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(attention_module.F, 'scaled_dot_product_attention',
                        counting)
    return calls


@pytest.mark.parametrize('sn_cfg', [None, SN])
@pytest.mark.parametrize('size', [(8, 8), (6, 10), (2, 2)])
def test_fused_attention_equals_unfused(count_fused_attention, sn_cfg, size):
    block = SelfAttentionBlock(32, sn_cfg=sn_cfg).eval()
    open_attention(block, 0.7)
    x = torch.randn(3, 32, *size)
    unfused = plain(block, x)
    assert not count_fused_attention
    fused = fast(block, x)
    assert len(count_fused_attention) == 1
    torch.testing.assert_close(fused, unfused, **CLOSE)
    torch.testing.assert_close(fused, direct_attention(block, x).detach(),
                               **CLOSE)
    # gamma and the output map are folded together: a new gain counts.
    with torch.no_grad():
        block.gamma.fill_(-0.3)
    torch.testing.assert_close(fast(block, x), plain(block, x), **CLOSE)


def test_attention_trains_unfused(count_fused_attention):
    block = SelfAttentionBlock(16, sn_cfg=SN).train()
    open_attention(block)
    block(torch.randn(2, 16, 4, 4)).sum().backward()
    with torch.no_grad():
        block(torch.randn(2, 16, 4, 4))
    assert not count_fused_attention
    assert all(p.grad is not None for p in block.parameters())


# --- sub-pixel convolution and the upsampling shortcuts ---------------------


@pytest.mark.parametrize('bias', [True, False])
@pytest.mark.parametrize('size', [(1, 1), (3, 5), (4, 4)])
def test_subpixel_conv_equals_upsample_then_conv(bias, size):
    layer = SNConv2d(5, 7, 3, padding=1, bias=bias, sn_cfg=SN).eval()
    if bias:
        nn.init.normal_(layer.bias)
    x = torch.randn(2, 5, *size)
    with torch.no_grad():
        weight = layer.normalized_weight()
        expected = F.conv2d(upsample_nearest(x), weight, layer.bias,
                            padding=1)
        out = layer.forward_upsampled(x)
        assert layer._subpixel._value is not None, 'fast path not taken'
        torch.testing.assert_close(out, expected, **CLOSE)
        folded = conv3x3_upsampled(x, subpixel_weight(weight),
                                   None if layer.bias is None else
                                   layer.bias.repeat(4))
        torch.testing.assert_close(folded, expected, **CLOSE)
        channels_last = layer.forward_upsampled(
            x.contiguous(memory_format=torch.channels_last))
        torch.testing.assert_close(channels_last, expected, **CLOSE)
    # With gradients, and in training, the plain composition runs.
    torch.testing.assert_close(plain(layer.forward_upsampled, x), expected,
                               **CLOSE)
    layer.train()
    layer._subpixel.clear()
    with torch.no_grad():
        layer.forward_upsampled(x)
    assert layer._subpixel._value is None


@pytest.mark.parametrize('conv_args', [
    dict(kernel_size=1),
    dict(kernel_size=3),  # no padding: not the folded case
    dict(kernel_size=3, padding=1, dilation=1, stride=2),
])
def test_other_convolutions_upsample_like_the_plain_path(conv_args):
    layer = SNConv2d(4, 6, sn_cfg=SN, **conv_args).eval()
    x = torch.randn(2, 4, 5, 3)
    with torch.no_grad():
        expected = layer(upsample_nearest(x))
        torch.testing.assert_close(layer.forward_upsampled(x), expected,
                                   **CLOSE)


def test_subpixel_weight_rejects_other_kernels():
    with pytest.raises(ValueError, match='3x3 kernel'):
        subpixel_weight(torch.randn(4, 2, 5, 5))


@pytest.mark.parametrize('grad', [True, False])
@pytest.mark.parametrize('channels_last', [True, False])
def test_add_upsampled_is_bit_exact(grad, channels_last):
    h = torch.randn(2, 3, 6, 10)
    if channels_last:
        h = h.contiguous(memory_format=torch.channels_last)
    x = torch.randn(2, 3, 3, 5)
    expected = h + upsample_nearest(x)
    with torch.set_grad_enabled(grad):
        out = add_upsampled(h.clone(), x)
    assert torch.equal(out, expected)
    with pytest.raises(ValueError, match='upsampled'):
        add_upsampled(h, torch.randn(2, 3, 3, 4))


@pytest.mark.parametrize('block_type', ['deep', 'biggan'])
def test_blocks_leave_their_inputs_untouched(block_type):
    # In-place ReLU and sum must only write tensors the block made.
    if block_type == 'deep':
        block = BigGANDeepGenResBlock(16, 8, cond_dim=6, sn_cfg=SN)
    else:
        block = BigGANGenResBlock(16, 8, cond_dim=6, sn_cfg=SN)
    for bn in (m for m in block.modules()
               if isinstance(m, ConditionalBatchNorm2d)):
        randomize(bn)
    block.eval()
    x, cond = torch.randn(2, 16, 4, 4), torch.randn(2, 6)
    x_before, cond_before = x.clone(), cond.clone()
    out = fast(block, x, cond)
    assert torch.equal(x, x_before) and torch.equal(cond, cond_before)
    torch.testing.assert_close(out, plain(block, x, cond), **CLOSE)


# --- folded batch norms -----------------------------------------------------


NORM_CASES = {
    'plain': dict(),
    'norm_affine': dict(norm_affine=True),
    'no_residual_gain': dict(residual_gain=False),
    'truncation_rows': dict(num_stats=5),
    'unnormalized': dict(sn_cfg=None),
}


@pytest.mark.parametrize('case', sorted(NORM_CASES))
@pytest.mark.parametrize('truncation', [None, 1.0, 0.5, 0.4, 0.13])
def test_folded_batch_norms_equal_the_layers(case, truncation):
    kwargs = dict(sn_cfg=SN)
    kwargs.update(NORM_CASES[case])
    norms = [randomize(ConditionalBatchNorm2d(c, cond_dim=6, eps=1e-4,
                                              **kwargs), seed=c).eval()
             for c in (3, 8, 5)]
    cond = torch.randn(4, 6)
    with torch.no_grad():
        [folded] = fold_conditions([(norms, cond)], truncation,
                                   DerivedTensorCache())
        assert isinstance(folded, FoldedAffines)
        for norm in norms:
            x = torch.randn(4, norm.num_features, 3, 2)
            expected = norm(x, cond, truncation)
            torch.testing.assert_close(norm(x, folded, truncation), expected,
                                       **CLOSE)
            if norm.num_stats == 1:
                gain = norm.gain(cond) + (1 if norm.residual_gain else 0)
                torch.testing.assert_close(
                    expected, unfolded(norm, x, gain, norm.bias(cond),
                                       norm.running_mean, norm.running_var),
                    **CLOSE)


def test_folded_maps_follow_statistics_truncation_and_weights():
    norms = [randomize(ConditionalBatchNorm2d(4, cond_dim=3, num_stats=3,
                                              sn_cfg=SN)).eval()]
    cache, cond, x = DerivedTensorCache(), torch.randn(2, 3), torch.randn(
        2, 4, 2, 2)

    def check(truncation):
        with torch.no_grad():
            [folded] = fold_conditions([(norms, cond)], truncation, cache)
            torch.testing.assert_close(norms[0](x, folded, truncation),
                                       norms[0](x, cond, truncation),
                                       **CLOSE)

    check(0.5)
    check(1.0)  # another truncation, other rows
    with torch.no_grad():
        norms[0].running_var[2].mul_(3)
    check(1.0)
    with torch.no_grad():
        norms[0].bias.weight.add_(1)
    check(1.0)


def test_folded_affines_refuse_layers_in_training_or_not_folded():
    norms = [ConditionalBatchNorm2d(4, cond_dim=3).eval()]
    with torch.no_grad():
        [folded] = fold_conditions([(norms, torch.randn(2, 3))], None,
                                   DerivedTensorCache())
    with pytest.raises(KeyError, match='not among'):
        ConditionalBatchNorm2d(4, cond_dim=3).eval()(
            torch.randn(2, 4, 2, 2), folded)
    with pytest.raises(RuntimeError, match='training mode'):
        norms[0].train()(torch.randn(2, 4, 2, 2), folded)


# --- whole generators -------------------------------------------------------


@pytest.mark.parametrize('kwargs', [
    dict(num_bn_stats=1),
    dict(num_bn_stats=6),
    dict(concat_noise=False),
    dict(sn_style='torch'),
])
@pytest.mark.parametrize('truncation', [None, 1.0, 0.4, 0.62])
def test_deep_generator_fast_equals_plain(kwargs, truncation):
    g = deep_generator(**kwargs)
    noise, labels = torch.randn(3, 16), torch.tensor([0, 4, 2])
    out = fast(g, noise, labels, truncation=truncation)
    assert g._folded_norm_maps._value is not None, 'folding not taken'
    torch.testing.assert_close(
        out, plain(g, noise, labels, truncation=truncation), **CLOSE)


@pytest.mark.parametrize('kwargs', [
    dict(),
    dict(split_noise=False),
    dict(num_bn_stats=3),
])
def test_biggan_generator_folds_each_block(kwargs):
    g = biggan_generator(**kwargs)
    noise, labels = torch.randn(3, g.noise_size), torch.tensor([0, 4, 2])
    out = fast(g, noise, labels, truncation=0.7)
    maps = g._folded_norm_maps._value
    assert maps is not None and len(maps) == len(g.arch['out_channels'])
    torch.testing.assert_close(out, plain(g, noise, labels, truncation=0.7),
                               **CLOSE)
    # Class-embedding input (interpolation apps) folds too.
    embedding = g.shared_embedding(labels).detach()
    torch.testing.assert_close(
        fast(g, noise, embedding, truncation=0.7,
             use_outside_embedding=True), out, rtol=0, atol=0)


def test_biggan_generator_with_class_tables_is_not_folded():
    g = biggan_generator(with_shared_embedding=False, split_noise=False)
    noise, labels = torch.randn(2, g.noise_size), torch.tensor([1, 3])
    out = fast(g, noise, labels)
    assert g._folded_norm_maps._value is None
    torch.testing.assert_close(out, plain(g, noise, labels), **CLOSE)


def test_generator_fast_paths_off_in_training_and_with_gradients():
    g = deep_generator()
    noise, labels = torch.randn(2, 16), torch.tensor([0, 3])
    g.train()
    with torch.no_grad():
        g(noise, labels)
    g(noise, labels).sum().backward()
    assert all(v is None for v in cached_values(g))
    g.eval()
    g.zero_grad()
    g(noise, labels).sum().backward()  # eval, gradients wanted
    assert all(v is None for v in cached_values(g))
    assert all(p.grad is not None for p in g.parameters()
               if p is not g.shared_embedding.weight)


def test_gradient_through_a_frozen_generator_matches_the_plain_path():
    # Latent optimisation / inversion: weights frozen, gradient wanted for
    # the input only; the fast paths run and must not break autograd.
    # In float64: random weights make this generator ill-conditioned, so
    # float32 rounding differences grow to ~1e-3 in the gradient.
    g = deep_generator().double()
    noise = torch.randn(2, 16, dtype=torch.float64)
    labels = torch.tensor([0, 3])
    reference = noise.clone().requires_grad_()
    (g(reference, labels, truncation=0.5)**2).sum().backward()
    g.requires_grad_(False)
    latent = noise.clone().requires_grad_()
    (g(latent, labels, truncation=0.5)**2).sum().backward()
    assert g._folded_norm_maps._value is not None
    torch.testing.assert_close(latent.grad, reference.grad, rtol=1e-9,
                               atol=1e-9)


def test_inference_mode_values_are_not_reused_with_autograd():
    g = deep_generator()
    g.requires_grad_(False)
    noise, labels = torch.randn(2, 16), torch.tensor([0, 3])
    with torch.inference_mode():
        expected = g(noise, labels)
    latent = noise.clone().requires_grad_()
    out = g(latent, labels)
    out.sum().backward()  # inference tensors cannot be saved for backward
    torch.testing.assert_close(out.detach(), expected, **CLOSE)


def test_ema_updates_reach_the_eval_generator():
    g, ema = deep_generator(), deep_generator()
    with torch.no_grad():
        for p in g.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    noise, labels = torch.randn(2, 16), torch.tensor([0, 3])
    before = fast(ema, noise, labels)
    update_ema(ema, g, momentum=0.5, buffer_momentum=0.5)
    after = fast(ema, noise, labels)
    assert not torch.allclose(before, after, atol=1e-4)
    torch.testing.assert_close(after, fast(copy.deepcopy(ema), noise, labels),
                               rtol=0, atol=0)


def test_compiled_generator_equals_eager_and_follows_weight_changes():
    # Dynamo must trace the computation, not the caches (64x64: one
    # attention layer, and half the blocks of 128 to trace).
    g = deep_generator(64, block_depth=1)
    noise, labels = torch.randn(2, 16), torch.tensor([0, 3])
    eager = fast(g, noise, labels, truncation=0.5)
    compiled = torch.compile(g, backend='eager')
    torch.testing.assert_close(fast(compiled, noise, labels, truncation=0.5),
                               eager, **CLOSE)
    with torch.no_grad():
        g.out_conv.weight.mul_(0.5)
    torch.testing.assert_close(
        fast(compiled, noise, labels, truncation=0.5),
        fast(g, noise, labels, truncation=0.5), **CLOSE)


def test_jit_trace_records_the_computation_not_cached_values():
    block = SelfAttentionBlock(16, sn_cfg=SN).eval()
    open_attention(block, 0.7)
    x = torch.randn(2, 16, 4, 4)
    fast(block, x)  # warm caches must not become trace constants
    with torch.no_grad():
        traced = torch.jit.trace(block, x, check_trace=False)
        block.gamma.fill_(-1.0)
        block.o.weight.mul_(2)
        torch.testing.assert_close(traced(x), block(x), **CLOSE)


def test_values_kept_under_autocast_are_full_precision():
    layer = SNConv2d(6, 5, 3, padding=1, sn_cfg=SN).eval()
    x = torch.randn(2, 6, 4, 4)
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        low = layer.forward_upsampled(x)
    assert low.dtype == torch.bfloat16
    # The kept weights were computed in float32: float32 sampling after
    # a bfloat16 call gives exactly what a fresh layer gives.
    with torch.no_grad():
        torch.testing.assert_close(
            layer.forward_upsampled(x),
            copy.deepcopy(layer).forward_upsampled(x), rtol=0, atol=0)
    torch.testing.assert_close(low.float(), layer.forward_upsampled(x),
                               rtol=0.05, atol=0.05)


def test_generator_samples_under_bfloat16_autocast():
    g = deep_generator()
    noise, labels = torch.randn(2, 16), torch.tensor([0, 3])
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        low = g(noise, labels, truncation=0.5)
    assert torch.isfinite(low).all()
    torch.testing.assert_close(low.float(),
                               fast(g, noise, labels, truncation=0.5),
                               rtol=0, atol=0.1)


def test_channels_last_generator_samples_the_same_images():
    # benchmarks/RESULTS.md: channels_last pays for sampling at batch >= 8.
    g = deep_generator()
    noise, labels = torch.randn(3, 16), torch.tensor([0, 4, 2])
    expected = fast(g, noise, labels, truncation=0.5)
    g.to(memory_format=torch.channels_last)
    out = fast(g, noise, labels, truncation=0.5)
    assert g.out_conv.weight.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(out, expected, **CLOSE)
