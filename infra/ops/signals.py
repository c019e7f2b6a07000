"""What triggers the controller: a CloudWatch alarm's state change, as EventBridge
delivers it ("CloudWatch Alarm State Change") or as SNS wraps the alarm's message, read
into a `Signal` that names the region and the part that failed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from infra.domain.platform import Platform

Component = Literal["region", "database", "cache"]


class SignalError(Exception):
    """The event is not an alarm state change of this platform."""


@dataclass(frozen=True)
class Signal:
    stack: str
    component: Component
    state: Literal["ALARM", "OK"]
    source: str
    """The alarm's name (or the operator's command)."""
    operator: bool = False
    """An operator's decision (`python -m infra.cli failover`): acted on whatever the alarm says now."""


TRIGGER_METRIC = ("AWS/Route53", "HealthCheckStatus")
"""The only alarm that triggers the controller: a region's health check (3 failures, 90 s)."""
RDS_EVENT_TYPES = ("RDS DB Cluster Event", "RDS DB Instance Event")
RDS_TRIGGER_CATEGORIES = {"failure"}


def _from_alarm(detail: dict, platform: Platform) -> Signal:
    name, state = detail.get("alarmName", ""), detail.get("state", {}).get("value", "")
    metrics = [m.get("metricStat", {}).get("metric", {}) for m in detail.get("configuration", {}).get("metrics", [])]
    metric = next((m for m in metrics if (m.get("namespace"), m.get("name")) == TRIGGER_METRIC), None)
    if metric is None:
        raise SignalError(f"alarm {name} is not a region health-check alarm; the controller acts on those only")
    if state not in ("ALARM", "OK"):
        raise SignalError(f"alarm {name}: state {state or 'missing'} is neither ALARM nor OK; nothing to do")
    region = platform.by_health_check((metric.get("dimensions") or {}).get("HealthCheckId", ""))
    if region is None:
        raise SignalError(f"alarm {name}: its health check belongs to no region of this platform")
    return Signal(region.stack, "region", state, name)


def _from_rds_event(detail: dict, platform: Platform) -> Signal:
    source = detail.get("SourceIdentifier", "")
    categories = set(detail.get("EventCategories") or [])
    if not categories & RDS_TRIGGER_CATEGORIES:
        raise SignalError(f"RDS event of {source} ({', '.join(sorted(categories)) or 'no category'}) "
                          "is not a failure; nothing to do")
    region = platform.by_cluster(source)
    if region is None:
        raise SignalError(f"RDS event of {source}: not a database of this platform")
    return Signal(region.stack, "database", "ALARM", f"rds-event:{detail.get('EventID', source)}")


def parse(event: dict[str, Any], platform: Platform) -> Signal:
    """An EventBridge event (alarm state change, RDS failure event) or an SNS alarm notification."""
    if "Records" in event:  # SNS -> Lambda: the alarm's own notification format
        try:
            message = json.loads(event["Records"][0]["Sns"]["Message"])
            trigger = message["Trigger"]
        except (KeyError, IndexError, TypeError, ValueError):
            raise SignalError("an SNS event without an alarm notification") from None
        dims = {d.get("name"): d.get("value") for d in trigger.get("Dimensions", [])}
        return _from_alarm({"alarmName": message.get("AlarmName", ""),
                            "state": {"value": message.get("NewStateValue", "")},
                            "configuration": {"metrics": [{"metricStat": {"metric": {
                                "namespace": trigger.get("Namespace"), "name": trigger.get("MetricName"),
                                "dimensions": dims}}}]}}, platform)
    kind = event.get("detail-type")
    if kind == "CloudWatch Alarm State Change":
        return _from_alarm(event.get("detail") or {}, platform)
    if kind in RDS_EVENT_TYPES:
        return _from_rds_event(event.get("detail") or {}, platform)
    raise SignalError(f"unsupported event (detail-type {kind!r}); expected a CloudWatch alarm state change "
                      "or an RDS failure event from EventBridge, or an alarm notification from SNS")


def alarm_event(alarm_name: str, state: str, health_check_id: str, region: str = "us-east-1",
                account: str = "111122223333") -> dict[str, Any]:
    """A health-check alarm's EventBridge event as CloudWatch emits it (the drill and the tests send these)."""
    return {
        "version": "0", "source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change",
        "account": account, "region": region,
        "resources": [f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm_name}"],
        "detail": {"alarmName": alarm_name, "state": {"value": state, "reason": "drill"},
                   "previousState": {"value": "OK" if state == "ALARM" else "ALARM"},
                   "configuration": {"metrics": [{"id": "m1", "metricStat": {"metric": {
                       "namespace": TRIGGER_METRIC[0], "name": TRIGGER_METRIC[1],
                       "dimensions": {"HealthCheckId": health_check_id}}}}]}},
    }


def rds_failure_event(cluster_id: str, region: str, account: str = "111122223333") -> dict[str, Any]:
    """An RDS failure event as EventBridge delivers it (a database-only failure)."""
    return {"version": "0", "source": "aws.rds", "detail-type": "RDS DB Cluster Event", "account": account,
            "region": region, "detail": {"EventCategories": ["failure"], "SourceType": "CLUSTER",
                                         "SourceIdentifier": cluster_id, "EventID": "RDS-EVENT-0069",
                                         "Message": "The DB cluster failed"}}
