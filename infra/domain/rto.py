"""The modeled recovery time of a region failure, from the stack config.

Failure of the primary region is the worst case, so that is what is modeled, as two
paths that start together when Route53 marks the region unhealthy:

1. detection: Route53 marks the region unhealthy after `threshold` consecutive failed
   checks, one every `interval` seconds (the spec: 3 x 30 s = 90 s);
2. then, in parallel:
   - DNS: Route53 stops answering with the region at once (its data plane acts on the
     health check itself), and resolvers drop the cached answer within the DNS TTL;
   - the database: the health alarm turns ALARM after its evaluation window (the alarm's
     period x evaluation periods: Route53 publishes `HealthCheckStatus` once a minute, the
     finest period a standard-resolution metric allows), its state change travels as an
     EventBridge event from us-east-1 to the controller's region and invokes the Lambda
     (the forwarding hop), and the controller promotes a secondary's database;
3. reconnect: the application's pool (through RDS Proxy) reconnects to the new writer.

RTO = detection + max(TTL, alarm window + forwarding + promotion) + reconnect.

The promotion and reconnect figures are planning estimates, not guarantees: Aurora's
global database failover typically completes in about a minute; promoting an RDS read
replica takes a few minutes. AWS documents no latency figure for delivering an event to
another region's event bus and on to a Lambda target (EventBridge makes the first
delivery attempt as soon as the event arrives, and retries for up to 24 hours when the
target is constrained); `FORWARDING_SECONDS` is an assumption, 15 s for the alarm's
state-change event, the cross-region hop and the function's invocation together.

When us-east-1 itself is lost, the health alarms and their EventBridge rule are lost with
it (Route53 publishes health-check metrics only there): DNS still fails over (Route53's
data plane is global), but the alarm path cannot start the controller. The controller's
watchdog, a schedule in its own region, then probes every region's health endpoint each
`WATCHDOG_PERIOD_SECONDS` and fails the primary over after `WATCHDOG_THRESHOLD`
consecutive failed probes: that path's recovery time is `watchdog_total_seconds`
(docs/edge.md, "When us-east-1 is lost").
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.domain.db_sizing import AURORA

SPEC_RTO_SECONDS = 300
"""The spec: RTO under 5 minutes."""
PROMOTION_SECONDS = {AURORA: 60, "rds-postgres": 120}
RECONNECT_SECONDS = 30
FAST_INTERVAL = 10
"""The `fast` health-check profile: a check every 10 s."""
HEALTH_ALARM_PERIOD_SECONDS = 60
"""The health alarm's period (`components/geo_dns.py`): `HealthCheckStatus` is a one-minute metric."""
HEALTH_ALARM_EVALUATION_PERIODS = 1
"""The health alarm fires on the first minute whose minimum status is unhealthy."""
FORWARDING_SECONDS = 15
"""Assumed: alarm state-change event, EventBridge hop us-east-1 -> the controller's region, Lambda invocation."""
WATCHDOG_PERIOD_SECONDS = 60
"""The controller's watchdog schedule (`rate(1 minute)`, the finest an EventBridge schedule rule offers)."""
WATCHDOG_THRESHOLD = 3
"""Consecutive failed probes before the watchdog fails a region over (like Route53's 3 checks)."""
WATCHDOG_SCHEDULE = "rate(1 minute)"
WATCHDOG_EVENT = {"source": "hse.watchdog", "detail-type": "HSE Watchdog Tick", "detail": {}}
"""The constant input the watchdog's schedule rule gives the controller."""


@dataclass(frozen=True)
class RtoModel:
    detection_seconds: int
    dns_ttl_seconds: int
    promotion_seconds: int
    reconnect_seconds: int
    alarm_seconds: int = HEALTH_ALARM_PERIOD_SECONDS * HEALTH_ALARM_EVALUATION_PERIODS
    forwarding_seconds: int = FORWARDING_SECONDS

    @property
    def controller_seconds(self) -> int:
        """From Route53's verdict to the promoted writer: alarm window, forwarding, promotion."""
        return self.alarm_seconds + self.forwarding_seconds + self.promotion_seconds

    @property
    def total_seconds(self) -> int:
        return self.detection_seconds + max(self.dns_ttl_seconds, self.controller_seconds) + self.reconnect_seconds

    @property
    def watchdog_total_seconds(self) -> int:
        """us-east-1 lost: DNS as usual, the database once the watchdog has seen enough failed probes."""
        watchdog = WATCHDOG_PERIOD_SECONDS * WATCHDOG_THRESHOLD
        return max(self.detection_seconds + self.dns_ttl_seconds,
                   watchdog + self.promotion_seconds) + self.reconnect_seconds

    def to_json(self, fast: "RtoModel") -> dict:
        return {
            "detectionSeconds": self.detection_seconds,
            "dnsTtlSeconds": self.dns_ttl_seconds,
            "alarmSeconds": self.alarm_seconds,
            "forwardingSeconds": self.forwarding_seconds,
            "promotionSeconds": self.promotion_seconds,
            "reconnectSeconds": self.reconnect_seconds,
            "totalSeconds": self.total_seconds,
            "fastProfileTotalSeconds": fast.total_seconds,
            "usEast1LostTotalSeconds": self.watchdog_total_seconds,
            "specSeconds": SPEC_RTO_SECONDS,
            "formula": "detection (interval x threshold) + max(DNS TTL, alarm window (period x evaluation periods) "
                       "+ EventBridge forwarding + database promotion) + reconnect; DNS and the controller's path "
                       "run in parallel",
        }


def model(interval: int, threshold: int, ttl: int, engine: str) -> RtoModel:
    return RtoModel(detection_seconds=interval * threshold, dns_ttl_seconds=ttl,
                    promotion_seconds=PROMOTION_SECONDS[engine], reconnect_seconds=RECONNECT_SECONDS)


def for_config(edge, engine: str) -> tuple[RtoModel, RtoModel]:
    """(the configured model, the same with the fast profile's interval)."""
    return (model(edge.health_check_interval, edge.health_check_failure_threshold, edge.dns_ttl, engine),
            model(FAST_INTERVAL, edge.health_check_failure_threshold, edge.dns_ttl, engine))
