"""The command-line policy of every mmbiggan script (tools/train.py,
tools/test.py, tools/utils/*.py, the converters, the demo and the apps): one
:func:`run` wrapper, one exit status per kind of ending, and the one line a
script prints for an expected failure.

Exit statuses:

* ``0``: done.
* ``1``: a bug: an unexpected exception, with Python's traceback.
* ``2`` (:data:`EXIT_USER_ERROR`): a mistake in the command line, the
  config, the data or the files (:class:`UserError` and its subclasses,
  ``ValueError``, ``KeyError``, ``OSError``): one line ``error: ...`` that
  names the fix.
* ``3`` (:data:`EXIT_DIVERGED`): training produced NaN or infinity.
* ``4`` (:data:`EXIT_CHECK_FAILED`): a check the user asked for did not
  pass (e.g. ``digits_classifier.py --min-accuracy``).
* ``128 + N``: stopped by signal ``N`` (130: Ctrl-C, 143: SIGTERM).

``TypeError`` is not a user error: it is how a wrong call inside the code
shows itself, so it keeps its traceback.
"""
import re
import signal
import sys
from typing import Callable, List, Optional

EXIT_OK = 0
EXIT_USER_ERROR = 2
EXIT_DIVERGED = 3
EXIT_CHECK_FAILED = 4
EXIT_INTERRUPTED = 128 + signal.SIGINT

# torch re-raises a dataloader worker's exception as the same type with the
# worker's whole traceback in the message.
_WORKER_PREFIX = re.compile(r'^Caught \w+ in DataLoader worker process \d+\.')


class UserError(Exception):
    """Base of mmbiggan's errors that the user fixes (a checkpoint that does
    not fit, a missing Inception file, an impossible distributed setup...):
    :func:`run` prints them as one line, exit status 2."""


# What run() reports as the user's mistake rather than as a bug.
USER_ERRORS = (UserError, ValueError, KeyError, OSError)


class CheckFailed(Exception):
    """A check the user asked for did not pass; :func:`run` prints the
    message as one line, exit status 4."""

    exit_status = EXIT_CHECK_FAILED


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


def run(main: Callable[[Optional[List[str]]], None],
        argv: Optional[List[str]] = None,
        interrupted: str = 'interrupted; files written so far are complete '
        '(each is written whole or not at all).',
        explain: Optional[Callable[[BaseException], str]] = None) -> int:
    """Run a script's ``main(argv)`` under the policy of this module.

    Args:
        main: The script's main function.
        argv: Its arguments (None: ``sys.argv[1:]``).
        interrupted: What a Ctrl-C before the script handles it means for
            the user's files (printed after ``stopped: ``).
        explain: Extra text appended to a user error's line (e.g. where its
            traceback was logged, or an option that avoids it).

    Returns:
        int: The exit status (see the module docstring). Exceptions that are
        neither user errors nor carry an ``exit_status`` propagate: bugs
        keep their traceback.

    An exception may carry ``exit_status`` (its kind's status) and a
    ``cli_line()`` method giving the whole line to print (None: print
    nothing, e.g. on non-zero ranks).
    """
    try:
        main(argv)
    except KeyboardInterrupt:
        print(f'stopped: {interrupted}', file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:  # noqa: B902 (re-raised unless expected)
        status = getattr(err, 'exit_status', None)
        if status is None:
            if not isinstance(err, USER_ERRORS):
                raise
            status = EXIT_USER_ERROR
        if hasattr(err, 'cli_line'):
            line = err.cli_line()
        else:
            line = f'error: {error_line(err)}' + (explain(err)
                                                  if explain else '')
        if line:
            print(line, file=sys.stderr)
        return status
    return EXIT_OK
