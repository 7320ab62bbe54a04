"""Training iteration time: mmengine's Runner against a minimal
hand-written PyTorch loop doing the same arithmetic.

    python benchmarks/bench_training.py [--recipes cifar10 imagenet128]
        [--rounds 5] [--warmup 1] [--imagenet-width 8]
        [--imagenet-batch 8] [--threads 1] [--no-append]

Recipes, built from the real configs through ``tools/train.py``'s config
building (so every hook a user gets runs), with random in-memory images
(``num_workers=0``), validation off and the EMA averaging from the first
iteration (its steady state):

* ``cifar10``: ``configs/biggan/biggan_cifar10_32x32_b25x2_500k.py`` as is
  (batch 25, 4 D steps per G step): a cycle is 4 runner iterations.
* ``imagenet128``: ``configs/biggan/biggan_ajbrock-sn_imagenet1k_128x128_
  b32x8_1500k.py`` at ``--imagenet-width`` channels (G and D) instead of 96
  and batch ``--imagenet-batch``, its 8 accumulated batches per update for
  D and G: a cycle is 8 runner iterations.

The hand-written loop builds the same networks from the config and does one
cycle as a user would write it: per D batch ``uint8 -> [-1, 1]``, fakes
under ``no_grad``, one D forward on ``[fake, real]``, hinge loss, backward
(divided by the accumulation), Adam step and ``zero_grad`` at the
accumulation boundary; then D frozen, the G batches, G's Adam step, and the
EMA of every parameter and buffer. Its input batches are the ones the
Runner has just trained on, pre-stacked as uint8 tensors, so everything
the Runner adds (dataset pipeline, collate, data preprocessor, optimizer
wrappers, hooks, logging) counts as its overhead.

Timing: in one process, each Runner cycle is followed by one hand-written
cycle (run from a hook, not counted in the Runner's time): the overhead is
the median over rounds of ``runner / hand - 1``. Before timing, both run
one cycle from the same weights, batches and random seed, and the weights
they reach must agree (printed as max |diff|). Peak resident memory of
each comes from its own child process.
"""
import os

# Before torch loads OpenMP (as tools/train.py): idle threads sleep.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import argparse  # noqa: E402
import copy  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os.path as osp  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from mmengine.dataset import BaseDataset  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks import common  # noqa: E402
from mmbiggan.registry import DATASETS, MODELS  # noqa: E402

SECTION = 'Training: Runner against a hand-written loop (bench_training.py)'
HEADER = ['recipe', 'Runner s/iter', 'hand s/iter', 'Runner overhead',
          'of which outside train_step', 'max |weight diff| after one cycle']
RECIPES = {
    'cifar10': dict(
        config='configs/biggan/biggan_cifar10_32x32_b25x2_500k.py',
        image_size=32),
    'imagenet128': dict(
        config='configs/biggan/'
        'biggan_ajbrock-sn_imagenet1k_128x128_b32x8_1500k.py',
        image_size=128),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--recipes', nargs='+', choices=sorted(RECIPES),
                        default=sorted(RECIPES))
    parser.add_argument('--rounds', type=int, default=5,
                        help='timed cycles of each loop')
    parser.add_argument('--warmup', type=int, default=1,
                        help='untimed cycles after the agreement check')
    parser.add_argument('--imagenet-width', type=int, default=8)
    parser.add_argument('--imagenet-batch', type=int, default=8)
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads (1: steadiest on a shared '
                        'machine)')
    parser.add_argument('--no-append', action='store_true')
    # Child process mode: peak memory of one loop.
    parser.add_argument('--measure', choices=['runner', 'hand'],
                        help=argparse.SUPPRESS)
    parser.add_argument('--recipe', choices=sorted(RECIPES),
                        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


@DATASETS.register_module(force=True)
class BenchRandomImages(BaseDataset):
    """``num_images`` random uint8 RGB squares with random labels, made
    once in memory (no I/O in the timed loop)."""

    def __init__(self, num_images: int, image_size: int, num_classes: int,
                 pipeline=()):
        self.num_images = num_images
        self.image_size = image_size
        self.num_classes = num_classes
        from mmbiggan.datasets.pipeline import build_pipeline
        super().__init__(pipeline=build_pipeline(pipeline),
                         serialize_data=False)

    def load_data_list(self):
        rng = np.random.default_rng(0)
        images = rng.integers(
            0, 256, (self.num_images, self.image_size, self.image_size, 3),
            dtype=np.uint8)
        labels = rng.integers(0, self.num_classes, self.num_images)
        return [dict(img=img, gt_label=int(label))
                for img, label in zip(images, labels)]


# --- Config ----------------------------------------------------------------


def load_train_tool():
    spec = importlib.util.spec_from_file_location(
        'mmbiggan_train_tool', osp.join(ROOT, 'tools', 'train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_cfg(recipe: str, args, work_dir: str, max_iters: int):
    """The recipe's config as ``tools/train.py`` builds it, with the
    benchmark's data, length and width."""
    tool = load_train_tool()
    spec = RECIPES[recipe]
    options = {
        'model.ema_config.start_iter': 0,
        'train_cfg.max_iters': max_iters,
        'train_cfg.val_interval': 10**9,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'default_hooks.checkpoint.save_last': False,
        # Quiet console; the logging hooks still run as configured.
        'log_level': 'WARNING',
    }
    if recipe == 'imagenet128':
        options.update({
            'model.generator.base_channels': args.imagenet_width,
            'model.discriminator.base_channels': args.imagenet_width,
            'train_dataloader.batch_size': args.imagenet_batch,
        })
    # Through the tool's own command line, so its switches keep their
    # defaults; validation is off (no Inception weights needed).
    cfg = tool.build_config(tool.parse_args(
        [osp.join(ROOT, spec['config']), '--work-dir', work_dir,
         '--no-validate', '--cfg-options'] +
        [f'{key}={value}' for key, value in options.items()]))
    cfg.train_dataloader.dataset = dict(
        type='BenchRandomImages',
        num_images=4 * cfg.train_dataloader.batch_size,
        image_size=spec['image_size'],
        num_classes=cfg.model.num_classes,
        pipeline=[dict(type='PackInputs')])
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.custom_hooks = []
    return cfg


def cycle_length(cfg) -> int:
    """Runner iterations per generator update."""
    d_accumulation = cfg.optim_wrapper.discriminator.get(
        'accumulative_counts', 1)
    return cfg.model.get('discriminator_steps', 1) * d_accumulation


# --- The hand-written loop ------------------------------------------------


class HandLoop:
    """One BigGAN training cycle in plain PyTorch (see the module
    docstring), on the networks and optimizer settings of ``cfg``."""

    def __init__(self, cfg):
        from mmengine.registry import init_default_scope
        init_default_scope('mmbiggan')
        model = cfg.model
        self.generator = MODELS.build(
            dict(model.generator, num_classes=model.num_classes))
        self.discriminator = MODELS.build(
            dict(model.discriminator, num_classes=model.num_classes))
        self.generator_ema = copy.deepcopy(self.generator).requires_grad_(
            False)
        self.d_steps = model.get('discriminator_steps', 1)
        self.g_steps = model.get('generator_steps', 1)
        self.momentum = model.ema_config['momentum']
        self.buffer_momentum = model.ema_config.get('buffer_momentum',
                                                    self.momentum)
        wrappers = cfg.optim_wrapper
        self.d_accumulation = wrappers.discriminator.get(
            'accumulative_counts', 1)
        self.g_accumulation = wrappers.generator.get('accumulative_counts', 1)
        self.d_optim = self._adam(self.discriminator,
                                  wrappers.discriminator.optimizer)
        self.g_optim = self._adam(self.generator,
                                  wrappers.generator.optimizer)
        self.num_classes = model.num_classes
        self.noise_size = self.generator.noise_size

    @staticmethod
    def _adam(module, optimizer_cfg):
        kwargs = {k: v for k, v in optimizer_cfg.items() if k != 'type'}
        assert optimizer_cfg['type'] == 'Adam', optimizer_cfg
        return torch.optim.Adam(module.parameters(), **kwargs)

    def load(self, networks: dict):
        for name, state in networks.items():
            getattr(self, name).load_state_dict(state)

    def latents(self, batch_size):
        return (torch.randn(batch_size, self.noise_size),
                torch.randint(0, self.num_classes, (batch_size, )))

    def cycle(self, batches):
        """``batches``: ``(uint8 images [N, 3, H, W], labels [N])``, one
        per discriminator batch of the cycle."""
        G, D = self.generator, self.discriminator
        G.train()
        D.train()
        for step, (images, labels) in enumerate(batches):
            real = images.float() / 127.5 - 1
            n = real.shape[0]
            with torch.no_grad():
                noise, fake_labels = self.latents(n)
                fakes = G(noise, fake_labels)
            logits = D(torch.cat([fakes, real]),
                       torch.cat([fake_labels, labels]))
            loss = F.relu(1 - logits[n:]).mean() + F.relu(
                1 + logits[:n]).mean()
            (loss / self.d_accumulation).backward()
            if (step + 1) % self.d_accumulation == 0:
                self.d_optim.step()
                self.d_optim.zero_grad()
        D.requires_grad_(False)
        for _ in range(self.g_steps):
            for _ in range(self.g_accumulation):
                noise, fake_labels = self.latents(n)
                loss = -D(G(noise, fake_labels), fake_labels).mean()
                (loss / self.g_accumulation).backward()
            self.g_optim.step()
            self.g_optim.zero_grad()
        D.requires_grad_(True)
        with torch.no_grad():
            params = dict(G.named_parameters())
            ema_state = self.generator_ema.state_dict()
            for key, value in G.state_dict().items():
                rate = self.momentum if key in params else \
                    self.buffer_momentum
                ema_state[key].mul_(rate).add_(value * (1 - rate))


def stack_batch(data_batch):
    """A Runner batch (list of uint8 images, data samples) as tensors."""
    images = torch.stack(list(data_batch['inputs']))
    labels = torch.stack([torch.as_tensor(s.gt_label).reshape(())
                          for s in data_batch['data_samples']]).long()
    return images, labels


def networks_state(model) -> dict:
    return {
        'generator': copy.deepcopy(model.generator.state_dict()),
        'discriminator': copy.deepcopy(model.discriminator.state_dict()),
        'generator_ema': copy.deepcopy(model.generator_ema.state_dict()),
    }


def max_state_diff(runner_state: dict, hand: HandLoop) -> float:
    worst = 0.0
    for name, state in runner_state.items():
        for key, value in getattr(hand, name).state_dict().items():
            if value.is_floating_point():
                worst = max(worst, float((value - state[key]).abs().max()))
    return worst


class InterleavedHandLoop(Hook):
    """Times the Runner's cycles and, after each, runs one hand-written
    cycle on the same batches (not counted in the Runner's time).

    Cycle 0 is the agreement check: the Runner and then the hand loop each
    run it from the same weights and seed; afterwards ``agreement`` holds
    the largest weight difference.
    """

    priority = 'HIGHEST'

    def __init__(self, hand: HandLoop, cycle: int, seed: int = 1234):
        self.hand = hand
        self.cycle = cycle
        self.seed = seed
        self.runner_times, self.hand_times, self.step_times = [], [], []
        self.batches = []
        self.elapsed = self.in_step = 0.0
        self.mark = None
        self.agreement = None

    def before_train(self, runner):
        self.hand.load(networks_state(runner.model))
        # Also time the model's train_step alone: the rest of the Runner's
        # time is its machinery (data pipeline, hooks, logging).
        model = runner.model
        train_step = model.train_step

        def timed_train_step(*args, **kwargs):
            start = time.perf_counter()
            try:
                return train_step(*args, **kwargs)
            finally:
                self.in_step += time.perf_counter() - start

        model.train_step = timed_train_step

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        now = time.perf_counter()
        if self.mark is not None:
            self.elapsed += now - self.mark
        iteration = runner.iter
        if iteration % self.cycle == 0:
            if iteration:
                self.runner_times.append(self.elapsed)
                self.step_times.append(self.in_step)
                self._hand_cycle(runner)
            self.batches, self.elapsed, self.in_step = [], 0.0, 0.0
            if iteration == 0:
                torch.manual_seed(self.seed)
        self.batches.append(stack_batch(data_batch))
        self.mark = time.perf_counter()

    def _hand_cycle(self, runner):
        if self.agreement is None:
            reached = networks_state(runner.model)
            torch.manual_seed(self.seed)
        start = time.perf_counter()
        self.hand.cycle(self.batches)
        self.hand_times.append(time.perf_counter() - start)
        if self.agreement is None:
            self.agreement = max_state_diff(reached, self.hand)


def run_interleaved(recipe: str, args):
    from mmengine.runner import Runner
    with tempfile.TemporaryDirectory() as work_dir:
        probe = build_cfg(recipe, args, work_dir, 1)
        cycle = cycle_length(probe)
        # The agreement cycle, warm-up cycles, timed cycles, and one
        # iteration to close the last timed cycle.
        cycles = 1 + args.warmup + args.rounds
        cfg = build_cfg(recipe, args, work_dir, cycles * cycle + 1)
        hand = HandLoop(cfg)
        hook = InterleavedHandLoop(hand, cycle)
        runner = Runner.from_cfg(cfg)
        runner.register_hook(hook, priority='HIGHEST')
        runner.train()
    # Hand cycle k runs right after Runner cycle k; comparing Runner cycle
    # k with the mean of the hand cycles on either side cancels drift in
    # the machine's speed (a neighbour's load rising or falling).
    rounds = range(1 + args.warmup, len(hook.runner_times))
    runner_times = [hook.runner_times[k] for k in rounds]
    step_times = [hook.step_times[k] for k in rounds]
    hand_times = [(hook.hand_times[k - 1] + hook.hand_times[k]) / 2
                  for k in rounds]
    print('per round, seconds per cycle (Runner / its train_step / hand): ' +
          ', '.join(f'{r:.2f} / {s:.2f} / {h:.2f}'
                    for r, s, h in zip(runner_times, step_times,
                                       hand_times)), flush=True)
    return dict(
        cycle=cycle,
        batch=cfg.train_dataloader.batch_size,
        agreement=hook.agreement,
        runner=common.median(runner_times) / cycle,
        hand=common.median(hand_times) / cycle,
        overhead=common.median(r / h - 1
                               for r, h in zip(runner_times, hand_times)),
        machinery=common.median((r - s) / h for r, s, h in zip(
            runner_times, step_times, hand_times)))


# --- Peak memory (child process) -------------------------------------------


def measure_memory(args):
    """Peak resident memory of two cycles of one loop alone."""
    cycles = 2
    with tempfile.TemporaryDirectory() as work_dir:
        probe = build_cfg(args.recipe, args, work_dir, 1)
        cycle = cycle_length(probe)
        cfg = build_cfg(args.recipe, args, work_dir, cycles * cycle)
        if args.measure == 'runner':
            from mmengine.runner import Runner
            Runner.from_cfg(cfg).train()
        else:
            hand = HandLoop(cfg)
            batch = cfg.train_dataloader.batch_size
            size = RECIPES[args.recipe]['image_size']
            for _ in range(cycles):
                hand.cycle([(torch.randint(0, 256, (batch, 3, size, size),
                                           dtype=torch.uint8),
                             torch.randint(0, hand.num_classes, (batch, )))
                            for _ in range(cycle)])
    return dict(peak_mib=common.max_rss_mib())


# --- Main ------------------------------------------------------------------


def describe(recipe: str, args, result) -> str:
    if recipe == 'cifar10':
        return (f'CIFAR-10 32x32, batch {result["batch"]}, '
                f'{result["cycle"]} D steps per G step')
    return (f'ImageNet-128 at width {args.imagenet_width}, batch '
            f'{result["batch"]}, {result["cycle"]} accumulated batches '
            'per D and G update')


def main(argv=None):
    args = parse_args(argv)
    common.set_threads(args.threads)
    if args.measure:
        print(json.dumps(measure_memory(args)))
        return
    load_at_start = os.getloadavg()[0]
    rows, memory_rows = [], []
    for recipe in args.recipes:
        print(f'{recipe}: Runner and hand-written loop, interleaved ...',
              flush=True)
        result = run_interleaved(recipe, args)
        rows.append([
            describe(recipe, args, result), f'{result["runner"]:.3f}',
            f'{result["hand"]:.3f}', f'{100 * result["overhead"]:+.1f}%',
            f'{100 * result["machinery"]:+.1f}%', f'{result["agreement"]:.1e}'
        ])
        print('\n'.join(common.markdown_table(HEADER, rows[-1:])),
              flush=True)
        peaks = []
        for loop in ('runner', 'hand'):
            child = ['--measure', loop, '--recipe', recipe, '--threads',
                     str(args.threads), '--imagenet-width',
                     str(args.imagenet_width), '--imagenet-batch',
                     str(args.imagenet_batch)]
            peaks.append(common.peak_memory_in_child(
                'benchmarks.bench_training', child)['peak_mib'])
        memory_rows.append([describe(recipe, args, result)] +
                           [f'{p:.0f}' for p in peaks])

    command = 'python benchmarks/bench_training.py ' + ' '.join(
        argv if argv is not None else sys.argv[1:])
    lines = [
        f'Command: `{command.strip()}`', '',
        f'Machine: {common.machine_line()}; load average at the start '
        f'{load_at_start:.1f}, at the end {os.getloadavg()[0]:.1f}', '',
        'Seconds per runner iteration (one D batch; a cycle of D batches '
        'and the G update, divided by its length), median of '
        f'{args.rounds} rounds, each a Runner cycle followed by a '
        'hand-written cycle on the same batches in the same process; '
        'overhead = median per-round time ratio - 1. Real configs through '
        "tools/train.py's config building (all default hooks), random "
        'in-memory images, num_workers=0, EMA averaging from the start. '
        'The last column compares the weights (G, D, EMA) both loops reach '
        'from the same start, batches and seed:', ''
    ] + common.markdown_table(HEADER, rows) + [
        '', 'Peak resident memory in MiB of two cycles, each loop alone in '
        'a child process:', ''
    ] + common.markdown_table(['recipe', 'Runner', 'hand-written loop'],
                              memory_rows)
    print('\n'.join(lines))
    if not args.no_append:
        common.append_results(SECTION, lines)


if __name__ == '__main__':
    main()
