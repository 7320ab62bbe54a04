# BigGAN-Deep 256x256 (ImageNet), the TF-Hub release as ported by
# pytorch-pretrained-biggan (biggan-deep-256), converted with
#   python tools/model_converters/huggingface_to_mmbiggan.py \
#       biggan-deep-256/ biggan-deep_256x256_cvt_hugging-face_rgb.pth \
#       --config THIS
# Width 128, two blocks per resolution, noise of 128 concatenated with the
# class embedding of 128, attention at 64x64, torch-style spectral norm and
# batch norm with eps 1e-4. The batch norms keep the 51 rows of statistics
# recorded per truncation (0, 0.02, ..., 1), blended as the reference does,
# so sampling at truncation t gives the reference's image at t. The output
# convolution computes 128 channels (its spectral norm spans them all) and
# the image is the first three. The release has neither a discriminator
# nor an EMA copy: this is a sampling-only model. RGB, as the reference.
_base_ = ['../_base_/default_runtime.py']

model = dict(
    type='BigGAN',
    data_preprocessor=dict(type='GANDataPreprocessor'),
    generator=dict(
        type='BigGANDeepGenerator',
        output_scale=256,
        noise_size=128,
        num_classes=1000,
        base_channels=128,
        block_depth=2,
        shared_dim=128,
        with_shared_embedding=True,
        concat_noise=True,
        sn_style='torch',
        sn_eps=1e-4,
        bn_eps=1e-4,
        num_bn_stats=51,
        out_conv_channels=128,
        rgb2bgr=False),
    discriminator=None,
    ema_config=None,
    sample_model='orig')

train_cfg = None
optim_wrapper = None
