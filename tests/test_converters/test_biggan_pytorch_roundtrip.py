"""BigGAN-PyTorch layouts beyond the fixtures (64, 256, 512; with and
without shared embedding, hierarchical latent, spectral norm; attention
elsewhere; several singular values): an mmbiggan network with perturbed
weights is written in BigGAN-PyTorch's layout, converted back, and must
be inferred as the same architecture and compute the same outputs."""
import pytest
import torch
from converter_helpers import (bgp_run_config, build_loaded, perturb_,
                               write_bgp_run)

from mmbiggan.converters import convert_biggan_pytorch
from mmbiggan.models import BigGANDiscriminator, BigGANGenerator

GENERATOR_CASES = {
    # Hierarchical latent and shared embedding, attention at 32 instead of
    # the default 64, no state_dict.pth (epsilons given as options).
    'g64_hier_attn32':
    dict(
        output_scale=64,
        noise_size=100,
        num_classes=7,
        base_channels=4,
        with_shared_embedding=True,
        shared_dim=24,
        split_noise=True,
        sn_eps=1e-6,
        bn_eps=1e-4,
        arch_cfg=dict(
            in_channels=[64, 64, 32, 16],
            out_channels=[64, 32, 16, 8],
            upsample=[True] * 4,
            attention=[False, False, True, False])),
    # Shared embedding without hierarchical latent; dim_z 120 at 256 keeps
    # 119 (7 chunks of 17) when hierarchical: here not, so all 120.
    'g256_shared_flat':
    dict(
        output_scale=256,
        noise_size=120,
        num_classes=5,
        base_channels=2,
        with_shared_embedding=True,
        shared_dim=16,
        split_noise=False,
        sn_eps=1e-8,
        bn_eps=1e-5),
    # Per-class tables, two singular values tracked, no attention.
    'g512_tables_svs2':
    dict(
        output_scale=512,
        noise_size=32,
        num_classes=3,
        base_channels=2,
        with_shared_embedding=False,
        split_noise=False,
        sn_eps=1e-8,
        bn_eps=1e-5,
        sn_svs=2,
        arch_cfg=dict(
            in_channels=[32, 32, 16, 16, 8, 4, 2],
            out_channels=[32, 16, 16, 8, 4, 2, 2],
            upsample=[True] * 7,
            attention=[False] * 7)),
    # Hierarchical 256 (120 -> 119) with state_dict.pth and no SN in G.
    'g256_hier_nosn':
    dict(
        output_scale=256,
        noise_size=120,
        num_classes=4,
        base_channels=2,
        with_shared_embedding=True,
        shared_dim=8,
        split_noise=True,
        with_spectral_norm=False,
        bn_eps=1e-5),
}

DISCRIMINATOR_CASES = {
    'd64':
    dict(input_scale=64, num_classes=6, base_channels=4, sn_eps=1e-8),
    'd256_attn':
    dict(input_scale=256, num_classes=3, base_channels=4, sn_eps=1e-6),
    'd512_uncond_svs2':
    dict(
        input_scale=512, num_classes=0, base_channels=2, sn_eps=1e-8,
        sn_svs=2),
}


def _inputs(gen, batch=2, seed=0):
    rng = torch.Generator().manual_seed(seed)
    noise = torch.randn((batch, gen.noise_size), generator=rng)
    labels = torch.randint(0, gen.num_classes, (batch, ), generator=rng)
    return noise, labels


@pytest.mark.parametrize('name', sorted(GENERATOR_CASES))
def test_generator_roundtrip(tmp_path, name):
    args = GENERATOR_CASES[name]
    original = perturb_(BigGANGenerator(**args), seed=1).eval()
    with_run_state = name == 'g256_hier_nosn'
    run_config = bgp_run_config(
        G_param='none',
        BN_eps=args['bn_eps'],
        dim_z=120,
        shared_dim=args['shared_dim'],
        hier=True,
        G_shared=True,
        resolution=256,
        n_classes=4,
        G_ch=2) if with_run_state else None
    folder = write_bgp_run(
        str(tmp_path / 'run'), generator=original, run_config=run_config)
    options = {} if with_run_state else dict(
        sn_eps=args['sn_eps'], bn_eps=args['bn_eps'])
    conversion = convert_biggan_pytorch([folder], **options)

    cfg = conversion.networks['generator'].cfg
    assert cfg['type'] == 'BigGANGenerator'
    for key, value in args.items():
        if key == 'sn_svs':
            assert cfg['sn_svs'] == value
        elif key != 'with_spectral_norm' or not value:
            assert cfg[key] == value, key
    if 'arch_cfg' not in args:
        assert 'arch_cfg' not in cfg  # recognised as the default layout
    converted = build_loaded(conversion.networks['generator'])
    assert converted.noise_size == original.noise_size
    noise, labels = _inputs(original)
    with torch.no_grad():
        expected = original(noise, labels)
        out = converted(noise, labels)
    assert torch.equal(out, expected)
    assert float(expected.std()) > 0.05  # not a saturated/blank image


@pytest.mark.parametrize('name', sorted(DISCRIMINATOR_CASES))
def test_discriminator_roundtrip(tmp_path, name):
    args = DISCRIMINATOR_CASES[name]
    original = perturb_(BigGANDiscriminator(**args), seed=2).eval()
    folder = write_bgp_run(str(tmp_path / 'run'), discriminator=original)
    conversion = convert_biggan_pytorch([folder], sn_eps=args['sn_eps'])
    cfg = conversion.networks['discriminator'].cfg
    for key, value in args.items():
        assert cfg[key] == value, key
    assert 'arch_cfg' not in cfg
    converted = build_loaded(conversion.networks['discriminator'])
    rng = torch.Generator().manual_seed(3)
    scale = args['input_scale']
    images = torch.rand((2, 3, scale, scale), generator=rng) * 2 - 1
    labels = torch.randint(
        0, max(args['num_classes'], 1), (2, ), generator=rng)
    labels = labels if args['num_classes'] else None
    with torch.no_grad():
        assert torch.equal(converted(images, labels), original(images, labels))


def test_ema_and_assumed_epsilons(tmp_path):
    """G and G_ema from weights alone: the epsilons are BigGAN-PyTorch's
    defaults, recorded in the meta as assumed."""
    args = GENERATOR_CASES['g64_hier_attn32']
    gen = perturb_(BigGANGenerator(**args), seed=4).eval()
    ema = perturb_(BigGANGenerator(**args), seed=5).eval()
    folder = write_bgp_run(str(tmp_path / 'run'), generator=gen, ema=ema)
    conversion = convert_biggan_pytorch([folder])
    assert conversion.info['assumed_settings'] == dict(
        sn_eps=1e-8, bn_eps=1e-5)
    assert conversion.networks['generator_ema'].cfg['bn_eps'] == 1e-5
    model_cfg = conversion.model_cfg()
    assert model_cfg['discriminator'] is None
    assert model_cfg['ema_config'] == dict(momentum=0.9999)
    converted = build_loaded(conversion.networks['generator_ema'])
    noise, labels = _inputs(gen, seed=6)
    with torch.no_grad():
        # Only the epsilons differ from `ema`: outputs agree to rounding.
        diff = (converted(noise, labels) - ema(noise, labels)).abs().max()
    assert float(diff) < 1e-3


def test_single_file_roles(tmp_path):
    """A lone G_ema.pth is the EMA generator, or with --role the
    generator of a sampling-only model."""
    args = GENERATOR_CASES['g256_shared_flat']
    ema = perturb_(BigGANGenerator(**args), seed=7)
    folder = write_bgp_run(str(tmp_path / 'run'), ema=ema)
    path = f'{folder}/G_ema.pth'
    conversion = convert_biggan_pytorch([path], sn_eps=1e-8, bn_eps=1e-5)
    assert list(conversion.networks) == ['generator_ema']
    conversion = convert_biggan_pytorch([path],
                                        role='generator',
                                        sn_eps=1e-8,
                                        bn_eps=1e-5)
    assert list(conversion.networks) == ['generator']
    assert conversion.model_cfg()['ema_config'] is None


def _renamed_bn_keys(state_dict, style):
    """The batch-norm keys BigGAN-PyTorch writes with ``--mybn``
    (``bn.stored_*`` and a counter) or ``--cross_replica`` (SyncBN's
    ``bn.running_*`` and ``num_batches_tracked``)."""
    out = type(state_dict)()
    for key, value in state_dict.items():
        prefix, _, leaf = key.rpartition('.')
        if leaf.startswith('stored_'):
            stat = leaf[len('stored_'):]
            if style == 'mybn':
                out[f'{prefix}.bn.stored_{stat}'] = value
                out[f'{prefix}.bn.accumulation_counter'] = torch.zeros(1)
            else:
                out[f'{prefix}.bn.running_{stat}'] = value
                out[f'{prefix}.bn.num_batches_tracked'] = torch.tensor(7)
        else:
            out[key] = value
    return out


@pytest.mark.parametrize('style', ['mybn', 'cross_replica'])
def test_batch_norm_variants(reference_dir, tmp_path, style):
    """--mybn and --cross_replica runs store the same statistics under
    other names; they convert to the same weights."""
    import shutil
    source = f'{reference_dir}/bgp_C10_res32_ch16_seed0'
    plain = convert_biggan_pytorch([f'{source}/G.pth'])
    folder = tmp_path / 'run'
    folder.mkdir()
    shutil.copy(f'{source}/state_dict.pth', folder)
    weights = torch.load(f'{source}/G.pth', weights_only=True)
    torch.save(_renamed_bn_keys(weights, style), folder / 'G.pth')
    converted = convert_biggan_pytorch([str(folder)])
    expected = plain.networks['generator'].state_dict
    got = converted.networks['generator'].state_dict
    assert list(got) == list(expected)
    assert all(torch.equal(got[k], expected[k]) for k in expected)


def test_named_copies_and_explicit_files(reference_dir, tmp_path):
    """``G_best0.pth``-style copies via name_suffix; explicit files with
    state_dict.pth give the run's epsilons."""
    import shutil
    source = f'{reference_dir}/bgp_C10_res32_ch16_seed0'
    folder = tmp_path / 'run'
    folder.mkdir()
    for stem in ('G', 'G_ema', 'D', 'state_dict'):
        shutil.copy(f'{source}/{stem}.pth', folder / f'{stem}_best0.pth')
    conversion = convert_biggan_pytorch([str(folder)], name_suffix='best0')
    assert sorted(conversion.networks) == [
        'discriminator', 'generator', 'generator_ema'
    ]
    assert conversion.networks['generator'].cfg['sn_eps'] == 1e-8
    conversion = convert_biggan_pytorch(
        [f'{source}/D.pth', f'{source}/state_dict.pth'])
    assert list(conversion.networks) == ['discriminator']
    assert 'assumed_settings' not in conversion.info
    assert conversion.info['itr'] == 2000
