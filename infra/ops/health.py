"""What the controller reads about a region's health and its replication lag.

- Region health: the CloudWatch alarm on the Route53 health check's `HealthCheckStatus`
  (in us-east-1, the only region Route53 publishes that metric to; `infra/tiers/edge.py`).
  An alarm in `ALARM` (or with too little data) means the region failed 3 consecutive
  checks (90 s): unhealthy.
- Replication lag of a secondary: `AuroraGlobalDBReplicationLag` (milliseconds) of its
  cluster, or `ReplicaLag` (seconds) of an RDS read replica, the latest datapoint of the
  last 5 minutes; no datapoint is an unknown lag, which never qualifies a target.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Optional

from infra.ops.clock import Clock
from infra.domain.platform import RegionRecord

HEALTH_METRIC_REGION = "us-east-1"
AURORA_LAG = ("AWS/RDS", "AuroraGlobalDBReplicationLag", "DBClusterIdentifier", 0.001)
RDS_LAG = ("AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", 1.0)
LAG_WINDOW_SECONDS = 300


class HealthReader:
    def __init__(self, clients, clock: Clock):
        self.clients = clients
        self.clock = clock

    def alarm_state(self, region: RegionRecord) -> str:
        """OK, ALARM or INSUFFICIENT_DATA of the region's health-check alarm (ALARM when none is found)."""
        cloudwatch = self.clients("cloudwatch", HEALTH_METRIC_REGION)
        alarms = cloudwatch.describe_alarms_for_metric(
            Namespace="AWS/Route53", MetricName="HealthCheckStatus",
            Dimensions=[{"Name": "HealthCheckId", "Value": region.health_check_id}]).get("MetricAlarms", [])
        # Filtered here as well: the dimension decides, whatever the endpoint matched on.
        wanted = {"Name": "HealthCheckId", "Value": region.health_check_id}
        alarms = [a for a in alarms if wanted in a.get("Dimensions", [])]
        if not alarms:
            return "ALARM"
        states = {a["StateValue"] for a in alarms}
        return "OK" if states == {"OK"} else "ALARM" if "ALARM" in states else "INSUFFICIENT_DATA"

    def healthy(self, region: RegionRecord) -> bool:
        return self.alarm_state(region) == "OK"

    def replication_lag_seconds(self, region: RegionRecord) -> Optional[float]:
        namespace, metric, dimension, scale = AURORA_LAG if region.db_engine == "aurora-postgresql" else RDS_LAG
        now = datetime.fromtimestamp(self.clock.now(), timezone.utc)
        points = self.clients("cloudwatch", region.aws_region).get_metric_statistics(
            Namespace=namespace, MetricName=metric, Dimensions=[{"Name": dimension, "Value": region.db_cluster_id}],
            StartTime=now - timedelta(seconds=LAG_WINDOW_SECONDS), EndTime=now + timedelta(seconds=1),
            Period=60, Statistics=["Maximum"]).get("Datapoints", [])
        if not points:
            return None
        latest = max(points, key=lambda p: p["Timestamp"])
        return float(latest["Maximum"]) * scale
