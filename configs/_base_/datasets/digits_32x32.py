# scikit-learn's 1,797 handwritten digits (10 classes) upscaled to 32x32 RGB:
# the dataset that ships with the installation, no download needed.
# The images sit in memory, so items go straight to packing: no loading,
# no augmentation (a flipped digit is not the same digit).
dataset_type = 'DigitsDataset'
train_pipeline = [dict(type='PackInputs')]
digits_dataset = dict(
    type=dataset_type, image_size=32, pipeline=train_pipeline)

train_dataloader = dict(
    batch_size=64,
    num_workers=0,
    persistent_workers=False,
    # An endless stream of shuffled epochs (mmengine's DefaultSampler pauses
    # at every epoch restart of an iteration-based loop) whose position is
    # saved in checkpoints: a resumed run continues it exactly.
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=digits_dataset)
