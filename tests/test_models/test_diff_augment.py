"""DiffAugment: each operation against hand-computed values, gradients,
policy parsing, memory format, RNG, and the authors' implementation."""
import os.path as osp

import pytest
import torch

from mmbiggan.models.augment import DiffAugment
from mmbiggan.models.augment.diff_augment import (cutout, random_brightness,
                                                  random_contrast,
                                                  random_cutout,
                                                  random_saturation,
                                                  random_translation,
                                                  translate)
from mmbiggan.registry import MODELS

REFERENCE = osp.join(osp.dirname(__file__), 'data',
                     'diffaugment_reference.pth')


def seeded(seed=0):
    return torch.Generator().manual_seed(seed)


def grid(height=3, width=3):
    """``[1, 1, H, W]`` holding 1, 2, 3, ... row by row."""
    return torch.arange(1., height * width + 1).view(1, 1, height, width)


def test_brightness_adds_one_constant_per_sample():
    x = torch.randn(3, 2, 4, 4)
    out = random_brightness(x, seeded(5))
    u = torch.rand(3, generator=seeded(5))
    for n in range(3):
        torch.testing.assert_close(out[n], x[n] + (u[n] - 0.5))
    # Different samples get different draws.
    assert len(set((out - x)[:, 0, 0, 0].tolist())) == 3


def test_saturation_scales_deviation_from_the_channel_mean():
    x = torch.tensor([[[[1.]], [[2.]], [[6.]]]])  # one pixel, mean 3
    u = torch.rand(1, generator=seeded(2)).item()
    out = random_saturation(x, seeded(2))
    expected = torch.tensor([3 + (1 - 3) * 2 * u, 3 + (2 - 3) * 2 * u,
                             3 + (6 - 3) * 2 * u]).view(1, 3, 1, 1)
    torch.testing.assert_close(out, expected)


def test_contrast_scales_deviation_from_the_sample_mean():
    x = torch.tensor([0., 1., 2., 5.]).view(1, 1, 2, 2)  # mean 2
    u = torch.rand(1, generator=seeded(3)).item()
    out = random_contrast(x, seeded(3))
    expected = 2 + (x - 2) * (u + 0.5)
    torch.testing.assert_close(out, expected)


def test_color_is_brightness_saturation_contrast_in_order():
    x = torch.randn(4, 3, 5, 5)
    g = seeded(11)
    expected = random_contrast(
        random_saturation(random_brightness(x, g), g), g)
    out = DiffAugment('color')(x, generator=seeded(11))
    torch.testing.assert_close(out, expected)


def test_translate_shifts_with_zero_fill():
    x = grid()  # [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    # out[i, j] = x[i + 1, j - 1]
    out = translate(x, torch.tensor([1]), torch.tensor([-1]))
    assert out.view(3, 3).tolist() == [[0, 4, 5], [0, 7, 8], [0, 0, 0]]
    out = translate(x, torch.tensor([-2]), torch.tensor([0]))
    assert out.view(3, 3).tolist() == [[0, 0, 0], [0, 0, 0], [1, 2, 3]]
    assert torch.equal(translate(x, torch.tensor([0]), torch.tensor([0])), x)


def test_random_translation_uses_the_drawn_offsets():
    x = torch.randn(16, 2, 8, 8)
    out = random_translation(x, seeded(4))
    g = seeded(4)
    # ratio 1/8 of 8 pixels: shifts in [-1, 1].
    shift_h = torch.randint(-1, 2, (16, 1, 1), generator=g).view(-1)
    shift_w = torch.randint(-1, 2, (16, 1, 1), generator=g).view(-1)
    assert len(set(zip(shift_h.tolist(), shift_w.tolist()))) > 1
    for n in range(16):
        expected = torch.zeros(2, 8, 8)
        for i in range(8):
            for j in range(8):
                si, sj = i + shift_h[n], j + shift_w[n]
                if 0 <= si < 8 and 0 <= sj < 8:
                    expected[:, i, j] = x[n, :, si, sj]
        assert torch.equal(out[n], expected), n


def test_translation_range_follows_the_ratio():
    # 32 pixels, ratio 1/8: shifts in [-4, 4], all of them drawn.
    x = torch.ones(2000, 1, 32, 32)
    out = random_translation(x, seeded(0))
    rows = out[:, 0, :, 16]  # a column: zeros where shifted out
    shift = torch.where(rows[:, 0] == 0, rows.argmax(1).neg(),
                        32 - rows.sum(1).long())
    # Non-negative shifts leave `shift` zero rows at the bottom.
    assert set(shift.tolist()) == set(range(-4, 5))


def test_cutout_zeroes_the_square_around_the_centre():
    x = torch.ones(1, 2, 4, 4)
    out = cutout(x, torch.tensor([2]), torch.tensor([1]), (2, 2))
    expected = torch.ones(4, 4)
    expected[1:3, 0:2] = 0
    assert torch.equal(out[0, 0], expected) and torch.equal(
        out[0, 1], expected)
    # Clipped at the border: centre (0, 3) of a 2x2 square spans rows
    # -1..0 and columns 2..3, of which row 0, columns 2..3 are in the image.
    out = cutout(x, torch.tensor([0]), torch.tensor([3]), (2, 2))
    expected = torch.ones(4, 4)
    expected[0:1, 2:4] = 0
    assert torch.equal(out[0, 0], expected)


def test_random_cutout_square_size_and_position():
    x = torch.ones(64, 1, 8, 8)
    out = random_cutout(x, seeded(9))
    g = seeded(9)
    # ratio 1/2 of 8: 4x4 squares, even size -> centres in [0, 8].
    center_h = torch.randint(0, 9, (64, 1, 1), generator=g).view(-1)
    center_w = torch.randint(0, 9, (64, 1, 1), generator=g).view(-1)
    for n in range(64):
        expected = torch.ones(8, 8)
        top, left = center_h[n] - 2, center_w[n] - 2
        rows = slice(max(top, 0), max(top + 4, 0))
        expected[rows, max(left, 0):max(left + 4, 0)] = 0
        assert torch.equal(out[n, 0], expected), n
    zeros = (out == 0).sum((1, 2, 3))
    assert zeros.max() == 16 and zeros.min() >= 4  # the square overlaps


@pytest.mark.parametrize('policy', ['color', 'translation', 'cutout',
                                    'color,translation,cutout'])
def test_equals_the_authors_implementation(policy):
    """Same draws in the same order: the fixture recorded by the authors'
    DiffAugment_pytorch.py (tests/test_models/data/README.md)."""
    reference = torch.load(REFERENCE, weights_only=True)
    torch.manual_seed(int(reference['seed']))
    out = DiffAugment(policy)(reference['inputs'])
    torch.testing.assert_close(out, reference[policy], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('policy', ['color', 'translation', 'cutout',
                                    'color,translation,cutout'])
def test_shape_dtype_and_channels_last_are_kept(policy):
    augment = DiffAugment(policy)
    for dtype in (torch.float32, torch.float64):
        x = torch.randn(3, 3, 16, 12, dtype=dtype)
        out = augment(x)
        assert out.shape == x.shape and out.dtype == dtype
    x = torch.randn(3, 3, 16, 16)
    out_cl = augment(x.to(memory_format=torch.channels_last), seeded(1))
    assert out_cl.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(out_cl, augment(x, seeded(1)))


def test_gradient_of_translation_is_the_opposite_shift():
    x = torch.randn(5, 2, 8, 8, requires_grad=True)
    grad_out = torch.randn(5, 2, 8, 8)
    random_translation(x, seeded(6)).backward(grad_out)
    g = seeded(6)
    shift_h = torch.randint(-1, 2, (5, 1, 1), generator=g).view(-1)
    shift_w = torch.randint(-1, 2, (5, 1, 1), generator=g).view(-1)
    # The adjoint of a zero-filled shift is the opposite shift.
    torch.testing.assert_close(x.grad, translate(grad_out, -shift_h,
                                                 -shift_w))


def test_gradient_of_cutout_is_the_mask():
    x = torch.randn(5, 2, 8, 8, requires_grad=True)
    grad_out = torch.randn(5, 2, 8, 8)
    random_cutout(x, seeded(7)).backward(grad_out)
    mask = random_cutout(torch.ones(5, 2, 8, 8), seeded(7))
    assert torch.equal(x.grad, grad_out * mask)
    assert (mask == 0).any()


def test_gradcheck_of_the_full_policy():
    augment = DiffAugment('color,translation,cutout')
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda images: augment(images, seeded(8)), (x, ))


def test_draws_from_the_global_rng():
    augment = DiffAugment()
    x = torch.randn(2, 3, 8, 8)
    torch.manual_seed(12)
    first = augment(x)
    torch.manual_seed(12)
    assert torch.equal(augment(x), first)
    assert not torch.equal(augment(x), first)
    # Two copies of one image are augmented differently.
    same = augment(x[:1].expand(2, -1, -1, -1))
    assert not torch.equal(same[0], same[1])


def test_policy_parsing_and_validation():
    assert DiffAugment(' translation , cutout ').policy == ('translation',
                                                            'cutout')
    assert DiffAugment(['color']).policy == ('color', )
    with pytest.raises(ValueError, match="'flip'.*'color', 'translation', "
                       "'cutout'"):
        DiffAugment('translation,flip')
    with pytest.raises(ValueError, match='at least one operation'):
        DiffAugment('')
    with pytest.raises(ValueError, match='cutout_ratio'):
        DiffAugment(cutout_ratio=0)
    with pytest.raises(ValueError, match=r'\[N, C, H, W\]'):
        DiffAugment()(torch.randn(3, 8, 8))


def test_builds_from_the_registry():
    augment = MODELS.build(
        dict(type='DiffAugment', policy='translation', translation_ratio=0.25))
    assert isinstance(augment, DiffAugment)
    assert augment.policy == ('translation', )
    assert "policy='translation'" in repr(augment)
    assert list(augment.state_dict()) == []  # nothing to checkpoint


def test_no_value_is_read_back_to_the_host():
    """On the meta device every data-dependent read (``.item()``, ``if
    tensor``) raises, so this passing means no host sync on a GPU."""
    for memory_format in (torch.contiguous_format, torch.channels_last):
        x = torch.empty(4, 3, 8, 8, device='meta').to(
            memory_format=memory_format)
        out = DiffAugment()(x)
        assert out.device.type == 'meta' and out.shape == x.shape
        assert out.is_contiguous(memory_format=memory_format)
