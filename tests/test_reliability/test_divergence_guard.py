"""The divergence guard: a NaN loss stops the run (or its update is
skipped), non-finite weights are never checkpointed, and the last good
checkpoint stays intact."""
import math
import os
import sys

import pytest
import torch

from ._helpers import ROOT, load, write_config


@pytest.fixture(scope='module')
def train_tool():
    sys.path.insert(0, os.path.join(ROOT, 'tools'))
    try:
        import train
    finally:
        sys.path.pop(0)
    return train


def train(train_tool, tmp_path, capsys, probe: str, *options):
    """Run tools/train.py in this process on the tiny config with the
    probe hook ``probe``; returns (exit status, stderr, work dir)."""
    config = write_config(tmp_path, f'custom_hooks = [{probe}]\n')
    work_dir = tmp_path / 'work'
    argv = ['train.py', config, '--work-dir', str(work_dir), '--cfg-options',
            f'experiment_name={tmp_path.name}', *options]
    # One thread: on a busy machine OpenMP threads that spin waiting for
    # each other make these tiny steps many times slower.
    old_argv, sys.argv = sys.argv, argv
    old_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train_tool.run()
        status = 0
    except SystemExit as exit:
        status = exit.code
    finally:
        sys.argv = old_argv
        torch.set_num_threads(old_threads)
    return status, capsys.readouterr().err, work_dir


def assert_only_checkpoint(work_dir, iteration):
    """``iter_<iteration>.pth`` is the newest checkpoint, complete, finite
    and named by the pointer; nothing half-written lies around."""
    names = sorted(n for n in os.listdir(work_dir) if n.endswith(('.pth',
                                                                 '.tmp')))
    assert names[-1] == f'iter_{iteration}.pth', names
    assert not [n for n in names if n.endswith('.tmp')], names
    checkpoint = load(work_dir / f'iter_{iteration}.pth')
    assert checkpoint['meta']['iter'] == iteration
    for key, value in checkpoint['state_dict'].items():
        assert torch.isfinite(value).all(), key
    assert (work_dir / 'last_checkpoint').read_text() == str(
        work_dir / f'iter_{iteration}.pth')


def test_a_nan_loss_stops_the_run(train_tool, tmp_path, capsys):
    status, err, work_dir = train(
        train_tool, tmp_path, capsys,
        "dict(type='PoisonHook', at_iter=5, what='d_output')")
    assert status == 3
    assert err.strip().splitlines()[-1] == (
        'error: Iteration 5: non-finite loss (loss_disc_real=nan, '
        'loss_disc_fake=nan); training stopped. The newest checkpoint, '
        f'{work_dir}/iter_3.pth, is intact: resume from it with a lower '
        "learning rate, or set default_hooks.divergence_guard.action='skip'.")
    assert_only_checkpoint(work_dir, 3)


def test_nonfinite_weights_are_never_checkpointed(train_tool, tmp_path,
                                                  capsys):
    # A NaN batch-norm running mean: the training-mode losses stay finite,
    # the checkpoint of iteration 6 would hold it. max_keep_ckpts=1: the
    # refused save must not have removed iter_3 first (mmengine's order).
    status, err, work_dir = train(
        train_tool, tmp_path, capsys,
        "dict(type='PoisonHook', at_iter=5, what='g_buffer')",
        'default_hooks.checkpoint.max_keep_ckpts=1')
    assert status == 3
    line = err.strip().splitlines()[-1]
    assert line.startswith(
        'error: Iteration 6: non-finite weights (generator.')
    assert line.count('running_mean') == 1
    assert line.endswith(
        'the checkpoint was not written and training stopped. The newest '
        f'checkpoint, {work_dir}/iter_3.pth, is intact: resume from it with '
        'a lower learning rate, or set '
        "default_hooks.divergence_guard.action='skip'.")
    assert_only_checkpoint(work_dir, 3)


def test_skip_drops_the_update_and_goes_on(train_tool, tmp_path, capsys):
    record = tmp_path / 'discriminator.pth'
    status, err, work_dir = train(
        train_tool, tmp_path, capsys,
        f"dict(type='PoisonHook', at_iter=5, what='d_output', "
        f"record={str(record)!r})",
        'default_hooks.divergence_guard.action=skip',
        'optim_wrapper.discriminator.accumulative_counts=1',
        'train_cfg.max_iters=6')
    assert status == 0, err[-3000:]
    log = ''.join(
        open(os.path.join(folder, name)).read()
        for folder, _, names in os.walk(work_dir) for name in names
        if name.endswith('.log'))
    assert ('Iteration 5: non-finite loss (loss_disc_real=nan, '
            'loss_disc_fake=nan); skipped the discriminator update '
            '(non-finite gradients) [1 in a row].') in log
    # Neither the weights nor the Adam moments moved at iteration 5.
    states = torch.load(record, weights_only=True)
    assert states['before'].keys() == states['after'].keys()
    assert any(k.startswith('optim.') for k in states['before'])
    for key, value in states['before'].items():
        assert torch.equal(states['after'][key], value), key
    # Training went on with finite numbers.
    final = load(work_dir / 'iter_6.pth')
    for key, value in final['state_dict'].items():
        assert torch.isfinite(value).all(), key
    losses = final['message_hub']['log_scalars']['train/loss_disc_real']
    values = losses['log'].tolist()
    assert math.isnan(values[4]) and all(
        math.isfinite(v) for i, v in enumerate(values) if i != 4)


def test_skip_gives_up_after_too_many_in_a_row(train_tool, tmp_path,
                                               capsys):
    status, err, _ = train(
        train_tool, tmp_path, capsys,
        "dict(type='PoisonHook', at_iter=1, what='d_output')",
        'default_hooks.divergence_guard.action=skip',
        'default_hooks.divergence_guard.max_consecutive_skips=1')
    assert status == 3
    assert err.strip().splitlines()[-1].startswith(
        'error: Iteration 1: 1 iterations in a row with non-finite losses '
        'or gradients (last: non-finite loss (loss_disc_real=nan, '
        'loss_disc_fake=nan)); training stopped. No checkpoint was written '
        'yet')
