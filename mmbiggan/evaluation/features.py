"""Running an Inception network over a dataloader of real images."""
import torch
from mmengine.dist import get_dist_info
from mmengine.logging import print_log
from mmengine.utils import ProgressBar

from .inception import InceptionExtractor, images_to_inception_input


def batch_images(data_batch) -> torch.Tensor:
    """The images of a dataloader batch as a tensor ``[N, C, H, W]``: the
    batch itself, or its ``inputs`` (a tensor or a list of ``[C, H, W]``
    tensors, as mmengine's collate functions give)."""
    images = data_batch['inputs'] if isinstance(data_batch, dict) \
        else data_batch
    if isinstance(images, dict) and len(images) == 1:
        images = next(iter(images.values()))
    if isinstance(images, (list, tuple)):
        images = torch.stack(list(images))
    if not isinstance(images, torch.Tensor):
        raise TypeError('Expected a batch of images (a tensor, a list of '
                        'tensors or a dict with "inputs"), got '
                        f'{type(images).__name__}.')
    return images


@torch.no_grad()
def dataset_features(dataloader, inception: InceptionExtractor,
                     progress: bool = True) -> list:
    """Inception pool features of the images of ``dataloader``, one
    ``[2048]`` array per image; RGB images ``uint8`` or float in ``[-1,
    1]``. Under DDP each rank reads its sampler's share, and at most
    ``ceil(len(dataset) / world_size)`` images, so an infinite sampler ends
    after one pass too."""
    device = next(inception.parameters()).device
    total = len(dataloader.dataset)
    rank, world_size = get_dist_info()
    share = -(-total // world_size)
    bar = None
    if progress and rank == 0:
        print_log(f'Extracting Inception features of {total} real images',
                  logger='current')
        bar = ProgressBar(share)
    features = []
    for data_batch in dataloader:
        images = images_to_inception_input(batch_images(data_batch))
        images = images[:share - len(features)]
        pool = inception(images.to(device)).pool.cpu().numpy()
        features.extend(pool)
        if bar is not None:
            bar.update(len(pool))
        if len(features) >= share:
            break
    if bar is not None:
        print()
    return features
