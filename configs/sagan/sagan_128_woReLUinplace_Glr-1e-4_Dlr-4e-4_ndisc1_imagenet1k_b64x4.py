# MMGeneration's SAGAN ImageNet-128 recipe: 4 GPUs x 64 images with
# BigGAN's augmentation (random long-edge crop, flip), one D step per G
# step, Adam betas (0, 0.999) with lr 1e-4 (G) and 4e-4 (D), StudioGAN's
# orthogonal init, 1M iterations.
_base_ = [
    '../_base_/models/sagan/sagan_128x128.py',
    '../_base_/datasets/imagenet_128x128.py', '../_base_/default_runtime.py',
    '../_base_/evaluation/fid_is_stylegan.py'
]

model = dict(
    generator=dict(init_cfg=dict(type='studio')),
    discriminator=dict(init_cfg=dict(type='studio')))

train_dataloader = dict(
    batch_size=64, dataset=dict(pipeline=_base_.augmented_train_pipeline))

# FID10k/IS10k of the EMA generator every 10k iterations (tools/test.py
# gives FID50k); the best checkpoint by FID is kept.
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=1000000, val_interval=10000)
val_dataloader = dict(dataset=_base_.imagenet_dataset)

default_hooks = dict(
    checkpoint=dict(
        interval=10000, max_keep_ckpts=20, save_best='FID', rule='less'))
custom_hooks = [dict(type='SampleGridHook', interval=1000)]
