"""What a region's operators watch: the alarm topic every alarm notifies, the dashboard of
the spec's key metrics, and the error-rate alarm.

The topic is encrypted with the regional key (its policy lets CloudWatch alarms use it)
and subscribes the configured addresses. The dashboard shows the spec's six metrics:
request latency by region (the Route53 health checks' time to first byte, latency
measurement is on), database replication lag, Redis memory use, the CDN's cache hit
ratio (CloudFront's additional metrics are on), failover events (the `FailoverEvent`
metric the failover controller publishes) and error rates per region (the `5xxErrorRate`
metric the application publishes per region).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from infra.domain.metrics import APP_ERROR_RATE, FAILOVER_EVENT, OwnMetric

APP_NAMESPACE = APP_ERROR_RATE.namespace
GLOBAL_METRICS_REGION = "us-east-1"
"""Route53 and CloudFront metrics are published there."""


@dataclass(frozen=True)
class AlarmTopicArgs:
    kms_key_arn: pulumi.Input[str]
    emails: Sequence[str] = field(default_factory=tuple)


class AlarmTopic(pulumi.ComponentResource):
    """An encrypted SNS topic for alarms, with e-mail subscriptions."""

    arn: pulumi.Output[str]

    def __init__(self, name: str, args: AlarmTopicArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hse:observability:AlarmTopic", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        topic = aws.sns.Topic(name, kms_master_key_id=args.kms_key_arn, opts=child)
        policy = topic.arn.apply(lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
             "Action": "sns:Publish", "Resource": arn},
            {"Sid": "EventBridgePublishes", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
             "Action": "sns:Publish", "Resource": arn},
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
             "Resource": arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
        aws.sns.TopicPolicy(f"{name}-policy", arn=topic.arn, policy=policy, opts=child)
        for i, address in enumerate(args.emails):
            aws.sns.TopicSubscription(f"{name}-email-{i}", topic=topic.arn, protocol="email", endpoint=address,
                                      opts=child)
        self.arn = topic.arn
        self.register_outputs({"arn": self.arn})


@dataclass(frozen=True)
class DashboardArgs:
    stack: str
    aws_region: str
    replication_group_id: pulumi.Input[str]
    db_cluster_id: pulumi.Input[str]
    db_lag_metric: tuple[str, str, int]
    """(metric name, dimension, divisor to seconds) of the engine's replication lag."""
    cdn_distribution_id: pulumi.Input[str]
    error_rate_alarm_percent: int
    cdn_provider: str = "cloudfront"
    alarm_actions: Sequence[pulumi.Input[str]] = field(default_factory=tuple)



def _search(metric: OwnMetric, stat: str) -> str:
    """A SEARCH over every series of one of the platform's own metrics, with the dimension
    set it is published with (a widget without them would match nothing)."""
    schema = ",".join((metric.namespace, *metric.dimensions))
    return f"SEARCH('{{{schema}}} MetricName=\"{metric.name}\"', '{stat}', 60)"

def dashboard_body(stack: str, region: str, group_id: str, cluster_id: str, lag: tuple[str, str, int],
                   distribution_id: str, cdn_provider: str = "cloudfront") -> str:
    """The dashboard's JSON: six widgets on a 24-column grid (the CDN's hit ratio is a
    CloudWatch metric only for CloudFront; other providers report it in their own analytics)."""
    lag_metric, lag_dimension, divisor = lag

    def widget(x: int, y: int, title: str, metrics: list, metric_region: str, unit: str = "") -> dict:
        return {"type": "metric", "x": x, "y": y, "width": 12, "height": 6,
                "properties": {"title": title, "region": metric_region, "view": "timeSeries", "stat": "Average",
                               "period": 60, "metrics": metrics, **({"yAxis": {"left": {"label": unit}}} if unit else {})}}

    def search(expression: str, label: str) -> list:
        return [{"expression": expression, "label": label, "id": "e1"}]

    widgets = [
        widget(0, 0, "Request latency by region (health-check time to first byte)", search(
            "SEARCH('{AWS/Route53,HealthCheckId} MetricName=\"TimeToFirstByte\"', 'Average', 60)", "TTFB"),
            GLOBAL_METRICS_REGION, "ms"),
        # Aurora publishes the global lag per DBClusterIdentifier and SourceRegion (see
        # components/database_alarms.py): a SEARCH over that pair finds it whatever the source.
        widget(12, 0, f"Database replication lag ({stack})",
               [[{"expression": f"e0/{divisor}", "label": "lag (s)", "id": "e1"}],
                [{"expression": f"SEARCH('{{AWS/RDS,{lag_dimension},SourceRegion}} MetricName=\"{lag_metric}\" "
                                f"\"{cluster_id}\"', 'Maximum', 60)", "id": "e0", "visible": False}]]
               if lag_metric == "AuroraGlobalDBReplicationLag" else
               [[{"expression": f"m1/{divisor}", "label": "lag (s)", "id": "e1"}],
                ["AWS/RDS", lag_metric, lag_dimension, cluster_id, {"id": "m1", "visible": False, "stat": "Maximum"}]],
               region, "seconds"),
        widget(0, 6, f"Redis memory usage ({stack})", search(
            f"SEARCH('{{AWS/ElastiCache,CacheClusterId}} MetricName=\"DatabaseMemoryUsagePercentage\" "
            f"\"{group_id}\"', 'Maximum', 60)", "memory %"), region, "percent"),
        widget(12, 6, "CDN cache hit ratio",
               [["AWS/CloudFront", "CacheHitRate", "DistributionId", distribution_id, "Region", "Global"]]
               if distribution_id else search("SEARCH('{AWS/CloudFront,DistributionId,Region} "
                                              "MetricName=\"CacheHitRate\"', 'Average', 300)", "hit %"),
               GLOBAL_METRICS_REGION, "percent") if cdn_provider == "cloudfront" else
        {"type": "text", "x": 12, "y": 6, "width": 12, "height": 6, "properties": {
            "markdown": f"## CDN cache hit ratio\n{cdn_provider} reports the hit ratio in its own analytics; "
                        "CloudWatch has no metric for it."}},
        # The controller publishes each event in the region it promotes (infra/ops/notify.py).
        widget(0, 12, f"Failovers and failbacks into {stack}", search(_search(FAILOVER_EVENT, "Sum"), "events"),
               region, "count"),
        widget(12, 12, "Error rate by region (5xx)", search(_search(APP_ERROR_RATE, "Average"), "5xx %"),
               region, "percent"),
    ]
    return json.dumps({"widgets": widgets})


class RegionDashboard(pulumi.ComponentResource):
    """The region's dashboard and its error-rate alarm."""

    dashboard_name: pulumi.Output[str]

    def __init__(self, name: str, args: DashboardArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hse:observability:RegionDashboard", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        body = pulumi.Output.all(args.replication_group_id, args.db_cluster_id, args.cdn_distribution_id).apply(
            lambda ids: dashboard_body(args.stack, args.aws_region, ids[0], ids[1], args.db_lag_metric, ids[2],
                                       args.cdn_provider))
        dashboard = aws.cloudwatch.Dashboard(f"{name}", dashboard_name=f"{name}", dashboard_body=body, opts=child)
        aws.cloudwatch.MetricAlarm(
            f"{name}-error-rate",
            alarm_description=f"More than {args.error_rate_alarm_percent} % of answers in {args.stack} are 5xx",
            namespace=APP_ERROR_RATE.namespace, metric_name=APP_ERROR_RATE.name,
            dimensions={"Region": args.aws_region},
            statistic="Average", period=60, evaluation_periods=3, datapoints_to_alarm=3,
            comparison_operator="GreaterThanThreshold", threshold=args.error_rate_alarm_percent,
            treat_missing_data="notBreaching", alarm_actions=list(args.alarm_actions),
            ok_actions=list(args.alarm_actions), opts=child)
        self.dashboard_name = dashboard.dashboard_name
        self.register_outputs({"dashboardName": self.dashboard_name})
