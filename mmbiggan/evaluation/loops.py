"""Evaluation of a GAN during training, as an mmengine validation loop."""
from typing import Optional, Union

from mmengine.evaluator import Evaluator
from mmengine.runner import BaseLoop

from mmbiggan.models.sampling import get_sampling_generator, unwrap_model
from mmbiggan.registry import LOOPS

from .evaluate import evaluate_generator


@LOOPS.register_module()
class GenerativeValLoop(BaseLoop):
    """Every ``val_interval`` iterations, sample images from the generator
    with a fixed seed and compute the metrics of ``val_evaluator`` (FID,
    IS). The metrics reach ``after_val_epoch``, so mmengine logs them and
    ``CheckpointHook(save_best='FID', rule='less')`` keeps the best
    checkpoint. A config sets::

        train_cfg = dict(by_epoch=False, max_iters=100000, val_interval=5000)
        val_cfg = dict(type='GenerativeValLoop', seed=0)
        val_evaluator = dict(metrics=[
            dict(type='FID', num_images=10000, inception_pkl=...,
                 inception_args=dict(type='StyleGAN', inception_path=...)),
            dict(type='IS', num_images=10000, inception_args=...)])
        val_dataloader = ...  # real images; read only by an FID without
                              # inception_pkl, to compute their statistics

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Real images (see above).
        evaluator (Evaluator | dict | list): The metrics.
        seed (int): Seed of the generator inputs; the same images are
            evaluated at every validation. Defaults to 0.
        batch_size (int): Images per generator/Inception batch.
        sample_model (str): ``'ema'`` (the EMA generator when the model has
            one) or ``'orig'``.
        truncation (float, optional): Truncation of the noise.
    """

    def __init__(self,
                 runner,
                 dataloader,
                 evaluator: Union[Evaluator, dict, list],
                 seed: int = 0,
                 batch_size: int = 32,
                 sample_model: str = 'ema',
                 truncation: Optional[float] = None):
        super().__init__(runner, dataloader)
        if isinstance(evaluator, (dict, list)):
            evaluator = runner.build_evaluator(evaluator)
        self.evaluator = evaluator
        if sample_model not in ('ema', 'orig'):
            raise ValueError(f"sample_model must be 'ema' or 'orig', got "
                             f'{sample_model!r}.')
        self.seed = seed
        self.batch_size = batch_size
        self.sample_model = sample_model
        self.truncation = truncation

    def run(self) -> dict:
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')
        # Under DDP the trained generator is itself wrapped.
        generator = unwrap_model(
            get_sampling_generator(self.runner.model, self.sample_model))
        metrics = evaluate_generator(
            generator,
            self.evaluator,
            seed=self.seed,
            batch_size=self.batch_size,
            truncation=self.truncation,
            real_dataloader=self.dataloader)
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics
