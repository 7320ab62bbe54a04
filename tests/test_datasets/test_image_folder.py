import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image

from mmbiggan.datasets import (IMAGENET_CLASSES, IMAGENET_WNIDS,
                               ImageFolderDataset, ImageNetDataset)
from ._files import write_lines

LOAD_AND_PACK = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]


def test_annotation_file_paths_labels_and_pixels(annotated_image_root):
    root, written = annotated_image_root
    dataset = ImageNetDataset(
        data_root=str(root),
        data_prefix='train',
        ann_file='meta/train.txt',
        pipeline=LOAD_AND_PACK)
    assert len(dataset) == len(written)
    assert dataset.metainfo['classes'] == IMAGENET_CLASSES
    for idx, (rel, label, img) in enumerate(written):
        info = dataset.get_data_info(idx)
        assert info['img_path'] == osp.join(str(root), 'train', rel)
        item = dataset[idx]
        assert int(item['data_samples'].gt_label) == label
        assert item['data_samples'].img_path == info['img_path']
        got = item['inputs'].permute(1, 2, 0).numpy()
        assert got.shape == img.shape
        if rel.endswith('.png'):
            np.testing.assert_array_equal(got, img)  # lossless
        else:
            assert np.abs(got.astype(int) - img).max() <= 8  # JPEG q95


def test_annotation_label_outside_num_classes(tmp_path):
    write_lines(str(tmp_path / 'ann.txt'), ['a.png 0', '', 'b.png 5'])
    (tmp_path / 'imgs').mkdir()
    with pytest.raises(ValueError) as info:
        ImageFolderDataset(
            data_root=str(tmp_path),
            data_prefix='imgs',
            ann_file='ann.txt',
            num_classes=5)
    message = str(info.value)
    assert 'ann.txt, line 3' in message and 'label 5' in message
    assert '[0, 5)' in message and 'num_classes' in message


def test_imagenet_labels_limited_to_1000(tmp_path):
    write_lines(str(tmp_path / 'meta/train.txt'), ['x/a.JPEG 1000'])
    (tmp_path / 'train').mkdir()
    with pytest.raises(ValueError,
                       match=r'line 1: label 1000 .*\[0, 1000\).*0\.\.999'):
        ImageNetDataset(
            data_root=str(tmp_path), data_prefix='train',
            ann_file='meta/train.txt')


@pytest.mark.parametrize('line',
                         ['a.png', 'a.png cat', 'a.png 1.5', 'a.png --2'])
def test_bad_annotation_line(tmp_path, line):
    write_lines(str(tmp_path / 'ann.txt'), ['ok.png 1', line])
    with pytest.raises(ValueError, match='ann.txt, line 2: expected '
                       '"relative/path label"'):
        ImageFolderDataset(data_root=str(tmp_path), ann_file='ann.txt')


def test_negative_label_rejected_without_num_classes(tmp_path):
    write_lines(str(tmp_path / 'ann.txt'), ['a.png -1'])
    with pytest.raises(ValueError, match='label -1 .*non-negative'):
        ImageFolderDataset(data_root=str(tmp_path), ann_file='ann.txt')


def test_missing_annotation_file_and_root(tmp_path):
    (tmp_path / 'train').mkdir()
    with pytest.raises(FileNotFoundError,
                       match='Annotation file .*meta/train.txt does not '
                       'exist'):
        ImageNetDataset(
            data_root=str(tmp_path), data_prefix='train',
            ann_file='meta/train.txt')
    missing = tmp_path / 'no_such_root'
    with pytest.raises(FileNotFoundError,
                       match=f'Image folder {missing}/train does not exist'):
        ImageNetDataset(
            data_root=str(missing), data_prefix='train',
            ann_file='meta/train.txt')


def test_missing_and_corrupt_image_named_when_read(tmp_path):
    root = tmp_path
    Image.new('RGB', (8, 8)).save(root / 'good.png')
    (root / 'bad.png').write_bytes(b'\x89PNG\r\n\x1a\n' + b'garbage' * 10)
    buffer = (root / 'good.png').read_bytes()
    (root / 'cut.png').write_bytes(buffer[:len(buffer) // 2])
    write_lines(str(root / 'ann.txt'),
                ['good.png 0', 'bad.png 1', 'cut.png 0', 'gone.png 1'])
    dataset = ImageFolderDataset(
        data_root=str(root), ann_file='ann.txt', pipeline=LOAD_AND_PACK)
    assert dataset[0]['inputs'].shape == (3, 8, 8)
    for idx, name in [(1, 'bad.png'), (2, 'cut.png')]:
        with pytest.raises(OSError,
                           match=f'Cannot read image .*{name}.*corrupt'):
            dataset[idx]
    with pytest.raises(FileNotFoundError, match='Image .*gone.png does not '
                       'exist'):
        dataset[3]


def test_class_tree_follows_imagefolder_order(class_tree_root):
    dataset = ImageFolderDataset(
        data_root=str(class_tree_root), pipeline=LOAD_AND_PACK)
    assert dataset.metainfo['classes'] == ('bird', 'cat', 'dog')
    got = [(osp.relpath(dataset.get_data_info(i)['img_path'],
                        class_tree_root), dataset.get_data_info(i)['gt_label'])
           for i in range(len(dataset))]
    # torchvision: classes sorted, files sorted within each walked folder
    # (the folder itself before its subfolders), extensions case-blind,
    # non-images skipped.
    assert got == [('bird/x.bmp', 0), ('cat/z.jpg', 1), ('cat/sub/a.png', 1),
                   ('dog/1.PNG', 2), ('dog/2.png', 2)]
    assert dataset[4]['inputs'].shape == (3, 20, 24)


def test_class_tree_with_class_list_file(class_tree_root, tmp_path):
    write_lines(str(tmp_path / 'classes.txt'), ['dog', 'cat', 'fish', 'bird'])
    dataset = ImageFolderDataset(
        data_root=str(class_tree_root), classes=str(tmp_path / 'classes.txt'))
    assert dataset.metainfo['classes'] == ('dog', 'cat', 'fish', 'bird')
    labels = [dataset.get_data_info(i)['gt_label'] for i in range(5)]
    assert labels == [0, 0, 1, 1, 3]

    with pytest.raises(ValueError, match=r"Subfolders \['bird'\] .*not among"):
        ImageFolderDataset(
            data_root=str(class_tree_root), classes=['dog', 'cat'])
    with pytest.raises(ValueError, match='has 3 classes but num_classes is '
                       '2'):
        ImageFolderDataset(data_root=str(class_tree_root), num_classes=2)
    with pytest.raises(FileNotFoundError, match='Class list file'):
        ImageFolderDataset(
            data_root=str(class_tree_root), classes='missing_classes.txt')


def test_class_tree_empty_class_folder(class_tree_root):
    (class_tree_root / 'empty').mkdir()
    with pytest.raises(FileNotFoundError,
                       match='Class folder .*empty holds no images'):
        ImageFolderDataset(data_root=str(class_tree_root))


def test_imagenet_wnid_folders_keep_standard_labels(tmp_path):
    # A 3-class subset of ImageNet: labels are the ILSVRC ids, not 0..2.
    for wnid in ['n01440764', 'n02099601', 'n09472597']:
        (tmp_path / wnid).mkdir()
        Image.new('RGB', (5, 7)).save(tmp_path / wnid / 'img.JPEG')
    dataset = ImageNetDataset(data_root=str(tmp_path), pipeline=LOAD_AND_PACK)
    labels = [int(dataset[i]['data_samples'].gt_label) for i in range(3)]
    assert labels == [0, 207, 980]
    assert IMAGENET_WNIDS[207] == 'n02099601'
    assert dataset.metainfo['classes'][207] == 'golden retriever'

    (tmp_path / 'cats').mkdir()
    with pytest.raises(ValueError, match=r"\['cats'\].*n01440764"):
        ImageNetDataset(data_root=str(tmp_path))


def test_loader_stacks_annotated_images(annotated_image_root):
    root, written = annotated_image_root
    dataset = ImageNetDataset(
        data_root=str(root),
        data_prefix='train',
        ann_file='meta/train.txt',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='CenterCropLongEdge'),
            dict(type='Resize', scale=(16, 16)),
            dict(type='PackInputs')
        ])
    images = torch.stack([dataset[i]['inputs'] for i in range(len(dataset))])
    assert images.shape == (len(written), 3, 16, 16)


def test_annotation_file_with_bom_crlf_and_bad_encoding(tmp_path):
    Image.new('RGB', (3, 3)).save(tmp_path / 'a.png')
    (tmp_path / 'ann.txt').write_bytes(b'\xef\xbb\xbfa.png 2\r\n')
    dataset = ImageFolderDataset(data_root=str(tmp_path), ann_file='ann.txt')
    assert dataset.get_data_info(0)['img_path'] == str(tmp_path / 'a.png')
    (tmp_path / 'ann.txt').write_bytes(b'\xff\xfea.png 2\n')
    with pytest.raises(ValueError, match='ann.txt is not UTF-8 text'):
        ImageFolderDataset(data_root=str(tmp_path), ann_file='ann.txt')
