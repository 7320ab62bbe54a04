import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from mmbiggan.datasets import DigitsDataset
from mmbiggan.datasets.digits import upscale_digits


@pytest.fixture(scope='module')
def digits_dataset():
    return DigitsDataset(pipeline=[dict(type='PackInputs')])


def test_digits_items_match_sklearn(digits_dataset):
    reference = load_digits()
    assert len(digits_dataset) == 1797
    assert digits_dataset.metainfo['classes'] == tuple('0123456789')
    labels = []
    for idx in range(len(digits_dataset)):
        item = digits_dataset[idx]
        assert item['inputs'].shape == (3, 32, 32)
        assert item['inputs'].dtype == torch.uint8
        label = item['data_samples'].gt_label
        assert label.dtype == torch.int64 and label.dim() == 0
        labels.append(int(label))
    np.testing.assert_array_equal(labels, reference.target)
    assert sorted(set(labels)) == list(range(10))


def test_digits_images_are_upscaled_originals(digits_dataset):
    reference = load_digits().images
    images = torch.stack([digits_dataset[i]['inputs'] for i in range(200)])
    # Grey replicated into RGB.
    assert torch.equal(images[:, 0], images[:, 1])
    assert torch.equal(images[:, 0], images[:, 2])
    # Full range used: ink at 16 maps near 255, background at 0 to 0.
    assert int(images.max()) >= 250 and int(images.min()) == 0
    # 4x4 box-averaging back to 8x8 recovers sklearn's digits.
    down = images[:, 0].double().reshape(200, 8, 4, 8, 4).mean(dim=(2, 4))
    for got, want in zip(down.numpy(), reference[:200]):
        corr = np.corrcoef(got.ravel(), want.ravel())[0, 1]
        assert corr > 0.95
    scale = np.abs(down.numpy() - reference[:200] * 255 / 16).mean()
    assert scale < 20


def test_upscale_keeps_constant_images_exact():
    flat = np.full((2, 8, 8), 8.0)
    out = upscale_digits(flat, 32)
    assert out.shape == (2, 32, 32, 3) and out.dtype == np.uint8
    assert (out == round(8 * 255 / 16)).all()


def test_digits_rejects_bad_image_size():
    with pytest.raises(ValueError, match='image_size'):
        DigitsDataset(image_size=4)
