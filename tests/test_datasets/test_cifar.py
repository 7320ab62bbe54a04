import pickle

import numpy as np
import pytest
import torch

from mmbiggan.datasets import CIFAR10_CLASSES, CIFAR10Dataset
from mmbiggan.datasets.cifar import load_cifar_pickle
from ._files import write_cifar_batch, write_cifar_meta

PIPELINE = [dict(type='PackInputs')]


def stacked(dataset):
    items = [dataset[i] for i in range(len(dataset))]
    images = torch.stack([it['inputs'] for it in items])
    labels = torch.stack([it['data_samples'].gt_label for it in items])
    return images, labels


@pytest.mark.parametrize('split', ['train', 'test'])
def test_cifar_values_and_label_order(cifar_root, split):
    root, expected = cifar_root
    dataset = CIFAR10Dataset(data_root=str(root), split=split,
                             pipeline=PIPELINE)
    names = ([f'data_batch_{i}' for i in range(1, 6)]
             if split == 'train' else ['test_batch'])
    want_images = np.concatenate([expected[n][0] for n in names])
    want_labels = np.concatenate([expected[n][1] for n in names])
    images, labels = stacked(dataset)
    assert len(dataset) == len(want_labels)
    assert images.dtype == torch.uint8 and labels.dtype == torch.int64
    # [N, 3, 32, 32] RGB planes equal the HWC images written.
    np.testing.assert_array_equal(images.numpy(),
                                  want_images.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(labels.numpy(), want_labels)
    assert dataset.metainfo['classes'] == CIFAR10_CLASSES


def test_cifar_row_layout_is_rgb_planes(tmp_path):
    # One image whose data row is 1024 R values, then G, then B.
    row = np.concatenate([np.full(1024, 10), np.full(1024, 20),
                          np.arange(1024) % 256]).astype(np.uint8)
    image = row.reshape(3, 32, 32).transpose(1, 2, 0)
    write_cifar_batch(tmp_path / 'test_batch', image[None], [4])
    item = CIFAR10Dataset(
        data_root=str(tmp_path), split='test', pipeline=PIPELINE)[0]
    assert (item['inputs'][0] == 10).all() and (item['inputs'][1] == 20).all()
    # B plane is row-major: pixel (y, x) holds (32 * y + x) % 256.
    assert int(item['inputs'][2, 1, 2]) == 34
    assert int(item['data_samples'].gt_label) == 4


def test_cifar_class_names_from_meta_or_default(tmp_path):
    write_cifar_batch(tmp_path / 'test_batch', np.zeros((1, 32, 32, 3)), [0])
    dataset = CIFAR10Dataset(data_root=str(tmp_path), split='test')
    assert dataset.metainfo['classes'] == CIFAR10_CLASSES
    custom = [f'c{i}' for i in range(10)]
    write_cifar_meta(tmp_path / 'batches.meta', custom)
    dataset = CIFAR10Dataset(data_root=str(tmp_path), split='test')
    assert dataset.metainfo['classes'] == tuple(custom)


def test_cifar_python3_pickles_load(tmp_path):
    write_cifar_batch(
        tmp_path / 'test_batch', np.ones((2, 32, 32, 3)), [1, 2],
        python2=False)
    dataset = CIFAR10Dataset(data_root=str(tmp_path), split='test',
                             pipeline=PIPELINE)
    assert len(dataset) == 2 and int(dataset[1]['inputs'].max()) == 1


def test_cifar_missing_root_names_path(tmp_path):
    missing = tmp_path / 'nowhere'
    with pytest.raises(FileNotFoundError,
                       match=f'{missing}.*cifar-10-batches-py'):
        CIFAR10Dataset(data_root=str(missing))
    with pytest.raises(FileNotFoundError, match='No CIFAR-10 batches'):
        CIFAR10Dataset(data_root=str(tmp_path))


def test_cifar_missing_batch_names_file(cifar_root):
    root, _ = cifar_root
    (root / 'cifar-10-batches-py' / 'data_batch_4').unlink()
    with pytest.raises(FileNotFoundError, match='data_batch_4 is missing'):
        CIFAR10Dataset(data_root=str(root))


def test_cifar_truncated_batch(cifar_root):
    root, _ = cifar_root
    path = root / 'cifar-10-batches-py' / 'data_batch_2'
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(ValueError, match='data_batch_2 is not a readable'):
        CIFAR10Dataset(data_root=str(root))


class _Exploit:

    def __reduce__(self):
        return (print, ('pwned', ))


def test_cifar_pickle_refuses_foreign_globals(tmp_path):
    path = tmp_path / 'test_batch'
    path.write_bytes(
        pickle.dumps({b'data': _Exploit(), b'labels': []}, protocol=2))
    with pytest.raises(ValueError,
                       match='refusing to load (__builtin__|builtins).print'):
        load_cifar_pickle(str(path))


def test_cifar_bad_labels(tmp_path):
    write_cifar_batch(tmp_path / 'test_batch', np.zeros((2, 32, 32, 3)),
                      [3, 10])
    with pytest.raises(ValueError, match='image 1 has label 10'):
        CIFAR10Dataset(data_root=str(tmp_path), split='test')


def test_cifar_bad_split(cifar_root):
    with pytest.raises(ValueError, match="split must be one of"):
        CIFAR10Dataset(data_root=str(cifar_root[0]), split='val')
