import pytest
import torch
import torch.nn as nn

from mmbiggan.models import BigGANGenerator
from mmbiggan.models.losses import (OrthogonalRegularization,
                                    ortho_reg_parameters)


def biggan_pytorch_ortho_grad(param, strength):
    """BigGAN-PyTorch utils.ortho: the gradient it adds to param.grad."""
    w = param.detach().view(param.shape[0], -1)
    grad = 2 * torch.mm(
        torch.mm(w, w.t()) * (1. - torch.eye(w.shape[0])), w)
    return strength * grad.view(param.shape)


def small_generator(**kwargs):
    torch.manual_seed(0)
    cfg = dict(output_scale=32, noise_size=40, num_classes=5,
               base_channels=4, shared_dim=8)
    cfg.update(kwargs)
    return BigGANGenerator(**cfg).double()


def test_gradient_equals_biggan_pytorch_ortho():
    generator = small_generator()
    reg = OrthogonalRegularization(loss_weight=1e-4)
    reg(generator).backward()
    checked = 0
    for param in ortho_reg_parameters(generator):
        expected = biggan_pytorch_ortho_grad(param, 1e-4)
        torch.testing.assert_close(param.grad, expected, rtol=1e-10,
                                   atol=1e-18)
        checked += 1
    assert checked > 10
    # Embeddings (the shared one), biases and gains get nothing.
    assert generator.shared_embedding.weight.grad is None
    for name, param in generator.named_parameters():
        if param.dim() < 2:
            assert param.grad is None, name


def test_value_is_half_strength_times_squared_off_diagonal_norm():
    generator = small_generator()
    total = 0.0
    for param in ortho_reg_parameters(generator):
        w = param.detach().view(param.shape[0], -1)
        gram = w @ w.t()
        total += ((gram * (1 - torch.eye(w.shape[0])))**2).sum().item()
    value = OrthogonalRegularization(loss_weight=3e-4)(generator).item()
    assert value == pytest.approx(3e-4 / 2 * total, rel=1e-10)


def test_per_class_batch_norm_tables_are_skipped():
    generator = small_generator(with_shared_embedding=False,
                                split_noise=False)
    regularized = {id(p) for p in ortho_reg_parameters(generator)}
    tables = [m.weight for m in generator.modules()
              if isinstance(m, nn.Embedding)]
    assert tables, 'the test needs per-class tables'
    assert not any(id(t) in regularized for t in tables)
    convs = [m.weight for m in generator.modules()
             if isinstance(m, nn.Conv2d)]
    assert all(id(w) in regularized for w in convs)


def test_orthogonal_rows_cost_nothing():
    layer = nn.Linear(8, 4, bias=False)
    nn.init.orthogonal_(layer.weight)
    assert OrthogonalRegularization()(layer).item() == pytest.approx(
        0, abs=1e-12)


def test_bad_weight_is_rejected():
    with pytest.raises(ValueError, match='ortho_reg=None'):
        OrthogonalRegularization(loss_weight=0)
