from .attention import SelfAttentionBlock
from .blocks import (BigGANDeepDiscResBlock, BigGANDeepGenResBlock,
                     BigGANDiscResBlock, BigGANGenResBlock,
                     SNGANDiscHeadResBlock, SNGANDiscResBlock,
                     SNGANGenResBlock)
from .conditional_norm import ConditionalBatchNorm2d, truncation_stat_rows
from .spectral_norm import (SNConv2d, SNEmbedding, SNLinear, SpectralNorm,
                            reset_spectral_norm_vectors, spectral_norm_modules)
from .truncation import (check_truncation, num_truncation_stats,
                         sample_truncated_noise, truncated_normal)
from .weight_init import (check_sngan_init_type, init_biggan_weights,
                          init_sngan_weights)

__all__ = [
    'SelfAttentionBlock', 'BigGANGenResBlock', 'BigGANDeepGenResBlock',
    'BigGANDiscResBlock', 'BigGANDeepDiscResBlock', 'SNGANGenResBlock',
    'SNGANDiscHeadResBlock', 'SNGANDiscResBlock', 'ConditionalBatchNorm2d',
    'truncation_stat_rows', 'SpectralNorm', 'SNConv2d', 'SNLinear',
    'SNEmbedding', 'spectral_norm_modules', 'reset_spectral_norm_vectors',
    'truncated_normal', 'sample_truncated_noise', 'check_truncation',
    'num_truncation_stats',
    'init_biggan_weights', 'init_sngan_weights', 'check_sngan_init_type'
]
