"""Behaviour checks shared by the architecture and block tests."""
import torch
import torch.nn as nn

from mmbiggan.models.layers import SelfAttentionBlock


def num_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def open_attention(module: nn.Module, gamma: float = 0.5):
    """Attention starts as the identity (gamma = 0), which leaves its
    convolutions without gradient; give every gain a non-zero value."""
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, SelfAttentionBlock):
                layer.gamma.fill_(gamma)


def assert_grads_reach_every_parameter(module: nn.Module, out: torch.Tensor):
    """One backward of a random projection of ``out``; every trainable
    parameter must receive a gradient that is not all zero."""
    module.zero_grad(set_to_none=True)
    weights = torch.randn(
        out.shape, generator=torch.Generator().manual_seed(0))
    (out * weights).sum().backward()
    missing = [
        name for name, p in module.named_parameters()
        if p.requires_grad and (p.grad is None or not bool(p.grad.any()))
    ]
    assert not missing, f'no gradient reaches {missing}'


def buffers_snapshot(module: nn.Module) -> dict:
    return {k: v.clone() for k, v in module.named_buffers()}


def assert_eval_deterministic(module: nn.Module, call):
    """In eval mode two calls agree exactly and no buffer (running
    statistics, singular vectors) changes."""
    module.eval()
    before = buffers_snapshot(module)
    with torch.no_grad():
        first, second = call(), call()
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    for name, value in module.named_buffers():
        assert torch.equal(value, before[name]), f'eval changed {name}'
    return first
