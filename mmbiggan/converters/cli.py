"""What the command-line converters share: output options, the checks
before writing, logging what was found, and the scripts' one error policy."""
import argparse
import logging
import os.path as osp
import sys
from typing import Callable, Iterable, List, Optional

from mmbiggan.utils.errors import run as run_script
from .config_check import check_against_config
from .conversion import Conversion, check_outputs_free, save_conversion

logger = logging.getLogger('mmbiggan.converters')


def add_output_arguments(parser: argparse.ArgumentParser):
    parser.add_argument('out', help='the mmbiggan checkpoint to write (.pth)')
    parser.add_argument(
        '--config',
        help='an mmbiggan config whose model must load the converted '
        'checkpoint and reproduce the source; checked before writing')
    parser.add_argument(
        '--out-config',
        help='also write an mmbiggan config (.py) for the converted model')
    parser.add_argument(
        '--force',
        action='store_true',
        help='overwrite OUT (and --out-config) if they exist')


def source_files(sources: Iterable[str]) -> List[str]:
    """Every file named by ``sources`` (files, or the files of folders)."""
    import os
    files = []
    for source in sources:
        if osp.isdir(source):
            files += [osp.join(source, n) for n in os.listdir(source)]
        else:
            files.append(source)
    return files


def finish(conversion: Conversion, args: argparse.Namespace,
           inputs: Iterable[str]):
    """Log what was found, check against ``--config`` and write."""
    for line in conversion.describe():
        logger.info(line)
    if args.config:
        check_against_config(conversion, args.config)
        logger.info(f'The conversion fits {args.config}.')
    outputs = [args.out, args.out_config]
    check_outputs_free(outputs, args.force, inputs)
    if args.out_config:
        conversion.model_cfg()  # fail before writing anything
    save_conversion(conversion, args.out, args.out_config)
    logger.info(f'Wrote {args.out}' +
                (f' and {args.out_config}' if args.out_config else ''))


def run(main: Callable[[Optional[List[str]]], None],
        argv: Optional[List[str]] = None) -> int:
    """Run a converter's ``main`` with its log lines on stdout, under the
    scripts' one policy (:func:`mmbiggan.utils.errors.run`).

    Returns:
        int: the exit status (0 on success).
    """
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter('%(levelname)s: %(message)s'))
    previous = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        return run_script(
            main, argv, interrupted='interrupted (outputs are written '
            'atomically: each is complete or absent).')
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous[0])
        logger.propagate = previous[1]
