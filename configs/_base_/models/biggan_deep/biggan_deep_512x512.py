# BigGAN-Deep at 512x512 (ImageNet): the 128x128 model's settings; the
# generator and discriminator take their layouts for 512 from the resolution.
_base_ = ['./biggan_deep_128x128.py']
model = dict(
    generator=dict(output_scale=512), discriminator=dict(input_scale=512))
