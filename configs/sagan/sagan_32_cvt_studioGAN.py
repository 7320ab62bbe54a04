# For SAGAN CIFAR-10 checkpoints converted from PyTorch-StudioGAN
# (MMGeneration's sagan_32_cvt_studioGAN): the same networks; StudioGAN
# trains and samples in RGB. Inference only: no dataset or training schedule.
_base_ = ['../_base_/models/sagan/sagan_32x32.py']

default_scope = 'mmbiggan'
