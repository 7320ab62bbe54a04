"""A run interrupted by real signals and killed during a save, resumed each
time, ends exactly where an uninterrupted run ends."""
import glob
import os.path as osp
import signal

import numpy as np
import torch

from ._helpers import finish, load, start_train, write_config

# SIGINT as iteration 3 starts, SIGTERM as iteration 10 starts (once each);
# the process is killed while it writes the checkpoint of iteration 10.
PROBES = """
custom_hooks = [
    dict(type='SendSignalHook', signals=[[3, 'SIGINT'], [10, 'SIGTERM']]),
    dict(type='KillDuringSaveHook', at_iter=10)]
"""
LOSSES = ('train/loss_disc_real', 'train/loss_disc_fake', 'train/loss_gen')


def assert_same_training_state(final: dict, expected: dict):
    for key, value in expected['state_dict'].items():
        assert torch.equal(final['state_dict'][key], value), key
    for name, state in expected['optimizer'].items():
        for index, moments in state['state'].items():
            for key, value in moments.items():
                assert torch.equal(
                    final['optimizer'][name]['state'][index][key],
                    value), (name, index, key)
    for key in LOSSES:
        np.testing.assert_array_equal(
            final['message_hub']['log_scalars'][key]['log'].numpy(),
            expected['message_hub']['log_scalars'][key]['log'].numpy(),
            err_msg=key)


def test_interrupted_and_killed_run_resumes_exactly(tmp_path):
    plain = write_config(tmp_path)
    (tmp_path / 'probed').mkdir()
    probed = write_config(tmp_path / 'probed', PROBES)
    straight, work = tmp_path / 'straight', tmp_path / 'interrupted'
    reference = start_train(plain, straight)

    # 1. SIGINT during iteration 3, inside an accumulation window: the run
    # goes on to the window's end, saves iter_4 (not a checkpoint
    # boundary) and exits 130 with the resume hint.
    status, err = finish(start_train(probed, work))
    assert status == 130, err[-3000:]
    assert err.strip().splitlines()[-1] == (
        f'stopped: SIGINT received; the checkpoint of iteration 4 is '
        f'{work}/iter_4.pth. To go on, run the same command with --resume.')
    assert load(work / 'iter_4.pth')['meta']['iter'] == 4

    # 2. Resumed with a random seed for the new process (the checkpoint's
    # seed, sampler position and generator states must win): checkpoints
    # at 6 and 9 (9 inside a window: its accumulated gradients are saved),
    # SIGTERM during iteration 10, and a SIGKILL while iter_10.pth is
    # being written.
    seedless = ('--resume', '--cfg-options', 'randomness.seed=None')
    status, err = finish(start_train(probed, work, *seedless))
    assert status == -signal.SIGKILL, err[-3000:]
    assert 'SIGTERM received' in err
    assert not osp.exists(work / 'iter_10.pth')
    assert glob.glob(str(work / '.iter_10.pth.*.tmp'))  # the cut-off write
    # Nothing complete was lost: iter_4 (due for removal once iter_10 is
    # written) is still there, and the pointer names the last good one.
    for it in (4, 6, 9):
        assert load(work / f'iter_{it}.pth')['meta']['iter'] == it
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_9.pth')
    assert 'pending_grads' in load(work / 'iter_9.pth')
    # A truncated newer file (a copy cut short) must be passed over.
    data = (work / 'iter_9.pth').read_bytes()
    (work / 'iter_11.pth').write_bytes(data[:len(data) // 2])

    # 3. `--resume` picks iter_9, the newest complete checkpoint, and the
    # run finishes.
    status, err = finish(start_train(probed, work, *seedless))
    assert status == 0, err[-3000:]
    log = (tmp_path / 'interrupted.out').read_text()
    assert f'Skipping {work}/iter_11.pth: it is truncated' in log + err
    assert 'resumed epoch: 0, iter: 9' in log

    assert finish(reference)[0] == 0
    assert_same_training_state(
        load(work / 'iter_14.pth'), load(straight / 'iter_14.pth'))
