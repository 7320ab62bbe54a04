"""Checkpoints load with weights_only=True and restore the message hub and
the random generators."""
import os
import random

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import CheckpointLoader

from mmbiggan.engine import (decode_message_hub, encode_message_hub,
                             get_rng_states, set_rng_states)
from mmbiggan.utils import CheckpointError


def filled_message_hub():
    hub = MessageHub.get_instance('test_checkpoint_state')
    for value in (1.5, 2.0, 3.25):
        hub.update_scalar('train/loss_gen', value)
    hub.update_scalar('train/lr', torch.tensor(2e-4))
    hub.update_info('iter', 42)
    hub.update_info('eta', np.float64(12.5))  # mmengine stores these
    hub.update_info('dataset_meta', dict(classes=('0', '1'),
                                         palette=np.zeros((2, 3))))
    return hub


def test_message_hub_round_trip_through_weights_only(tmp_path):
    hub = filled_message_hub()
    state = hub.state_dict()
    path = str(tmp_path / 'hub.pth')
    torch.save(state, path)
    with pytest.raises(Exception):  # mmengine's own state does not load
        torch.load(path, weights_only=True)

    torch.save(encode_message_hub(state), path)
    decoded = decode_message_hub(torch.load(path, weights_only=True))
    restored = MessageHub.get_instance('test_checkpoint_state_restored')
    restored.load_state_dict(decoded)
    buffer = restored.get_scalar('train/loss_gen')
    assert isinstance(buffer, HistoryBuffer)
    np.testing.assert_array_equal(buffer.data[0], [1.5, 2.0, 3.25])
    assert buffer.mean() == pytest.approx(hub.get_scalar(
        'train/loss_gen').mean())
    assert restored.get_scalar('train/lr').current() == pytest.approx(2e-4)
    assert restored.get_info('iter') == 42
    assert restored.get_info('eta') == 12.5
    assert restored.get_info('dataset_meta')['classes'] == ('0', '1')


def test_rng_states_round_trip(tmp_path):
    torch.manual_seed(3)
    np.random.seed(3)
    random.seed(3)
    np.random.randn()  # leave a cached gaussian in numpy's state
    path = str(tmp_path / 'rng.pth')
    torch.save(get_rng_states(), path)
    expected = (torch.rand(4), np.random.rand(4), np.random.randn(),
                random.random())
    torch.manual_seed(99)
    np.random.seed(99)
    random.seed(99)
    set_rng_states(torch.load(path, weights_only=True))
    again = (torch.rand(4), np.random.rand(4), np.random.randn(),
             random.random())
    assert torch.equal(expected[0], again[0])
    np.testing.assert_array_equal(expected[1], again[1])
    assert expected[2] == again[2] and expected[3] == again[3]


class Exploit:
    def __reduce__(self):
        return (os.system, ('touch /tmp/mmbiggan_exploit_ran', ))


def test_mmengine_local_loading_is_weights_only(tmp_path):
    from mmbiggan.engine import install_mmengine_overrides
    install_mmengine_overrides(dict(safe_checkpoint_loading=True))
    marker = '/tmp/mmbiggan_exploit_ran'
    if os.path.exists(marker):
        os.unlink(marker)
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'payload': Exploit()}, path)
    with pytest.raises(CheckpointError, match='not loaded'):
        CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert not os.path.exists(marker)
    good = str(tmp_path / 'good.pth')
    torch.save({'state_dict': {'w': torch.ones(2)}}, good)
    loaded = CheckpointLoader.load_checkpoint(good, map_location='cpu')
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))
    with pytest.raises(CheckpointError, match='not found'):
        CheckpointLoader.load_checkpoint(str(tmp_path / 'missing.pth'))
