# BigGAN 128x128 (ImageNet) released by BigGAN-PyTorch (BigGAN_ch96_bs256x8,
# scripts/launch_BigGAN_bs256x8.sh), converted with
#   python tools/model_converters/biggan_pytorch_to_mmbiggan.py \
#       RUN_FOLDER biggan_128x128_cvt_BigGAN-PyTorch_rgb.pth --config THIS
# Width 96, hierarchical noise of 120 (6 chunks of 20), shared class
# embedding of 128, attention at 64x64, ajbrock-style spectral norm
# (eps 1e-6), batch-norm eps 1e-5. The run folder holds G, G_ema and D, so
# the model has all three; samples come from G_ema. Images are RGB in and
# out, as in BigGAN-PyTorch (hence rgb2bgr=False and the _rgb suffix).
_base_ = ['../_base_/default_runtime.py']

model = dict(
    type='BigGAN',
    data_preprocessor=dict(type='GANDataPreprocessor'),
    generator=dict(
        type='BigGANGenerator',
        output_scale=128,
        noise_size=120,
        num_classes=1000,
        base_channels=96,
        shared_dim=128,
        with_shared_embedding=True,
        split_noise=True,
        sn_style='ajbrock',
        sn_eps=1e-6,
        bn_eps=1e-5,
        rgb2bgr=False),
    discriminator=dict(
        type='BigGANDiscriminator',
        input_scale=128,
        num_classes=1000,
        base_channels=96,
        sn_style='ajbrock',
        sn_eps=1e-6),
    gan_loss=dict(type='GANLoss', gan_type='hinge'),
    # BigGAN-PyTorch's ema_decay and ema_start of the release.
    ema_config=dict(momentum=0.9999, interval=1, start_iter=20000),
    sample_model='ema')

# Converted weights are for sampling and evaluation; a fine-tuning config
# inherits this one and sets the data, optimizers and loop.
train_cfg = None
optim_wrapper = None
