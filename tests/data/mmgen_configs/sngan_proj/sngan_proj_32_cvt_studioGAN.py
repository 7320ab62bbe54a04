_base_ = ['../_base_/models/sngan_proj/sngan_proj_32x32.py']
