"""Small networks and helpers for the GAN model tests."""
import torch
import torch.nn as nn
from mmengine.logging import MessageHub
from mmengine.structures import BaseDataElement

from mmbiggan.engine import MultiOptimWrapperConstructor


class LinearGenerator(nn.Module):
    """Images from a linear map of ``[noise, one_hot(label)]``: no batch
    statistics and no power iteration, so a batch split in parts gives
    exactly the gradients of the whole batch."""

    def __init__(self, noise_size=6, num_classes=3, image_size=4):
        super().__init__()
        self.noise_size = noise_size
        self.num_classes = num_classes
        self.image_size = image_size
        self.fc = nn.Linear(noise_size + num_classes, 3 * image_size**2)
        self.register_buffer('scale', torch.ones(1))

    def forward(self, noise, label=None, **kwargs):
        onehot = nn.functional.one_hot(label, self.num_classes).to(noise)
        out = self.fc(torch.cat([noise, onehot], 1)) * self.scale
        return torch.tanh(out).view(-1, 3, self.image_size, self.image_size)


class LinearDiscriminator(nn.Module):
    """A projection discriminator without spectral norm: ``[N, 1]``."""

    def __init__(self, num_classes=3, image_size=4):
        super().__init__()
        self.fc = nn.Linear(3 * image_size**2, 8)
        self.out = nn.Linear(8, 1)
        self.embed = nn.Embedding(num_classes, 8)

    def forward(self, x, label=None):
        h = torch.relu(self.fc(x.flatten(1)))
        return self.out(h) + (self.embed(label) * h).sum(1, keepdim=True)


def make_batch(images, labels):
    """A data batch as the dataloader gives it."""
    return dict(
        inputs=list(images),
        data_samples=[
            BaseDataElement(gt_label=torch.tensor(int(y))) for y in labels
        ])


def build_optim(model, lr=0.1, d_accumulation=1, g_accumulation=1,
                optimizer='SGD'):
    extra = dict(betas=(0.0, 0.999)) if optimizer == 'Adam' else {}
    return MultiOptimWrapperConstructor(
        dict(
            generator=dict(
                optimizer=dict(type=optimizer, lr=lr, **extra),
                accumulative_counts=g_accumulation),
            discriminator=dict(
                optimizer=dict(type=optimizer, lr=lr, **extra),
                accumulative_counts=d_accumulation)))(model)


def run_iterations(model, optim_wrapper, batches, start=0):
    """``train_step`` over ``batches`` as the runner would; returns the
    log dicts."""
    hub = MessageHub.get_current_instance()
    logs = []
    for offset, batch in enumerate(batches):
        hub.update_info('iter', start + offset)
        logs.append(model.train_step(batch, optim_wrapper))
    return logs
