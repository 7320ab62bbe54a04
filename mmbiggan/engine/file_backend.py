"""mmengine's local file writes, made atomic.

``Runner.save_checkpoint`` and ``CheckpointHook`` write checkpoints and the
``last_checkpoint`` pointer through mmengine's ``LocalBackend.put`` /
``put_text``, which open the destination and write into it: a run killed
during a save (a pre-empted job, a full disk) leaves a truncated newest
checkpoint that ``--resume`` would pick. This module registers a local
backend that writes through :func:`mmbiggan.utils.atomic.write_bytes_atomic`
instead (temporary file beside the destination, fsync, rename).
:func:`mmbiggan.engine.install_mmengine_overrides` registers it (the tools
do, as the config's ``mmengine_overrides`` says); importing this module
changes nothing.
"""
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

from mmbiggan.utils.atomic import write_bytes_atomic


class AtomicLocalBackend(LocalBackend):
    """:class:`mmengine.fileio.LocalBackend` whose writes are atomic: readers
    see the old file or the complete new one."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        write_bytes_atomic(str(filepath), obj)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        write_bytes_atomic(str(filepath), obj.encode(encoding))


def register_atomic_local_backend() -> None:
    """Make :class:`AtomicLocalBackend` mmengine's backend of local paths
    (no prefix), for the whole process."""
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
