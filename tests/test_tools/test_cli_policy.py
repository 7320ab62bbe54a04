"""mmbiggan.utils.errors.run: one exit status per kind of ending, for every
script (train, test, inception_stat, digits_classifier, the converters, the
demo and the apps)."""
import ast
import os.path as osp

import pytest

from mmbiggan.utils.errors import (EXIT_CHECK_FAILED, EXIT_DIVERGED,
                                   EXIT_INTERRUPTED, EXIT_USER_ERROR,
                                   CheckFailed, UserError, run)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPTS = [
    'tools/train.py', 'tools/test.py', 'tools/utils/inception_stat.py',
    'tools/utils/digits_classifier.py',
    'tools/model_converters/biggan_pytorch_to_mmbiggan.py',
    'tools/model_converters/huggingface_to_mmbiggan.py',
    'demo/conditional_demo.py', 'apps/conditional_interpolate.py'
]


def raising(err):

    def main(argv):
        raise err

    return main


def test_exit_status_per_kind(capsys):
    from mmbiggan.engine import (ConfigError, DistributedSetupError,
                                 TrainingDiverged, TrainingInterrupted)
    from mmbiggan.evaluation import InceptionLoadError
    from mmbiggan.utils.checkpoint import CheckpointError
    assert run(lambda argv: None) == 0
    for err in (ConfigError('bad key'), CheckpointError('bad file'),
                DistributedSetupError('no RANK'), InceptionLoadError('x'),
                ValueError('v'), KeyError('k'), FileNotFoundError('f'),
                UserError('u')):
        assert run(raising(err)) == EXIT_USER_ERROR == 2, err
    assert run(raising(TrainingDiverged('nan'))) == EXIT_DIVERGED == 3
    assert run(raising(CheckFailed('low'))) == EXIT_CHECK_FAILED == 4
    assert run(raising(KeyboardInterrupt())) == EXIT_INTERRUPTED == 130
    stop = TrainingInterrupted(15, 7, 'work/iter_7.pth')
    assert run(raising(stop)) == 143
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[:2] == ['error: bad key', 'error: bad file']
    assert lines[5] == 'error: k'  # KeyError unquoted
    assert lines[-2].startswith('stopped: interrupted;')
    assert lines[-1] == ('stopped: SIGTERM received; the checkpoint of '
                         'iteration 7 is work/iter_7.pth. To go on, run the '
                         'same command with --resume.')


@pytest.mark.parametrize('bug', [TypeError('f() takes 2 arguments'),
                                 AttributeError('x'), RuntimeError('y')])
def test_bugs_keep_their_traceback(bug):
    # TypeError is how a wrong call in the code shows itself: not a user
    # error, so it is not hidden behind one line.
    with pytest.raises(type(bug)):
        run(raising(bug))


def test_explain_adds_to_the_line(capsys):
    assert run(raising(ValueError('bad')), explain=lambda err: ' (see x)')
    assert capsys.readouterr().err == 'error: bad (see x)\n'


@pytest.mark.parametrize('script', SCRIPTS)
def test_every_script_ends_through_the_one_wrapper(script):
    """No script catches exceptions or calls sys.exit with a message of its
    own: the one wrapper decides statuses and lines."""
    tree = ast.parse(open(osp.join(ROOT, script)).read())
    handlers = [n for n in ast.walk(tree) if isinstance(n, ast.ExceptHandler)]
    for handler in handlers:
        names = {n.id for n in ast.walk(handler.type or ast.Name('', None))
                 if isinstance(n, ast.Name)} | {
                     n.attr for n in ast.walk(handler.type or ast.Name(
                         '', None)) if isinstance(n, ast.Attribute)}
        # (A TypeError caught alone around one library call is a version
        # check, not an error policy.)
        assert 'TypeError' not in names or names == {'TypeError'}, script
        assert 'KeyboardInterrupt' not in names, script
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    exits = [c for c in calls if isinstance(c.func, ast.Attribute)
             and c.func.attr == 'exit'
             or isinstance(c.func, ast.Name) and c.func.id == 'SystemExit']
    assert exits, f'{script} does not end with sys.exit(run(...))'
    for call in exits:
        (arg, ) = call.args
        assert isinstance(arg, ast.Call) and getattr(
            arg.func, 'id', getattr(arg.func, 'attr', None)) in (
                'run', 'run_script'), (script, ast.dump(call))
