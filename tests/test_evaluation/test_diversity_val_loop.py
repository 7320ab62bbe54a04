"""PrecisionRecall and IntraClassFID in the validation loop of a short
BigGAN training on the digits: the real features (with their classes) come
from val_dataloader once, and the values reach the log."""
import glob

from eval_helpers import logged_scalars, train_tiny_digits_gan

SETTINGS = '''
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
'''


def test_val_loop_logs_diversity_metrics(tmp_path):
    runner = train_tiny_digits_gan(tmp_path, SETTINGS)
    work_dir = tmp_path / 'work'

    precision_recall, intra_class_fid = runner.val_loop.evaluator.metrics
    # All 1,797 digits, read once, with their classes.
    assert precision_recall.real.features.shape == (1797, 192)
    assert intra_class_fid.real.labels.tolist().count(0) == 178
    hub = runner.message_hub
    assert 0 <= hub.get_scalar('val/recall').current() <= 1
    assert hub.get_scalar('val/iFID').current() > 0
    assert len(glob.glob(str(work_dir / 'best_recall_iter_*.pth'))) == 1
    evaluated = [r for r in logged_scalars(work_dir) if 'iFID' in r]
    assert [r['step'] for r in evaluated] == [1]
    assert all(set(r) >= {'precision', 'recall', 'density', 'coverage'}
               for r in evaluated)
