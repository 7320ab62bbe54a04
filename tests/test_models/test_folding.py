"""``fold_for_inference``: the folded copy a sampler runs gives the numbers
of the generator it was folded from, in eval mode, and leaves that
generator alone.

Layer by layer (folded batch norms, sub-pixel upsampling convolutions,
fused attention) and for whole generators of every architecture, against
the training layers' eval-mode forward, which itself is checked against
written-out formulas in the layers' own tests.
"""
import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmbiggan.models import (BigGANDeepGenerator, BigGANGenerator,
                             SNGANGenerator, fold_for_inference)
from mmbiggan.models.folding import (FoldedConditionalNorm,
                                     FusedSelfAttention,
                                     SubpixelUpsampledConv2d)
from mmbiggan.models.gans.ema import update_ema
from mmbiggan.models.layers import (BigGANDeepGenResBlock, BigGANGenResBlock,
                                    ConditionalBatchNorm2d, SelfAttentionBlock,
                                    SNConv2d, SpectralNorm)
from mmbiggan.models.layers.upsampling import (add_upsampled,
                                               subpixel_weight,
                                               upsample_nearest)
from mmbiggan.models.sampling import iter_samples
from ._checks import open_attention
from .test_attention import direct_attention
from .test_conditional_norm import CASES, condition, randomize

SN = dict(style='ajbrock')
CLOSE = dict(rtol=1e-5, atol=1e-5)
# Whole random generators amplify float32 rounding differences.
GEN_CLOSE = dict(rtol=1e-4, atol=5e-5)


def plain(module, *args, **kwargs):
    """The training layers' eval-mode forward, without autograd."""
    with torch.no_grad():
        return module.eval()(*args, **kwargs)


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
    return g.eval()


def deep_generator(scale=128, **kwargs):
    args = dict(num_classes=5, base_channels=8, noise_size=16, shared_dim=8)
    args.update(kwargs)
    return randomize_generator(BigGANDeepGenerator(scale, **args))


def biggan_generator(**kwargs):
    args = dict(num_classes=5, base_channels=4, shared_dim=8)
    args.update(kwargs)
    return randomize_generator(BigGANGenerator(64, **args))


def sngan_generator(**kwargs):
    args = dict(num_classes=5, base_channels=16, attention_after_nth_block=2)
    args.update(kwargs)
    return randomize_generator(SNGANGenerator(32, **args))


def count(module, kind):
    return sum(isinstance(m, kind) for m in module.modules())


# --- conditional batch norm --------------------------------------------------


FOLD_CASES = dict(CASES)
FOLD_CASES.update({
    'projection_sn': dict(cond_dim=6, sn_cfg=SN),
    'projection_norm_affine': dict(cond_dim=6, norm_affine=True, sn_cfg=SN),
    'projection_plain_gain': dict(cond_dim=6, residual_gain=False),
    'projection_truncation_rows': dict(cond_dim=6, num_stats=5, sn_cfg=SN),
})


@pytest.mark.parametrize('case', sorted(FOLD_CASES))
@pytest.mark.parametrize('truncation', [None, 1.0, 0.4, 0.13])
def test_folded_batch_norm_equals_the_layer(case, truncation):
    kwargs = FOLD_CASES[case]
    norm = randomize(ConditionalBatchNorm2d(8, eps=1e-4, **kwargs)).eval()
    folded = FoldedConditionalNorm(norm, truncation)
    x, cond = torch.randn(4, 8, 3, 2), condition(kwargs)
    torch.testing.assert_close(folded(x, cond, truncation),
                               plain(norm, x, cond, truncation), **CLOSE)
    if kwargs.get('num_classes'):
        # Float class vectors (mixtures) mix the folded rows.
        mix = torch.softmax(torch.randn(4, kwargs['num_classes']), dim=1)
        torch.testing.assert_close(folded(x, mix, truncation),
                                   plain(norm, x, mix, truncation), **CLOSE)


def test_per_truncation_statistics_are_folded_for_one_truncation():
    norm = randomize(ConditionalBatchNorm2d(4, cond_dim=3, num_stats=3))
    x, cond = torch.randn(2, 4, 2, 2), torch.randn(2, 3)
    at_one = FoldedConditionalNorm(norm.eval(), None)
    # None selects the statistics of truncation 1.
    torch.testing.assert_close(at_one(x, cond, 1.0), plain(norm, x, cond),
                               **CLOSE)
    with pytest.raises(ValueError, match=r'truncation 1\.0, not 0\.5.*'
                       r'fold_for_inference\(generator, truncation=0\.5\)'):
        at_one(x, cond, 0.5)
    # One row of statistics: any truncation is the same fold.
    single = FoldedConditionalNorm(
        randomize(ConditionalBatchNorm2d(4, cond_dim=3)).eval(), 0.3)
    single(x, cond, 0.9)


# --- upsampling convolutions -------------------------------------------------


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
        torch.testing.assert_close(layer.forward_upsampled(x), expected,
                                   **CLOSE)
        folded = SubpixelUpsampledConv2d(weight, layer.bias)
        torch.testing.assert_close(folded.forward_upsampled(x), expected,
                                   **CLOSE)
        torch.testing.assert_close(
            folded(x.contiguous(memory_format=torch.channels_last)),
            expected, **CLOSE)


@pytest.mark.parametrize('conv_args', [
    dict(kernel_size=1),
    dict(kernel_size=3),  # no padding: not the sub-pixel case
    dict(kernel_size=3, padding=1, dilation=1, stride=2),
])
def test_other_convolutions_upsample_like_the_plain_path(conv_args):
    layer = SNConv2d(4, 6, sn_cfg=SN, **conv_args).eval()
    assert not SubpixelUpsampledConv2d.applies_to(layer) or \
        conv_args.get('padding') == 1 and 'stride' not in conv_args
    x = torch.randn(2, 4, 5, 3)
    with torch.no_grad():
        torch.testing.assert_close(layer.forward_upsampled(x),
                                   layer(upsample_nearest(x)), **CLOSE)


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


# --- attention -------------------------------------------------------------


@pytest.mark.parametrize('sn_cfg', [None, SN])
@pytest.mark.parametrize('size', [(8, 8), (6, 10), (2, 2)])
def test_fused_attention_equals_the_block(sn_cfg, size):
    block = SelfAttentionBlock(32, sn_cfg=sn_cfg).eval()
    open_attention(block, 0.7)
    x = torch.randn(3, 32, *size)
    with torch.no_grad():
        fused = FusedSelfAttention(block)(x)
        torch.testing.assert_close(fused, block(x), **CLOSE)
        torch.testing.assert_close(fused, direct_attention(block, x),
                                   **CLOSE)


def test_fused_attention_traces_its_computation():
    block = SelfAttentionBlock(16, sn_cfg=SN).eval()
    open_attention(block, 0.7)
    fused = FusedSelfAttention(block)
    x = torch.randn(2, 16, 4, 4)
    with torch.no_grad():
        traced = torch.jit.trace(fused, x, check_trace=False)
        torch.testing.assert_close(traced(x * 2), fused(x * 2), **CLOSE)


# --- blocks ------------------------------------------------------------------


@pytest.mark.parametrize('block_type', [BigGANDeepGenResBlock,
                                        BigGANGenResBlock])
def test_folded_blocks_equal_theirs_and_leave_inputs_untouched(block_type):
    # In-place ReLU and sum must only write tensors the block made.
    block = block_type(16, 8, cond_dim=6, sn_cfg=SN)
    for bn in (m for m in block.modules()
               if isinstance(m, ConditionalBatchNorm2d)):
        randomize(bn)
    folded = fold_for_inference(block)
    assert count(folded, SubpixelUpsampledConv2d) == 1
    x, cond = torch.randn(2, 16, 4, 4), torch.randn(2, 6)
    x_before, cond_before = x.clone(), cond.clone()
    with torch.no_grad():
        out = folded(x, cond)
    assert torch.equal(x, x_before) and torch.equal(cond, cond_before)
    torch.testing.assert_close(out, plain(block, x, cond), **CLOSE)


# --- whole generators -------------------------------------------------------


GENERATORS = {
    'deep': lambda: deep_generator(),
    'deep_truncation_rows': lambda: deep_generator(num_bn_stats=6),
    'deep_no_concat': lambda: deep_generator(concat_noise=False),
    'deep_torch_sn': lambda: deep_generator(sn_style='torch'),
    'deep_wide_out_conv': lambda: deep_generator(64, out_conv_channels=16,
                                                 num_bn_stats=3),
    'biggan': lambda: biggan_generator(),
    'biggan_no_split': lambda: biggan_generator(split_noise=False),
    'biggan_class_tables': lambda: biggan_generator(
        with_shared_embedding=False, split_noise=False),
    'biggan_bgr': lambda: biggan_generator(rgb2bgr=True),
    'sngan': lambda: sngan_generator(),
}


@pytest.mark.parametrize('name', sorted(GENERATORS))
@pytest.mark.parametrize('truncation', [None, 0.4, 1.0])
def test_folded_generator_equals_the_generator(name, truncation):
    g = GENERATORS[name]()
    folded = fold_for_inference(g, truncation)
    # Everything that can be folded was.
    assert count(folded, ConditionalBatchNorm2d) == 0
    assert count(folded, SelfAttentionBlock) == 0
    assert count(folded, SpectralNorm) == 0
    assert count(folded, SubpixelUpsampledConv2d) == sum(
        getattr(b, 'upsample', False) for b in g.conv_blocks)
    assert count(folded, FoldedConditionalNorm) == count(
        g, ConditionalBatchNorm2d)
    assert count(folded, FusedSelfAttention) == count(g, SelfAttentionBlock)
    assert folded.out_conv.out_channels == 3
    noise, labels = torch.randn(3, g.noise_size), torch.tensor([0, 4, 2])
    expected = plain(g, noise, labels, truncation=truncation)
    with torch.no_grad():
        out = folded(noise, labels, truncation=truncation)
    torch.testing.assert_close(out, expected, **GEN_CLOSE)


def test_out_conv_keeps_only_the_returned_channels():
    g = deep_generator(64, out_conv_channels=16)
    folded = fold_for_inference(g)
    assert folded.out_conv.weight.shape[0] == 3
    assert g.out_conv.weight.shape[0] == 16
    # The spectral norm spans all 16 channels of the original.
    with torch.no_grad():
        torch.testing.assert_close(folded.out_conv.weight,
                                   g.out_conv.normalized_weight()[:3])


def test_class_embedding_input_folds_too():
    # The interpolation app passes the shared embedding itself.
    g = biggan_generator()
    folded = fold_for_inference(g, 0.7)
    noise, labels = torch.randn(3, g.noise_size), torch.tensor([0, 4, 2])
    with torch.no_grad():
        embedding = g.shared_embedding(labels)
        torch.testing.assert_close(
            folded(noise, embedding, truncation=0.7,
                   use_outside_embedding=True),
            plain(g, noise, labels, truncation=0.7), **GEN_CLOSE)


def test_folding_leaves_the_generator_alone():
    g = deep_generator(sn_style='ajbrock').train()
    state = copy.deepcopy(g.state_dict())
    folded = fold_for_inference(g, 0.5)
    assert g.training and not folded.training
    assert all(torch.equal(v, state[k]) for k, v in g.state_dict().items())
    assert all(p.requires_grad for p in g.parameters())
    assert not any(p.requires_grad for p in folded.parameters())
    # A snapshot: later changes of the generator do not reach it.
    noise, labels = torch.randn(2, 16), torch.tensor([0, 3])
    with torch.no_grad():
        before = folded(noise, labels, truncation=0.5)
        for p in g.parameters():
            p.add_(torch.randn_like(p) * 0.1)
        torch.testing.assert_close(folded(noise, labels, truncation=0.5),
                                   before, rtol=0, atol=0)


def test_a_folded_generator_refuses_training():
    folded = fold_for_inference(deep_generator())
    with pytest.raises(RuntimeError, match='train the original generator'):
        folded.train()
    folded.eval()  # allowed


def test_folding_again_follows_ema_updates():
    g, ema = deep_generator(), deep_generator()
    with torch.no_grad():
        for p in g.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    noise, labels = torch.randn(2, 16), torch.tensor([0, 3])
    with torch.no_grad():
        before = fold_for_inference(ema)(noise, labels)
        update_ema(ema, g, momentum=0.5, buffer_momentum=0.5)
        after = fold_for_inference(ema)(noise, labels)
    assert not torch.allclose(before, after, atol=1e-4)
    torch.testing.assert_close(after, plain(ema, noise, labels), **GEN_CLOSE)


def test_gradient_through_a_folded_generator_matches_the_generator():
    # Latent optimisation / inversion: gradient for the input only. In
    # float64: random weights make this generator ill-conditioned, so float32
    # rounding differences grow to ~1e-3 in the gradient.
    g = deep_generator().double()
    noise = torch.randn(2, 16, dtype=torch.float64)
    labels = torch.tensor([0, 3])
    reference = noise.clone().requires_grad_()
    (g(reference, labels, truncation=0.5)**2).sum().backward()
    latent = noise.clone().requires_grad_()
    (fold_for_inference(g, 0.5)(latent, labels, truncation=0.5)**2
     ).sum().backward()
    torch.testing.assert_close(latent.grad, reference.grad, rtol=1e-9,
                               atol=1e-9)


def test_compiled_folded_generator_equals_eager():
    # 64x64: one attention layer, and half the blocks of 128 to trace.
    folded = fold_for_inference(deep_generator(64, block_depth=1), 0.5)
    noise, labels = torch.randn(2, 16), torch.tensor([0, 3])
    with torch.no_grad():
        eager = folded(noise, labels, truncation=0.5)
        compiled = torch.compile(folded, backend='eager')
        torch.testing.assert_close(compiled(noise, labels, truncation=0.5),
                                   eager, **GEN_CLOSE)


def test_folding_under_autocast_keeps_full_precision():
    g = deep_generator()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        low = fold_for_inference(g, 0.5)
    full = fold_for_inference(g, 0.5)
    for (name, a), b in zip(low.state_dict().items(),
                            full.state_dict().values()):
        assert a.dtype == b.dtype and torch.equal(a, b), name


def test_folded_generator_samples_under_bfloat16_autocast():
    g = deep_generator()
    folded = fold_for_inference(g, 0.5)
    noise, labels = torch.randn(2, 16), torch.tensor([0, 3])
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        low = folded(noise, labels, truncation=0.5)
    assert torch.isfinite(low).all()
    torch.testing.assert_close(low.float(),
                               plain(g, noise, labels, truncation=0.5),
                               rtol=0, atol=0.1)


def test_channels_last_folded_generator_samples_the_same_images():
    # benchmarks/RESULTS.md: channels_last pays for sampling at batch >= 8.
    g = deep_generator()
    folded = fold_for_inference(g, 0.5).to(memory_format=torch.channels_last)
    assert folded.out_conv.weight.is_contiguous(
        memory_format=torch.channels_last)
    noise, labels = torch.randn(3, 16), torch.tensor([0, 4, 2])
    with torch.no_grad():
        torch.testing.assert_close(
            folded(noise, labels, truncation=0.5),
            plain(g, noise, labels, truncation=0.5), **GEN_CLOSE)


# --- the sampler -------------------------------------------------------------


def test_the_sampler_folds_once_per_run(monkeypatch):
    from mmbiggan.models import sampling
    calls = []

    def counting(generator, truncation=None):
        calls.append(truncation)
        return fold_for_inference(generator, truncation)

    monkeypatch.setattr(sampling, 'fold_for_inference', counting)
    g = deep_generator(num_bn_stats=3).train()
    noise, labels = torch.randn(5, 16), torch.tensor([0, 1, 2, 3, 4])
    batches = list(iter_samples(g, noise, labels, truncation=0.4,
                                batch_size=2))
    assert calls == [0.4] and len(batches) == 3
    assert g.training, 'the generator itself is not switched'
    torch.testing.assert_close(
        torch.cat([b.images for b in batches]),
        plain(g, noise, labels, truncation=0.4), **GEN_CLOSE)
