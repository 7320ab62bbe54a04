"""tools/utils/inception_stat.py and tools/test.py on small real files."""
import json
import os.path as osp
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from mmbiggan.apis import init_model
from mmbiggan.evaluation import (build_inception, feature_statistics,
                                 load_inception_stats)
from mmbiggan.utils.checkpoint import save_checkpoint_atomic

from eval_helpers import REPO_ROOT, load_tool


CONFIG = '''
_base_ = ['{root}/configs/_base_/models/biggan/biggan_32x32.py']
default_scope = 'mmbiggan'
model = dict(generator=dict(base_channels=8, noise_size=32),
             discriminator=dict(base_channels=8))
'''


def run_tool(relative_path, *args):
    return subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, relative_path), *args],
        capture_output=True, text=True, cwd=REPO_ROOT)


@pytest.fixture(scope='module')
def image_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp('images')
    rng = np.random.default_rng(0)
    for i in range(12):
        folder = root / f'class{i % 2}'
        folder.mkdir(exist_ok=True)
        pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f'{i:02d}.png')
    return root


@pytest.fixture(scope='module')
def config_and_checkpoint(tmp_path_factory):
    root = tmp_path_factory.mktemp('model')
    config = root / 'biggan_tiny.py'
    config.write_text(CONFIG.format(root=REPO_ROOT))
    torch.manual_seed(0)
    model = init_model(str(config), device='cpu')
    checkpoint = str(root / 'iter_10.pth')
    save_checkpoint_atomic({'state_dict': model.state_dict(),
                            'meta': {'iter': 10}}, checkpoint)
    return str(config), checkpoint


def test_inception_stat_of_an_image_folder(tmp_path, image_folder,
                                           standin_inception_path):
    result = run_tool('tools/utils/inception_stat.py', '--imgsdir',
                      str(image_folder), '--inception-pth',
                      standin_inception_path, '--pkl-dir', str(tmp_path),
                      '--pklname', 'folder.pkl', '--batch-size', '5')
    assert result.returncode == 0, result.stderr
    stats = load_inception_stats(str(tmp_path / 'folder.pkl'))
    assert stats.num_images == 12 and stats.inception == 'StyleGAN'
    paths = sorted(image_folder.glob('*/*.png'))
    images = torch.stack([
        torch.from_numpy(np.array(Image.open(p))).permute(2, 0, 1)
        for p in paths
    ])
    inception = build_inception(
        dict(type='StyleGAN', inception_path=standin_inception_path))
    mean, cov = feature_statistics(inception(images).pool.numpy())
    np.testing.assert_allclose(stats.mean, mean, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(stats.cov, cov, rtol=1e-4, atol=1e-8)


def test_inception_stat_bad_input(tmp_path, image_folder,
                                  standin_inception_path):
    tool = load_tool('tools/utils/inception_stat.py')
    Image.new('RGB', (16, 16)).save(tmp_path / 'small.png')
    Image.new('RGB', (32, 32)).save(tmp_path / 'large.png')
    cases = [
        (['--imgsdir', str(tmp_path)], 'differ in size.*--size H W'),
        (['--imgsdir', str(tmp_path / 'absent')], 'is not a folder'),
        (['--imgsdir', str(image_folder), '--num-samples', '50'],
         r'--num-samples must be -1 or in 2\.\.12'),
    ]
    for args, message in cases:
        with pytest.raises(SystemExit) as exit_info:
            tool.run(args + ['--inception-pth', standin_inception_path,
                             '--pkl-dir', str(tmp_path / 'out')])
        assert exit_info.value.code == 2
    assert not (tmp_path / 'out').exists()


def test_test_tool_writes_results(tmp_path, config_and_checkpoint,
                                  standin_inception_path):
    config, checkpoint = config_and_checkpoint
    stats = tmp_path / 'real.pkl'
    mmgen_like = {'mean': np.zeros(2048), 'cov': np.eye(2048) * 0.1}
    with open(stats, 'wb') as f:
        pickle.dump(mmgen_like, f)
    out = tmp_path / 'results' / 'fid.json'
    result = run_tool('tools/test.py', config, checkpoint, '--inception-path',
                      standin_inception_path, '--inception-pkl', str(stats),
                      '--num-images', '12', '--batch-size', '6', '--out',
                      str(out), '--seed', '3')
    assert result.returncode == 0, result.stderr
    record = json.loads(out.read_text())
    assert record['sample_model'] == 'ema' and record['seed'] == 3
    assert set(record['metrics']) == {'FID', 'FID_mean', 'FID_cov', 'IS',
                                      'IS_std'}
    assert all(m['num_images'] == 12 for m in record['metric_configs'])
    assert 'FID:' in result.stdout and record['metrics']['FID'] > 0

    # The same evaluation in this process gives the same numbers.
    tool = load_tool('tools/test.py')
    again = tmp_path / 'again.json'
    tool.main([config, checkpoint, '--inception-path',
               standin_inception_path, '--inception-pkl', str(stats),
               '--num-images', '12', '--out', str(again), '--seed', '3'])
    in_process = json.loads(again.read_text())['metrics']
    for key, value in record['metrics'].items():
        assert in_process[key] == pytest.approx(value, rel=1e-5), key


def test_test_tool_bad_input_keeps_results(capsys, tmp_path,
                                           config_and_checkpoint,
                                           standin_inception_path):
    config, checkpoint = config_and_checkpoint
    tool = load_tool('tools/test.py')
    out = tmp_path / 'results.json'
    out.write_text('{"previous": true}')
    other = str(tmp_path / 'other.pth')
    torch.save({'state_dict': {'generator.fc.weight': torch.zeros(2)}},
               other)
    not_inception = str(tmp_path / 'weights.pth')
    torch.save({'fc.weight': torch.zeros(1008, 2048)}, not_inception)
    cases = [
        ([config, other, '--inception-path', standin_inception_path],
         'does not fit BigGAN; missing keys'),
        ([config, checkpoint], 'pass --inception-path FILE'),
        ([config, checkpoint, '--inception-path', not_inception],
         'does not fit FIDInceptionV3.*pt_inception-2015-12-05'),
        ([config, checkpoint, '--inception-path', standin_inception_path,
          '--num-images', '1'], '--num-images must be >= 2'),
        ([config, checkpoint, '--inception-path', standin_inception_path,
          '--metrics', 'fid'], 'FID needs real images: pass --inception-pkl'),
        ([config, checkpoint, '--inception-path', standin_inception_path,
          '--out', str(tmp_path)], 'is a directory'),
    ]
    for args, message in cases:
        with pytest.raises(SystemExit) as exit_info:
            tool.run(args + (['--out', str(out)]
                             if '--out' not in args else []))
        assert exit_info.value.code == 2, args
        err = capsys.readouterr().err.strip()
        assert err.startswith('error: ') and '\n' not in err, err
        assert re.search(message, err), (message, err)
    assert out.read_text() == '{"previous": true}'
    assert not list(tmp_path.glob('.*.tmp'))
