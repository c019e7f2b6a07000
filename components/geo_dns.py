"""A region's part of the platform's DNS: its health check, its geolocation records, its
member of the latency-routed default, and the tenant records that point at it.

Route53 answers `app.<domain>` from geolocation records. Each region owns the records of
the continents and countries the routing table gives it, every one tied to the region's
health check on `https://<stack>.<domain>/api/health`. When a record's region is
unhealthy, Route53 falls back to the next broader record (a country override to its
continent, a continent to the default `*`). The default is owned by the primary and
points at `nearest.<domain>`, a latency-routed set to which every region adds itself
with its own health check, so the fallback is the nearest healthy region and no stack
needs an output of a stack that deploys after it.

Tenant host names `<tenant>.<domain>` are failover records: PRIMARY in the tenant's
preferred region, SECONDARY in its fallback region (inside the tenant's residency zone);
each stack declares only the records that point at itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional, Sequence

import pulumi
import pulumi_aws as aws

from infra.domain.naming import APP_LABEL, HEALTH_PATH, NEAREST_LABEL, host  # noqa: F401 (HEALTH_PATH re-exported)
from infra.domain.rto import HEALTH_ALARM_EVALUATION_PERIODS, HEALTH_ALARM_PERIOD_SECONDS


@dataclass(frozen=True)
class TenantRecord:
    tenant: str
    failover: Literal["PRIMARY", "SECONDARY"]


@dataclass(frozen=True)
class GeoDnsArgs:
    """Inputs of `GeoDns`."""

    stack: str
    aws_region: str
    domain: str
    zone_id: pulumi.Input[str]
    interval: int
    """Seconds between health checks: 30 (standard) or 10 (fast)."""
    failure_threshold: int
    ttl: int
    locations: Sequence[tuple[str, str]]
    """("continent" | "country", code) records this region serves."""
    owns_default: bool
    """The primary declares the default (`*`) record."""
    alarm_provider: aws.Provider
    """us-east-1: Route53 publishes health-check metrics there only."""
    tenants: Sequence[TenantRecord] = field(default_factory=tuple)
    alarm_actions: Sequence[pulumi.Input[str]] = field(default_factory=tuple)
    """Topics in us-east-1 (alarms notify topics of their own region only)."""
    latency_alarm_ms: int = 1000
    """Time to first byte of the health check that raises the latency alarm."""


class GeoDns(pulumi.ComponentResource):
    """Health check, alarm and the records of one region."""

    health_check_id: pulumi.Output[str]
    endpoint: str
    """`<stack>.<domain>`: the region's endpoint, where the health check and records point."""
    records: dict[str, aws.route53.Record]
    """Set identifier -> record."""

    def __init__(self, name: str, args: GeoDnsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("hse:edge:GeoDns", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.endpoint = host(args.stack, args.domain)
        check = aws.route53.HealthCheck(
            f"{name}-health",
            type="HTTPS",
            fqdn=self.endpoint,
            port=443,
            resource_path=HEALTH_PATH,
            enable_sni=True,
            request_interval=args.interval,
            failure_threshold=args.failure_threshold,
            measure_latency=True,
            tags={"Name": f"{self.endpoint}{HEALTH_PATH}"},
            opts=child,
        )
        self.health_check_id = check.id
        def alarm(suffix: str, description: str, metric: str, statistic: str, periods: int, comparison: str,
                  threshold: float, missing: str) -> None:
            aws.cloudwatch.MetricAlarm(
                f"{name}-{suffix}", alarm_description=f"{args.stack} ({args.aws_region}) {description}",
                namespace="AWS/Route53", metric_name=metric, dimensions={"HealthCheckId": check.id},
                statistic=statistic, period=HEALTH_ALARM_PERIOD_SECONDS, evaluation_periods=periods,
                datapoints_to_alarm=periods,
                comparison_operator=comparison, threshold=threshold, treat_missing_data=missing,
                alarm_actions=list(args.alarm_actions), ok_actions=list(args.alarm_actions),
                opts=pulumi.ResourceOptions(parent=self, provider=args.alarm_provider))

        alarm("health-alarm", f"failed {args.failure_threshold} consecutive health checks of "
                              f"{self.endpoint}{HEALTH_PATH}: Route53 routes its users elsewhere",
              "HealthCheckStatus", "Minimum", HEALTH_ALARM_EVALUATION_PERIODS, "LessThanThreshold", 1, "breaching")
        alarm("latency-alarm", f"answers {HEALTH_PATH} slower than {args.latency_alarm_ms} ms for 3 minutes",
              "TimeToFirstByte", "Average", 3, "GreaterThanThreshold", args.latency_alarm_ms, "missing")

        self.records = {}

        def record(suffix: str, record_name: str, target: str, set_identifier: Optional[str],
                   health: bool = True, **routing) -> None:
            self.records[set_identifier or record_name] = aws.route53.Record(
                f"{name}-{suffix}",
                zone_id=args.zone_id,
                name=record_name,
                type="CNAME",
                ttl=args.ttl,
                records=[target],
                set_identifier=set_identifier,
                health_check_id=check.id if health else None,
                allow_overwrite=False,
                opts=child,
                **routing,
            )

        app = host(APP_LABEL, args.domain)
        for kind, code in args.locations:
            record(f"geo-{kind}-{code.lower()}", app, self.endpoint, f"{args.stack}-{kind}-{code}",
                   geolocation_routing_policies=[{kind: code}])
        nearest = host(NEAREST_LABEL, args.domain)
        record("nearest", nearest, self.endpoint, args.stack,
               latency_routing_policies=[{"region": args.aws_region}])
        if args.owns_default:
            # Not health-checked itself: it must always answer, and what it answers is a set
            # that Route53 filters by health (every member of `nearest` has a health check).
            record("geo-default", app, nearest, "default", health=False,
                   geolocation_routing_policies=[{"country": "*"}])
        for tenant in args.tenants:
            record(f"tenant-{tenant.tenant}", host(tenant.tenant, args.domain), self.endpoint,
                   f"{args.stack}-{tenant.tenant}-{tenant.failover.lower()}",
                   failover_routing_policies=[{"type": tenant.failover}])
        self.register_outputs({"healthCheckId": self.health_check_id, "endpoint": self.endpoint})
