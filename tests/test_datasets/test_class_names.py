import pytest

from mmbiggan.datasets import (CIFAR10_CLASSES, DIGITS_CLASSES,
                               IMAGENET_CLASSES, IMAGENET_WNIDS,
                               get_class_names)


def test_imagenet_names_in_ilsvrc_label_order():
    assert len(IMAGENET_CLASSES) == len(IMAGENET_WNIDS) == 1000
    # Standard label ids are the sorted WordNet ids.
    assert list(IMAGENET_WNIDS) == sorted(set(IMAGENET_WNIDS))
    assert all(w.startswith('n') and len(w) == 9 for w in IMAGENET_WNIDS)
    # Labels BigGAN demos use.
    assert IMAGENET_CLASSES[0] == 'tench, Tinca tinca'
    assert IMAGENET_CLASSES[1] == 'goldfish, Carassius auratus'
    assert IMAGENET_CLASSES[207] == 'golden retriever'
    assert IMAGENET_CLASSES[980] == 'volcano'
    assert IMAGENET_CLASSES[999].startswith('toilet tissue')
    assert IMAGENET_WNIDS[999] == 'n15075141'


@pytest.mark.parametrize('key,want', [
    (1000, IMAGENET_CLASSES), ('imagenet', IMAGENET_CLASSES),
    ('ImageNetDataset', IMAGENET_CLASSES), (10, CIFAR10_CLASSES),
    ('CIFAR-10', CIFAR10_CLASSES), ('CIFAR10Dataset', CIFAR10_CLASSES),
    ('digits', DIGITS_CLASSES), ('DigitsDataset', DIGITS_CLASSES),
    (3, ('0', '1', '2'))
])
def test_get_class_names(key, want):
    assert get_class_names(key) == want


def test_get_class_names_errors():
    with pytest.raises(ValueError, match="Unknown dataset 'mnist'.*cifar10"):
        get_class_names('mnist')
    with pytest.raises(ValueError, match='positive'):
        get_class_names(0)
    with pytest.raises(TypeError):
        get_class_names(None)
