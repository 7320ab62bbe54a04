"""Every case of the reference fixtures, converted and compared with the
outputs the reference implementations recorded (io.pth)."""
import functools
import os.path as osp

import pytest
import torch
from converter_helpers import build_loaded, max_rel_diff
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

from mmbiggan.converters import (convert_biggan_pytorch,
                                 convert_pytorch_pretrained_biggan,
                                 dump_config_text, save_conversion)
from mmbiggan.registry import MODELS

IMAGE_ATOL = 1e-4
LOGIT_RTOL = 1e-5

BGP_CASES = {
    'bgp_C10_res32_ch16_seed0':
    dict(
        output_scale=32,
        base_channels=16,
        num_classes=10,
        with_shared_embedding=False,
        split_noise=False,
        noise_size=128,
        sn_eps=1e-8,
        bn_eps=1e-5),
    'bgp_I128_ch8_seed1':
    dict(
        output_scale=128,
        base_channels=8,
        num_classes=1000,
        with_shared_embedding=True,
        shared_dim=128,
        split_noise=True,
        noise_size=120,
        sn_eps=1e-6,
        bn_eps=1e-5),
}


def load_io(folder):
    return torch.load(osp.join(folder, 'io.pth'), weights_only=True)


@functools.lru_cache(maxsize=None)
def convert_folder(folder):
    """Conversions are shared by the tests of a module (read-only)."""
    return convert_biggan_pytorch([folder])


@pytest.mark.parametrize('name', sorted(BGP_CASES))
def test_bgp_run_folder_matches_reference(reference_dir, name):
    folder = osp.join(reference_dir, name)
    conversion = convert_folder(folder)
    assert sorted(conversion.networks) == [
        'discriminator', 'generator', 'generator_ema'
    ]
    gen_cfg = conversion.networks['generator'].cfg
    for key, value in BGP_CASES[name].items():
        assert gen_cfg[key] == value, key
    assert 'arch_cfg' not in gen_cfg  # the standard layout was recognised
    disc_cfg = conversion.networks['discriminator'].cfg
    assert (disc_cfg['input_scale'], disc_cfg['base_channels'],
            disc_cfg['num_classes']) == (BGP_CASES[name]['output_scale'],
                                         BGP_CASES[name]['base_channels'],
                                         BGP_CASES[name]['num_classes'])
    assert 'assumed_settings' not in conversion.info

    io = load_io(folder)
    gen = build_loaded(conversion.networks['generator'])
    ema = build_loaded(conversion.networks['generator_ema'])
    disc = build_loaded(conversion.networks['discriminator'])
    before = {k: v.clone() for k, v in gen.state_dict().items()}
    with torch.no_grad():
        g_out = gen(io['z'], io['y'])
        ema_out = ema(io['z'], io['y'])
        assert float((g_out - io['G_out']).abs().max()) < IMAGE_ATOL
        assert float((ema_out - io['G_ema_out']).abs().max()) < IMAGE_ATOL
        for key, images in (('D_out_x', io['x']), ('D_out_G', io['G_out']),
                            ('D_out_G_ema', io['G_ema_out'])):
            assert max_rel_diff(disc(images, io['y']), io[key]) < LOGIT_RTOL
    # Eval forwards leave every buffer as stored, as in the reference.
    for key, value in gen.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_bgp_sigma_matches_reference(reference_dir):
    """Per-layer sigma: one power step from the stored u0, not sv0."""
    folder = osp.join(reference_dir, 'bgp_I128_ch8_seed1')
    conversion = convert_folder(folder)
    io = load_io(folder)
    disc = build_loaded(conversion.networks['discriminator'])
    names = dict(linear='decision', embed='proj_y')
    flat = {}  # blocks.i.j -> conv_blocks.k
    k = 0
    for i in range(6):
        for j in (0, 1):
            if any(
                    key.startswith(f'blocks.{i}.{j}.')
                    for key in io['D_buffers_after_forward']):
                flat[f'blocks.{i}.{j}'] = f'conv_blocks.{k}'
                k += 1
    modules = dict(disc.named_modules())
    for ref_name, sigma in io['D_sn_sigma'].items():
        prefix = '.'.join(ref_name.split('.')[:3])
        ours = names.get(ref_name) or ref_name.replace(prefix, flat[prefix])
        layer = modules[ours]
        with torch.no_grad():
            ours_sigma = layer.sn.sigma(layer.weight)
        assert abs(float(ours_sigma) - float(sigma)) < 1e-5 * float(sigma)


def test_bgp_checkpoint_loads_with_mmengine(reference_dir, tmp_path):
    """The written file is an mmengine checkpoint of the GAN model built
    from the config the converter writes; G_ema samples as the
    reference's G_ema."""
    folder = osp.join(reference_dir, 'bgp_C10_res32_ch16_seed0')
    conversion = convert_folder(folder)
    out, cfg_path = str(tmp_path / 'c10.pth'), str(tmp_path / 'c10.py')
    save_conversion(conversion, out, cfg_path)
    assert open(cfg_path).read() == dump_config_text(conversion)
    cfg = Config.fromfile(cfg_path)
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    checkpoint = load_checkpoint(model, out, map_location='cpu', strict=True)
    meta = checkpoint['meta']
    assert meta['converted_from'] == 'BigGAN-PyTorch'
    assert meta['networks'] == ['generator', 'generator_ema', 'discriminator']
    assert meta['itr'] == 2000
    assert cfg.model.ema_config == dict(
        momentum=0.9999, interval=1, start_iter=1000)
    io = load_io(folder)
    model.eval()
    with torch.no_grad():
        out_ema = model.generator_ema(io['z'], io['y'])
    assert float((out_ema - io['G_ema_out']).abs().max()) < IMAGE_ATOL


@functools.lru_cache(maxsize=None)
def convert_hf_folder(folder):
    conversion = convert_pytorch_pretrained_biggan(folder)
    return conversion, build_loaded(conversion.networks['generator']), \
        load_io(folder)


@pytest.fixture
def hf_fixture(reference_dir):
    return convert_hf_folder(osp.join(reference_dir, 'hf_deep128_ch8_seed2'))


def test_hf_fixture_layout(hf_fixture):
    conversion, _, _ = hf_fixture
    assert list(conversion.networks) == ['generator']
    cfg = conversion.networks['generator'].cfg
    assert cfg == dict(
        type='BigGANDeepGenerator',
        output_scale=128,
        noise_size=128,
        num_classes=1000,
        base_channels=8,
        shared_dim=128,
        with_shared_embedding=True,
        concat_noise=True,
        sn_style='torch',
        sn_eps=1e-4,
        bn_eps=1e-4,
        num_bn_stats=51,
        out_conv_channels=8)
    state = conversion.networks['generator'].state_dict
    assert state['conv_blocks.0.bn1.running_mean'].shape == (51, 128)


@pytest.mark.parametrize('case', [0, 1, 2, 'mixed'])
def test_hf_fixture_matches_reference(hf_fixture, case):
    _, gen, io = hf_fixture
    data = io['mixed_class_case'] if case == 'mixed' else io['cases'][case]
    with torch.no_grad():
        out = gen(
            data['z'], data['class_vector'], truncation=data['truncation'])
    assert out.shape == data['out'].shape
    assert float((out - data['out']).abs().max()) < IMAGE_ATOL


def test_hf_fixture_int_labels_equal_one_hot(hf_fixture):
    _, gen, io = hf_fixture
    data = io['cases'][2]
    with torch.no_grad():
        out = gen(data['z'], data['labels'], truncation=data['truncation'])
    assert float((out - data['out']).abs().max()) < IMAGE_ATOL
