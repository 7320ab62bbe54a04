# BigGAN-Deep 256x256 (ImageNet), the TF-Hub release as ported by
# pytorch-pretrained-biggan (biggan-deep-256), converted with
#   python tools/model_converters/huggingface_to_mmbiggan.py \
#       biggan-deep-256/ biggan-deep_256x256_cvt_hugging-face_rgb.pth \
#       --config THIS
# The settings of the 128x128 release (see that config), at 256x256.
_base_ = ['./biggan-deep_128x128_cvt_hugging-face_rgb.py']
model = dict(generator=dict(output_scale=256))
