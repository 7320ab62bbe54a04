# BigGAN-Deep 512x512 (ImageNet), the TF-Hub release as ported by
# pytorch-pretrained-biggan (biggan-deep-512), converted with
#   python tools/model_converters/huggingface_to_mmbiggan.py \
#       biggan-deep-512/ biggan-deep_512x512_cvt_hugging-face_rgb.pth \
#       --config THIS
# The settings of the 128x128 release (see that config), at 512x512.
_base_ = ['./biggan-deep_128x128_cvt_hugging-face_rgb.py']
model = dict(generator=dict(output_scale=512))
