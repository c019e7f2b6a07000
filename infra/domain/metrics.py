"""The metrics the platform's own code publishes: one definition that publishers, alarms,
dashboards and the flow verifier share, so a reader cannot drift from its writer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OwnMetric:
    namespace: str
    name: str
    dimensions: tuple[str, ...]
    publisher: str


# The app publishes its 5xx rate per region (the app contract's `metrics` section).
APP_ERROR_RATE = OwnMetric("HSE/App", "5xxErrorRate", ("Region",), "the app")
# The failover controller: one datapoint per failover, failback or switchover it performs.
FAILOVER_EVENT = OwnMetric("HSE/Platform", "FailoverEvent", ("FailedRegion", "Kind", "TargetRegion"),
                           "the failover controller")
# An operator arms a game day by publishing FisArmed=1 (docs/operations.md).
FIS_ARMED = OwnMetric("HSE/Platform", "FisArmed", (), "an operator arming a game day")

OWN_METRICS = (APP_ERROR_RATE, FAILOVER_EVENT, FIS_ARMED)


def published() -> dict[tuple[str, str], set[tuple[str, ...]]]:
    """(namespace, name) -> the dimension sets it is published with (sorted names)."""
    table: dict[tuple[str, str], set[tuple[str, ...]]] = {}
    for metric in OWN_METRICS:
        table.setdefault((metric.namespace, metric.name), set()).add(tuple(sorted(metric.dimensions)))
    return table
