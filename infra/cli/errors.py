"""What every command of the operator's command line exits with, and how it reports a
user's mistake: one line, never a traceback."""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INVALID_CONFIG = 2
EXIT_CHANGES = 3
EXIT_POLICY = 4
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


class UserError(Exception):
    """A mistake in how the command was called or where it may write: a message, no traceback."""


class UsageError(UserError):
    """A flag or value the command refuses before doing anything (exit 2, like argparse)."""
