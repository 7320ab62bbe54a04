"""What the sampling scripts (``demo/conditional_demo.py``,
``apps/conditional_interpolate.py``) share: ``--sample-cfg`` and
``--device`` checks, loading the generator to sample, class names from a
config; :func:`run` is :func:`mmbiggan.utils.errors.run`, the wrapper of
every script."""
import argparse
import difflib
import os
import os.path as osp
from typing import List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config, DictAction

from mmbiggan.utils.checkpoint import (add_trust_pickle_argument,
                                       trusted_pickle)
from mmbiggan.models.layers.truncation import (check_truncation,
                                               num_truncation_stats)
from mmbiggan.models.sampling import get_sampling_generator
from mmbiggan.utils.errors import UserError, run  # noqa: F401 (the scripts' wrapper)
from .inference import check_device, default_device, init_model

# Keys of --sample-cfg and what they do; anything else is refused.
SAMPLE_CFG_KEYS = {
    'truncation': 'truncation of the noise, > 0 (t * TN(-2, 2); also '
    'selects per-truncation batch-norm statistics of converted '
    'BigGAN-Deep); None for plain N(0, 1) noise',
}


def _bounded(kind: type, low, inclusive: bool):
    """An argparse ``type`` accepting numbers of ``kind`` above ``low``
    (or equal to it when ``inclusive``)."""

    def parse(text: str):
        value = kind(text)
        if value < low or (value == low and not inclusive):
            sign = '>=' if inclusive else '>'
            raise argparse.ArgumentTypeError(
                f'must be {sign} {low}, got {value}')
        return value

    parse.__name__ = kind.__name__  # argparse: "invalid int value: 'x'"
    return parse


positive_int = _bounded(int, 1, inclusive=True)
non_negative_int = _bounded(int, 0, inclusive=True)
positive_float = _bounded(float, 0.0, inclusive=False)


def add_truncation_argument(parser: argparse.ArgumentParser):
    """``--truncation T``: the one truncation flag of every tool."""
    parser.add_argument(
        '--truncation',
        type=float,
        default=None,
        help='truncation of the noise, > 0: t * TN(-2, 2) (smaller: less '
        'variety); also selects per-truncation batch-norm statistics of '
        'converted BigGAN-Deep (then <= 1); leave it out for N(0, 1) noise')


def add_generator_arguments(parser: argparse.ArgumentParser):
    """The options every sampling script takes: ``--sample-model``,
    ``--sample-cfg``, ``--device`` and ``--trust-pickle``."""
    parser.add_argument(
        '--sample-model',
        choices=['ema', 'orig'],
        default='ema',
        help='the EMA generator or the trained one')
    add_truncation_argument(parser)
    parser.add_argument(
        '--sample-cfg',
        nargs='+',
        action=DictAction,
        help='sampling options as key=value (truncation=T is an alias of '
        '--truncation T); known keys: ' +
        '; '.join(f'{k}: {v}' for k, v in SAMPLE_CFG_KEYS.items()))
    parser.add_argument(
        '--device',
        help='cpu, cuda or cuda:N (default: cuda when available, else cpu)')
    add_trust_pickle_argument(parser)


class UsageError(UserError, ValueError):
    """A command-line value that cannot work; the message says the fix."""


def parse_sample_cfg(sample_cfg: Optional[dict]) -> dict:
    """Check ``--sample-cfg key=value`` pairs: known keys only, and a
    truncation that is a number > 0 (or None)."""
    sample_cfg = dict(sample_cfg or {})
    unknown = [key for key in sample_cfg if key not in SAMPLE_CFG_KEYS]
    if unknown:
        close = difflib.get_close_matches(unknown[0], SAMPLE_CFG_KEYS, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else '.'
        raise UsageError(
            f'Unknown --sample-cfg key {unknown[0]!r}: the known keys are '
            f'{sorted(SAMPLE_CFG_KEYS)}{hint}')
    if sample_cfg.get('truncation') is not None:
        sample_cfg['truncation'] = check_truncation_option(
            sample_cfg['truncation'], '--sample-cfg truncation')
    return sample_cfg


def check_truncation_option(truncation, flag: str = '--truncation',
                            generator: Optional[nn.Module] = None
                            ) -> Optional[float]:
    """``truncation`` given on the command line as ``flag``, checked by the
    one truncation check (:func:`check_truncation`), against the statistic
    rows of ``generator`` when it is given; None stays None.

    Raises:
        UsageError: The value and the fix, in one line.
    """
    if truncation is None:
        return None
    num_stats = 1 if generator is None else num_truncation_stats(generator)
    try:
        return check_truncation(truncation, num_stats, name=flag)
    except ValueError as err:
        raise UsageError(str(err)) from None


def truncation_from_args(args: argparse.Namespace,
                         generator: nn.Module) -> Optional[float]:
    """The truncation of a sampling script: ``--truncation T`` or its alias
    ``--sample-cfg truncation=T`` (both: they must agree), checked against
    ``generator``'s per-truncation statistics."""
    flag_value = getattr(args, 'truncation', None)
    cfg_value = parse_sample_cfg(getattr(args, 'sample_cfg',
                                         None)).get('truncation')
    if flag_value is not None and cfg_value is not None and \
            float(flag_value) != cfg_value:
        raise UsageError(
            f'--truncation {flag_value} and --sample-cfg truncation='
            f'{cfg_value} disagree; give one of them.')
    if flag_value is not None:
        return check_truncation_option(flag_value, '--truncation', generator)
    return check_truncation_option(cfg_value, '--sample-cfg truncation',
                                   generator)


def check_output_folder(folder: str, option: str):
    """Refuse, before any work is done, an output folder that cannot be
    created or written to."""
    existing = osp.abspath(folder or '.')
    while not osp.exists(existing):
        existing = osp.dirname(existing)
    if not osp.isdir(existing):
        raise UsageError(f'{option}: {existing} is a file, so {folder} '
                         'cannot be a folder; choose another path.')
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f'{option}: {existing} is not writable; choose '
                         'another path.')


def resolve_device(device: Optional[str]) -> torch.device:
    """``device``, or cuda when available else cpu; refused with the fix when
    this machine does not have it."""
    try:
        return check_device(device if device else default_device())
    except RuntimeError as err:
        raise UsageError(f'--device {device}: {err}') from None


class LoadedGenerator(NamedTuple):
    model: nn.Module
    generator: nn.Module
    sample_model: str  # 'ema' or 'orig': the generator actually used


def load_generator(config: str,
                   checkpoint: str,
                   device: torch.device,
                   sample_model: str,
                   trust_pickle: bool = False) -> LoadedGenerator:
    """The model of ``config`` with ``checkpoint`` loaded (checked, with
    ``weights_only=True`` unless ``trust_pickle``) and the generator to
    sample from (``'ema'`` or ``'orig'``), saying so when the model has no
    EMA copy."""
    with trusted_pickle(trust_pickle):
        model = init_model(config, checkpoint, device=device)
    generator = get_sampling_generator(model, sample_model)
    has_ema = getattr(model, 'generator_ema', None) is not None
    if sample_model == 'ema' and not has_ema:
        print('The model has no EMA generator; sampling from the trained '
              'one.')
        sample_model = 'orig'
    return LoadedGenerator(model, generator, sample_model)


def _dataset_cfg(cfg: Config) -> Optional[dict]:
    """The training dataset of a config, inside dataset wrappers."""
    dataloader = cfg.get('train_dataloader') or {}
    dataset = dataloader.get('dataset') if isinstance(dataloader,
                                                      dict) else None
    while isinstance(dataset, dict) and isinstance(
            dataset.get('dataset'), dict):
        dataset = dataset['dataset']
    return dataset if isinstance(dataset, dict) else None


def class_names_for_config(cfg: Config,
                           num_classes: int) -> Optional[Tuple[str, ...]]:
    """Names of the ``num_classes`` labels, where the config tells them:
    the training dataset's ``classes`` list or file, or its type (ImageNet,
    CIFAR-10, digits); for a config without a dataset (converted models),
    the number of classes (1000: ImageNet, 10: CIFAR-10). None when unknown.
    """
    from mmbiggan.datasets import get_class_names
    from mmbiggan.datasets.image_folder import read_class_names
    if num_classes < 1:
        return None
    dataset = _dataset_cfg(cfg)
    names = None
    if dataset is None:
        names = get_class_names(num_classes)
    elif dataset.get('classes') is not None:
        try:
            names = read_class_names(dataset['classes'])
        except (OSError, ValueError):
            names = None
    elif isinstance(dataset.get('type'), str):
        try:
            names = get_class_names(dataset['type'])
        except ValueError:
            names = None
    if names is None or len(names) != num_classes:
        return None
    return tuple(names)


def short_class_name(name: str) -> str:
    """The common name of an ImageNet synset (``'tench, Tinca tinca'`` ->
    ``'tench'``); other names as they are."""
    return name.split(',')[0].strip()


def format_classes(labels: Sequence[int],
                   names: Optional[Sequence[str]]) -> List[str]:
    """``'3 (cat)'`` per label, with the common name of ImageNet synsets;
    the bare number where there is no name or the name is the number
    (digits)."""
    formatted = []
    for label in labels:
        name = short_class_name(names[label]) if names else str(label)
        formatted.append(
            str(label) if name == str(label) else f'{label} ({name})')
    return formatted
