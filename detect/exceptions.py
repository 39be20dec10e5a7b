"""Exceptions and warnings of detect, in one place so users can catch or filter them.

``InputError`` and ``UsageError`` are the user's errors: the CLI prints their message on
stderr and exits with code 2, without a traceback (unless ``--debug``).
"""

from __future__ import annotations


class DetectError(Exception):
    """Base class of every error raised on purpose by detect."""


class InputError(DetectError):
    """An input file or value that cannot be used (missing, unreadable, no recognisable columns)."""


class UsageError(DetectError):
    """A command-line or API call whose arguments are wrong (unknown option value, bad combination)."""


class ConfigError(UsageError):
    """A configuration file that cannot be read or holds an unknown key or a bad value."""


class DetectWarning(UserWarning):
    """Base class of detect's warnings."""


class NotApplicableWarning(DetectWarning):
    """A test was asked for where it does not apply (too few values, too few orders of magnitude)."""
