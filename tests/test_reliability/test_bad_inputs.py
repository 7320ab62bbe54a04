"""Every bad input of issue 7, through the real command lines
(``tools/train.py``, ``tools/test.py``, a converter, the demo and the
interpolation app, called with their argv in this process): a non-zero
exit, one line naming the problem and the fix, and the files already in the
output folder byte-identical and nothing new written beside them."""
import importlib.util
import json
import os
import os.path as osp
import shutil
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from mmbiggan.apis.cli import run as run_script
from ._helpers import DIGITS, ROOT, write_config

TOOLS = dict(
    train='tools/train.py',
    test='tools/test.py',
    convert='tools/model_converters/biggan_pytorch_to_mmbiggan.py',
    demo='demo/conditional_demo.py',
    app='apps/conditional_interpolate.py')


class Payload:
    """Unpickling it creates the file ``path``: code that runs."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


def build_checkpoint(config: str, path: str):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmbiggan.registry import MODELS
    init_default_scope('mmbiggan')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config).model)
    torch.save({'meta': {'iter': 3}, 'state_dict': model.state_dict()}, path)


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """Inputs good and bad: configs, checkpoints, an image folder."""
    root = tmp_path_factory.mktemp('inputs')
    f = dict(config=write_config(root))
    f['ckpt'] = str(root / 'tiny.pth')
    build_checkpoint(f['config'], f['ckpt'])
    f['other'] = str(root / 'other.pth')  # the shipped digits model
    build_checkpoint(DIGITS, f['other'])
    data = open(f['ckpt'], 'rb').read()
    (root / 'truncated.pth').write_bytes(data[:len(data) // 2])
    f['truncated'] = str(root / 'truncated.pth')
    (root / 'notes.pth').write_text('not a checkpoint')
    f['not_ckpt'] = str(root / 'notes.pth')
    f['marker'] = str(root / 'code-ran')
    f['evil'] = str(root / 'evil.pth')
    torch.save({'state_dict': {}, 'x': Payload(f['marker'])}, f['evil'])
    # Images: one good, one corrupt; annotation files, one out of range.
    images = root / 'images'
    (images / 'train' / 'a').mkdir(parents=True)
    (images / 'meta').mkdir()
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(
        images / 'train' / 'a' / 'good.png')
    (images / 'train' / 'a' / 'bad.png').write_bytes(b'\x89PNG garbage')
    (images / 'meta' / 'corrupt.txt').write_text('a/good.png 0\n'
                                                 'a/bad.png 1\n')
    (images / 'meta' / 'labels.txt').write_text('a/good.png 0\n'
                                                'a/good.png 12\n')
    f['images'] = str(images)
    f['image_config'] = str(root / 'image_folder.py')
    with open(f['image_config'], 'w') as out:
        out.write(f"""_base_ = [{f['config']!r}]
train_dataloader = dict(
    batch_size=2, num_workers=0,
    dataset=dict(_delete_=True, type='ImageFolderDataset',
                 data_root={str(images)!r}, data_prefix='train',
                 ann_file='meta/corrupt.txt', num_classes=10,
                 pipeline=[dict(type='LoadImageFromFile'),
                           dict(type='Resize', scale=(32, 32),
                                backend='pillow',
                                interpolation='bilinear'),
                           dict(type='PackInputs')]))
""")
    return f


@pytest.fixture(scope='module')
def tools():
    modules = {}
    for name, rel in TOOLS.items():
        spec = importlib.util.spec_from_file_location(f'_bad_input_{name}',
                                                      osp.join(ROOT, rel))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules[name] = module
    return modules


# (tool, arguments, the line's expected text). In the arguments, {name}
# is a file of the `files` fixture, {out} the output folder holding an
# earlier run's files.
CASES = [
    ('train', ['{config}', '--cfg-options', 'model.type=BigGun'],
     "model: unknown model type 'BigGun'; did you mean 'BigGAN'?"),
    ('train', ['{config}', '--cfg-options',
               'model.generator.type=BigGANGenerater'],
     "model.generator: unknown model type 'BigGANGenerater'; did you mean "
     "'BigGANGenerator'?"),
    ('train', ['{config}', '--cfg-options', 'default_hooks.chekpoint.x=1'],
     'default_hooks.chekpoint has no type; did you mean '
     'default_hooks.checkpoint?'),
    ('train', ['{config}', '--cfg-options', 'optim_wraper.x=1'],
     "Unknown config key 'optim_wraper'; did you mean 'optim_wrapper'?"),
    ('train', ['{image_config}', '--cfg-options',
               'train_dataloader.dataset.data_root=/no/such/data'],
     'Image folder /no/such/data/train does not exist; set data_root (and '
     'data_prefix) to the folder holding the images listed in '
     '/no/such/data/meta/corrupt.txt.'),
    ('train', ['{image_config}'],
     'Cannot read image {images}/train/a/bad.png (UnidentifiedImageError: '
     "cannot identify image file '{images}/train/a/bad.png'); it is corrupt "
     'or not an image: replace it or remove it from the dataset.'),
    ('train', ['{image_config}', '--cfg-options',
               'train_dataloader.dataset.ann_file=meta/labels.txt'],
     '{images}/meta/labels.txt, line 2: label 12 of a/good.png is outside '
     '[0, 10); fix the annotation file, or num_classes in the dataset '
     'config.'),
    ('train', ['{config}', '--resume', '{other}'],
     'The checkpoint does not fit BigGAN; unexpected keys (8): '
     'discriminator.conv_blocks.2.conv_sc.bias'),
    ('train', ['{config}', '--resume', '{truncated}'],
     '{truncated} is truncated or not a PyTorch checkpoint'),
    ('train', ['{config}', '--resume', '{not_ckpt}'],
     '{not_ckpt} is not a PyTorch checkpoint (neither a zip archive nor a '
     'pickle); give the file torch.save wrote.'),
    ('train', ['{config}', '--resume', '{evil}'],
     'If you trust its source, pass --trust-pickle.'),
    ('train', ['{config}', '--resume', '/no/such/iter_3.pth'],
     '--resume: checkpoint not found: /no/such/iter_3.pth'),
    ('train', ['{config}', '--work-dir', '{out}/results.json/run'],
     'Cannot create the work dir {out}/results.json/run: Not a directory; '
     'pass a writable --work-dir.'),
    ('train', ['{config}', '--launcher', 'pytorch', 'GPUS=2'],
     'Process with LOCAL_RANK 3 needs GPU 3, but only 2 GPU(s) are visible; '
     'start at most 2 processes per node.'),
    ('test', ['{config}', '{other}'],
     'The {other} does not fit BigGAN; unexpected keys (8)'),
    ('test', ['{config}', '{truncated}'],
     '{truncated} is truncated or not a PyTorch checkpoint'),
    ('test', ['{config}', '{evil}'],
     'If you trust its source, pass --trust-pickle.'),
    ('test', ['{config}', '{ckpt}', '--metrics', 'is', '--inception-path',
              '{ckpt}'],
     'The {ckpt} does not fit FIDInceptionV3; missing keys (472)'),
    ('test', ['{config}', '{ckpt}', '--metrics', 'is', '--inception-path',
              '{not_ckpt}'],
     '{not_ckpt} is not a PyTorch file (an interrupted download?). '
     'type="PyTorchFID" takes the state dict '
     'pt_inception-2015-12-05-6726825d.pth'),
    ('test', ['{config}', '{ckpt}', '--truncation', '0'],
     '--truncation=0.0 is not a number > 0: truncation must be above 0; '
     'use e.g. 0.5 (smaller: less variety), 1.0, or leave it out (None) for '
     'untruncated noise.'),
    ('test', ['{config}', '{ckpt}', '--out', '{out}/results.json/x.json'],
     '--out {out}/results.json/x.json: {out}/results.json is a file, not a '
     'folder; choose another path.'),
    ('test', ['{config}', '{ckpt}', '--launcher', 'pytorch'],
     '--launcher pytorch needs RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, '
     'MASTER_PORT in the environment'),
    ('convert', ['{truncated}', '{out}/new.pth', '--role', 'generator'],
     '{truncated} is truncated or not a PyTorch checkpoint'),
    ('convert', ['{evil}', '{out}/new.pth', '--role', 'generator'],
     'If you trust its source, pass --trust-pickle.'),
    ('demo', ['{config}', '{other}', '--save-path', '{out}/new.png'],
     'The {other} does not fit BigGAN; unexpected keys (8)'),
    ('demo', ['{config}', '{ckpt}', '--save-path', '{out}/new.png',
              '--sample-cfg', 'truncation=0'],
     '--sample-cfg truncation=0 is not a number > 0'),
    ('demo', ['{config}', '{evil}', '--save-path', '{out}/new.png'],
     'If you trust its source, pass --trust-pickle.'),
    ('app', ['{config}', '{ckpt}', '--samples-path', '{out}/walk',
             '--sample-cfg', 'truncation=-1'],
     '--sample-cfg truncation=-1 is not a number > 0'),
    ('app', ['{config}', '{truncated}', '--samples-path', '{out}/walk'],
     '{truncated} is truncated or not a PyTorch checkpoint'),
]


def earlier_run(folder):
    """The output folder of an earlier run: a checkpoint, the pointer, a
    results file, a picture."""
    folder.mkdir()
    torch.save({'state_dict': {'w': torch.ones(2)}}, folder / 'iter_3.pth')
    (folder / 'last_checkpoint').write_text(str(folder / 'iter_3.pth'))
    (folder / 'results.json').write_text(json.dumps({'FID': 12.5}))
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(folder / 'old.png')
    return {p: open(folder / p, 'rb').read() for p in os.listdir(folder)}


def call(tools, name, argv, monkeypatch):
    """Run a tool's entry point; returns its exit status."""
    module = tools[name]
    if name == 'train':
        monkeypatch.setattr(sys, 'argv', ['train.py', *argv])
        with pytest.raises(SystemExit) as exit_info:
            module.run()
        return exit_info.value.code
    if name == 'test':
        with pytest.raises(SystemExit) as exit_info:
            module.run(argv)
        return exit_info.value.code
    return run_script(module.main, argv)


@pytest.mark.parametrize('tool, args, expected', CASES,
                         ids=[f'{c[0]}:{c[2][:40]}' for c in CASES])
def test_bad_input(tool, args, expected, files, tools, tmp_path, capsys,
                   monkeypatch):
    out = tmp_path / 'out'
    before = earlier_run(out)
    values = dict(files, out=str(out))
    args = [a.format(**values) for a in args]
    expected = expected.format(**values)
    if 'GPUS=2' in args:  # a node with 2 GPUs, the process of GPU 3
        args.remove('GPUS=2')
        monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
        monkeypatch.setattr(torch.cuda, 'device_count', lambda: 2)
        for key, value in dict(RANK='3', WORLD_SIZE='4', LOCAL_RANK='3',
                               MASTER_ADDR='127.0.0.1',
                               MASTER_PORT='29999').items():
            monkeypatch.setenv(key, value)
    if tool == 'train' and '--work-dir' not in args:
        args += ['--work-dir', str(out)]
    if tool in ('train', 'test'):
        # Each run its own logger (mmengine names them by the second).
        args += ['--cfg-options', f'experiment_name={tmp_path.name}']
    if tool in ('demo', 'app'):
        args += ['--device', 'cpu']
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        status = call(tools, tool, args, monkeypatch)
    finally:
        torch.set_num_threads(threads)

    assert status not in (0, None)
    err = capsys.readouterr().err
    lines = [line for line in err.strip().splitlines()
             if not line.startswith('--resume: no checkpoint')]
    assert len(lines) == 1 and 'Traceback' not in err, err[-3000:]
    assert lines[0].startswith('error: ') and expected in lines[0], lines[0]
    # The earlier run's files are intact, and nothing was written beside
    # them but what a started Runner writes first: its log folder and the
    # config it runs.
    for name, data in before.items():
        assert open(out / name, 'rb').read() == data, name
    new = [p for p in os.listdir(out) if p not in before]
    assert all(p[:8].isdigit() or p == osp.basename(args[0])
               for p in new), new
    assert not osp.exists(files['marker'])  # no code from a pickle ran
    shutil.rmtree(out)


class Unreadable:
    """A dataset whose second item fails as a corrupt image does."""

    def __len__(self):
        return 4

    def __getitem__(self, index):
        if index == 1:
            raise OSError('Cannot read image b.png; replace it.')
        return index


def test_an_error_in_a_dataloader_worker_is_reported_as_its_own_line():
    from torch.utils.data import DataLoader

    from mmbiggan.utils.errors import error_line
    batches = iter(DataLoader(Unreadable(), batch_size=2, num_workers=1))
    with pytest.raises(OSError) as info:
        next(batches)
    batches._shutdown_workers()
    assert 'Traceback' in str(info.value)  # torch packs the worker's in
    assert error_line(info.value) == 'Cannot read image b.png; replace it.'
