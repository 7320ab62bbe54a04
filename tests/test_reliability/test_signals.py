"""Signal handling pieces: dataloader workers that leave SIGTERM and SIGINT
to the main process, and SignalCheckpointHook's handlers."""
import os
import signal
import subprocess
from types import SimpleNamespace

import pytest
from torch.utils.data import DataLoader, Dataset

from mmbiggan.engine import SignalCheckpointHook
from mmbiggan.engine.loops import _WorkerSignals


class Pids(Dataset):

    def __len__(self):
        return 1000

    def __getitem__(self, index):
        return os.getpid()


def test_workers_leave_signals_to_the_main_process_until_it_exits():
    signals = _WorkerSignals()
    loader = DataLoader(
        Pids(), batch_size=1, num_workers=1, persistent_workers=True,
        worker_init_fn=signals.wrap(None))
    batches = iter(loader)
    pid = int(next(batches)[0])
    assert pid != os.getpid()
    # Ctrl-C or a scheduler signalling every process: ignored.
    for name in ('TERM', 'INT'):
        subprocess.run(['kill', f'-{name}', str(pid)], check=True)
    for _ in range(5):
        assert int(next(batches)[0]) == pid
    # At exit (as atexit does), SIGTERM ends the worker with status 0, which
    # the main process does not report as a worker failure.
    signals.release()
    worker = batches._workers[0]
    os.kill(pid, signal.SIGTERM)
    worker.join(timeout=30)
    assert worker.exitcode == 0
    batches._shutdown_workers()


def test_the_handler_catches_one_signal_and_gives_the_next_back():
    previous = signal.getsignal(signal.SIGTERM)
    # Under nohup or as a background job Python leaves SIGINT ignored
    # (SIG_IGN) instead of installing default_int_handler: compare with what
    # was there before, not with a fixed handler.
    previous_int = signal.getsignal(signal.SIGINT)
    hook = SignalCheckpointHook()
    hook.before_train(SimpleNamespace(world_size=1))
    try:
        assert signal.getsignal(signal.SIGTERM) == hook._handle
        assert hook._agreed_signal() is None
        os.kill(os.getpid(), signal.SIGTERM)
        assert hook._agreed_signal() == signal.SIGTERM
        # A second SIGTERM would get the handler found before training.
        assert signal.getsignal(signal.SIGTERM) == previous
    finally:
        hook.restore_handlers()
    assert signal.getsignal(signal.SIGINT) == previous_int


def test_unknown_signal_names_are_refused():
    with pytest.raises(ValueError, match="unknown signal 'SIGTERMS'"):
        SignalCheckpointHook(signals=['SIGTERMS'])
