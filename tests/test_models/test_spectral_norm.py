"""Spectral norm in its two styles against the references' definitions."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmbiggan.models.layers import (SNConv2d, SNEmbedding, SNLinear,
                                    SpectralNorm, reset_spectral_norm_vectors)


def planted_matrix(rows, cols, singular_values, seed=0):
    """A matrix with the given leading singular values (the rest 0.5)."""
    gen = torch.Generator().manual_seed(seed)
    k = min(rows, cols)
    u, _ = torch.linalg.qr(torch.randn(rows, k, generator=gen))
    v, _ = torch.linalg.qr(torch.randn(cols, k, generator=gen))
    s = torch.full((k, ), 0.5)
    s[:len(singular_values)] = torch.tensor(singular_values)
    return u @ torch.diag(s) @ v.t()


def reference_ajbrock_step(matrix, us, eps):
    """One power-iteration step as BigGAN-PyTorch defines it: for each
    tracked vector, v = u W and u = v W^T, both made orthogonal to the
    earlier vectors (Gram-Schmidt) and normalized; sigma_i = v_i W^T u_i^T.
    Returns the new u's and the sigmas."""

    def orthogonalize(x, basis):
        for y in basis:
            x = x - (y @ x.t()) * y / (y @ y.t())
        return x

    new_us, vs, sigmas = [], [], []
    for u in us:
        v = F.normalize(orthogonalize(u @ matrix, vs), eps=eps)
        vs.append(v)
        u = F.normalize(orthogonalize(v @ matrix.t(), new_us), eps=eps)
        new_us.append(u)
        sigmas.append((v @ matrix.t() @ u.t()).squeeze())
    return new_us, sigmas


def test_ajbrock_sigma_converges_to_top_singular_value():
    layer = SNConv2d(32, 64, 3, sn_cfg=dict(style='ajbrock', eps=1e-12))
    top = torch.linalg.svdvals(layer.weight.detach().reshape(64, -1))[0]
    layer.train()
    layer(torch.randn(1, 32, 3, 3))
    with torch.no_grad():  # what each training forward runs
        for _ in range(300):
            layer.sn.sigma(layer.weight)
    assert float(layer.sn.sv0) == pytest.approx(float(top), rel=1e-4)
    w = layer.normalized_weight().detach().reshape(64, -1)
    assert float(torch.linalg.svdvals(w)[0]) == pytest.approx(1.0, rel=1e-4)


def test_ajbrock_tracks_several_singular_values_with_gram_schmidt():
    matrix = planted_matrix(40, 60, [8.0, 5.0, 3.0])
    layer = SNLinear(
        60, 40, sn_cfg=dict(style='ajbrock', eps=1e-12, num_svs=3))
    with torch.no_grad():
        layer.weight.copy_(matrix)
    for _ in range(80):
        layer.sn.sigma(layer.weight)
    expected = torch.linalg.svdvals(matrix)[:3]
    got = torch.cat([layer.sn.sv0, layer.sn.sv1, layer.sn.sv2])
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=0)
    # The tracked u's are orthonormal.
    us = torch.cat([layer.sn.u0, layer.sn.u1, layer.sn.u2])
    torch.testing.assert_close(us @ us.t(), torch.eye(3), atol=1e-5, rtol=0)


@pytest.mark.parametrize('num_svs,num_iters', [(1, 1), (2, 3)])
def test_ajbrock_matches_biggan_pytorch_definition(num_svs, num_iters):
    eps = 1e-8
    layer = SNConv2d(
        6,
        10,
        3,
        sn_cfg=dict(
            style='ajbrock', eps=eps, num_svs=num_svs, num_iters=num_iters))
    matrix = layer.weight.detach().reshape(10, -1)
    stored = [getattr(layer.sn, f'u{i}').clone() for i in range(num_svs)]

    # Training: num_iters steps, each from the u the previous one wrote.
    us = stored
    for _ in range(num_iters):
        us, sigmas = reference_ajbrock_step(matrix, us, eps)
    layer.train()
    torch.testing.assert_close(layer.normalized_weight(),
                               layer.weight / sigmas[0])
    for i in range(num_svs):
        torch.testing.assert_close(getattr(layer.sn, f'u{i}'), us[i])
        torch.testing.assert_close(getattr(layer.sn, f'sv{i}'),
                                   sigmas[i].reshape(1))

    # Eval: one step from the stored u, nothing written back.
    layer.eval()
    stored = [getattr(layer.sn, f'u{i}').clone() for i in range(num_svs)]
    svs = [getattr(layer.sn, f'sv{i}').clone() for i in range(num_svs)]
    _, sigmas = reference_ajbrock_step(matrix, stored, eps)
    with torch.no_grad():
        out = layer.normalized_weight()
    torch.testing.assert_close(out, layer.weight / sigmas[0])
    for i in range(num_svs):
        assert torch.equal(getattr(layer.sn, f'u{i}'), stored[i])
        assert torch.equal(getattr(layer.sn, f'sv{i}'), svs[i])


def _torch_reference(module: nn.Module, ours: nn.Module, eps: float,
                     num_iters: int):
    """Wrap ``module`` with torch.nn.utils.spectral_norm and give it our
    weight and singular vectors."""
    ref = nn.utils.spectral_norm(
        module, eps=eps, n_power_iterations=num_iters)
    with torch.no_grad():
        ref.weight_orig.copy_(ours.weight)
        ref.weight_u.copy_(ours.sn.u)
        ref.weight_v.copy_(ours.sn.v)
    return ref


@pytest.mark.parametrize('kind', ['conv', 'linear', 'embedding'])
@pytest.mark.parametrize('num_iters', [1, 3])
def test_torch_style_matches_torch_spectral_norm(kind, num_iters):
    eps = 1e-12
    sn_cfg = dict(style='torch', eps=eps, num_iters=num_iters)
    if kind == 'conv':
        ours = SNConv2d(5, 7, 3, padding=1, sn_cfg=sn_cfg)
        ref = _torch_reference(nn.Conv2d(5, 7, 3, padding=1), ours, eps,
                               num_iters)
        x = torch.randn(2, 5, 6, 6)
    elif kind == 'linear':
        ours = SNLinear(9, 4, sn_cfg=sn_cfg)
        ref = _torch_reference(nn.Linear(9, 4), ours, eps, num_iters)
        x = torch.randn(3, 9)
    else:
        ours = SNEmbedding(6, 8, sn_cfg=sn_cfg)
        ref = _torch_reference(nn.Embedding(6, 8), ours, eps, num_iters)
        x = torch.tensor([0, 3, 5, 3])
    if kind != 'embedding':
        with torch.no_grad():
            ref.bias.copy_(ours.bias)

    for mode in ('train', 'train', 'eval', 'eval'):
        ours.train(mode == 'train')
        ref.train(mode == 'train')
        out, expected = ours(x), ref(x)
        torch.testing.assert_close(out, expected, rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(ours.sn.u, ref.weight_u, rtol=0, atol=0)
        torch.testing.assert_close(ours.sn.v, ref.weight_v, rtol=0, atol=0)
        if mode == 'train':
            # Same gradient: through W in sigma, not through u and v.
            grad_out = torch.randn_like(out)
            w_grad, = torch.autograd.grad(out, ours.weight, grad_out)
            ref_grad, = torch.autograd.grad(expected, ref.weight_orig,
                                            grad_out)
            torch.testing.assert_close(w_grad, ref_grad, rtol=1e-5,
                                       atol=1e-6)


def test_torch_style_sigma_converges_and_eval_does_not_iterate():
    layer = SNLinear(50, 30, sn_cfg=dict(style='torch', eps=1e-12))
    top = torch.linalg.svdvals(layer.weight.detach())[0]
    layer.eval()
    u, v = layer.sn.u.clone(), layer.sn.v.clone()
    with torch.no_grad():
        sigma = layer.sn.sigma(layer.weight)
    assert torch.equal(layer.sn.u, u) and torch.equal(layer.sn.v, v)
    torch.testing.assert_close(sigma, u @ layer.weight.detach() @ v)
    layer.train()
    with torch.no_grad():
        for _ in range(300):
            sigma = layer.sn.sigma(layer.weight)
    assert float(sigma) == pytest.approx(float(top), rel=1e-5)


@pytest.mark.parametrize('layer_type', ['conv', 'linear', 'embedding'])
def test_torch_style_two_training_forwards_then_one_backward(layer_type):
    # Each training forward updates u and v in place; the first forward's
    # graph must hold copies, else its backward raises "modified by an
    # inplace operation" (as in a D step that runs real and fake batches).
    sn_cfg = dict(style='torch', num_iters=1)
    torch.manual_seed(0)
    if layer_type == 'conv':
        layer = SNConv2d(4, 6, 3, padding=1, sn_cfg=sn_cfg)
        x1, x2 = torch.randn(2, 4, 5, 5), torch.randn(2, 4, 5, 5)
    elif layer_type == 'linear':
        layer = SNLinear(7, 5, sn_cfg=sn_cfg)
        x1, x2 = torch.randn(3, 7), torch.randn(3, 7)
    else:
        layer = SNEmbedding(6, 4, sn_cfg=sn_cfg)
        x1, x2 = torch.tensor([0, 2, 5]), torch.tensor([1, 3, 4])
    layer.train()
    u_before = layer.sn.u.clone()
    loss = layer(x1).square().sum() + layer(x2).square().sum()
    loss.backward()
    assert not torch.equal(layer.sn.u, u_before)  # both forwards iterated
    assert layer.weight.grad is not None
    assert torch.isfinite(layer.weight.grad).all()
    assert float(layer.weight.grad.abs().sum()) > 0


def test_reset_vectors_brings_sigma_close_to_the_top_singular_value():
    layer = SNConv2d(16, 16, 3, sn_cfg=dict(style='torch'))
    with torch.no_grad():
        layer.weight.copy_(planted_matrix(16, 144, [3.0, 2.0]).view(
            16, 16, 3, 3))
    layer.eval()
    top = float(torch.linalg.svdvals(layer.weight.detach().reshape(16, -1))[0])
    assert top == pytest.approx(3.0, rel=1e-5)
    reset_spectral_norm_vectors(layer, num_iters=30)
    with torch.no_grad():
        assert float(layer.sn.sigma(layer.weight)) == pytest.approx(
            top, rel=1e-3)


def test_eval_normalization_follows_every_weight_change():
    # Eval mode computes the normalized weight on every call (sampling
    # bakes it once in a folded copy instead), so writes through .data, as
    # mmengine's EMA makes them, count at once.
    layer = SNLinear(8, 6, sn_cfg=dict(style='ajbrock')).eval()
    with torch.no_grad():
        first = layer.normalized_weight()
        layer.weight.data.add_(torch.randn_like(layer.weight))
        second = layer.normalized_weight()
    assert not torch.equal(first, second)
    fresh = SNLinear(8, 6, sn_cfg=dict(style='ajbrock'))
    fresh.load_state_dict(layer.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(second, fresh.eval().normalized_weight())
    assert layer.normalized_weight().requires_grad


def test_layers_without_sn_cfg_are_plain():
    layer = SNConv2d(3, 4, 1)
    assert layer.sn is None
    assert set(layer.state_dict()) == {'weight', 'bias'}
    x = torch.randn(1, 3, 2, 2)
    torch.testing.assert_close(layer(x), F.conv2d(x, layer.weight,
                                                  layer.bias))


def test_bad_spectral_norm_settings_are_rejected():
    with pytest.raises(ValueError, match='style'):
        SpectralNorm(3, 4, style='pytorch')
    with pytest.raises(ValueError, match='num_svs'):
        SpectralNorm(3, 4, style='torch', num_svs=2)
    with pytest.raises(ValueError, match='num_iters'):
        SpectralNorm(3, 4, num_iters=0)



@pytest.mark.parametrize('style', ['ajbrock', 'torch'])
@pytest.mark.parametrize('conv_args', [
    dict(kernel_size=3, padding=1),  # the generator blocks' conv1
    dict(kernel_size=3),
    dict(kernel_size=1),
])
def test_upsampled_training_forward_runs_one_power_iteration(
        style, conv_args):
    """A training forward advances the power iteration by exactly one step,
    with or without the upsampling (``forward_upsampled`` once normalized
    the weight twice: two steps per generator forward where BigGAN-PyTorch
    runs one)."""
    torch.manual_seed(0)
    layer = SNConv2d(4, 6, sn_cfg=dict(style=style, eps=1e-8), **conv_args)
    matrix = layer.weight.detach().reshape(6, -1)
    if style == 'ajbrock':
        (u, ), (sigma, ) = reference_ajbrock_step(matrix,
                                                  [layer.sn.u0.clone()], 1e-8)
        expected_vectors = dict(u0=u, sv0=sigma.reshape(1))
    else:
        v = F.normalize(matrix.t() @ layer.sn.u, dim=0, eps=1e-8)
        u = F.normalize(matrix @ v, dim=0, eps=1e-8)
        sigma = u @ matrix @ v
        expected_vectors = dict(u=u, v=v)
    x = torch.randn(2, 4, 5, 5)
    out = layer.forward_upsampled(x)

    for name, value in expected_vectors.items():
        torch.testing.assert_close(
            getattr(layer.sn, name), value, rtol=0, atol=1e-6, msg=name)
    expected = F.conv2d(
        F.interpolate(x, scale_factor=2), layer.weight / sigma, layer.bias,
        padding=conv_args.get('padding', 0))
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)
