"""The shipped configs of converted models fit full-size released weights:
keys, shapes and every setting that shapes eval outputs, checked at the
shape level (meta tensors) against the layouts of the real releases."""
import copy
import functools
import os.path as osp

import pytest
import torch
from converter_helpers import bgp_run_config, export_bgp

from mmbiggan.converters import Conversion, ConvertedNetwork
from mmbiggan.converters import biggan_pytorch as bgp
from mmbiggan.converters import check_against_config
from mmbiggan.converters import pytorch_pretrained_biggan as hf
from mmbiggan.converters.conversion import build_network_shapes_only
from mmbiggan.utils import CheckpointError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@functools.lru_cache(maxsize=None)
def hf_release_conversion(name):
    """The conversion of the released biggan-deep weights, on meta."""
    from pytorch_pretrained_biggan import BigGAN, convert_tf_to_pytorch
    config = copy.deepcopy(getattr(convert_tf_to_pytorch, name))
    with torch.device('meta'):
        model = BigGAN(config)
    config = config.to_dict()
    cfg = hf.generator_cfg(config, name)
    hf.check_layout(model.state_dict(), config, name)
    state_dict, _ = hf.map_keys(model.state_dict(),
                                16 * config['channel_width'], name)
    return Conversion(hf.SOURCE_FORMAT,
                      dict(generator=ConvertedNetwork(cfg, state_dict, name)))


@pytest.mark.parametrize('scale', [128, 256, 512])
def test_biggan_deep_configs_fit_release(scale):
    conversion = hf_release_conversion(f'BigGAN{scale}')
    assert conversion.networks['generator'].cfg['base_channels'] == 128
    check_against_config(
        conversion,
        osp.join(REPO, 'configs', 'biggan_deep',
                 f'biggan-deep_{scale}x{scale}_cvt_hugging-face_rgb.py'))


def bgp_release_conversion():
    """G, G_ema and D of BigGAN-PyTorch's ImageNet-128 release (ch 96,
    launch_BigGAN_bs256x8.sh), in its key layout, converted on meta."""
    run = bgp_run_config(
        resolution=128,
        n_classes=1000,
        G_ch=96,
        D_ch=96,
        dim_z=120,
        shared_dim=128,
        G_shared=True,
        hier=True,
        G_attn='64',
        D_attn='64',
        G_nl='inplace_relu',
        D_nl='inplace_relu',
        SN_eps=1e-6,
        BN_eps=1e-5,
        ema_start=20000)
    settings, assumed = bgp.settings_from_run(run, None, None)
    assert not assumed
    gen_args = dict(
        type='BigGANGenerator',
        output_scale=128,
        noise_size=120,
        num_classes=1000,
        base_channels=96,
        shared_dim=128,
        split_noise=True)
    disc_args = dict(
        type='BigGANDiscriminator',
        input_scale=128,
        num_classes=1000,
        base_channels=96)
    networks = {}
    for role, args, kind in (('generator', gen_args, 'G'), ('generator_ema',
                                                            gen_args, 'G'),
                             ('discriminator', disc_args, 'D')):
        weights = export_bgp(build_network_shapes_only(args), kind)
        net_kind = bgp.network_kind(weights)
        if net_kind == 'generator':
            cfg = bgp.generator_cfg(weights, settings, role)
        else:
            cfg = bgp.discriminator_cfg(weights, settings, role, 128)
        bgp.check_against_run(cfg, net_kind, run, role)
        networks[role] = ConvertedNetwork(
            cfg,
            bgp.map_keys(weights, net_kind, role)[0], role)
    return Conversion(bgp.SOURCE_FORMAT, networks)


def test_biggan_config_fits_release():
    conversion = bgp_release_conversion()
    cfg = conversion.networks['generator'].cfg
    assert (cfg['noise_size'], cfg['base_channels'], cfg['sn_eps'],
            cfg['bn_eps']) == (120, 96, 1e-6, 1e-5)
    check_against_config(
        conversion,
        osp.join(REPO, 'configs', 'biggan',
                 'biggan_128x128_cvt_BigGAN-PyTorch_rgb.py'))


def test_config_disagreements_are_listed():
    """A training config of the same shapes but other eps and BGR output is
    rejected with each difference named."""
    from mmengine.config import Config
    conversion = hf_release_conversion('BigGAN128')
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'biggan_deep',
                 'biggan-deep_128x128_cvt_hugging-face_rgb.py'))
    cfg.model.generator.update(sn_eps=1e-6, rgb2bgr=True)
    with pytest.raises(CheckpointError) as err:
        check_against_config(conversion, cfg)
    message = str(err.value)
    assert 'sn_eps is 1e-06 in the config but 0.0001 in the source' in message
    assert 'rgb2bgr is True in the config but False' in message
    assert '\n' not in message
