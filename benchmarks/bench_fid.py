"""FID and evaluation speed.

    python benchmarks/bench_fid.py [--rounds 3] [--eval-images 64]
        [--stats-images 128] [--batch-size 16] [--threads N] [--no-append]

1. The Fréchet distance from two 2048x2048 covariances: mmbiggan's
   :func:`frechet_distance` against ``scipy.linalg.sqrtm`` (MMGeneration's
   and pytorch-fid's method) and two other candidates, timed interleaved in
   one process (medians of ``--rounds``). Each FID is compared with an
   exact reference: ``tr sqrt(S1 S2)`` is the sum of the singular values of
   ``A1^T A2`` for the centred features (``S = A A^T``), which needs no
   matrix square root. Two cases: 5000 vs 5000 samples (full rank) and
   1000 vs 5000 (fewer samples than dimensions, as FID1k during training).
2. Evaluation throughput: images/s of :func:`evaluate_generator` (a 32x32
   BigGAN, FID + IS through the full Inception-v3, random weights in
   pytorch-fid's layout) and of the statistics extraction of
   ``tools/utils/inception_stat.py`` on 32x32 images, with the peak memory
   of each in its own process.

The table goes to stdout and, with the command, to benchmarks/RESULTS.md.
"""
import argparse
import json
import os
import os.path as osp
import sys
import tempfile
import time
import warnings

import numpy as np
import scipy.linalg

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks import common  # noqa: E402
from mmbiggan.evaluation.functional import (feature_statistics,  # noqa: E402
                                            frechet_distance)

DIM = 2048


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--eval-images', type=int, default=64)
    parser.add_argument('--stats-images', type=int, default=128)
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument(
        '--threads', type=int,
        help='torch and BLAS threads (on a shared machine 1 gives steadier '
        'times: idle OpenBLAS threads spin)')
    parser.add_argument('--no-append', action='store_true')
    # Child process mode: measure one stage with the given weight file.
    parser.add_argument('--measure', choices=['eval', 'stats'],
                        help=argparse.SUPPRESS)
    parser.add_argument('--inception-file', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- Candidates for the Fréchet distance -----------------------------------


def fid_sqrtm(mu1, s1, mu2, s2):
    """MMGeneration / pytorch-fid: scipy's Schur-based square root of
    S1 S2, with their offset retry when it is not finite."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        root = scipy.linalg.sqrtm(s1 @ s2)
        if not np.isfinite(root).all():
            offset = np.eye(len(s1)) * 1e-6
            root = scipy.linalg.sqrtm((s1 + offset) @ (s2 + offset))
    diff = mu1 - mu2
    return diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(root).real


def fid_eigvals(mu1, s1, mu2, s2):
    """Square roots of the (general, non-symmetric) eigenvalues of S1 S2."""
    eig = scipy.linalg.eigvals(s1 @ s2)
    diff = mu1 - mu2
    return diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(
        eig.astype(complex)).real.sum()


def fid_symmetric_eigh(mu1, s1, mu2, s2):
    """sqrt(S1) from eigh, then the eigenvalues of sqrt(S1) S2 sqrt(S1),
    without Cholesky or the rank bound."""
    w, v = scipy.linalg.eigh(s1, driver='evd')
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    eig = scipy.linalg.eigvalsh(root1 @ s2 @ root1, driver='evd')
    diff = mu1 - mu2
    return diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(
        np.clip(eig, 0, None)).sum()


def relu_features(rng, num, mixing):
    """Non-negative, correlated 2048-d features like Inception pool_3."""
    return np.maximum(rng.standard_normal((num, DIM)) @ mixing + 0.3, 0)


def exact_fid(x1, x2):
    a1 = (x1 - x1.mean(0)) / np.sqrt(len(x1) - 1)
    a2 = (x2 - x2.mean(0)) / np.sqrt(len(x2) - 1)
    trace = scipy.linalg.svdvals(a1 @ a2.T).sum()
    diff = x1.mean(0) - x2.mean(0)
    return diff @ diff + (a1 * a1).sum() + (a2 * a2).sum() - 2 * trace


def bench_fid_methods(rounds):
    rng = np.random.default_rng(0)
    mixing = rng.standard_normal((DIM, DIM)) * 0.03
    rows = []
    for n1, n2 in [(5000, 5000), (1000, 5000)]:
        x1 = relu_features(rng, n1, mixing)
        x2 = relu_features(rng, n2, mixing) * 1.05
        reference = exact_fid(x1, x2)
        (mu1, s1), (mu2, s2) = feature_statistics(x1), feature_statistics(x2)
        results = {}

        def run(name, fn):
            return lambda: results.__setitem__(name, fn())

        candidates = {
            'mmbiggan frechet_distance': run(
                'mmbiggan frechet_distance',
                lambda: frechet_distance(mu1, s1, mu2, s2, (n1, n2)).fid),
            'scipy.linalg.sqrtm (MMGeneration, pytorch-fid)': run(
                'scipy.linalg.sqrtm (MMGeneration, pytorch-fid)',
                lambda: fid_sqrtm(mu1, s1, mu2, s2)),
            'eigvals(S1 S2)': run('eigvals(S1 S2)',
                                  lambda: fid_eigvals(mu1, s1, mu2, s2)),
            'eigvalsh(sqrt(S1) S2 sqrt(S1))': run(
                'eigvalsh(sqrt(S1) S2 sqrt(S1))',
                lambda: fid_symmetric_eigh(mu1, s1, mu2, s2)),
        }
        times = common.interleaved(candidates, rounds, warmup=0)
        ours = times['mmbiggan frechet_distance']
        for name, values in times.items():
            rows.append([
                f'{n1} vs {n2}', name, f'{common.median(values):.2f}',
                f'{common.median_ratio(values, ours):.1f}x',
                f'{results[name]:.6f}',
                f'{abs(results[name] - reference):.1e}'
            ])
        print(f'{n1} vs {n2} samples: exact FID {reference:.6f}', flush=True)
    return rows


# --- Throughput and memory, each measured in a fresh child process --------


def make_inception_file(folder):
    """pytorch-fid's file layout with random weights (same cost as the
    real network)."""
    import torch
    import torch.nn as nn

    from mmbiggan.evaluation import FIDInceptionV3
    torch.manual_seed(0)
    net = FIDInceptionV3()
    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, nonlinearity='relu')
    path = osp.join(folder, 'pt_inception.pth')
    torch.save(net.state_dict(), path)
    return path


def measure_eval(args):
    import torch
    from mmengine.evaluator import Evaluator

    from mmbiggan.evaluation import FID, IS, evaluate_generator
    from mmbiggan.evaluation.inception_stats import save_inception_stats
    from mmbiggan.models import BigGANGenerator
    inception_args = dict(
        type='PyTorchFID', inception_path=args.inception_file)
    with tempfile.TemporaryDirectory() as folder:
        pkl = osp.join(folder, 'real.pkl')
        save_inception_stats(pkl, np.zeros(DIM), np.eye(DIM), 50000,
                             'PyTorchFID')
        torch.manual_seed(0)
        generator = BigGANGenerator(
            32, noise_size=128, num_classes=10, base_channels=64,
            with_shared_embedding=False, split_noise=False,
            auto_sync_bn=False).eval()
        evaluator = Evaluator([
            FID(num_images=args.eval_images, inception_args=inception_args,
                inception_pkl=pkl),
            IS(num_images=args.eval_images, inception_args=inception_args)
        ])
        evaluate_generator(generator, evaluator, batch_size=args.batch_size,
                           progress=False)  # warm-up
        start = time.perf_counter()
        evaluate_generator(generator, evaluator, batch_size=args.batch_size,
                           progress=False)
        seconds = time.perf_counter() - start
    return dict(images_per_s=args.eval_images / seconds,
                peak_mib=common.max_rss_mib())


def measure_stats(args):
    import torch
    from mmengine.dataset import pseudo_collate
    from torch.utils.data import DataLoader

    from mmbiggan.evaluation import build_inception, dataset_features
    inception = build_inception(
        dict(type='PyTorchFID', inception_path=args.inception_file))
    images = torch.randint(0, 256, (args.stats_images, 3, 32, 32),
                           dtype=torch.uint8)
    loader = DataLoader(list(images), batch_size=args.batch_size,
                        collate_fn=pseudo_collate)
    dataset_features(loader, inception, progress=False)  # warm-up
    start = time.perf_counter()
    features = np.stack(dataset_features(loader, inception, progress=False))
    feature_statistics(features)
    seconds = time.perf_counter() - start
    return dict(images_per_s=args.stats_images / seconds,
                peak_mib=common.max_rss_mib())


def main(argv=None):
    args = parse_args(argv)
    common.set_threads(args.threads)
    if args.threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(limits=args.threads)
    if args.measure:
        measure = measure_eval if args.measure == 'eval' else measure_stats
        print(json.dumps(measure(args)))
        return
    child_args = ['--batch-size', str(args.batch_size), '--eval-images',
                  str(args.eval_images), '--stats-images',
                  str(args.stats_images)]
    if args.threads:
        child_args += ['--threads', str(args.threads)]
    load_at_start = os.getloadavg()[0]
    fid_rows = bench_fid_methods(args.rounds)
    throughput = []
    with tempfile.TemporaryDirectory() as folder:
        child_args += ['--inception-file', make_inception_file(folder)]
        for mode, what in [('eval', 'sampling + Inception (FID + IS)'),
                           ('stats', 'statistics extraction')]:
            runs = [
                common.peak_memory_in_child('benchmarks.bench_fid',
                                            ['--measure', mode] + child_args)
                for _ in range(args.rounds)
            ]
            throughput.append([
                what,
                f'{common.median([r["images_per_s"] for r in runs]):.2f}',
                f'{max(r["peak_mib"] for r in runs):.0f}'
            ])
    command = 'python benchmarks/bench_fid.py ' + ' '.join(
        a for a in (argv if argv is not None else sys.argv[1:]))
    lines = [
        f'Command: `{command.strip()}`', '',
        f'Machine: {common.machine_line()}, BLAS threads '
        f'{args.threads or "default"}; load average at the start '
        f'{load_at_start:.1f}, at the end {os.getloadavg()[0]:.1f}', '',
        'Fréchet distance from two 2048x2048 covariances (median seconds '
        f'of {args.rounds} interleaved rounds; speed-up = median per-round '
        'time ratio against mmbiggan; error against the exact FID from the '
        'singular values of A1^T A2):', ''
    ] + common.markdown_table(
        ['samples', 'method', 'seconds', 'mmbiggan faster by', 'FID',
         '|FID - exact|'], fid_rows) + [
        '', f'Throughput on 32x32 images, batch {args.batch_size} '
        f'({args.eval_images} generated / {args.stats_images} real images, '
        f'full Inception-v3 at 299x299; median of {args.rounds} child '
        'processes, peak resident memory the largest):', ''
    ] + common.markdown_table(['stage', 'images/s', 'peak MiB'],
                              throughput)
    print('\n'.join(lines))
    if not args.no_append:
        common.append_results('FID / IS evaluation (bench_fid.py)', lines)


if __name__ == '__main__':
    main()
