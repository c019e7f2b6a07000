"""The local drill's scenarios by name, in the order they run, and what each starts from
(read by the command line without loading the servers' code)."""

from __future__ import annotations

SCENARIOS = ("secondary-lost", "primary-lost", "split-brain", "failback", "flapping", "lagging-replica")
NEEDS = {"split-brain": "primary-lost", "failback": "split-brain", "flapping": "failback"}
"""A scenario that starts where another one leaves the platform."""
FROM_NORMAL = "lagging-replica"
"""Starts from normal operation: after a failover, only once the failback has run."""


def with_prerequisites(names: list[str]) -> tuple[str, ...]:
    """`names` and the scenarios they start from, in the drill's order (every scenario when none)."""
    wanted = set(names or SCENARIOS)
    if FROM_NORMAL in wanted and wanted & {"primary-lost", "split-brain"}:
        wanted.add("failback")
    for name in list(wanted):
        while name in NEEDS:
            name = NEEDS[name]
            wanted.add(name)
    return tuple(s for s in SCENARIOS if s in wanted)
