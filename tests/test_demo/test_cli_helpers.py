"""mmbiggan.apis.cli: --sample-cfg checks and class names from configs."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmbiggan.apis.cli import (UsageError, class_names_for_config,
                               format_classes, parse_sample_cfg)
from .conftest import REPO_ROOT


@pytest.mark.parametrize('given,expected', [
    (None, {}),
    ({'truncation': 0.4}, {'truncation': 0.4}),
    ({'truncation': 1}, {'truncation': 1.0}),
    ({'truncation': None}, {'truncation': None}),
])
def test_sample_cfg_accepted(given, expected):
    parsed = parse_sample_cfg(given)
    assert parsed == expected
    if expected.get('truncation') is not None:
        assert isinstance(parsed['truncation'], float)


@pytest.mark.parametrize('given,error', [
    ({'truncation': 0}, 'not a number > 0'),
    ({'truncation': True}, 'not a number > 0'),
    ({'truncation': 'low'}, "truncation='low' is not a number > 0"),
    ({'truncatoin': 0.5}, "did you mean 'truncation'?"),
    ({'seed': 1}, "known keys are ['truncation']."),
])
def test_sample_cfg_refused(given, error):
    with pytest.raises(UsageError) as info:
        parse_sample_cfg(given)
    assert error in str(info.value)


@pytest.mark.parametrize('config,num_classes,first', [
    ('configs/biggan/biggan_digits_32x32.py', 10, '0'),
    ('configs/biggan/biggan_cifar10_32x32_b25x2_500k.py', 10, 'airplane'),
    ('configs/biggan_deep/biggan-deep_128x128_cvt_hugging-face_rgb.py', 1000,
     'tench, Tinca tinca'),
])
def test_class_names_of_shipped_configs(config, num_classes, first):
    path = osp.join(REPO_ROOT, config)
    if not osp.isfile(path):
        pytest.skip(f'{config} is not in this checkout')
    names = class_names_for_config(Config.fromfile(path), num_classes)
    assert len(names) == num_classes and names[0] == first


def test_class_names_from_a_dataset_class_list_or_unknown():
    def config(dataset):
        return Config(dict(train_dataloader=dict(dataset=dataset)))

    listed = config(
        dict(type='RepeatDataset',
             dataset=dict(type='ImageFolderDataset',
                          classes=['cat', 'dog'])))
    assert class_names_for_config(listed, 2) == ('cat', 'dog')
    # A list that does not match the model, or a dataset without names.
    assert class_names_for_config(listed, 3) is None
    assert class_names_for_config(
        config(dict(type='ImageFolderDataset', data_root='x')), 10) is None
    # No dataset at all (converted models): known class counts.
    assert class_names_for_config(Config(dict()), 10)[9] == 'truck'
    assert class_names_for_config(Config(dict()), 0) is None


def test_format_classes():
    names = ('tench, Tinca tinca', 'goldfish, Carassius auratus')
    assert format_classes([1, 0], names) == ['1 (goldfish)', '0 (tench)']
    assert format_classes([3], ('0', '1', '2', '3')) == ['3']
    assert format_classes([3], None) == ['3']


def test_truncation_flag_and_its_sample_cfg_alias():
    import argparse

    import torch.nn as nn

    from mmbiggan.apis.cli import add_generator_arguments, truncation_from_args
    parser = argparse.ArgumentParser()
    add_generator_arguments(parser)
    generator = nn.Module()
    generator.num_bn_stats = 51

    def parsed(*argv):
        return truncation_from_args(parser.parse_args(list(argv)), generator)

    assert parsed() is None
    assert parsed('--truncation', '0.4') == 0.4
    assert parsed('--sample-cfg', 'truncation=0.4') == 0.4
    assert parsed('--truncation', '0.4', '--sample-cfg',
                  'truncation=0.4') == 0.4
    with pytest.raises(UsageError, match='disagree; give one of them'):
        parsed('--truncation', '0.4', '--sample-cfg', 'truncation=0.5')
    with pytest.raises(UsageError,
                       match=r'^--sample-cfg truncation=1.5 is above 1'):
        parsed('--sample-cfg', 'truncation=1.5')
    with pytest.raises(UsageError, match=r'^--truncation=0.0 is not a number'):
        parsed('--truncation', '0')
