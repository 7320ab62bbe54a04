# ImageNet-1k (ILSVRC-2012) train split at 128x128, as MMGeneration's
# imagenet_noaug_128: the centred square of the short side, resized by
# Pillow (bilinear), no flip. Layout: data/imagenet/train/<images> and
# data/imagenet/meta/train.txt with "relative/path label" lines (0..999).
dataset_type = 'ImageNetDataset'
data_root = 'data/imagenet'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='CenterCropLongEdge'),
    dict(type='Resize', scale=(128, 128), backend='pillow',
         interpolation='bilinear'),
    dict(type='PackInputs')
]
# BigGAN-PyTorch's --augment (MMGeneration's imagenet_128/256): a random square
# along the long edge, then a horizontal flip. Recipes switch with
# train_dataloader = dict(
#     dataset=dict(pipeline=_base_.augmented_train_pipeline))
augmented_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCropLongEdge'),
    dict(type='Resize', scale=(128, 128), backend='pillow',
         interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs')
]
imagenet_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='meta/train.txt',
    data_prefix='train',
    pipeline=train_pipeline)

train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    # An endless stream of shuffled epochs (mmengine's DefaultSampler pauses
    # at every epoch restart of an iteration-based loop) whose position is
    # saved in checkpoints: a resumed run continues it exactly.
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=imagenet_dataset)
