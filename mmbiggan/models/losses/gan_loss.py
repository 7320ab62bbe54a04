"""Adversarial losses of the BigGAN family."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmbiggan.registry import MODELS


@MODELS.register_module()
class GANLoss(nn.Module):
    """Adversarial loss, called on discriminator logits.

    ``gan_type``:

    * ``'hinge'`` (BigGAN, SAGAN, SNGAN): D ``relu(1 - real) + relu(1 +
      fake)``, G ``-fake``.
    * ``'nsgan'``: the non-saturating logistic loss written with softplus:
      D ``softplus(-real) + softplus(fake)``, G ``softplus(-fake)``
      (BigGAN-PyTorch's ``loss_dcgan``); ``'wgan-logistic-ns'`` is
      MMGeneration's name for it.
    * ``'vanilla'``: binary cross-entropy against ``real_label_val`` /
      ``fake_label_val`` as MMGeneration computes it; the generator targets
      the real label, so with the default labels it equals ``'nsgan'``.
    * ``'lsgan'``: squared error against the same labels.
    * ``'wgan'``: D ``-real + fake``, G ``-fake``.

    Every term is a mean over the batch. ``loss_weight`` scales the generator
    loss only (as in MMGeneration): the discriminator loss defines the game.

    Use :meth:`disc_loss` and :meth:`gen_loss`; ``forward(pred,
    target_is_real, is_disc)`` keeps MMGeneration's signature.
    """

    GAN_TYPES = ('hinge', 'nsgan', 'wgan-logistic-ns', 'vanilla', 'lsgan',
                 'wgan')

    def __init__(self,
                 gan_type: str,
                 real_label_val: float = 1.0,
                 fake_label_val: float = 0.0,
                 loss_weight: float = 1.0):
        super().__init__()
        if gan_type not in self.GAN_TYPES:
            raise ValueError(f'Unknown gan_type {gan_type!r}; choose one of '
                             f'{self.GAN_TYPES}.')
        self.gan_type = gan_type
        self.real_label_val = real_label_val
        self.fake_label_val = fake_label_val
        self.loss_weight = loss_weight

    def extra_repr(self) -> str:
        return f'gan_type={self.gan_type!r}, loss_weight={self.loss_weight}'

    def _term(self, pred: torch.Tensor, target_is_real: bool,
              is_disc: bool) -> torch.Tensor:
        # Losses in float32 whatever precision the discriminator ran in.
        pred = pred.float()
        sign = 1.0 if target_is_real else -1.0
        if self.gan_type == 'hinge':
            if is_disc:
                return F.relu(1.0 - sign * pred).mean()
            return -pred.mean()
        if self.gan_type in ('nsgan', 'wgan-logistic-ns'):
            return F.softplus(-sign * pred).mean()
        if self.gan_type == 'wgan':
            return -sign * pred.mean()
        target = torch.full_like(
            pred,
            self.real_label_val if target_is_real else self.fake_label_val)
        if self.gan_type == 'vanilla':
            return F.binary_cross_entropy_with_logits(pred, target)
        return F.mse_loss(pred, target)

    def disc_loss(self, real_pred: torch.Tensor, fake_pred: torch.Tensor):
        """Discriminator loss terms ``(loss_real, loss_fake)``, each a 0-d
        tensor; the discriminator minimizes their sum. Logits ``[N, 1]`` or
        ``[N]``."""
        return (self._term(real_pred, True, True),
                self._term(fake_pred, False, True))

    def gen_loss(self, fake_pred: torch.Tensor) -> torch.Tensor:
        """Generator loss (0-d) on the logits of generated images, times
        ``loss_weight``."""
        return self._term(fake_pred, True, False) * self.loss_weight

    def forward(self,
                pred: torch.Tensor,
                target_is_real: bool,
                is_disc: bool = False) -> torch.Tensor:
        """MMGeneration's call: the loss of ``pred`` against the real or
        fake target, for the discriminator or (weighted) the generator."""
        loss = self._term(pred, target_is_real, is_disc)
        return loss if is_disc else loss * self.loss_weight
