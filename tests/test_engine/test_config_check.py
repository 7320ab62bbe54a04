import pytest
from mmengine.config import Config

from mmbiggan.engine import ConfigError, check_training_config

CONFIG = 'configs/biggan/biggan_cifar10_32x32_b25x2_500k.py'


@pytest.fixture
def cfg(request):
    import os.path as osp
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    return Config.fromfile(osp.join(root, CONFIG))


def test_shipped_config_passes(cfg):
    check_training_config(cfg)


@pytest.mark.parametrize('edit, message', [
    (lambda c: c.model.update(type='BigGun'),
     "model: unknown model type 'BigGun'; did you mean 'BigGAN'?"),
    (lambda c: c.model.generator.update(base_channel=64),
     "model.generator: BigGANGenerator has no argument 'base_channel'; "
     "did you mean 'base_channels'?"),
    (lambda c: c.model.update(discriminator_step=2),
     "did you mean 'discriminator_steps'?"),
    (lambda c: c.__setattr__('optim_wraper', dict()),
     "Unknown config key 'optim_wraper'; did you mean 'optim_wrapper'?"),
    (lambda c: c.train_dataloader.dataset.update(type='CIFAR10Datset'),
     "did you mean 'CIFAR10Dataset'?"),
    (lambda c: c.custom_hooks[0].update(type='SampleGridHok'),
     "custom_hooks[0]: unknown hook type 'SampleGridHok'; did you mean "
     "'SampleGridHook'?"),
    (lambda c: c.optim_wrapper.generator.optimizer.update(type='Adamm'),
     "optim_wrapper.generator.optimizer: unknown optimizer type 'Adamm'; "
     "did you mean 'Adam'?"),
    (lambda c: c.optim_wrapper.update(constructor='MultiOptimConstructor'),
     "did you mean 'MultiOptimWrapperConstructor'?"),
    (lambda c: c.model.update(augment=dict(type='DiffAugmnt')),
     "model.augment: unknown model type 'DiffAugmnt'; did you mean "
     "'DiffAugment'?"),
    (lambda c: c.model.update(lecam_reg=dict(type='LeCamRegularization',
                                             weight=0.3)),
     "model.lecam_reg: LeCamRegularization has no argument 'weight'"),
])
def test_typos_name_the_closest_valid_name(cfg, edit, message):
    edit(cfg)
    with pytest.raises(ConfigError) as info:
        check_training_config(cfg)
    assert message in str(info.value)


def test_config_variables_are_not_mistaken_for_typos(cfg):
    cfg.data_root = 'data/elsewhere'
    cfg.my_pipeline = [dict(type='PackInputs')]
    check_training_config(cfg)
