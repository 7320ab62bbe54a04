from .evaluate import evaluate_generator, shard_indices
from .extractors import PixelFeatures
from .features import (batch_images, batch_labels, dataset_features,
                       gather_real_features)
from .fid_inception import FIDInceptionV3, resize_bilinear_tf1
from .functional import (FIDResult, covariance_factor, feature_statistics,
                         frechet_distance, frechet_distance_of_features,
                         inception_score, trace_sqrt_product)
from .inception import (INCEPTION_TYPES, InceptionExtractor,
                        InceptionLoadError, InceptionOutputs,
                        PyTorchFIDInception, StyleGANInception,
                        build_inception, images_to_inception_input,
                        inception_type_of_file)
from .inception_stats import (InceptionStats, load_inception_stats,
                              save_inception_stats)
from .loops import GenerativeValLoop
from .manifold import (ManifoldResult, knn_radii, manifold_metrics,
                       mean_pairwise_distance)
from .metrics import (FID, IS, GenerativeMetric, IntraClassFID,
                      PrecisionRecall, RealFeaturesMetric)
from .real_features import (RealFeatures, load_real_features,
                            save_real_features, subset_indices)

__all__ = [
    'evaluate_generator', 'shard_indices', 'PixelFeatures', 'batch_images',
    'batch_labels', 'dataset_features', 'gather_real_features',
    'frechet_distance_of_features', 'ManifoldResult', 'knn_radii',
    'manifold_metrics', 'mean_pairwise_distance', 'IntraClassFID',
    'PrecisionRecall', 'RealFeaturesMetric', 'RealFeatures',
    'load_real_features', 'save_real_features', 'subset_indices',
    'FIDInceptionV3', 'resize_bilinear_tf1', 'FIDResult', 'covariance_factor',
    'feature_statistics', 'frechet_distance', 'inception_score',
    'trace_sqrt_product', 'INCEPTION_TYPES', 'InceptionExtractor',
    'InceptionLoadError', 'InceptionOutputs', 'PyTorchFIDInception',
    'StyleGANInception', 'build_inception', 'images_to_inception_input',
    'inception_type_of_file', 'InceptionStats', 'load_inception_stats',
    'save_inception_stats', 'GenerativeValLoop', 'FID',
    'IS', 'GenerativeMetric'
]
