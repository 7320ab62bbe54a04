import pytest
import torch
from mmengine.structures import BaseDataElement

from mmbiggan.models import GANDataPreprocessor


def batch(images, labels=None):
    samples = None if labels is None else [
        BaseDataElement(gt_label=torch.tensor(y, dtype=torch.int64))
        for y in labels
    ]
    return dict(inputs=list(images), data_samples=samples)


def test_uint8_images_map_to_minus_one_one_and_labels_stack():
    images = torch.tensor([0, 1, 127, 128, 254, 255],
                          dtype=torch.uint8).view(1, 1, 1, 6).expand(
                              2, 3, 2, 6).contiguous()
    out = GANDataPreprocessor()(batch(images, [3, 7]))
    expected = torch.tensor([0, 1, 127, 128, 254, 255]) / 127.5 - 1
    assert out['inputs'].dtype == torch.float32
    assert out['inputs'].shape == (2, 3, 2, 6)
    torch.testing.assert_close(out['inputs'][1, 2, 1], expected.float(),
                               rtol=0, atol=0)
    assert out['inputs'].min() == -1 and out['inputs'].max() == 1
    assert out['labels'].dtype == torch.int64
    assert out['labels'].tolist() == [3, 7]


def test_stacked_tensor_input_and_no_labels():
    images = torch.zeros(4, 3, 8, 8, dtype=torch.uint8)
    out = GANDataPreprocessor()(dict(inputs=images))
    assert out['labels'] is None and out['inputs'].shape == (4, 3, 8, 8)


def test_channels_last():
    images = torch.zeros(2, 3, 8, 8, dtype=torch.uint8)
    out = GANDataPreprocessor(channels_last=True)(batch(images, [0, 1]))
    assert out['inputs'].is_contiguous(memory_format=torch.channels_last)


def test_bad_inputs_have_clear_errors():
    preprocessor = GANDataPreprocessor()
    with pytest.raises(TypeError, match='expects uint8 images'):
        preprocessor(batch(torch.zeros(2, 3, 4, 4), [0, 1]))
    with pytest.raises(ValueError, match='share a shape'):
        preprocessor(dict(inputs=[
            torch.zeros(3, 4, 4, dtype=torch.uint8),
            torch.zeros(3, 5, 5, dtype=torch.uint8)
        ]))
    preprocessor.num_classes = 10
    with pytest.raises(ValueError, match='Label 12 is out of range'):
        preprocessor(
            batch(torch.zeros(2, 3, 4, 4, dtype=torch.uint8), [1, 12]))
