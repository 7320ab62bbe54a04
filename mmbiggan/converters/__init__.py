"""Converting public BigGAN checkpoints into mmbiggan checkpoints.

* :func:`convert_biggan_pytorch`: ajbrock/BigGAN-PyTorch run folders
  (``G.pth``, ``G_ema.pth``, ``D.pth``, ``state_dict.pth``).
* :func:`convert_pytorch_pretrained_biggan`: pytorch-pretrained-biggan
  (the BigGAN-Deep TF-Hub port) ``pytorch_model.bin`` + ``config.json``.
* :func:`convert_mmgen`: MMGeneration 0.7.x and mmagic 1.x checkpoints of
  BigGAN, BigGAN-Deep, SAGAN and SNGAN-proj.

Each returns a checked :class:`Conversion`; :func:`save_conversion` writes
it as an mmengine checkpoint and :func:`check_against_config` checks it
against an mmbiggan config.
"""
from .biggan_pytorch import convert_biggan_pytorch
from .config_check import check_against_config, eval_settings
from .conversion import (Conversion, ConvertedNetwork, check_outputs_free,
                         dump_config_text, save_conversion)
from .mmgen import convert_mmgen
from .pytorch_pretrained_biggan import (convert_pytorch_pretrained_biggan,
                                        gen_z_permutation)

__all__ = [
    'convert_biggan_pytorch', 'convert_pytorch_pretrained_biggan',
    'convert_mmgen',
    'Conversion', 'ConvertedNetwork', 'save_conversion', 'dump_config_text',
    'check_outputs_free', 'check_against_config', 'eval_settings',
    'gen_z_permutation'
]
