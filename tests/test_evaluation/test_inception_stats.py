"""Statistics files: round trip, MMGeneration's and pytorch-fid's formats,
and untrusted pickles that must not run anything."""
import os
import pickle
import pickletools

import numpy as np
import pytest

from mmbiggan.evaluation.inception_stats import (load_inception_stats,
                                                 save_inception_stats)


def random_stats(dim=2048, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((64, dim))
    return x.mean(0), np.cov(x, rowvar=False)


def test_round_trip(tmp_path):
    mean, cov = random_stats()
    path = str(tmp_path / 'stats' / 'digits.pkl')
    save_inception_stats(path, mean, cov, num_images=64, inception='StyleGAN')
    stats = load_inception_stats(path)
    assert stats.mean.dtype == stats.cov.dtype == np.float64
    np.testing.assert_array_equal(stats.mean, mean)
    np.testing.assert_array_equal(stats.cov, cov)
    assert stats.num_images == 64 and stats.inception == 'StyleGAN'
    assert os.listdir(tmp_path / 'stats') == ['digits.pkl']


def test_written_pickle_reads_as_mmgeneration_reads_it(tmp_path):
    mean, cov = random_stats(dim=16)
    path = str(tmp_path / 'cifar10.pkl')
    save_inception_stats(path, mean, cov, 50000, 'StyleGAN', name='cifar10')
    with open(path, 'rb') as f:
        data = f.read()
    record = pickle.loads(data)  # what MMGeneration's FID.prepare does
    assert record['name'] == 'cifar10' and record['size'] == 50000
    assert record['mean'].dtype == np.float64
    assert record['mean'].shape == (16, )
    assert record['cov'].shape == (16, 16) and record['cov'].flags.writeable
    np.testing.assert_array_equal(record['cov'], cov)
    # NumPy 2 names numpy._core in pickles, which NumPy < 1.26 (the ones
    # MMGeneration runs on) cannot import; the file must not need it.
    globals_used = {
        arg
        for op, arg, _ in pickletools.genops(data)
        if op.name in ('SHORT_BINUNICODE', 'BINUNICODE', 'GLOBAL')
        and isinstance(arg, str) and arg.startswith('numpy')
    }
    assert globals_used == {'numpy'}


def test_reads_mmgeneration_and_pytorch_fid_files(tmp_path):
    mean, cov = random_stats(dim=32)
    mmgen = str(tmp_path / 'imagenet.pkl')
    with open(mmgen, 'wb') as f:  # as MMGeneration's inception_stat.py
        pickle.dump({'mean': mean, 'cov': cov, 'size': 50000,
                     'name': 'imagenet.pkl'}, f)
    stats = load_inception_stats(mmgen)
    np.testing.assert_array_equal(stats.cov, cov)
    assert stats.num_images == 50000 and stats.inception is None
    npz = str(tmp_path / 'fid_stats.npz')
    np.savez(npz, mu=mean.astype(np.float32), sigma=cov)
    stats = load_inception_stats(npz)
    assert stats.mean.dtype == np.float64
    np.testing.assert_allclose(stats.mean, mean, rtol=1e-6)
    assert stats.num_images is None


class RunsCommand:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


def test_untrusted_and_broken_files(tmp_path):
    marker = tmp_path / 'pwned'
    evil = str(tmp_path / 'evil.pkl')
    with open(evil, 'wb') as f:
        pickle.dump({'mean': RunsCommand(marker), 'cov': None}, f)
    with pytest.raises(ValueError, match='references posix.system'):
        load_inception_stats(evil)
    assert not marker.exists()

    mean, cov = random_stats(dim=8)
    cases = {
        'nokeys.pkl': ({'mu': mean}, r"must hold 'mean' and 'cov'"),
        'shape.pkl': ({'mean': mean, 'cov': cov[:4]}, 'covariance'),
        'nan.pkl': ({'mean': mean * np.nan, 'cov': cov}, 'NaN or inf'),
        'list.pkl': ([mean, cov], r'found list'),
    }
    for name, (content, message) in cases.items():
        path = str(tmp_path / name)
        with open(path, 'wb') as f:
            pickle.dump(content, f)
        with pytest.raises(ValueError, match=message):
            load_inception_stats(path)
    truncated = str(tmp_path / 'truncated.pkl')
    with open(evil, 'rb') as src, open(truncated, 'wb') as dst:
        dst.write(src.read()[:20])
    with pytest.raises(ValueError, match='truncated or not'):
        load_inception_stats(truncated)
    with pytest.raises(FileNotFoundError, match='not found'):
        load_inception_stats(str(tmp_path / 'absent.pkl'))


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    mean, cov = random_stats(dim=8)
    path = str(tmp_path / 'stats.pkl')
    save_inception_stats(path, mean, cov, 64, 'StyleGAN')
    before = open(path, 'rb').read()

    def fail(*args):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'replace', fail)
    with pytest.raises(OSError, match='disk full'):
        save_inception_stats(path, mean + 1, cov, 64, 'StyleGAN')
    assert open(path, 'rb').read() == before
    assert os.listdir(tmp_path) == ['stats.pkl']
