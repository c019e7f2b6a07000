"""The cache's part of a failover: the Redis Global Datastore, when the platform has one.

Each region's replication group is independent and fails over inside its region by
itself (Multi-AZ); only a Global Datastore (`hse:cacheGlobalDatastore`) has a primary
region to move, with `failover_global_replication_group`.
"""

from __future__ import annotations

from infra.domain.platform import RegionRecord


class Cache:
    def __init__(self, clients):
        self.clients = clients

    def primary_region(self, target: RegionRecord) -> str:
        found = self.clients("elasticache", target.aws_region).describe_global_replication_groups(
            GlobalReplicationGroupId=target.cache_global_datastore_id, ShowMemberInfo=True)["GlobalReplicationGroups"]
        for member in found[0].get("Members", []) if found else []:
            if member.get("Role") == "PRIMARY":
                return member["ReplicationGroupRegion"]
        return ""

    def fail_over(self, target: RegionRecord) -> str:
        """Make `target`'s replication group the datastore's primary; what was done, in a line."""
        if not target.cache_global_datastore_id:
            return "no Global Datastore: each region's cache stays independent (in-region Multi-AZ failover)"
        if self.primary_region(target) == target.aws_region:
            return f"{target.cache_global_datastore_id} already has its primary in {target.aws_region}"
        self.clients("elasticache", target.aws_region).failover_global_replication_group(
            GlobalReplicationGroupId=target.cache_global_datastore_id, PrimaryRegion=target.aws_region,
            PrimaryReplicationGroupId=target.cache_replication_group_id)
        return f"{target.cache_global_datastore_id}: primary now {target.cache_replication_group_id} ({target.aws_region})"
