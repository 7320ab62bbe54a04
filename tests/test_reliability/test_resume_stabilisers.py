"""tools/train.py with DiffAugment and LeCam: a run stopped after 4
iterations and resumed ends bit-identical to a run of 8 (LeCam's averages
travel in the checkpoint, DiffAugment draws from the saved RNG)."""
import torch

from ._helpers import finish, load, start_train, write_config

STABILISERS = """
model = dict(
    augment=dict(type='DiffAugment', policy='color,translation,cutout'),
    lecam_reg=dict(type='LeCamRegularization', loss_weight=0.3,
                   start_iter=2))
train_cfg = dict(max_iters=8)
default_hooks = dict(checkpoint=dict(interval=4, max_keep_ckpts=3))
"""


def test_stopped_and_resumed_run_equals_a_straight_run(tmp_path):
    config = write_config(tmp_path, STABILISERS)
    straight, split = tmp_path / 'straight', tmp_path / 'split'
    runs = [start_train(config, straight),
            start_train(config, split, '--cfg-options',
                        'train_cfg.max_iters=4')]
    for run in runs:
        status, err = finish(run)
        assert status == 0, err[-3000:]
    status, err = finish(start_train(config, split, '--resume'))
    assert status == 0, err[-3000:]

    expected = load(straight / 'iter_8.pth')['state_dict']
    final = load(split / 'iter_8.pth')['state_dict']
    assert int(load(split / 'iter_4.pth')['state_dict'][
        'lecam_reg.num_updates']) == 4
    assert int(final['lecam_reg.num_updates']) == 8
    assert expected.keys() == final.keys()
    for key, value in expected.items():
        assert torch.equal(final[key], value), key
    log = (tmp_path / 'straight.out').read_text()
    assert 'loss_lecam' in log
