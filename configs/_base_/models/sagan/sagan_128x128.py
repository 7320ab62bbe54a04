# SAGAN at 128x128 (ImageNet), laid out as PyTorch-StudioGAN and
# MMGeneration build it: the SNGAN networks at width 64 with spectral norm in
# the generator too, self-attention after generator block 4 (64x64) and
# after the discriminator's first block (64x64); hinge loss, one D step per
# G step with the two time-scale learning rates (G 1e-4, D 4e-4), no EMA.
model = dict(
    type='BigGAN',
    num_classes=1000,
    data_preprocessor=dict(type='GANDataPreprocessor'),
    generator=dict(
        type='SAGANGenerator',
        output_scale=128,
        base_channels=64,
        attention_cfg=dict(type='SelfAttentionBlock'),
        attention_after_nth_block=4,
        with_spectral_norm=True),
    discriminator=dict(
        type='ProjDiscriminator',
        input_scale=128,
        base_channels=64,
        attention_cfg=dict(type='SelfAttentionBlock'),
        attention_after_nth_block=1,
        with_spectral_norm=True),
    gan_loss=dict(type='GANLoss', gan_type='hinge'),
    generator_steps=1,
    discriminator_steps=1,
    ema_config=None,
    sample_model='orig')

optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(
        optimizer=dict(type='Adam', lr=0.0001, betas=(0.0, 0.999))),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=0.0004, betas=(0.0, 0.999))))
