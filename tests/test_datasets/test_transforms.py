import numpy as np
import pytest
import torch
from mmengine.dataset import Compose
from PIL import Image

from mmbiggan.datasets.transforms import (CenterCropLongEdge,
                                          LoadImageFromFile, PackInputs,
                                          RandomCropLongEdge, Resize)
from mmbiggan.registry import TRANSFORMS


def grid(height, width):
    """Image whose pixel (y, x) is (y, x, y + x): crops are checkable."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([y, x, y + x], axis=-1).astype(np.uint8)


@pytest.mark.parametrize('mode', ['L', 'P', 'RGBA', 'CMYK', 'I;16'])
def test_load_converts_to_rgb(tmp_path, mode):
    path = tmp_path / 'img.png'
    rgb = np.random.RandomState(0).randint(0, 256, (6, 9, 3), np.uint8)
    source = Image.fromarray(rgb)
    if mode == 'I;16':
        source = source.convert('L').convert('I;16')
    else:
        source = source.convert(mode)
    if mode == 'CMYK':
        path = tmp_path / 'img.jpg'
    source.save(path)
    results = LoadImageFromFile()(dict(img_path=str(path)))
    img = results['img']
    assert img.shape == (6, 9, 3) and img.dtype == np.uint8
    assert results['img_shape'] == results['ori_shape'] == (6, 9)
    if mode == 'RGBA':
        np.testing.assert_array_equal(img, rgb)  # alpha dropped only
    if mode == 'L':
        assert (img[..., 0] == img[..., 1]).all()


def test_load_keeps_rgb_order(tmp_path):
    Image.new('RGB', (4, 3), (250, 20, 5)).save(tmp_path / 'red.png')
    img = LoadImageFromFile()(dict(img_path=str(tmp_path / 'red.png')))['img']
    assert img[0, 0].tolist() == [250, 20, 5]


def test_load_text_file_named_as_image(tmp_path):
    (tmp_path / 'a.jpg').write_text('hello')
    with pytest.raises(OSError, match=r'Cannot read image .*a\.jpg'):
        LoadImageFromFile()(dict(img_path=str(tmp_path / 'a.jpg')))


@pytest.mark.parametrize('shape,top,left', [((10, 10), 0, 0),
                                            ((10, 16), 0, 3),
                                            ((17, 10), 4, 0),
                                            ((10, 13), 0, 2),
                                            ((10, 15), 0, 2)])
def test_center_crop_long_edge(shape, top, left):
    # torchvision's center_crop offset: round((long - short) / 2), rounding
    # half to even (13 - 10 = 3 -> 2, 15 - 10 = 5 -> 2).
    img = grid(*shape)
    results = CenterCropLongEdge()(dict(img=img))
    size = min(shape)
    assert results['img'].shape == (size, size, 3)
    assert results['img_shape'] == (size, size)
    np.testing.assert_array_equal(results['img'],
                                  img[top:top + size, left:left + size])


def test_random_crop_long_edge_covers_every_offset():
    img = grid(6, 9)
    crop = RandomCropLongEdge()
    np.random.seed(0)
    lefts = []
    for _ in range(200):
        out = crop(dict(img=img))['img']
        assert out.shape == (6, 6, 3)
        # The crop is a contiguous window of the original.
        left = int(out[0, 0, 1])
        np.testing.assert_array_equal(out, img[:, left:left + 6])
        lefts.append(left)
    assert sorted(set(lefts)) == [0, 1, 2, 3]
    np.random.seed(0)
    again = [int(crop(dict(img=img))['img'][0, 0, 1]) for _ in range(200)]
    assert again == lefts  # reproducible with numpy's seed
    portrait = crop(dict(img=grid(9, 6)))['img']
    assert portrait.shape == (6, 6, 3) and portrait[0, :, 1].tolist() == list(
        range(6))


@pytest.mark.parametrize('interpolation,pil_filter',
                         [('bilinear', Image.BILINEAR),
                          ('bicubic', Image.BICUBIC),
                          ('lanczos', Image.LANCZOS)])
def test_resize_matches_pillow(interpolation, pil_filter):
    img = np.random.RandomState(3).randint(0, 256, (37, 37, 3), np.uint8)
    results = Resize(scale=16, interpolation=interpolation)(dict(img=img))
    want = np.asarray(Image.fromarray(img).resize((16, 16), pil_filter))
    assert results['img'].shape == (16, 16, 3)
    assert results['img_shape'] == (16, 16)
    np.testing.assert_array_equal(results['img'], want)


def test_resize_averages_when_downscaling():
    # Pillow filters the whole footprint: a 2x2 checkerboard of 0/255
    # shrunk 8x becomes flat grey, not the sampled 0 or 255 of cv2.
    checker = (np.indices((64, 64)).sum(0) % 2 * 255).astype(np.uint8)
    img = np.repeat(checker[..., None], 3, axis=-1)
    out = Resize(scale=(8, 8))(dict(img=img))['img']
    assert np.abs(out.astype(int) - 128).max() <= 2


def test_resize_rejects_unknown_interpolation():
    with pytest.raises(ValueError, match="interpolation 'cubic'"):
        Resize(scale=8, interpolation='cubic')


def test_random_flip_probability_and_content():
    flip = TRANSFORMS.build(
        dict(type='RandomFlip', prob=0.3, direction='horizontal'))
    img = grid(4, 5)
    np.random.seed(1)
    flags = []
    for _ in range(2000):
        results = flip(dict(img=img.copy()))
        if results['flip']:
            np.testing.assert_array_equal(results['img'], img[:, ::-1])
        else:
            np.testing.assert_array_equal(results['img'], img)
        flags.append(results['flip'])
    # Binomial(2000, 0.3): std 20.5, so +-4.5 std.
    assert abs(sum(flags) - 600) < 92


def test_pack_inputs_after_flip():
    img = grid(4, 5)
    packed = PackInputs()(
        dict(img=img[:, ::-1], gt_label=np.int64(7), img_path='x.png',
             flip=True))
    inputs = packed['inputs']
    assert inputs.shape == (3, 4, 5) and inputs.dtype == torch.uint8
    assert inputs.is_contiguous()
    np.testing.assert_array_equal(inputs.numpy(),
                                  img[:, ::-1].transpose(2, 0, 1))
    sample = packed['data_samples']
    assert sample.gt_label.dtype == torch.int64 and sample.gt_label.dim() == 0
    assert int(sample.gt_label) == 7
    assert sample.img_path == 'x.png' and sample.flip is True


def test_pack_inputs_without_label():
    packed = PackInputs()(dict(img=grid(2, 2)))
    assert 'gt_label' not in packed['data_samples']


@pytest.mark.parametrize('img', [
    np.zeros((4, 4, 3), np.float32),
    np.zeros((4, 4), np.uint8),
    np.zeros((4, 4, 4), np.uint8),
])
def test_pack_inputs_rejects_non_rgb_uint8(img):
    with pytest.raises(ValueError, match='uint8 \\[H, W, 3\\] RGB'):
        PackInputs()(dict(img=img))


def test_imagenet_style_pipeline_end_to_end(tmp_path):
    Image.fromarray(grid(30, 50)).save(tmp_path / 'wide.png')
    pipeline = Compose([
        TRANSFORMS.build(cfg) for cfg in [
            dict(type='LoadImageFromFile'),
            dict(type='CenterCropLongEdge', keys=['img']),
            dict(type='Resize', scale=(30, 30)),
            dict(type='PackInputs')
        ]
    ])
    item = pipeline(dict(img_path=str(tmp_path / 'wide.png'), gt_label=2))
    # Cropped to columns 10..39 and left unscaled (30 -> 30).
    np.testing.assert_array_equal(item['inputs'].numpy(),
                                  grid(30, 50)[:, 10:40].transpose(2, 0, 1))
