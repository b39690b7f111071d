"""The one error type a user sees."""


class InputError(ValueError):
    """Bad input, explained in one line: what was given, where, and what was expected."""
