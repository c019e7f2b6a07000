"""Weighted DNS: holding a recovered region's users away until failback, shifting them
back gradually, and switching between blue and green.

A region's geolocation records for `app.<domain>` (`components/geo_dns.py`) point at its
endpoint `<stack>.<domain>`. On a failover the controller repoints them at a weighted
set `shift-<stack>.<domain>` of two members, the region itself at weight 0 and the
interim region at 100, each with its own health check. So when the failed region comes
back its users do not flood it at once; failback raises its weight step by step
(10, 25, 50, 100 %) and, at 100 %, points the geolocation records back at
`<stack>.<domain>` and deletes the set, leaving the records exactly as the program
declared them (a later `pulumi up` sees no drift).

Blue-green reweighs the records the workloads tier declares under `live-<stack>.<domain>`
(one member per deployed colour, each with its own health check): `reweigh` reads them
first and changes only their weights, so a switch keeps every member's health check,
TTL and set identifier, and never writes a member that does not exist.
"""

from __future__ import annotations

from typing import Any

from infra.domain.platform import RegionRecord

SHIFT_LABEL = "shift-{stack}"
WEIGHT_TTL = 30


def shift_name(region: RegionRecord) -> str:
    return f"{SHIFT_LABEL.format(stack=region.stack)}.{region.domain}"


def member_id(home: RegionRecord, stack: str) -> str:
    """Set identifier of `stack`'s member in `home`'s weighted set (unique in the zone)."""
    return f"{SHIFT_LABEL.format(stack=home.stack)}-{stack}"


class UnknownMember(Exception):
    """A weighted set has no member with the set identifier asked for (not deployed)."""


class Traffic:
    def __init__(self, clients):
        self.route53 = clients("route53", "us-east-1")

    def records(self, zone_id: str, name: str) -> list[dict[str, Any]]:
        """Every record set named `name` (all set identifiers)."""
        wanted = name.rstrip(".") + "."
        found, kwargs = [], {"HostedZoneId": zone_id, "StartRecordName": wanted}
        while True:
            page = self.route53.list_resource_record_sets(**kwargs)
            for rrs in page["ResourceRecordSets"]:
                if rrs["Name"] == wanted:
                    found.append(rrs)
                elif rrs["Name"] > wanted:
                    return found
            if not page.get("IsTruncated"):
                return found
            kwargs.update(StartRecordName=page["NextRecordName"], StartRecordType=page["NextRecordType"])

    def _change(self, zone_id: str, changes: list[dict], comment: str) -> None:
        if changes:
            self.route53.change_resource_record_sets(HostedZoneId=zone_id,
                                                     ChangeBatch={"Comment": comment, "Changes": changes})

    def geo_records(self, region: RegionRecord) -> list[dict[str, Any]]:
        """The region's own geolocation records of `app.<domain>`."""
        return [r for r in self.records(region.hosted_zone_id, f"app.{region.domain}")
                if r.get("SetIdentifier", "").startswith(f"{region.stack}-") and "GeoLocation" in r]

    def weights(self, zone_id: str, name: str) -> dict[str, int]:
        """Set identifier -> weight of the weighted set `name` (empty when there is none)."""
        return {r["SetIdentifier"]: int(r["Weight"]) for r in self.records(zone_id, name) if "Weight" in r}

    def set_weights(self, zone_id: str, name: str, members: dict[str, tuple[str, str, int]], comment: str) -> None:
        """UPSERT a weighted CNAME set: set identifier -> (target, health check id, weight)."""
        self._change(zone_id, [{"Action": "UPSERT", "ResourceRecordSet": {
            "Name": name, "Type": "CNAME", "SetIdentifier": ident, "Weight": weight, "TTL": WEIGHT_TTL,
            "ResourceRecords": [{"Value": target}], **({"HealthCheckId": check} if check else {})}}
            for ident, (target, check, weight) in members.items()], comment)

    def reweigh(self, zone_id: str, name: str, weights: dict[str, int], comment: str) -> dict[str, int]:
        """Change the weights of existing members of the weighted set `name` (set identifier ->
        weight) and nothing else: each member is UPSERTed exactly as listed (its health check,
        TTL, target and set identifier kept). Returns the weights before; raises
        `UnknownMember` (writing nothing) when a set identifier has no record."""
        current = {r["SetIdentifier"]: r for r in self.records(zone_id, name) if "Weight" in r}
        unknown = sorted(set(weights) - set(current))
        if unknown:
            raise UnknownMember(f"{name} has no member {', '.join(unknown)}; members: "
                                f"{', '.join(sorted(current)) or 'none'}")
        self._change(zone_id, [{"Action": "UPSERT", "ResourceRecordSet": {**current[ident], "Weight": weight}}
                               for ident, weight in weights.items() if int(current[ident]["Weight"]) != weight],
                     comment)
        return {ident: int(r["Weight"]) for ident, r in current.items()}

    # -- failover and failback --------------------------------------------------------
    def hold(self, home: RegionRecord, interim: RegionRecord) -> int:
        """Keep `home`'s users on `interim` until failback; returns the records repointed."""
        name = shift_name(home)
        self.set_weights(home.hosted_zone_id, name, {
            member_id(home, home.stack): (home.regional_endpoint, home.health_check_id, 0),
            member_id(home, interim.stack): (interim.regional_endpoint, interim.health_check_id, 100)},
            f"hold {home.stack}'s users on {interim.stack} until failback")
        return self._point_geo(home, name, f"{home.stack}'s geolocation records to {name}")

    def shift(self, home: RegionRecord, percent: int) -> None:
        """`home` at `percent`, the interim region at the rest."""
        name = shift_name(home)
        own = member_id(home, home.stack)
        members = [r["SetIdentifier"] for r in self.records(home.hosted_zone_id, name) if "Weight" in r]
        self.reweigh(home.hosted_zone_id, name, {ident: percent if ident == own else 100 - percent for ident in members},
                     f"failback of {home.stack}: {percent} %")

    def release(self, home: RegionRecord) -> None:
        """Point the geolocation records back at `home` and delete the weighted set."""
        name = shift_name(home)
        self._point_geo(home, home.regional_endpoint, f"{home.stack}'s geolocation records back to its endpoint")
        self._change(home.hosted_zone_id, [{"Action": "DELETE", "ResourceRecordSet": r}
                                           for r in self.records(home.hosted_zone_id, name)],
                     f"failback of {home.stack} complete")

    def held(self, home: RegionRecord) -> bool:
        return bool(self.records(home.hosted_zone_id, shift_name(home)))

    def _point_geo(self, region: RegionRecord, target: str, comment: str) -> int:
        changes = []
        for record in self.geo_records(region):
            if record["ResourceRecords"][0]["Value"].rstrip(".") != target:
                changes.append({"Action": "UPSERT", "ResourceRecordSet": {
                    **record, "ResourceRecords": [{"Value": target}]}})
        self._change(region.hosted_zone_id, changes, comment)
        return len(changes)
