"""mmengine's checkpoint reading, made safe.

``Runner.load_checkpoint`` and ``--resume`` read local files through
mmengine's ``CheckpointLoader``, whose local loader unpickles anything. This
module replaces it with :func:`mmbiggan.utils.load_checkpoint_file`
(``weights_only=True`` and errors that name the problem). Importing
``mmbiggan.engine`` registers it."""
import os.path as osp

from mmengine.runner import CheckpointLoader

from mmbiggan.utils.checkpoint import load_checkpoint_file


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_local_checkpoint(filename: str, map_location=None) -> dict:
    """Read a local checkpoint with ``weights_only=True``."""
    return load_checkpoint_file(osp.expanduser(filename), map_location)
