"""CloudWatch alarms on the region's database: replication lag against the RPO, CPU,
freeable memory and connections.

The lag alarm watches what the spec's RPO (under a minute) depends on: on an Aurora
secondary, `AuroraGlobalDBReplicationLag` (milliseconds); on an RDS replica, `ReplicaLag`
(seconds, dimension `DBInstanceIdentifier`). It fires at a threshold below the RPO, and a
missing datapoint counts as breaching, since a replica that stops reporting is not
replicating either. Alarm actions are an input: empty until the observability tier adds
its notification topic.

A CloudWatch alarm matches one metric exactly: its namespace, name and the full set of
its dimensions, so an alarm on a subset of the dimensions a metric is published with
reads nothing (and this one would then breach for ever). Aurora publishes
`AuroraGlobalDBReplicationLag` in the secondary's region with two dimensions,
`DBClusterIdentifier` (the secondary cluster) and `SourceRegion` (the primary's region):
the Aurora User Guide lists `SourceRegion` among the CloudWatch dimensions for Aurora
("Amazon CloudWatch dimensions for Aurora", https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/dimensions.html),
and AWS's Aurora global database workshop finds the metric under the metric group
"DBClusterIdentifier, SourceRegion" (Amazon Aurora Labs, "Monitor an Aurora global
database", https://awsauroralabsmy.com/global/cw/); Neptune, on the same storage, documents
its global-database metrics with exactly these dimensions ("Neptune CloudWatch
Dimensions"). The alarm therefore names both; after a failover the source region changes
and the secondaries' alarms follow the stack files again at the next deployment in the
new order (docs/runbooks/failover.md, "Making a failover permanent").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from infra.domain.db_sizing import AURORA


@dataclass(frozen=True)
class DatabaseAlarmsArgs:
    """Inputs of `DatabaseAlarms`."""

    engine: str
    """aurora-postgresql or rds-postgres: which metrics and dimensions apply."""
    replica: bool
    """A secondary (watch replication lag) or the primary."""
    cluster_id: pulumi.Input[str]
    """The Aurora cluster or the RDS instance identifier."""
    lag_threshold_seconds: int
    """Replication lag that raises the alarm."""
    max_connections: int
    """The instance class's max_connections; the connection alarm fires at 80 % of it."""
    memory_gib: int
    """The instance class's memory; the memory alarm fires under 10 % of it free."""
    source_region: str = ""
    """A replica's source: the primary's region (the Aurora lag metric's `SourceRegion` dimension)."""
    alarm_actions: Sequence[pulumi.Input[str]] = field(default_factory=tuple)
    """Where alarms notify (the observability tier's topic); none yet."""


class DatabaseAlarms(pulumi.ComponentResource):
    """Lag (secondaries), CPU, memory and connection alarms."""

    alarm_names: dict[str, pulumi.Output[str]]
    """What each alarm watches -> its name (`replicationLag` on a secondary, `cpu`, `memory`, `connections`)."""

    def __init__(self, name: str, args: DatabaseAlarmsArgs, opts: pulumi.ResourceOptions | None = None):
        aurora = args.engine == AURORA
        if aurora and args.replica and not args.source_region:
            raise ValueError("DatabaseAlarms: an Aurora secondary's lag alarm needs source_region (the "
                             "primary's region): Aurora publishes the metric with SourceRegion")
        super().__init__("hse:data:DatabaseAlarms", name, None, opts)
        dimension = "DBClusterIdentifier" if aurora else "DBInstanceIdentifier"

        def alarm(suffix: str, description: str, metric: str, comparison: str, threshold: float,
                  statistic: str = "Average", periods: int = 3, missing: str = "missing",
                  extra: Optional[dict[str, str]] = None) -> aws.cloudwatch.MetricAlarm:
            return aws.cloudwatch.MetricAlarm(
                f"{name}-{suffix}",
                alarm_description=description,
                namespace="AWS/RDS",
                metric_name=metric,
                dimensions={dimension: args.cluster_id, **(extra or {})},
                statistic=statistic,
                period=60,
                evaluation_periods=periods,
                datapoints_to_alarm=periods,
                comparison_operator=comparison,
                threshold=threshold,
                treat_missing_data=missing,
                alarm_actions=list(args.alarm_actions),
                ok_actions=list(args.alarm_actions),
                opts=pulumi.ResourceOptions(parent=self),
            )

        self.alarm_names = {}
        if args.replica:
            metric, unit = ("AuroraGlobalDBReplicationLag", 1000) if aurora else ("ReplicaLag", 1)
            lag = alarm("replication-lag",
                        f"Replication lag above {args.lag_threshold_seconds} s, below the RPO budget",
                        metric, "GreaterThanThreshold", args.lag_threshold_seconds * unit,
                        statistic="Maximum", periods=1, missing="breaching",
                        extra={"SourceRegion": args.source_region} if aurora else None)
            self.alarm_names["replicationLag"] = lag.name
        self.alarm_names["cpu"] = alarm(
            "cpu", "CPU above 80 % for 3 minutes", "CPUUtilization", "GreaterThanThreshold", 80).name
        self.alarm_names["memory"] = alarm(
            "memory", "Freeable memory under 10 % of the instance class",
            "FreeableMemory", "LessThanThreshold", args.memory_gib * 1024 ** 3 // 10, statistic="Minimum").name
        self.alarm_names["connections"] = alarm(
            "connections", "Connections above 80 % of max_connections",
            "DatabaseConnections", "GreaterThanThreshold", args.max_connections * 8 // 10, statistic="Maximum").name
        self.register_outputs({"alarmNames": self.alarm_names})
