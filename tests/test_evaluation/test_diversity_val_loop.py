"""PrecisionRecall and IntraClassFID in the validation loop of a short
BigGAN training on the digits: the real features (with their classes) come
from val_dataloader once, and the values reach the log."""
import glob
import json
import os.path as osp

from mmengine.config import Config
from mmengine.runner import Runner

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

CONFIG = '''
_base_ = [
    '{root}/configs/_base_/models/biggan/biggan_32x32.py',
    '{root}/configs/_base_/datasets/digits_32x32.py',
    '{root}/configs/_base_/default_runtime.py',
]
model = dict(
    generator=dict(base_channels=8, noise_size=32),
    discriminator=dict(base_channels=8),
    discriminator_steps=1)
train_dataloader = dict(batch_size=8)
val_dataloader = dict(
    batch_size=256,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset={{{{_base_.digits_dataset}}}})
train_cfg = dict(max_iters=1, val_interval=1)
features = dict(type='PixelFeatures', size=8)
val_cfg = dict(type='GenerativeValLoop', batch_size=20)
val_evaluator = dict(metrics=[
    dict(type='PrecisionRecall', num_images=30, inception_args=features),
    dict(type='IntraClassFID', num_images=20, inception_args=features),
])
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=1000, save_best='recall', rule='greater'))
custom_hooks = []
randomness = dict(seed=0, diff_rank_seed=False)
work_dir = '{work_dir}'
'''


def test_val_loop_logs_diversity_metrics(tmp_path):
    work_dir = tmp_path / 'work'
    config_path = tmp_path / 'biggan_digits_diversity.py'
    config_path.write_text(CONFIG.format(root=REPO_ROOT, work_dir=work_dir))
    runner = Runner.from_cfg(Config.fromfile(str(config_path)))
    runner.train()

    precision_recall, intra_class_fid = runner.val_loop.evaluator.metrics
    # All 1,797 digits, read once, with their classes.
    assert precision_recall.real.features.shape == (1797, 192)
    assert intra_class_fid.real.labels.tolist().count(0) == 178
    hub = runner.message_hub
    assert 0 <= hub.get_scalar('val/recall').current() <= 1
    assert hub.get_scalar('val/iFID').current() > 0
    assert len(glob.glob(str(work_dir / 'best_recall_iter_*.pth'))) == 1
    records = [
        json.loads(line) for path in glob.glob(
            str(work_dir / '*' / 'vis_data' / 'scalars.json'))
        for line in open(path)
    ]
    evaluated = [r for r in records if 'iFID' in r]
    assert [r['step'] for r in evaluated] == [1]
    assert all(set(r) >= {'precision', 'recall', 'density', 'coverage'}
               for r in evaluated)
