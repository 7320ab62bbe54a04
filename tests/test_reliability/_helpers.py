"""A tiny digits GAN that trains in seconds, and running tools/train.py on
it in a subprocess (one thread per process, so runs are deterministic and
two of them share the cores)."""
import os
import os.path as osp
import subprocess
import sys

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DIGITS = osp.join(ROOT, 'configs', 'biggan', 'biggan_digits_32x32.py')

# 36 images (random ones: no scikit-learn import) in batches of 8: epochs
# end inside batches. The discriminator accumulates 2 batches per update
# (windows end at even iterations) and makes 2 updates per generator
# update; checkpoints every 3 iterations fall inside windows every other
# time; the learning rate decays throughout.
TINY_CONFIG = f"""
_base_ = [{DIGITS!r}]
custom_imports = dict(imports=['test_reliability.probes'])
model = dict(
    generator=dict(arch_cfg=dict(in_channels=[16, 8, 8],
                                 out_channels=[8, 8, 4])),
    discriminator=dict(arch_cfg=dict(in_channels=[3, 4, 8, 8],
                                     out_channels=[4, 8, 8, 8])),
    discriminator_steps=2,
    ema_config=dict(start_iter=4))
optim_wrapper = dict(discriminator=dict(accumulative_counts=2))
param_scheduler = [dict(type='LinearLR', start_factor=1.0, end_factor=0.1,
                        by_epoch=False, begin=2, end=14)]
train_dataloader = dict(batch_size=8, dataset=dict(type='NoiseDigits'))
train_cfg = dict(max_iters=14)
randomness = dict(seed=1234)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=3, max_keep_ckpts=3))
custom_hooks = []
"""


def write_config(folder, extra: str = '') -> str:
    """The tiny config plus ``extra`` lines, written to ``folder``."""
    path = osp.join(str(folder), 'tiny_digits.py')
    with open(path, 'w') as f:
        f.write(TINY_CONFIG + extra)
    return path


def tool_env() -> dict:
    return dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([ROOT, osp.join(ROOT, 'tests')]),
        OMP_NUM_THREADS='1')


def start_train(config: str, work_dir, *extra) -> subprocess.Popen:
    """``python tools/train.py config --work-dir work_dir extra...`` in the
    background; its output goes to ``work_dir.out`` (stdout, the log) and
    ``work_dir.err`` (stderr)."""
    work_dir = str(work_dir)
    with open(work_dir + '.out', 'w') as out, open(work_dir + '.err',
                                                   'w') as err:
        return subprocess.Popen(
            [sys.executable, 'tools/train.py', config, '--work-dir',
             work_dir, *extra],
            cwd=ROOT, env=tool_env(), stdout=out, stderr=err)


def finish(process: subprocess.Popen, timeout: int = 300):
    """Wait for ``process``; returns (exit status, its stderr)."""
    process.wait(timeout=timeout)
    work_dir = process.args[4]
    with open(work_dir + '.err') as f:
        return process.returncode, f.read()


def load(path):
    return torch.load(path, map_location='cpu', weights_only=True)
