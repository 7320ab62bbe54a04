"""Convert a BigGAN-PyTorch (ajbrock) checkpoint into an mmbiggan one.

Examples::

    # a whole run folder: G.pth, G_ema.pth, D.pth and state_dict.pth
    python tools/model_converters/biggan_pytorch_to_mmbiggan.py \
        weights/BigGAN_I128_hdf5_seed0_Gch96_Dch96_bs256_nDa8_nGa8 \
        work_dirs/biggan_128_cvt.pth \
        --config configs/biggan/biggan_128x128_cvt_BigGAN-PyTorch_rgb.py

    # only the EMA generator, as the generator of a sampling-only model
    python tools/model_converters/biggan_pytorch_to_mmbiggan.py \
        G_ema.pth state_dict.pth g_ema_cvt.pth --role generator

The architecture is read from the weights and checked against
``state_dict.pth`` when given; ``--sn-eps``/``--bn-eps`` give the epsilons of
a run whose ``state_dict.pth`` is not at hand.
"""
import argparse
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:  # running from a clone without installing
    sys.path.insert(0, REPO_ROOT)

from mmbiggan.converters import convert_biggan_pytorch  # noqa: E402
from mmbiggan.converters.cli import (  # noqa: E402
    add_output_arguments, finish, run, source_files)
from mmbiggan.converters.conversion import check_outputs_free  # noqa: E402
from mmbiggan.utils.checkpoint import (  # noqa: E402
    add_trust_pickle_argument, trusted_pickle)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert BigGAN-PyTorch weights (G, G_ema, D) into an '
        'mmbiggan checkpoint.')
    parser.add_argument(
        'sources',
        nargs='+',
        help='a BigGAN-PyTorch weights folder, or G.pth / G_ema.pth / D.pth '
        '/ state_dict.pth files')
    add_output_arguments(parser)
    add_trust_pickle_argument(parser)
    parser.add_argument(
        '--role',
        choices=['generator', 'generator_ema', 'discriminator'],
        help='network of a single weights file (default: from its name)')
    parser.add_argument(
        '--name-suffix',
        default='',
        help='take G_<suffix>.pth ... from the folder (e.g. best0, copy1)')
    parser.add_argument(
        '--sn-eps', type=float, help='spectral-norm epsilon of the run')
    parser.add_argument(
        '--bn-eps', type=float, help='batch-norm epsilon of the run')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    inputs = source_files(args.sources)
    check_outputs_free([args.out, args.out_config], args.force, inputs)
    with trusted_pickle(args.trust_pickle):
        conversion = convert_biggan_pytorch(
            args.sources,
            role=args.role,
            name_suffix=args.name_suffix,
            sn_eps=args.sn_eps,
            bn_eps=args.bn_eps)
    finish(conversion, args, inputs)


if __name__ == '__main__':
    raise SystemExit(run(main))
