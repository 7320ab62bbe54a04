"""What every class-conditional generator of mmbiggan shares: turning the
``noise``/``label`` arguments (tensor, callable or None) into batches, the
truncation trick, output channel order and loading pretrained weights."""
from typing import Callable, Iterable, Optional, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer

from ..layers.conditional_norm import ConditionalBatchNorm2d
from ..layers.spectral_norm import SNConv2d, reset_spectral_norm_vectors
from ..layers.truncation import (check_truncation, num_truncation_stats,
                                 sample_truncated_noise)

InputSpec = Union[torch.Tensor, Callable, None]


def rgb_to_output_order(images: torch.Tensor,
                        rgb2bgr: bool) -> torch.Tensor:
    """The generators' one output step: images ``[N, 3, H, W]`` are made
    RGB and leave ``forward`` as BGR when ``rgb2bgr`` (MMGeneration's
    converted configs ask for it), unchanged otherwise."""
    return images.flip(1) if rgb2bgr else images


def output_order_to_rgb(images: torch.Tensor, rgb2bgr: bool) -> torch.Tensor:
    """Undo :func:`rgb_to_output_order` (the flip is its own inverse): what
    the sampler does, so that every consumer of samples sees RGB."""
    return rgb_to_output_order(images, rgb2bgr)


class ConditionalGenerator(nn.Module):
    """Base of the generators; subclasses set ``noise_size``,
    ``num_classes``, ``out_channels`` (of the images returned) and
    ``rgb2bgr``, build ``conv_blocks`` with :meth:`add_block` and implement
    ``synthesize``.

    ``forward(noise, label=None, num_batches=0, return_noise=False,
    truncation=None, use_outside_embedding=False)`` follows MMGeneration:

    * ``noise``: a tensor ``[N, noise_size]`` used as given, a callable
      taking a shape, or None to sample ``num_batches`` vectors: standard
      normal, or with ``truncation=t`` the truncated normal of
      :func:`sample_truncated_noise` (``t * TN(-2, 2)``, as the public BigGAN
      samplers draw it).
    * ``label``: int labels ``[N]``, float class vectors ``[N, num_classes]``
      (mixtures of classes), the class embedding itself ``[N, shared_dim]``
      when ``use_outside_embedding``, a callable taking a shape, or None to
      draw uniform classes. Ignored by unconditional models.
    * ``truncation``: None or a float in ``(0, 1]``; besides the sampled
      noise it selects per-truncation batch-norm statistics where the model
      has them (converted BigGAN-Deep).

    Returns images ``[N, out_channels, H, W]`` in ``[-1, 1]`` (RGB unless
    ``rgb2bgr``), or with ``return_noise`` a dict ``fake_img``,
    ``noise_batch``, ``label``.
    """

    noise_size: int
    num_classes: int
    out_channels: int
    rgb2bgr: bool = False

    def build_output_layers(self, in_channels: int, conv_channels: int,
                            act_cfg: dict, sn_cfg: Optional[dict],
                            **norm_args) -> None:
        """The generator's last layers, in this order: ``out_bn``
        (:class:`ConditionalBatchNorm2d` of ``in_channels`` with
        ``norm_args``), ``out_activation`` and ``out_conv`` (3x3,
        ``in_channels -> conv_channels``)."""
        self.out_bn = ConditionalBatchNorm2d(in_channels, **norm_args)
        self.out_activation = build_activation_layer(act_cfg)
        self.out_conv = SNConv2d(
            in_channels, conv_channels, 3, padding=1, sn_cfg=sn_cfg)

    def __init__(self):
        super().__init__()
        # Positions in conv_blocks of the blocks that read no condition.
        self._attention_indices = set()

    def add_block(self, block: nn.Module, reads_condition: bool = True):
        """Append ``block`` to ``conv_blocks`` (an ``nn.ModuleList`` the
        subclass creates where its state-dict keys should come): a residual
        block called as ``block(x, cond, truncation)``, or
        (``reads_condition=False``) self-attention called as ``block(x)``."""
        if not reads_condition:
            self._attention_indices.add(len(self.conv_blocks))
        self.conv_blocks.append(block)

    def run_blocks(self, x: torch.Tensor, conds: Iterable,
                   truncation: Optional[float]) -> torch.Tensor:
        """``x`` through ``conv_blocks``, each residual block with the next
        condition from ``conds``. Shapes: ``[N, C, H, W]`` in, the last
        block's output out."""
        conds = iter(conds)
        for index, block in enumerate(self.conv_blocks):
            if index in self._attention_indices:
                x = block(x)
            else:
                x = block(x, next(conds), truncation)
        return x

    def _device(self) -> torch.device:
        return next(self.parameters()).device

    def _check_noise(self, noise: torch.Tensor) -> torch.Tensor:
        if not isinstance(noise, torch.Tensor) or noise.dim() != 2 or \
                noise.shape[1] != self.noise_size:
            got = tuple(noise.shape) if isinstance(
                noise, torch.Tensor) else type(noise).__name__
            raise ValueError(f'noise must have shape [N, {self.noise_size}],'
                             f' got {got}.')
        return noise.to(self._device())

    def _noise_batch(self, noise: InputSpec, num_batches: int,
                     truncation: Optional[float]) -> torch.Tensor:
        if isinstance(noise, torch.Tensor):
            return self._check_noise(noise)
        if num_batches <= 0:
            raise ValueError('Give a noise tensor or num_batches > 0.')
        if callable(noise):
            return self._check_noise(noise((num_batches, self.noise_size)))
        if noise is not None:
            raise TypeError('noise must be a tensor, a callable or None, got '
                            f'{type(noise).__name__}.')
        if truncation is None:
            return torch.randn(
                num_batches, self.noise_size, device=self._device())
        return sample_truncated_noise(
            num_batches, self.noise_size, truncation, device=self._device())

    def _label_batch(self, label: InputSpec, num_batches: int,
                     use_outside_embedding: bool) -> Optional[torch.Tensor]:
        if self.num_classes == 0:
            return None
        if isinstance(label, torch.Tensor):
            label = label.to(self._device())
            shared_embedding = getattr(self, 'shared_embedding', None)
            if use_outside_embedding and shared_embedding is not None:
                dim = shared_embedding.embedding_dim
                if not label.is_floating_point() or label.dim() != 2 or \
                        label.shape[1] != dim:
                    raise ValueError(
                        'With use_outside_embedding the label is the class '
                        f'embedding: a float tensor [N, {dim}], got '
                        f'{label.dtype} {tuple(label.shape)}.')
                return label
            if not label.is_floating_point():
                if label.dim() != 1:
                    raise ValueError('Integer labels must have shape [N], '
                                     f'got {tuple(label.shape)}.')
                # On accelerators the check syncs the device, so it is left
                # out of training steps there.
                if (not self.training or label.device.type == 'cpu') and \
                        label.numel() and (
                        int(label.min()) < 0
                        or int(label.max()) >= self.num_classes):
                    bad = label[(label < 0) | (label >= self.num_classes)]
                    raise ValueError(
                        f'Label {int(bad[0])} is out of range: this model '
                        f'has classes 0..{self.num_classes - 1}.')
            return label
        if num_batches <= 0:
            raise ValueError('Give a label tensor or num_batches > 0.')
        if callable(label):
            return self._label_batch(
                label((num_batches, )), num_batches, use_outside_embedding)
        if label is not None:
            raise TypeError('label must be a tensor, a callable or None, got '
                            f'{type(label).__name__}.')
        return torch.randint(
            0, self.num_classes, (num_batches, ), device=self._device())

    def forward(self,
                noise: InputSpec = None,
                label: InputSpec = None,
                num_batches: int = 0,
                return_noise: bool = False,
                truncation: Optional[float] = None,
                use_outside_embedding: bool = False):
        if truncation is not None:
            truncation = check_truncation(truncation,
                                          num_truncation_stats(self))
        noise_batch = self._noise_batch(noise, num_batches, truncation)
        label_batch = self._label_batch(label, noise_batch.shape[0],
                                        use_outside_embedding)
        if label_batch is not None and label_batch.shape[0] != \
                noise_batch.shape[0]:
            raise ValueError(f'{noise_batch.shape[0]} noise vectors but '
                             f'{label_batch.shape[0]} labels.')
        img = self.synthesize(noise_batch, label_batch, truncation,
                              use_outside_embedding)
        img = rgb_to_output_order(img, self.rgb2bgr)
        if return_noise:
            return dict(
                fake_img=img, noise_batch=noise_batch, label=label_batch)
        return img

    def synthesize(self, noise: torch.Tensor, label: Optional[torch.Tensor],
                   truncation: Optional[float],
                   use_outside_embedding: bool) -> torch.Tensor:
        raise NotImplementedError


def check_upsample_cfg(upsample_cfg: Optional[dict]):
    """The BigGAN family upsamples by nearest-neighbour doubling; reject
    configs asking for something the blocks do not do."""
    if upsample_cfg is None:
        return
    if upsample_cfg.get('type', 'nearest') != 'nearest' or \
            upsample_cfg.get('scale_factor', 2) != 2:
        raise ValueError(
            'Only upsample_cfg=dict(type="nearest", scale_factor=2) is '
            f'supported, got {upsample_cfg}.')


def check_norm_cfg(norm_cfg: Optional[dict]):
    if norm_cfg is not None and norm_cfg.get('type', 'BN') not in ('BN',
                                                                   'SyncBN'):
        raise ValueError(
            f'Only batch norm (type "BN") is supported, got {norm_cfg}.')


def resolve_block_type(blocks_cfg: dict, cfg_name: str = 'blocks_cfg'):
    """The module class named by ``blocks_cfg['type']`` (a registered name
    or a class) and the remaining arguments; ``cfg_name`` names the
    argument in errors."""
    from mmbiggan.registry import MODELS
    block_type = blocks_cfg.get('type')
    if isinstance(block_type, str):
        block_type = MODELS.get(block_type)
    if block_type is None:
        raise KeyError(f'Unknown module type {blocks_cfg.get("type")!r} in '
                       f'{cfg_name}; use a type registered in '
                       'mmbiggan.registry.MODELS.')
    return block_type, {k: v for k, v in blocks_cfg.items() if k != 'type'}


def make_sn_cfg(with_spectral_norm: bool, sn_style: str, sn_eps: float,
                sn_iters: int = 1, sn_svs: int = 1) -> Optional[dict]:
    if not with_spectral_norm:
        return None
    return dict(style=sn_style, eps=sn_eps, num_iters=sn_iters,
                num_svs=sn_svs)


def load_pretrained(module: nn.Module, pretrained):
    """MMGeneration's ``pretrained`` argument: a checkpoint path, or a dict
    with ``ckpt_path`` and optional ``prefix`` (e.g. ``'generator_ema.'``)
    and ``strict``."""
    if pretrained is None:
        return
    from mmbiggan.utils.checkpoint import load_module_weights
    if isinstance(pretrained, str):
        pretrained = dict(ckpt_path=pretrained)
    if not isinstance(pretrained, dict) or 'ckpt_path' not in pretrained:
        raise TypeError('pretrained must be a path or a dict with ckpt_path, '
                        f'got {pretrained!r}.')
    load_module_weights(
        module,
        pretrained['ckpt_path'],
        prefix=pretrained.get('prefix', ''),
        strict=pretrained.get('strict', True))


def init_weights(module: nn.Module, initialize: Callable[[nn.Module, str],
                                                         None],
                 init_type: str, sn_style: str, pretrained) -> None:
    """The last step of every generator and discriminator constructor:
    ``initialize(module, init_type)`` (:func:`init_biggan_weights` or
    :func:`init_sngan_weights`), then, for ``sn_style='torch'``, power
    iterations that bring the spectral-norm vectors near the top singular
    pairs (as ``torch.nn.utils.spectral_norm`` does when registered), then
    the ``pretrained`` weights, if any (:func:`load_pretrained`)."""
    initialize(module, init_type)
    if sn_style == 'torch':
        reset_spectral_norm_vectors(module)
    load_pretrained(module, pretrained)

