"""The validation loop inside a short BigGAN training on the digits:
FID/IS are logged and CheckpointHook keeps the best checkpoint by FID."""
import glob
import json
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.runner import Runner

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

CONFIG = '''
_base_ = [
    '{root}/configs/_base_/models/biggan/biggan_32x32.py',
    '{root}/configs/_base_/datasets/digits_32x32.py',
    '{root}/configs/_base_/default_runtime.py',
    '{root}/configs/_base_/evaluation/fid_is_stylegan.py',
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
train_cfg = dict(max_iters=2, val_interval=1)
inception_args = dict(type='StyleGAN', inception_path='{inception}')
val_cfg = dict(batch_size=16)
val_evaluator = dict(metrics=[
    dict(type='FID', num_images=24, inception_args=inception_args),
    dict(type='IS', num_images=24, splits=2, inception_args=inception_args),
])
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=1000, save_best='FID', rule='less'))
custom_hooks = []
randomness = dict(seed=0, diff_rank_seed=False)
work_dir = '{work_dir}'
'''


def test_val_loop_logs_metrics_and_keeps_best_checkpoint(
        tmp_path, standin_inception_path):
    work_dir = tmp_path / 'work'
    config_path = tmp_path / 'biggan_digits_eval.py'
    config_path.write_text(
        CONFIG.format(
            root=REPO_ROOT,
            inception=standin_inception_path,
            work_dir=work_dir))
    cfg = Config.fromfile(str(config_path))
    runner = Runner.from_cfg(cfg)
    runner.train()

    hub = runner.message_hub
    fid = hub.get_scalar('val/FID').current()
    assert fid > 0 and hub.get_scalar('val/IS').current() >= 1
    best = glob.glob(str(work_dir / 'best_FID_iter_*.pth'))
    assert len(best) == 1
    best_iter = int(osp.basename(best[0])[len('best_FID_iter_'):-4])
    assert best_iter in (1, 2)
    ckpt = torch.load(best[0], weights_only=False, map_location='cpu')
    assert ckpt['message_hub']['runtime_info']['best_score'] <= fid + 1e-9

    # Both evaluations reach the json log, with the iteration they ran at.
    records = [
        json.loads(line) for path in glob.glob(
            str(work_dir / '*' / 'vis_data' / 'scalars.json'))
        for line in open(path)
    ]
    evaluated = [r for r in records if 'FID' in r]
    assert [r['step'] for r in evaluated] == [1, 2]
    assert all(set(r) >= {'FID', 'FID_mean', 'FID_cov', 'IS', 'IS_std'}
               for r in evaluated)
