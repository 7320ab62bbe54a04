"""A picture of the generator's progress: the same inputs, every N
iterations."""
import os.path as osp
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.dist import master_only
from mmengine.hooks import Hook

from mmbiggan.models.sampling import (draw_inputs, get_sampling_generator,
                                    iter_samples, unwrap_model)
from mmbiggan.registry import HOOKS
from mmbiggan.utils.grid import make_image_grid, save_image_atomic
from mmbiggan.utils.image import to_hwc_numpy


@HOOKS.register_module()
class SampleGridHook(Hook):
    """Write a grid of samples from fixed noise and labels to
    ``work_dir/<out_dir>/iter_XXXXXX.png`` and to the runner's visualizer
    (as image ``samples``) every ``interval`` iterations and after the last.

    A conditional generator gets one row per class of ``classes`` with
    ``samples_per_class`` columns; an unconditional one a square-ish grid of
    ``num_samples``. The inputs are drawn once from ``seed``
    (:func:`mmbiggan.apis.draw_inputs`), so grids of one run compare.

    Args:
        interval (int): Iterations between grids.
        classes (Sequence[int], optional): Classes of the rows; None takes
            every class when there are at most ``max_rows``, else
            ``max_rows`` classes evenly spread.
        samples_per_class (int): Columns of a conditional grid.
        max_rows (int): Rows when ``classes`` is None.
        num_samples (int): Samples of an unconditional grid.
        truncation (float, optional): Truncation of the noise.
        sample_model (str): ``'ema'`` or ``'orig'`` generator.
        seed (int): Seed of the fixed inputs.
        out_dir (str): Folder under the work dir.
        batch_size (int): Generator batch size.
        padding (int): Pixels between cells.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 1000,
                 classes: Optional[Sequence[int]] = None,
                 samples_per_class: int = 8,
                 max_rows: int = 16,
                 num_samples: int = 64,
                 truncation: Optional[float] = None,
                 sample_model: str = 'ema',
                 seed: int = 2019,
                 out_dir: str = 'samples',
                 batch_size: int = 64,
                 padding: int = 2):
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}.')
        if sample_model not in ('ema', 'orig'):
            raise ValueError("sample_model must be 'ema' or 'orig', got "
                             f'{sample_model!r}.')
        self.interval = interval
        self.classes = None if classes is None else list(classes)
        self.samples_per_class = samples_per_class
        self.max_rows = max_rows
        self.num_samples = num_samples
        self.truncation = truncation
        self.sample_model = sample_model
        self.seed = seed
        self.out_dir = out_dir
        self.batch_size = batch_size
        self.padding = padding
        self.noise = self.labels = None
        self.num_columns = samples_per_class

    def _generator(self, runner) -> torch.nn.Module:
        return unwrap_model(
            get_sampling_generator(runner.model, self.sample_model))

    def row_classes(self, num_classes: int) -> list:
        """Classes of the rows for a model with ``num_classes`` classes."""
        if self.classes is not None:
            return self.classes
        if num_classes <= self.max_rows:
            return list(range(num_classes))
        return np.linspace(0, num_classes - 1,
                           self.max_rows).round().astype(int).tolist()

    def before_run(self, runner) -> None:
        generator = self._generator(runner)
        num_classes = getattr(generator, 'num_classes', 0)
        if num_classes:
            labels = torch.tensor(self.row_classes(num_classes)
                                  ).repeat_interleave(self.samples_per_class)
            self.num_columns = self.samples_per_class
            num = labels.numel()
        else:
            labels = None
            num = self.num_samples
            self.num_columns = int(np.ceil(np.sqrt(num)))
        self.noise, self.labels = draw_inputs(generator, num, labels,
                                              self.truncation, self.seed)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval) or \
                self.is_last_train_iter(runner):
            self.write_grid(runner, runner.iter + 1)

    @master_only
    def write_grid(self, runner, iteration: int) -> str:
        """Sample the fixed inputs and write the grid of ``iteration``;
        returns the PNG path."""
        generator = self._generator(runner)
        images = torch.cat([
            s.images for s in iter_samples(generator, self.noise, self.labels,
                                           self.truncation, self.batch_size)
        ])
        grid = make_image_grid(
            to_hwc_numpy(images), self.num_columns, padding=self.padding)
        path = osp.join(runner.work_dir, self.out_dir,
                        f'iter_{iteration:06d}.png')
        save_image_atomic(grid, path)
        runner.visualizer.add_image('samples', grid, step=iteration)
        return path
