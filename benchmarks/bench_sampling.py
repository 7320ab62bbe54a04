"""Sampling throughput of full-width BigGAN-Deep-128 against
pytorch-pretrained-biggan.

    python benchmarks/bench_sampling.py [--batch-sizes 1 8 32] [--rounds 5]
        [--truncation 0.4] [--threads N] [--no-append]

Both generators hold the same weights: a pytorch-pretrained-biggan
``BigGAN(BigGANConfig())`` (released 128x128 layout, random but sane
weights, see ``common.make_reference_biggan_deep``) and its conversion by
mmbiggan's converter. Both get the same truncated noise, one-hot class
vectors and truncation, in eval mode without autograd; their images must
agree to ``--tolerance`` (1e-4) or the script stops before timing.

For each batch size: images/s of each candidate (median of ``--rounds``
interleaved rounds): the reference, mmbiggan's generator folded for
sampling (``fold_for_inference``, what every mmbiggan sampler runs; folded
once, outside the timing, whose cost is reported on its own), the same with
channels_last weights, and the unfolded generator in eval mode; the
speed-up (median of the per-round time ratios), and the floor that bounds
the speed: the time of just the convolutions and matrix products
(attention included) each generator runs, replayed one by one with the
same shapes, strides and kernels, and their GFLOP per image.
Peak resident memory of each candidate comes from its own child process.

The table goes to stdout and, with the command, to benchmarks/RESULTS.md.
"""
import argparse
import json
import os
import os.path as osp
import sys
import tempfile
import time

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_map

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks import common  # noqa: E402
from mmbiggan.models import fold_for_inference  # noqa: E402

SECTION = 'Sampling: BigGAN-Deep-128 (bench_sampling.py)'
aten = torch.ops.aten
# The arithmetic that no reorganisation of the network removes.
FLOOR_OPS = {
    aten.convolution.default: 'conv',
    aten.addmm.default: 'matmul',
    aten.mm.default: 'matmul',
    aten.bmm.default: 'matmul',
    aten.baddbmm.default: 'matmul',
    aten._scaled_dot_product_flash_attention_for_cpu.default: 'matmul',
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch-sizes', type=int, nargs='+',
                        default=[1, 8, 32])
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--truncation', type=float, default=0.4)
    parser.add_argument('--tolerance', type=float, default=1e-4)
    parser.add_argument(
        '--threads', type=int,
        help='torch threads (default: torch\'s choice); 1 gives the '
        'steadiest times on a shared machine')
    parser.add_argument('--no-append', action='store_true')
    # Child process mode: peak memory of one candidate.
    parser.add_argument('--measure', choices=['reference', 'mmbiggan'],
                        help=argparse.SUPPRESS)
    parser.add_argument('--model-dir', help=argparse.SUPPRESS)
    parser.add_argument('--batch-size', type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- Models --------------------------------------------------------------


def save_models(reference, config, converted, folder):
    """The two generators as the children load them: the reference's own
    folder layout, and mmbiggan's config with the converted state dict."""
    from mmbiggan.utils.checkpoint import save_checkpoint_atomic
    torch.save(reference.state_dict(), osp.join(folder, 'pytorch_model.bin'))
    with open(osp.join(folder, 'config.json'), 'w', encoding='utf-8') as f:
        f.write(config.to_json_string())
    save_checkpoint_atomic(
        dict(cfg=dict(converted.cfg), state_dict=converted.state_dict),
        osp.join(folder, 'mmbiggan.pth'))


def load_model(kind, folder, truncation):
    if kind == 'reference':
        from pytorch_pretrained_biggan import BigGAN, BigGANConfig
        config = BigGANConfig.from_json_file(osp.join(folder, 'config.json'))
        model = BigGAN(config)
        model.load_state_dict(
            torch.load(osp.join(folder, 'pytorch_model.bin'),
                       weights_only=True))
        return model.eval()
    from mmbiggan.utils.checkpoint import load_checkpoint_file
    saved = load_checkpoint_file(osp.join(folder, 'mmbiggan.pth'))
    generator = common.build_generator(saved['cfg'], saved['state_dict'])
    return fold_for_inference(generator, truncation)


def sampler(kind, model, noise, class_vector, truncation):
    """A call drawing one batch without autograd."""
    if kind == 'reference':
        def run():
            with torch.no_grad():
                return model(noise, class_vector, truncation)
    else:
        def run():
            with torch.no_grad():
                return model(noise, class_vector, truncation=truncation)
    return run


# --- The floor: convolutions and matrix products alone ---------------------


class TensorSpec:
    """Shape, strides and dtype of a recorded tensor argument (a plain
    object, so pytree functions treat it as a leaf)."""

    def __init__(self, tensor: torch.Tensor):
        self.shape = tuple(tensor.shape)
        self.stride = tuple(tensor.stride())
        self.dtype = tensor.dtype

    def make(self) -> torch.Tensor:
        # Random storage viewed with the recorded strides (expanded
        # arguments have zero strides).
        size = 1 + sum((n - 1) * s for n, s in zip(self.shape, self.stride))
        return torch.randn(size, dtype=self.dtype).as_strided(
            self.shape, self.stride)


class RecordFloorOps(TorchDispatchMode):
    """Records every convolution / matrix product with the shapes, strides
    and dtypes of its tensor arguments."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in FLOOR_OPS:
            def describe(value):
                return TensorSpec(value) if isinstance(
                    value, torch.Tensor) else value
            self.calls.append((func, tree_map(describe, args),
                               tree_map(describe, kwargs)))
        return func(*args, **kwargs)


def op_flops(func, args) -> float:
    """Multiply-adds x 2 of one recorded call."""
    shape = [a.shape if isinstance(a, TensorSpec) else None for a in args]
    if func is aten.convolution.default:
        (n, _, *_), (out_c, in_per_group, kh, kw) = shape[0], shape[1]
        stride, padding, dilation = args[3], args[4], args[5]
        h, w = shape[0][2], shape[0][3]
        oh = (h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
        ow = (w + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
        return 2.0 * n * out_c * oh * ow * in_per_group * kh * kw
    if func is aten._scaled_dot_product_flash_attention_for_cpu.default:
        (n, heads, length, dim), (_, _, source, _) = shape[0], shape[1]
        value_dim = shape[2][3]
        return 2.0 * n * heads * length * source * (dim + value_dim)
    a, b = (shape[1], shape[2]) if func in (aten.addmm.default,
                                            aten.baddbmm.default) else (
        shape[0], shape[1])
    batch = a[0] if len(a) == 3 else 1
    return 2.0 * batch * a[-2] * a[-1] * b[-1]


def floor_seconds(calls, min_time: float = 0.02) -> float:
    """Sum over the recorded calls of each call's median time, replayed on
    random tensors of the recorded layout (allocated outside the timing)."""
    total = 0.0
    for func, args, kwargs in calls:
        def make(value):
            return value.make() if isinstance(value, TensorSpec) else value
        real_args, real_kwargs = tree_map(make, args), tree_map(make, kwargs)
        times, spent = [], 0.0
        while len(times) < 3 or (spent < min_time and len(times) < 25):
            start = time.perf_counter()
            func(*real_args, **real_kwargs)
            times.append(time.perf_counter() - start)
            spent += times[-1]
        total += common.median(times)
    return total


def floor_of(run):
    recorder = RecordFloorOps()
    with recorder:
        run()
    flops = sum(op_flops(func, args) for func, args, _ in recorder.calls)
    return floor_seconds(recorder.calls), flops


# --- Peak memory (child process) -------------------------------------------


def measure_memory(args):
    model = load_model(args.measure, args.model_dir, args.truncation)
    noise, _, class_vector = common.sampling_inputs(args.batch_size)
    loaded = common.current_rss_mib()
    run = sampler(args.measure, model, noise, class_vector, args.truncation)
    run()
    run()  # the second call is the steady state
    return dict(peak_mib=common.max_rss_mib(), loaded_mib=loaded)


# --- Main ------------------------------------------------------------------


def main(argv=None):
    args = parse_args(argv)
    common.set_threads(args.threads)
    if args.measure:
        print(json.dumps(measure_memory(args)))
        return
    load_at_start = os.getloadavg()[0]
    print('Building the reference and converting it ...', flush=True)
    reference, config = common.make_reference_biggan_deep()
    converted = common.converted_network(reference, config)
    generator = common.build_generator(converted.cfg, converted.state_dict)
    fold_seconds = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        folded = fold_for_inference(generator, args.truncation)
        fold_seconds.append(time.perf_counter() - start)
    channels_last = fold_for_inference(generator, args.truncation).to(
        memory_format=torch.channels_last)
    names = {
        'reference': 'pytorch-pretrained-biggan',
        'mmbiggan': 'mmbiggan (folded)',
        'channels_last': 'mmbiggan (folded), channels_last',
        'unfolded': 'mmbiggan, not folded (eval mode)',
    }
    speed_rows, floor_rows, failures = [], [], []
    for batch_size in args.batch_sizes:
        noise, _, class_vector = common.sampling_inputs(
            batch_size, truncation=args.truncation)
        runs = {
            'reference': sampler('reference', reference, noise,
                                 class_vector, args.truncation),
            'mmbiggan': sampler('mmbiggan', folded, noise, class_vector,
                                args.truncation),
            'channels_last': sampler('mmbiggan', channels_last, noise,
                                     class_vector, args.truncation),
            'unfolded': sampler('mmbiggan', generator.eval(), noise,
                                class_vector, args.truncation),
        }
        expected = runs['reference']()
        diffs = {name: float((run() - expected).abs().max())
                 for name, run in runs.items() if name != 'reference'}
        print(f'batch {batch_size}: max |mmbiggan - reference| '
              f'{diffs["mmbiggan"]:.1e}', flush=True)
        failures += [f'{names[n]} at batch {batch_size}: {d:.1e}'
                     for n, d in diffs.items() if not d <= args.tolerance]
        if failures:
            break
        times = common.interleaved(runs, args.rounds)
        for name in runs:
            speed_rows.append([
                batch_size, names[name],
                f'{batch_size / common.median(times[name]):.2f}',
                f'{common.median(times[name]):.3f}',
                f'{common.median_ratio(times["reference"], times[name]):.2f}x',
                '' if name == 'reference' else f'{diffs[name]:.1e}'
            ])
        for name in ('reference', 'mmbiggan'):
            seconds, flops = floor_of(runs[name])
            floor_rows.append([
                batch_size, names[name], f'{flops / batch_size / 1e9:.2f}',
                f'{seconds:.3f}', f'{common.median(times[name]):.3f}',
                f'{100 * seconds / common.median(times[name]):.0f}%'
            ])
        print('\n'.join(common.markdown_table(
            ['batch', 'implementation', 'images/s', 's/batch',
             'speed-up vs reference', 'max |diff|'], speed_rows[-4:])),
            flush=True)
    if failures:
        sys.exit('Outputs disagree beyond --tolerance '
                 f'{args.tolerance:g}: ' + '; '.join(failures) +
                 '. Nothing was timed or written.')

    memory_rows = []
    with tempfile.TemporaryDirectory() as folder:
        save_models(reference, config, converted, folder)
        for batch_size in args.batch_sizes:
            row = [batch_size]
            for kind in ('reference', 'mmbiggan'):
                child = ['--measure', kind, '--model-dir', folder,
                         '--batch-size', str(batch_size), '--truncation',
                         str(args.truncation)]
                if args.threads:
                    child += ['--threads', str(args.threads)]
                result = common.peak_memory_in_child(
                    'benchmarks.bench_sampling', child)
                row += [f'{result["peak_mib"]:.0f}',
                        f'{result["peak_mib"] - result["loaded_mib"]:.0f}']
            memory_rows.append(row)

    command = 'python benchmarks/bench_sampling.py ' + ' '.join(
        argv if argv is not None else sys.argv[1:])
    lines = [
        f'Command: `{command.strip()}`', '',
        f'Machine: {common.machine_line()}; load average at the start '
        f'{load_at_start:.1f}, at the end {os.getloadavg()[0]:.1f}', '',
        'Full-width BigGAN-Deep-128 (`BigGANConfig()`, 1000 classes), the '
        'same weights in both (converted by mmbiggan), the same truncated '
        f'noise, one-hot class vectors and truncation {args.truncation}, '
        'eval mode, no autograd. Median of '
        f'{args.rounds} interleaved rounds; speed-up = median per-round time '
        'ratio; max |diff| against the reference images. Folding (once per '
        'sampling run, not in these times) took '
        f'{common.median(fold_seconds):.3f} s (median of {args.rounds}).', ''
    ] + common.markdown_table(
        ['batch', 'implementation', 'images/s', 's/batch',
         'speed-up vs reference', 'max |diff|'], speed_rows) + [
        '', 'The floor: only the convolutions and matrix products (attention '
        'included) each generator runs, replayed one by one with the same '
        'shapes and kernels (sum of per-call medians), against the '
        'measured time per batch:', ''
    ] + common.markdown_table(
        ['batch', 'implementation', 'GFLOP/image', 'floor s/batch',
         'measured s/batch', 'floor share'], floor_rows) + [
        '', 'Peak resident memory in MiB (a child process per cell: load, '
        'then two batches; "sampling" = peak minus the resident size after '
        'loading):', ''
    ] + common.markdown_table(
        ['batch', 'reference peak', 'reference sampling', 'mmbiggan peak',
         'mmbiggan sampling'], memory_rows)
    print('\n'.join(lines))
    if not args.no_append:
        common.append_results(SECTION, lines)


if __name__ == '__main__':
    main()
