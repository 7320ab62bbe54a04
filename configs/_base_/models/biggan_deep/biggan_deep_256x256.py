# BigGAN-Deep at 256x256 (ImageNet) with BigGAN-PyTorch's
# launch_BigGAN_deep.sh settings: width 128, two blocks per resolution,
# shared embedding 128 concatenated with the whole noise of 128, attention
# at 64x64.
model = dict(
    type='BigGAN',
    num_classes=1000,
    data_preprocessor=dict(type='GANDataPreprocessor'),
    generator=dict(
        type='BigGANDeepGenerator',
        output_scale=256,
        noise_size=128,
        base_channels=128,
        block_depth=2,
        shared_dim=128,
        with_shared_embedding=True,
        concat_noise=True,
        sn_eps=1e-6,
        init_type='ortho',
        act_cfg=dict(type='ReLU', inplace=True),
        auto_sync_bn=False),
    discriminator=dict(
        type='BigGANDeepDiscriminator',
        input_scale=256,
        base_channels=128,
        block_depth=2,
        sn_eps=1e-6,
        init_type='ortho',
        act_cfg=dict(type='ReLU', inplace=True),
        with_spectral_norm=True),
    gan_loss=dict(type='GANLoss', gan_type='hinge'),
    generator_steps=1,
    discriminator_steps=1,
    ema_config=dict(momentum=0.9999, interval=1, start_iter=0))

optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(
        optimizer=dict(type='Adam', lr=0.0001, betas=(0.0, 0.999), eps=1e-6)),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=0.0004, betas=(0.0, 0.999), eps=1e-6)))
