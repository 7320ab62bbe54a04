# BigGAN-Deep at 256x256 (ImageNet): the 128x128 model's settings; the
# generator and discriminator take their layouts for 256 from the resolution.
_base_ = ['./biggan_deep_128x128.py']
model = dict(
    generator=dict(output_scale=256), discriminator=dict(input_scale=256))
