# FID and IS with pytorch-fid's Inception weights in mmbiggan's Inception-v3
# (loaded with weights_only=True), preprocessed as the TensorFlow originals
# and torch-fidelity. Download
# https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth
# to inception_path. Set preprocess='pytorch-fid' to match statistics that
# pytorch-fid computed (its .npz files load as inception_pkl).
# See fid_is_stylegan.py for how the evaluation runs.
inception_args = dict(
    type='PyTorchFID',
    inception_path='work_dirs/cache/pt_inception-2015-12-05-6726825d.pth',
    preprocess='tensorflow')

val_cfg = dict(
    type='GenerativeValLoop', seed=0, batch_size=50, sample_model='ema')
val_evaluator = dict(metrics=[
    dict(type='FID', num_images=10000, inception_args=inception_args),
    dict(type='IS', num_images=10000, inception_args=inception_args),
])
# The real images for FID (their statistics are computed once per run unless
# the FID metric is given an inception_pkl): a recipe sets the dataset, e.g.
#     val_dataloader = dict(dataset=_base_.cifar10_dataset)
val_dataloader = dict(
    batch_size=50,
    num_workers=4,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'))
