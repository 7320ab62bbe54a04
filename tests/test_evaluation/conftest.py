"""Small files in the real Inception formats, for fast tests."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F


class StandInInception(nn.Module):
    """A small network with the call convention of StyleGAN2-ADA's
    TorchScript ``inception-2015-12-05.pt``: uint8-range images of any
    size, 2048-d features for ``return_features=True``, else softmax
    probabilities over 1008 classes (without the output bias for
    ``no_output_bias=True``), and an ``output`` layer 2048 -> 1008."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, stride=2)
        self.proj = nn.Linear(16 * 4 * 4, 2048)
        self.output = nn.Linear(2048, 1008)

    def forward(self,
                img: torch.Tensor,
                return_features: bool = False,
                use_fp16: bool = False,
                no_output_bias: bool = False) -> torch.Tensor:
        x = img.to(torch.float32)
        x = F.interpolate(x, size=(19, 19), mode='bilinear',
                          align_corners=False)
        x = (x - 128) / 128
        x = F.adaptive_avg_pool2d(F.relu(self.conv(x)), 4).flatten(1)
        features = F.relu(self.proj(x))
        if return_features:
            return features
        if no_output_bias:
            logits = F.linear(features, self.output.weight)
        else:
            logits = self.output(features)
        return F.softmax(logits, dim=1)


def make_standin_inception(path: str, seed: int = 0) -> str:
    torch.manual_seed(seed)
    net = StandInInception().eval()
    with torch.no_grad():
        # Spread the logits so IS is not ~1 for every input.
        net.output.weight.mul_(20)
    torch.jit.save(torch.jit.script(net), path)
    return path


@pytest.fixture(scope='session')
def standin_inception_path(tmp_path_factory):
    """Path of a scripted stand-in with the TorchScript call convention."""
    return make_standin_inception(
        str(tmp_path_factory.mktemp('inception') / 'standin_inception.pt'))
