"""MMGeneration 0.7.3 and mmagic 1.x checkpoints: each fixture (made by
running their network code, see tests/data/mmgen_checkpoints/README.md)
converted, loaded with ``init_model`` and compared with the outputs their
networks recorded; bad inputs end in one-line errors."""
import functools
import lzma
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from mmbiggan.apis import init_model
from mmbiggan.converters import convert_mmgen, save_conversion
from mmbiggan.converters.mmgen import ajbrock_to_torch, ema_config, map_key
from mmbiggan.models.layers.spectral_norm import SpectralNorm
from mmbiggan.utils.checkpoint import CheckpointError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FIXTURES = osp.join(REPO, 'tests', 'data', 'mmgen_checkpoints')
TOOL = osp.join(REPO, 'tools', 'model_converters', 'mmgen_to_mmbiggan.py')

IMAGE_ATOL = 1e-5
LOGIT_RTOL = 1e-5

# What each fixture must convert to: network types and facts of the layout.
CASES = {
    'mmgen_biggan_cifar_32_torch':
    dict(types=('BigGANGenerator', 'BigGANGenerator', 'BigGANDiscriminator'),
         g=dict(output_scale=32, base_channels=2, num_classes=10,
                sn_style='torch', sn_eps=1e-8, split_noise=False,
                with_shared_embedding=False)),
    'mmgen_biggan_128_ajbrock_nometa':
    dict(types=('BigGANGenerator', 'BigGANGenerator', 'BigGANDiscriminator'),
         g=dict(output_scale=128, num_classes=5, shared_dim=6,
                split_noise=True, noise_size=24, sn_style='ajbrock',
                out_channels=1)),
    'mmgen_biggan_deep_128_torch':
    dict(types=('BigGANDeepGenerator', None, 'BigGANDeepDiscriminator'),
         g=dict(output_scale=128, concat_noise=True, noise_size=3,
                shared_dim=2, sn_style='torch')),
    'mmgen_biggan_deep_32_ajbrock_noconcat_rgb2bgr':
    dict(types=('BigGANDeepGenerator', None, 'BigGANDeepDiscriminator'),
         g=dict(output_scale=32, base_channels=4, concat_noise=False,
                rgb2bgr=True, sn_style='ajbrock')),
    'mmgen_sagan_32_torch_studio':
    dict(types=('SAGANGenerator', None, 'SAGANDiscriminator'),
         g=dict(output_scale=32, base_channels=8, num_classes=10,
                attention_after_nth_block=[2], init_cfg=dict(type='studio'))),
    'mmgen_sngan_64_torch_sngan_init':
    dict(types=('SNGANGenerator', None, 'ProjDiscriminator'),
         g=dict(output_scale=64, base_channels=2, channels_cfg=[4, 4, 4, 4],
                with_spectral_norm=False, norm_eps=1e-5,
                init_cfg=dict(type='sngan-proj'))),
    'mmgen_sagan_32_ajbrock_mixed':
    dict(types=('SAGANGenerator', None, 'SAGANDiscriminator'),
         g=dict(sn_style='torch', sn_eps=1e-6)),
    'mmagic_biggan_32_torch':
    dict(types=('BigGANGenerator', 'BigGANGenerator', 'BigGANDiscriminator'),
         g=dict(output_scale=32, num_classes=10, sn_style='torch')),
    'mmagic_sagan_32_torch':
    dict(types=('SAGANGenerator', 'SAGANGenerator', 'SAGANDiscriminator'),
         g=dict(norm_eps=1e-5, sn_eps=1e-8, init_cfg=dict(type='BigGAN'))),
}


@pytest.fixture(scope='module')
def fixture_dir(tmp_path_factory):
    """The fixtures, decompressed (xz keeps the committed files small)."""
    folder = tmp_path_factory.mktemp('mmgen_checkpoints')
    for name in os.listdir(FIXTURES):
        if name.endswith('.pth.xz'):
            with lzma.open(osp.join(FIXTURES, name)) as src:
                (folder / name[:-3]).write_bytes(src.read())
    return folder


def source(fixture_dir, name):
    return str(fixture_dir / f'{name}.pth')


def load_io(fixture_dir, name):
    return torch.load(fixture_dir / f'{name}_io.pth', weights_only=True)


def disc_inputs(io):
    """The discriminator images: drawn from the seed the fixture recorded."""
    gen = torch.Generator().manual_seed(io['image_seed'])
    n = io['noise'].shape[0]
    size = io['image_scale']
    return torch.rand(n, io['image_channels'], size, size,
                      generator=gen) * 2 - 1


def compare(model, io):
    """Max |difference| of the generators' images and max relative
    difference of the logits against the recorded outputs."""
    diffs = {}
    with torch.no_grad():
        for key, name in (('g', 'generator'), ('g_ema', 'generator_ema')):
            if key in io:
                out = getattr(model, name)(io['noise'], io['labels'])
                diffs[key] = float((out - io[key]).abs().max())
        logits = model.discriminator(disc_inputs(io), io['labels'])
        diffs['d'] = float(((logits - io['d']).abs() /
                            io['d'].abs().clamp_min(1.0)).max())
    return diffs


@functools.lru_cache(maxsize=None)
def _converted(path, source_config=None):
    return convert_mmgen(path, source_config)


def run_tool_in_process(argv, capsys):
    """The converter's ``main`` through the tools' runner (exit status,
    stderr), without a subprocess."""
    import importlib.util

    from mmbiggan.converters.cli import run
    spec = importlib.util.spec_from_file_location('mmgen_to_mmbiggan', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    status = run(tool.main, [str(a) for a in argv])
    return status, capsys.readouterr().err


@pytest.mark.parametrize('name', sorted(CASES))
def test_fixture_converts_and_reproduces_outputs(fixture_dir, tmp_path,
                                                 capsys, name):
    torch.set_num_threads(1)
    out, cfg = tmp_path / 'cvt.pth', tmp_path / 'cvt.py'
    status, err = run_tool_in_process(
        [source(fixture_dir, name), out, '--out-config', cfg], capsys)
    assert status == 0, err
    model = init_model(str(cfg), str(out), device='cpu')
    diffs = compare(model, load_io(fixture_dir, name))
    for key, diff in diffs.items():
        assert diff <= (LOGIT_RTOL if key == 'd' else IMAGE_ATOL), (key,
                                                                   diffs)


@pytest.mark.parametrize('name', sorted(CASES))
def test_fixture_layout_is_recognised(fixture_dir, name):
    conversion = _converted(source(fixture_dir, name))
    expected = CASES[name]
    types = tuple(
        conversion.networks[n].cfg['type']
        if n in conversion.networks else None
        for n in ('generator', 'generator_ema', 'discriminator'))
    assert types == expected['types']
    gen_cfg = conversion.networks['generator'].cfg
    for key, value in expected['g'].items():
        assert gen_cfg[key] == value, key


def test_assumed_settings_only_without_a_source_config(fixture_dir):
    recorded = _converted(
        source(fixture_dir, 'mmgen_sngan_64_torch_sngan_init'))
    assert 'assumed_settings' not in recorded.info
    assert recorded.info['source_config'] == 'the checkpoint meta'
    stripped = _converted(
        source(fixture_dir, 'mmgen_biggan_128_ajbrock_nometa'))
    assert stripped.info['assumed_settings'] == dict(sn_eps=1e-6,
                                                     rgb2bgr=False)


def test_sngan_settings_come_from_the_config(fixture_dir, tmp_path):
    """Without its config, an SNGAN trained with init_cfg 'sngan-proj' and
    norm_eps 1e-5 gets MMGeneration's defaults (a residual batch-norm gain,
    1e-4), which do not reproduce it; --source-config restores them."""
    torch.set_num_threads(1)
    name = 'mmgen_sngan_64_torch_sngan_init'
    checkpoint = torch.load(source(fixture_dir, name), weights_only=True)
    config_text = checkpoint['meta'].pop('config')
    bare = tmp_path / 'bare.pth'
    torch.save(checkpoint, bare)
    io = load_io(fixture_dir, name)

    guessed = convert_mmgen(str(bare))
    assert guessed.info['assumed_settings'] == dict(
        sn_eps=1e-12, bn_eps=1e-4, residual_gain=dict(type='BigGAN'))
    out, cfg = tmp_path / 'guessed.pth', tmp_path / 'guessed.py'
    save_conversion(guessed, str(out), str(cfg))
    assert compare(init_model(str(cfg), str(out)), io)['g'] > 1e-2

    source_cfg = tmp_path / 'sngan_source_config.py'
    source_cfg.write_text(config_text)
    given = convert_mmgen(str(bare), str(source_cfg))
    assert 'assumed_settings' not in given.info
    save_conversion(given, str(out), str(cfg))
    assert compare(init_model(str(cfg), str(out)), io)['g'] <= IMAGE_ATOL


def test_ema_settings(fixture_dir):
    mmgen = _converted(source(fixture_dir, 'mmgen_biggan_cifar_32_torch'))
    # ExponentialMovingAverageHook(interp_cfg=dict(momentum=0.9999),
    # start_iter=1000): buffers are copied (momentum_nontrainable 0)
    assert mmgen.model_cfg()['ema_config'] == dict(
        momentum=0.9999, buffer_momentum=0.0, interval=1, start_iter=1000)
    mmagic = _converted(source(fixture_dir, 'mmagic_biggan_32_torch'))
    # mmagic's momentum=0.0001 is the weight of the new value
    assert mmagic.model_cfg()['ema_config'] == dict(
        momentum=pytest.approx(0.9999), buffer_momentum=0.0, interval=1,
        start_iter=0)
    assert mmagic.info['ema_steps'] == 1000


def test_ema_interval_counts_generator_updates(caplog):
    # MMGeneration's CIFAR-10 BigGAN: the hook every 4 runner iterations
    # with 4 discriminator steps per generator step = every G update.
    hook = dict(type='ExponentialMovingAverageHook', interval=4,
                start_iter=4000, interp_cfg=dict(momentum=0.9999))
    cfg = ema_config(dict(_custom_hooks=[hook], _disc_steps=4))
    assert cfg == dict(momentum=0.9999, buffer_momentum=0.0, interval=1,
                       start_iter=4000)
    hook.update(interval=8, interp_cfg=dict(momentum=0.999,
                                            momentum_nontrainable=0.5))
    assert ema_config(dict(_custom_hooks=[hook], _disc_steps=4)) == dict(
        momentum=0.999, buffer_momentum=0.5, interval=2, start_iter=4000)
    hook.update(interval=6)  # not a whole number of G steps
    with caplog.at_level('WARNING', logger='mmbiggan.converters.mmgen'):
        assert ema_config(dict(_custom_hooks=[hook],
                               _disc_steps=4))['interval'] == 1
        # the hook's default interval -1: mmcv never runs it
        assert ema_config(dict(_custom_hooks=[dict(
            type='ExponentialMovingAverageHook')])) is None
    assert 'not a whole number of generator steps' in caplog.text
    assert 'interval=-1: it never averaged' in caplog.text
    # mmagic: momentum is the weight of the new value
    assert ema_config(dict(ema_config=dict(momentum=0.001, interval=2))) == \
        dict(momentum=0.999, buffer_momentum=0.0, interval=2, start_iter=0)


def test_zip_format_checkpoint_converts(fixture_dir, tmp_path):
    # The fixtures use torch's legacy container; runs save zip archives.
    name = 'mmgen_sagan_32_torch_studio'
    checkpoint = torch.load(source(fixture_dir, name), weights_only=True)
    path = tmp_path / 'zip.pth'
    torch.save(checkpoint, path)
    with open(path, 'rb') as f:
        assert f.read(2) == b'PK'
    conversion = convert_mmgen(str(path))
    reference = _converted(source(fixture_dir, name))
    for net, converted in conversion.networks.items():
        expected = reference.networks[net].state_dict
        assert converted.state_dict.keys() == expected.keys()
        assert all(
            torch.equal(v, expected[k])
            for k, v in converted.state_dict.items())


def test_key_mapping():
    assert map_key('conv_blocks.0.conv1.conv.weight_orig') == \
        'conv_blocks.0.conv1.weight'
    assert map_key('conv_blocks.0.conv1.conv.weight_u') == \
        'conv_blocks.0.conv1.sn.u'
    assert map_key('conv_blocks.3.shortcut.conv.u0') == \
        'conv_blocks.3.conv_sc.sn.u0'
    assert map_key('conv_blocks.1.bn2.bn.running_var') == \
        'conv_blocks.1.bn2.running_var'
    assert map_key('conv_blocks.1.bn2.bias.weight_v') == \
        'conv_blocks.1.bn2.bias.sn.v'
    assert map_key('conv_blocks.2.norm_1.weight_embedding.weight') == \
        'conv_blocks.2.bn1.gain.weight'
    assert map_key('output_layer.bn.running_mean') == 'out_bn.running_mean'
    assert map_key('to_rgb.conv.weight_orig') == 'out_conv.weight'
    assert map_key('from_rgb.conv_2.conv.bias') == 'from_rgb.conv2.bias'
    assert map_key('decision.sv0') == 'decision.sn.sv0'
    assert map_key('conv_blocks.0.bn1.bn.num_batches_tracked') is None


def test_ajbrock_vectors_become_torch_vectors_with_the_same_sigma():
    """ajbrock's eval sigma (one power iteration from u0) equals torch's
    u . W v for the converted pair."""
    gen = torch.Generator().manual_seed(0)
    weight = torch.randn(6, 4, 3, 3, generator=gen)
    u0 = F.normalize(torch.randn(1, 6, generator=gen))
    ajbrock = SpectralNorm(6, 36, style='ajbrock', eps=1e-6).eval()
    ajbrock.u0.copy_(u0)
    state = {'conv.weight': weight, 'conv.sn.u0': u0,
             'conv.sn.sv0': torch.ones(1)}
    ajbrock_to_torch(state, 'conv', eps=1e-6)
    assert sorted(state) == ['conv.sn.u', 'conv.sn.v', 'conv.weight']
    torch_style = SpectralNorm(6, 36, style='torch', eps=1e-6).eval()
    torch_style.u.copy_(state['conv.sn.u'])
    torch_style.v.copy_(state['conv.sn.v'])
    expected = float(ajbrock.sigma(weight))
    assert float(torch_style.sigma(weight)) == pytest.approx(expected,
                                                             rel=1e-6)
    # and not the stored u0 used as it is
    matrix = weight.reshape(6, -1)
    top = torch.linalg.svdvals(matrix)[0]
    assert expected < float(top) * (1 + 1e-6)


# ---------------------------------------------------------------------------
# Bad inputs
# ---------------------------------------------------------------------------
def edited(fixture_dir, tmp_path, name, edit):
    checkpoint = torch.load(source(fixture_dir, name), weights_only=True)
    edit(checkpoint['state_dict'])
    path = tmp_path / 'edited.pth'
    torch.save(checkpoint, path)
    return str(path)


def test_missing_key_is_named(fixture_dir, tmp_path):
    path = edited(
        fixture_dir, tmp_path, 'mmgen_biggan_cifar_32_torch',
        lambda sd: sd.pop('generator.conv_blocks.1.conv2.conv.weight_u'))
    with pytest.raises(CheckpointError) as err:
        convert_mmgen(path)
    message = str(err.value)
    assert '\n' not in message
    assert '1 missing (as mmbiggan names them): conv_blocks.1.conv2.sn.u' \
        in message
    assert '(generator)' in message


def test_unexpected_key_is_named(fixture_dir, tmp_path):

    def add(sd):
        sd['discriminator.conv_blocks.0.extra.conv.weight'] = torch.ones(1)

    path = edited(fixture_dir, tmp_path, 'mmgen_biggan_cifar_32_torch', add)
    with pytest.raises(CheckpointError) as err:
        convert_mmgen(path)
    assert '1 unexpected: conv_blocks.0.extra.conv.weight' in str(err.value)


def test_keys_outside_the_networks_are_refused(fixture_dir, tmp_path):

    def add(sd):
        sd['data_preprocessor.mean'] = torch.zeros(3)

    path = edited(fixture_dir, tmp_path, 'mmgen_sagan_32_torch_studio', add)
    with pytest.raises(CheckpointError, match='1 keys outside the generator'
                       '.*data_preprocessor.mean'):
        convert_mmgen(path)


def test_swapped_networks_are_refused(fixture_dir, tmp_path):

    def swap(sd):
        for key in list(sd):
            if key.startswith('generator.'):
                sd['discriminator.' + key[len('generator.'):]] = sd.pop(key)
            elif key.startswith('discriminator.'):
                sd['generator.' + key[len('discriminator.'):]] = sd.pop(key)

    path = edited(fixture_dir, tmp_path, 'mmgen_sagan_32_torch_studio', swap)
    with pytest.raises(CheckpointError,
                       match='holds a ProjDiscriminator, which is not a '
                       'generator'):
        convert_mmgen(path)


def test_wrong_files_are_refused(tmp_path):
    text = tmp_path / 'notes.pth'
    text.write_text('not a checkpoint')
    with pytest.raises(CheckpointError, match='not a PyTorch checkpoint'):
        convert_mmgen(str(text))
    bare = tmp_path / 'G.pth'  # a bare state dict, e.g. BigGAN-PyTorch's
    torch.save({'linear.weight': torch.ones(2, 2)}, bare)
    with pytest.raises(CheckpointError,
                       match='holds no `generator.\\*`, `generator_ema'):
        convert_mmgen(str(bare))
    with pytest.raises(CheckpointError, match='Input not found'):
        convert_mmgen(str(tmp_path / 'absent.pth'))


def run_tool(*args):
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join(
                   [REPO, os.environ.get('PYTHONPATH', '')]))
    return subprocess.run([sys.executable, TOOL, *map(str, args)],
                          capture_output=True, text=True, cwd=REPO, env=env)


def test_tool_converts_checks_and_refuses_existing_output(
        fixture_dir, tmp_path):
    src = source(fixture_dir, 'mmagic_sagan_32_torch')
    out, cfg = tmp_path / 'sagan.pth', tmp_path / 'sagan.py'
    result = run_tool(src, out, '--out-config', cfg)
    assert result.returncode == 0, result.stderr
    assert 'generator_ema: SAGANGenerator 32x32, base_channels=8, ' \
        'num_classes=10' in result.stdout
    checkpoint = torch.load(out, weights_only=True)
    assert checkpoint['meta']['converted_from'] == 'MMGeneration/mmagic'
    assert 'generator_ema.conv_blocks.2.theta.sn.u' in checkpoint[
        'state_dict']

    # --config: the written config fits; existing outputs are refused
    before = out.read_bytes()
    result = run_tool(src, out, '--config', cfg)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f'error: The output {out} already exists; pass --force to overwrite'
        ' it or choose another path.'
    ]
    assert out.read_bytes() == before
    result = run_tool(src, out, '--config', cfg, '--force')
    assert result.returncode == 0, result.stderr
    assert 'The conversion fits' in result.stdout


def test_tool_config_mismatch_is_one_line(fixture_dir, tmp_path):
    src = source(fixture_dir, 'mmgen_biggan_deep_32_ajbrock_noconcat_rgb2bgr')
    cfg = tmp_path / 'deep.py'
    assert run_tool(src, tmp_path / 'a.pth', '--out-config',
                    cfg).returncode == 0
    cfg.write_text(cfg.read_text().replace('rgb2bgr=True', 'rgb2bgr=False'))
    result = run_tool(src, tmp_path / 'b.pth', '--config', cfg)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ')
    assert 'rgb2bgr is False in the config but True in the source' in lines[0]
    assert not (tmp_path / 'b.pth').exists()


def test_source_config_of_another_run_is_refused(fixture_dir, tmp_path):
    name = 'mmgen_sagan_32_torch_studio'
    checkpoint = torch.load(source(fixture_dir, name), weights_only=True)
    text = checkpoint['meta']['config']
    other = tmp_path / 'other_run.py'
    other.write_text(text.replace('num_classes=10', 'num_classes=100'))
    with pytest.raises(CheckpointError) as err:
        convert_mmgen(source(fixture_dir, name), str(other))
    message = str(err.value)
    assert "num_classes=100 in the config but 10 in the weights" in message
    assert 'give the config of this run' in message and '\n' not in message


def test_source_config_arguments_not_taken_over_are_reported(
        fixture_dir, tmp_path, caplog):
    name = 'mmgen_sagan_32_torch_studio'
    checkpoint = torch.load(source(fixture_dir, name), weights_only=True)
    text = checkpoint['meta']['config'].replace(
        "type='SAGANGenerator'",
        "type='SAGANGenerator', blocks_cfg=dict(type='SNGANGenResBlock', "
        "norm_cfg=dict(type='IN'))")
    cfg = tmp_path / 'with_blocks_cfg.py'
    cfg.write_text(text)
    with caplog.at_level('WARNING', logger='mmbiggan.converters.mmgen'):
        convert_mmgen(source(fixture_dir, name), str(cfg))
    assert "the source config sets ['blocks_cfg']" in caplog.text


def test_runner_objects_need_trust(fixture_dir, tmp_path):
    """An mmengine training checkpoint pickles its message hub's
    HistoryBuffer objects: refused under weights_only=True with the way
    out named, converted when the user trusts the file."""
    from mmengine.logging import HistoryBuffer

    from mmbiggan.utils.checkpoint import trusted_pickle
    name = 'mmagic_biggan_32_torch'
    checkpoint = torch.load(source(fixture_dir, name), weights_only=True)
    checkpoint['message_hub'] = dict(
        log_scalars={'train/loss_gen': HistoryBuffer()})
    path = tmp_path / 'iter_1000.pth'
    torch.save(checkpoint, path)
    with pytest.raises(CheckpointError, match='pass --trust-pickle'):
        convert_mmgen(str(path))
    with trusted_pickle(True):
        conversion = convert_mmgen(str(path))
    assert sorted(conversion.networks) == [
        'discriminator', 'generator', 'generator_ema'
    ]
