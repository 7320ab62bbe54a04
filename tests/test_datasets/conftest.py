"""Fixtures: small datasets in the real on-disk formats, per test."""
import numpy as np
import pytest
from PIL import Image

from ._files import (random_image, smooth_image, write_cifar_batch,
                     write_cifar_meta)


@pytest.fixture
def cifar_root(tmp_path):
    """``tmp/cifar10/cifar-10-batches-py`` with 5 train batches of 2 images
    and a test batch of 3; pixel values encode (batch, index)."""
    rng = np.random.RandomState(0)
    batches_dir = tmp_path / 'cifar10' / 'cifar-10-batches-py'
    batches_dir.mkdir(parents=True)
    expected = {}
    for name, num in [(f'data_batch_{i}', 2)
                      for i in range(1, 6)] + [('test_batch', 3)]:
        images = rng.randint(0, 256, size=(num, 32, 32, 3), dtype=np.uint8)
        labels = rng.randint(0, 10, size=num)
        write_cifar_batch(batches_dir / name, images, labels)
        expected[name] = (images, labels)
    write_cifar_meta(batches_dir / 'batches.meta', [
        'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog',
        'horse', 'ship', 'truck'
    ])
    return tmp_path / 'cifar10', expected


@pytest.fixture
def annotated_image_root(tmp_path):
    """``root/train/...`` PNG and JPEG images of assorted shapes and
    ``root/meta/train.txt`` listing them; returns root and
    ``[(relative path, label, array written)]``."""
    rng = np.random.RandomState(1)
    root = tmp_path / 'imagenet'
    entries = [('n01/a.png', 3, (40, 60)), ('n01/b b.png', 0, (50, 30)),
               ('n02/c.jpg', 999, (48, 48)), ('d.JPEG', 7, (33, 65))]
    written = []
    for rel, label, (h, w) in entries:
        path = root / 'train' / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith('.png'):
            img = random_image(rng, h, w)
            Image.fromarray(img).save(path, format='PNG')
        else:
            img = smooth_image(h, w)
            Image.fromarray(img).save(path, format='JPEG', quality=95)
        written.append((rel, label, img))
    (root / 'meta').mkdir()
    lines = [f'{rel} {label}' for rel, label, _ in written]
    (root / 'meta' / 'train.txt').write_text('\n'.join(lines) + '\n\n')
    return root, written


@pytest.fixture
def class_tree_root(tmp_path):
    """A torchvision-ImageFolder tree: ``root/<class>/...`` with nested
    folders, mixed-case extensions and a non-image file."""
    rng = np.random.RandomState(2)
    root = tmp_path / 'tree'
    files = ['dog/2.png', 'dog/1.PNG', 'cat/z.jpg', 'cat/sub/a.png',
             'cat/notes.txt', 'bird/x.bmp']
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith('.txt'):
            path.write_text('not an image')
        else:
            fmt = {'png': 'PNG', 'jpg': 'JPEG', 'bmp': 'BMP'}[
                rel.rsplit('.', 1)[1].lower()]
            Image.fromarray(random_image(rng, 20, 24)).save(path, format=fmt)
    return root
