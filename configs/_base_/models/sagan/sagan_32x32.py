# SAGAN at 32x32 (CIFAR-10), laid out as PyTorch-StudioGAN and MMGeneration
# build it: the SNGAN networks with spectral norm in the generator too and
# self-attention after generator block 2 (16x16) and after the
# discriminator's first block; hinge loss, 5 D steps per G step, no EMA.
model = dict(
    type='BigGAN',
    num_classes=10,
    data_preprocessor=dict(type='GANDataPreprocessor'),
    generator=dict(
        type='SAGANGenerator',
        output_scale=32,
        base_channels=256,
        attention_cfg=dict(type='SelfAttentionBlock'),
        attention_after_nth_block=2,
        with_spectral_norm=True),
    discriminator=dict(
        type='ProjDiscriminator',
        input_scale=32,
        base_channels=128,
        attention_cfg=dict(type='SelfAttentionBlock'),
        attention_after_nth_block=1,
        with_spectral_norm=True),
    gan_loss=dict(type='GANLoss', gan_type='hinge'),
    generator_steps=1,
    discriminator_steps=5,
    ema_config=None,
    sample_model='orig')

optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(
        optimizer=dict(type='Adam', lr=0.0002, betas=(0.5, 0.999))),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=0.0002, betas=(0.5, 0.999))))
