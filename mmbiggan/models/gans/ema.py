"""The exponential moving average of generator weights."""
import torch
import torch.nn as nn


@torch.no_grad()
def copy_weights(target: nn.Module, source: nn.Module):
    """Set every parameter and buffer of ``target`` to ``source``'s."""
    target_state = target.state_dict()
    for key, value in source.state_dict().items():
        target_state[key].copy_(value)


@torch.no_grad()
def update_ema(target: nn.Module,
               source: nn.Module,
               momentum: float,
               buffer_momentum: float):
    """``target = momentum * target + (1 - momentum) * source`` for every
    parameter, and the same with ``buffer_momentum`` for every float buffer
    (BigGAN-PyTorch's ``utils.ema.update``, which runs over the whole state
    dict). Integer buffers are copied.

    The arithmetic is BigGAN-PyTorch's (two products, then the sum) so both
    agree to the last bit. Both modules must have the same architecture.
    """
    target_state = target.state_dict()
    params = dict(source.named_parameters())
    groups = {momentum: ([], []), buffer_momentum: ([], [])}
    for key, value in source.state_dict().items():
        ema_value = target_state[key]
        if not value.is_floating_point():
            ema_value.copy_(value)
            continue
        rate = momentum if key in params else buffer_momentum
        groups[rate][0].append(ema_value)
        groups[rate][1].append(value.detach())
    for rate, (ema_values, values) in groups.items():
        if not ema_values:
            continue
        torch._foreach_mul_(ema_values, rate)
        torch._foreach_add_(ema_values, torch._foreach_mul(values, 1 - rate))
