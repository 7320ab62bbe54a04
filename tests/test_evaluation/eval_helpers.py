"""Helpers shared by the evaluation tests."""
import contextlib
import glob
import importlib.util
import json
import os.path as osp
import socket

import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool(relative_path):
    """Import a script of the repository (e.g. ``tools/test.py``) as a
    module, to call its ``main``/``run`` in this process."""
    path = osp.join(REPO_ROOT, relative_path)
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class CountingLoader:
    """A list of batches that counts how often it is read."""

    def __init__(self, batches, dataset):
        self.batches, self.dataset, self.passes = batches, dataset, 0

    def __iter__(self):
        self.passes += 1
        return iter(self.batches)


def free_port():
    """A free local TCP port for a gloo process group."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def torch_threads(num: int):
    """Run the block with ``num`` intra-op threads: convolution results
    change in the last bits with the thread count (FID_mean by 1e-6
    relative at 1 against 2 threads), so a single-process reference must
    use the workers' count."""
    before = torch.get_num_threads()
    torch.set_num_threads(num)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# A BigGAN-32 of width 8 on the digits whose validation reads all of them
# (one ordered pass); a test adds its training length, metrics and hooks.
TINY_DIGITS_GAN = '''
_base_ = [
    '{root}/configs/_base_/models/biggan/biggan_32x32.py',
    '{root}/configs/_base_/datasets/digits_32x32.py',
    '{root}/configs/_base_/default_runtime.py',{more_bases}
]
model = dict(
    generator=dict(base_channels=8, noise_size=32),
    discriminator=dict(base_channels=8),
    discriminator_steps=1)
train_dataloader = dict(batch_size=8)
val_dataloader = dict(
    batch_size=256,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset={{{{_base_.digits_dataset}}}})
custom_hooks = []
randomness = dict(seed=0, diff_rank_seed=False)
work_dir = '{work_dir}'
'''


def train_tiny_digits_gan(tmp_path, settings: str, bases=(), **fields):
    """Train :data:`TINY_DIGITS_GAN` plus ``settings`` (config lines;
    ``{name}`` fields filled from ``fields``) and the configs under
    ``configs/`` named in ``bases``, with mmengine's Runner in ``tmp_path /
    'work'``; returns the runner."""
    from mmengine.config import Config
    from mmengine.runner import Runner
    work_dir = tmp_path / 'work'
    config_path = tmp_path / 'tiny_digits_gan.py'
    more_bases = ''.join(f"\n    '{osp.join(REPO_ROOT, 'configs', base)}',"
                         for base in bases)
    config_path.write_text((TINY_DIGITS_GAN + settings).format(
        root=REPO_ROOT, work_dir=work_dir, more_bases=more_bases, **fields))
    runner = Runner.from_cfg(Config.fromfile(str(config_path)))
    runner.train()
    return runner


def logged_scalars(work_dir):
    """Every record of the runs' ``vis_data/scalars.json`` logs."""
    return [
        json.loads(line) for path in glob.glob(
            osp.join(str(work_dir), '*', 'vis_data', 'scalars.json'))
        for line in open(path)
    ]
