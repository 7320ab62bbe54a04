"""The validation loop inside a short BigGAN training on the digits:
FID/IS are logged and CheckpointHook keeps the best checkpoint by FID."""
import glob
import os.path as osp

import torch
from eval_helpers import logged_scalars, train_tiny_digits_gan

SETTINGS = '''
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
'''


def test_val_loop_logs_metrics_and_keeps_best_checkpoint(
        tmp_path, standin_inception_path):
    runner = train_tiny_digits_gan(
        tmp_path, SETTINGS, bases=['_base_/evaluation/fid_is_stylegan.py'],
        inception=standin_inception_path)
    work_dir = tmp_path / 'work'

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
    evaluated = [r for r in logged_scalars(work_dir) if 'FID' in r]
    assert [r['step'] for r in evaluated] == [1, 2]
    assert all(set(r) >= {'FID', 'FID_mean', 'FID_cov', 'IS', 'IS_std'}
               for r in evaluated)
