"""Starting the process group before the Runner exists.

mmengine's launchers call ``torch.cuda.set_device`` unconditionally, so they
fail on CPU-only machines. Here the group is started with NCCL when GPUs are
visible and gloo otherwise; the Runner then finds it initialized and does
not start another."""
import os
import subprocess

import torch
import torch.distributed as dist

from mmbiggan.utils.errors import UserError

LAUNCHERS = ('none', 'pytorch', 'slurm')


class DistributedSetupError(UserError, RuntimeError):
    """The environment cannot run the requested distributed job."""


def _slurm_environment():
    """Translate SLURM's variables into torch.distributed's."""
    try:
        rank = int(os.environ['SLURM_PROCID'])
        world_size = int(os.environ['SLURM_NTASKS'])
        node_list = os.environ['SLURM_NODELIST']
    except KeyError as err:
        raise DistributedSetupError(
            f'--launcher slurm needs {err.args[0]} in the environment; start '
            'the job with srun (tools/slurm_train.sh).') from None
    local_rank = int(os.environ.get('SLURM_LOCALID', 0))
    if 'MASTER_ADDR' not in os.environ:
        os.environ['MASTER_ADDR'] = subprocess.getoutput(
            f'scontrol show hostname {node_list} | head -n1')
    os.environ.setdefault('MASTER_PORT', '29500')
    os.environ['RANK'] = str(rank)
    os.environ['WORLD_SIZE'] = str(world_size)
    os.environ['LOCAL_RANK'] = str(local_rank)


def init_distributed(launcher: str, timeout_s: int = 1800) -> None:
    """Initialize ``torch.distributed`` for ``launcher``.

    ``'none'`` does nothing; ``'pytorch'`` reads ``RANK``, ``WORLD_SIZE``,
    ``LOCAL_RANK`` (set by torchrun); ``'slurm'`` derives them from SLURM.
    On GPUs each process takes GPU ``LOCAL_RANK`` and NCCL; without GPUs
    the processes use gloo on the CPU.
    """
    if launcher not in LAUNCHERS:
        raise DistributedSetupError(f'Unknown launcher {launcher!r}; choose '
                                    f'one of {LAUNCHERS}.')
    if launcher == 'none' or dist.is_initialized():
        return
    if launcher == 'slurm':
        _slurm_environment()
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK',
                           'MASTER_ADDR', 'MASTER_PORT')
               if k not in os.environ]
    if missing:
        raise DistributedSetupError(
            f'--launcher {launcher} needs {", ".join(missing)} in the '
            'environment; start with tools/dist_train.sh (torchrun).')
    local_rank = int(os.environ['LOCAL_RANK'])
    if torch.cuda.is_available():
        num_gpus = torch.cuda.device_count()
        if local_rank >= num_gpus:
            raise DistributedSetupError(
                f'Process with LOCAL_RANK {local_rank} needs GPU '
                f'{local_rank}, but only {num_gpus} GPU(s) are visible; start '
                f'at most {num_gpus} processes per node.')
        torch.cuda.set_device(local_rank)
        backend = 'nccl'
    else:
        backend = 'gloo'
    from datetime import timedelta
    dist.init_process_group(
        backend=backend,
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']),
        timeout=timedelta(seconds=timeout_s))


def shutdown_distributed() -> None:
    """End a finished run's process group: wait until every process is done
    (rank 0 may still be writing the last checkpoint), then destroy the
    group. A process that exits with its gloo threads still running aborts
    ("terminate called without an active exception"), and the launcher then
    reports the whole run as failed. Does nothing outside distributed runs.
    """
    if not dist.is_initialized():
        return
    dist.barrier()
    dist.destroy_process_group()
