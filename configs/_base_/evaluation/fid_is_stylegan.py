# FID and IS with StyleGAN2-ADA's TorchScript Inception (the network of
# MMGeneration's and StyleGAN2-ADA's published numbers). Download
# https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/inception-2015-12-05.pt
# to inception_path (nothing is downloaded at run time); a TorchScript file
# is code, so use NVIDIA's file only.
#
# During training: FID10k/IS10k of the EMA generator every val_interval
# iterations. A config using this file sets train_cfg.val_interval, the
# dataset of val_dataloader, and keeps the best checkpoint by FID with
#   default_hooks = dict(checkpoint=dict(save_best='FID', rule='less'))
# (mmengine forbids one key in two base files, and default_runtime.py
# already defines default_hooks).
# The real statistics come from inception_pkl when a config sets it
# (tools/utils/inception_stat.py writes one; MMGeneration's cifar10.pkl and
# imagenet.pkl work too), else once from every image of val_dataloader.
# tools/test.py evaluates a checkpoint with these metrics at 50k images.
inception_args = dict(
    type='StyleGAN', inception_path='work_dirs/cache/inception-2015-12-05.pt')

val_cfg = dict(
    type='GenerativeValLoop', seed=0, batch_size=50, sample_model='ema')
val_evaluator = dict(metrics=[
    dict(type='FID', num_images=10000, inception_args=inception_args),
    dict(type='IS', num_images=10000, inception_args=inception_args),
])
# The real images for FID (their statistics are computed once per run unless
# the FID metric is given an inception_pkl): a recipe sets the dataset, e.g.
#     val_dataloader = dict(dataset=_base_.cifar10_dataset)
val_dataloader = dict(
    batch_size=50,
    num_workers=4,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'))
