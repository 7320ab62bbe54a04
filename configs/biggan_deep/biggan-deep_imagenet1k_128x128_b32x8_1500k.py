# BigGAN-Deep on ImageNet-128 with BigGAN-PyTorch's launch_BigGAN_deep.sh
# settings: 8 GPUs x 32 images, 8 accumulated batches per update (2048
# images) for D and G, one D step per G step, lr 1e-4 (G) / 4e-4 (D),
# eps 1e-6, EMA from G step 20000. Iterations as the BigGAN recipe:
# 1.5M discriminator batches, 187.5k G steps.
_base_ = [
    '../_base_/models/biggan_deep/biggan_deep_128x128.py',
    '../_base_/datasets/imagenet_128x128.py', '../_base_/default_runtime.py',
    '../_base_/evaluation/fid_is_stylegan.py'
]

train_dataloader = dict(batch_size=32, num_workers=8)

model = dict(
    ema_config=dict(
        momentum=0.9999, interval=1, start_iter=160000,
        buffer_momentum=0.9999))

optim_wrapper = dict(
    generator=dict(accumulative_counts=8),
    discriminator=dict(accumulative_counts=8))

# FID10k/IS10k of the EMA generator every 10k iterations (tools/test.py
# gives FID50k); the best checkpoint by FID is kept.
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=1500000, val_interval=10000)
val_dataloader = dict(dataset=_base_.imagenet_dataset)

default_hooks = dict(
    checkpoint=dict(
        interval=5000, max_keep_ckpts=10, save_best='FID', rule='less'))
custom_hooks = [dict(type='SampleGridHook', interval=10000)]
