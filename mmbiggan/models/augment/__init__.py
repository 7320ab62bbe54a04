from .diff_augment import DiffAugment, parse_policy

__all__ = ['DiffAugment', 'parse_policy']
