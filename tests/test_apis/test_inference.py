import pytest
import torch
from mmengine.config import Config

from mmbiggan.apis import init_model, sample_images
from mmbiggan.utils import CheckpointError

CONFIG = 'configs/biggan/biggan_digits_32x32.py'


@pytest.fixture(scope='module')
def trained_like_checkpoint(tmp_path_factory):
    """A digits model with non-default buffers, saved as mmengine does."""
    torch.manual_seed(0)
    model = init_model(CONFIG, device='cpu')
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point():
                tensor.add_(0.05 * torch.randn_like(tensor))
    path = tmp_path_factory.mktemp('ckpt') / 'iter_1.pth'
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, path)
    return str(path), model


def test_init_model_loads_every_tensor(trained_like_checkpoint):
    path, reference = trained_like_checkpoint
    model = init_model(CONFIG, path, device='cpu')
    assert not model.training
    expected = reference.state_dict()
    loaded = model.state_dict()
    assert expected.keys() == loaded.keys()
    for key in expected:
        assert torch.equal(expected[key], loaded[key]), key
        assert not loaded[key].is_meta
    # Same images as the in-memory model for one seed.
    a = sample_images(reference.generator_ema, 6, seed=3).images
    b = sample_images(model.generator_ema, 6, seed=3).images
    assert torch.equal(a, b)


def test_init_model_rejects_checkpoint_of_another_config(
        trained_like_checkpoint):
    path, _ = trained_like_checkpoint
    other = dict(model=dict(generator=dict(noise_size=32)))
    with pytest.raises(CheckpointError,
                       match='shape mismatches.*noise2feat.weight'):
        init_model(CONFIG, path, device='cpu', cfg_options=other)


def test_init_model_rejects_missing_keys(trained_like_checkpoint, tmp_path):
    path, reference = trained_like_checkpoint
    state = reference.state_dict()
    state.pop('generator.noise2feat.weight')
    partial = tmp_path / 'partial.pth'
    torch.save({'state_dict': state}, partial)
    with pytest.raises(CheckpointError,
                       match='missing keys.*generator.noise2feat.weight'):
        init_model(CONFIG, str(partial), device='cpu')


def test_init_model_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match='Config file not found'):
        init_model(str(tmp_path / 'nope.py'))
    text = tmp_path / 'notes.pth'
    text.write_text('not a checkpoint')
    with pytest.raises(CheckpointError, match='not a PyTorch checkpoint'):
        init_model(CONFIG, str(text), device='cpu')
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match='CUDA is not available'):
            init_model(CONFIG, device='cuda')
    assert isinstance(Config.fromfile(CONFIG), Config)
