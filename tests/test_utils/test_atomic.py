import os
import stat

import numpy as np
import pytest

from mmbiggan.utils.atomic import (atomic_path, write_bytes_atomic,
                                   write_text_atomic)
from mmbiggan.utils.grid import save_image_atomic


def test_new_files_get_the_permissions_open_would_give(tmp_path):
    old = os.umask(0o027)
    try:
        write_bytes_atomic(str(tmp_path / 'a.bin'), b'abc')
        save_image_atomic(np.zeros((4, 4, 3), np.uint8),
                          str(tmp_path / 'sub' / 'b.png'))
    finally:
        os.umask(old)
    for name in ('a.bin', 'sub/b.png'):
        mode = stat.S_IMODE(os.stat(tmp_path / name).st_mode)
        assert mode == 0o640, (name, oct(mode))
    assert (tmp_path / 'a.bin').read_bytes() == b'abc'


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
        tmp_path):
    path = tmp_path / 'results.json'
    write_text_atomic(str(path), '{"FID": 1.0}')
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(str(path)) as tmp:
            with open(tmp, 'w') as f:
                f.write('{"FID": ')  # half a file, then the user hits ^C
            raise KeyboardInterrupt
    assert path.read_text() == '{"FID": 1.0}'
    assert os.listdir(tmp_path) == ['results.json']


def test_the_temporary_file_is_hidden_beside_the_target(tmp_path):
    with atomic_path(str(tmp_path / 'iter_8.pth')) as tmp:
        name = os.path.basename(tmp)
        assert os.path.dirname(tmp) == str(tmp_path)
        assert name.startswith('.iter_8.pth.') and name.endswith('.tmp')
        open(tmp, 'wb').close()
    assert os.listdir(tmp_path) == ['iter_8.pth']
