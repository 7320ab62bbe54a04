"""Helpers shared by the evaluation tests."""
import contextlib
import importlib.util
import os.path as osp
import socket

import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool(relative_path):
    """Import a script of the repository (e.g. ``tools/test.py``) as a
    module, to call its ``main``/``run`` in this process."""
    path = osp.join(REPO_ROOT, relative_path)
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class CountingLoader:
    """A list of batches that counts how often it is read."""

    def __init__(self, batches, dataset):
        self.batches, self.dataset, self.passes = batches, dataset, 0

    def __iter__(self):
        self.passes += 1
        return iter(self.batches)


def free_port():
    """A free local TCP port for a gloo process group."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def torch_threads(num: int):
    """Run the block with ``num`` intra-op threads: convolution results
    change in the last bits with the thread count (FID_mean by 1e-6
    relative at 1 against 2 threads), so a single-process reference must
    use the workers' count."""
    before = torch.get_num_threads()
    torch.set_num_threads(num)
    try:
        yield
    finally:
        torch.set_num_threads(before)
