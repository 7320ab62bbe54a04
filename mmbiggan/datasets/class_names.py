"""Class names of the datasets mmbiggan knows, in label order."""
from typing import Tuple, Union

DIGITS_CLASSES: Tuple[str, ...] = tuple(str(d) for d in range(10))

# The order of batches.meta's label_names in cifar-10-batches-py.
CIFAR10_CLASSES: Tuple[str, ...] = ('airplane', 'automobile', 'bird', 'cat',
                                    'deer', 'dog', 'frog', 'horse', 'ship',
                                    'truck')
