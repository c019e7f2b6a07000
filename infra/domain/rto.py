"""The modeled recovery time of a region failure, from the stack config.

Failure of the primary region is the worst case, so that is what is modeled:

1. detection: Route53 marks the region unhealthy after `threshold` consecutive failed
   checks, one every `interval` seconds (the spec: 3 x 30 s = 90 s);
2. then, in parallel: resolvers drop the cached answer within the DNS TTL, and the
   failover controller promotes a secondary's database (it starts on the same signal);
3. reconnect: the application's pool (through RDS Proxy) reconnects to the new writer.

RTO = detection + max(TTL, promotion) + reconnect. The promotion and reconnect figures
are planning estimates, not guarantees: Aurora's global database failover typically
completes in about a minute; promoting an RDS read replica takes a few minutes.
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


@dataclass(frozen=True)
class RtoModel:
    detection_seconds: int
    dns_ttl_seconds: int
    promotion_seconds: int
    reconnect_seconds: int

    @property
    def total_seconds(self) -> int:
        return self.detection_seconds + max(self.dns_ttl_seconds, self.promotion_seconds) + self.reconnect_seconds

    def to_json(self, fast: "RtoModel") -> dict:
        return {
            "detectionSeconds": self.detection_seconds,
            "dnsTtlSeconds": self.dns_ttl_seconds,
            "promotionSeconds": self.promotion_seconds,
            "reconnectSeconds": self.reconnect_seconds,
            "totalSeconds": self.total_seconds,
            "fastProfileTotalSeconds": fast.total_seconds,
            "specSeconds": SPEC_RTO_SECONDS,
            "formula": "detection (interval x threshold) + max(DNS TTL, database promotion) + reconnect; "
                       "TTL expiry and promotion run in parallel",
        }


def model(interval: int, threshold: int, ttl: int, engine: str) -> RtoModel:
    return RtoModel(detection_seconds=interval * threshold, dns_ttl_seconds=ttl,
                    promotion_seconds=PROMOTION_SECONDS[engine], reconnect_seconds=RECONNECT_SECONDS)


def for_config(edge, engine: str) -> tuple[RtoModel, RtoModel]:
    """(the configured model, the same with the fast profile's interval)."""
    return (model(edge.health_check_interval, edge.health_check_failure_threshold, edge.dns_ttl, engine),
            model(FAST_INTERVAL, edge.health_check_failure_threshold, edge.dns_ttl, engine))
