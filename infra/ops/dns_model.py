"""What Route53 would answer, evaluated from the zone's record sets and the health of
each region: the drill's check that "DNS answers only from healthy regions".

It follows Route53's rules for the routing policies the platform uses: a geolocation
record whose health check fails is skipped for the default `*`; weighted and latency
sets leave out unhealthy members (and members at weight 0); a failover pair answers its
SECONDARY when the PRIMARY is unhealthy.
"""

from __future__ import annotations

from typing import Optional

from infra.domain.platform import Platform


class ZoneModel:
    def __init__(self, record_sets: list[dict], platform: Platform, healthy: set[str]):
        self.sets = record_sets
        self.platform = platform
        self.healthy = healthy
        self.check_owner = {r.health_check_id: r.stack for r in platform.regions}
        self.endpoints = {r.regional_endpoint: r.stack for r in platform.regions}

    def _named(self, name: str) -> list[dict]:
        return [s for s in self.sets if s["Name"].rstrip(".") == name.rstrip(".")]

    def _ok(self, record: dict) -> bool:
        check = record.get("HealthCheckId")
        return check is None or self.check_owner.get(check) in self.healthy

    def resolve(self, name: str) -> set[str]:
        """The regions a query for `name` ends at."""
        name = name.rstrip(".")
        if name in self.endpoints:
            return {self.endpoints[name]}
        members = self._named(name)
        weighted = [m for m in members if "Weight" in m]
        if weighted:
            live = [m for m in weighted if m["Weight"] > 0 and self._ok(m)]
            return set().union(*(self.resolve(m["ResourceRecords"][0]["Value"]) for m in live)) if live else set()
        latency = [m for m in members if "Region" in m]
        if latency:
            live = [m for m in latency if self._ok(m)]
            return set().union(*(self.resolve(m["ResourceRecords"][0]["Value"]) for m in live)) if live else set()
        failover = {m.get("Failover"): m for m in members if "Failover" in m}
        if failover:
            for kind in ("PRIMARY", "SECONDARY"):
                if kind in failover and self._ok(failover[kind]):
                    return self.resolve(failover[kind]["ResourceRecords"][0]["Value"])
            return set()
        return set().union(*(self.resolve(m["ResourceRecords"][0]["Value"]) for m in members if "ResourceRecords" in m))

    def geo_answers(self, name: str) -> dict[str, set[str]]:
        """Location code -> the regions answering a viewer there ('*' for the default)."""
        records = [m for m in self._named(name) if "GeoLocation" in m]
        default: Optional[dict] = next((m for m in records if m["GeoLocation"].get("CountryCode") == "*"), None)
        fallback = self.resolve(default["ResourceRecords"][0]["Value"]) if default else set()
        answers = {"*": fallback}
        for record in records:
            if record is default:
                continue
            code = record["GeoLocation"].get("CountryCode") or record["GeoLocation"].get("ContinentCode")
            answers[code] = self.resolve(record["ResourceRecords"][0]["Value"]) if self._ok(record) else fallback
        return answers
