"""Record ``steps.pth``: BigGAN-PyTorch's own training steps on fixed
tensors (see README.md). Needs a checkout of ajbrock/BigGAN-PyTorch (not
part of mmbiggan); runs on the CPU::

    python tests/data/biggan_pytorch_steps/record_steps.py \
        /path/to/BigGAN-PyTorch tests/data/biggan_pytorch_steps/steps.pth
"""
import sys
from unittest import mock

import torch

STEPS, D_STEPS, BATCH = 8, 2, 8
# scripts/launch_cifar_ema.sh
CIFAR_ARGS = ('--shuffle --batch_size 50 --parallel --num_G_accumulations 1 '
              '--num_D_accumulations 1 --num_epochs 500 --num_D_steps 4 '
              '--G_lr 2e-4 --D_lr 2e-4 --dataset C10 --G_ortho 0.0 '
              '--G_attn 0 --D_attn 0 --G_init N02 --D_init N02 --ema '
              '--use_ema --ema_start 1000 --test_every 5000 --save_every 2000 '
              '--num_best_copies 5 --num_save_copies 2 --seed 0').split()
OVERRIDES = dict(G_ch=2, D_ch=2, dim_z=16, batch_size=BATCH,
                 num_D_steps=D_STEPS, ema_start=5, ema_decay=0.9)
CONFIG_KEYS = ('G_ch', 'D_ch', 'dim_z', 'batch_size', 'num_D_steps',
               'ema_decay', 'ema_start', 'SN_eps', 'BN_eps', 'G_lr', 'D_lr',
               'G_B1', 'G_B2', 'D_B1', 'D_B2', 'adam_eps', 'resolution',
               'n_classes', 'G_init', 'D_init', 'G_shared', 'hier',
               'toggle_grads', 'split_D')


def import_biggan_pytorch(folder):
    """Its modules; torchvision and h5py serve only its data loading."""
    for name in ('torchvision', 'torchvision.transforms',
                 'torchvision.datasets', 'torchvision.datasets.utils',
                 'torchvision.utils', 'h5py'):
        sys.modules.setdefault(name, mock.MagicMock())
    sys.path.insert(0, folder)
    import BigGAN
    import train_fns
    import utils
    return BigGAN, train_fns, utils


def packed_state(module):
    """A state dict as keys, shapes and one flat float64 tensor."""
    sd = module.state_dict()
    return dict(keys=list(sd), shapes=[list(v.shape) for v in sd.values()],
                values=torch.cat([v.detach().reshape(-1).double()
                                  for v in sd.values()]))


def digits_batches(generator):
    """``[N, 8, 8]`` uint8 digits, their labels, and the ``[N, 3, 32, 32]``
    images in ``[-1, 1]`` as mmbiggan's data path computes them (nearest
    x4, grey, ``x / 127.5 - 1`` in float32), as float64."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    index = torch.randint(0, len(digits.target),
                          (STEPS * D_STEPS * BATCH, ), generator=generator)
    small = torch.from_numpy(digits.images[index.numpy()] *
                             (255 / 16)).round().to(torch.uint8)
    labels = torch.from_numpy(digits.target[index.numpy()]).long()
    images = small.repeat_interleave(4, 1).repeat_interleave(4, 2)
    images = images[:, None].expand(-1, 3, -1, -1)
    return small, labels, (images.float() / 127.5 - 1).double()


def main(folder, out):
    torch.set_default_dtype(torch.float64)
    BigGAN, train_fns, utils = import_biggan_pytorch(folder)
    config = vars(utils.prepare_parser().parse_args(CIFAR_ARGS))
    config.update(OVERRIDES)
    # What train.run adds.
    config['resolution'] = utils.imsize_dict[config['dataset']]
    config['n_classes'] = utils.nclass_dict[config['dataset']]
    config['G_activation'] = utils.activation_dict[config['G_nl']]
    config['D_activation'] = utils.activation_dict[config['D_nl']]
    utils.seed_rng(config['seed'])
    G = BigGAN.Generator(**config)
    D = BigGAN.Discriminator(**config)
    G_ema = BigGAN.Generator(**{**config, 'skip_init': True,
                                'no_optim': True})
    ema = utils.ema(G, G_ema, config['ema_decay'], config['ema_start'])
    state_dict = {'itr': 0, 'epoch': 0, 'config': config}
    z_, y_ = utils.prepare_z_y(BATCH, G.dim_z, config['n_classes'],
                               device='cpu')
    z_ = z_.to('cpu', torch.float64)
    train = train_fns.GAN_training_function(G, D, BigGAN.G_D(G, D), z_, y_,
                                            ema, state_dict, config)
    initial = dict(G=packed_state(G), D=packed_state(D))

    generator = torch.Generator().manual_seed(0)
    small, labels, x_all = digits_batches(generator)
    num_draws = STEPS * (D_STEPS + 1)
    z = torch.randn(num_draws, BATCH, config['dim_z'], generator=generator)
    y = torch.randint(0, 10, (num_draws, BATCH), generator=generator)
    z_draws, y_draws = iter(z), iter(y)
    z_.sample_ = lambda: z_.copy_(next(z_draws))
    y_.sample_ = lambda: y_.copy_(next(y_draws))

    losses = []
    for step in range(STEPS):
        state_dict['itr'] += 1
        G.train()
        D.train()
        G_ema.train()
        chunk = slice(step * D_STEPS * BATCH, (step + 1) * D_STEPS * BATCH)
        metrics = train(x_all[chunk], labels[chunk])
        losses.append([metrics['G_loss'], metrics['D_loss_real'],
                       metrics['D_loss_fake']])
        if step == 0:
            after_first = dict(G=packed_state(G), D=packed_state(D))
    torch.save(
        dict(config={k: config[k] for k in CONFIG_KEYS}, steps=STEPS,
             initial=initial, digits_8x8=small, labels=labels, z=z, y=y,
             losses=torch.tensor(losses), after_first_step=after_first,
             final=dict(G=packed_state(G), D=packed_state(D),
                        G_ema=packed_state(G_ema))), out)


if __name__ == '__main__':
    main(*sys.argv[1:3])
