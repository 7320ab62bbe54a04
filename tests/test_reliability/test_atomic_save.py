"""A process SIGKILLed while mmengine writes a checkpoint leaves the
previous one intact, and ``--resume`` takes the newest complete file."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch

from mmbiggan.utils.checkpoint import (find_latest_checkpoint,
                                       incomplete_reason, load_checkpoint_file)
from ._helpers import ROOT, tool_env

# Writes iter_1.pth (small), says so, then overwrites iter_1.pth with a
# 128 MB checkpoint again and again through mmengine's save_checkpoint, the
# call Runner.save_checkpoint makes.
WRITER = """
import sys
import torch
{setup}
from mmengine.runner.checkpoint import save_checkpoint
path = sys.argv[1]
save_checkpoint({{'state_dict': {{'w': torch.ones(4)}}}}, path)
print('ready', flush=True)
big = {{'state_dict': {{'w': torch.randn(32 * 2**20)}}}}
while True:
    save_checkpoint(big, path)
"""


def kill_during_write(folder, setup: str) -> str:
    """Start the writer; SIGKILL it as soon as a write of the big
    checkpoint touches the folder; return the checkpoint's path."""
    path = osp.join(folder, 'iter_1.pth')
    writer = subprocess.Popen(
        [sys.executable, '-c', WRITER.format(setup=setup), path],
        cwd=ROOT, env=tool_env(), stdout=subprocess.PIPE, text=True)
    try:
        for line in writer.stdout:  # mmengine may log first
            if line.strip() == 'ready':
                break
        before = os.stat(path)
        deadline = time.time() + 120
        while time.time() < deadline:
            now = os.stat(path)
            if (now.st_mtime_ns, now.st_size) != (before.st_mtime_ns,
                                                  before.st_size) or any(
                                                      n.endswith('.tmp')
                                                      for n in os.listdir(
                                                          folder)):
                break
            time.sleep(0.0005)
        else:
            pytest.fail('the writer never started the big write')
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    return path


def test_sigkill_during_a_save_leaves_the_old_checkpoint(tmp_path):
    path = kill_during_write(
        str(tmp_path), 'from mmbiggan.engine import install_mmengine_overrides'
        '\ninstall_mmengine_overrides()')
    # Either the old checkpoint or (had the write finished) the new one,
    # never a truncated file.
    assert incomplete_reason(path) is None
    assert load_checkpoint_file(path)['state_dict']['w'].shape in (
        (4, ), (32 * 2**20, ))
    assert find_latest_checkpoint(str(tmp_path)) == path


def test_the_test_catches_mmengines_own_writer(tmp_path):
    """Without mmbiggan's backend (mmengine writes in place) the same kill
    leaves it empty or truncated, which --resume then passes over."""
    path = kill_during_write(str(tmp_path), '')
    assert incomplete_reason(path) in ('it is empty', ) or \
        incomplete_reason(path).startswith('it is truncated')
    torch.save({'state_dict': {}}, str(tmp_path / 'iter_0.pth'))
    assert find_latest_checkpoint(str(tmp_path)) == str(tmp_path /
                                                        'iter_0.pth')
