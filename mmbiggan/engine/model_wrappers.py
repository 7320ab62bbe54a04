"""DistributedDataParallel for GANs, on GPUs and on CPUs."""
import inspect
from contextlib import ExitStack, contextmanager

import torch.nn as nn
from mmengine.device import get_device
from mmengine.model import (MMDistributedDataParallel,
                            MMSeparateDistributedDataParallel)
from torch.nn.parallel import DistributedDataParallel

from mmbiggan.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class SeparateDistributedDataParallel(MMSeparateDistributedDataParallel):
    """Wrap each trainable sub-network of a GAN (generator, discriminator)
    in its own DDP, leaving parameter-free or frozen children (the EMA
    generator, losses, the data preprocessor) unwrapped, as mmengine's
    :class:`MMSeparateDistributedDataParallel` does, but usable on CPUs.

    The runner passes ``device_ids=[LOCAL_RANK]``, which DDP rejects for a
    CPU module; it is dropped there (gloo needs none).

    Args:
        module (nn.Module): The GAN model.
        broadcast_buffers (bool): Broadcast rank 0's buffers at every
            forward. Off: spectral-norm vectors evolve identically on every
            rank from identical weights, and batch statistics are synced by
            the networks themselves where configured.
        find_unused_parameters (bool): As in DDP.
        **kwargs: Further DDP arguments.
    """

    def __init__(self,
                 module: nn.Module,
                 broadcast_buffers: bool = False,
                 find_unused_parameters: bool = False,
                 **kwargs):
        # Not MMSeparateDistributedDataParallel.__init__: it hands CPU
        # modules the device ids and uses DDP's deprecated argument name.
        nn.Module.__init__(self)
        self.module = module
        device = get_device()
        if device == 'cpu':
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
        kwargs.update(_buffer_sync_args(broadcast_buffers))
        for name, child in module.named_children():
            child = child.to(device)
            if any(p.requires_grad for p in child.parameters()):
                child = MMDistributedDataParallel(
                    module=child,
                    find_unused_parameters=find_unused_parameters,
                    **kwargs)
            module._modules[name] = child

    @contextmanager
    def no_sync(self):
        """``no_sync`` of every wrapped sub-network at once."""
        with ExitStack() as stack:
            for child in self.module.children():
                if hasattr(child, 'no_sync'):
                    stack.enter_context(child.no_sync())
            yield


def _buffer_sync_args(sync: bool) -> dict:
    """DDP's switch for broadcasting buffers at every forward, under the
    name this torch version uses (``broadcast_buffers`` is deprecated in
    favour of ``forward_sync_buffers``)."""
    params = inspect.signature(DistributedDataParallel.__init__).parameters
    if 'forward_sync_buffers' in params:
        return dict(forward_sync_buffers=sync)
    return dict(broadcast_buffers=sync)
