# MMGeneration's SAGAN ImageNet-128 recipe after BigGAN-PyTorch's
# launch_SAGAN_bs128x2_ema.sh: 8 GPUs x 32 images without augmentation, one
# D step per G step, Adam betas (0, 0.999) with lr 1e-4 (G) and 4e-4 (D),
# Xavier init ('BigGAN'), spectral-norm eps 1e-8, batch-norm eps 1e-5, no
# SyncBN and no spectral norm on the batch-norm tables, 1M iterations, EMA
# of the generator from iteration 2000.
_base_ = [
    '../_base_/models/sagan/sagan_128x128.py',
    '../_base_/datasets/imagenet_128x128.py', '../_base_/default_runtime.py',
    '../_base_/evaluation/fid_is_stylegan.py'
]

model = dict(
    generator=dict(
        init_cfg=dict(type='BigGAN'),
        norm_eps=1e-5,
        sn_eps=1e-8,
        auto_sync_bn=False,
        with_embedding_spectral_norm=False),
    discriminator=dict(init_cfg=dict(type='BigGAN'), sn_eps=1e-8),
    # MMGeneration's EMA hook: every iteration (each G step) from iteration
    # 2000, momentum 0.999, buffers copied (momentum_nontrainable=0).
    ema_config=dict(
        _delete_=True,
        momentum=0.999,
        interval=1,
        start_iter=2000,
        buffer_momentum=0.0),
    sample_model='ema')

train_dataloader = dict(batch_size=32)

# FID10k/IS10k of the EMA generator every 10k iterations (tools/test.py
# gives FID50k); the best checkpoint by FID is kept.
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=1000000, val_interval=10000)
val_dataloader = dict(dataset=_base_.imagenet_dataset)

default_hooks = dict(
    checkpoint=dict(
        interval=10000, max_keep_ckpts=20, save_best='FID', rule='less'))
custom_hooks = [dict(type='SampleGridHook', interval=1000)]
