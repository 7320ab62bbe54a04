"""demo/conditional_demo.py: the sample sheet, its determinism, truncation,
class names, and issue 4's round trip converted checkpoint -> demo -> PNG
checked against the reference implementation's recorded images."""
import os.path as osp

import numpy as np
import torch
from PIL import Image

from mmbiggan.apis import draw_inputs, get_sampling_generator, init_model
from mmbiggan.apis.cli import run
from mmbiggan.utils import to_hwc_numpy
from mmbiggan.utils.grid import make_image_grid
from .conftest import DEMO, run_script


def read_png(path):
    with Image.open(path) as image:
        assert image.format == 'PNG'
        return np.asarray(image.convert('RGB'))


def cells(grid, rows, cols, size, padding):
    """The ``rows * cols`` images of a grid, row by row."""
    step = size + padding
    return np.stack([
        grid[padding + r * step:padding + r * step + size,
             padding + c * step:padding + c * step + size]
        for r in range(rows) for c in range(cols)
    ])


def assert_close_uint8(actual, expected, max_share=0.005):
    """Equal up to float rounding: no pixel more than one level apart, and
    only a few at a rounding boundary."""
    diff = np.abs(actual.astype(int) - expected.astype(int))
    assert diff.max() <= 1, diff.max()
    assert (diff > 0).mean() <= max_share


def expected_sheet(model_files, labels, per_class, truncation, seed,
                   padding, sample_model='ema'):
    model = init_model(model_files.config, model_files.checkpoint, 'cpu')
    generator = get_sampling_generator(model, sample_model)
    labels = torch.tensor(labels).repeat_interleave(per_class)
    noise, labels = draw_inputs(generator, labels.numel(), labels,
                                truncation, seed)
    with torch.no_grad():
        images = generator(noise, labels, truncation=truncation)
    return make_image_grid(to_hwc_numpy(images), per_class, padding)


def test_roundtrip_converted_checkpoint_to_png(c10_converted, tmp_path):
    """Issue 4: convert from the command line (fixture), sample from the
    command line, and get the images the reference computes."""
    out = str(tmp_path / 'sheet.png')
    result = run_script(DEMO, [
        c10_converted.config, c10_converted.checkpoint, '--label', '5', '4',
        '9', '--samples-per-classes', '3', '--seed', '7', '--padding', '1',
        '--sample-cfg', 'truncation=0.7', '--save-path', out, '--device',
        'cpu'
    ])
    assert result.returncode == 0, result.stderr
    assert 'Rows: 5 (dog), 4 (deer), 9 (truck)' in result.stdout
    grid = read_png(out)
    assert grid.shape == (3 * 33 + 1, 3 * 33 + 1, 3)
    expected = expected_sheet(c10_converted, [5, 4, 9], 3, 0.7, 7, 1)
    assert_close_uint8(grid, expected)
    # Every row holds its own class: rows differ although noise columns
    # repeat the pattern of the seed.
    sheet = cells(grid, 3, 3, 32, 1)
    assert not np.array_equal(sheet[0], sheet[3])


def test_demo_images_match_reference_outputs(demo, c10_converted,
                                             fixtures_root):
    """The demo's generation on the reference's recorded inputs gives the
    reference's recorded images, as 8-bit pixels, for either generator."""
    io = torch.load(
        osp.join(fixtures_root, 'bgp_C10_res32_ch16_seed0', 'io.pth'),
        weights_only=True)
    model = init_model(c10_converted.config, c10_converted.checkpoint, 'cpu')
    outputs = {}
    for sample_model, key in (('ema', 'G_ema_out'), ('orig', 'G_out')):
        generator = get_sampling_generator(model, sample_model)
        images = demo.generate_images(generator, io['z'], io['y'], None,
                                      batch_size=3)
        assert images.shape == (4, 32, 32, 3) and images.dtype == np.uint8
        assert_close_uint8(images, to_hwc_numpy(io[key]))
        outputs[sample_model] = images
    assert np.abs(outputs['ema'].astype(int) -
                  outputs['orig'].astype(int)).max() > 1


def test_truncation_selects_biggan_deep_statistics_and_rgb(
        demo, deep_model, tmp_path, capsys):
    """A BigGAN-Deep with per-truncation batch-norm statistics (as converted
    ones) is sampled with the statistics of the truncation given, and its
    BGR output is written as RGB."""
    out = str(tmp_path / 'deep.png')
    assert run(demo.main, [
        deep_model.config, deep_model.checkpoint, '--label', '4', '7',
        '--samples-per-classes', '2', '--seed', '1', '--sample-cfg',
        'truncation=0.4', '--padding', '0', '--save-path', out, '--device',
        'cpu'
    ]) == 0
    out_text = capsys.readouterr().out
    assert 'The model has no EMA generator' in out_text
    assert 'from the orig generator, truncation 0.4' in out_text
    sheet = read_png(out)
    generator = init_model(deep_model.config, deep_model.checkpoint,
                           'cpu').generator
    assert generator.rgb2bgr
    noise, labels = draw_inputs(generator, 4, [4, 4, 7, 7], 0.4, seed=1)
    with torch.no_grad():
        bgr = generator(noise, labels, truncation=0.4)
        # Same noise, the statistics of truncation 1: another picture.
        other = generator(noise, labels, truncation=1.0)
    right = make_image_grid(to_hwc_numpy(bgr.flip(1)), 2, 0)
    assert_close_uint8(sheet, right)
    for wrong in (to_hwc_numpy(other.flip(1)), to_hwc_numpy(bgr)):
        assert np.abs(sheet.astype(int) -
                      make_image_grid(wrong, 2, 0).astype(int)).max() > 8


def test_same_seed_same_file_other_seed_other_sheet(demo, shared_model,
                                                    tmp_path):
    paths = [str(tmp_path / f'{name}.png') for name in 'abc']
    for path, seed in zip(paths, [3, 3, 4]):
        assert run(demo.main, [
            shared_model.config, shared_model.checkpoint, '--label', '1',
            '2', '--seed', str(seed), '--save-path', path, '--device', 'cpu',
            '--batch-size', '3'
        ]) == 0
    data = [open(path, 'rb').read() for path in paths]
    assert data[0] == data[1]
    assert not np.array_equal(read_png(paths[0]), read_png(paths[2]))


def test_sample_all_classes_rows_and_class_names(demo, shared_model,
                                                 tmp_path, capsys):
    plain, named = str(tmp_path / 'plain.png'), str(tmp_path / 'named.png')
    args = [
        shared_model.config, shared_model.checkpoint, '--sample-all-classes',
        '--samples-per-classes', '4', '--seed', '0', '--device', 'cpu',
        '--sample-model', 'orig', '--padding', '2'
    ]
    assert run(demo.main, args + ['--save-path', plain]) == 0
    out = capsys.readouterr().out
    assert 'Rows: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9\n' in out
    assert 'from the orig generator' in out
    grid = read_png(plain)
    assert grid.shape == (10 * 34 + 2, 4 * 34 + 2, 3)
    assert_close_uint8(
        grid, expected_sheet(shared_model, range(10), 4, None, 0, 2,
                             sample_model='orig'))

    assert run(demo.main,
               args + ['--save-path', named, '--draw-class-names']) == 0
    labelled = read_png(named)
    margin = labelled.shape[1] - grid.shape[1]
    assert labelled.shape[0] == grid.shape[0] and 8 < margin < 40
    assert np.array_equal(labelled[:, margin:], grid)
    # A dark glyph beside every row, nothing but background between rows.
    for row in range(10):
        top = 2 + row * 34
        assert labelled[top:top + 32, :margin].min() < 128
        assert labelled[top - 2:top, :margin].min() == 255


def test_random_classes_sheet_and_ema_default(demo, shared_model, tmp_path,
                                              capsys):
    out = str(tmp_path / 'random.png')
    assert run(demo.main, [
        shared_model.config, shared_model.checkpoint, '--samples-per-classes',
        '6', '--nrow', '4', '--seed', '2', '--save-path', out, '--device',
        'cpu', '--padding', '0'
    ]) == 0
    assert 'from the ema generator' in capsys.readouterr().out
    grid = read_png(out)
    assert grid.shape == (64, 128, 3)
    # The missing cells of the last row stay blank.
    assert (grid[32:, 64:] == 255).all()
    model = init_model(shared_model.config, shared_model.checkpoint, 'cpu')
    generator = get_sampling_generator(model, 'ema')
    noise, labels = draw_inputs(generator, 6, None, None, seed=2)
    with torch.no_grad():
        images = to_hwc_numpy(generator(noise, labels))
    assert_close_uint8(grid, make_image_grid(images, 4, 0))


def test_generation_is_batched(demo, shared_model):
    generator = init_model(shared_model.config, shared_model.checkpoint,
                           'cpu').generator_ema
    calls = []
    handle = generator.register_forward_hook(
        lambda module, args, output: calls.append(output.shape[0]))
    try:
        noise, labels = draw_inputs(generator, 10, None, None, seed=0)
        images = demo.generate_images(generator, noise, labels, None,
                                      batch_size=4)
    finally:
        handle.remove()
    assert calls == [4, 4, 2] and images.shape[0] == 10


def test_low_truncation_gives_less_variety(demo, c10_converted, tmp_path):
    """Pixel variance across samples of one class: truncation 0.2 well
    below 1.0."""
    variance = {}
    for truncation in (0.2, 1.0):
        out = str(tmp_path / f'{truncation}.png')
        assert run(demo.main, [
            c10_converted.config, c10_converted.checkpoint, '--label', '3',
            '--samples-per-classes', '12', '--seed', '0', '--sample-cfg',
            f'truncation={truncation}', '--padding', '0', '--save-path', out,
            '--device', 'cpu'
        ]) == 0
        samples = cells(read_png(out), 1, 12, 32, 0).astype(float)
        variance[truncation] = samples.var(axis=0).mean()
    assert variance[0.2] < 0.5 * variance[1.0]
    assert variance[0.2] > 0
