"""Every bad input of the demo and the interpolation app ends in one line
that names the problem and the fix, a non-zero exit, and no change to
files already there."""
import os

import pytest

from mmbiggan.apis.cli import run
from .conftest import DEMO, run_script

EXISTING = b'an earlier result'


@pytest.fixture(scope='module')
def bad_files(tmp_path_factory, shared_model):
    folder = tmp_path_factory.mktemp('bad')
    truncated = folder / 'truncated.pth'
    data = open(shared_model.checkpoint, 'rb').read()
    truncated.write_bytes(data[:len(data) // 2])
    return dict(truncated=str(truncated), missing=str(folder / 'none.pth'))


def model_args(case, models, bad_files):
    """Config and checkpoint of a case: ``shared``, ``unconditional``,
    ``c10`` (converted), or a broken checkpoint for the shared config."""
    kind = case.get('model', 'shared')
    if kind in bad_files:
        return [models['shared'].config, bad_files[kind]]
    if kind == 'wrong':  # the converted CIFAR-10 weights, another network
        return [models['shared'].config, models['c10'].checkpoint]
    if kind == 'no-config':
        return ['configs/none.py', models['shared'].checkpoint]
    return [models[kind].config, models[kind].checkpoint]


DEMO_CASES = [
    dict(args=['--label', '3', '10'],
         error='--label 10 is not a class of this model; use labels 0..9'),
    dict(args=['--label', '-1'], error='--label -1 is not a class'),
    dict(args=['--sample-cfg', 'truncation=0'],
         error='truncation=0 is not a number > 0'),
    dict(args=['--sample-cfg', 'truncation=-0.5'],
         error='truncation=-0.5 is not a number > 0'),
    dict(args=['--sample-cfg', 'trunc=0.5'],
         error="Unknown --sample-cfg key 'trunc': the known keys are "
         "['truncation']; did you mean 'truncation'?"),
    dict(args=['--label', '1'], model='unconditional',
         error='This model is unconditional (no classes); drop --label'),
    dict(args=['--sample-all-classes', '--label', '1'],
         error='Give --label or --sample-all-classes, not both'),
    dict(args=['--draw-class-names'],
         error='--draw-class-names labels rows of classes'),
    dict(args=['--label', '1', '--nrow', '3'],
         error='--nrow sets the columns of a sheet of random classes'),
    dict(args=[], model='wrong',
         error='does not fit BigGAN; missing keys'),
    dict(args=[], model='missing', error='Checkpoint not found: '),
    dict(args=[], model='truncated',
         error='is truncated or not a PyTorch checkpoint'),
    dict(args=[], model='no-config',
         error='Config file not found: configs/none.py'),
    dict(args=['--device', 'cuda:99'], error='--device cuda:99: Device '),
    dict(args=['--device', 'tpu'], error='--device tpu: '),
]

APP_CASES = [
    dict(args=['--fix-z', '--fix-y'],
         error='--fix-z and --fix-y exclude each other'),
    dict(args=['--fix-z'], model='unconditional',
         error='This model is unconditional (no classes), so --fix-z has no '
         'class'),
    dict(args=['--fix-y'], model='unconditional',
         error='so --fix-y has no class'),
    dict(args=['--label', '2', '11'],
         error='--label 11 is not a class of this model; use labels 0..9'),
    dict(args=['--label', '1', '2', '3', '--endpoint', '2'],
         error='--label gives 3 classes for 2 endpoints'),
    dict(args=['--endpoint', '1'],
         error='--endpoint 1: a walk needs at least 2 endpoints'),
    dict(args=['--sample-cfg', 'truncation=0'],
         error='truncation=0 is not a number > 0'),
    dict(args=['--sample-cfg', 'psi=0.7'],
         error="Unknown --sample-cfg key 'psi'"),
    dict(args=[], model='wrong', error='missing keys'),
    dict(args=[], model='truncated', error='is truncated'),
    dict(args=['--device', 'cuda:99'], error='--device cuda:99'),
]


@pytest.fixture(scope='module')
def models(shared_model, unconditional_model, c10_converted):
    return dict(shared=shared_model, unconditional=unconditional_model,
                c10=c10_converted)


def existing_output(tmp_path):
    """A result of an earlier run where the new one would write."""
    path = tmp_path / 'out.png'
    path.write_bytes(EXISTING)
    return path


def assert_one_line_error(err, expected):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith('error: ') and expected in lines[0], err
    assert 'Traceback' not in err


@pytest.mark.parametrize('case', DEMO_CASES, ids=lambda c: c['error'][:40])
def test_demo_bad_input(demo, models, bad_files, tmp_path, capsys, case):
    out = existing_output(tmp_path)
    status = run(demo.main, model_args(case, models, bad_files) + [
        '--save-path', str(out), '--seed', '0', '--device', 'cpu'
    ] + case['args'])
    assert status == 2
    assert_one_line_error(capsys.readouterr().err, case['error'])
    assert out.read_bytes() == EXISTING
    assert os.listdir(tmp_path) == ['out.png']


@pytest.mark.parametrize('case', APP_CASES, ids=lambda c: c['error'][:40])
def test_app_bad_input(app, models, bad_files, tmp_path, capsys, case):
    folder = tmp_path / 'walk'
    folder.mkdir()
    frame = folder / '00000.png'
    frame.write_bytes(EXISTING)
    status = run(app.main, model_args(case, models, bad_files) + [
        '--samples-path', str(folder), '--seed', '0', '--device', 'cpu'
    ] + case['args'])
    assert status == 2
    assert_one_line_error(capsys.readouterr().err, case['error'])
    assert frame.read_bytes() == EXISTING
    assert os.listdir(folder) == ['00000.png']


def test_output_paths_that_cannot_work(demo, app, shared_model, tmp_path,
                                       capsys):
    """Refused before the model is loaded: nothing is generated in vain."""
    a_file = tmp_path / 'file'
    a_file.write_bytes(EXISTING)
    model = [shared_model.config, 'never-loaded.pth']
    for main, args, error in (
            (demo.main, ['--save-path', str(tmp_path / 'out.jpg')],
             'give a path ending in .png'),
            (demo.main, ['--save-path', str(tmp_path)], 'is a folder'),
            (demo.main, ['--save-path', str(a_file / 'sub' / 'out.png')],
             f'--save-path: {a_file} is a file'),
            (app.main, ['--samples-path', str(a_file)],
             f'--samples-path: {a_file} is a file'),
            (app.main, ['--samples-path', str(a_file / 'walk')],
             'cannot be a folder')):
        assert run(main, model + args) == 2
        assert_one_line_error(capsys.readouterr().err, error)
    assert os.listdir(tmp_path) == ['file']
    assert a_file.read_bytes() == EXISTING


def test_command_line_prints_errors_without_traceback(
        shared_model, bad_files, tmp_path):
    """The real script, as a user runs it (the app shares its ``run``)."""
    out = existing_output(tmp_path)
    result = run_script(DEMO, [
        shared_model.config, bad_files['truncated'], '--save-path',
        str(out), '--device', 'cpu'
    ])
    assert result.returncode == 2
    assert_one_line_error(result.stderr, 'is truncated')
    assert out.read_bytes() == EXISTING


def test_values_argparse_rejects_exit_with_status_2(app, demo, shared_model,
                                                    tmp_path, capsys):
    for main, args, error in (
            (app.main, ['--samples-path', str(tmp_path), '--interval', '0'],
             'argument --interval: must be >= 1, got 0'),
            (app.main, ['--samples-path', str(tmp_path), '--interp-mode',
                        'cubic'], "invalid choice: 'cubic'"),
            (demo.main, ['--samples-per-classes', '0'],
             'argument --samples-per-classes: must be >= 1, got 0'),
            (demo.main, ['--padding', '-1'], 'must be >= 0, got -1')):
        with pytest.raises(SystemExit) as exit_info:
            run(main, [shared_model.config, shared_model.checkpoint] + args)
        assert exit_info.value.code == 2
        assert error in capsys.readouterr().err
