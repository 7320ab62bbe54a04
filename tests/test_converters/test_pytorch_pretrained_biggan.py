"""BigGAN-Deep 256 and 512 built with the pytorch-pretrained-biggan package
(its released layer lists at small widths, random weights, per-row
statistics), converted, and compared with the package's own eval output at
several truncations, including ones between statistics rows whose blend
weights come from float64 rounding."""
import copy

import pytest
import torch
from converter_helpers import build_loaded, make_hf_model, write_hf_folder

from mmbiggan.converters import (convert_pytorch_pretrained_biggan,
                                 gen_z_permutation)

IMAGE_ATOL = 1e-4

pytest.importorskip('pytorch_pretrained_biggan')


def _config(name, channel_width, **overrides):
    """A released layout (``convert_tf_to_pytorch.BigGAN128/256/512``) at
    another width, possibly altered."""
    from pytorch_pretrained_biggan import convert_tf_to_pytorch
    config = copy.deepcopy(getattr(convert_tf_to_pytorch, name))
    config.channel_width = channel_width
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


# 0.06 / 0.02 and 0.7 / 0.02 are not whole numbers in float64: the
# reference blends two rows with a weight of ~1e-15 there. The third case
# moves attention inside a resolution and records 11 rows of statistics.
CASES = {
    'deep256':
    dict(layout=('BigGAN256', 4, {}), truncations=(0.06, 0.4, 0.653, 1.0)),
    'deep512':
    dict(layout=('BigGAN512', 4, {}), truncations=(0.25, 0.7, 0.999)),
    'deep128_attn5_stats11':
    dict(
        layout=('BigGAN128', 4, dict(attention_layer_position=5, n_stats=11)),
        truncations=(0.15, 0.5, 0.93)),
}


@pytest.fixture(scope='module', params=sorted(CASES))
def converted_pair(request, tmp_path_factory):
    name = request.param
    base, width, overrides = CASES[name]['layout']
    config = _config(base, width, **overrides)
    reference = make_hf_model(config, seed=11)
    folder = write_hf_folder(
        str(tmp_path_factory.mktemp(name)), reference, config)
    conversion = convert_pytorch_pretrained_biggan(folder)
    return name, config, reference, conversion


def test_layout_inferred(converted_pair):
    name, config, _, conversion = converted_pair
    cfg = conversion.networks['generator'].cfg
    assert cfg['output_scale'] == config.output_dim
    assert cfg['base_channels'] == config.channel_width
    assert cfg['num_bn_stats'] == config.n_stats
    assert cfg['out_conv_channels'] == config.channel_width
    if config.attention_layer_position == 8:
        # The released layer lists are mmbiggan's default BigGAN-Deep layout.
        assert 'arch_cfg' not in cfg and 'block_depth' not in cfg
    else:
        # Attention after layer 4 (inside a resolution): one block per stage.
        assert cfg['block_depth'] == 1
        arch = cfg['arch_cfg']
        assert len(arch['out_channels']) == len(config.layers)
        assert arch['attention'].index(True) == 4
        assert arch['upsample'] == [layer[0] for layer in config.layers]


def test_outputs_match_reference(converted_pair):
    """One-hot and mixed class vectors at every truncation of the case."""
    from pytorch_pretrained_biggan import truncated_noise_sample
    name, config, reference, conversion = converted_pair
    converted = build_loaded(conversion.networks['generator'])
    classes = torch.zeros(2, 1000)
    classes[0, 998] = 1
    classes[1, [2, 7, 500]] = torch.tensor([0.2, 0.5, 0.3])
    for truncation in CASES[name]['truncations']:
        z = torch.from_numpy(
            truncated_noise_sample(2, 128, truncation, seed=5))
        with torch.no_grad():
            expected = reference(z, classes, truncation)
            out = converted(z, classes, truncation=truncation)
        assert out.shape == (2, 3, config.output_dim, config.output_dim)
        assert float((out - expected).abs().max()) < IMAGE_ATOL, truncation
    # The statistics rows matter: with the same noise, another truncation
    # (so other rows) gives a clearly different image.
    with torch.no_grad():
        other = converted(z, classes, truncation=0.5)
    assert float((other - out).abs().max()) > 0.05


def test_gen_z_permutation_is_nhwc_to_nchw():
    channels = 6
    perm = gen_z_permutation(channels)
    flat = torch.arange(4 * 4 * channels).float()[None]
    reference = flat.view(1, 4, 4, channels).permute(0, 3, 1, 2)
    assert torch.equal(flat[:, perm].view(1, channels, 4, 4), reference)
