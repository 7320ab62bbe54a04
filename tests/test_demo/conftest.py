"""Models for the demo and app tests: small BigGANs built from configs
written here (a BigGAN with a shared embedding, a BigGAN-Deep with
per-truncation statistics, an unconditional one) and a reference fixture
converted from the command line with the project's converter."""
import os
import os.path as osp
import subprocess
import sys
from typing import List, NamedTuple

import pytest
import torch

from mmbiggan.apis import init_model

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO_ROOT, 'demo', 'conditional_demo.py')
APP = osp.join(REPO_ROOT, 'apps', 'conditional_interpolate.py')
BGP_CONVERTER = osp.join(REPO_ROOT, 'tools', 'model_converters',
                         'biggan_pytorch_to_mmbiggan.py')
FIXTURES = osp.join(
    osp.dirname(REPO_ROOT), 'shared', 'fixtures', 'reference')

# A BigGAN with a shared class embedding and hierarchical noise, as the
# ImageNet models, at 32x32 and width 4; its dataset names the digits.
SHARED_CONFIG = """
model = dict(
    type='BigGAN',
    generator=dict(
        type='BigGANGenerator', output_scale=32, noise_size=20,
        num_classes=10, base_channels=4, shared_dim=8,
        with_shared_embedding=True, split_noise=True),
    discriminator=None,
    ema_config=dict(momentum=0.999))
train_dataloader = dict(dataset=dict(type='DigitsDataset'))
"""

# BigGAN-Deep with one row of batch-norm statistics per truncation step, as
# converted pytorch-pretrained-biggan models, and BGR output.
DEEP_CONFIG = """
model = dict(
    type='BigGAN',
    generator=dict(
        type='BigGANDeepGenerator', output_scale=32, noise_size=16,
        num_classes=10, base_channels=4, shared_dim=8, num_bn_stats=51,
        rgb2bgr=True),
    discriminator=None,
    ema_config=None)
"""

UNCONDITIONAL_CONFIG = """
model = dict(
    type='BigGAN',
    generator=dict(
        type='BigGANGenerator', output_scale=32, noise_size=20,
        num_classes=0, base_channels=4, with_shared_embedding=False,
        split_noise=False),
    discriminator=None,
    ema_config=None)
"""


class ModelFiles(NamedTuple):
    config: str
    checkpoint: str


def write_model(folder: str, name: str, config_text: str,
                seed: int) -> ModelFiles:
    """Build the config's model with seeded weights (the EMA generator made
    different from the trained one, every row of per-truncation statistics
    different from the others) and save it as mmengine does."""
    config = osp.join(folder, f'{name}.py')
    with open(config, 'w') as f:
        f.write(config_text)
    torch.manual_seed(seed)
    model = init_model(config, None, 'cpu')
    with torch.no_grad():
        if getattr(model, 'generator_ema', None) is not None:
            for param in model.generator_ema.parameters():
                param.add_(0.05 * torch.randn_like(param))
        for key, buf in model.named_buffers():
            if key.endswith('running_mean') and buf.dim() == 2:
                buf.add_(0.3 * torch.randn_like(buf))
            elif key.endswith('running_var') and buf.dim() == 2:
                buf.mul_(torch.exp(0.3 * torch.randn_like(buf)))
    checkpoint = osp.join(folder, f'{name}.pth')
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, checkpoint)
    return ModelFiles(config, checkpoint)


@pytest.fixture(scope='session')
def model_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp('models'))


@pytest.fixture(scope='session')
def shared_model(model_dir) -> ModelFiles:
    return write_model(model_dir, 'shared', SHARED_CONFIG, seed=0)


@pytest.fixture(scope='session')
def deep_model(model_dir) -> ModelFiles:
    return write_model(model_dir, 'deep', DEEP_CONFIG, seed=2)


@pytest.fixture(scope='session')
def unconditional_model(model_dir) -> ModelFiles:
    return write_model(model_dir, 'unconditional', UNCONDITIONAL_CONFIG,
                       seed=1)


@pytest.fixture(scope='session')
def fixtures_root():
    if not osp.isdir(FIXTURES):
        pytest.skip(f'reference fixtures not found at {FIXTURES}')
    return FIXTURES


@pytest.fixture(scope='session')
def c10_converted(fixtures_root, model_dir) -> ModelFiles:
    """BigGAN-PyTorch's CIFAR-10 run folder converted from the command line
    (issue 4's round trip starts here)."""
    out = ModelFiles(
        osp.join(model_dir, 'c10_cvt.py'), osp.join(model_dir, 'c10_cvt.pth'))
    result = run_script(BGP_CONVERTER, [
        osp.join(fixtures_root, 'bgp_C10_res32_ch16_seed0'), out.checkpoint,
        '--out-config', out.config
    ])
    assert result.returncode == 0, result.stderr
    return out


def run_script(script: str, args: List[str]) -> subprocess.CompletedProcess:
    """Run a command-line script of the repository as a user would."""
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    return subprocess.run([sys.executable, script] + list(args),
                          cwd=REPO_ROOT,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=600)


def load_script(path: str, name: str):
    """Import a script (demo/ and apps/ are not packages) to call its
    ``main`` in-process."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def demo():
    return load_script(DEMO, 'conditional_demo')


@pytest.fixture(scope='session')
def app():
    return load_script(APP, 'conditional_interpolate')
