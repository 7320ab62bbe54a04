import os.path as osp
from types import SimpleNamespace

import numpy as np
import torch
from mmengine.visualization import Visualizer
from PIL import Image

from mmbiggan.apis import iter_samples
from mmbiggan.engine import SampleGridHook
from mmbiggan.models import BigGAN
from mmbiggan.utils import to_hwc_numpy


def tiny_model():
    torch.manual_seed(0)
    return BigGAN(
        generator=dict(type='BigGANGenerator', output_scale=32,
                       noise_size=16, num_classes=3, base_channels=2,
                       with_shared_embedding=False, split_noise=False,
                       auto_sync_bn=False),
        discriminator=None)


def fake_runner(tmp_path, model, iteration):
    visualizer = Visualizer.get_instance(
        f'grid_hook_test_{iteration}',
        vis_backends=[dict(type='LocalVisBackend')],
        save_dir=str(tmp_path / 'vis'))
    return SimpleNamespace(model=model, work_dir=str(tmp_path),
                           iter=iteration, max_iters=100,
                           visualizer=visualizer)


def test_grid_png_has_one_row_per_class_and_the_samples(tmp_path):
    model = tiny_model()
    hook = SampleGridHook(interval=2, samples_per_class=4, padding=2)
    runner = fake_runner(tmp_path, model, 0)
    hook.before_run(runner)
    hook.after_train_iter(runner, 0)
    assert not osp.exists(tmp_path / 'samples')  # iteration 1: no grid
    runner.iter = 1
    hook.after_train_iter(runner, 1)
    path = tmp_path / 'samples' / 'iter_000002.png'
    grid = np.asarray(Image.open(path))
    # 3 classes x 4 samples of 32x32, 2 px apart and around.
    assert grid.shape == (3 * 34 + 2, 4 * 34 + 2, 3)
    assert hook.labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    (samples, ) = list(iter_samples(model.generator_ema, hook.noise,
                                    hook.labels, batch_size=12))
    expected = to_hwc_numpy(samples.images)
    row, col = 1, 2
    cell = grid[2 + row * 34:2 + row * 34 + 32, 2 + col * 34:2 + col * 34 + 32]
    np.testing.assert_array_equal(cell, expected[row * 4 + col])
    assert grid[0].min() == 255  # padding
    assert osp.isfile(tmp_path / 'vis' / 'vis_data' / 'vis_image' / 'samples_2.png')
    # The same fixed inputs next time: an unchanged model draws the same.
    runner.iter = 3
    hook.after_train_iter(runner, 3)
    again = np.asarray(Image.open(tmp_path / 'samples' / 'iter_000004.png'))
    np.testing.assert_array_equal(again, grid)


def test_many_classes_are_spread_over_max_rows():
    hook = SampleGridHook(max_rows=16)
    rows = hook.row_classes(1000)
    assert len(rows) == 16 and rows[0] == 0 and rows[-1] == 999
    assert SampleGridHook(classes=[7, 3]).row_classes(1000) == [7, 3]
