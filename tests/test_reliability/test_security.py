"""No code path unpickles a file without saying so: every ``torch.load``
passes ``weights_only=True`` (one exception: the ``--trust-pickle`` path of
``load_checkpoint_file``), every ``np.load`` ``allow_pickle=False``, no
bare ``pickle.load``, every ``pickle.Unpickler`` restricts ``find_class``.
"""
import ast
import os
import os.path as osp

from ._helpers import ROOT

FOLDERS = ('mmbiggan', 'tools', 'demo', 'apps', 'benchmarks')

# (file, call) -> why it is allowed.
ALLOWED = {
    ('mmbiggan/utils/checkpoint.py', 'torch.load(weights_only=False)'):
    'only inside trusted_pickle(), i.e. with --trust-pickle',
    ('mmbiggan/evaluation/inception.py', 'torch.jit.load'):
    "StyleGAN2-ADA's TorchScript Inception; the module says to use the "
    'file from NVIDIA only',
}


def python_files():
    for folder in FOLDERS:
        for dirpath, _, names in os.walk(osp.join(ROOT, folder)):
            for name in names:
                if name.endswith('.py'):
                    path = osp.join(dirpath, name)
                    yield osp.relpath(path, ROOT), path


def dotted(node) -> str:
    if isinstance(node, ast.Attribute):
        return f'{dotted(node.value)}.{node.attr}'
    return node.id if isinstance(node, ast.Name) else '?'


def keyword(call: ast.Call, name: str):
    for kw in call.keywords:
        if kw.arg == name and isinstance(kw.value, ast.Constant):
            return kw.value.value
    return None


def findings():
    """(file, what) for every deserializing call that is not safe."""
    found = []
    for rel, path in python_files():
        tree = ast.parse(open(path, encoding='utf-8').read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                    dotted(b).endswith('Unpickler') for b in node.bases):
                methods = {n.name for n in node.body
                           if isinstance(n, ast.FunctionDef)}
                if 'find_class' not in methods:
                    found.append((rel, f'{node.name} without find_class'))
            if not isinstance(node, ast.Call):
                continue
            name = dotted(node.func)
            if name == 'torch.load':
                weights_only = keyword(node, 'weights_only')
                if weights_only is not True:
                    found.append((rel, f'torch.load(weights_only='
                                  f'{weights_only})'))
            elif name in ('np.load', 'numpy.load'):
                if keyword(node, 'allow_pickle') is not False:
                    found.append((rel, 'np.load without allow_pickle=False'))
            elif name in ('pickle.load', 'pickle.loads', 'torch.jit.load',
                          'joblib.load', 'dill.load', 'yaml.load',
                          'marshal.loads'):
                found.append((rel, name))
    return found


def test_every_load_is_safe_or_flagged():
    unexpected = [f for f in findings() if f not in ALLOWED]
    assert not unexpected, (
        'deserialization that can run code, neither weights_only=True nor '
        f'flagged: {unexpected}')


def test_the_allowed_exceptions_still_exist():
    """An exception that no longer applies is removed from ALLOWED."""
    assert set(ALLOWED) <= set(findings())


def test_the_trusted_load_is_behind_the_flag():
    source = open(osp.join(ROOT, 'mmbiggan/utils/checkpoint.py')).read()
    unsafe = source.index('weights_only=False')
    guard = source.rindex('if not _TRUST_PICKLE.get():', 0, unsafe)
    assert 'raise CheckpointError' in source[guard:unsafe]
