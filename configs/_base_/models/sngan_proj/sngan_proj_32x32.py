# SNGAN with a projection discriminator at 32x32 (CIFAR-10), laid out as
# PyTorch-StudioGAN and MMGeneration build it: generator width 256 without
# spectral norm, discriminator width 128 with it, hinge loss, 5 D steps per
# G step, no EMA.
model = dict(
    type='BigGAN',
    num_classes=10,
    data_preprocessor=dict(type='GANDataPreprocessor'),
    generator=dict(type='SNGANGenerator', output_scale=32, base_channels=256),
    discriminator=dict(
        type='ProjDiscriminator', input_scale=32, base_channels=128),
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
