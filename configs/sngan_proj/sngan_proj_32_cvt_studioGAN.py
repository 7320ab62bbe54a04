# For SNGAN-Proj CIFAR-10 checkpoints converted from PyTorch-StudioGAN
# (MMGeneration's sngan_proj_32_cvt_studioGAN): the same networks; StudioGAN
# trains and samples in RGB. Inference only: no dataset or training schedule.
_base_ = ['../_base_/models/sngan_proj/sngan_proj_32x32.py']

default_scope = 'mmbiggan'
