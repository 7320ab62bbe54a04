"""Reading and writing checkpoints safely.

Every checkpoint is read with ``torch.load(weights_only=True)``: a file
from elsewhere must not run code when it is opened. A file that needs a full
unpickle is refused unless the caller runs inside :func:`trusted_pickle`
(the tools' ``--trust-pickle``). Files are written to a temporary file
beside the target and renamed over it, so an interrupted save never leaves a
truncated checkpoint behind.
"""
import contextlib
import contextvars
import logging
import os
import os.path as osp
import pickle
import zipfile
from typing import Dict, Iterable, Iterator, Optional

import torch
from mmengine.logging import print_log

from .atomic import atomic_path
from .errors import UserError

_TRUST_PICKLE = contextvars.ContextVar('mmbiggan_trust_pickle', default=False)


class CheckpointError(UserError, RuntimeError):
    """A checkpoint is missing, unreadable or does not fit the model."""


@contextlib.contextmanager
def trusted_pickle(enabled: bool = True) -> Iterator[None]:
    """Inside the block, :func:`load_checkpoint_file` loads files that
    ``weights_only=True`` refuses with a full unpickle, which runs whatever
    code the file names: only for files from a source you trust (the tools'
    ``--trust-pickle``)."""
    token = _TRUST_PICKLE.set(bool(enabled))
    try:
        yield
    finally:
        _TRUST_PICKLE.reset(token)


def add_trust_pickle_argument(parser) -> None:
    """The ``--trust-pickle`` option of every tool that reads checkpoints;
    the tool runs its loading inside ``trusted_pickle(args.trust_pickle)``.
    """
    parser.add_argument(
        '--trust-pickle',
        action='store_true',
        help='load checkpoints holding Python objects other than tensors '
        'with a full unpickle, which can run code: only for files from a '
        'source you trust (default: weights_only=True, refusing them)')


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
        if not _TRUST_PICKLE.get():
            raise CheckpointError(
                f'{path} holds Python objects other than tensors and plain '
                f'containers ({_refused_global(err)}); unpickling them could '
                'run code, so it is not loaded (weights_only=True). If you '
                'trust its source, pass --trust-pickle.') from err
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError) as err:
        raise CheckpointError(
            f'{path} is truncated or not a PyTorch checkpoint ({err}).') \
            from err
    print_log(f'--trust-pickle: loading {path} with a full unpickle.',
              logger='current', level=logging.WARNING)
    try:
        return torch.load(path, map_location=map_location, weights_only=False)
    except (pickle.UnpicklingError, RuntimeError, EOFError,
            zipfile.BadZipFile, ValueError, AttributeError,
            ModuleNotFoundError) as err:
        raise CheckpointError(f'{path} could not be unpickled ({err}).') \
            from err


def _refused_global(err: pickle.UnpicklingError) -> str:
    """The part of torch's weights-only error naming what was refused."""
    paragraphs = [p.strip() for p in str(err).split('\n\n') if p.strip()]
    for paragraph in paragraphs:
        if not paragraph.startswith(('Weights only load failed',
                                     'Check the documentation')):
            return ' '.join(paragraph.split())
    return ' '.join(str(err).split())


def save_checkpoint_atomic(obj, path: str):
    """``torch.save(obj, path)`` through a temporary file in the same folder
    and an atomic rename: readers see the old file or the complete new one.
    """
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


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


def incomplete_reason(path: str) -> Optional[str]:
    """Why ``path`` is not a complete ``torch.save`` file (empty, a zip
    archive without its directory, i.e. cut short), or None. Reads only the
    file's head and its zip directory, not the tensors."""
    try:
        if osp.getsize(path) == 0:
            return 'it is empty'
        with open(path, 'rb') as f:
            head = f.read(2)
        if head == b'PK':
            with zipfile.ZipFile(path) as archive:
                if not any(n.endswith('data.pkl') for n in archive.namelist()):
                    return 'it is a zip archive without a checkpoint in it'
            return None
    except (OSError, zipfile.BadZipFile) as err:
        return f'it is truncated ({err})'
    # The legacy format (a bare pickle) has no directory to check.
    return None if head[:1] == b'\x80' else 'it is not a PyTorch file'


def find_latest_checkpoint(work_dir: str) -> Optional[str]:
    """The newest complete ``iter_*.pth`` in ``work_dir`` (by iteration
    number), or None. Files cut short (a save killed before atomic writes,
    a broken copy) are skipped with a warning; the temporary files of
    interrupted atomic saves (``.iter_*.pth.*.tmp``) are not checkpoints."""
    if not osp.isdir(work_dir):
        return None
    candidates = []
    for name in os.listdir(work_dir):
        if name.startswith('iter_') and name.endswith('.pth'):
            try:
                it = int(name[len('iter_'):-len('.pth')])
            except ValueError:
                continue
            candidates.append((it, osp.join(work_dir, name)))
    for _, path in sorted(candidates, reverse=True):
        reason = incomplete_reason(path)
        if reason is None:
            return path
        print_log(f'Skipping {path}: {reason}.', logger='current',
                  level=logging.WARNING)
    return None
