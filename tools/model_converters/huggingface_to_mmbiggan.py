"""Convert a pytorch-pretrained-biggan (BigGAN-Deep) model into an mmbiggan
checkpoint.

Example::

    python tools/model_converters/huggingface_to_mmbiggan.py \
        biggan-deep-256/ work_dirs/biggan-deep_256_cvt.pth --config \
        configs/biggan_deep/biggan-deep_256x256_cvt_hugging-face_rgb.py

The folder holds ``pytorch_model.bin`` and ``config.json`` as
``BigGAN.from_pretrained`` reads them. The checkpoint has the generator only
(the release has no discriminator and no EMA copy); all per-truncation
batch-norm statistics are kept, so sampling at truncation ``t`` gives the
images the reference gives at ``t``.
"""
import argparse
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:  # running from a clone without installing
    sys.path.insert(0, REPO_ROOT)

from mmbiggan.converters import convert_pytorch_pretrained_biggan  # noqa: E402
from mmbiggan.converters.cli import (  # noqa: E402
    add_output_arguments, finish, run, source_files)
from mmbiggan.converters.conversion import check_outputs_free  # noqa: E402
from mmbiggan.utils.checkpoint import (  # noqa: E402
    add_trust_pickle_argument, trusted_pickle)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert a pytorch-pretrained-biggan model (folder with '
        'pytorch_model.bin and config.json) into an mmbiggan checkpoint.')
    parser.add_argument(
        'source',
        help='model folder, or its pytorch_model.bin (config.json beside it '
        'or given with --hf-config)')
    add_output_arguments(parser)
    add_trust_pickle_argument(parser)
    parser.add_argument(
        '--hf-config', help='the model\'s config.json, if not beside it')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    inputs = source_files([args.source] +
                          ([args.hf_config] if args.hf_config else []))
    check_outputs_free([args.out, args.out_config], args.force, inputs)
    with trusted_pickle(args.trust_pickle):
        conversion = convert_pytorch_pretrained_biggan(args.source,
                                                       args.hf_config)
    finish(conversion, args, inputs)


if __name__ == '__main__':
    raise SystemExit(run(main))
