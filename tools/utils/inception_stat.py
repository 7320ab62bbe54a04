"""Compute the Inception statistics (mean and covariance of the 2048-d pool
features) of a dataset, for FID's ``inception_pkl``.

    python tools/utils/inception_stat.py --data-cfg CONFIG [--subset train]
        --inception-pth FILE [--pklname NAME.pkl] [--pkl-dir DIR]
        [--save-features]
    python tools/utils/inception_stat.py --imgsdir DIR [--size H W] ...

The pickle holds ``mean``, ``cov`` (float64), ``size`` and ``name`` as
MMGeneration's files do (MMGeneration reads it, and mmbiggan reads
MMGeneration's ``cifar10.pkl``/``imagenet.pkl``), plus ``inception``, the
network it was computed with. Images go to the network as uint8 RGB at their
own size; the network resizes them as its reference implementation does.

``--save-features`` also keeps every image's features (and, for a
``--data-cfg`` dataset with labels, its class) in ``<name>_features.npz``
beside the pickle: the ``real_features`` of PrecisionRecall and
IntraClassFID (``tools/test.py --real-features``).
"""
import argparse
import os
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:  # running from a clone without installing
    sys.path.insert(0, REPO_ROOT)

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.webp', '.tif',
                    '.tiff')
# MMGeneration's spellings of the two networks.
STYLE_ALIASES = {'stylegan': 'StyleGAN', 'pytorch': 'PyTorchFID'}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Compute Inception statistics of a dataset for FID.')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--imgsdir', help='folder of images (recursive)')
    source.add_argument('--data-cfg', help='config with a dataloader')
    parser.add_argument(
        '--subset',
        default='train',
        help='dataloader of --data-cfg: <subset>_dataloader (default train)')
    parser.add_argument(
        '--inception-pth',
        required=True,
        help='local Inception weights: inception-2015-12-05.pt '
        '(StyleGAN2-ADA) or pt_inception-2015-12-05-6726825d.pth '
        '(pytorch-fid)')
    parser.add_argument(
        '--inception-style',
        type=lambda s: STYLE_ALIASES.get(s, s),
        choices=['StyleGAN', 'PyTorchFID'],
        help='network type (default: from the file: TorchScript is '
        'StyleGAN, a state dict PyTorchFID)')
    parser.add_argument(
        '--pklname', help='file name (default: <data name>.pkl)')
    parser.add_argument(
        '--pkl-dir', default='work_dirs/inception_pkl', help='output folder')
    parser.add_argument(
        '--save-features',
        action='store_true',
        help='also write the features of every image (and its class, when '
        'the dataset has labels) to <pkl name>_features.npz, for '
        'PrecisionRecall and IntraClassFID')
    parser.add_argument(
        '--num-samples',
        type=int,
        default=-1,
        help='use this many images, drawn at random with --seed '
        '(default -1: all)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='resize folder images (Pillow bicubic), needed when their '
        'sizes differ')
    parser.add_argument('--batch-size', type=int, default=50)
    parser.add_argument('--num-workers', type=int, default=0)
    parser.add_argument(
        '--device', help='cpu or cuda (default: cuda when available)')
    return parser.parse_args(argv)


class ImageFolder:
    """RGB images under a folder as ``uint8 [3, H, W]`` tensors, all of one
    size (or resized to ``size``)."""

    def __init__(self, root: str, size=None):
        from PIL import Image
        if not osp.isdir(root):
            raise FileNotFoundError(f'--imgsdir {root} is not a folder.')
        self.paths = sorted(
            osp.join(folder, name) for folder, _, names in os.walk(root)
            for name in names if name.lower().endswith(IMAGE_EXTENSIONS))
        if not self.paths:
            raise ValueError(f'No images ({", ".join(IMAGE_EXTENSIONS)}) '
                             f'under {root}.')
        self.size = tuple(size) if size else None
        if self.size is None:
            first = None
            for path in self.paths:
                try:
                    with Image.open(path) as image:
                        found = image.size
                except OSError as err:
                    raise ValueError(f'Cannot read image {path}: {err}') \
                        from err
                first = first or (path, found)
                if found != first[1]:
                    raise ValueError(
                        f'Images differ in size ({first[0]}: {first[1]}, '
                        f'{path}: {found}); pass --size H W to resize them.')

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        import numpy as np
        import torch
        from PIL import Image
        path = self.paths[index]
        try:
            with Image.open(path) as image:
                image = image.convert('RGB')
                if self.size is not None:
                    image = image.resize(self.size[::-1], Image.BICUBIC)
                array = np.asarray(image, dtype=np.uint8)
        except OSError as err:
            raise ValueError(f'Cannot read image {path}: {err}') from err
        return torch.from_numpy(array.transpose(2, 0, 1).copy())


def build_dataset(args):
    """The dataset named on the command line and a name for it."""
    if args.imgsdir:
        name = osp.basename(osp.normpath(args.imgsdir))
        return ImageFolder(args.imgsdir, args.size), name
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmbiggan.registry import DATASETS
    if not osp.isfile(args.data_cfg):
        raise FileNotFoundError(f'Config file not found: {args.data_cfg}')
    cfg = Config.fromfile(args.data_cfg)
    init_default_scope(cfg.get('default_scope', 'mmbiggan'))
    key = f'{args.subset}_dataloader'
    if not cfg.get(key):
        raise ValueError(f'{args.data_cfg} has no {key}; choose --subset '
                         'from the dataloaders it defines.')
    name = osp.splitext(osp.basename(args.data_cfg))[0]
    return DATASETS.build(cfg[key]['dataset']), name


def main(argv=None):
    args = parse_args(argv)
    import numpy as np
    import torch
    from mmengine.dataset import pseudo_collate
    from torch.utils.data import DataLoader, Subset

    from mmbiggan.evaluation import (build_inception, dataset_features,
                                     feature_statistics,
                                     inception_type_of_file,
                                     save_inception_stats,
                                     save_real_features)

    if args.batch_size < 1:
        raise ValueError(f'--batch-size must be >= 1, got {args.batch_size}.')
    style = args.inception_style or inception_type_of_file(args.inception_pth)
    inception = build_inception(
        dict(type=style, inception_path=args.inception_pth))
    dataset, name = build_dataset(args)
    if args.num_samples != -1:
        if not 2 <= args.num_samples <= len(dataset):
            raise ValueError(
                f'--num-samples must be -1 or in 2..{len(dataset)} (the '
                f'dataset size), got {args.num_samples}.')
        order = torch.randperm(
            len(dataset), generator=torch.Generator().manual_seed(args.seed))
        dataset = Subset(dataset, order[:args.num_samples].tolist())
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    inception.to(device)
    loader = DataLoader(
        dataset,
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        collate_fn=pseudo_collate)
    items = dataset_features(loader, inception, with_labels=True)
    features = np.stack([feature for feature, _ in items])
    mean, cov = feature_statistics(features)
    pkl_name = args.pklname or f'{name}.pkl'
    path = osp.join(args.pkl_dir, pkl_name)
    save_inception_stats(path, mean, cov, len(features), style, pkl_name)
    print(f'Statistics of {len(features)} images ({style} Inception) '
          f'written to {path}')
    if args.save_features:
        labels = [label for _, label in items]
        labels = None if None in labels else np.asarray(labels)
        features_path = osp.join(
            args.pkl_dir, f'{osp.splitext(pkl_name)[0]}_features.npz')
        save_real_features(features_path, features, labels, style, name)
        print(f'Features of {len(features)} images '
              f'({"with" if labels is not None else "without"} labels) '
              f'written to {features_path}')


def run(argv=None):
    """Entry point under the scripts' one policy
    (:func:`mmbiggan.utils.errors.run`): user errors end in one line and
    exit status 2."""
    from mmbiggan.utils.errors import run as run_script
    sys.exit(run_script(main, argv))


if __name__ == '__main__':
    run()
