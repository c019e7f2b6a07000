"""Database actions of a failover and a failback, on the RDS API.

- `aurora-postgresql`: the global cluster's managed failover (`failover_global_cluster`
  with `AllowDataLoss`, the unplanned case). Detach-and-promote
  (`remove_from_global_cluster`, which turns the target into a standalone read-write
  cluster and cannot be undone) is the fallback only when AWS says the managed failover
  cannot happen, and only once `describe_global_clusters` shows no failover or switchover
  in progress. The errors `FailoverGlobalCluster` can return are, in botocore's RDS model
  (`botocore/data/rds/2014-10-31/service-2.json`, operation `FailoverGlobalCluster`):
  `InvalidGlobalClusterStateFault` ("the global cluster is in an invalid state and can't
  perform the requested operation"), `InvalidDBClusterStateFault` (the target cluster's
  state), `GlobalClusterNotFoundFault`, `DBClusterNotFoundFault`. Only the first means the
  managed failover cannot happen; a failover already running answers it too, hence the
  check of `FailoverState` (empty unless a switchover or failover is scheduled or in
  progress, its `Status` pending / failing-over / switching-over / cancelling) before
  detaching. A cluster state or a throttle, a 5xx, a timeout (a call AWS may have accepted)
  is retried a bounded number of times with exponential backoff and then fails loudly
  (`DatabaseError`), nothing detached; an unknown identifier fails at once.
- Fencing after a detach: the old primary still believes it writes (it leads the global
  cluster and any secondary left in it). RDS has no call that makes an Aurora writer
  read-only, and a cluster of a global database cannot be stopped (StopDBCluster does
  not apply to global database members), so the fence is the network: `modify_db_cluster`
  gives the old primary only its VPC's default security group, which the program strips
  of every rule (`components/region_stack.py`), so nothing reaches it any more. It
  needs the failed region's RDS API; when that does not answer, the step says so and the
  runbook does it by hand when the region returns (docs/runbooks/failover.md).
- Failback is the planned, lossless `switchover_global_cluster`.
- `rds-postgres`: `promote_read_replica` of the target region's replica (one way: the
  old primary must be rebuilt as a replica of the new one, see docs/runbooks/failback.md),
  then the same fence on the old primary's instance (`modify_db_instance` with only its
  VPC's default group; the instance could be stopped instead, but a stopped instance starts
  again by itself after 7 days, and the fence must hold until the rebuild): an instance
  that comes back must take no write (split brain). The local drill proves that promise on
  real PostgreSQL (`infra/local/`, the `split-brain` scenario).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from botocore.exceptions import BotoCoreError, ClientError

from infra.ops.clock import Clock
from infra.domain.platform import Platform, RegionRecord

MANAGED, DETACHED, PROMOTED = "managed-failover", "detach-and-promote", "promote-read-replica"
CANNOT_FAIL_OVER = frozenset({"InvalidGlobalClusterStateFault"})
"""Error codes of FailoverGlobalCluster that mean the managed failover cannot happen (botocore's RDS model)."""
NOT_FOUND = frozenset({"GlobalClusterNotFoundFault", "DBClusterNotFoundFault"})
"""A wrong identifier: neither retrying nor detaching can help."""
IN_PROGRESS = frozenset({"pending", "failing-over", "switching-over", "cancelling"})
"""`GlobalCluster.FailoverState.Status` values (and `Status` failing-over) of an operation under way."""
FAILOVER_ATTEMPTS = 3
BACKOFF_SECONDS = 2.0
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
    def __init__(self, clients, platform: Platform, clock: Clock, wait_seconds: float = 600, poll_seconds: float = 10,
                 attempts: int = FAILOVER_ATTEMPTS, backoff_seconds: float = BACKOFF_SECONDS):
        self.clients = clients
        self.platform = platform
        self.clock = clock
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds

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

    def operation_in_progress(self, via: RegionRecord) -> Optional[str]:
        """What runs on the global cluster now ('failing-over to <arn>', ...), or None when nothing
        does; raises `DatabaseError` when the global cluster cannot be read (nothing is known)."""
        try:
            clusters = self._rds(via).describe_global_clusters(
                GlobalClusterIdentifier=via.db_global_cluster_id)["GlobalClusters"]
        except (ClientError, BotoCoreError) as exc:
            raise DatabaseError(f"cannot read global cluster {via.db_global_cluster_id} ({_code(exc)}), so "
                                "cannot tell whether a failover is already running") from None
        cluster = clusters[0] if clusters else {}
        state = cluster.get("FailoverState") or {}
        if state.get("Status") in IN_PROGRESS:
            return f"{state['Status']} to {state.get('ToDbClusterArn', '?')}"
        if cluster.get("Status") in IN_PROGRESS:
            return str(cluster["Status"])
        return None

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

    def replication_missing(self, home: RegionRecord, interim: RegionRecord) -> str:
        """Why replication from `interim` to `home` is not re-established ('' when it is): the interim
        writer must lead the global cluster with `home` a member again (not after a detach or a
        promoted replica)."""
        if home.db_engine == "aurora-postgresql" and self.writer(interim) == interim.stack \
                and self.is_member(home, interim):
            return ""
        return (f"{interim.stack} does not lead {home.db_global_cluster_id} with {home.stack} as a member; rebuild "
                "it as a secondary first (docs/runbooks/failback.md, 'After a detach or a promoted replica')")

    # -- acting -----------------------------------------------------------------------
    def promote(self, failed: RegionRecord, target: RegionRecord) -> Promotion:
        """Make `target` the writer after `failed` was lost (unplanned)."""
        if target.db_engine == "rds-postgres":
            self._rds(target).promote_read_replica(DBInstanceIdentifier=target.db_cluster_id, BackupRetentionPeriod=30)
            return Promotion(PROMOTED, target.stack, f"promoted read replica {target.db_cluster_id}; "
                                                     f"{self.fence(failed)}")
        tried: list[str] = []
        for attempt in range(1, self.attempts + 1):
            try:
                self._rds(target).failover_global_cluster(
                    GlobalClusterIdentifier=target.db_global_cluster_id, TargetDbClusterIdentifier=target.db_cluster_arn,
                    AllowDataLoss=True)
            except (ClientError, BotoCoreError) as exc:
                code = _code(exc)
                if code in NOT_FOUND:
                    raise DatabaseError(f"failover_global_cluster to {target.db_cluster_id}: {code}; nothing "
                                        "detached (check the region's registration)") from None
                if code in CANNOT_FAIL_OVER:
                    return self._cannot_fail_over(failed, target, code)
                tried.append(code)
                if attempt < self.attempts:
                    self.clock.sleep(self.backoff_seconds * 2 ** (attempt - 1))
                continue
            self.wait_for_writer(target)
            return Promotion(MANAGED, target.stack, f"failover_global_cluster to {target.db_cluster_id} (AllowDataLoss)"
                             + (f" after {', '.join(tried)}" if tried else ""))
        raise DatabaseError(f"failover_global_cluster to {target.db_cluster_id} failed {self.attempts} times "
                            f"({', '.join(tried)}); nothing detached: a managed failover may still be starting, "
                            f"check describe-global-clusters (docs/runbooks/failover.md)")

    def _cannot_fail_over(self, failed: RegionRecord, target: RegionRecord, code: str) -> Promotion:
        """The managed failover was refused: detach-and-promote unless one is already under way."""
        running = self.operation_in_progress(target)
        if running is not None:
            if running.endswith(target.db_cluster_arn):
                # Our own earlier call (a timeout AWS had accepted): let it finish.
                self.wait_for_writer(target)
                return Promotion(MANAGED, target.stack, f"failover_global_cluster to {target.db_cluster_id} already "
                                                        f"{running.split(' ')[0]}; waited for it")
            raise DatabaseError(f"managed failover refused ({code}) while {running} runs on "
                                f"{target.db_global_cluster_id}; nothing detached")
        self._rds(target).remove_from_global_cluster(GlobalClusterIdentifier=target.db_global_cluster_id,
                                                     DbClusterIdentifier=target.db_cluster_arn)
        return Promotion(DETACHED, target.stack,
                         f"managed failover refused ({code}); detached {target.db_cluster_id} from "
                         f"{target.db_global_cluster_id} as a standalone writer; {self.fence(failed)}")

    def fence(self, old: RegionRecord) -> str:
        """Cut every network path to the old primary after a detach or a promoted read replica (see the
        module's docstring): its cluster (Aurora) or its instance (RDS PostgreSQL) keeps only its VPC's
        default group, which admits nothing."""
        instance = old.db_engine == "rds-postgres"
        try:
            rds = self._rds(old)
            described = (rds.describe_db_instances(DBInstanceIdentifier=old.db_cluster_id)["DBInstances"] if instance
                         else rds.describe_db_clusters(DBClusterIdentifier=old.db_cluster_id)["DBClusters"])
            groups = [g["VpcSecurityGroupId"] for g in described[0].get("VpcSecurityGroups", [])]
            ec2 = self.clients("ec2", old.aws_region)
            vpc = ec2.describe_security_groups(GroupIds=[groups[0]])["SecurityGroups"][0]["VpcId"]
            fence = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                                          {"Name": "group-name", "Values": ["default"]}])
            fence_id = fence["SecurityGroups"][0]["GroupId"]
            if instance:
                rds.modify_db_instance(DBInstanceIdentifier=old.db_cluster_id, VpcSecurityGroupIds=[fence_id],
                                       ApplyImmediately=True)
            else:
                rds.modify_db_cluster(DBClusterIdentifier=old.db_cluster_id, VpcSecurityGroupIds=[fence_id],
                                      ApplyImmediately=True)
        except (ClientError, BotoCoreError, IndexError, KeyError) as exc:
            reason = _code(exc) if isinstance(exc, (ClientError, BotoCoreError)) else "no security group found"
            return (f"old primary {old.db_cluster_id} NOT fenced ({reason}): fence it by hand when "
                    f"{old.aws_region} answers (docs/runbooks/failover.md)")
        return f"old primary {old.db_cluster_id} fenced (only {fence_id}, {vpc}'s default group, which admits nothing)"

    def switchover(self, target: RegionRecord) -> str:
        """The planned, lossless move of the writer back to `target` (failback); what was done, in a line."""
        self._rds(target).switchover_global_cluster(GlobalClusterIdentifier=target.db_global_cluster_id,
                                                    TargetDbClusterIdentifier=target.db_cluster_arn)
        self.wait_for_writer(target)
        return f"switchover_global_cluster to {target.db_cluster_id} (no data loss)"

    def wait_for_writer(self, target: RegionRecord) -> None:
        deadline = self.clock.now() + self.wait_seconds
        while self.writer(target) != target.stack:
            if self.clock.now() >= deadline:
                raise DatabaseError(f"{target.db_cluster_id} is not the writer after {self.wait_seconds:.0f} s")
            self.clock.sleep(self.poll_seconds)


def _code(exc: Exception) -> str:
    """An AWS error's code, or the name of a client-side failure (a timeout, no connection)."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "error"))
    return type(exc).__name__
