"""The command-line converters: a real subprocess run each, and every bad
input ending in a one-line error, exit status 2 and no output written
(an existing output untouched)."""
import importlib.util
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools', 'model_converters')
BGP_TOOL = osp.join(TOOLS, 'biggan_pytorch_to_mmbiggan.py')
HF_TOOL = osp.join(TOOLS, 'huggingface_to_mmbiggan.py')
BGP_128_CONFIG = osp.join(REPO, 'configs', 'biggan',
                          'biggan_128x128_cvt_BigGAN-PyTorch_rgb.py')
HF_128_CONFIG = osp.join(REPO, 'configs', 'biggan_deep',
                         'biggan-deep_128x128_cvt_hugging-face_rgb.py')


def load_tool(path):
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_in_process(tool, argv, capsys):
    from mmbiggan.converters.cli import run
    status = run(load_tool(tool).main, [str(a) for a in argv])
    return status, capsys.readouterr().err


def run_tool(tool, *args):
    # One thread: the tool's networks are small and the test machine busy.
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, tool, *map(str, args)],
                          capture_output=True,
                          text=True,
                          cwd=REPO,
                          env=env)


def test_bgp_tool_subprocess(reference_dir, tmp_path):
    folder = osp.join(reference_dir, 'bgp_C10_res32_ch16_seed0')
    out, cfg = tmp_path / 'c10.pth', tmp_path / 'c10.py'
    result = run_tool(BGP_TOOL, folder, out, '--out-config', cfg)
    assert result.returncode == 0, result.stderr
    log = result.stdout + result.stderr
    assert 'generator: BigGANGenerator 32x32, base_channels=16, ' \
        'num_classes=10, noise_size=128;' in log
    assert 'generator_ema: ' in log and 'discriminator: ' \
        'BigGANDiscriminator 32x32' in log
    checkpoint = torch.load(out, map_location='cpu', weights_only=True)
    assert checkpoint['meta']['networks'] == [
        'generator', 'generator_ema', 'discriminator'
    ]
    keys = checkpoint['state_dict']
    assert 'generator_ema.conv_blocks.2.conv1.sn.u0' in keys
    assert keys['generator.conv_blocks.0.bn1.gain.weight'].shape == (10, 64)
    assert keys['discriminator.proj_y.weight'].shape == (10, 64)
    assert 'model = dict(' in cfg.read_text()
    assert not [n for n in os.listdir(tmp_path) if n.endswith('.tmp')]


def test_hf_tool_subprocess_refuses_existing_output(reference_dir, tmp_path):
    folder = osp.join(reference_dir, 'hf_deep128_ch8_seed2')
    out = tmp_path / 'deep.pth'
    out.write_bytes(b'precious')
    result = run_tool(HF_TOOL, folder, out)
    assert result.returncode == 2
    assert result.stderr.strip().startswith('error: ')
    assert 'already exists; pass --force' in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert out.read_bytes() == b'precious'


def test_force_overwrites_and_config_check(reference_dir, tmp_path, capsys):
    """--force replaces the file; --config checks the conversion against a
    config (here the one the converter wrote on a first run); the result
    loads with the project's init_model and samples as the reference."""
    from mmbiggan.apis import init_model
    folder = osp.join(reference_dir, 'hf_deep128_ch8_seed2')
    first, cfg = tmp_path / 'a.pth', tmp_path / 'a.py'
    status, err = run_in_process(HF_TOOL, [folder, first, '--out-config', cfg],
                                 capsys)
    assert status == 0, err
    second = tmp_path / 'b.pth'
    second.write_bytes(b'old')
    status, err = run_in_process(HF_TOOL, [
        osp.join(folder, 'pytorch_model.bin'), second, '--hf-config',
        osp.join(folder, 'config.json'), '--config', cfg, '--force'
    ], capsys)
    assert status == 0, err
    a = torch.load(first, weights_only=True)['state_dict']
    b = torch.load(second, weights_only=True)['state_dict']
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)

    model = init_model(str(cfg), str(second), device='cpu')
    assert model.generator_ema is None and model.discriminator is None
    case = torch.load(
        osp.join(folder, 'io.pth'), weights_only=True)['cases'][2]
    with torch.no_grad():
        out = model.generator(
            case['z'], case['class_vector'], truncation=case['truncation'])
    assert float((out - case['out']).abs().max()) < 1e-4


def _bgp_copy(reference_dir, tmp_path, name='bgp_C10_res32_ch16_seed0'):
    folder = tmp_path / 'run'
    shutil.copytree(osp.join(reference_dir, name), folder)
    os.remove(folder / 'io.pth')
    return folder


def _edit_weights(path, edit):
    state = torch.load(path, weights_only=True)
    edit(state)
    torch.save(state, path)


def case_optimizer_file(ref, tmp):
    folder = _bgp_copy(ref, tmp)
    return BGP_TOOL, [folder / 'G_optim.pth'], 'is an optimizer state'


def case_not_a_state_dict(ref, tmp):
    folder = _bgp_copy(ref, tmp)
    shutil.copy(
        osp.join(ref, 'bgp_C10_res32_ch16_seed0', 'io.pth'), folder / 'G.pth')
    return BGP_TOOL, [folder / 'G.pth'], 'is not a BigGAN-PyTorch G/D state'


def case_hf_weights_given_as_bgp(ref, tmp):
    target = tmp / 'G.pth'
    shutil.copy(
        osp.join(ref, 'hf_deep128_ch8_seed2', 'pytorch_model.bin'), target)
    return BGP_TOOL, [target], 'holds neither a BigGAN-PyTorch G nor D'


def case_d_given_as_g(ref, tmp):
    folder = _bgp_copy(ref, tmp)
    return BGP_TOOL, [folder / 'D.pth', '--role', 'generator'], \
        'was given as generator but holds a discriminator'


def case_text_file(ref, tmp):
    target = tmp / 'G.pth'
    target.write_text('not a checkpoint')
    return BGP_TOOL, [target], 'G.pth is not a PyTorch checkpoint (neither'


def case_truncated_file(ref, tmp):
    folder = _bgp_copy(ref, tmp)
    data = (folder / 'G_ema.pth').read_bytes()
    (folder / 'G_ema.pth').write_bytes(data[:len(data) // 2])
    return BGP_TOOL, [folder], 'G_ema.pth is truncated or not a PyTorch'


def case_missing_keys(ref, tmp):
    folder = _bgp_copy(ref, tmp)
    _edit_weights(
        folder / 'G.pth', lambda s:
        [s.pop('blocks.1.0.bn2.stored_var'),
         s.pop('output_layer.2.u0')])
    return BGP_TOOL, [
        folder
    ], ('2 missing (as mmbiggan names them): conv_blocks.1.bn2.running_var,'
        ' out_conv.sn.u0')


def case_unexpected_keys(ref, tmp):
    folder = _bgp_copy(ref, tmp)
    _edit_weights(
        folder / 'D.pth',
        lambda s: s.update({
            'blocks.2.0.conv3.weight': torch.zeros(1),
            'blocks.2.0.conv3.bias': torch.zeros(1)
        }))
    return BGP_TOOL, [folder], ('2 unexpected: blocks.2.0.conv3.weight, '
                                'blocks.2.0.conv3.bias')


def case_foreign_keys(ref, tmp):
    folder = _bgp_copy(ref, tmp)
    _edit_weights(folder / 'G.pth',
                  lambda s: s.update({'mapping.weight': torch.zeros(1)}))
    return BGP_TOOL, [folder], ('keys that are not part of a BigGAN-PyTorch G'
                                ' (1): mapping.weight')


def case_shape_mismatch_in_file(ref, tmp):
    folder = _bgp_copy(ref, tmp)
    _edit_weights(
        folder / 'G.pth',
        lambda s: s.update({'blocks.0.0.conv2.bias': torch.zeros(5)}))
    return BGP_TOOL, [folder], \
        'blocks.0.0.conv2.bias is (5,) in the file but (64,) in the inferred'


def case_run_config_disagrees(ref, tmp):
    folder = _bgp_copy(ref, tmp)
    shutil.copy(
        osp.join(ref, 'bgp_I128_ch8_seed1', 'state_dict.pth'),
        folder / 'state_dict.pth')
    return BGP_TOOL, [folder], 'state_dict.pth says resolution=128 but'


def case_shape_mismatch_vs_config(ref, tmp):
    folder = osp.join(ref, 'bgp_I128_ch8_seed1')
    return BGP_TOOL, [
        folder, '--config', BGP_128_CONFIG
    ], ('does not fit the converted one (BigGANGenerator 128x128, '
        'base_channels=8, num_classes=1000): keys 121 with other shapes: '
        'noise2feat.weight is (2048, 20) converted but (24576, 20) in the '
        'config')


def case_networks_vs_config(ref, tmp):
    folder = _bgp_copy(ref, tmp, 'bgp_I128_ch8_seed1')
    return BGP_TOOL, [
        folder / 'G_ema.pth', '--config', BGP_128_CONFIG
    ], ("has ['generator', 'discriminator'], which the source does not "
        'provide')


def case_nan_weights(ref, tmp):
    folder = _bgp_copy(ref, tmp)
    _edit_weights(folder / 'G.pth',
                  lambda s: s['linear.bias'].fill_(float('nan')))
    return BGP_TOOL, [folder], 'holds NaN or infinite values in 1 tensors'


def case_hf_without_config(ref, tmp):
    target = tmp / 'model'
    target.mkdir()
    shutil.copy(
        osp.join(ref, 'hf_deep128_ch8_seed2', 'pytorch_model.bin'), target)
    return HF_TOOL, [target], 'config.json not found'


def case_hf_config_of_other_model(ref, tmp):
    import json
    target = tmp / 'model'
    shutil.copytree(osp.join(ref, 'hf_deep128_ch8_seed2'), target)
    config = json.loads((target / 'config.json').read_text())
    config['attention_layer_position'] = 4
    (target / 'config.json').write_text(json.dumps(config))
    return HF_TOOL, [target], 'but config.json describes'


def case_hf_width_vs_config(ref, tmp):
    folder = osp.join(ref, 'hf_deep128_ch8_seed2')
    return HF_TOOL, [folder, '--config', HF_128_CONFIG], \
        'keys 423 with other shapes: noise2feat.weight is (2048, 256) ' \
        'converted but (32768, 256) in the config'


def case_bgp_given_to_hf(ref, tmp):
    target = tmp / 'model'
    target.mkdir()
    shutil.copy(
        osp.join(ref, 'bgp_C10_res32_ch16_seed0', 'G.pth'),
        target / 'pytorch_model.bin')
    shutil.copy(osp.join(ref, 'hf_deep128_ch8_seed2', 'config.json'), target)
    return HF_TOOL, [target], 'is not a pytorch-pretrained-biggan BigGAN'


BAD_INPUTS = [
    case_optimizer_file, case_not_a_state_dict, case_hf_weights_given_as_bgp,
    case_d_given_as_g, case_text_file, case_truncated_file, case_missing_keys,
    case_unexpected_keys, case_foreign_keys, case_shape_mismatch_in_file,
    case_run_config_disagrees, case_shape_mismatch_vs_config,
    case_networks_vs_config, case_nan_weights, case_hf_without_config,
    case_hf_config_of_other_model, case_hf_width_vs_config,
    case_bgp_given_to_hf
]


@pytest.mark.parametrize('case', BAD_INPUTS, ids=lambda c: c.__name__[5:])
def test_bad_input(reference_dir, tmp_path, capsys, case):
    tool, sources, message = case(reference_dir, tmp_path)
    options = [a for a in sources if str(a).startswith('--')]
    first_option = sources.index(options[0]) if options else len(sources)
    out = tmp_path / 'out' / 'converted.pth'
    argv = sources[:first_option] + [out] + sources[first_option:]
    status, err = run_in_process(tool, argv, capsys)
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), err
    assert message in lines[0], lines[0]
    assert not out.exists()
    if out.parent.exists():
        assert not os.listdir(out.parent)  # no temporary file left behind
