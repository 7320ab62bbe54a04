"""ResumableInfiniteSampler: its stream, its split between ranks, and
continuing it from a saved state."""
import itertools

import pytest
import torch

from mmbiggan.datasets import ResumableInfiniteSampler


def take(sampler, count):
    return list(itertools.islice(iter(sampler), count))


def make(size, seed=3, shuffle=True, rank=0, world_size=1):
    sampler = ResumableInfiniteSampler(range(size), shuffle=shuffle,
                                       seed=seed)
    sampler.rank, sampler.world_size = rank, world_size
    return sampler


def stream(size, seed, epochs):
    """The documented stream: epoch e is randperm(size) seeded seed + e."""
    out = []
    for epoch in range(epochs):
        generator = torch.Generator().manual_seed(seed + epoch)
        out += torch.randperm(size, generator=generator).tolist()
    return out


def test_the_stream_is_seeded_epochs_one_after_another():
    assert take(make(7), 30) == stream(7, 3, 5)[:30]
    assert take(make(4, shuffle=False), 10) == [0, 1, 2, 3] * 2 + [0, 1]


def test_ranks_take_interleaved_items_of_one_stream():
    expected = stream(7, 3, 6)
    shares = [take(make(7, rank=r, world_size=3), 12) for r in range(3)]
    for rank, share in enumerate(shares):
        assert share == expected[rank::3][:12]


@pytest.mark.parametrize('world_size', [1, 3])
def test_a_restored_sampler_continues_the_stream(world_size):
    expected = stream(7, 3, 8)
    for consumed in (0, 5, 7, 13, 21):
        saved = make(7, world_size=world_size)
        saved.consumed = consumed
        state = saved.state_dict()
        # Another seed, as a new process would draw; the state wins.
        resumed = make(7, seed=99, rank=world_size - 1,
                       world_size=world_size)
        resumed.load_state_dict(state)
        start = consumed + world_size - 1
        assert take(resumed, 9) == expected[start::world_size][:9]


def test_a_state_for_another_dataset_is_refused():
    state = make(7).state_dict()
    with pytest.raises(ValueError, match=r'sampled a dataset of 7 items '
                       r'\(shuffle=True\), this run has 8'):
        make(8).load_state_dict(state)


def test_state_is_plain_values():
    state = make(5).state_dict()
    assert state == dict(format='mmbiggan.sampler.v1', seed=3, consumed=0,
                         size=5, shuffle=True)


def test_empty_dataset_is_refused():
    with pytest.raises(ValueError, match='empty dataset'):
        make(0)
