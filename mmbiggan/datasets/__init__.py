from .cifar import CIFAR10Dataset
from .class_names import (CIFAR10_CLASSES, DIGITS_CLASSES, IMAGENET_CLASSES,
                          IMAGENET_WNIDS, get_class_names)
from .digits import DigitsDataset
from .image_folder import ImageFolderDataset, ImageNetDataset
from .samplers import ResumableInfiniteSampler
from .transforms import (CenterCropLongEdge, LoadImageFromFile, PackInputs,
                         RandomCropLongEdge, Resize)

__all__ = [
    'CIFAR10Dataset', 'DigitsDataset', 'ImageFolderDataset', 'ImageNetDataset',
    'CIFAR10_CLASSES', 'DIGITS_CLASSES', 'IMAGENET_CLASSES', 'IMAGENET_WNIDS',
    'get_class_names', 'PackInputs', 'LoadImageFromFile', 'Resize',
    'CenterCropLongEdge', 'RandomCropLongEdge', 'ResumableInfiniteSampler'
]
