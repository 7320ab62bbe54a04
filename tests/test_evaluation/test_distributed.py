"""Two gloo processes give the FID and IS of one process: each rank
generates its share of the images drawn from one seed, and the features
are gathered in image order."""
import json
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmengine.dataset import DefaultSampler, pseudo_collate
from mmengine.evaluator import Evaluator
from torch.utils.data import DataLoader

from mmbiggan.evaluation import FID, IS, evaluate_generator
from mmbiggan.models import BigGANGenerator

from eval_helpers import free_port, torch_threads

NUM_FAKES = 21  # odd: the ranks' shares are padded
NUM_REALS = 27


def make_generator():
    torch.manual_seed(0)
    return BigGANGenerator(
        32, noise_size=32, num_classes=10, base_channels=8, shared_dim=16,
        auto_sync_bn=False).eval()


def evaluate(inception_path, sampler=None):
    inception_args = dict(type='StyleGAN', inception_path=inception_path)
    evaluator = Evaluator([
        FID(num_images=NUM_FAKES, inception_args=inception_args),
        IS(num_images=NUM_FAKES - 1, splits=4, inception_args=inception_args),
    ])
    reals = list(torch.randint(0, 256, (NUM_REALS, 3, 32, 32),
                               generator=torch.Generator().manual_seed(1),
                               dtype=torch.uint8))
    loader = DataLoader([dict(inputs=img) for img in reals], batch_size=4,
                        sampler=sampler and sampler(reals),
                        collate_fn=pseudo_collate)
    return evaluate_generator(make_generator(), evaluator, seed=7,
                              batch_size=4, real_dataloader=loader,
                              progress=False)


def worker(rank, world_size, port, inception_path, out_dir):
    torch.set_num_threads(1)
    os.chdir(out_dir)  # collect_results shares results through ./.dist_test
    dist.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
        world_size=world_size)
    try:
        result = evaluate(
            inception_path,
            sampler=lambda data: DefaultSampler(data, shuffle=False))
        with open(os.path.join(out_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(result, f)
    finally:
        dist.destroy_process_group()


def test_two_processes_equal_one(tmp_path, standin_inception_path):
    mp.spawn(worker, args=(2, free_port(), standin_inception_path,
                           str(tmp_path)), nprocs=2, join=True)
    ranks = [json.load(open(tmp_path / f'rank{r}.json')) for r in range(2)]
    assert ranks[0] == ranks[1]  # every rank gets the numbers
    with torch_threads(1):  # as the workers
        single = evaluate(standin_inception_path)
    assert set(single) == set(ranks[0])
    for key, value in single.items():
        assert ranks[0][key] == pytest.approx(value, rel=1e-6, abs=1e-9), key
