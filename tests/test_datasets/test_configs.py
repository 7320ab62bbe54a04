import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmbiggan.registry import DATASETS

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
    assert cfg.train_dataloader.sampler.type == 'ResumableInfiniteSampler'
    cfg.train_dataloader.batch_size = 16
    batches = load_batches(cfg.train_dataloader)
    for images, labels in batches:
        assert images.shape == (16, 3, 32, 32) and images.dtype == torch.uint8
        assert labels.shape == (16, ) and labels.dtype == torch.int64
        assert 0 <= labels.min() and labels.max() <= 9
    # Shuffled: the sampler does not walk the samples in file order.
    assert not torch.equal(batches[0][1], torch.arange(16) % 10)


def test_cifar10_config_with_workers(cifar_root):
    root, expected = cifar_root
    cfg = Config.fromfile(osp.join(CONFIG_DIR, 'cifar10_32x32.py'))
    assert cfg.train_dataloader.dataset.split == 'train'
    assert [t['type'] for t in cfg.train_dataloader.dataset.pipeline
            ] == ['PackInputs']  # no augmentation, as cifar10_noaug
    cfg.train_dataloader.dataset.data_root = str(root)
    cfg.train_dataloader.batch_size = 4
    assert cfg.train_dataloader.num_workers > 0
    batches = load_batches(cfg.train_dataloader, num_batches=5)
    # The infinite sampler restarts after the 10 training images; 20 draws
    # see every image twice.
    all_labels = torch.cat([labels for _, labels in batches])
    train_labels = np.concatenate(
        [expected[f'data_batch_{i}'][1] for i in range(1, 6)])
    assert sorted(all_labels.tolist()) == sorted(train_labels.tolist() * 2)
    train_images = np.concatenate(
        [expected[f'data_batch_{i}'][0] for i in range(1, 6)])
    first = batches[0][0][0].permute(1, 2, 0).numpy()
    assert any((first == img).all() for img in train_images)


@pytest.mark.parametrize('size', [64, 128, 256])
def test_imagenet_configs(annotated_image_root, size):
    root, written = annotated_image_root
    cfg = Config.fromfile(osp.join(CONFIG_DIR, f'imagenet_{size}x{size}.py'))
    dataset_cfg = cfg.train_dataloader.dataset
    assert (dataset_cfg.data_root, dataset_cfg.ann_file,
            dataset_cfg.data_prefix) == ('data/imagenet', 'meta/train.txt',
                                         'train')
    dataset_cfg.data_root = str(root)
    cfg.train_dataloader.update(
        batch_size=2, num_workers=0, persistent_workers=False)
    batches = load_batches(cfg.train_dataloader, num_batches=2)
    labels = {label for _, label, _ in written}
    for images, batch_labels in batches:
        assert images.shape == (2, 3, size, size)
        assert set(batch_labels.tolist()) <= labels


def test_imagenet_augmented_pipeline_is_random(annotated_image_root):
    root, written = annotated_image_root
    cfg = Config.fromfile(osp.join(CONFIG_DIR, 'imagenet_64x64.py'))
    init_default_scope('mmbiggan')
    dataset = DATASETS.build(
        dict(cfg.train_dataloader.dataset, data_root=str(root),
             pipeline=cfg.augmented_train_pipeline))
    # Image 0 is 40x60: random crops and flips give several variants.
    np.random.seed(0)
    variants = {dataset[0]['inputs'].numpy().tobytes() for _ in range(30)}
    assert len(variants) > 5
