# For SAGAN ImageNet-128 checkpoints converted from PyTorch-StudioGAN
# (MMGeneration's sagan_128_cvt_studioGAN): the same networks; StudioGAN
# trains and samples in RGB. Inference only: no dataset or training schedule.
_base_ = ['../_base_/models/sagan/sagan_128x128.py']

default_scope = 'mmbiggan'
