# MMGeneration's SNGAN-Proj ImageNet-128 recipe: 2 GPUs x 128 images with
# BigGAN's augmentation (random long-edge crop, flip), 5 D steps per G step,
# Adam betas (0, 0.999) with lr 2e-4 (G) and 5e-5 (D), StudioGAN's
# orthogonal init, 500k G steps. One runner iteration is one discriminator
# batch, so that is 2.5M iterations.
_base_ = [
    '../_base_/models/sngan_proj/sngan_proj_128x128.py',
    '../_base_/datasets/imagenet_128x128.py', '../_base_/default_runtime.py',
    '../_base_/evaluation/fid_is_stylegan.py'
]

model = dict(
    generator=dict(init_cfg=dict(type='studio')),
    discriminator=dict(init_cfg=dict(type='studio')),
    discriminator_steps=5)

train_dataloader = dict(
    batch_size=128, dataset=dict(pipeline=_base_.augmented_train_pipeline))

optim_wrapper = dict(
    generator=dict(optimizer=dict(lr=0.0002, betas=(0.0, 0.999))),
    discriminator=dict(optimizer=dict(lr=0.00005, betas=(0.0, 0.999))))

# FID10k/IS10k of the EMA generator every 10k iterations (tools/test.py
# gives FID50k); the best checkpoint by FID is kept.
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=2500000, val_interval=10000)
val_dataloader = dict(dataset=_base_.imagenet_dataset)

default_hooks = dict(
    checkpoint=dict(
        interval=50000, max_keep_ckpts=20, save_best='FID', rule='less'))
custom_hooks = [dict(type='SampleGridHook', interval=5000)]
