"""Convert an MMGeneration 0.7.x or mmagic 1.x checkpoint (BigGAN,
BigGAN-Deep, SAGAN, SNGAN-proj) into an mmbiggan one.

Example::

    python tools/model_converters/mmgen_to_mmbiggan.py \
        biggan_cifar10_32x32_b25x2_500k_20210728_110906-08b61a44.pth \
        work_dirs/biggan_cifar10_cvt.pth \
        --config configs/biggan/biggan_cifar10_32x32_b25x2_500k.py

The generator, EMA generator and discriminator in the file are converted,
in either spectral-norm layout (``weight_orig``/``weight_u``/``weight_v``
or ``u0``/``sv0``). Settings no weight records (epsilons, ``rgb2bgr``,
SNGAN's batch-norm conventions, EMA) come from the config the run recorded
in the checkpoint, or from ``--source-config`` (the MMGeneration/mmagic
config file); MMGeneration's defaults are assumed, with a warning,
otherwise.
"""
import argparse
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:  # running from a clone without installing
    sys.path.insert(0, REPO_ROOT)

from mmbiggan.converters import convert_mmgen  # noqa: E402
from mmbiggan.converters.cli import (  # noqa: E402
    add_output_arguments, finish, run)
from mmbiggan.converters.conversion import check_outputs_free  # noqa: E402
from mmbiggan.utils.checkpoint import (  # noqa: E402
    add_trust_pickle_argument, trusted_pickle)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert an MMGeneration/mmagic GAN checkpoint '
        '(generator, generator_ema, discriminator) into an mmbiggan one.')
    parser.add_argument('source', help='the MMGeneration or mmagic .pth')
    add_output_arguments(parser)
    add_trust_pickle_argument(parser)
    parser.add_argument(
        '--source-config',
        help='the MMGeneration/mmagic config of the run (default: the one '
        'recorded in the checkpoint meta)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    inputs = [args.source] + ([args.source_config]
                              if args.source_config else [])
    check_outputs_free([args.out, args.out_config], args.force, inputs)
    with trusted_pickle(args.trust_pickle):
        conversion = convert_mmgen(args.source, args.source_config)
    finish(conversion, args, inputs)


if __name__ == '__main__':
    raise SystemExit(run(main))
