"""README.md's layout table ("What is inside") matches the tree."""
import os.path as osp
import re
import subprocess

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def layout_paths():
    text = open(osp.join(ROOT, 'README.md'), encoding='utf-8').read()
    section = text.split('## What is inside', 1)[1].split('\n## ', 1)[0]
    paths = []
    for row in re.findall(r'^\| (.+?) \|', section, re.M):
        paths += re.findall(r'`([^`]+)`', row)
    return paths


def tracked_files():
    files = subprocess.run(['git', 'ls-files'], cwd=ROOT, text=True,
                           capture_output=True, check=True).stdout.split()
    return files


def test_every_listed_path_exists():
    paths = layout_paths()
    assert 'mmbiggan/models' in paths
    for path in paths:
        assert osp.exists(osp.join(ROOT, path.rstrip('/'))), path


def test_every_folder_and_package_is_listed():
    listed = {p.rstrip('/') for p in layout_paths()}
    files = tracked_files()
    folders = {f.split('/')[0] for f in files if '/' in f
               and not f.startswith(('.', 'mmbiggan/'))}
    packages = {'/'.join(f.split('/')[:2]) for f in files
                if f.startswith('mmbiggan/') and f.count('/') >= 2}
    modules = {f for f in files if f.startswith('mmbiggan/')
               and f.count('/') == 1 and f.endswith('.py')
               and not f.endswith(('__init__.py', 'version.py'))}
    missing = sorted((folders | packages | modules) - listed)
    assert not missing, f'README layout table lacks {missing}'
    