"""Writing files so that a reader (or a later run) sees either the old file
or the complete new one, never a truncated one: the content goes to a
temporary file in the destination's folder, is flushed to disk and renamed
over the destination (a rename within one file system is atomic)."""
import contextlib
import os
import os.path as osp
import tempfile
from typing import Iterator


def _default_file_mode() -> int:
    """``0o666`` minus the process umask: the permissions ``open()`` gives a
    new file (``mkstemp`` makes private ``0o600`` files instead)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _sync_folder(folder: str):
    """Flush the folder entry of a rename to disk, so the new file survives
    a power loss (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield a temporary path beside ``path`` for any writer (``torch.save``,
    Pillow, ffmpeg, ...); when the block succeeds the file is synced to disk,
    given the usual permissions and renamed to ``path``; when it fails (or
    is interrupted) the temporary file is removed and ``path`` is untouched.

    The temporary name starts with a dot and ends in ``.tmp``, so listings
    of checkpoints and images do not pick it up.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=f'.{osp.basename(path)}.', suffix='.tmp')
    os.close(fd)
    try:
        yield tmp
        with open(tmp, 'rb+') as f:
            os.fsync(f.fileno())
        os.chmod(tmp, _default_file_mode())
        os.replace(tmp, path)
        _sync_folder(folder)
    finally:
        if osp.exists(tmp):
            os.unlink(tmp)


def write_bytes_atomic(path: str, data: bytes):
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        with open(tmp, 'wb') as f:
            f.write(data)


def write_text_atomic(path: str, text: str):
    """Write UTF-8 ``text`` to ``path`` atomically (see :func:`atomic_path`)."""
    write_bytes_atomic(path, text.encode('utf-8'))
