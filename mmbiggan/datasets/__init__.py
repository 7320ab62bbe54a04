from .class_names import CIFAR10_CLASSES, DIGITS_CLASSES
from .digits import DigitsDataset
from .transforms import PackInputs

__all__ = ['CIFAR10_CLASSES', 'DIGITS_CLASSES', 'DigitsDataset', 'PackInputs']
