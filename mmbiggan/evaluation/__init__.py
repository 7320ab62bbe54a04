from .evaluate import evaluate_generator, shard_indices
from .features import batch_images, dataset_features
from .fid_inception import FIDInceptionV3, resize_bilinear_tf1
from .functional import (FIDResult, covariance_factor, feature_statistics,
                         frechet_distance, inception_score, trace_sqrt_product)
from .inception import (INCEPTION_TYPES, InceptionExtractor,
                        InceptionLoadError, InceptionOutputs,
                        PyTorchFIDInception, StyleGANInception,
                        build_inception, images_to_inception_input,
                        inception_type_of_file)
from .inception_stats import (InceptionStats, load_inception_stats,
                              save_inception_stats)
from .loops import GenerativeValLoop
from .metrics import FID, IS, GenerativeMetric

__all__ = [
    'evaluate_generator', 'shard_indices', 'batch_images', 'dataset_features',
    'FIDInceptionV3', 'resize_bilinear_tf1', 'FIDResult', 'covariance_factor',
    'feature_statistics', 'frechet_distance', 'inception_score',
    'trace_sqrt_product', 'INCEPTION_TYPES', 'InceptionExtractor',
    'InceptionLoadError', 'InceptionOutputs', 'PyTorchFIDInception',
    'StyleGANInception', 'build_inception', 'images_to_inception_input',
    'inception_type_of_file', 'InceptionStats', 'load_inception_stats',
    'save_inception_stats', 'GenerativeValLoop', 'FID',
    'IS', 'GenerativeMetric'
]
