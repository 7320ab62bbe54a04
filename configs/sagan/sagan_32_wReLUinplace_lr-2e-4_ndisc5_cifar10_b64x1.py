# MMGeneration's SAGAN CIFAR-10 recipe: 1 GPU x 64 images with random
# horizontal flips, 5 D steps per G step, Adam lr 2e-4 and betas
# (0.5, 0.999) for both networks, StudioGAN's orthogonal init, 100k G
# steps. One runner iteration is one discriminator batch, so that is 500k
# iterations.
_base_ = [
    '../_base_/models/sagan/sagan_32x32.py',
    '../_base_/datasets/cifar10_32x32.py', '../_base_/default_runtime.py',
    '../_base_/evaluation/fid_is_stylegan.py'
]

# ReLU in place everywhere, as in MMGeneration's wReLUinplace models: in the
# discriminator blocks it also rewrites the input their shortcut reads.
model = dict(
    generator=dict(
        init_cfg=dict(type='studio'),
        act_cfg=dict(type='ReLU', inplace=True)),
    discriminator=dict(
        init_cfg=dict(type='studio'),
        act_cfg=dict(type='ReLU', inplace=True)),
    discriminator_steps=5)

train_dataloader = dict(
    batch_size=64,
    dataset=dict(pipeline=[
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackInputs')
    ]))

# FID10k/IS10k of the EMA generator every 10k iterations (tools/test.py
# gives FID50k); the best checkpoint by FID is kept.
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=500000, val_interval=10000)
val_dataloader = dict(dataset=_base_.cifar10_dataset)

default_hooks = dict(
    checkpoint=dict(
        interval=10000, max_keep_ckpts=20, save_best='FID', rule='less'))
custom_hooks = [dict(type='SampleGridHook', interval=1000)]
