import pytest
import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from mmbiggan.engine import (AutocastOptimWrapper, GANOptimWrapperDict,
                             MultiOptimWrapperConstructor)


class TinyGAN(nn.Module):
    generator_steps = 2

    def __init__(self):
        super().__init__()
        self.generator = nn.Linear(3, 4)
        self.discriminator = nn.Sequential(nn.Linear(4, 5), nn.Linear(5, 1))
        self.generator_ema = nn.Linear(3, 4)

    def generator_cycle(self, optim_wrapper):
        return 3 * optim_wrapper['discriminator']._accumulative_counts


CFG = dict(
    generator=dict(
        optimizer=dict(type='Adam', lr=1e-4, betas=(0.0, 0.999), eps=1e-6),
        accumulative_counts=8),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=4e-4, betas=(0.0, 0.999)),
        accumulative_counts=2))


def test_one_wrapper_per_network_with_its_settings():
    model = TinyGAN()
    wrappers = MultiOptimWrapperConstructor(CFG)(model)
    assert isinstance(wrappers, GANOptimWrapperDict)
    assert set(wrappers.keys()) == {'generator', 'discriminator'}
    g, d = wrappers['generator'], wrappers['discriminator']
    assert isinstance(g, OptimWrapper) and isinstance(g.optimizer,
                                                      torch.optim.Adam)
    assert g.optimizer.defaults['lr'] == 1e-4
    assert g.optimizer.defaults['betas'] == (0.0, 0.999)
    assert g.optimizer.defaults['eps'] == 1e-6
    assert d.optimizer.defaults['lr'] == 4e-4
    assert d.optimizer.defaults['eps'] == 1e-8
    assert g._accumulative_counts == 8 and d._accumulative_counts == 2
    ids = lambda m: {id(p) for p in m.parameters()}  # noqa: E731
    assert {id(p) for grp in g.param_groups
            for p in grp['params']} == ids(model.generator)
    assert {id(p) for grp in d.param_groups
            for p in grp['params']} == ids(model.discriminator)


def test_counters_follow_the_runner_iteration():
    model = TinyGAN()
    wrappers = MultiOptimWrapperConstructor(CFG)(model)
    # Resuming at iteration 36: the discriminator has seen 36 batches; the
    # generator 36 // (3 * 2) = 6 cycles of 2 updates x 8 batches.
    wrappers.initialize_count_status(model, 36, 100)
    assert wrappers['discriminator']._inner_count == 36
    assert wrappers['discriminator']._max_counts == 100
    assert wrappers['generator']._inner_count == 6 * 2 * 8
    assert wrappers['generator']._max_counts == -1


def test_unknown_network_name_suggests_the_right_one():
    cfg = dict(CFG)
    cfg['generater'] = cfg.pop('generator')
    with pytest.raises(KeyError, match="did you mean 'generator'"):
        MultiOptimWrapperConstructor(cfg)(TinyGAN())
    with pytest.raises(ValueError, match='must be a dict with an'):
        MultiOptimWrapperConstructor(dict(generator=dict(lr=1)))


def test_autocast_wrapper_state_and_fp16_scaling():
    layer = nn.Linear(4, 1)
    wrapper = AutocastOptimWrapper(
        optimizer=torch.optim.SGD(layer.parameters(), lr=0.1))
    assert wrapper.cast_dtype == torch.bfloat16 and wrapper.loss_scaler is None
    with wrapper.optim_context(layer):
        out = layer(torch.ones(2, 4))
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().sum())
    scaled = AutocastOptimWrapper(
        dtype='float16',
        loss_scale=64.0,
        optimizer=torch.optim.SGD(layer.parameters(), lr=0.1))
    state = scaled.state_dict()
    assert state['loss_scaler']['scale'] == 64.0
    scaled.load_state_dict(state)
    with pytest.raises(ValueError, match="'float16' or 'bfloat16'"):
        AutocastOptimWrapper(
            dtype='int8',
            optimizer=torch.optim.SGD(layer.parameters(), lr=0.1))
