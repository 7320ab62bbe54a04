"""Finding the checkpoint to resume from, and refusing files that would run
code when unpickled unless the user trusts them."""
import os

import pytest
import torch

from mmbiggan.utils import checkpoint
from mmbiggan.utils.checkpoint import (CheckpointError,
                                       find_latest_checkpoint,
                                       incomplete_reason, load_checkpoint_file,
                                       save_checkpoint_atomic, trusted_pickle)


def test_newest_complete_checkpoint_wins(tmp_path, monkeypatch):
    for it in (2, 10, 4):
        save_checkpoint_atomic({'meta': {'iter': it}},
                               str(tmp_path / f'iter_{it}.pth'))
    good = (tmp_path / 'iter_10.pth').read_bytes()
    (tmp_path / 'iter_12.pth').write_bytes(good[:len(good) // 2])
    (tmp_path / 'iter_14.pth').write_bytes(b'')
    (tmp_path / 'iter_16.pth').write_bytes(b'not a checkpoint')
    (tmp_path / '.iter_18.pth.abc123.tmp').write_bytes(good[:10])
    (tmp_path / 'iter_x.pth').write_bytes(good)
    (tmp_path / 'best_FID_iter_20.pth').write_bytes(good)
    skipped = []
    monkeypatch.setattr(checkpoint, 'print_log',
                        lambda message, **kwargs: skipped.append(message))
    latest = find_latest_checkpoint(str(tmp_path))
    assert latest == str(tmp_path / 'iter_10.pth')
    assert skipped[0] == f'Skipping {tmp_path}/iter_16.pth: it is not a ' \
        'PyTorch file.'
    assert skipped[1] == f'Skipping {tmp_path}/iter_14.pth: it is empty.'
    assert skipped[2].startswith(
        f'Skipping {tmp_path}/iter_12.pth: it is truncated (')
    assert len(skipped) == 3
    assert find_latest_checkpoint(str(tmp_path / 'none')) is None


def test_a_zip_without_a_checkpoint_is_incomplete(tmp_path):
    import zipfile
    with zipfile.ZipFile(tmp_path / 'a.pth', 'w') as archive:
        archive.writestr('readme.txt', 'hi')
    assert incomplete_reason(str(tmp_path / 'a.pth')) == \
        'it is a zip archive without a checkpoint in it'


class Payload:
    """Unpickling it creates the file named by ``path``: code runs."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


def test_pickled_objects_need_trust(tmp_path):
    marker = tmp_path / 'code-ran'
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'payload': Payload(str(marker))}, path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint_file(path)
    message = str(info.value)
    assert message.startswith(f'{path} holds Python objects other than '
                              'tensors and plain containers (')
    assert 'builtins.open' in message or 'io.open' in message
    assert message.endswith('unpickling them could run code, so it is not '
                            'loaded (weights_only=True). If you trust its '
                            'source, pass --trust-pickle.')
    assert '\n' not in message
    assert not marker.exists()
    with trusted_pickle():
        load_checkpoint_file(path)
    assert marker.exists()  # the full unpickle runs what the file says
    os.unlink(marker)
    # The trust ends with the block.
    with pytest.raises(CheckpointError):
        load_checkpoint_file(path)
    assert not marker.exists()
