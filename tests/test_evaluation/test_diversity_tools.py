"""inception_stat.py --save-features and tools/test.py with
PrecisionRecall and IntraClassFID, on 60 digits, a tiny BigGAN and a
stand-in Inception."""
import contextlib
import io
import json
import re

import numpy as np
import pytest
import torch

from mmbiggan.apis import get_sampling_generator, init_model
from mmbiggan.apis.sampling import sample_images
from mmbiggan.datasets import DigitsDataset
from mmbiggan.evaluation import (build_inception,
                                 frechet_distance_of_features,
                                 load_real_features, manifold_metrics,
                                 save_real_features)
from mmbiggan.utils.checkpoint import save_checkpoint_atomic
from mmbiggan.utils.image import to_uint8

from eval_helpers import REPO_ROOT, load_tool

NUM_REALS = 60

CONFIG = '''
_base_ = ['{root}/configs/_base_/models/biggan/biggan_32x32.py']
default_scope = 'mmbiggan'
model = dict(generator=dict(base_channels=8, noise_size=32),
             discriminator=dict(base_channels=8))
test_dataloader = dict(
    batch_size=25, num_workers=0, collate_fn=dict(type='pseudo_collate'),
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='DigitsDataset', image_size=32, indices={num},
                 pipeline=[dict(type='PackInputs')]))
'''


@pytest.fixture(scope='module')
def setup(tmp_path_factory, standin_inception_path):
    """A config with 60 labelled digits as test_dataloader, a checkpoint,
    and the real statistics and features that inception_stat.py writes."""
    root = tmp_path_factory.mktemp('diversity')
    config = str(root / 'biggan_digits_tiny.py')
    with open(config, 'w') as f:
        f.write(CONFIG.format(root=REPO_ROOT, num=NUM_REALS))
    torch.manual_seed(0)
    model = init_model(config, device='cpu')
    checkpoint = str(root / 'iter_10.pth')
    save_checkpoint_atomic({'state_dict': model.state_dict(),
                            'meta': {'iter': 10}}, checkpoint)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        load_tool('tools/utils/inception_stat.py').main([
            '--data-cfg', config, '--subset', 'test', '--inception-pth',
            standin_inception_path, '--pkl-dir', str(root), '--pklname',
            'digits.pkl', '--save-features', '--batch-size', '25'])
    assert 'Features of 60 images (with labels)' in printed.getvalue()
    return dict(config=config, checkpoint=checkpoint,
                pkl=str(root / 'digits.pkl'),
                features=str(root / 'digits_features.npz'),
                generator=get_sampling_generator(model, 'ema'))


def test_saved_features_are_the_datasets(setup, standin_inception_path):
    real = load_real_features(setup['features'])
    dataset = DigitsDataset(image_size=32, indices=NUM_REALS)
    images = torch.stack([
        torch.from_numpy(dataset.get_data_info(i)['img']).permute(2, 0, 1)
        for i in range(NUM_REALS)
    ])
    labels = [dataset.get_data_info(i)['gt_label'] for i in range(NUM_REALS)]
    inception = build_inception(
        dict(type='StyleGAN', inception_path=standin_inception_path))
    np.testing.assert_allclose(real.features, inception(images).pool.numpy(),
                               rtol=1e-5, atol=1e-6)
    assert real.labels.tolist() == labels and real.inception == 'StyleGAN'
    assert np.bincount(real.labels).min() >= 2  # each digit at least twice


def test_test_tool_with_diversity_metrics(tmp_path, setup,
                                          standin_inception_path):
    out = tmp_path / 'results.json'
    args = [setup['config'], setup['checkpoint'], '--metrics', 'FID', 'IS',
            'PrecisionRecall', 'iFID', '--inception-path',
            standin_inception_path, '--num-images', '20', '--seed', '4',
            '--batch-size', '10']
    # In this process (test_tools.py runs the command line itself).
    tool = load_tool('tools/test.py')
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        tool.main(args + ['--inception-pkl', setup['pkl'], '--real-features',
                          setup['features'], '--out', str(out)])
    metrics = json.loads(out.read_text())['metrics']
    assert set(metrics) == {'FID', 'FID_mean', 'FID_cov', 'IS', 'IS_std',
                            'precision', 'recall', 'density', 'coverage',
                            'iFID'}
    assert 'recall:' in printed.getvalue() and 'iFID:' in printed.getvalue()

    # The numbers of the metrics computed here from the same images.
    inception = build_inception(
        dict(type='StyleGAN', inception_path=standin_inception_path))
    real = load_real_features(setup['features'])
    generator = setup['generator']
    fake = inception(to_uint8(
        sample_images(generator, 20, seed=4).images)).pool.numpy()
    expected = manifold_metrics(real.features, fake, k=3)._asdict()
    for key, value in expected.items():
        assert metrics[key] == pytest.approx(value, abs=1e-6), key
    classes = torch.arange(20) % 10
    fake = inception(to_uint8(sample_images(
        generator, labels=classes, seed=4).images)).pool.numpy()
    fids = [
        frechet_distance_of_features(fake[classes.numpy() == c],
                                     real.features[real.labels == c]).fid
        for c in range(10)
    ]
    assert metrics['iFID'] == pytest.approx(np.mean(fids), rel=1e-4)

    # Without the features file the test_dataloader's images give the same.
    again = tmp_path / 'again.json'
    tool.main(args[:4] + args[5:] + ['--out', str(again), '--k', '3'])
    from_loader = json.loads(again.read_text())['metrics']
    for key in ('precision', 'recall', 'density', 'coverage', 'iFID'):
        assert from_loader[key] == pytest.approx(metrics[key], rel=1e-4,
                                                 abs=1e-6), key


def test_test_tool_bad_diversity_inputs(capsys, tmp_path, setup,
                                        standin_inception_path):
    tool = load_tool('tools/test.py')
    unlabelled = str(tmp_path / 'unlabelled.npz')
    save_real_features(unlabelled, np.zeros((30, 2048)), None, 'StyleGAN')
    no_loader = str(tmp_path / 'no_loader.py')
    with open(setup['config']) as f:
        text = f.read()
    with open(no_loader, 'w') as f:
        f.write(text[:text.index('test_dataloader')])
    common = ['--inception-path', standin_inception_path, '--num-images',
              '20']
    cases = [
        ([setup['config'], setup['checkpoint'], '--metrics', 'pr',
          '--real-features', str(tmp_path / 'absent.npz')],
         r'Real features file not found: .*absent\.npz; write it with '
         r'python tools/utils/inception_stat\.py --save-features'),
        ([setup['config'], setup['checkpoint'], '--metrics', 'pr', '--k',
          '20'], 'k=20 needs num_images > k'),
        ([setup['config'], setup['checkpoint'], '--metrics', 'ifid',
          '--real-features', unlabelled],
         'IntraClassFID needs the class of each real image'),
        ([no_loader, setup['checkpoint'], '--metrics', 'pr', 'ifid'],
         'IntraClassFID and PrecisionRecall need real images: pass '
         'IntraClassFID: --real-features FILE'),
        ([setup['config'], setup['checkpoint'], '--metrics', 'ifid',
          '--num-images', '15'], r'num_images >= 2 per class, >= 20'),
    ]
    for args, message in cases:
        with pytest.raises(SystemExit) as exit_info:
            tool.run(args[:2] + common + args[2:])
        assert exit_info.value.code == 2, args
        err = capsys.readouterr().err.strip()
        assert err.startswith('error: ') and '\n' not in err, err
        assert re.search(message, err), (message, err)
