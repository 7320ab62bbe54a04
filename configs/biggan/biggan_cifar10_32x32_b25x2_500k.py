# MMGeneration's BigGAN CIFAR-10 recipe (BigGAN-PyTorch launch_cifar_ema.sh):
# 2 GPUs x 25 images, 4 D steps per G step, lr 2e-4 for both, 500k
# iterations. One runner iteration is one discriminator batch, as in
# MMGeneration, so the generator steps every 4 iterations (125k G steps).
_base_ = [
    '../_base_/models/biggan/biggan_32x32.py',
    '../_base_/datasets/cifar10_32x32.py', '../_base_/default_runtime.py',
    '../_base_/evaluation/fid_is_stylegan.py'
]

train_dataloader = dict(batch_size=25, num_workers=8)

# MMGeneration's EMA hook ran every 4 iterations from iteration 4000 with
# momentum 0.9999 for parameters and buffers copied (its
# momentum_nontrainable defaulted to 0): after every G step from G step
# 1000 on.
model = dict(
    ema_config=dict(
        momentum=0.9999, interval=1, start_iter=4000, buffer_momentum=0.0))

# FID10k/IS10k of the EMA generator every 10k iterations (tools/test.py
# gives FID50k); the best checkpoint by FID is kept.
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=500000, val_interval=10000)
val_dataloader = dict(dataset=_base_.cifar10_dataset)

default_hooks = dict(
    checkpoint=dict(
        interval=5000, max_keep_ckpts=20, save_best='FID', rule='less'))
custom_hooks = [dict(type='SampleGridHook', interval=5000)]
