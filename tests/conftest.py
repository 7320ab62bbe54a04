import os
import os.path as osp

import pytest
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
FIXTURES = osp.join(osp.dirname(REPO_ROOT), 'shared', 'fixtures', 'reference')

# Two cores: keep test timings stable and leave room for subprocesses.
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture
def reference_dir():
    """``../shared/fixtures/reference`` (skips when it is absent)."""
    if not osp.isdir(FIXTURES):
        pytest.skip(f'reference fixtures not found at {FIXTURES}')
    return FIXTURES
