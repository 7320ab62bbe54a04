"""Writers of small files in the real on-disk formats."""
import io
import os
import os.path as osp
import pickle
import struct

import numpy as np


class _Python2Pickler(pickle._Pickler):
    """Pickles ``bytes`` and ASCII ``str`` as Python 2 ``str`` (BINSTRING
    opcodes), as the Python 2 cPickle that wrote the CIFAR files did;
    Python 3's protocol 2 routes bytes through ``_codecs.encode``."""

    dispatch = pickle._Pickler.dispatch.copy()

    def _save_py2_str(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack('<i', len(obj)) + obj)
        self.memoize(obj)

    def _save_ascii_str(self, obj):
        self._save_py2_str(obj.encode('ascii'))

    dispatch[bytes] = _save_py2_str
    # Python 2 numpy pickled dtype codes such as 'u1' as str too.
    dispatch[str] = _save_ascii_str


def python2_pickle(obj):
    """Protocol-2 pickle as Python 2 wrote it: str opcodes for bytes and
    numpy's module named ``numpy.core.multiarray``."""
    buffer = io.BytesIO()
    _Python2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue().replace(b'cnumpy._core.multiarray\n',
                                     b'cnumpy.core.multiarray\n')


def write_cifar_batch(path, images, labels, python2=True):
    """Write a CIFAR-10 batch as cifar-10-python.tar.gz holds it: a pickled
    dict with bytes keys, ``data`` uint8 [N, 3072] (R, G, B planes per row)
    and ``labels`` a list of ints.

    ``python2`` writes the pickle as the original Python 2 files are;
    otherwise as Python 3 re-pickles it with protocol 2.
    """
    images = np.asarray(images, dtype=np.uint8)
    batch = {
        b'batch_label': b'testing batch 1 of 1',
        b'labels': [int(x) for x in labels],
        b'data': images.transpose(0, 3, 1, 2).reshape(len(images), -1),
        b'filenames': [b'img_%d.png' % i for i in range(len(images))],
    }
    payload = (python2_pickle(batch)
               if python2 else pickle.dumps(batch, protocol=2))
    with open(path, 'wb') as f:
        f.write(payload)


def write_cifar_meta(path, names):
    meta = {
        b'num_cases_per_batch': 10000,
        b'label_names': [n.encode() for n in names],
        b'num_vis': 3072,
    }
    with open(path, 'wb') as f:
        f.write(python2_pickle(meta))


def random_image(rng, height, width):
    return rng.randint(0, 256, size=(height, width, 3), dtype=np.uint8)


def smooth_image(height, width):
    """RGB gradients with distinct channel levels (R > G > B): JPEG keeps
    them within a few levels, so channel order is checkable."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([200 + 40 * x / width, 120 + 40 * y / height,
                     20 + 20 * (x + y) / (width + height)],
                    axis=-1).round().astype(np.uint8)


def write_lines(path, lines):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
