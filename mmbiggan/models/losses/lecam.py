"""LeCam regularization of the discriminator (Tseng, Jiang, Liu, Yang and
Yang, "Regularizing Generative Adversarial Networks under Limited Data",
CVPR 2021)."""
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from mmbiggan.registry import MODELS


def all_ranks_mean(values: torch.Tensor) -> torch.Tensor:
    """``values`` averaged over the processes of the default group (itself
    outside distributed training)."""
    if dist.is_available() and dist.is_initialized() and \
            dist.get_world_size() > 1:
        values = values.clone()
        dist.all_reduce(values)
        values /= dist.get_world_size()
    return values


@MODELS.register_module()
class LeCamRegularization(nn.Module):
    """Pull the discriminator's outputs towards the moving averages of the
    other side's outputs.

    With ``D(x)`` the logits of the real images, ``D(G(z))`` those of the
    fakes and ``a_R``, ``a_F`` the exponential moving averages of their
    batch means, the loss added to the discriminator's is (paper Eq. 3;
    ``lecam_reg`` in google/lecam-gan ``biggan_cifar/losses.py``)::

        loss_weight * (mean(relu(D(x) - a_F) ** 2)
                       + mean(relu(a_R - D(G(z))) ** 2))

    The sign convention is that of hinge and non-saturating losses: D's
    outputs are high for real images. Only real outputs above the fake
    average and fake outputs below the real average are penalized; the
    averages carry no gradient.

    Each call (one per discriminator batch, so once per accumulation
    step, as in the reference) first updates the averages with the batch
    (``a <- decay * a + (1 - decay) * mean``, as the reference updates
    them inside its discriminator loss before the penalty) and then returns
    the penalty. Before ``start_iter`` the averages follow the latest batch
    (decay 0) and the penalty is 0, as in the reference, whose BigGAN
    CIFAR recipe starts after 1000 generator iterations; here ``start_iter``
    counts runner iterations (discriminator batches). The first update
    copies the batch means, so the initial buffer values never matter.

    The averages are buffers, so checkpoints keep them and a resumed run
    continues exactly. Under distributed training the batch means are
    averaged over the processes (one all-reduce of two numbers per call),
    so every rank holds the same averages: those of the global batch.

    Args:
        loss_weight (float): ``lambda`` of the paper; 0.3 in the reference
            BigGAN CIFAR scripts (``--LC 0.3``), 0.01 for ImageNet.
        ema_decay (float): Decay of the averages; 0.99 as in the paper and
            the reference StyleGAN2 code (the BigGAN CIFAR code uses 0.9).
        start_iter (int): Runner iteration from which the averages decay
            and the penalty applies.
    """

    def __init__(self,
                 loss_weight: float = 0.3,
                 ema_decay: float = 0.99,
                 start_iter: int = 0):
        super().__init__()
        if loss_weight <= 0:
            raise ValueError('LeCamRegularization needs loss_weight > 0, got '
                             f'{loss_weight}; set lecam_reg=None to disable '
                             'it.')
        if not 0 <= ema_decay < 1:
            raise ValueError('LeCamRegularization needs 0 <= ema_decay < 1, '
                             f'got {ema_decay}.')
        if int(start_iter) < 0:
            raise ValueError('LeCamRegularization needs start_iter >= 0, got '
                             f'{start_iter}.')
        self.loss_weight = loss_weight
        self.ema_decay = ema_decay
        self.start_iter = int(start_iter)
        self.register_buffer('ema_real', torch.zeros(()))
        self.register_buffer('ema_fake', torch.zeros(()))
        self.register_buffer('num_updates', torch.zeros((), dtype=torch.long))

    def extra_repr(self) -> str:
        return (f'loss_weight={self.loss_weight}, ema_decay={self.ema_decay}'
                f', start_iter={self.start_iter}')

    @torch.no_grad()
    def update(self, real_logits: torch.Tensor, fake_logits: torch.Tensor,
               iteration: int):
        """Move the averages towards the batch means of the logits (any
        shape); no host sync."""
        means = all_ranks_mean(
            torch.stack([real_logits.detach().float().mean(),
                         fake_logits.detach().float().mean()]))
        decay = self.ema_decay if iteration >= self.start_iter else 0.0
        # Copy at the first update: the zero initial values are no estimate.
        decay = torch.where(self.num_updates > 0, decay, 0.0).to(means)
        old = torch.stack([self.ema_real, self.ema_fake]).to(means)
        new = old * decay + means * (1 - decay)
        self.ema_real.copy_(new[0])
        self.ema_fake.copy_(new[1])
        self.num_updates += 1

    def penalty(self, real_logits: torch.Tensor,
                fake_logits: torch.Tensor) -> torch.Tensor:
        """The weighted penalty against the current averages, float32."""
        real = real_logits.float()
        fake = fake_logits.float()
        return self.loss_weight * (
            F.relu(real - self.ema_fake).pow(2).mean() +
            F.relu(self.ema_real - fake).pow(2).mean())

    def forward(self, real_logits: torch.Tensor, fake_logits: torch.Tensor,
                iteration: int) -> torch.Tensor:
        """Update the averages with the batch, then the penalty (a 0-d
        tensor; 0 before ``start_iter``).

        Args:
            real_logits (Tensor): ``D(x)``, e.g. ``[N, 1]``.
            fake_logits (Tensor): ``D(G(z))``, e.g. ``[N, 1]``.
            iteration (int): The runner iteration.
        """
        self.update(real_logits, fake_logits, iteration)
        if iteration < self.start_iter:
            return real_logits.new_zeros((), dtype=torch.float32)
        return self.penalty(real_logits, fake_logits)
