"""Labelled image files under one folder: listed in an annotation file, or
sorted into class subfolders."""
import os
import os.path as osp
from typing import Callable, List, Optional, Sequence, Tuple, Union

from mmengine.dataset import BaseDataset

from mmbiggan.registry import DATASETS
from .class_names import IMAGENET_CLASSES, IMAGENET_WNIDS
from .pipeline import build_pipeline

# The extensions torchvision's ImageFolder accepts, matched case-blind.
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif',
                  '.tiff', '.webp')


def _read_lines(path: str) -> List[str]:
    """Lines of a UTF-8 text file (a leading BOM dropped), without line
    ends."""
    try:
        with open(path, encoding='utf-8-sig') as f:
            return f.read().splitlines()
    except UnicodeDecodeError as exc:
        raise ValueError(f'{path} is not UTF-8 text ({exc}); save it as '
                         'UTF-8.') from None


def read_class_names(classes: Union[str, Sequence[str]]) -> Tuple[str, ...]:
    """Class names given in a config: a list, or a text file with one name
    per line (blank lines ignored)."""
    if isinstance(classes, str):
        if not osp.isfile(classes):
            raise FileNotFoundError(
                f'Class list file {classes} does not exist; give a text file '
                'with one class name per line, line i naming label i.')
        names = tuple(
            line.strip() for line in _read_lines(classes) if line.strip())
    else:
        names = tuple(str(c) for c in classes)
    if not names:
        raise ValueError(f'The class list {classes!r} is empty.')
    if len(set(names)) != len(names):
        duplicated = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f'The class list {classes!r} repeats {duplicated}; '
                         'each name must give one label.')
    return names


def scan_class_folders(
        root: str, folder_classes: Optional[Sequence[str]]
) -> Tuple[List[Tuple[str, int]], Tuple[str, ...]]:
    """Find the images of a class-subfolder tree as torchvision's
    ImageFolder does.

    Args:
        root (str): Folder whose subfolders are the classes.
        folder_classes (Sequence[str], optional): Folder name of each label;
            the sorted subfolder names when None.

    Returns:
        tuple: ``[(path, label), ...]`` in ImageFolder's order (classes by
        label, files sorted, subfolders searched recursively), and the
        folder names in label order.
    """
    found = sorted(entry.name for entry in os.scandir(root)
                   if entry.is_dir())
    if folder_classes is None:
        folder_classes = tuple(found)
        if not folder_classes:
            raise FileNotFoundError(
                f'{root} has no class subfolders; put each class\'s images '
                'in a subfolder, or give an ann_file listing '
                '"relative/path label" lines.')
    label_of = {name: label for label, name in enumerate(folder_classes)}
    unknown = [name for name in found if name not in label_of]
    if unknown:
        raise ValueError(
            f'Subfolders {unknown[:5]} of {root} are not among the '
            f'{len(folder_classes)} class folders the dataset knows (such as '
            f'{folder_classes[0]!r}); add them to the class list or move '
            'them out of the data folder.')
    samples = []
    for name in sorted(found, key=label_of.__getitem__):
        num_before = len(samples)
        for dirpath, _, filenames in sorted(
                os.walk(osp.join(root, name), followlinks=True)):
            samples.extend((osp.join(dirpath, filename), label_of[name])
                           for filename in sorted(filenames)
                           if filename.lower().endswith(IMG_EXTENSIONS))
        if len(samples) == num_before:
            raise FileNotFoundError(
                f'Class folder {osp.join(root, name)} holds no images '
                f'(extensions {", ".join(IMG_EXTENSIONS)}); add images or '
                'remove the folder.')
    return samples, tuple(folder_classes)


@DATASETS.register_module()
class ImageFolderDataset(BaseDataset):
    """Labelled images under one folder.

    With ``ann_file``, each non-blank line of the annotation file is
    ``relative/path label`` (MMGeneration/mmpretrain style; the path is
    relative to the image folder and may contain spaces; the label is an
    int). Without it, each subfolder of the image folder is a class and its
    images (searched recursively) are the samples, ordered as torchvision's
    ``ImageFolder`` orders them: classes sorted by name unless ``classes``
    fixes the order.

    Each sample is ``dict(img_path=str, gt_label=int)`` before the pipeline,
    which starts with ``LoadImageFromFile``. Files are opened only by the
    pipeline, so a missing or corrupt image is reported when it is read.

    Args:
        data_root (str): Root that ``ann_file`` and ``data_prefix`` are
            relative to.
        data_prefix (str): The image folder, relative to ``data_root``.
        ann_file (str): The annotation file, relative to ``data_root``;
            empty for a class-subfolder tree.
        classes (str | Sequence[str], optional): Class names, entry i
            naming label i, or a text file (relative to ``data_root``) with
            one per line. In a subfolder tree they are the folder names;
            there, a folder not in the list is an error, while listed classes
            may lack a folder.
        num_classes (int, optional): Labels must lie in ``[0, num_classes)``;
            defaults to the number of class names when those are known.
        pipeline (Sequence[dict | Callable]): Transforms applied to each
            sample.
        indices (int | Sequence[int], optional): Keep only these samples
            (the first ``indices`` when an int).
        serialize_data (bool): Store the samples as one byte buffer that
            data loader workers share.
        lazy_init (bool): Defer reading the annotations until first use.
    """

    # Folder name of each label when ``classes`` is not given; None: the
    # sorted subfolder names.
    FOLDER_CLASSES: Optional[Tuple[str, ...]] = None
    _LABEL_FIX = ('fix the annotation file, or num_classes in the dataset '
                  'config')

    def __init__(self,
                 data_root: str = '',
                 data_prefix: str = '',
                 ann_file: str = '',
                 classes: Optional[Union[str, Sequence[str]]] = None,
                 num_classes: Optional[int] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 serialize_data: bool = True,
                 lazy_init: bool = False):
        if not isinstance(data_prefix, str):
            raise TypeError('data_prefix must be the image folder as a str, '
                            f'got {data_prefix!r}.')
        if num_classes is not None and (isinstance(num_classes, bool)
                                        or not isinstance(num_classes, int)
                                        or num_classes < 1):
            raise ValueError('num_classes must be a positive int, got '
                             f'{num_classes!r}.')
        if isinstance(classes, str) and data_root and not osp.isabs(classes):
            classes = osp.join(data_root, classes)
        self.num_classes = num_classes
        if classes is None:
            self.folder_classes = self.FOLDER_CLASSES
            metainfo = None
        else:
            self.folder_classes = read_class_names(classes)
            metainfo = dict(classes=self.folder_classes)
        super().__init__(
            ann_file=ann_file,
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=dict(img_path=data_prefix),
            pipeline=build_pipeline(pipeline),
            indices=indices,
            serialize_data=serialize_data,
            lazy_init=lazy_init)

    @property
    def image_dir(self) -> str:
        return self.data_prefix['img_path']

    def _label_limit(self) -> Optional[int]:
        if self.num_classes is not None:
            return self.num_classes
        classes = self.metainfo.get('classes')
        return len(classes) if classes else None

    def load_data_list(self) -> List[dict]:
        if not osp.isdir(self.image_dir):
            raise FileNotFoundError(
                f'Image folder {self.image_dir} does not exist; set data_root'
                ' (and data_prefix) to the folder holding the images'
                + (f' listed in {self.ann_file}.' if self.ann_file else
                   ', one subfolder per class.'))
        if self.ann_file:
            samples = self._read_ann_file()
        else:
            samples, folder_classes = scan_class_folders(
                self.image_dir, self.folder_classes)
            self._metainfo.setdefault('classes', folder_classes)
            self._check_labels_fit(folder_classes)
        if not samples:
            raise ValueError(
                f'No images found for the dataset in {self.image_dir}'
                + (f' (annotation file {self.ann_file} lists none).'
                   if self.ann_file else '.'))
        return [
            dict(img_path=path, gt_label=label) for path, label in samples
        ]

    def _check_labels_fit(self, folder_classes: Sequence[str]) -> None:
        limit = self._label_limit()
        if limit is not None and len(folder_classes) > limit:
            raise ValueError(
                f'{self.image_dir} has {len(folder_classes)} classes but '
                f'num_classes is {limit}; set num_classes to '
                f'{len(folder_classes)} or remove class folders.')

    def _read_ann_file(self) -> List[Tuple[str, int]]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'Annotation file {self.ann_file} does not exist; give a text '
                'file with one "relative/path label" line per image, or '
                "ann_file='' to read class subfolders.")
        limit = self._label_limit()
        samples = []
        for line_no, line in enumerate(_read_lines(self.ann_file), start=1):
            if not line.strip():
                continue
            fields = line.strip().rsplit(maxsplit=1)
            try:
                path, label = fields[0], int(fields[1])
            except (IndexError, ValueError):
                raise ValueError(
                    f'{self.ann_file}, line {line_no}: expected '
                    '"relative/path label" with an integer label, got '
                    f'{line.strip()!r}.') from None
            if label < 0 or (limit is not None and label >= limit):
                allowed = (f'[0, {limit})'
                           if limit is not None else 'non-negative')
                raise ValueError(
                    f'{self.ann_file}, line {line_no}: label {label} of '
                    f'{path} is outside {allowed}; {self._LABEL_FIX}.')
            samples.append((osp.join(self.image_dir, path), label))
        return samples


@DATASETS.register_module()
class ImageNetDataset(ImageFolderDataset):
    """ILSVRC-2012 (ImageNet-1k) with its 1000 standard labels.

    Reads ``ann_file`` lines (``relative/path label``, labels 0..999), or a
    tree of class subfolders named by WordNet id (``n01440764``, ...) where
    the label is the id's position among the 1000 standard ids, so a subset
    of the classes keeps the labels pretrained BigGANs use. Class names are
    the WordNet synonyms (``'tench, Tinca tinca'``, ...).

    Args:
        data_root (str): Root that ``ann_file`` and ``data_prefix`` are
            relative to, e.g. ``'data/imagenet'``.
        data_prefix (str): The image folder, e.g. ``'train'``.
        ann_file (str): The annotation file, e.g. ``'meta/train.txt'``;
            empty for a tree of WordNet-id folders.
        pipeline, indices, serialize_data, lazy_init: As in
            :class:`ImageFolderDataset`.
    """

    METAINFO = dict(classes=IMAGENET_CLASSES)
    # Folders are named by WordNet id; metainfo keeps the readable names.
    FOLDER_CLASSES = IMAGENET_WNIDS
    _LABEL_FIX = ('fix the annotation file: ImageNet-1k labels are 0..999 '
                  '(use ImageFolderDataset for other label sets)')

    def __init__(self,
                 data_root: str = '',
                 data_prefix: str = '',
                 ann_file: str = '',
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 serialize_data: bool = True,
                 lazy_init: bool = False):
        super().__init__(
            data_root=data_root,
            data_prefix=data_prefix,
            ann_file=ann_file,
            num_classes=len(IMAGENET_CLASSES),
            pipeline=pipeline,
            indices=indices,
            serialize_data=serialize_data,
            lazy_init=lazy_init)
