"""LeCamRegularization: the penalty and its gradient by hand, the moving
averages, the schedule, checkpoint state and two processes."""
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mmbiggan.models.losses import LeCamRegularization
from mmbiggan.registry import MODELS

REAL = torch.tensor([[1.], [3.]])
FAKE = torch.tensor([[-2.], [0.5]])


def test_first_call_copies_the_means_and_gives_the_hand_value():
    reg = LeCamRegularization(loss_weight=0.3, ema_decay=0.99)
    loss = reg(REAL, FAKE, iteration=0)
    # Averages: real mean 2, fake mean -0.75 (copied at the first update).
    assert reg.ema_real.item() == 2.0 and reg.ema_fake.item() == -0.75
    # relu(D(x) - a_F)^2 = 1.75^2, 3.75^2 -> mean 8.5625;
    # relu(a_R - D(G(z)))^2 = 4^2, 1.5^2 -> mean 9.125.
    assert loss.item() == pytest.approx(0.3 * (8.5625 + 9.125))
    assert loss.dim() == 0 and loss.dtype == torch.float32


def test_only_one_side_of_each_average_is_penalized():
    reg = LeCamRegularization(loss_weight=1.0)
    reg.update(torch.zeros(2), torch.zeros(2), 0)  # a_R = a_F = 0
    # Reals below the fake average and fakes above the real average: 0.
    assert reg.penalty(torch.tensor([-1., -3.]), torch.tensor([2., 0.1])) \
        == 0
    assert reg.penalty(torch.tensor([2., -1.]), torch.tensor([0., -1.])) \
        == pytest.approx(4 / 2 + 1 / 2)


def test_gradient_by_hand():
    reg = LeCamRegularization(loss_weight=0.5)
    real = REAL.clone().requires_grad_()
    fake = FAKE.clone().requires_grad_()
    reg(real, fake, 0).backward()
    # d/dD(x_i) = w * 2 * relu(D(x_i) - a_F) / N; the averages are constants.
    torch.testing.assert_close(real.grad, 0.5 * 2 * torch.tensor(
        [[1.75], [3.75]]) / 2)
    torch.testing.assert_close(fake.grad, -0.5 * 2 * torch.tensor(
        [[4.], [1.5]]) / 2)


def test_moving_average_update_rule():
    reg = LeCamRegularization(ema_decay=0.9)
    reg.update(REAL, FAKE, 0)
    reg.update(torch.tensor([10.]), torch.tensor([-10.]), 1)
    assert reg.ema_real.item() == pytest.approx(0.9 * 2 + 0.1 * 10)
    assert reg.ema_fake.item() == pytest.approx(0.9 * -0.75 + 0.1 * -10)
    assert int(reg.num_updates) == 2
    # The penalty uses the averages after this batch's update.
    before = reg.ema_real.clone()
    reg(torch.tensor([0.]), torch.tensor([0.]), 2)
    assert reg.ema_real.item() == pytest.approx(0.9 * before.item())


def test_before_start_iter_the_averages_follow_the_batch_and_no_penalty():
    reg = LeCamRegularization(ema_decay=0.9, start_iter=2)
    assert reg(REAL, FAKE, 0).item() == 0
    assert reg(torch.tensor([5.]), torch.tensor([4.]), 1).item() == 0
    assert reg.ema_real.item() == 5 and reg.ema_fake.item() == 4
    loss = reg(torch.tensor([7.]), torch.tensor([0.]), 2)
    a_real, a_fake = 0.9 * 5 + 0.1 * 7, 0.9 * 4
    assert reg.ema_real.item() == pytest.approx(a_real)
    assert loss.item() == pytest.approx(
        0.3 * ((7 - a_fake)**2 + (a_real - 0)**2))


def test_state_dict_and_resume_give_the_same_losses():
    torch.manual_seed(0)
    batches = [(torch.randn(4, 1), torch.randn(4, 1) - 1) for _ in range(6)]
    reg = LeCamRegularization(start_iter=1)
    for it, (real, fake) in enumerate(batches[:3]):
        reg(real, fake, it)
    state = reg.state_dict()
    assert set(state) == {'ema_real', 'ema_fake', 'num_updates'}
    resumed = LeCamRegularization(start_iter=1)
    resumed.load_state_dict(state)
    for it, (real, fake) in enumerate(batches[3:], start=3):
        assert torch.equal(reg(real, fake, it), resumed(real, fake, it))
    assert torch.equal(reg.ema_real, resumed.ema_real)
    # A fresh module would not give the same value: the state matters.
    fresh = LeCamRegularization(start_iter=1)
    assert not torch.equal(fresh(*batches[5], 5), reg(*batches[5], 6))


def test_bad_arguments_and_registry():
    with pytest.raises(ValueError, match='lecam_reg=None'):
        LeCamRegularization(loss_weight=0)
    with pytest.raises(ValueError, match='ema_decay'):
        LeCamRegularization(ema_decay=1.0)
    with pytest.raises(ValueError, match='start_iter'):
        LeCamRegularization(start_iter=-1)
    reg = MODELS.build(dict(type='LeCamRegularization', loss_weight=0.01))
    assert isinstance(reg, LeCamRegularization) and reg.loss_weight == 0.01


def update_on_rank(rank, store, out_dir):
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'file://{store}',
                            rank=rank, world_size=2)
    try:
        reg = LeCamRegularization()
        # Rank 0 sees real logits 1, 3 and fakes -1; rank 1 reals 5, 7 and
        # fakes -3: the global batch means are 4 and -2.
        real = torch.tensor([1., 3.]) + 4 * rank
        fake = torch.tensor([-1., -1.]) - 2 * rank
        loss = reg(real, fake, 0)
        torch.save(dict(ema_real=reg.ema_real, ema_fake=reg.ema_fake,
                        loss=loss),
                   os.path.join(out_dir, f'rank{rank}.pth'))
    finally:
        dist.destroy_process_group()


def test_averages_are_the_global_batch_means_on_every_rank(tmp_path):
    mp.spawn(update_on_rank, args=(str(tmp_path / 'store'), str(tmp_path)),
             nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f'rank{r}.pth', weights_only=True)
             for r in range(2)]
    for state in ranks:
        assert state['ema_real'].item() == 4.0
        assert state['ema_fake'].item() == -2.0
    # Each rank's penalty is its own batch's against the shared averages.
    assert ranks[0]['loss'].item() == pytest.approx(
        0.3 * ((1 + 2)**2 + (3 + 2)**2) / 2 + 0.3 * (4 + 1)**2)


def test_no_value_is_read_back_to_the_host():
    """On the meta device every data-dependent read raises."""
    reg = LeCamRegularization().to('meta')
    logits = torch.empty(4, 1, device='meta')
    for iteration in (0, 1):
        loss = reg(logits, logits, iteration)
    assert loss.device.type == 'meta' and loss.shape == ()
