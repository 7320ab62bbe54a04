"""Turning an exception into the one line a command-line tool prints
(tools/train.py, the converters, the demo and the apps)."""
import re

# torch re-raises a dataloader worker's exception as the same type with the
# worker's whole traceback in the message.
_WORKER_PREFIX = re.compile(r'^Caught \w+ in DataLoader worker process \d+\.')


def error_line(err: BaseException) -> str:
    """The message of ``err`` on one line: for an exception raised in a
    dataloader worker, the worker's own message (the last line of the
    traceback torch packs into it); ``KeyError`` messages unquoted."""
    if isinstance(err, KeyError) and err.args:
        text = str(err.args[0])
    else:
        text = str(err)
    if _WORKER_PREFIX.match(text):
        lines = [line for line in text.strip().splitlines() if line.strip()]
        last = lines[-1].strip()
        text = last.split(': ', 1)[1] if ': ' in last else last
    return ' '.join(text.split())
