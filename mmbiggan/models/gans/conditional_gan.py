"""The class-conditional GAN: networks, losses, EMA and the training step."""
import difflib
import logging
from copy import deepcopy
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import MessageHub, print_log
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.structures import BaseDataElement

from mmbiggan.registry import MODELS
from ..sampling import get_sampling_generator, iter_samples
from ..sampling import unwrap_model as unwrap
from .ema import copy_weights, update_ema

EMA_KEYS = ('momentum', 'interval', 'start_iter', 'buffer_momentum')


def check_ema_config(ema_config: dict) -> dict:
    unknown = [k for k in ema_config if k not in EMA_KEYS]
    if unknown:
        hint = difflib.get_close_matches(unknown[0], EMA_KEYS, n=1)
        raise KeyError(f'Unknown ema_config key {unknown[0]!r}' +
                       (f'; did you mean {hint[0]!r}?' if hint else
                        f'; the keys are {EMA_KEYS}.'))
    cfg = dict(momentum=0.9999, interval=1, start_iter=0)
    cfg.update(ema_config)
    cfg.setdefault('buffer_momentum', cfg['momentum'])
    for key in ('momentum', 'buffer_momentum'):
        if not 0 <= cfg[key] < 1:
            raise ValueError(f'ema_config.{key} must be in [0, 1), got '
                             f'{cfg[key]}.')
    if 0 < cfg['momentum'] < 0.5:
        # mmagic's ExponentialMovingAverage gives the weight of the new
        # value (0.0001); here it is the weight of the average.
        print_log(
            f'ema_config.momentum={cfg["momentum"]} keeps only '
            f'{cfg["momentum"]:.2%} of the average per step; mmbiggan\'s '
            'momentum is the weight of the average (BigGAN: 0.9999). An '
            "mmagic value m (the new value's weight) is 1 - m here.",
            logger='current', level=logging.WARNING)
    if int(cfg['interval']) < 1 or int(cfg['start_iter']) < 0:
        raise ValueError('ema_config needs interval >= 1 and start_iter >= 0,'
                         f' got {ema_config}.')
    return cfg


def build_network(cfg: Union[dict, nn.Module],
                  default_args: Optional[dict]) -> nn.Module:
    """A network from its config, or the module itself."""
    if isinstance(cfg, nn.Module):
        return cfg
    return MODELS.build(cfg, default_args=default_args)


def set_requires_grad(module: nn.Module, flag: bool):
    for param in module.parameters():
        param.requires_grad_(flag)


@MODELS.register_module('BasiccGAN')
@MODELS.register_module('BasicConditionalGAN')
@MODELS.register_module()
class BigGAN(BaseModel):
    """A class-conditional GAN trained as BigGAN is.

    One runner iteration consumes one real batch for one discriminator
    forward/backward on ``[fake, real]`` concatenated (one forward, as
    BigGAN-PyTorch's ``G_D``), fakes drawn with fresh noise and uniform
    labels. The discriminator optimizer steps every ``accumulative_counts``
    iterations of its wrapper; after ``discriminator_steps`` such updates
    the generator makes ``generator_steps`` updates, each accumulating its
    wrapper's ``accumulative_counts`` batches of the real batch's size. So
    the generator is updated at iterations ``i`` (0-based) with ``(i + 1) %
    (discriminator_steps * d_accumulation) == 0``, and each update is
    followed by the EMA step.

    Small-data stabilisers (all off by default): ``augment`` (e.g.
    :class:`DiffAugment`) transforms every discriminator input, the
    concatenated ``[fake, real]`` batch of the discriminator step (each
    sample with its own random draws) and the fakes of the generator step,
    as DiffAugment prescribes; the generator learns through the
    differentiable transforms. ``lecam_reg`` (:class:`LeCamRegularization`)
    adds the LeCam penalty on the discriminator step's logits to the
    discriminator's loss and logs it as ``loss_lecam``; ``mode_seeking``
    (:class:`ModeSeekingLoss`) makes the generator use its noise::

        model = dict(type='BigGAN', ...,
                     augment=dict(type='DiffAugment',
                                  policy='color,translation,cutout'),
                     lecam_reg=dict(type='LeCamRegularization',
                                    loss_weight=0.3, ema_decay=0.99))

    Args:
        generator (dict | nn.Module): Generator config
            (``BigGANGenerator``, ...) or module.
        discriminator (dict | nn.Module, optional): Discriminator config or
            module; None for a sampling-only model (converted generators).
        gan_loss (dict, optional): :class:`GANLoss` config.
        data_preprocessor (dict | nn.Module): Defaults to
            :class:`GANDataPreprocessor`.
        generator_steps (int): Generator updates per cycle.
        discriminator_steps (int): Discriminator updates per cycle.
        ema_config (dict, optional): ``momentum`` (0.9999), ``interval``
            (generator updates between averaging steps, 1),
            ``start_iter`` (the runner iteration from which the average
            starts; before it the EMA is a copy of the generator, 0) and
            ``buffer_momentum`` (for float buffers: batch-norm statistics,
            spectral-norm vectors; defaults to ``momentum``, 0 copies them).
            None trains without EMA.
        ortho_reg (dict, optional): :class:`OrthogonalRegularization`
            config applied to the generator.
        augment (dict | nn.Module, optional): Augmentation of the
            discriminator's inputs, ``[N, C, H, W]`` to the same shape and
            differentiable (:class:`DiffAugment`); None trains without.
        lecam_reg (dict | nn.Module, optional):
            :class:`LeCamRegularization` config; None trains without. Its
            moving averages are buffers of the model (checkpointed).
        mode_seeking (dict | nn.Module, optional): :class:`ModeSeekingLoss`
            config: the generator step pairs its samples by class and
            penalizes pairs whose images differ less than their noise
            (logged as ``loss_mode_seeking``); None trains without.
        num_classes (int, optional): Passed to both networks as a default,
            as MMGeneration's ``num_classes``.
        compile_cfg (bool | dict, optional): ``torch.compile`` the
            generator and discriminator in place (keyword arguments of
            ``nn.Module.compile`` when a dict).
        sample_model (str): ``'ema'`` or ``'orig'``: the generator
            ``val_step``/``test_step`` sample from.
    """

    def __init__(self,
                 generator: Union[dict, nn.Module],
                 discriminator: Union[dict, nn.Module, None] = None,
                 gan_loss: Optional[dict] = dict(
                     type='GANLoss', gan_type='hinge'),
                 data_preprocessor: Union[dict, nn.Module] = dict(
                     type='GANDataPreprocessor'),
                 generator_steps: int = 1,
                 discriminator_steps: int = 1,
                 ema_config: Optional[dict] = dict(momentum=0.9999),
                 ortho_reg: Optional[dict] = None,
                 augment: Union[dict, nn.Module, None] = None,
                 lecam_reg: Union[dict, nn.Module, None] = None,
                 mode_seeking: Union[dict, nn.Module, None] = None,
                 num_classes: Optional[int] = None,
                 compile_cfg: Union[bool, dict, None] = None,
                 sample_model: str = 'ema',
                 init_cfg: Optional[dict] = None):
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if generator_steps < 1 or discriminator_steps < 1:
            raise ValueError('generator_steps and discriminator_steps must be '
                             f'>= 1, got {generator_steps} and '
                             f'{discriminator_steps}.')
        if sample_model not in ('ema', 'orig'):
            raise ValueError("sample_model must be 'ema' or 'orig', got "
                             f'{sample_model!r}.')
        default_args = None if num_classes is None else dict(
            num_classes=num_classes)
        self.generator = build_network(generator, default_args)
        self.discriminator = None if discriminator is None else \
            build_network(discriminator, default_args)
        self.gan_loss = None if gan_loss is None else MODELS.build(gan_loss)
        self.ortho_reg = None if ortho_reg is None else MODELS.build(
            ortho_reg)
        self.augment = None if augment is None else build_network(
            augment, None)
        self.lecam_reg = None if lecam_reg is None else build_network(
            lecam_reg, None)
        self.mode_seeking = None if mode_seeking is None else build_network(
            mode_seeking, None)
        self.generator_steps = generator_steps
        self.discriminator_steps = discriminator_steps
        self.sample_model = sample_model
        self.num_classes = self.generator.num_classes
        self.noise_size = self.generator.noise_size
        if hasattr(self.data_preprocessor, 'num_classes'):
            self.data_preprocessor.num_classes = self.num_classes or None

        if getattr(self.data_preprocessor, 'channels_last', False):
            self.generator.to(memory_format=torch.channels_last)
            if self.discriminator is not None:
                self.discriminator.to(memory_format=torch.channels_last)
        if ema_config is None:
            self.ema_config = None
            self.generator_ema = None
        else:
            self.ema_config = check_ema_config(dict(ema_config))
            self.generator_ema = deepcopy(self.generator)
            # No gradients: DDP leaves it unwrapped, optimizers ignore it.
            self.generator_ema.requires_grad_(False)
        if compile_cfg:
            kwargs = compile_cfg if isinstance(compile_cfg, dict) else {}
            self.generator.compile(**kwargs)
            if self.discriminator is not None:
                self.discriminator.compile(**kwargs)

    # ------------------------------------------------------------------
    # Training
    # ------------------------------------------------------------------
    def draw_latents(self, batch_size: int,
                     device: torch.device) -> Tuple[torch.Tensor, Optional[
                         torch.Tensor]]:
        """Fresh training inputs of the generator: standard normal noise
        ``[N, noise_size]`` and uniform labels ``[N]`` (None when
        unconditional), drawn on ``device``."""
        noise = torch.randn(batch_size, self.noise_size, device=device)
        labels = None if not self.num_classes else torch.randint(
            0, self.num_classes, (batch_size, ), device=device)
        return noise, labels

    @staticmethod
    def _current_iter() -> int:
        iteration = MessageHub.get_current_instance().get_info('iter')
        if iteration is None:
            raise RuntimeError(
                'train_step needs the runner iteration: the Runner records it '
                "in the MessageHub; outside one call MessageHub."
                "get_current_instance().update_info('iter', i) first.")
        return iteration

    def _check_trainable(self, optim_wrapper):
        if self.discriminator is None or self.gan_loss is None:
            raise RuntimeError('This model has no discriminator or gan_loss '
                               '(a sampling-only config); it cannot train.')
        if not isinstance(optim_wrapper, OptimWrapperDict) or not {
                'generator', 'discriminator'} <= set(optim_wrapper.keys()):
            raise TypeError(
                'BigGAN trains with an OptimWrapperDict holding "generator" '
                'and "discriminator"; build it with optim_wrapper=dict('
                "constructor='MultiOptimWrapperConstructor', generator=..., "
                'discriminator=...).')

    def generator_cycle(self, optim_wrapper: OptimWrapperDict) -> int:
        """Runner iterations between two generator updates."""
        return self.discriminator_steps * optim_wrapper[
            'discriminator']._accumulative_counts

    def train_step(self, data: dict,
                   optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        """One discriminator forward/backward on ``data`` and, every
        :meth:`generator_cycle` iterations, the generator updates and the
        EMA step. Returns the detached losses to log (no host sync)."""
        self._check_trainable(optim_wrapper)
        iteration = self._current_iter()
        d_wrapper = optim_wrapper['discriminator']
        if d_wrapper._inner_count != iteration:
            raise RuntimeError(
                'The discriminator optimizer wrapper counted '
                f'{d_wrapper._inner_count} batches but the runner is at '
                f'iteration {iteration}; build the optimizers with '
                "constructor='MultiOptimWrapperConstructor' so accumulation "
                'follows the runner (also after resuming).')
        data = self.data_preprocessor(data, True)
        log_vars = self.train_discriminator(data['inputs'], data['labels'],
                                            d_wrapper, iteration)
        if (iteration + 1) % self.generator_cycle(optim_wrapper) == 0:
            log_vars.update(
                self.train_generator(data['inputs'].shape[0],
                                     optim_wrapper['generator']))
            self.update_ema(iteration, optim_wrapper)
        return log_vars

    def train_discriminator(self, real_images: torch.Tensor,
                            real_labels: Optional[torch.Tensor],
                            optim_wrapper: OptimWrapper,
                            iteration: Optional[int] = None
                            ) -> Dict[str, torch.Tensor]:
        """One accumulation step of the discriminator on ``real_images``
        ``[N, C, H, W]`` in ``[-1, 1]`` and as many fakes, augmented when
        the model has ``augment``; ``iteration`` (the runner's, read from
        the MessageHub when None) schedules the LeCam regularization."""
        batch_size = real_images.shape[0]
        generator = unwrap(self.generator)
        with optim_wrapper.optim_context(self.discriminator):
            with torch.no_grad():
                noise, fake_labels = self.draw_latents(
                    batch_size, real_images.device)
                fake_images = generator(noise, fake_labels)
            images = torch.cat([fake_images.to(real_images.dtype),
                                real_images])
            if self.augment is not None:
                images = self.augment(images)
            labels = None if fake_labels is None else torch.cat(
                [fake_labels, real_labels])
            logits = self.discriminator(images, labels)
            fake_logits, real_logits = logits.split(
                [batch_size, batch_size])
            loss_real, loss_fake = self.gan_loss.disc_loss(
                real_logits, fake_logits)
            loss = loss_real + loss_fake
            if self.lecam_reg is not None:
                if iteration is None:
                    iteration = self._current_iter()
                loss_lecam = self.lecam_reg(real_logits, fake_logits,
                                            iteration)
                loss = loss + loss_lecam
        optim_wrapper.update_params(loss)
        log_vars = dict(
            loss_disc_real=loss_real.detach(),
            loss_disc_fake=loss_fake.detach())
        if self.lecam_reg is not None:
            log_vars['loss_lecam'] = loss_lecam.detach()
        return log_vars

    def train_generator(self, batch_size: int,
                        optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        """``generator_steps`` generator updates, each over
        ``accumulative_counts`` batches of ``batch_size`` fakes; the
        discriminator is frozen meanwhile."""
        discriminator = unwrap(self.discriminator)
        device = next(discriminator.parameters()).device
        accumulation = optim_wrapper._accumulative_counts
        set_requires_grad(discriminator, False)
        loss_sum = loss_ortho = None
        try:
            for _ in range(self.generator_steps):
                for micro_step in range(accumulation):
                    with optim_wrapper.optim_context(self.generator):
                        noise, labels = self.draw_latents(batch_size, device)
                        if self.mode_seeking is not None:
                            labels = self.mode_seeking.pair_labels(labels)
                        fakes = self.generator(noise, labels)
                        if self.mode_seeking is not None:
                            loss_ms = self.mode_seeking(fakes, noise)
                        if self.augment is not None:
                            fakes = self.augment(fakes)
                        loss_gen = self.gan_loss.gen_loss(
                            discriminator(fakes, labels))
                    loss = loss_gen
                    if self.mode_seeking is not None:
                        loss = loss + loss_ms
                    if self.ortho_reg is not None and micro_step == 0:
                        # Once per update: the wrapper divides every
                        # accumulated loss by `accumulation`.
                        loss_ortho = self.ortho_reg(unwrap(self.generator))
                        loss = loss + loss_ortho * accumulation
                    optim_wrapper.update_params(loss)
                    loss_sum = loss_gen.detach() if loss_sum is None else \
                        loss_sum + loss_gen.detach()
        finally:
            set_requires_grad(discriminator, True)
        log_vars = dict(
            loss_gen=loss_sum / (self.generator_steps * accumulation))
        if loss_ortho is not None:
            log_vars['loss_ortho'] = loss_ortho.detach()
        if self.mode_seeking is not None:
            log_vars['loss_mode_seeking'] = loss_ms.detach()
        return log_vars

    def update_ema(self, iteration: int, optim_wrapper: OptimWrapperDict):
        """After the generator update at runner ``iteration``: copy the
        generator into the EMA before ``start_iter``, afterwards average
        every ``interval``-th generator update."""
        if self.generator_ema is None:
            return
        generator = unwrap(self.generator)
        cfg = self.ema_config
        if iteration < cfg['start_iter']:
            copy_weights(self.generator_ema, generator)
            return
        num_updates = (iteration + 1) // self.generator_cycle(optim_wrapper)
        if num_updates % cfg['interval'] == 0:
            update_ema(self.generator_ema, generator, cfg['momentum'],
                       cfg['buffer_momentum'])

    # ------------------------------------------------------------------
    # Sampling
    # ------------------------------------------------------------------
    def forward(self,
                inputs: Optional[torch.Tensor] = None,
                labels: Optional[torch.Tensor] = None,
                data_samples: Optional[list] = None,
                mode: str = 'predict') -> List[BaseDataElement]:
        """``mode='predict'`` (or ``'tensor'``): samples for the batch, see
        :meth:`val_step`. Training goes through :meth:`train_step` only."""
        if mode not in ('predict', 'tensor'):
            raise ValueError(f'{type(self).__name__} trains through '
                             "train_step; forward supports mode='predict' or "
                             f"'tensor', got {mode!r}.")
        batch_size = len(data_samples) if data_samples else inputs.shape[0]
        return self.generate(batch_size, labels, data_samples)

    @torch.no_grad()
    def generate(self,
                 batch_size: int,
                 labels: Optional[torch.Tensor] = None,
                 data_samples: Optional[list] = None
                 ) -> List[BaseDataElement]:
        """``batch_size`` samples of the ``sample_model`` generator in eval
        mode for ``labels`` (uniform when None) from the global RNG, as a
        list of :class:`BaseDataElement` with ``fake_img`` ``[3, H, W]``
        float in ``[-1, 1]`` RGB on the CPU, ``noise`` and ``gt_label``."""
        generator = unwrap(get_sampling_generator(self, self.sample_model))
        noise = torch.randn(batch_size, self.noise_size)
        if self.num_classes:
            labels = torch.randint(0, self.num_classes, (batch_size, )) \
                if labels is None else labels.cpu()
        else:
            labels = None
        (samples, ) = list(
            iter_samples(generator, noise, labels, batch_size=batch_size))
        outputs = []
        for index in range(batch_size):
            sample = BaseDataElement(
                fake_img=samples.images[index], noise=samples.noise[index])
            if labels is not None:
                sample.gt_label = labels[index]
            if data_samples:
                sample.set_metainfo(data_samples[index].metainfo)
            outputs.append(sample)
        return outputs

    def val_step(self, data: dict) -> List[BaseDataElement]:
        """Samples conditioned on the batch's labels, one per item."""
        data = self.data_preprocessor(data, False)
        return self.generate(data['inputs'].shape[0], data['labels'],
                             data['data_samples'])

    def test_step(self, data: dict) -> List[BaseDataElement]:
        """Same as :meth:`val_step`."""
        return self.val_step(data)
