"""Test helpers: random-but-sane weights, writing mmbiggan networks in
BigGAN-PyTorch's on-disk layout, and pytorch-pretrained-biggan models with
usable spectral-norm vectors and per-truncation statistics.

The export is written independently of the converter (from BigGAN-PyTorch's
module names as documented in the fixtures' MANIFEST), so a round trip
checks the converter's mapping rather than repeating it.
"""
import os
import os.path as osp
from collections import OrderedDict

import torch
import torch.nn.functional as F

from mmbiggan.models.layers.attention import SelfAttentionBlock


@torch.no_grad()
def perturb_(module, seed):
    """Make every parameter and buffer of an mmbiggan network distinct and
    non-trivial: weights rescaled with noise, singular vectors random (so
    sigma is not the exact norm), BN statistics away from 0/1, attention
    gains non-zero. Returns the module."""
    gen = torch.Generator().manual_seed(seed)

    def randn(t):
        return torch.randn(t.shape, generator=gen)

    def rand(t, low, high):
        return low + (high - low) * torch.rand(t.shape, generator=gen)

    for name, param in module.named_parameters():
        if name.endswith('gamma'):
            param.copy_(rand(param, 0.3, 1.0))
        elif param.dim() >= 2:
            std = param.std().clamp_min(1e-3)
            param.mul_(rand(param, 0.5, 2.0)).add_(0.5 * std * randn(param))
        else:
            param.add_(0.1 * randn(param))
    for name, buf in module.named_buffers():
        leaf = name.rsplit('.', 1)[-1]
        if leaf == 'running_mean':
            buf.copy_(0.2 * randn(buf))
        elif leaf == 'running_var':
            buf.copy_(torch.exp(0.3 * randn(buf)))
        elif leaf.startswith('sv'):
            buf.copy_(rand(buf, 0.5, 3.0))
        elif leaf.startswith('u') or leaf == 'v':
            vec = randn(buf)
            buf.copy_(vec / vec.norm())
    return module


def _bgp_block_names(network):
    """``conv_blocks.k`` -> ``blocks.i.j``: residual block ``i`` is
    ``blocks.i.0``, the attention after it ``blocks.i.1``."""
    names, i = {}, -1
    for k, block in enumerate(network.conv_blocks):
        if isinstance(block, SelfAttentionBlock):
            names[k] = f'blocks.{i}.1'
        else:
            i += 1
            names[k] = f'blocks.{i}.0'
    return names


def _bgp_leaf(key):
    key = key.replace('.sn.', '.')
    key = key.replace('running_mean', 'stored_mean')
    return key.replace('running_var', 'stored_var')


def export_bgp(network, kind):
    """State dict of an mmbiggan BigGAN generator/discriminator with
    BigGAN-PyTorch's keys (``kind``: ``'G'`` or ``'D'``)."""
    blocks = _bgp_block_names(network)
    top = {
        'G': {
            'noise2feat.': 'linear.',
            'shared_embedding.': 'shared.',
            'out_bn.weight': 'output_layer.0.gain',
            'out_bn.bias': 'output_layer.0.bias',
            'out_bn.': 'output_layer.0.',
            'out_conv.': 'output_layer.2.'
        },
        'D': {
            'decision.': 'linear.',
            'proj_y.': 'embed.'
        },
    }[kind]
    out = OrderedDict()
    for key, value in network.state_dict().items():
        if key.startswith('conv_blocks.'):
            _, k, rest = key.split('.', 2)
            new = f'{blocks[int(k)]}.{rest}'
        else:
            new = next(n + key[len(o):] for o, n in top.items()
                       if key.startswith(o))
        out[_bgp_leaf(new)] = value.clone()
    return out


def bgp_run_config(**overrides):
    """A BigGAN-PyTorch training config as state_dict.pth stores it (the
    activations pickled as ``torch.nn.ReLU`` modules)."""
    config = dict(
        model='BigGAN',
        G_param='SN',
        D_param='SN',
        G_nl='relu',
        D_nl='relu',
        norm_style='bn',
        D_wide=True,
        SN_eps=1e-8,
        BN_eps=1e-5,
        num_G_SVs=1,
        num_D_SVs=1,
        num_G_SV_itrs=1,
        num_D_SV_itrs=1,
        ema_decay=0.9999,
        ema_start=1000,
        experiment_name='roundtrip',
        G_activation=torch.nn.ReLU(),
        D_activation=torch.nn.ReLU())
    config.update(overrides)
    return config


def write_bgp_run(folder,
                  generator=None,
                  discriminator=None,
                  ema=None,
                  run_config=None):
    """Write a BigGAN-PyTorch weights folder; returns its path."""
    os.makedirs(folder, exist_ok=True)
    for name, net, kind in (('G', generator, 'G'), ('G_ema', ema, 'G'),
                            ('D', discriminator, 'D')):
        if net is not None:
            torch.save(export_bgp(net, kind), osp.join(folder, f'{name}.pth'))
    if run_config is not None:
        torch.save(
            dict(itr=100, epoch=1, config=run_config),
            osp.join(folder, 'state_dict.pth'))
    return folder


@torch.no_grad()
def make_hf_model(config, seed):
    """A pytorch-pretrained-biggan ``BigGAN`` with random weights that
    computes finite, non-degenerate images in eval mode: output-BN affine
    set (the reference leaves it uninitialised), spectral-norm ``u``/``v``
    set from a random start with one power step as the reference's TF
    converter does, and every row of per-truncation statistics calibrated
    on the activations then perturbed on its own."""
    from pytorch_pretrained_biggan import BigGAN
    torch.manual_seed(seed)
    model = BigGAN(config).eval()
    gen = torch.Generator().manual_seed(seed + 1000)
    model.embeddings.weight.copy_(
        0.7 * torch.randn(model.embeddings.weight.shape, generator=gen))
    bn = model.generator.bn
    bn.weight.copy_(1 + 0.2 * torch.randn(bn.weight.shape, generator=gen))
    bn.bias.copy_(0.1 * torch.randn(bn.bias.shape, generator=gen))
    for name, param in model.named_parameters():
        if name.endswith('gamma'):
            param.fill_(0.3 + 0.7 * float(torch.rand((), generator=gen)))
    for module in model.modules():
        if hasattr(module, 'weight_orig'):
            weight = module.weight_orig.reshape(module.weight_orig.shape[0],
                                                -1)
            u0 = torch.randn(weight.shape[0], generator=gen)
            v = F.normalize(weight.t() @ u0, dim=0, eps=config.eps)
            module.weight_v.copy_(v)
            module.weight_u.copy_(
                F.normalize(weight @ v, dim=0, eps=config.eps))
    _calibrate_hf_statistics(model, config, gen)
    return model


def _calibrate_hf_statistics(model, config, gen):
    from pytorch_pretrained_biggan.model import BigGANBatchNorm

    def set_stats(module, inputs):
        x = inputs[0]
        mean, var = x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3))
        rows = module.running_means.shape[0]
        noise = torch.randn((2, rows, x.shape[1]), generator=gen)
        module.running_means.copy_(mean + 0.3 * var.sqrt() * noise[0])
        module.running_vars.copy_(var * torch.exp(0.3 * noise[1]))

    hooks = [
        m.register_forward_pre_hook(set_stats) for m in model.modules()
        if isinstance(m, BigGANBatchNorm)
    ]
    z = torch.randn((4, config.z_dim), generator=gen)
    labels = torch.randint(0, config.num_classes, (4, ), generator=gen)
    model(z, F.one_hot(labels, config.num_classes).float(), 1.0)
    for hook in hooks:
        hook.remove()


def write_hf_folder(folder, model, config):
    """Save as ``convert_tf_to_pytorch.main`` does."""
    os.makedirs(folder, exist_ok=True)
    torch.save(model.state_dict(), osp.join(folder, 'pytorch_model.bin'))
    with open(osp.join(folder, 'config.json'), 'w', encoding='utf-8') as f:
        f.write(config.to_json_string())
    return folder


def max_rel_diff(a, b):
    return float(((a - b).abs() / b.abs().clamp_min(1e-12)).max())


def build_loaded(net):
    """The mmbiggan network of a converted one, weights loaded, eval."""
    from mmengine.registry import init_default_scope

    from mmbiggan.registry import MODELS
    init_default_scope('mmbiggan')
    module = MODELS.build(dict(net.cfg))
    module.load_state_dict(net.state_dict, strict=True)
    return module.eval()
