"""The one error type a user sees, and how other errors and output become one line."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Iterator


class InputError(ValueError):
    """Bad input, explained in one line: what was given, where, and what was expected. The CLI
    prints it as ``evalcore: error: ...`` and exits with 2; the app shows it in place.

    >>> from evalcore import Predictions
    >>> Predictions.from_arrays([0, 1], [0.2])
    Traceback (most recent call last):
    evalcore.errors.InputError: y_true has 2 rows but y_score has 1: they must match
    """


def one_line(error: BaseException) -> str:
    """An exception's message as one line (its first, at most 200 characters), for a message
    that names the file and what went wrong.

    >>> one_line(ValueError("bad header\\n  at line 3"))
    'bad header'
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """File descriptor 2 to /dev/null for the duration, C-level writes included (what a
    library's native start-up prints, TensorFlow's or the JVM's, is not the user's).

    >>> import os
    >>> with quiet_stderr():
    ...     _ = os.write(2, b"native start-up noise")   # goes to /dev/null
    >>> print("stdout is untouched")
    stdout is untouched
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (e.g. captured): nothing to quiet
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
