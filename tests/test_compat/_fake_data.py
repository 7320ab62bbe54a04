"""Small datasets in the on-disk formats MMGeneration's and mmagic's
configs point at, and the command-line options that point a config at
them (data paths only, plus narrow networks and two iterations)."""
import os.path as osp

import numpy as np
from PIL import Image

from test_datasets._files import (random_image, write_cifar_batch,
                                  write_cifar_meta)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MMGEN_DIR = osp.join(ROOT, 'tests', 'data', 'mmgen_configs')
MMAGIC_DIR = osp.join(ROOT, 'tests', 'data', 'mmagic_configs')


def write_cifar(folder) -> str:
    """``folder/cifar-10-batches-py`` with 4 images per batch; returns
    ``folder``."""
    rng = np.random.RandomState(0)
    batches = osp.join(folder, 'cifar-10-batches-py')
    import os
    os.makedirs(batches, exist_ok=True)
    for name in [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']:
        images = rng.randint(0, 256, size=(4, 32, 32, 3), dtype=np.uint8)
        write_cifar_batch(osp.join(batches, name), images,
                          rng.randint(0, 10, size=4))
    write_cifar_meta(osp.join(batches, 'batches.meta'), [str(i) for i in
                                                         range(10)])
    return str(folder)


def write_imagenet(folder) -> str:
    """``folder/{train,val}/n0000000k/*.png`` (class subfolders, as
    mmcls's ImageNet reads without an annotation file) and
    ``folder/meta/{train,val}.txt`` (``path label`` lines)."""
    import os
    rng = np.random.RandomState(1)
    for split in ('train', 'val'):
        lines = []
        for label in range(2):
            for index in range(4):
                rel = f'n{label:08d}/{index}.png'
                path = osp.join(folder, split, rel)
                os.makedirs(osp.dirname(path), exist_ok=True)
                Image.fromarray(random_image(rng, 40, 56)).save(path)
                lines.append(f'{rel} {label}')
        os.makedirs(osp.join(folder, 'meta'), exist_ok=True)
        with open(osp.join(folder, 'meta', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    return str(folder)


def narrow(cfg_model_prefix: str, base_channels: int) -> dict:
    return {
        f'{cfg_model_prefix}.generator.base_channels': base_channels,
        f'{cfg_model_prefix}.discriminator.base_channels': base_channels,
    }


def mmgen_options(cfg, cifar: str, imagenet: str) -> dict:
    """--cfg-options for an MMGeneration config: data paths, two
    iterations, batch 2, no workers, narrow networks."""
    options = {'total_iters': 2, 'data.samples_per_gpu': 2,
               'data.workers_per_gpu': 0}
    for split in ('train', 'val', 'test'):
        dataset = cfg.data.get(split)
        if not dataset:
            continue
        key = f'data.{split}'
        if dataset.get('type') == 'RepeatDataset':
            key, dataset = key + '.dataset', dataset.dataset
        if 'CIFAR' in dataset.type:
            options[f'{key}.data_prefix'] = cifar
        else:
            options[f'{key}.data_prefix'] = osp.join(
                imagenet, 'val' if split != 'train' else 'train')
            if dataset.get('ann_file'):
                options[f'{key}.ann_file'] = osp.join(imagenet, 'meta',
                                                      'val.txt')
    options.update(narrow('model', 8))
    return options


def mmagic_options(cfg, cifar: str, imagenet: str) -> dict:
    """--cfg-options for an mmagic config (see :func:`mmgen_options`)."""
    options = {'train_cfg.max_iters': 2, 'train_dataloader.batch_size': 2,
               'train_dataloader.num_workers': 0,
               'train_dataloader.persistent_workers': False}
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset')
        if not dataset:
            continue
        if dataset.type == 'CIFAR10':
            options[f'{loader}.dataset.data_root'] = cifar
            options[f'{loader}.dataset.data_prefix'] = ''
        else:
            options[f'{loader}.dataset.data_root'] = imagenet
    options.update(narrow('model', 8))
    return options
