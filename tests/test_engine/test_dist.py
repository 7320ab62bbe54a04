import socket

import pytest
import torch
import torch.distributed as dist
from mmengine.logging import MessageHub

from mmbiggan.engine import (DistributedSetupError,
                             MultiOptimWrapperConstructor,
                             SeparateDistributedDataParallel,
                             init_distributed)
from mmbiggan.models import BigGAN

ENV_KEYS = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture
def single_process_env(monkeypatch):
    for key, value in zip(ENV_KEYS,
                          ('0', '1', '0', '127.0.0.1', str(free_port()))):
        monkeypatch.setenv(key, value)
    yield
    if dist.is_initialized():
        dist.destroy_process_group()


def test_missing_environment_and_unknown_launcher(monkeypatch):
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(DistributedSetupError, match='tools/dist_train.sh'):
        init_distributed('pytorch')
    with pytest.raises(DistributedSetupError, match='Unknown launcher'):
        init_distributed('mpi')
    init_distributed('none')
    assert not dist.is_initialized()


def test_more_processes_than_gpus_is_refused(single_process_env,
                                             monkeypatch):
    monkeypatch.setenv('LOCAL_RANK', '3')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: 2)
    with pytest.raises(DistributedSetupError,
                       match='only 2 GPU\\(s\\) are visible'):
        init_distributed('pytorch')
    assert not dist.is_initialized()


def test_gloo_group_and_separate_ddp_on_cpu(single_process_env):
    init_distributed('pytorch')
    assert dist.get_backend() == 'gloo'
    torch.manual_seed(0)
    model = BigGAN(
        generator=dict(type='BigGANGenerator', output_scale=32,
                       noise_size=16, num_classes=3, base_channels=2,
                       with_shared_embedding=False, split_noise=False),
        discriminator=dict(type='BigGANDiscriminator', input_scale=32,
                           num_classes=3, base_channels=2))
    # As the Runner builds it: with the device ids CPU DDP must not get.
    wrapped = SeparateDistributedDataParallel(model, device_ids=[0])
    ddp = torch.nn.parallel.DistributedDataParallel
    assert isinstance(model.generator, ddp)
    assert isinstance(model.discriminator, ddp)
    assert not isinstance(model.generator_ema, ddp)
    optim = MultiOptimWrapperConstructor(
        dict(generator=dict(optimizer=dict(type='SGD', lr=0.1)),
             discriminator=dict(optimizer=dict(type='SGD', lr=0.1))))(
                 wrapped)
    from mmengine.structures import BaseDataElement
    data = dict(
        inputs=[torch.zeros(3, 32, 32, dtype=torch.uint8)] * 2,
        data_samples=[BaseDataElement(gt_label=torch.tensor(1))] * 2)
    before = model.generator.module.out_conv.weight.clone()
    MessageHub.get_current_instance().update_info('iter', 0)
    logs = wrapped.train_step(data, optim)
    assert 'loss_gen' in logs
    assert not torch.equal(before, model.generator.module.out_conv.weight)
    with wrapped.no_sync():
        pass
    MessageHub.get_current_instance().update_info('iter', 0)
