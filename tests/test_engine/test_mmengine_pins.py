"""Every private mmengine name mmbiggan relies on, pinned: when an mmengine
release renames, removes or changes one, a test here fails and says which
mmbiggan code to revisit. Also: mmengine's IO overrides are switched on
explicitly, never by importing mmbiggan."""
import glob
import hashlib
import inspect
import os.path as osp
import re
import subprocess
import sys

import mmengine
import pytest
import torch
import torch.nn as nn
from mmengine.dataset import BaseDataset
from mmengine.hooks import CheckpointHook
from mmengine.optim import OptimWrapper
from mmengine.runner import IterBasedTrainLoop, Runner

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# name -> where mmbiggan uses it. test_no_unpinned_private_names keeps this
# list complete.
PINNED = {
    '_InfiniteDataloaderIterator': 'engine/loops.py (resume positions)',
    '_randomness_cfg': 'engine/loops.py (Runner: diff_rank_seed)',
    '_iter': 'engine/loops.py (IterBasedTrainLoop position)',
    '_max_iters': 'engine/loops.py (IterBasedTrainLoop.run)',
    '_decide_current_val_interval': 'engine/loops.py (IterBasedTrainLoop.run)',
    '_inner_count': 'engine/optimizers.py, models/gans/conditional_gan.py',
    '_accumulative_counts':
    'engine/optimizers.py, models/gans/conditional_gan.py',
    '_clip_grad': 'engine/optimizers.py (AutocastOptimWrapper)',
    '_metainfo': 'datasets/image_folder.py (BaseDataset)',
    '_save_checkpoint': 'engine/hooks/signal_checkpoint_hook.py',
    '_save_checkpoint_with_step': 'engine/hooks/checkpoint_hook.py (override)',
    '_save_best_checkpoint': 'engine/hooks/checkpoint_hook.py (override)',
}

# engine/hooks/checkpoint_hook.py re-implements this method (writing the
# pointer atomically, removing old files last); a new mmengine version of it
# must be compared with the copy.
SAVE_WITH_STEP_SHA256 = (
    'cdbc1b54c7c88d9525ab025a9d51a3d3be6e6e36396c0f1151ecf51281fd3482')


def pinned(name: str) -> str:
    return (f'mmengine {mmengine.__version__} changed the private {name!r} '
            f'that mmbiggan uses in {PINNED[name]}; update that code.')


def _defined_privates(files):
    """Private names a set of files defines (attributes set on self,
    functions, classes, module variables)."""
    names = set()
    for path in files:
        text = open(path).read()
        names |= set(re.findall(r'self\.(_[a-z]\w*)\s*(?::[^=\n]*)?=', text))
        names |= set(re.findall(r'def (_[a-z]\w*)', text))
        names |= set(re.findall(r'^class (_\w+)', text, re.M))
        names |= set(re.findall(r'^(_[a-z]\w*)\s*=', text, re.M))
    return names


def test_no_unpinned_private_names():
    """A private mmengine name used in mmbiggan but not pinned here fails
    (the name is not mmbiggan's own, and mmengine defines it)."""
    mmengine_files = glob.glob(
        osp.join(osp.dirname(mmengine.__file__), '**', '*.py'),
        recursive=True)
    ours = glob.glob(osp.join(ROOT, 'mmbiggan', '**', '*.py'), recursive=True)
    theirs = _defined_privates(mmengine_files)
    own = _defined_privates(ours)
    used = {}
    for path in ours:
        text = open(path).read()
        for name in set(re.findall(r'\.(_[a-z]\w*)\b', text)) | set(
                re.findall(r'from mmengine[\w.]* import \(?\s*(_\w+)', text)):
            used.setdefault(name, []).append(osp.relpath(path, ROOT))
    # mmbiggan's overrides define the names they override: pin those too.
    unpinned = {
        name: files
        for name, files in used.items()
        if name in theirs and name not in own and name not in PINNED
    }
    assert not unpinned, (
        f'mmbiggan uses private mmengine names {unpinned}: add each to '
        'PINNED with a test of what the code relies on.')


def test_infinite_dataloader_iterator_cycles():
    from mmengine.runner.loops import _InfiniteDataloaderIterator
    loader = torch.utils.data.DataLoader(list(range(4)), batch_size=2)
    iterator = _InfiniteDataloaderIterator(loader)
    batches = [next(iterator).tolist() for _ in range(5)]
    assert batches == [[0, 1], [2, 3], [0, 1], [2, 3], [0, 1]], pinned(
        '_InfiniteDataloaderIterator')


def test_runner_keeps_its_randomness_config():
    source = inspect.getsource(Runner.__init__)
    assert 'self._randomness_cfg = randomness' in source, pinned(
        '_randomness_cfg')


def test_iter_based_loop_attributes():
    source = inspect.getsource(IterBasedTrainLoop)
    for name in ('_iter', '_max_iters'):
        assert f'self.{name}' in source, pinned(name)
    assert inspect.signature(
        IterBasedTrainLoop._decide_current_val_interval).parameters.keys(
        ) == {'self'}, pinned('_decide_current_val_interval')
    assert 'self._iter += 1' in inspect.getsource(
        IterBasedTrainLoop.run_iter), pinned('_iter')


def test_optim_wrapper_counts_accumulation():
    weight = nn.Parameter(torch.ones(2))
    wrapper = OptimWrapper(
        torch.optim.SGD([weight], lr=0.1), accumulative_counts=3)
    assert wrapper._accumulative_counts == 3, pinned('_accumulative_counts')
    wrapper.initialize_count_status(nn.Linear(1, 1), 0, 6)
    for expected in (1, 2, 3):
        wrapper.update_params((weight * 2).sum())
        assert wrapper._inner_count == expected, pinned('_inner_count')
    # One optimizer step per 3 batches: the weight moved once, by 0.1 * 2.
    assert torch.allclose(weight.detach(), torch.full((2, ), 0.8)), pinned(
        '_accumulative_counts')
    assert inspect.signature(OptimWrapper._clip_grad).parameters.keys() == {
        'self'}, pinned('_clip_grad')


def test_base_dataset_metainfo_is_a_dict():
    source = inspect.getsource(BaseDataset.__init__)
    assert 'self._metainfo = self._load_metainfo(' in source, pinned(
        '_metainfo')


def test_checkpoint_hook_methods_mmbiggan_overrides_or_calls():
    params = {
        '_save_checkpoint': ['self', 'runner'],
        '_save_checkpoint_with_step': ['self', 'runner', 'step', 'meta'],
        '_save_best_checkpoint': ['self', 'runner', 'metrics'],
    }
    for name, expected in params.items():
        method = getattr(CheckpointHook, name, None)
        assert method is not None and list(
            inspect.signature(method).parameters) == expected, pinned(name)
    # after_train_iter -> _save_checkpoint -> _save_checkpoint_with_step.
    assert 'self._save_checkpoint(runner)' in inspect.getsource(
        CheckpointHook.after_train_iter), pinned('_save_checkpoint')
    assert 'self._save_checkpoint_with_step(' in inspect.getsource(
        CheckpointHook._save_checkpoint), pinned('_save_checkpoint_with_step')
    source = inspect.getsource(CheckpointHook._save_checkpoint_with_step)
    assert hashlib.sha256(source.encode()).hexdigest() == \
        SAVE_WITH_STEP_SHA256, (
            pinned('_save_checkpoint_with_step') +
            ' mmbiggan/engine/hooks/checkpoint_hook.py re-implements it: '
            'compare the new version with CheckpointHook._save_with_step, '
            'then update SAVE_WITH_STEP_SHA256.')


# --- IO overrides: explicit, not on import ---------------------------------

PROBE = '''
import json, sys
from mmengine.fileio.backends.registry_utils import prefix_to_backends
from mmengine.runner import CheckpointLoader
{setup}
print(json.dumps(dict(
    backend=prefix_to_backends[''].__name__,
    loader=CheckpointLoader._schemes[''].__name__)))
'''


def probe(setup: str) -> dict:
    import json
    out = subprocess.run([sys.executable, '-c', PROBE.format(setup=setup)],
                         cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize('setup,backend,loader', [
    ('', 'LocalBackend', 'load_from_local'),
    ('import mmbiggan.engine, mmbiggan.models, mmbiggan.apis',
     'LocalBackend', 'load_from_local'),
    ('from mmbiggan.engine import install_mmengine_overrides\n'
     'install_mmengine_overrides()', 'AtomicLocalBackend',
     'load_local_checkpoint'),
    ('from mmbiggan.engine import install_mmengine_overrides\n'
     'install_mmengine_overrides(dict(atomic_local_writes=True, '
     'safe_checkpoint_loading=False))', 'AtomicLocalBackend',
     'load_from_local'),
])
def test_overrides_are_switched_on_explicitly(setup, backend, loader):
    assert probe(setup) == dict(backend=backend, loader=loader)


def test_unknown_override_is_refused():
    from mmbiggan.engine import install_mmengine_overrides
    with pytest.raises(KeyError, match="Unknown mmengine_overrides key "
                       "'atomic_writes'"):
        install_mmengine_overrides(dict(atomic_writes=True))


def test_default_runtime_switches_both_on():
    from mmengine.config import Config
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', '_base_', 'default_runtime.py'))
    assert cfg.mmengine_overrides == dict(
        atomic_local_writes=True, safe_checkpoint_loading=True)
