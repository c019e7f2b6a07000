"""Database actions of a failover and a failback, on the RDS API.

- `aurora-postgresql`: the global cluster's managed failover (`failover_global_cluster`
  with `AllowDataLoss`, the unplanned case), and when AWS refuses it (the global cluster
  is not in a state that allows it, or the API is unavailable) detach-and-promote:
  `remove_from_global_cluster` turns the target into a standalone read-write cluster.
  Failback is the planned, lossless `switchover_global_cluster`.
- `rds-postgres`: `promote_read_replica` of the target region's replica (one way: the
  old primary must be rebuilt as a replica of the new one, see docs/runbooks/failback.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from botocore.exceptions import BotoCoreError, ClientError

from infra.ops.clock import Clock
from infra.domain.platform import Platform, RegionRecord

MANAGED, DETACHED, PROMOTED = "managed-failover", "detach-and-promote", "promote-read-replica"
PROMOTION_SECONDS = {"aurora-postgresql": 60, "rds-postgres": 120}
"""Modeled duration of a promotion (the same estimates as `infra/domain/rto.py`)."""


class DatabaseError(Exception):
    """A database action failed in a way the controller cannot work around."""


@dataclass(frozen=True)
class Promotion:
    method: str
    target: str
    detail: str


class Database:
    def __init__(self, clients, platform: Platform, clock: Clock, wait_seconds: float = 600, poll_seconds: float = 10):
        self.clients = clients
        self.platform = platform
        self.clock = clock
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds

    def _rds(self, region: RegionRecord):
        return self.clients("rds", region.aws_region)

    # -- reading ----------------------------------------------------------------------
    def global_members(self, via: RegionRecord) -> list[dict]:
        """The global cluster's members as AWS reports them (read from `via`'s region)."""
        try:
            clusters = self._rds(via).describe_global_clusters(
                GlobalClusterIdentifier=via.db_global_cluster_id)["GlobalClusters"]
        except ClientError as exc:
            raise DatabaseError(f"cannot read global cluster {via.db_global_cluster_id}: "
                                f"{exc.response['Error']['Message']}") from None
        return clusters[0].get("GlobalClusterMembers", []) if clusters else []

    def writer(self, via: RegionRecord) -> Optional[str]:
        """The stack whose cluster writes now (None when no member writes)."""
        if via.db_engine != "aurora-postgresql":
            for region in self.platform.regions:
                try:
                    found = self._rds(region).describe_db_instances(DBInstanceIdentifier=region.db_cluster_id)
                except ClientError:
                    continue
                if found["DBInstances"] and not found["DBInstances"][0].get("ReadReplicaSourceDBInstanceIdentifier"):
                    return region.stack
            return None
        for member in self.global_members(via):
            if member.get("IsWriter"):
                record = self.platform.by_cluster(member["DBClusterArn"])
                return record.stack if record else None
        return None

    def is_member(self, region: RegionRecord, via: RegionRecord) -> bool:
        return any(m["DBClusterArn"] == region.db_cluster_arn for m in self.global_members(via))

    # -- acting -----------------------------------------------------------------------
    def promote(self, failed: RegionRecord, target: RegionRecord) -> Promotion:
        """Make `target` the writer after `failed` was lost (unplanned)."""
        if target.db_engine == "rds-postgres":
            self._rds(target).promote_read_replica(DBInstanceIdentifier=target.db_cluster_id, BackupRetentionPeriod=30)
            return Promotion(PROMOTED, target.stack, f"promoted read replica {target.db_cluster_id}")
        try:
            self._rds(target).failover_global_cluster(
                GlobalClusterIdentifier=target.db_global_cluster_id, TargetDbClusterIdentifier=target.db_cluster_arn,
                AllowDataLoss=True)
        except (ClientError, BotoCoreError) as exc:
            # Refused (the global cluster's state) or not offered by this endpoint at all.
            reason = exc.response["Error"].get("Code", "error") if isinstance(exc, ClientError) else type(exc).__name__
            self._rds(target).remove_from_global_cluster(GlobalClusterIdentifier=target.db_global_cluster_id,
                                                         DbClusterIdentifier=target.db_cluster_arn)
            return Promotion(DETACHED, target.stack,
                             f"managed failover refused ({reason}); detached {target.db_cluster_id} from "
                             f"{target.db_global_cluster_id} as a standalone writer")
        self.wait_for_writer(target)
        return Promotion(MANAGED, target.stack, f"failover_global_cluster to {target.db_cluster_id} (AllowDataLoss)")

    def switchover(self, target: RegionRecord) -> None:
        """The planned, lossless move of the writer back to `target` (failback)."""
        self._rds(target).switchover_global_cluster(GlobalClusterIdentifier=target.db_global_cluster_id,
                                                    TargetDbClusterIdentifier=target.db_cluster_arn)
        self.wait_for_writer(target)

    def wait_for_writer(self, target: RegionRecord) -> None:
        deadline = self.clock.now() + self.wait_seconds
        while self.writer(target) != target.stack:
            if self.clock.now() >= deadline:
                raise DatabaseError(f"{target.db_cluster_id} is not the writer after {self.wait_seconds:.0f} s")
            self.clock.sleep(self.poll_seconds)
