"""Walk through a class-conditional generator's noise and class space.

    python apps/conditional_interpolate.py CONFIG CHECKPOINT \
        --samples-path DIR [--fix-z | --fix-y] [--label L [L ...]] \
        [--endpoint K] [--interval N] [--interp-mode lerp|slerp] \
        [--sample-cfg truncation=0.5] [--seed S] [--export-video] [--fps F] \
        [--sample-model ema|orig] [--batch-size B] [--device cpu|cuda:0]

``K`` endpoints (noise and class each) are drawn from the seed; the walk
takes ``N`` steps from each endpoint to the next, so it has
``(K - 1) * N + 1`` frames. ``--fix-z`` keeps one noise vector and walks
between the classes (through the shared class embedding, or for models
without one through class vectors mixing the per-class tables); ``--fix-y``
keeps one class and walks the noise; without either both move.

Writes into DIR: the frames ``00000.png ...``, ``walk.png`` (one row per
segment, both ends included), ``walk.gif`` (``walk.mp4`` with
``--export-video`` when an ffmpeg encoder is found) and ``walk_inputs.pth``,
the noise and class input of every frame.
"""
import argparse
import os
import os.path as osp
import re
import secrets
import shutil
import subprocess
import sys
from typing import List, Optional, Sequence

import numpy as np
from PIL import Image

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:  # running from a clone without installing
    sys.path.insert(0, REPO_ROOT)

from mmbiggan.apis import (INTERP_MODES, Walk, iter_walk_frames,  # noqa
                           plan_walk)
from mmbiggan.apis.cli import (  # noqa: E402
    UsageError, add_generator_arguments, check_output_folder,
    class_names_for_config, format_classes, load_generator, parse_sample_cfg,
    positive_float, positive_int, resolve_device, run, truncation_from_args)
from mmbiggan.utils.atomic import atomic_path  # noqa: E402
from mmbiggan.utils.checkpoint import save_checkpoint_atomic  # noqa: E402
from mmbiggan.utils.grid import make_image_grid, save_image_atomic  # noqa
from mmbiggan.utils.image import to_hwc_numpy  # noqa: E402

FRAME_NAME = '{:05d}.png'  # MMGeneration's frame names
FRAME_PATTERN = re.compile(r'^(\d{5,})\.png$')
GRID_NAME = 'walk.png'
GIF_NAME = 'walk.gif'
VIDEO_NAME = 'walk.mp4'
INPUTS_NAME = 'walk_inputs.pth'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Interpolate between endpoints in the noise and class '
        'space of a class-conditional GAN.')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'checkpoint', help='checkpoint (tools/train.py iter_N.pth, or a '
        'converted one)')
    parser.add_argument(
        '--samples-path',
        required=True,
        help='folder for the frames, the grid, the GIF/MP4 and the inputs')
    parser.add_argument(
        '--fix-z',
        action='store_true',
        help='keep one noise vector and walk between classes')
    parser.add_argument(
        '--fix-y',
        action='store_true',
        help='keep one class and walk the noise')
    parser.add_argument(
        '--label',
        type=int,
        nargs='+',
        help='classes of the endpoints, one per endpoint (one with --fix-y);'
        ' default: random')
    parser.add_argument(
        '--endpoint',
        type=int,
        help='number of endpoints, >= 2 (default: the number of --label '
        'values, else 2)')
    parser.add_argument(
        '--interval',
        type=positive_int,
        default=10,
        help='steps from one endpoint to the next; a segment shows N + 1 '
        'frames counting both ends')
    parser.add_argument(
        '--interp-mode',
        choices=INTERP_MODES,
        default='lerp',
        help='noise path: straight (lerp) or along the sphere (slerp, keeps '
        'the noise norm); classes always mix linearly')
    parser.add_argument(
        '--seed',
        type=int,
        help='seed of the endpoints (default: a fresh one, printed so that '
        'the walk can be made again)')
    parser.add_argument(
        '--export-video',
        action='store_true',
        help='write walk.mp4 instead of walk.gif (needs an ffmpeg binary or '
        'the imageio-ffmpeg package; otherwise the GIF is written)')
    parser.add_argument(
        '--fps',
        type=positive_float,
        default=10.0,
        help='frames per second of the GIF or video')
    parser.add_argument(
        '--batch-size',
        type=positive_int,
        default=32,
        help='frames per generator call')
    add_generator_arguments(parser)
    return parser.parse_args(argv)


def check_args(args: argparse.Namespace):
    """Refuse options that cannot work before anything is loaded, and fill
    in --endpoint's default."""
    if args.fix_z and args.fix_y:
        raise UsageError(
            '--fix-z and --fix-y exclude each other: --fix-z keeps the noise '
            'and walks the class, --fix-y keeps the class and walks the '
            'noise; give one of them, or neither to walk both.')
    if args.endpoint is None:
        args.endpoint = len(args.label) if args.label and len(
            args.label) > 1 else 2
    if args.endpoint < 2:
        raise UsageError(f'--endpoint {args.endpoint}: a walk needs at least '
                         '2 endpoints.')
    if args.label is not None and len(args.label) != args.endpoint and \
            not (args.fix_y and len(args.label) == 1):
        raise UsageError(
            f'--label gives {len(args.label)} classes for {args.endpoint} '
            'endpoints; give one class per endpoint' +
            (' (or one with --fix-y).' if not args.fix_y else '.'))
    check_output_folder(args.samples_path, '--samples-path')


def check_classes(args: argparse.Namespace, num_classes: int):
    """Options that need classes, against the model's classes."""
    if num_classes == 0:
        needs = [
            flag for flag, given in (('--fix-z', args.fix_z), (
                '--fix-y', args.fix_y), ('--label', args.label is not None))
            if given
        ]
        if needs:
            raise UsageError(
                f'This model is unconditional (no classes), so {needs[0]} '
                'has no class to keep or walk; drop it (the walk then moves '
                'the noise only).')
        return
    bad = [label for label in args.label or [] if not 0 <= label < num_classes]
    if bad:
        raise UsageError(f'--label {bad[0]} is not a class of this model; '
                         f'use labels 0..{num_classes - 1}.')


def describe_walk(args: argparse.Namespace, walk: Walk, names,
                  truncation: Optional[float], seed: int, sample_model: str,
                  device) -> str:
    moving = ('classes (noise fixed)' if args.fix_z else
              'noise (class fixed)' if args.fix_y else 'noise and classes')
    lines = [
        f'Walking {moving}: {args.endpoint} endpoints, {args.interval} '
        f'steps each, {walk.noise.shape[0]} frames, {args.interp_mode} '
        f'noise, truncation {truncation}, seed {seed} (pass --seed {seed} '
        f'to get this walk again), {sample_model} generator on '
        f'{device}.'
    ]
    if walk.endpoint_labels is not None:
        lines.append('Endpoint classes: ' + ', '.join(
            format_classes(walk.endpoint_labels.tolist(), names)))
    return '\n'.join(lines)


def segment_grid(frames: np.ndarray, steps: int) -> np.ndarray:
    """One row per segment with both of its ends: ``steps + 1`` columns."""
    num_segments = (frames.shape[0] - 1) // steps
    index = np.arange(steps + 1)[None, :] + steps * np.arange(
        num_segments)[:, None]
    return make_image_grid(frames[index.reshape(-1)], steps + 1, padding=2)


def write_gif(frames: Sequence[np.ndarray], path: str, fps: float):
    """An endlessly looping GIF, written through a temporary file."""
    images = [Image.fromarray(frame) for frame in frames]
    with atomic_path(path) as tmp:
        images[0].save(
            tmp,
            format='GIF',
            save_all=True,
            append_images=images[1:],
            duration=max(int(round(1000 / fps)), 1),
            loop=0)


def find_ffmpeg() -> Optional[str]:
    """An ffmpeg binary: on the PATH, or the one imageio-ffmpeg ships."""
    binary = shutil.which('ffmpeg')
    if binary:
        return binary
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:
        return None


def write_mp4(frames: np.ndarray, path: str, fps: float, ffmpeg: str):
    """H.264 MP4 of ``frames`` ``[F, H, W, 3]`` piped to ``ffmpeg``; raises
    RuntimeError with ffmpeg's message when it fails."""
    height, width = frames.shape[1:3]
    with atomic_path(path) as tmp:
        command = [
            ffmpeg, '-y', '-loglevel', 'error', '-f', 'rawvideo',
            '-pix_fmt', 'rgb24', '-s', f'{width}x{height}', '-r', str(fps),
            '-i', '-',
            # H.264 in yuv420p needs even sizes.
            '-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2', '-c:v', 'libx264',
            '-pix_fmt', 'yuv420p', '-f', 'mp4', tmp
        ]
        result = subprocess.run(
            command, input=np.ascontiguousarray(frames).tobytes(),
            capture_output=True)
        if result.returncode != 0:
            message = result.stderr.decode(errors='replace').strip()
            raise RuntimeError(f'ffmpeg failed: {message.splitlines()[-1]}'
                               if message else 'ffmpeg failed.')


def write_animation(frames: np.ndarray, folder: str, fps: float,
                    video: bool) -> str:
    """``walk.mp4`` when ``video`` and an encoder works, else ``walk.gif``;
    returns the path written."""
    if video:
        ffmpeg = find_ffmpeg()
        if ffmpeg is None:
            print('No MP4 encoder found (install ffmpeg or the imageio-ffmpeg '
                  'package for --export-video); writing the GIF instead.')
        else:
            path = osp.join(folder, VIDEO_NAME)
            try:
                write_mp4(frames, path, fps, ffmpeg)
                return path
            except (RuntimeError, OSError) as err:
                print(f'{err} Writing the GIF instead.')
    path = osp.join(folder, GIF_NAME)
    write_gif(frames, path, fps)
    return path


def stale_frames(folder: str, num_frames: int) -> List[str]:
    """Frame files in ``folder`` beyond this walk's, from an earlier run."""
    stale = []
    for name in sorted(os.listdir(folder)):
        match = FRAME_PATTERN.match(name)
        if match and int(match.group(1)) >= num_frames:
            stale.append(name)
    return stale


def walk_record(walk: Walk, args: argparse.Namespace,
                truncation: Optional[float], seed: int,
                sample_model: str) -> dict:
    """What ``walk_inputs.pth`` holds: every frame's inputs (loadable with
    ``weights_only=True``)."""
    return dict(
        noise=walk.noise,
        classes=walk.classes,
        use_outside_embedding=walk.use_outside_embedding,
        endpoint_noise=walk.endpoint_noise,
        endpoint_labels=walk.endpoint_labels,
        truncation=truncation,
        seed=seed,
        interp_mode=args.interp_mode,
        steps=args.interval,
        sample_model=sample_model)


def main(argv: Optional[List[str]] = None):
    args = parse_args(argv)
    check_args(args)
    parse_sample_cfg(args.sample_cfg)  # refuse bad values before loading
    device = resolve_device(args.device)
    model, generator, sample_model = load_generator(
        args.config, args.checkpoint, device, args.sample_model,
        args.trust_pickle)
    truncation = truncation_from_args(args, generator)
    num_classes = getattr(generator, 'num_classes', 0)
    check_classes(args, num_classes)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)

    walk = plan_walk(
        generator,
        args.endpoint,
        args.interval,
        labels=args.label,
        fix_noise=args.fix_z,
        fix_class=args.fix_y,
        interp_mode=args.interp_mode,
        truncation=truncation,
        seed=seed)
    names = class_names_for_config(model.cfg, num_classes)
    print(
        describe_walk(args, walk, names, truncation, seed, sample_model,
                      device))
    frames = np.concatenate([
        to_hwc_numpy(batch.images) for batch in iter_walk_frames(
            generator, walk, truncation, args.batch_size, progress=True)
    ])
    print()  # end the progress bar's line

    # Everything is generated before the first file is written.
    folder = args.samples_path
    os.makedirs(folder, exist_ok=True)
    for index, frame in enumerate(frames):
        save_image_atomic(frame, osp.join(folder, FRAME_NAME.format(index)))
    save_image_atomic(
        segment_grid(frames, args.interval), osp.join(folder, GRID_NAME))
    animation = write_animation(frames, folder, args.fps, args.export_video)
    save_checkpoint_atomic(
        walk_record(walk, args, truncation, seed, sample_model),
        osp.join(folder, INPUTS_NAME))
    print(f'Wrote {len(frames)} frames, {GRID_NAME}, '
          f'{osp.basename(animation)} and {INPUTS_NAME} to {folder}.')
    stale = stale_frames(folder, len(frames))
    if stale:
        print(f'Note: {folder} also holds {len(stale)} frame(s) of an '
              f'earlier, longer walk ({stale[0]} ...), left as they were.')


if __name__ == '__main__':
    sys.exit(run(main))
