"""mmbiggan's replacements of mmengine's local file IO, switched on
explicitly.

* ``atomic_local_writes``: checkpoints and the ``last_checkpoint`` pointer
  are written to a temporary file and renamed
  (:class:`~mmbiggan.engine.file_backend.AtomicLocalBackend`), so a killed
  save never leaves a truncated newest checkpoint.
* ``safe_checkpoint_loading``: ``Runner.load_checkpoint`` and ``--resume``
  read local files with ``torch.load(weights_only=True)``
  (:func:`~mmbiggan.engine.checkpoint_loader.load_local_checkpoint`).

Both replace mmengine's handlers for local paths in the whole process, so
nothing happens on import: ``tools/train.py`` calls
:func:`install_mmengine_overrides` with the config's ``mmengine_overrides``
(``configs/_base_/default_runtime.py`` switches both on); other programs
call it themselves.
"""
from typing import Optional

from .checkpoint_loader import register_safe_checkpoint_loader
from .file_backend import register_atomic_local_backend

OVERRIDES = {
    'atomic_local_writes': register_atomic_local_backend,
    'safe_checkpoint_loading': register_safe_checkpoint_loader,
}


def install_mmengine_overrides(overrides: Optional[dict] = None) -> list:
    """Switch on the overrides that ``overrides`` (e.g. a config's
    ``mmengine_overrides``) sets to True; None switches on all of them.
    Installing twice is harmless.

    Returns:
        list: The names of the overrides switched on.

    Raises:
        KeyError: An unknown name, with the known ones.
    """
    if overrides is None:
        overrides = dict.fromkeys(OVERRIDES, True)
    unknown = [name for name in overrides if name not in OVERRIDES]
    if unknown:
        raise KeyError(f'Unknown mmengine_overrides key {unknown[0]!r}; the '
                       f'keys are {sorted(OVERRIDES)}.')
    installed = [name for name, on in overrides.items() if on]
    for name in installed:
        OVERRIDES[name]()
    return installed
