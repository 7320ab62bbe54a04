"""Configs written for MMGeneration 0.x and mmagic 1.x, translated into
mmbiggan configs that train the same way (see README, "Migrating from
MMGeneration and mmagic")."""
import os.path as osp
from typing import List, Tuple

from mmengine.config import Config

from .mmagic import MMagicTranslator, is_mmagic_config
from .mmgen import MMGenTranslator, is_mmgen_config

__all__ = ['detect_dialect', 'translate_config']


def detect_dialect(cfg) -> str:
    """``'mmagic'``, ``'mmgen'`` or ``'mmbiggan'`` (anything else)."""
    if cfg.get('default_scope') == 'mmbiggan':
        return 'mmbiggan'
    if is_mmagic_config(cfg):
        return 'mmagic'
    if is_mmgen_config(cfg):
        return 'mmgen'
    return 'mmbiggan'


def translate_config(cfg: Config,
                     for_training: bool = True) -> Tuple[Config, List[str]]:
    """``cfg`` as an mmbiggan config, and the warnings logged on the way.

    An mmbiggan config comes back as it is. An MMGeneration or mmagic config
    is translated key by key; a key mmbiggan cannot honour raises
    :class:`~mmbiggan.engine.ConfigError` naming it (one line), and a value
    mmbiggan honours differently is logged as a warning.

    Args:
        cfg (Config): The config as read (``_base_`` merged, command-line
            options applied).
        for_training (bool): Refuse configs that cannot train (no data,
            schedule or optimizers); False for evaluation and sampling.
    """
    dialect = detect_dialect(cfg)
    if dialect == 'mmbiggan':
        return cfg, []
    translator = MMagicTranslator if dialect == 'mmagic' else MMGenTranslator
    out, warnings = translator(cfg.to_dict(), for_training).translate()
    # The file name (when there is a file) names the dumped config.
    filename = cfg.filename if cfg.filename and osp.isfile(
        cfg.filename) else None
    return Config(out, filename=filename), warnings
