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

EXIT_CODES = """\
Exit codes (every command: plan, flows, validate, routing, report, drill, deploy,
failover, failback, failover-status, hpa-reconcile):
  0    success (plan --detailed-exitcode: no changes against --diff)
  1    the real engine or AWS would refuse the change (plan --diff: a protected or
       deletion-protected resource deleted or replaced); an error or a halt: an
       unwritable --out, a missing --diff folder, a failure inside the program, an AWS
       or Pulumi error, a halted rollout, a rolled-back failback, a failed drill check
  2    usage or invalid configuration: a bad flag or value, a number out of its range,
       a flag that needs another one, an unknown stack or region; nothing was planned,
       written or sent to AWS
  3    changes present (plan --detailed-exitcode); failback not ready (a gate)
  4    a mandatory policy is violated (plan --policy; with --diff also data-kept), a flow
       is blocked (flows), or a promise of the local drill did not hold (drill --local)
  130  interrupted (Ctrl-C)
  141  output closed early (e.g. piped into head)
"""
"""The one exit-code table: the epilog of `--help` and of every subcommand's `--help`."""


class UserError(Exception):
    """A mistake in how the command was called or where it may write: a message, no traceback."""


class UsageError(UserError):
    """A flag or value the command refuses before doing anything (exit 2, like argparse)."""
