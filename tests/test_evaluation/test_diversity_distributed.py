"""Two gloo processes give the PrecisionRecall and IntraClassFID of one
process: the real features each rank extracts from its sampler's share are
gathered in dataset order, and the generated images (the class-balanced
ones of IntraClassFID included) are split and gathered in image order."""
import json
import os

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmengine.dataset import DefaultSampler, pseudo_collate
from mmengine.evaluator import Evaluator
from mmengine.structures import BaseDataElement
from torch.utils.data import DataLoader

from mmbiggan.evaluation import (IntraClassFID, PrecisionRecall,
                                 evaluate_generator)
from mmbiggan.models import BigGANGenerator

from eval_helpers import free_port, torch_threads

NUM_FAKES = 21  # odd: the ranks' shares are padded
NUM_CLASS_FAKES = 15  # 5 per class, odd too
NUM_REALS = 27
PIXELS = dict(type='PixelFeatures', size=4)


def make_generator():
    torch.manual_seed(0)
    return BigGANGenerator(
        32, noise_size=32, num_classes=3, base_channels=8, shared_dim=16,
        auto_sync_bn=False).eval()


def real_items():
    images = torch.randint(0, 256, (NUM_REALS, 3, 32, 32),
                           generator=torch.Generator().manual_seed(1),
                           dtype=torch.uint8)
    return [
        dict(inputs=image,
             data_samples=BaseDataElement(gt_label=torch.tensor(i % 3)))
        for i, image in enumerate(images)
    ]


def evaluate(sampler=None):
    """The metrics' values and the real features PrecisionRecall kept."""
    precision_recall = PrecisionRecall(num_images=NUM_FAKES,
                                       inception_args=PIXELS)
    intra_class_fid = IntraClassFID(num_images=NUM_CLASS_FAKES,
                                    inception_args=PIXELS, per_class=True)
    items = real_items()
    loader = DataLoader(items, batch_size=4,
                        sampler=sampler and sampler(items),
                        collate_fn=pseudo_collate)
    result = evaluate_generator(
        make_generator(), Evaluator([precision_recall, intra_class_fid]),
        seed=7, batch_size=4, real_dataloader=loader, progress=False)
    return result, intra_class_fid.real


def worker(rank, world_size, port, out_dir):
    torch.set_num_threads(1)
    os.chdir(out_dir)  # collect_results shares results through ./.dist_test
    dist.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
        world_size=world_size)
    try:
        result, real = evaluate(
            sampler=lambda data: DefaultSampler(data, shuffle=False))
        with open(os.path.join(out_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(result, f)
        np.savez(os.path.join(out_dir, f'real{rank}.npz'),
                 features=real.features, labels=real.labels)
    finally:
        dist.destroy_process_group()


def test_two_processes_equal_one(tmp_path):
    mp.spawn(worker, args=(2, free_port(), str(tmp_path)), nprocs=2,
             join=True)
    ranks = [json.load(open(tmp_path / f'rank{r}.json')) for r in range(2)]
    assert ranks[0] == ranks[1]  # every rank gets the numbers
    with torch_threads(1):  # as the workers
        single, single_real = evaluate()
    # Every rank holds all real features, in dataset order.
    for r in range(2):
        gathered = np.load(tmp_path / f'real{r}.npz')
        assert np.array_equal(gathered['features'], single_real.features)
        assert np.array_equal(gathered['labels'], single_real.labels)
    assert single_real.labels.tolist() == [i % 3 for i in range(NUM_REALS)]
    assert set(single) == set(ranks[0]) == {
        'precision', 'recall', 'density', 'coverage', 'iFID',
        'iFID_class0', 'iFID_class1', 'iFID_class2'}
    for key, value in single.items():
        assert ranks[0][key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
