"""mmengine's checkpoint reading, made safe.

``Runner.load_checkpoint`` and ``--resume`` read local files through
mmengine's ``CheckpointLoader``, whose local loader unpickles anything. This
module replaces it with :func:`mmbiggan.utils.load_checkpoint_file`
(``weights_only=True`` and errors that name the problem).
:func:`mmbiggan.engine.install_mmengine_overrides` registers it (the tools
do, as the config's ``mmengine_overrides`` says); importing this module
changes nothing."""
import os.path as osp

from mmengine.runner import CheckpointLoader

from mmbiggan.utils.checkpoint import load_checkpoint_file


def load_local_checkpoint(filename: str, map_location=None) -> dict:
    """Read a local checkpoint with ``weights_only=True``."""
    return load_checkpoint_file(osp.expanduser(filename), map_location)


def register_safe_checkpoint_loader() -> None:
    """Make :func:`load_local_checkpoint` mmengine's loader of local
    checkpoints (no prefix), for the whole process."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_local_checkpoint, force=True)
