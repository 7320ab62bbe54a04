"""Both Inception weight formats load, give features of the right shape,
and files of the wrong kind are refused with a message naming the fix."""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmbiggan.evaluation.fid_inception import (FIDInceptionV3,
                                               resize_bilinear_tf1)
from mmbiggan.evaluation.inception import (InceptionLoadError,
                                           PyTorchFIDInception,
                                           build_inception,
                                           images_to_inception_input)

# Shapes of pytorch-fid's pt_inception-2015-12-05-6726825d.pth (torchvision
# Inception3 names, 1008 classes, no AuxLogits), spot-checked per block.
PYTORCH_FID_SHAPES = {
    'Conv2d_1a_3x3.conv.weight': (32, 3, 3, 3),
    'Conv2d_2b_3x3.bn.running_mean': (64, ),
    'Conv2d_4a_3x3.bn.running_var': (192, ),
    'Mixed_5b.branch5x5_2.conv.weight': (64, 48, 5, 5),
    'Mixed_5b.branch_pool.conv.weight': (32, 192, 1, 1),
    'Mixed_6a.branch3x3.conv.weight': (384, 288, 3, 3),
    'Mixed_6e.branch7x7dbl_5.conv.weight': (192, 192, 1, 7),
    'Mixed_7a.branch7x7x3_4.conv.weight': (192, 192, 3, 3),
    'Mixed_7b.branch3x3dbl_3b.conv.weight': (384, 384, 3, 1),
    'Mixed_7c.branch_pool.conv.weight': (192, 2048, 1, 1),
    'fc.weight': (1008, 2048),
    'fc.bias': (1008, ),
}
# torchvision's inception_v3 has 27,161,264 parameters; without AuxLogits
# (3,326,696) and with 1008 instead of 1000 classes (+8 * 2049).
PYTORCH_FID_NUM_PARAMS = 27161264 - 3326696 + 8 * 2049


def random_pytorch_fid_state_dict(seed=0):
    """Random weights in the layout of pytorch-fid's file: no BN batch
    counters (the file predates them), activations kept in range."""
    torch.manual_seed(seed)
    net = FIDInceptionV3()
    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, nonlinearity='relu')
        elif isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 2.0)
            nn.init.uniform_(module.weight, 0.5, 1.5)
            nn.init.uniform_(module.bias, -0.1, 0.1)
    nn.init.uniform_(net.fc.bias, -1, 1)
    return {
        k: v
        for k, v in net.state_dict().items()
        if not k.endswith('num_batches_tracked')
    }


@pytest.fixture(scope='module')
def pytorch_fid_path(tmp_path_factory):
    path = tmp_path_factory.mktemp('pytorch_fid') / 'pt_inception.pth'
    # The legacy (non-zip) serialization of the 2019 file.
    torch.save(random_pytorch_fid_state_dict(), str(path),
               _use_new_zipfile_serialization=False)
    return str(path)


def test_fid_inception_has_the_pytorch_fid_layout():
    net = FIDInceptionV3()
    state = net.state_dict()
    for key, shape in PYTORCH_FID_SHAPES.items():
        assert tuple(state[key].shape) == shape, key
    assert sum(p.numel() for p in net.parameters()) == PYTORCH_FID_NUM_PARAMS
    assert not any('Aux' in k for k in state)


def test_pytorch_fid_weights_give_pool_features_and_unbiased_logits(
        pytorch_fid_path):
    extractor = build_inception(
        dict(type='PyTorchFID', inception_path=pytorch_fid_path))
    assert isinstance(extractor, PyTorchFIDInception)
    assert extractor.style == 'PyTorchFID'
    images = torch.randint(0, 256, (1, 3, 32, 32), dtype=torch.uint8)
    out = extractor(images)
    assert out.pool.shape == (1, 2048) and out.logits.shape == (1, 1008)
    assert out.pool.dtype == torch.float32
    assert (out.pool >= 0).all() and out.pool.std() > 0
    weights = torch.load(pytorch_fid_path, weights_only=True)
    # IS logits exclude the output bias, which is nonzero in the file.
    torch.testing.assert_close(
        out.logits, out.pool @ weights['fc.weight'].T, rtol=1e-5, atol=1e-4)
    for key, value in extractor.net.state_dict().items():
        if not key.endswith('num_batches_tracked'):
            assert torch.equal(value, weights[key]), key


def tf1_resize_reference(image, size):
    """TensorFlow 1.x resize_bilinear (align_corners=False), pixel by
    pixel in float32, for a [H, W] array."""
    height, width = image.shape
    out = np.zeros((size, size), np.float32)
    scale_y = np.float32(height) / np.float32(size)
    scale_x = np.float32(width) / np.float32(size)
    for y in range(size):
        in_y = np.float32(y) * scale_y
        top = int(np.floor(in_y))
        bottom = min(top + 1, height - 1)
        dy = in_y - np.float32(top)
        for x in range(size):
            in_x = np.float32(x) * scale_x
            left = int(np.floor(in_x))
            right = min(left + 1, width - 1)
            dx = in_x - np.float32(left)
            upper = image[top, left] + (image[top, right] -
                                        image[top, left]) * dx
            lower = image[bottom, left] + (image[bottom, right] -
                                           image[bottom, left]) * dx
            out[y, x] = upper + (lower - upper) * dy
    return out


@pytest.mark.parametrize('shape,size', [((5, 7), 11), ((40, 33), 13)])
def test_tf1_resize_matches_tensorflow_semantics(shape, size):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, shape).astype(np.float32)
    got = resize_bilinear_tf1(torch.from_numpy(image)[None, None], size)
    np.testing.assert_allclose(
        got[0, 0].numpy(), tf1_resize_reference(image, size), atol=1e-4)


def test_preprocessing_of_each_reference(pytorch_fid_path):
    white = torch.full((1, 3, 8, 8), 255, dtype=torch.uint8)
    grey = torch.full((1, 3, 299, 299), 128, dtype=torch.uint8)
    tf_style = build_inception(
        dict(type='PyTorchFID', inception_path=pytorch_fid_path))
    fid_style = build_inception(
        dict(type='PyTorchFID', inception_path=pytorch_fid_path,
             preprocess='pytorch-fid'))
    assert tf_style is not fid_style
    # TensorFlow's graph: (x - 128) / 128; pytorch-fid: 2 * x / 255 - 1.
    assert tf_style.network_input(white).shape == (1, 3, 299, 299)
    torch.testing.assert_close(tf_style.network_input(white),
                               torch.full((1, 3, 299, 299), 127 / 128))
    torch.testing.assert_close(fid_style.network_input(white),
                               torch.ones(1, 3, 299, 299))
    assert tf_style.network_input(grey).abs().max() == 0
    torch.testing.assert_close(fid_style.network_input(grey),
                               torch.full((1, 3, 299, 299), 1 / 255))
    with pytest.raises(ValueError, match='preprocess must be one of'):
        PyTorchFIDInception(pytorch_fid_path, preprocess='bicubic')


def test_stylegan_torchscript_call_convention(standin_inception_path):
    extractor = build_inception(
        dict(type='StyleGAN', inception_path=standin_inception_path))
    assert extractor.style == 'StyleGAN'
    assert build_inception(dict(
        type='StyleGAN', inception_path=standin_inception_path)) is extractor
    script = torch.jit.load(standin_inception_path)
    for size in (32, 299):
        images = torch.randint(0, 256, (3, 3, size, size), dtype=torch.uint8)
        out = extractor(images)
        assert out.pool.shape == (3, 2048) and out.logits.shape == (3, 1008)
        torch.testing.assert_close(out.pool,
                                   script(images, return_features=True))
        # IS probabilities: the model's own no_output_bias softmax.
        torch.testing.assert_close(
            F.softmax(out.logits, dim=1),
            script(images, no_output_bias=True))


def test_inception_input_conversion(standin_inception_path):
    floats = torch.tensor([-1.0, 0.0, 1.0, 0.999]).view(1, 1, 2, 2)
    converted = images_to_inception_input(floats)
    assert converted.dtype == torch.uint8 and converted.shape == (1, 3, 2, 2)
    assert converted[0, :, 0, 0].tolist() == [0, 0, 0]
    assert converted[0, :, 0, 1].tolist() == [128, 128, 128]
    assert converted[0, :, 1, 0].tolist() == [255, 255, 255]
    extractor = build_inception(
        dict(type='StyleGAN', inception_path=standin_inception_path))
    with pytest.raises(ValueError, match='uint8 RGB images'):
        extractor(torch.zeros(1, 3, 8, 8))
    with pytest.raises(ValueError, match=r'\[N, 1 or 3, H, W\]'):
        images_to_inception_input(torch.zeros(2, 4, 8, 8))


class NoFeatures(nn.Module):

    def __init__(self):
        super().__init__()
        self.output = nn.Linear(2048, 1008)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        return self.output(img.float().mean(dim=(1, 2, 3)).unsqueeze(1)
                           .expand(-1, 2048))


def test_weight_files_of_the_wrong_kind(tmp_path, standin_inception_path,
                                        pytorch_fid_path):
    torchvision_like = str(tmp_path / 'torchvision_inception.pth')
    torch.save({'fc.weight': torch.zeros(1000, 2048),
                'AuxLogits.fc.weight': torch.zeros(1000, 768)},
               torchvision_like)
    garbage = str(tmp_path / 'garbage.pt')
    with open(garbage, 'wb') as f:
        f.write(b'<html>not found</html>')
    other_script = str(tmp_path / 'other.pt')
    torch.jit.save(torch.jit.script(NoFeatures()), other_script)
    cases = [
        (dict(type='PyTorchFID', inception_path=standin_inception_path),
         r'is a TorchScript model: use it with type="StyleGAN"'),
        (dict(type='StyleGAN', inception_path=pytorch_fid_path),
         r'it is a PyTorch state dict: use it with type="PyTorchFID"'),
        (dict(type='PyTorchFID', inception_path=torchvision_like),
         r'missing keys \(471\).*unexpected keys \(1\): AuxLogits.*'
         r'fc\.weight: \(1000, 2048\).*pt_inception-2015-12-05'),
        (dict(type='PyTorchFID', inception_path=garbage),
         'is not a PyTorch file'),
        (dict(type='StyleGAN', inception_path=garbage),
         'not a TorchScript model'),
        (dict(type='StyleGAN', inception_path=other_script),
         "not StyleGAN2-ADA's Inception"),
        (dict(type='StyleGAN', inception_path=str(tmp_path / 'absent.pt')),
         'never downloaded'),
        (dict(type='Torchvision', inception_path=pytorch_fid_path),
         "Unknown Inception type 'Torchvision'"),
        (dict(type='StyleGAN'), 'must be a dict with type and inception_path'),
    ]
    for args, message in cases:
        with pytest.raises(InceptionLoadError, match=message):
            build_inception(args)
