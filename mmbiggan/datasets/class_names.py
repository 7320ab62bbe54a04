"""Class names of the datasets mmbiggan knows, in label order."""
import os.path as osp
from typing import Tuple, Union

DIGITS_CLASSES: Tuple[str, ...] = tuple(str(d) for d in range(10))

# The order of batches.meta's label_names in cifar-10-batches-py.
CIFAR10_CLASSES: Tuple[str, ...] = ('airplane', 'automobile', 'bird', 'cat',
                                    'deer', 'dog', 'frog', 'horse', 'ship',
                                    'truck')

IMAGENET_SYNSETS_FILE = osp.join(
    osp.dirname(osp.abspath(__file__)), 'imagenet_synsets.txt')


def _read_imagenet_synsets() -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    """WordNet ids and names of the ILSVRC-2012 classes, in label order.

    Line ``i`` of the file is ``<wnid> <comma-separated names>`` of label
    ``i``, the order BigGAN and torchvision's ImageNet models use (sorted
    wnids).
    """
    with open(IMAGENET_SYNSETS_FILE, encoding='utf-8') as f:
        pairs = [line.rstrip('\n').split(' ', 1) for line in f if line.strip()]
    return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)


IMAGENET_WNIDS, IMAGENET_CLASSES = _read_imagenet_synsets()

_CLASSES_BY_NAME = {
    'imagenet': IMAGENET_CLASSES,
    'cifar10': CIFAR10_CLASSES,
    'digits': DIGITS_CLASSES,
}
_NAME_BY_NUM_CLASSES = {1000: 'imagenet', 10: 'cifar10'}


def get_class_names(name_or_num_classes: Union[str, int]) -> Tuple[str, ...]:
    """Class names in label order, for labelling samples.

    Args:
        name_or_num_classes (str | int): A dataset name (``'imagenet'``,
            ``'cifar10'``, ``'digits'``; case, ``-``/``_`` and a
            ``Dataset`` suffix are ignored, so a config's dataset type such
            as ``'DigitsDataset'`` works), or a number of classes: 1000 gives
            ImageNet's, 10 CIFAR-10's (pass ``'digits'`` for the digits),
            any other number the label numbers as strings.

    Returns:
        tuple[str]: One name per label. ImageNet names are the WordNet
        synonyms, e.g. ``'tench, Tinca tinca'``; the first is the common name.
    """
    if isinstance(name_or_num_classes, bool) or not isinstance(
            name_or_num_classes, (str, int)):
        raise TypeError('get_class_names takes a dataset name or a number of '
                        f'classes, got {name_or_num_classes!r}.')
    if isinstance(name_or_num_classes, int):
        num_classes = name_or_num_classes
        if num_classes < 1:
            raise ValueError(
                f'num_classes must be positive, got {num_classes}.')
        if num_classes in _NAME_BY_NUM_CLASSES:
            return _CLASSES_BY_NAME[_NAME_BY_NUM_CLASSES[num_classes]]
        return tuple(str(label) for label in range(num_classes))
    key = name_or_num_classes.lower().replace('-', '').replace('_', '')
    if key.endswith('dataset'):
        key = key[:-len('dataset')]
    if key not in _CLASSES_BY_NAME:
        raise ValueError(
            f'Unknown dataset {name_or_num_classes!r} for class names; use '
            f'one of {sorted(_CLASSES_BY_NAME)} or a number of classes.')
    return _CLASSES_BY_NAME[key]
