from .formatting import PackInputs
from .loading import LoadImageFromFile
from .processing import CenterCropLongEdge, RandomCropLongEdge, Resize

__all__ = [
    'PackInputs', 'LoadImageFromFile', 'Resize', 'CenterCropLongEdge',
    'RandomCropLongEdge'
]
