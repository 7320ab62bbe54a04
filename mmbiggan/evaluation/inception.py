"""Inception feature extractors for FID and IS, built from local weight
files (nothing is downloaded).

Two weight files are in use, each with the preprocessing of the code that
made it:

* ``type='StyleGAN'``: the TorchScript model ``inception-2015-12-05.pt`` of
  StyleGAN2-ADA (and MMGeneration), from
  https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/inception-2015-12-05.pt
  It takes ``uint8``-range images of any size and resizes them itself to
  299x299 with TensorFlow 1.x's bilinear resize. A TorchScript file is
  code by nature: :func:`torch.jit.load` runs what the file describes, so
  only use the file from NVIDIA's address above or another source you
  trust.
* ``type='PyTorchFID'``: the state dict
  ``pt_inception-2015-12-05-6726825d.pth`` of pytorch-fid, from
  https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth
  (torch-fidelity's ``weights-inception-2015-12-05-6726825d.pth`` is the
  same file), loaded with ``weights_only=True`` into
  :class:`~mmbiggan.evaluation.fid_inception.FIDInceptionV3`. With
  ``preprocess='tensorflow'`` (default) images are resized like the TF 1.x
  graph and scaled by ``(x - 128) / 128``, as torch-fidelity and the
  original TensorFlow FID/IS code do; ``preprocess='pytorch-fid'`` uses
  pytorch-fid's own ``F.interpolate(bilinear, align_corners=False)`` and
  ``2 * x / 255 - 1``, to match statistics that pytorch-fid computed.

Both weight files hold the same 2015 TensorFlow network, so both give
2048-d pool features (FID) and the 1008 logits without the output bias
(IS, as the original TensorFlow code computes them).

Configs select one with ``inception_args``, as MMGeneration names it::

    inception_args=dict(type='StyleGAN',
                        inception_path='work_dirs/cache/inception-2015-12-05.pt')
"""
import itertools
import os
import os.path as osp
import zipfile
from typing import Dict, NamedTuple, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmbiggan.utils.checkpoint import (CheckpointError, check_state_dict,
                                       extract_state_dict,
                                       load_checkpoint_file)
from mmbiggan.utils.errors import UserError

from .fid_inception import (INCEPTION_SIZE, NUM_FEATURES, NUM_LOGITS,
                            FIDInceptionV3, resize_bilinear_tf1)

STYLEGAN_URL = ('https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/'
                'pretrained/metrics/inception-2015-12-05.pt')
PYTORCH_FID_URL = ('https://github.com/mseitzer/pytorch-fid/releases/'
                   'download/fid_weights/pt_inception-2015-12-05-6726825d.pth')


class InceptionLoadError(UserError, RuntimeError):
    """An Inception weight file is missing or of the wrong kind."""


class InceptionOutputs(NamedTuple):
    pool: torch.Tensor  # [N, D] float32: pool_3 features (FID), D = 2048
    # [N, 1008] float32, without output bias (IS); None for extractors
    # without class logits.
    logits: Optional[torch.Tensor]


class InceptionExtractor(nn.Module):
    """Maps ``uint8`` RGB images ``[N, 3, H, W]`` (any H, W) to
    :class:`InceptionOutputs`, in eval mode and without gradients.
    Subclasses name their weight file kind (or feature space) in ``style``;
    feature files record it, so features of different extractors are never
    compared. Other extractors subclass this and register in
    ``mmbiggan.registry.FEATURE_EXTRACTORS``; ``_features`` returns
    ``(features [N, D], None)`` when they have no class logits."""

    style: str
    # Whether ``logits`` are the 1008 Inception logits (IS needs them).
    has_logits: bool = True

    @property
    def device(self) -> torch.device:
        """Where the extractor runs: the device of its first parameter or
        buffer (a module without weights keeps an empty buffer for this)."""
        for tensor in itertools.chain(self.parameters(), self.buffers()):
            return tensor.device
        return torch.device('cpu')

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> InceptionOutputs:
        if images.dtype != torch.uint8 or images.dim() != 4 or \
                images.shape[1] != 3:
            raise ValueError(
                'The Inception network takes uint8 RGB images [N, 3, H, W] '
                '(convert [-1, 1] images with mmbiggan.utils.to_uint8), got '
                f'{images.dtype} of shape {tuple(images.shape)}.')
        pool, logits = self._features(images)
        return InceptionOutputs(pool.float(),
                                None if logits is None else logits.float())

    def _features(self, images: torch.Tensor):
        raise NotImplementedError


class StyleGANInception(InceptionExtractor):
    """StyleGAN2-ADA's TorchScript ``inception-2015-12-05.pt``.

    Args:
        inception_path (str): Local path of the TorchScript file.
    """

    style = 'StyleGAN'

    def __init__(self, inception_path: str):
        super().__init__()
        self.net = load_stylegan_inception(inception_path)
        self.eval()

    def _features(self, images):
        pool = self.net(images, return_features=True)
        # What the model computes for no_output_bias=True, before softmax.
        return pool, F.linear(pool, self.net.output.weight)


class PyTorchFIDInception(InceptionExtractor):
    """pytorch-fid's state dict in :class:`FIDInceptionV3`.

    Args:
        inception_path (str): Local path of
            ``pt_inception-2015-12-05-6726825d.pth``.
        preprocess (str): ``'tensorflow'`` (TF 1.x bilinear resize and
            ``(x - 128) / 128``, as torch-fidelity and the TensorFlow
            originals) or ``'pytorch-fid'`` (``F.interpolate`` bilinear and
            ``2 * x / 255 - 1``, as pytorch-fid).
    """

    style = 'PyTorchFID'
    PREPROCESS = ('tensorflow', 'pytorch-fid')

    def __init__(self, inception_path: str, preprocess: str = 'tensorflow'):
        super().__init__()
        if preprocess not in self.PREPROCESS:
            raise ValueError(f'preprocess must be one of {self.PREPROCESS}, '
                             f'got {preprocess!r}.')
        self.preprocess = preprocess
        self.net = load_pytorch_fid_inception(inception_path)
        self.eval()

    def _features(self, images):
        return self.net(self.network_input(images))

    def network_input(self, images: torch.Tensor) -> torch.Tensor:
        """``uint8 [N, 3, H, W]`` to the float ``[N, 3, 299, 299]`` in
        ``[-1, 1]`` that the network takes."""
        x = images.float()
        if self.preprocess == 'tensorflow':
            if x.shape[2:] != (INCEPTION_SIZE, INCEPTION_SIZE):
                x = resize_bilinear_tf1(x, INCEPTION_SIZE)
            return (x - 128) / 128
        x = F.interpolate(
            x / 255, size=(INCEPTION_SIZE, INCEPTION_SIZE), mode='bilinear',
            align_corners=False)
        return 2 * x - 1


INCEPTION_TYPES = {
    'StyleGAN': StyleGANInception,
    'PyTorchFID': PyTorchFIDInception,
}

_loaded: Dict[tuple, InceptionExtractor] = {}


def build_inception(inception_args: dict) -> InceptionExtractor:
    """The extractor that ``inception_args`` describe (``type`` one of
    ``'StyleGAN'``, ``'PyTorchFID'``, ``inception_path`` a local file, and
    the type's other arguments; or ``type`` an extractor registered in
    ``FEATURE_EXTRACTORS`` and its arguments). Metrics with equal arguments
    share one instance, so a file is read once and FID and IS reuse its
    outputs."""
    registered = _registered_extractor(inception_args)
    if registered is not None:
        return registered
    if not isinstance(inception_args, dict) or \
            'inception_path' not in inception_args:
        raise InceptionLoadError(
            'inception_args must be a dict with type and inception_path, '
            f'got {inception_args!r}; e.g. dict(type="StyleGAN", '
            f'inception_path="inception-2015-12-05.pt") ({STYLEGAN_URL}).')
    args = dict(inception_args)
    kind = args.pop('type', 'StyleGAN')
    if kind not in INCEPTION_TYPES:
        raise InceptionLoadError(
            f'Unknown Inception type {kind!r}; use one of '
            f'{sorted(INCEPTION_TYPES)}.')
    path = args['inception_path']
    _check_file(path)
    stat = os.stat(path)
    key = (kind, osp.realpath(path), stat.st_mtime_ns, stat.st_size,
           tuple(sorted((k, repr(v)) for k, v in args.items())))
    if key not in _loaded:
        _loaded[key] = INCEPTION_TYPES[kind](**args)
    return _loaded[key]


def _registered_extractor(inception_args) -> Optional[InceptionExtractor]:
    """The extractor of a ``type`` registered in ``FEATURE_EXTRACTORS``
    (built once per argument set), None for the Inception types."""
    from mmbiggan.registry import FEATURE_EXTRACTORS
    if not isinstance(inception_args, dict):
        return None
    kind = inception_args.get('type', 'StyleGAN')
    if kind in INCEPTION_TYPES or not isinstance(kind, str):
        return None
    # Importing the package registers its extractors.
    from . import extractors  # noqa: F401
    extractor_class = FEATURE_EXTRACTORS.get(kind)
    if extractor_class is None:
        raise InceptionLoadError(
            f'Unknown Inception type {kind!r}; use one of '
            f'{sorted(INCEPTION_TYPES)} or a feature extractor registered in '
            f'FEATURE_EXTRACTORS ({sorted(FEATURE_EXTRACTORS.module_dict)}).')
    args = dict(inception_args)
    args.pop('type')
    key = (kind, tuple(sorted((k, repr(v)) for k, v in args.items())))
    if key not in _loaded:
        extractor = extractor_class(**args)
        if not isinstance(extractor, InceptionExtractor):
            raise TypeError(f'{kind} must subclass InceptionExtractor.')
        _loaded[key] = extractor.eval()
    return _loaded[key]


def _check_file(path):
    if not isinstance(path, str) or not osp.isfile(path):
        raise InceptionLoadError(
            f'Inception weights not found at {path!r}. They are never '
            f'downloaded: fetch {STYLEGAN_URL} (type="StyleGAN") or '
            f'{PYTORCH_FID_URL} (type="PyTorchFID") and give the local '
            'file (inception_args.inception_path in a config).')


def inception_type_of_file(path: str) -> str:
    """``'StyleGAN'`` for a TorchScript file, else ``'PyTorchFID'``: the
    type that can read ``path``, for command lines that take a bare path."""
    _check_file(path)
    return 'StyleGAN' if _file_kind(path) == 'torchscript' else 'PyTorchFID'


def _file_kind(path: str) -> str:
    """'torchscript', 'state dict' or 'unknown', from the archive layout
    (TorchScript zips hold a ``code/`` folder, torch.save zips do not)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        if any('/code/' in name for name in names):
            return 'torchscript'
        if any(name.endswith('data.pkl') for name in names):
            return 'state dict'
        return 'unknown'
    with open(path, 'rb') as f:
        magic = f.read(2)
    # Legacy (pre-1.6) torch.save files start with a pickle protocol 2 mark.
    return 'state dict' if magic == b'\x80\x02' else 'unknown'


def load_stylegan_inception(path: str) -> torch.jit.ScriptModule:
    """Load StyleGAN2-ADA's TorchScript Inception with ``torch.jit.load``
    (TorchScript is code: only use a trusted file) and check that it has
    its call convention: ``forward(img, return_features=...)`` and a
    ``output`` layer of 2048 -> 1008."""
    _check_file(path)
    kind = _file_kind(path)
    if kind != 'torchscript':
        hint = ('it is a PyTorch state dict: use it with type="PyTorchFID"'
                if kind == 'state dict' else 'it is not a PyTorch file')
        raise InceptionLoadError(
            f'{path} is not a TorchScript model ({hint}). type="StyleGAN" '
            f'takes inception-2015-12-05.pt from {STYLEGAN_URL}.')
    try:
        net = torch.jit.load(path, map_location='cpu')
    except (RuntimeError, ValueError) as err:
        raise InceptionLoadError(
            f'{path} could not be read as TorchScript ({err}).') from err
    schema = str(getattr(net.forward, 'schema', ''))
    weight = getattr(getattr(net, 'output', None), 'weight', None)
    if 'return_features' not in schema or weight is None or \
            tuple(weight.shape) != (NUM_LOGITS, NUM_FEATURES):
        raise InceptionLoadError(
            f'{path} is TorchScript but not StyleGAN2-ADA\'s Inception: it '
            'needs forward(img, return_features=...) and an output layer '
            f'of {NUM_FEATURES} -> {NUM_LOGITS}. Get inception-2015-12-05.pt '
            f'from {STYLEGAN_URL}.')
    return net.eval()


def load_pytorch_fid_inception(path: str) -> FIDInceptionV3:
    """Load pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` with
    ``weights_only=True`` into :class:`FIDInceptionV3`, after checking
    every key and shape."""
    _check_file(path)
    kind = _file_kind(path)
    if kind != 'state dict':
        what = ('is a TorchScript model: use it with type="StyleGAN"'
                if kind == 'torchscript' else
                'is not a PyTorch file (an interrupted download?)')
        raise InceptionLoadError(
            f'{path} {what}. type="PyTorchFID" takes the state dict '
            f'pt_inception-2015-12-05-6726825d.pth from {PYTORCH_FID_URL}.')
    net = FIDInceptionV3()
    try:
        state_dict = dict(extract_state_dict(load_checkpoint_file(path)))
        # Files saved before PyTorch 1.4 have no BN batch counters; they
        # play no part in inference.
        for key, value in net.state_dict().items():
            if key.endswith('num_batches_tracked'):
                state_dict.setdefault(key, value)
        check_state_dict(net, state_dict, source=path)
    except CheckpointError as err:
        raise InceptionLoadError(
            f'{err} type="PyTorchFID" takes pytorch-fid\'s '
            f'pt_inception-2015-12-05-6726825d.pth ({PYTORCH_FID_URL}).') \
            from err
    net.load_state_dict(state_dict)
    for param in net.parameters():
        param.requires_grad_(False)
    return net.eval()


def images_to_inception_input(images: torch.Tensor) -> torch.Tensor:
    """Images as the extractors take them: ``uint8 [N, 3, H, W]``.
    Accepts ``uint8`` or float images in ``[-1, 1]`` (rounded with
    :func:`mmbiggan.utils.to_uint8`), with 1 or 3 channels (grayscale is
    repeated, as StyleGAN2-ADA's metrics do)."""
    from mmbiggan.utils.image import to_uint8
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ValueError('Expected images [N, 1 or 3, H, W], got shape '
                         f'{tuple(images.shape)}.')
    if images.is_floating_point():
        images = to_uint8(images)
    elif images.dtype != torch.uint8:
        raise ValueError('Images must be uint8 or float in [-1, 1], got '
                         f'{images.dtype}.')
    if images.shape[1] == 1:
        images = images.repeat(1, 3, 1, 1)
    return images
