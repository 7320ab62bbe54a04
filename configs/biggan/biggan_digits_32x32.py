# A BigGAN on the 1,797 handwritten digits scikit-learn ships (10 classes,
# upscaled to 32x32): trains on a 2-core CPU in minutes, no download.
#     python tools/train.py configs/biggan/biggan_digits_32x32.py
# Judge the EMA generator's digits with an independent classifier:
#     python tools/utils/digits_classifier.py \
#         configs/biggan/biggan_digits_32x32.py \
#         work_dirs/biggan_digits_32x32/iter_4200.pth \
#         --min-accuracy 0.95 --min-recall 0.5 --min-diversity 0.6 \
#         --max-fd-ratio 2
_base_ = [
    '../_base_/datasets/digits_32x32.py', '../_base_/default_runtime.py'
]

# BigGAN's CIFAR layout (per-class batch-norm tables, torch-style spectral
# norm, hinge loss) with narrow channels: wide where the maps are small,
# narrow at 32x32 where convolutions cost most.
width = 8
model = dict(
    type='BigGAN',
    num_classes=10,
    data_preprocessor=dict(type='GANDataPreprocessor'),
    generator=dict(
        type='BigGANGenerator',
        output_scale=32,
        noise_size=64,
        base_channels=width,
        with_shared_embedding=False,
        split_noise=False,
        sn_style='torch',
        init_type='N02',
        auto_sync_bn=False,
        arch_cfg=dict(
            in_channels=[8 * width, 4 * width, 2 * width],
            out_channels=[4 * width, 2 * width, width],
            upsample=[True, True, True],
            attention=[False, False, False])),
    discriminator=dict(
        type='BigGANDiscriminator',
        input_scale=32,
        base_channels=width,
        sn_style='torch',
        init_type='N02',
        arch_cfg=dict(
            in_channels=[3, width, 2 * width, 4 * width],
            out_channels=[width, 2 * width, 4 * width, 8 * width],
            downsample=[True, True, False, False],
            attention=[False, False, False, False])),
    gan_loss=dict(type='GANLoss', gan_type='hinge'),
    # Without these two, each class collapses to nearly one image within
    # 800 iterations (recall 0.00, within-class diversity 0.3 of the real
    # digits' by tools/utils/digits_classifier.py): on 1,797 images this
    # narrow D is no match for G. Two D steps per G step and mode seeking
    # (MSGAN: paired samples must differ as their noises do) keep the noise
    # in use; DiffAugment alone did not (recall 0.00 after 1,200).
    generator_steps=1,
    discriminator_steps=2,
    mode_seeking=dict(type='ModeSeekingLoss', loss_weight=0.3),
    # Runner iterations (D batches): the average starts after 700 G steps.
    ema_config=dict(momentum=0.995, interval=1, start_iter=1400))

optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(
        optimizer=dict(type='Adam', lr=0.0002, betas=(0.0, 0.999))),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=0.0002, betas=(0.0, 0.999))))

# Constant learning rates, then a linear decay over the second half: the
# last generators change little, so the EMA settles.
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0, end_factor=0.05, by_epoch=False,
         begin=2100, end=4200)
]

train_dataloader = dict(batch_size=32)
train_cfg = dict(type='IterBasedTrainLoop', max_iters=4200)

randomness = dict(seed=0, diff_rank_seed=True)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=700, max_keep_ckpts=10))
custom_hooks = [dict(type='SampleGridHook', interval=700, samples_per_class=10)]
