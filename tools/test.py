"""Evaluate a checkpoint: FID, IS, precision/recall/density/coverage and
intra-class FID of its generator, written to JSON.

    python tools/test.py CONFIG CHECKPOINT
        [--metrics FID IS PrecisionRecall IntraClassFID]
        [--num-images N] [--inception-path FILE] [--inception-pkl FILE]
        [--real-features FILE] [--k K]
        [--sample-model ema|orig] [--seed S] [--truncation T]
        [--batch-size B] [--out results.json] [--launcher none|pytorch|slurm]

The metrics are those of the config's ``test_evaluator``, else those of its
``val_evaluator`` at 50k images; without either, or for a name in
``--metrics`` that the config lacks, FID50k and IS50k with the Inception of
``--inception-path``
(StyleGAN2-ADA's TorchScript ``inception-2015-12-05.pt`` or pytorch-fid's
``pt_inception-2015-12-05-6726825d.pth``; never downloaded). An FID without
``inception_pkl``, and PrecisionRecall/IntraClassFID without
``real_features`` (``--real-features``, written by
``tools/utils/inception_stat.py --save-features``), read the real images
from the config's test/val/train dataloader. The checkpoint is read with
``weights_only=True`` and must fit the config's model.

Multi-process: ``torchrun --nproc_per_node N tools/test.py ... --launcher
pytorch``; each process generates its share, the numbers equal a
single-process run.
"""
import argparse
import json
import os
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:  # running from a clone without installing
    sys.path.insert(0, REPO_ROOT)

# --metrics names (any case) and the metric types they select.
METRIC_TYPES = {
    'fid': 'FID',
    'is': 'IS',
    'precisionrecall': 'PrecisionRecall',
    'pr': 'PrecisionRecall',
    'intraclassfid': 'IntraClassFID',
    'ifid': 'IntraClassFID',
}
DEFAULT_METRICS = ('FID', 'IS')
# Metrics that read a real features file, and how to give them real data.
FEATURE_METRICS = ('PrecisionRecall', 'IntraClassFID')
REAL_DATA_HINTS = {
    'FID': '--inception-pkl FILE (tools/utils/inception_stat.py)',
    'PrecisionRecall': '--real-features FILE (tools/utils/inception_stat.py '
    '--save-features)',
    'IntraClassFID': '--real-features FILE (tools/utils/inception_stat.py '
    '--data-cfg CONFIG --save-features)',
}
DEFAULT_NUM_IMAGES = 50000


def parse_args(argv=None):
    from mmengine.config import DictAction

    from mmbiggan.apis.cli import add_truncation_argument
    from mmbiggan.utils.checkpoint import add_trust_pickle_argument
    parser = argparse.ArgumentParser(
        description='Evaluate a GAN checkpoint with FID, IS, precision and '
        'recall, and intra-class FID.')
    parser.add_argument('config', help='config file of the model')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--metrics',
        nargs='+',
        type=str.lower,
        choices=sorted(METRIC_TYPES),
        metavar='METRIC',
        help='metrics to compute: FID, IS, PrecisionRecall (PR), '
        'IntraClassFID (iFID), any case (default: those of the config, else '
        'FID and IS)')
    parser.add_argument(
        '--num-images',
        type=int,
        help='generated images per metric (default: as test_evaluator, '
        f'else {DEFAULT_NUM_IMAGES})')
    parser.add_argument(
        '--inception-path',
        help='local Inception weights; the kind is read from the file '
        '(TorchScript: StyleGAN2-ADA, state dict: pytorch-fid)')
    parser.add_argument(
        '--inception-pkl',
        help='statistics of the real images for FID (.pkl or .npz)')
    parser.add_argument(
        '--real-features',
        help='features of the real images for PrecisionRecall and '
        'IntraClassFID (.npz of tools/utils/inception_stat.py '
        '--save-features)')
    parser.add_argument(
        '--k',
        type=int,
        help='neighbourhood size of PrecisionRecall (default: the '
        "config's, else 3)")
    parser.add_argument(
        '--sample-model',
        choices=['ema', 'orig'],
        default='ema',
        help='sample from the EMA generator (default) or the trained one')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the generator inputs')
    add_truncation_argument(parser)
    parser.add_argument(
        '--batch-size', type=int, default=32, help='images per batch')
    parser.add_argument('--out', help='JSON file for the results')
    parser.add_argument(
        '--device', help='cpu or cuda (default: cuda when available)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. model.generator.rgb2bgr=True')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm'],
        default='none',
        help='how the processes were started')
    add_trust_pickle_argument(parser)
    return parser.parse_args(argv)


def config_metrics(cfg) -> list:
    """The metric configs of the config's ``test_evaluator``, else those of
    its ``val_evaluator`` at 50k images (validation during training usually
    uses fewer)."""
    evaluator = cfg.get('test_evaluator')
    num_images = None
    if not evaluator:
        evaluator = cfg.get('val_evaluator')
        num_images = DEFAULT_NUM_IMAGES
    if not evaluator:
        return []
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        evaluator = evaluator['metrics']
    if isinstance(evaluator, dict):
        evaluator = [evaluator]
    metrics = [dict(metric) for metric in evaluator]
    if num_images is not None:
        for metric in metrics:
            metric['num_images'] = num_images
    return metrics


def resolve_metrics(cfg, args) -> list:
    """The metric configs to evaluate, with the command line applied."""
    from mmbiggan.evaluation import inception_type_of_file
    configured = config_metrics(cfg)
    if args.metrics:
        metrics = []
        for name in args.metrics:
            kind = METRIC_TYPES[name]
            found = [m for m in configured if m.get('type') == kind]
            metrics += found or [dict(type=kind)]
    else:
        metrics = configured or [dict(type=t) for t in DEFAULT_METRICS]
    for metric in metrics:
        if args.num_images is not None:
            metric['num_images'] = args.num_images
        metric.setdefault('num_images', DEFAULT_NUM_IMAGES)
        if args.inception_path is not None:
            metric['inception_args'] = dict(
                type=inception_type_of_file(args.inception_path),
                inception_path=args.inception_path)
        if not isinstance(metric.get('inception_args'), dict):
            raise ValueError(
                f'{metric["type"]} needs an Inception network: pass '
                '--inception-path FILE (inception-2015-12-05.pt of '
                'StyleGAN2-ADA or pt_inception-2015-12-05-6726825d.pth of '
                'pytorch-fid) or set inception_args in the config.')
        if metric['type'] == 'FID' and args.inception_pkl is not None:
            metric['inception_pkl'] = args.inception_pkl
        if metric['type'] in FEATURE_METRICS and \
                args.real_features is not None:
            metric['real_features'] = args.real_features
        if metric['type'] == 'PrecisionRecall' and args.k is not None:
            metric['k'] = args.k
    return metrics


def real_dataloader_config(cfg, waiting: list):
    """The config's dataloader of real images, for the metrics ``waiting``
    for real data."""
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        if cfg.get(key):
            return cfg[key]
    names = sorted({type(metric).__name__ for metric in waiting})
    hints = [REAL_DATA_HINTS.get(name, 'a file of real data')
             for name in names]
    hints = hints[0] if len(names) == 1 else '; '.join(
        f'{name}: {hint}' for name, hint in zip(names, hints))
    raise ValueError(
        f'{" and ".join(names)} need{"s" if len(names) == 1 else ""} real '
        f'images: pass {hints}, or use a config with a dataloader.')


def check_output_path(path: str):
    """Fail before the evaluation, not after it, on an unusable --out."""
    if osp.isdir(path):
        raise ValueError(f'--out {path} is a directory; give a file name.')
    folder = osp.dirname(osp.abspath(path))
    existing = folder
    while not osp.exists(existing):
        existing = osp.dirname(existing)
    if not osp.isdir(existing):
        raise ValueError(f'--out {path}: {existing} is a file, not a '
                         'folder; choose another path.')
    if not os.access(existing, os.W_OK):
        raise ValueError(f'--out {path}: {existing} is not writable.')


def main(argv=None):
    args = parse_args(argv)
    import torch
    from mmengine.dist import is_main_process
    from mmengine.evaluator import Evaluator
    from mmengine.runner import Runner

    from mmbiggan.apis import (get_sampling_generator, init_model,
                               load_config)
    from mmbiggan.apis.cli import check_truncation_option
    from mmbiggan.engine import init_distributed, shutdown_distributed
    from mmbiggan.evaluation import evaluate_generator
    from mmbiggan.utils.checkpoint import trusted_pickle

    if args.out:
        check_output_path(args.out)
    if args.num_images is not None and args.num_images < 2:
        raise ValueError(f'--num-images must be >= 2, got {args.num_images}.')
    if args.batch_size < 1:
        raise ValueError(f'--batch-size must be >= 1, got {args.batch_size}.')
    init_distributed(args.launcher)
    device = args.device
    if args.launcher != 'none' and torch.cuda.is_available():
        device = f'cuda:{os.environ.get("LOCAL_RANK", 0)}'
    cfg = load_config(args.config, args.cfg_options)
    with trusted_pickle(args.trust_pickle):
        model = init_model(cfg, args.checkpoint, device=device)
    generator = get_sampling_generator(model, args.sample_model)
    truncation = check_truncation_option(args.truncation, '--truncation',
                                         generator)
    metrics = resolve_metrics(cfg, args)
    evaluator = Evaluator(metrics)
    real_dataloader = None
    waiting = [m for m in evaluator.metrics
               if getattr(m, 'needs_real_images', False)]
    if waiting:
        real_dataloader = Runner.build_dataloader(
            real_dataloader_config(cfg, waiting))
    results = evaluate_generator(
        generator,
        evaluator,
        seed=args.seed,
        batch_size=args.batch_size,
        truncation=truncation,
        real_dataloader=real_dataloader)
    if is_main_process():
        report(results, args, truncation, metrics)
    shutdown_distributed()


def report(results: dict, args, truncation, metrics: list):
    """Print the metrics and write them to ``args.out`` (rank 0 only)."""
    from mmengine.dist import get_dist_info

    from mmbiggan.utils.atomic import write_bytes_atomic
    for name, value in results.items():
        print(f'{name}: {value:.4f}')
    if args.out:
        record = dict(
            config=args.config,
            checkpoint=args.checkpoint,
            sample_model=args.sample_model,
            seed=args.seed,
            truncation=truncation,
            world_size=get_dist_info()[1],
            metrics={k: float(v) for k, v in results.items()},
            metric_configs=metrics)
        write_bytes_atomic(args.out,
                           (json.dumps(record, indent=2) + '\n').encode())
        print(f'Results written to {args.out}')


def run(argv=None):
    """Entry point under the scripts' one policy
    (:func:`mmbiggan.utils.errors.run`): user errors end in one line and
    exit status 2."""
    from mmbiggan.utils.errors import run as run_script
    sys.exit(run_script(main, argv))


if __name__ == '__main__':
    run()
