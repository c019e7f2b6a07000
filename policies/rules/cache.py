"""Cache rules: the ElastiCache Redis replication group of each region and its users.

checkov's ElastiCache checks, and the spec's Redis cluster: 3 shards with a replica each,
automatic failover within the region, persistence.

A secondary member of a Global Datastore (a replication group with `globalReplicationGroupId`)
does not state what the datastore owns, and the provider refuses it if it does: encryption
at rest and in transit, the shard count, node type, engine and parameter group are one value
per datastore, set by its primary's replication group (AWS, "Prerequisites and limitations"
of Global Datastore: same node type, engine version and shard count in every member, each
with its own replica count; the GlobalReplicationGroup API object carries the encryption
flags). Such a member is judged by its datastore's primary when the runner holds the plan
that declares it (the offline gate hands every stack's plan); otherwise that stack's own
check decides, as the primary is gated like every replication group. What a member does
state (its replicas, key, users, snapshots) is checked on the member.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from infra.engine.datastore import datastore_primary as global_datastore_primary
from policies import types as t
from policies.rule import MANDATORY, resource_policy, setting
from policies.rules.flows import PEERS

DOMAIN = "cache"
MIN_SHARDS = 3
MIN_REPLICAS = 1


INHERITED = "(inherited from the Global Datastore's primary)"


def datastore_primary(props: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
    """The inputs of the replication group that is the primary of the Global Datastore this
    group joins, from the plan that declares the datastore; None when the group joins none
    or the runner holds no such plan."""
    plans, _ = PEERS.get()
    primary = global_datastore_primary(props.get("globalReplicationGroupId"), plans)
    return primary.inputs if primary is not None else None


def owner_of(props: Mapping[str, Any], *keys: str) -> tuple[Optional[Mapping[str, Any]], str]:
    """Whose settings decide `keys`: the group's own when it states any of them or joins no
    datastore; its datastore's primary's (with a note) when it is a member that leaves them
    to the datastore; None when that primary is in no plan the runner holds."""
    if not props.get("globalReplicationGroupId") or any(props.get(k) is not None for k in keys):
        return props, ""
    primary = datastore_primary(props)
    return (primary, f" {INHERITED}") if primary is not None else (None, "")


def at_rest_encryption(args, report_violation):
    props, note = owner_of(args.props, "atRestEncryptionEnabled")
    if props is not None and props.get("atRestEncryptionEnabled") is not True:
        report_violation(f"ElastiCache replication group must be encrypted at rest{note}.")


def in_transit_encryption(args, report_violation):
    props, note = owner_of(args.props, "transitEncryptionEnabled", "transitEncryptionMode")
    if props is None:
        return
    if props.get("transitEncryptionEnabled") is not True or props.get("transitEncryptionMode") == "preferred":
        report_violation(f"ElastiCache replication group must require encryption in transit{note}.")


def authentication(args, report_violation):
    if not args.props.get("authToken") and not args.props.get("userGroupIds"):
        report_violation("ElastiCache replication group must authenticate clients (an AUTH token or RBAC user groups).")


def kms_cmk(args, report_violation):
    if not args.props.get("kmsKeyId"):
        report_violation("ElastiCache replication group must be encrypted with a customer-managed KMS key.")


def automatic_failover(args, report_violation):
    if args.props.get("automaticFailoverEnabled") is not True or args.props.get("multiAzEnabled") is not True:
        report_violation("ElastiCache replication group must have Multi-AZ automatic failover enabled.")


def topology(args, report_violation):
    shards_min = setting(args, "minimumShards", MIN_SHARDS)
    replicas_min = setting(args, "minimumReplicasPerShard", MIN_REPLICAS)
    # The shard count is the datastore's (a member may not state it); replicas are each member's own.
    owner, note = owner_of(args.props, "numNodeGroups")
    replicas = args.props.get("replicasPerNodeGroup") or 0
    shards = (owner.get("numNodeGroups") or 1) if owner is not None else None
    if (shards is not None and shards < shards_min) or replicas < replicas_min:
        found = f"{shards if shards is not None else 'unknown'} × {replicas}"
        report_violation(f"Redis cluster must have at least {shards_min} shards with {replicas_min} replica each "
                         f"(found {found}){note}.")


def snapshots(args, report_violation):
    if (args.props.get("snapshotRetentionLimit") or 0) < 1:
        report_violation("Redis cluster must keep daily snapshots (snapshotRetentionLimit of at least 1).")


def default_user_off(args, report_violation):
    if args.props.get("userName") == "default" and not str(args.props.get("accessString", "")).startswith("off"):
        report_violation("The Redis default user must be off.")


POLICIES = [
    resource_policy("elasticache-at-rest-encryption", "Redis replication groups are encrypted at rest.",
                    at_rest_encryption, level=MANDATORY, types=[t.REPLICATION_GROUP], domain=DOMAIN, checkov=["CKV_AWS_29"]),
    resource_policy("elasticache-in-transit-encryption", "Redis replication groups require TLS in transit.",
                    in_transit_encryption, level=MANDATORY, types=[t.REPLICATION_GROUP], domain=DOMAIN,
                    checkov=["CKV_AWS_30"]),
    resource_policy("elasticache-authentication", "Redis replication groups authenticate every client.",
                    authentication, level=MANDATORY, types=[t.REPLICATION_GROUP], domain=DOMAIN, checkov=["CKV_AWS_31"]),
    resource_policy("elasticache-kms-cmk", "Redis replication groups are encrypted with a customer-managed KMS key.",
                    kms_cmk, level=MANDATORY, types=[t.REPLICATION_GROUP], domain=DOMAIN, checkov=["CKV_AWS_191"]),
    resource_policy("elasticache-automatic-failover", "Redis replication groups fail over automatically across AZs.",
                    automatic_failover, level=MANDATORY, types=[t.REPLICATION_GROUP], domain=DOMAIN,
                    checkov=["CKV2_AWS_50"]),
    resource_policy("redis-cluster-topology", "Redis runs the spec's 3 shards with a replica each.",
                    topology, level=MANDATORY, types=[t.REPLICATION_GROUP], domain=DOMAIN,
                    config={"minimumShards": {"type": "integer", "default": MIN_SHARDS},
                            "minimumReplicasPerShard": {"type": "integer", "default": MIN_REPLICAS}}),
    resource_policy("redis-snapshots", "Redis keeps daily snapshots for persistence.",
                    snapshots, level=MANDATORY, types=[t.REPLICATION_GROUP], domain=DOMAIN, checkov=["CKV_AWS_134"]),
    resource_policy("redis-default-user-off", "The Redis default user is disabled.",
                    default_user_off, level=MANDATORY, types=[t.CACHE_USER], domain=DOMAIN),
]
