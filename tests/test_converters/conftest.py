import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """These models are small: one thread computes them fastest and does not
    slow down when the machine is busy (thread hand-offs on two shared cores
    cost more than the convolutions); restored afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
