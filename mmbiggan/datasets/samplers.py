"""An endless sampler that can continue where a checkpoint left it."""
from typing import Iterator, Optional, Sized

import torch
from mmengine.dist import get_dist_info, sync_random_seed

from torch.utils.data import Sampler

from mmbiggan.registry import DATA_SAMPLERS

SAMPLER_STATE_FORMAT = 'mmbiggan.sampler.v1'


@DATA_SAMPLERS.register_module()
class ResumableInfiniteSampler(Sampler):
    """mmengine's :class:`InfiniteSampler` (an endless stream of shuffled
    epochs, split between ranks) whose position is part of the training
    state.

    The stream is a function of ``seed`` alone: epoch ``e`` is
    ``randperm(len(dataset))`` of a generator seeded with ``seed + e``, and
    the epochs follow each other; rank ``r`` of ``W`` takes the stream's
    items ``r, r + W, r + 2W, ...``. The sampler starts at item
    :attr:`consumed` of the stream, so a resumed run sets it from the
    checkpoint (:meth:`load_state_dict`) and reads on from there without
    loading the skipped batches again; the training loop advances it by
    the batch of all ranks per iteration
    (:class:`mmbiggan.engine.IterBasedTrainLoop`).

    Args:
        dataset (Sized): The dataset.
        shuffle (bool): Shuffle every epoch; False walks the dataset in
            order.
        seed (int, optional): Seed of the order; None draws one (the same
            on every rank) from the global generators, which the Runner
            seeds.
    """

    def __init__(self,
                 dataset: Sized,
                 shuffle: bool = True,
                 seed: Optional[int] = None) -> None:
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.size = len(dataset)
        if self.size == 0:
            raise ValueError('ResumableInfiniteSampler got an empty dataset; '
                             'check data_root and the annotation file.')
        self.consumed = 0

    def epoch_order(self, epoch: int) -> torch.Tensor:
        """The dataset indices of ``epoch`` in stream order, ``[size]``."""
        if not self.shuffle:
            return torch.arange(self.size)
        generator = torch.Generator()
        generator.manual_seed(self.seed + epoch)
        return torch.randperm(self.size, generator=generator)

    def __iter__(self) -> Iterator[int]:
        position = self.consumed + self.rank
        while True:
            epoch, offset = divmod(position, self.size)
            share = self.epoch_order(epoch)[offset::self.world_size]
            yield from share.tolist()
            position += len(share) * self.world_size

    def __len__(self) -> int:
        return self.size

    def set_epoch(self, epoch: int) -> None:
        """Epochs follow from the position; nothing to set."""

    def state_dict(self) -> dict:
        """What a checkpoint needs to continue the stream, as plain values
        (loadable with ``weights_only=True``)."""
        return dict(
            format=SAMPLER_STATE_FORMAT,
            seed=self.seed,
            consumed=self.consumed,
            size=self.size,
            shuffle=self.shuffle)

    def load_state_dict(self, state: dict) -> None:
        """Continue the stream of :meth:`state_dict`; iterators made after
        this call start at its position.

        Raises:
            ValueError: The checkpoint's stream walked a dataset of another
                size or another shuffle setting (it would not continue).
        """
        if state.get('format') != SAMPLER_STATE_FORMAT:
            raise ValueError(f'Unknown sampler state {state!r}.')
        if state['size'] != self.size or state['shuffle'] != self.shuffle:
            raise ValueError(
                f'The checkpoint sampled a dataset of {state["size"]} items '
                f'(shuffle={state["shuffle"]}), this run has {self.size} '
                f'(shuffle={self.shuffle}); resume with the same dataset, or '
                'load the weights with load_from instead of resuming.')
        self.seed = int(state['seed'])
        self.consumed = int(state['consumed'])
