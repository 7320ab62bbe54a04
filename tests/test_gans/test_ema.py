import torch
import torch.nn as nn

from mmbiggan.models.gans import copy_weights, update_ema


class Net(nn.Module):

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)  # float buffers and an int64 counter


def test_update_ema_is_biggan_pytorch_arithmetic_bit_for_bit():
    torch.manual_seed(0)
    source, target = Net(), Net()
    source.bn.running_mean.normal_()
    source.bn.num_batches_tracked.fill_(7)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    update_ema(target, source, momentum=0.9999, buffer_momentum=0.9)
    state = source.state_dict()
    for key, value in target.state_dict().items():
        if key == 'bn.num_batches_tracked':
            assert value.item() == 7
            continue
        decay = 0.9999 if key in dict(source.named_parameters()) else 0.9
        expected = before[key] * decay + state[key] * (1 - decay)
        assert torch.equal(value, expected), key


def test_zero_buffer_momentum_copies_buffers_and_copy_weights():
    torch.manual_seed(0)
    source, target = Net(), Net()
    source.bn.running_var.uniform_(1, 2)
    update_ema(target, source, momentum=0.5, buffer_momentum=0.0)
    assert torch.equal(target.bn.running_var, source.bn.running_var)
    assert not torch.equal(target.conv.weight, source.conv.weight)
    copy_weights(target, source)
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value)
