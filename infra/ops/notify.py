"""Telling people and dashboards: the regional SNS topic and the `FailoverEvent` metric."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from infra.domain.metrics import FAILOVER_EVENT
from infra.domain.platform import RegionRecord

METRIC_NAMESPACE = FAILOVER_EVENT.namespace
METRIC_NAME = FAILOVER_EVENT.name


class Notifier:
    def __init__(self, clients, clock):
        self.clients = clients
        self.clock = clock

    def publish(self, region: RegionRecord, subject: str, body: dict) -> str:
        """Publish to `region`'s alarm topic; returns the message id."""
        sns = self.clients("sns", region.aws_region)
        return sns.publish(TopicArn=region.alarm_topic_arn, Subject=subject[:100],
                           Message=json.dumps(body, indent=2, default=str))["MessageId"]

    def metric(self, region: RegionRecord, kind: str, failed: str, target: str) -> None:
        """One `FailoverEvent` datapoint (count 1) with the kind, the failed and the target region."""
        self.clients("cloudwatch", region.aws_region).put_metric_data(Namespace=METRIC_NAMESPACE, MetricData=[{
            "MetricName": METRIC_NAME, "Value": 1.0, "Unit": "Count",
            "Timestamp": datetime.fromtimestamp(self.clock.now(), timezone.utc),
            "Dimensions": [{"Name": "Kind", "Value": kind}, {"Name": "FailedRegion", "Value": failed},
                           {"Name": "TargetRegion", "Value": target}]}])
