"""What the benchmark scripts share: the machine description, interleaved
timing with medians, peak-memory measurement in child processes, appending
to RESULTS.md, and a full-width BigGAN-Deep-128 pair (pytorch-pretrained-
biggan and the same weights converted to mmbiggan by the project's
converter).

Timing method: candidates are run alternately (A, B, A, B, ...) in one
process, so a neighbour's load on a shared machine hits both alike; each
figure is the median of the per-round times and each ratio the median of
the per-round ratios.
"""
import datetime
import json
import os
import os.path as osp
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F

RESULTS_PATH = osp.join(osp.dirname(osp.abspath(__file__)), 'RESULTS.md')


def cpu_model() -> str:
    try:
        out = subprocess.run(['lscpu'], capture_output=True, text=True,
                             check=True).stdout
        for line in out.splitlines():
            if line.startswith('Model name:'):
                return line.split(':', 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or 'unknown CPU'


def machine_line() -> str:
    """One line naming the CPU, cores, threads and library versions."""
    return (f'{cpu_model()}, {os.cpu_count()} cores, '
            f'{torch.get_num_threads()} torch threads, torch '
            f'{torch.__version__}, Python {platform.python_version()}, '
            f'{datetime.date.today().isoformat()}')


def interleaved(candidates: Dict[str, Callable[[], None]],
                rounds: int,
                warmup: int = 1) -> Dict[str, List[float]]:
    """Run every candidate once per round, alternating the order of the
    rounds (ABAB.. then BABA..) so neither always follows the other.

    Returns:
        dict: name -> list of ``rounds`` wall times in seconds.
    """
    names = list(candidates)
    for _ in range(warmup):
        for name in names:
            candidates[name]()
    times = {name: [] for name in names}
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            start = time.perf_counter()
            candidates[name]()
            times[name].append(time.perf_counter() - start)
    return times


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def median_ratio(slow: Sequence[float], fast: Sequence[float]) -> float:
    """Median over rounds of ``slow / fast`` (> 1: ``fast`` is faster)."""
    return statistics.median(s / f for s, f in zip(slow, fast))


def _proc_status_mib(field: str) -> Optional[float]:
    """A memory line of Linux's /proc/self/status in MiB, or None."""
    try:
        with open('/proc/self/status', encoding='ascii') as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def max_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB.

    Linux's ``VmHWM`` (the peak of this program's own address space):
    ``getrusage``'s ``ru_maxrss`` of a child started with ``subprocess``
    starts at the parent's resident size at the fork, so it would charge a
    child with whatever its parent held.
    """
    peak = _proc_status_mib('VmHWM')
    if peak is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return peak


def current_rss_mib() -> float:
    """Resident memory of this process now, in MiB (NaN off Linux)."""
    rss = _proc_status_mib('VmRSS')
    return float('nan') if rss is None else rss


def peak_memory_in_child(module: str, args: Sequence[str]) -> dict:
    """Run ``python -m module *args`` and parse the JSON it prints last:
    child processes start with a fresh peak, so each measurement is the
    candidate's own."""
    env = dict(os.environ)
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    env['PYTHONPATH'] = root + os.pathsep + env.get('PYTHONPATH', '')
    out = subprocess.run([sys.executable, '-m', module, *args],
                         capture_output=True, text=True, env=env, cwd=root)
    if out.returncode:
        raise RuntimeError(f'{module} {" ".join(args)} failed:\n'
                           f'{out.stderr[-3000:]}')
    return json.loads(out.stdout.strip().splitlines()[-1])


def append_results(section: str, lines: List[str]):
    """Replace the section titled ``section`` in RESULTS.md (or append it),
    leaving the other sections as they are."""
    title = f'## {section}'
    text = ''
    if osp.exists(RESULTS_PATH):
        with open(RESULTS_PATH, encoding='utf-8') as f:
            text = f.read()
    body = '\n'.join([title, ''] + lines).rstrip() + '\n'
    if title + '\n' in text:
        start = text.index(title + '\n')
        end = text.find('\n## ', start + len(title))
        rest = '' if end < 0 else text[end + 1:]
        text = text[:start] + body + ('\n' + rest if rest else '')
    else:
        if not text:
            text = '# Benchmark results\n\n'
        text = text.rstrip() + '\n\n' + body
    with open(RESULTS_PATH, 'w', encoding='utf-8') as f:
        f.write(text)


def markdown_table(header: Sequence[str], rows: List[Sequence]) -> List[str]:
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '|'.join('---' for _ in header) + '|']
    for row in rows:
        lines.append('| ' + ' | '.join(str(c) for c in row) + ' |')
    return lines


# --- A full-width BigGAN-Deep-128 with sane random weights ----------------


@torch.no_grad()
def make_reference_biggan_deep(seed: int = 0, channel_width: int = 128):
    """A pytorch-pretrained-biggan ``BigGAN`` of the released 128x128
    layout with random weights that give finite, varied images: the output
    batch norm's affine set (the reference leaves it uninitialised), every
    spectral-norm pair brought near the top singular pair by power
    iterations, and the per-truncation statistics of every batch norm set
    to the activations' own (perturbed per row), so no layer saturates."""
    from pytorch_pretrained_biggan import BigGAN, BigGANConfig
    from pytorch_pretrained_biggan.model import BigGANBatchNorm
    config = BigGANConfig(channel_width=channel_width)
    torch.manual_seed(seed)
    model = BigGAN(config).eval()
    gen = torch.Generator().manual_seed(seed + 1)
    model.embeddings.weight.normal_(0, 0.5, generator=gen)
    model.generator.bn.weight.fill_(1.0)
    model.generator.bn.bias.zero_()
    for name, param in model.named_parameters():
        if name.endswith('gamma'):
            param.fill_(0.5)
    for module in model.modules():
        if hasattr(module, 'weight_orig'):
            matrix = module.weight_orig.reshape(module.weight_orig.shape[0],
                                                -1)
            u = torch.randn(matrix.shape[0], generator=gen)
            for _ in range(10):
                v = F.normalize(matrix.t() @ u, dim=0, eps=config.eps)
                u = F.normalize(matrix @ v, dim=0, eps=config.eps)
            module.weight_u.copy_(u)
            module.weight_v.copy_(v)

    def calibrate(module, inputs):
        x = inputs[0]
        mean, var = x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3))
        rows = module.running_means.shape[0]
        jitter = torch.randn((2, rows, x.shape[1]), generator=gen)
        module.running_means.copy_(mean + 0.1 * var.sqrt() * jitter[0])
        module.running_vars.copy_(var * torch.exp(0.1 * jitter[1]))

    hooks = [m.register_forward_pre_hook(calibrate) for m in model.modules()
             if isinstance(m, BigGANBatchNorm)]
    z = torch.randn((8, config.z_dim), generator=gen)
    labels = torch.randint(0, config.num_classes, (8, ), generator=gen)
    model(z, F.one_hot(labels, config.num_classes).float(), 1.0)
    for hook in hooks:
        hook.remove()
    return model, config


def converted_network(reference, config):
    """The mmbiggan ``ConvertedNetwork`` (``cfg`` and ``state_dict``) of
    ``reference``, through the project's converter: written to a temporary
    pytorch-pretrained-biggan folder and converted as users do."""
    from mmbiggan.converters import convert_pytorch_pretrained_biggan
    with tempfile.TemporaryDirectory() as folder:
        torch.save(reference.state_dict(),
                   osp.join(folder, 'pytorch_model.bin'))
        with open(osp.join(folder, 'config.json'), 'w',
                  encoding='utf-8') as f:
            f.write(config.to_json_string())
        return convert_pytorch_pretrained_biggan(folder).networks[
            'generator']


def build_generator(cfg: dict, state_dict: dict):
    """The mmbiggan generator of ``cfg`` with ``state_dict`` loaded, in
    eval mode."""
    from mmengine.registry import init_default_scope

    from mmbiggan.registry import MODELS
    init_default_scope('mmbiggan')
    generator = MODELS.build(dict(cfg))
    generator.load_state_dict(state_dict, strict=True)
    return generator.eval()


def sampling_inputs(batch_size: int, seed: int = 0,
                    truncation: float = 0.4,
                    num_classes: int = 1000):
    """Truncated noise, int labels and their one-hot vectors."""
    from mmbiggan.models.layers.truncation import sample_truncated_noise
    gen = torch.Generator().manual_seed(seed)
    noise = sample_truncated_noise(batch_size, 128, truncation,
                                   generator=gen)
    labels = torch.randint(0, num_classes, (batch_size, ), generator=gen)
    return noise, labels, F.one_hot(labels, num_classes).float()


def set_threads(threads: Optional[int]):
    if threads:
        torch.set_num_threads(threads)
