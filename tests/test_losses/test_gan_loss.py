import math

import pytest
import torch

from mmbiggan.models.losses import GANLoss

REAL = torch.tensor([[2.0], [0.5], [-1.5]])
FAKE = torch.tensor([[-3.0], [0.25], [1.0]])


def softplus(x):
    return math.log1p(math.exp(x))


def mean(values):
    return sum(values) / len(values)


def test_hinge_matches_hand_formula():
    loss = GANLoss('hinge')
    loss_real, loss_fake = loss.disc_loss(REAL, FAKE)
    # relu(1 - real): 0, 0.5, 2.5; relu(1 + fake): 0, 1.25, 2.0
    assert loss_real.item() == pytest.approx(3.0 / 3)
    assert loss_fake.item() == pytest.approx(3.25 / 3)
    assert loss.gen_loss(FAKE).item() == pytest.approx(-(-1.75) / 3)


@pytest.mark.parametrize('gan_type', ['nsgan', 'wgan-logistic-ns', 'vanilla'])
def test_logistic_losses_match_hand_formula(gan_type):
    loss = GANLoss(gan_type)
    loss_real, loss_fake = loss.disc_loss(REAL, FAKE)
    assert loss_real.item() == pytest.approx(
        mean([softplus(-x) for x in REAL.flatten().tolist()]), rel=1e-6)
    assert loss_fake.item() == pytest.approx(
        mean([softplus(x) for x in FAKE.flatten().tolist()]), rel=1e-6)
    # Non-saturating generator loss.
    assert loss.gen_loss(FAKE).item() == pytest.approx(
        mean([softplus(-x) for x in FAKE.flatten().tolist()]), rel=1e-6)


def test_vanilla_label_values_and_lsgan_wgan():
    smooth = GANLoss('vanilla', real_label_val=0.9)
    x = REAL.flatten().tolist()
    expected = mean([softplus(-v) * 0.9 + softplus(v) * 0.1 for v in x])
    assert smooth.disc_loss(REAL, FAKE)[0].item() == pytest.approx(
        expected, rel=1e-6)
    lsgan = GANLoss('lsgan')
    assert lsgan.disc_loss(REAL, FAKE)[0].item() == pytest.approx(
        mean([(v - 1)**2 for v in x]))
    assert lsgan.disc_loss(REAL, FAKE)[1].item() == pytest.approx(
        mean([v**2 for v in FAKE.flatten().tolist()]))
    wgan = GANLoss('wgan')
    assert wgan.disc_loss(REAL, FAKE)[0].item() == pytest.approx(-1 / 3)
    assert wgan.disc_loss(REAL, FAKE)[1].item() == pytest.approx(-1.75 / 3)


def test_loss_weight_scales_only_the_generator_and_mmgen_signature():
    loss = GANLoss('hinge', loss_weight=0.5)
    assert loss.gen_loss(FAKE).item() == pytest.approx(0.5 * 1.75 / 3)
    assert loss(FAKE, True, is_disc=False).item() == pytest.approx(
        0.5 * 1.75 / 3)
    assert loss(REAL, True, is_disc=True).item() == pytest.approx(1.0)
    assert loss(FAKE, False, is_disc=True).item() == pytest.approx(3.25 / 3)


def test_half_precision_logits_give_float32_losses():
    loss_real, _ = GANLoss('hinge').disc_loss(REAL.bfloat16(), FAKE)
    assert loss_real.dtype == torch.float32


def test_unknown_type_names_the_choices():
    with pytest.raises(ValueError, match="Unknown gan_type 'hinje'"):
        GANLoss('hinje')
