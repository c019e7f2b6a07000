"""What the controller reads about a region's health and its replication lag.

- Region health: the CloudWatch alarm on the Route53 health check's `HealthCheckStatus`
  (in us-east-1, the only region Route53 publishes that metric to; `infra/tiers/edge.py`).
  An alarm in `ALARM` (or with too little data) means the region failed 3 consecutive
  checks (90 s): unhealthy.
- When us-east-1's CloudWatch does not answer (us-east-1 lost), a region's health is
  probed directly instead: `https://<stack>.<domain>/api/health` from wherever the
  controller runs, a majority of `PROBE_ATTEMPTS` answers 2xx/3xx (what Route53 counts as
  healthy) meaning healthy. The probe needs only public DNS (Route53's data plane, which
  is global) and the region's own endpoint.
- Replication lag of a secondary: `AuroraGlobalDBReplicationLag` (milliseconds) of its
  cluster, published in the secondary's region with the dimensions `DBClusterIdentifier`
  and `SourceRegion` (the writer's region; see `components/database_alarms.py`), or
  `ReplicaLag` (seconds) of an RDS read replica (`DBInstanceIdentifier`), the latest
  datapoint of the last 5 minutes; no datapoint is an unknown lag (None), never 0.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from typing import Callable, Optional

from botocore.exceptions import BotoCoreError, ClientError

from infra.domain.naming import HEALTH_PATH
from infra.ops.clock import Clock
from infra.domain.platform import RegionRecord

HEALTH_METRIC_REGION = "us-east-1"
AURORA_LAG = ("AWS/RDS", "AuroraGlobalDBReplicationLag", "DBClusterIdentifier", 0.001)
LAG_SOURCE_DIMENSION = "SourceRegion"
RDS_LAG = ("AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", 1.0)
LAG_WINDOW_SECONDS = 300
PROBE_ATTEMPTS = 3
PROBE_TIMEOUT_SECONDS = 5


def https_probe(url: str) -> bool:
    """One GET of `url`: True on 2xx or 3xx within the timeout, as Route53's checkers count it."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="GET"), timeout=PROBE_TIMEOUT_SECONDS) as answer:
            return 200 <= answer.status < 400
    except (urllib.error.URLError, OSError, ValueError):  # HTTPError (4xx, 5xx) is a URLError
        return False


def health_url(region: RegionRecord) -> str:
    return f"https://{region.regional_endpoint}{HEALTH_PATH}"


class HealthReader:
    def __init__(self, clients, clock: Clock, probe: Optional[Callable[[str], bool]] = None):
        self.clients = clients
        self.clock = clock
        self.probe = probe
        """One probe of a URL (None: `https_probe`, looked up at call time)."""

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
        """The health alarm's verdict, or the probes' when us-east-1's CloudWatch does not answer."""
        try:
            return self.alarm_state(region) == "OK"
        except (ClientError, BotoCoreError):
            return self.probe_healthy(region)

    def probe_healthy(self, region: RegionRecord) -> bool:
        probe = self.probe or https_probe
        answers = sum(1 for _ in range(PROBE_ATTEMPTS) if probe(health_url(region)))
        return answers * 2 > PROBE_ATTEMPTS

    def replication_lag_seconds(self, region: RegionRecord, source: RegionRecord) -> Optional[float]:
        """`region`'s lag behind the writer in `source`'s region, in seconds; None when unknown."""
        aurora = region.db_engine == "aurora-postgresql"
        namespace, metric, dimension, scale = AURORA_LAG if aurora else RDS_LAG
        dimensions = [{"Name": dimension, "Value": region.db_cluster_id}]
        if aurora:
            dimensions.append({"Name": LAG_SOURCE_DIMENSION, "Value": source.aws_region})
        now = datetime.fromtimestamp(self.clock.now(), timezone.utc)
        points = self.clients("cloudwatch", region.aws_region).get_metric_statistics(
            Namespace=namespace, MetricName=metric, Dimensions=dimensions,
            StartTime=now - timedelta(seconds=LAG_WINDOW_SECONDS), EndTime=now + timedelta(seconds=1),
            Period=60, Statistics=["Maximum"]).get("Datapoints", [])
        if not points:
            return None
        latest = max(points, key=lambda p: p["Timestamp"])
        return float(latest["Maximum"]) * scale
