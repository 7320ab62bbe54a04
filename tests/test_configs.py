"""Every shipped config: inheritance resolves, the names it uses exist, its
model builds (on the meta device: structure without the cost), and its
training dataset builds and yields items of the generator's size (on small
files written in the real formats where the data is not present)."""
import glob
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image

from mmbiggan.engine import check_training_config
from mmbiggan.registry import DATASETS, MODELS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    osp.relpath(p, ROOT)
    for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p.split(osp.sep))


def test_configs_are_found():
    assert 'configs/biggan/biggan_digits_32x32.py' in CONFIGS
    assert len(CONFIGS) >= 5


def fake_cifar10(root):
    folder = osp.join(root, 'cifar-10-batches-py')
    import os
    os.makedirs(folder)
    rng = np.random.RandomState(0)
    for name in [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']:
        batch = {
            b'data': rng.randint(0, 256, (2, 3072), dtype=np.uint8),
            b'labels': [1, 7],
        }
        with open(osp.join(folder, name), 'wb') as f:
            pickle.dump(batch, f, protocol=2)
    return dict(data_root=root)


def fake_annotated_images(root, dataset_cfg):
    import os
    prefix = dataset_cfg.get('data_prefix', '')
    if isinstance(prefix, dict):
        prefix = prefix.get('img_path', '')
    ann_file = dataset_cfg.get('ann_file') or 'meta/train.txt'
    os.makedirs(osp.join(root, prefix, 'n01'), exist_ok=True)
    os.makedirs(osp.dirname(osp.join(root, ann_file)), exist_ok=True)
    rng = np.random.RandomState(0)
    lines = []
    for index, (height, width) in enumerate([(40, 60), (70, 50)]):
        name = f'n01/img_{index}.png'
        Image.fromarray(rng.randint(0, 256, (height, width, 3),
                                    dtype=np.uint8)).save(
                                        osp.join(root, prefix, name))
        lines.append(f'{name} {index * 3}')
    with open(osp.join(root, ann_file), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return dict(data_root=root)


def dataset_with_data(dataset_cfg, tmp_path):
    """The dataset of ``dataset_cfg``, on fake files when its data is not
    here; None for dataset types this test cannot fake."""
    dataset_cfg = dataset_cfg.copy()
    data_root = dataset_cfg.get('data_root')
    if dataset_cfg['type'] == 'DigitsDataset' or (
            data_root and osp.isdir(data_root)):
        return DATASETS.build(dataset_cfg)
    if dataset_cfg['type'] == 'CIFAR10Dataset':
        dataset_cfg.update(fake_cifar10(str(tmp_path / 'cifar10')))
    elif dataset_cfg['type'] == 'ImageNetDataset':
        dataset_cfg.update(
            fake_annotated_images(str(tmp_path / 'imagenet'), dataset_cfg))
    else:
        # Other formats: at least the constructor takes the config.
        dataset_cfg['lazy_init'] = True
        DATASETS.build(dataset_cfg)
        return None
    return DATASETS.build(dataset_cfg)


@pytest.mark.parametrize('config', CONFIGS)
def test_config_builds_model_and_dataset(config, tmp_path):
    cfg = Config.fromfile(osp.join(ROOT, config))
    assert cfg.get('default_scope') == 'mmbiggan'
    init_default_scope('mmbiggan')
    check_training_config(cfg)
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    num_params = sum(p.numel() for p in model.generator.parameters())
    assert num_params > 0
    resolution = getattr(model.generator, 'output_scale', None)

    if 'train_dataloader' not in cfg:
        return  # sampling-only (converted) configs train nothing
    assert model.discriminator is not None, 'a training config needs D'
    for name in ('generator', 'discriminator'):
        assert name in cfg.optim_wrapper, f'optim_wrapper.{name} missing'
    assert cfg.train_cfg.get('max_iters', 0) > 0
    loader = cfg.train_dataloader
    assert loader.sampler.type == 'ResumableInfiniteSampler'
    dataset = dataset_with_data(loader.dataset, tmp_path)
    if dataset is None:
        return
    item = dataset[0]
    assert item['inputs'].dtype == torch.uint8
    assert tuple(item['inputs'].shape) == (3, resolution, resolution)
    assert 0 <= int(item['data_samples'].gt_label) < model.num_classes

    if 'digits' in config:
        return  # the CPU main job: no Inception file to evaluate with
    # The published recipes evaluate during training, as MMGeneration's,
    # keep the best checkpoint by FID, and take their real images from the
    # training set without augmentation.
    assert cfg.train_cfg.val_interval > 0
    metric_types = {m['type'] for m in cfg.val_evaluator.metrics}
    assert metric_types == {'FID', 'IS'}
    assert cfg.default_hooks.checkpoint.save_best == 'FID'
    assert cfg.default_hooks.checkpoint.rule == 'less'
    assert cfg.val_dataloader.sampler.type == 'DefaultSampler'
    val_dataset = dataset_with_data(cfg.val_dataloader.dataset, tmp_path /
                                    'val')
    val_item = val_dataset[0]
    assert tuple(val_item['inputs'].shape) == (3, resolution, resolution)
    assert not any('Random' in t['type']
                   for t in cfg.val_dataloader.dataset.pipeline)
