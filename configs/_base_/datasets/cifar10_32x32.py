# CIFAR-10 train split (50,000 32x32 RGB images, 10 classes) without
# augmentation, as MMGeneration's cifar10_noaug and BigGAN-PyTorch's C10.
# data_root holds cifar-10-batches-py/ extracted from cifar-10-python.tar.gz.
dataset_type = 'CIFAR10Dataset'
data_root = 'data/cifar10'
train_pipeline = [dict(type='PackInputs')]
cifar10_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    split='train',
    pipeline=train_pipeline)

train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    # An endless stream of shuffled epochs (mmengine's DefaultSampler pauses
    # at every epoch restart of an iteration-based loop) whose position is
    # saved in checkpoints: a resumed run continues it exactly.
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=cifar10_dataset)
