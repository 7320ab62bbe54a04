# SNGAN with a projection discriminator at 128x128 (ImageNet), laid out as
# PyTorch-StudioGAN and MMGeneration build it: width 64 (generator blocks
# 1024 -> 64 channels, discriminator 64 -> 1024), spectral norm in the
# discriminator only, hinge loss, 2 D steps per G step, no EMA.
model = dict(
    type='BigGAN',
    num_classes=1000,
    data_preprocessor=dict(type='GANDataPreprocessor'),
    generator=dict(type='SNGANGenerator', output_scale=128, base_channels=64),
    discriminator=dict(
        type='ProjDiscriminator', input_scale=128, base_channels=64),
    gan_loss=dict(type='GANLoss', gan_type='hinge'),
    generator_steps=1,
    discriminator_steps=2,
    ema_config=None,
    sample_model='orig')

optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(
        optimizer=dict(type='Adam', lr=0.0002, betas=(0.5, 0.999))),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=0.0002, betas=(0.5, 0.999))))
