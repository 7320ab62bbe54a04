"""apps/conditional_interpolate.py: the files of a walk, what moves and what
stays with --fix-z / --fix-y, determinism, and the GIF/MP4 output."""
import os
import os.path as osp
import stat

import numpy as np
import torch
from PIL import Image

from mmbiggan.apis import get_sampling_generator, init_model
from mmbiggan.apis.cli import run
from mmbiggan.utils import to_hwc_numpy
from .conftest import APP, run_script
from .test_conditional_demo import assert_close_uint8, cells, read_png


def frame_names(folder):
    return sorted(n for n in os.listdir(folder) if n[:5].isdigit())


def load_frames(folder):
    return np.stack(
        [read_png(osp.join(folder, n)) for n in frame_names(folder)])


def load_inputs(folder):
    return torch.load(
        osp.join(folder, 'walk_inputs.pth'), weights_only=True)


def direct_frames(model_files, inputs, sample_model='ema'):
    """The generator called on the recorded inputs in one batch."""
    model = init_model(model_files.config, model_files.checkpoint, 'cpu')
    generator = get_sampling_generator(model, sample_model)
    with torch.no_grad():
        images = generator(
            inputs['noise'],
            inputs['classes'],
            truncation=inputs['truncation'],
            use_outside_embedding=inputs['use_outside_embedding'])
    if generator.rgb2bgr:
        images = images.flip(1)
    return to_hwc_numpy(images)


def test_fix_z_walks_classes_from_the_command_line(c10_converted, tmp_path):
    """A model without a shared embedding: the class walk mixes its
    per-class tables through class vectors, with one noise vector."""
    folder = str(tmp_path / 'walk')
    result = run_script(APP, [
        c10_converted.config, c10_converted.checkpoint, '--samples-path',
        folder, '--fix-z', '--label', '1', '5', '7', '--interval', '4',
        '--seed', '3', '--device', 'cpu', '--batch-size', '4'
    ])
    assert result.returncode == 0, result.stderr
    assert 'Endpoint classes: 1 (automobile), 5 (dog), 7 (horse)' in \
        result.stdout
    assert 'No MP4 encoder' not in result.stdout
    assert sorted(os.listdir(folder)) == [f'{i:05d}.png' for i in range(9)] \
        + ['walk.gif', 'walk.png', 'walk_inputs.pth']
    frames = load_frames(folder)
    assert frames.shape == (9, 32, 32, 3)

    inputs = load_inputs(folder)
    assert (inputs['noise'] == inputs['noise'][0]).all()
    assert not inputs['use_outside_embedding']
    one_hot = torch.nn.functional.one_hot(torch.tensor([1, 5, 7]), 10)
    assert torch.equal(inputs['classes'][::4], one_hot.float())
    torch.testing.assert_close(inputs['classes'][2],
                               0.5 * (one_hot[0] + one_hot[1]).float())
    assert_close_uint8(frames, direct_frames(c10_converted, inputs))
    # The class moves, so every frame differs from the one before.
    assert all(
        np.abs(frames[i].astype(int) - frames[i + 1]).max() > 0
        for i in range(8))

    grid = read_png(osp.join(folder, 'walk.png'))
    assert grid.shape == (2 * 34 + 2, 5 * 34 + 2, 3)
    rows = cells(grid, 2, 5, 32, 2)
    assert np.array_equal(rows[:5], frames[0:5])
    assert np.array_equal(rows[5:], frames[4:9])
    with Image.open(osp.join(folder, 'walk.gif')) as gif:
        assert gif.size == (32, 32) and gif.n_frames == 9
        assert gif.info['loop'] == 0


def test_fix_y_keeps_the_class_and_walks_the_noise(app, shared_model,
                                                   tmp_path, capsys):
    folder = str(tmp_path / 'walk')
    assert run(app.main, [
        shared_model.config, shared_model.checkpoint, '--samples-path',
        folder, '--fix-y', '--label', '6', '--endpoint', '3', '--interval',
        '2', '--interp-mode', 'slerp', '--seed', '0', '--sample-cfg',
        'truncation=0.8', '--device', 'cpu', '--fps', '4'
    ]) == 0
    assert 'Endpoint classes: 6, 6, 6\n' in capsys.readouterr().out
    inputs = load_inputs(folder)
    model = init_model(shared_model.config, shared_model.checkpoint, 'cpu')
    embedding = model.generator_ema.shared_embedding(torch.tensor([6]))
    assert inputs['use_outside_embedding']
    assert torch.equal(inputs['classes'],
                       embedding.expand(5, -1).contiguous())
    noise = inputs['noise']
    assert len({tuple(row.tolist()) for row in noise}) == 5
    assert torch.equal(noise[::2], inputs['endpoint_noise'])
    assert inputs['truncation'] == 0.8 and inputs['interp_mode'] == 'slerp'
    frames = load_frames(folder)
    assert frames.shape == (5, 32, 32, 3)
    assert_close_uint8(frames, direct_frames(shared_model, inputs))
    with Image.open(osp.join(folder, 'walk.gif')) as gif:
        assert gif.n_frames == 5 and gif.info['duration'] == 250


def test_both_move_and_one_seed_gives_identical_files(app, shared_model,
                                                      tmp_path):
    folders = [str(tmp_path / name) for name in ('a', 'b', 'c')]
    for folder, seed in zip(folders, ['11', '11', '12']):
        assert run(app.main, [
            shared_model.config, shared_model.checkpoint, '--samples-path',
            folder, '--interval', '3', '--seed', seed, '--device', 'cpu',
            '--sample-model', 'orig'
        ]) == 0
    names = sorted(os.listdir(folders[0]))
    assert names == sorted(os.listdir(folders[1]))
    for name in names:
        if name.endswith(('.png', '.gif')):
            with open(osp.join(folders[0], name), 'rb') as f0, open(
                    osp.join(folders[1], name), 'rb') as f1:
                assert f0.read() == f1.read(), name
    first, other = load_inputs(folders[0]), load_inputs(folders[2])
    assert not torch.equal(first['noise'], other['noise'])
    # Both noise and class move between the two random endpoints.
    assert not torch.equal(first['noise'][0], first['noise'][-1])
    assert not torch.equal(first['classes'][0], first['classes'][1])
    assert_close_uint8(
        load_frames(folders[0]),
        direct_frames(shared_model, first, sample_model='orig'))
    mode = stat.S_IMODE(os.stat(osp.join(folders[0], 'walk.gif')).st_mode)
    assert mode & stat.S_IRGRP  # not a private temporary file


def test_export_video_with_and_without_an_encoder(app, shared_model,
                                                  tmp_path, monkeypatch,
                                                  capsys):
    args = [
        shared_model.config, shared_model.checkpoint, '--interval', '2',
        '--seed', '0', '--device', 'cpu', '--export-video', '--samples-path'
    ]
    monkeypatch.setattr(app, 'find_ffmpeg', lambda: None)
    assert run(app.main, args + [str(tmp_path / 'gif')]) == 0
    assert 'No MP4 encoder found' in capsys.readouterr().out
    assert osp.isfile(tmp_path / 'gif' / 'walk.gif')

    # An encoder stand-in that keeps its arguments and the piped frames.
    fake = tmp_path / 'ffmpeg'
    fake.write_text('#!/bin/sh\nfor last; do :; done\n'
                    'echo "$@" > "$(dirname "$0")/args.txt"\n'
                    'cat > "$last"\n')
    fake.chmod(0o755)
    monkeypatch.setattr(app, 'find_ffmpeg', lambda: str(fake))
    folder = tmp_path / 'mp4'
    assert run(app.main, args + [str(folder)]) == 0
    assert not osp.exists(folder / 'walk.gif')
    frames = load_frames(str(folder))
    with open(folder / 'walk.mp4', 'rb') as f:
        assert f.read() == frames.tobytes()
    command = (tmp_path / 'args.txt').read_text()
    assert '-s 32x32' in command and '-r 10.0' in command

    fake.write_text('#!/bin/sh\necho "Unknown encoder libx264" >&2\n'
                    'exit 1\n')
    assert run(app.main, args + [str(tmp_path / 'failed')]) == 0
    assert 'Unknown encoder libx264' in capsys.readouterr().out
    assert sorted(n for n in os.listdir(tmp_path / 'failed')
                  if not n[:5].isdigit()) == [
                      'walk.gif', 'walk.png', 'walk_inputs.pth'
                  ]


def test_unconditional_walk_and_earlier_frames_are_kept(
        app, unconditional_model, tmp_path, capsys):
    folder = tmp_path / 'walk'
    folder.mkdir()
    (folder / '00007.png').write_bytes(b'earlier walk')
    (folder / 'notes.txt').write_text('mine')
    assert run(app.main, [
        unconditional_model.config, unconditional_model.checkpoint,
        '--samples-path',
        str(folder), '--interval', '3', '--seed', '0', '--device', 'cpu'
    ]) == 0
    out = capsys.readouterr().out
    assert 'holds 1 frame(s) of an earlier, longer walk (00007.png' in out
    assert (folder / '00007.png').read_bytes() == b'earlier walk'
    assert (folder / 'notes.txt').read_text() == 'mine'
    inputs = load_inputs(str(folder))
    assert inputs['classes'] is None and inputs['endpoint_labels'] is None
    assert len(frame_names(str(folder))) == 5  # 4 new + the earlier one
