import os.path as osp

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    '_base_', 'datasets')


def load_batches(dataloader_cfg, num_batches=2):
    """Build the loader as the Runner does; return stacked images and
    labels of the first batches."""
    init_default_scope('mmbiggan')
    loader = Runner.build_dataloader(dataloader_cfg, seed=0)
    batches = []
    for batch in loader:
        images = torch.stack(batch['inputs'])
        labels = torch.stack([s.gt_label for s in batch['data_samples']])
        batches.append((images, labels))
        if len(batches) == num_batches:
            break
    return batches


def test_digits_config():
    cfg = Config.fromfile(osp.join(CONFIG_DIR, 'digits_32x32.py'))
    assert cfg.train_dataloader.sampler.type == 'InfiniteSampler'
    cfg.train_dataloader.batch_size = 16
    batches = load_batches(cfg.train_dataloader)
    for images, labels in batches:
        assert images.shape == (16, 3, 32, 32) and images.dtype == torch.uint8
        assert labels.shape == (16, ) and labels.dtype == torch.int64
        assert 0 <= labels.min() and labels.max() <= 9
    # Shuffled: the sampler does not walk the samples in file order.
    assert not torch.equal(batches[0][1], torch.arange(16) % 10)
