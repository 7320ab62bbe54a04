"""Reading and writing checkpoints safely.

Every checkpoint is read with ``torch.load(weights_only=True)``: a file
from elsewhere must not run code when it is opened. Files are written to a
temporary file beside the target and renamed over it, so an interrupted save
never leaves a truncated checkpoint behind.
"""
import os
import os.path as osp
import pickle
import tempfile
import zipfile
from typing import Dict, Iterable, Optional

import torch


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable or does not fit the model."""


def load_checkpoint_file(path: str,
                         map_location='cpu',
                         allowed_globals: Iterable = ()) -> dict:
    """``torch.load(path, weights_only=True)`` with errors that say what is
    wrong with the file.

    Args:
        path (str): Checkpoint file.
        map_location: Passed to ``torch.load``.
        allowed_globals: Extra classes the file may contain (for example
            ``torch.nn.ReLU`` in BigGAN-PyTorch's ``state_dict.pth``).
    """
    if not osp.exists(path):
        raise CheckpointError(f'Checkpoint not found: {path}')
    if osp.isdir(path):
        raise CheckpointError(f'{path} is a directory, not a checkpoint file.')
    if osp.getsize(path) == 0:
        raise CheckpointError(f'{path} is empty (an interrupted save?); use '
                              'an earlier checkpoint.')
    with open(path, 'rb') as f:
        head = f.read(2)
    # torch.save writes a zip archive (a truncated one still starts with its
    # first entry) or, in the legacy format, a pickle opening with PROTO.
    if head != b'PK' and head[:1] != b'\x80':
        raise CheckpointError(
            f'{path} is not a PyTorch checkpoint (neither a zip archive nor '
            'a pickle); give the file torch.save wrote.')
    try:
        with torch.serialization.safe_globals(list(allowed_globals)):
            return torch.load(path, map_location=map_location,
                              weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f'{path} holds Python objects that are not plain tensors and '
            f'containers, so it is not loaded (weights_only=True): {err}. '
            'Only load files you trust with a full unpickle.') from err
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError) as err:
        raise CheckpointError(
            f'{path} is truncated or not a PyTorch checkpoint ({err}).') \
            from err


def save_checkpoint_atomic(obj, path: str):
    """``torch.save(obj, path)`` through a temporary file in the same folder
    and an atomic rename: readers see the old file or the complete new one.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=f'.{osp.basename(path)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.unlink(tmp)
        raise


def extract_state_dict(checkpoint: dict, prefix: str = '') -> Dict:
    """The model weights of a checkpoint (mmengine's ``state_dict`` entry,
    or the dict itself for a bare state dict), restricted to ``prefix`` and
    with the prefix removed."""
    if not isinstance(checkpoint, dict):
        raise CheckpointError('A checkpoint must be a dict, got '
                              f'{type(checkpoint).__name__}.')
    state_dict = checkpoint.get('state_dict', checkpoint)
    if prefix:
        state_dict = {
            k[len(prefix):]: v
            for k, v in state_dict.items() if k.startswith(prefix)
        }
        if not state_dict:
            raise CheckpointError(
                f'The checkpoint has no weights under prefix {prefix!r}.')
    return state_dict


def check_state_dict(module: torch.nn.Module,
                     state_dict: Dict,
                     source: str = 'checkpoint',
                     strict: bool = True):
    """Raise :class:`CheckpointError` listing missing and unexpected keys
    (when ``strict``) and shape mismatches (always)."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    wrong_shape = [
        f'{k}: {tuple(state_dict[k].shape)} in {source}, '
        f'{tuple(v.shape)} in the model' for k, v in expected.items()
        if k in state_dict and hasattr(state_dict[k], 'shape')
        and tuple(state_dict[k].shape) != tuple(v.shape)
    ]
    problems = []
    if strict and missing:
        problems.append(f'missing keys ({len(missing)}): '
                        f'{_short_list(missing)}')
    if strict and unexpected:
        problems.append(f'unexpected keys ({len(unexpected)}): '
                        f'{_short_list(unexpected)}')
    if wrong_shape:
        problems.append(f'shape mismatches ({len(wrong_shape)}): '
                        f'{_short_list(wrong_shape)}')
    if problems:
        raise CheckpointError(
            f'The {source} does not fit {type(module).__name__}; '
            + '; '.join(problems) +
            '. Check that the config matches the checkpoint.')


def _short_list(items, limit: int = 12) -> str:
    shown = ', '.join(items[:limit])
    if len(items) > limit:
        shown += f', ... ({len(items) - limit} more)'
    return shown


def load_module_weights(module: torch.nn.Module,
                        path: str,
                        prefix: str = '',
                        strict: bool = True,
                        map_location='cpu'):
    """Load the weights under ``prefix`` of the checkpoint at ``path`` into
    ``module`` after checking keys and shapes."""
    state_dict = extract_state_dict(
        load_checkpoint_file(path, map_location), prefix)
    check_state_dict(module, state_dict, source=path, strict=strict)
    module.load_state_dict(state_dict, strict=strict)


def find_latest_checkpoint(work_dir: str) -> Optional[str]:
    """The newest complete ``iter_*.pth`` in ``work_dir`` (by iteration
    number), or None."""
    if not osp.isdir(work_dir):
        return None
    best, best_iter = None, -1
    for name in os.listdir(work_dir):
        if name.startswith('iter_') and name.endswith('.pth'):
            try:
                it = int(name[len('iter_'):-len('.pth')])
            except ValueError:
                continue
            if it > best_iter:
                best, best_iter = osp.join(work_dir, name), it
    return best
