"""Sampling speed of this working tree against an earlier revision of
mmbiggan, through the public sampler both have.

    python benchmarks/bench_revision.py --base REV [--batch-sizes 1 8]
        [--rounds 3] [--calls 3] [--threads 1] [--no-append]

``git archive REV mmbiggan`` and the working tree's ``mmbiggan/`` are copied
to a temporary folder; each round runs one child process per side, in
turn, which builds the same full-width BigGAN-Deep-128 (random weights
from one seed, 51 rows of per-truncation statistics and 128 output-conv
channels as converted checkpoints have) and times ``--calls`` calls of
``mmbiggan.models.sampling.iter_samples`` (everything a tool pays per
sampling run: folding, where the revision folds, and the batches) after
one warm-up call. Reported: median seconds per call of each side, the
median ratio (base / this tree), and the largest difference between the
two sides' images (the same weights and inputs).

Used to check that a refactoring did not slow sampling down; the result
goes to stdout and, with the command, to benchmarks/RESULTS.md.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks import common  # noqa: E402

SECTION = 'Sampling: this tree against a revision (bench_revision.py)'
TRUNCATION = 0.4


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--base', required=True,
                        help='git revision to compare with (e.g. HEAD~3)')
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 8])
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--calls', type=int, default=3)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--no-append', action='store_true')
    # Child process mode.
    parser.add_argument('--child', help=argparse.SUPPRESS)
    parser.add_argument('--batch-size', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--images', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run_child(args):
    """Time the sampler of the mmbiggan package under ``args.child``."""
    sys.path.insert(0, args.child)
    import torch
    import mmbiggan
    if not osp.abspath(mmbiggan.__file__).startswith(args.child):
        sys.exit(f'imported {mmbiggan.__file__}, not the copy in '
                 f'{args.child}')
    from mmbiggan.models import BigGANDeepGenerator
    from mmbiggan.models.sampling import iter_samples
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    generator = BigGANDeepGenerator(
        128, num_classes=1000, base_channels=128, noise_size=128,
        shared_dim=128, num_bn_stats=51, out_conv_channels=128)
    rng = torch.Generator().manual_seed(1)
    noise = torch.randn(args.batch_size, 128, generator=rng).clamp(-2, 2) \
        * TRUNCATION
    labels = torch.randint(0, 1000, (args.batch_size, ), generator=rng)

    def sample():
        return torch.cat([
            s.images for s in iter_samples(generator, noise, labels,
                                           TRUNCATION, args.batch_size)])

    images = sample()
    seconds = []
    for _ in range(args.calls):
        start = time.perf_counter()
        sample()
        seconds.append(time.perf_counter() - start)
    torch.save(images, args.images)
    print(json.dumps(dict(seconds=seconds)))


def export_packages(base: str, folder: str) -> dict:
    """``{'base': path, 'tree': path}``, each holding an ``mmbiggan/``."""
    sides = dict(base=osp.join(folder, 'base'), tree=osp.join(folder, 'tree'))
    os.makedirs(sides['base'])
    archive = subprocess.run(['git', 'archive', base, 'mmbiggan'], cwd=ROOT,
                             capture_output=True, check=False)
    if archive.returncode:
        sys.exit(f'git archive {base} failed: '
                 f'{archive.stderr.decode().strip()}')
    subprocess.run(['tar', '-x', '-C', sides['base']], input=archive.stdout,
                   check=True)
    shutil.copytree(osp.join(ROOT, 'mmbiggan'),
                    osp.join(sides['tree'], 'mmbiggan'),
                    ignore=shutil.ignore_patterns('__pycache__'))
    return sides


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        run_child(args)
        return
    import torch
    common.set_threads(args.threads)  # for the machine line
    load_at_start = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        sides = export_packages(args.base, folder)
        for batch_size in args.batch_sizes:
            seconds = {name: [] for name in sides}
            for _ in range(args.rounds):
                for name, path in sides.items():
                    images = osp.join(folder, f'{name}.pt')
                    child = subprocess.run(
                        [sys.executable, osp.abspath(__file__), '--base',
                         args.base, '--child', path, '--batch-size',
                         str(batch_size), '--threads', str(args.threads),
                         '--calls', str(args.calls), '--images', images],
                        capture_output=True, text=True,
                        env=dict(os.environ,
                                 OMP_NUM_THREADS=str(args.threads)))
                    if child.returncode:
                        sys.exit(f'{name} child failed:\n{child.stderr}')
                    seconds[name].append(
                        common.median(json.loads(
                            child.stdout.splitlines()[-1])['seconds']))
            base_images, tree_images = (
                torch.load(osp.join(folder, f'{name}.pt'), weights_only=True)
                for name in ('base', 'tree'))
            diff = float((base_images - tree_images).abs().max())
            rows.append([
                batch_size, f'{common.median(seconds["base"]):.3f}',
                f'{common.median(seconds["tree"]):.3f}',
                f'{common.median_ratio(seconds["base"], seconds["tree"]):.3f}',
                f'{diff:.1e}'
            ])
            print(rows[-1], flush=True)
    command = 'python benchmarks/bench_revision.py ' + ' '.join(
        argv if argv is not None else sys.argv[1:])
    lines = [
        f'Command: `{command.strip()}`', '',
        f'Machine: {common.machine_line()}; load average at the start '
        f'{load_at_start:.1f}, at the end {os.getloadavg()[0]:.1f}', '',
        f'Full-width BigGAN-Deep-128 (random weights, 51 statistics rows, '
        f'128 output-conv channels), truncation {TRUNCATION}: seconds per '
        '`iter_samples` call of one batch (folding included where the '
        f'revision folds), median of {args.rounds} rounds of a child process '
        f'per side, each the median of {args.calls} calls; ratio = median '
        f'per-round ratio {args.base} / this tree (above 1: this tree is '
        'faster):', ''
    ] + common.markdown_table(
        ['batch', f's/call at {args.base}', 's/call, this tree',
         'ratio', 'max |image diff|'], rows)
    print('\n'.join(lines))
    if not args.no_append:
        common.append_results(SECTION, lines)


if __name__ == '__main__':
    main()
