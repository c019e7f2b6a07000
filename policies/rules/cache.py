"""Cache rules: the ElastiCache Redis replication group of each region and its users.

checkov's ElastiCache checks, and the spec's Redis cluster: 3 shards with a replica each,
automatic failover within the region, persistence.
"""

from __future__ import annotations

from policies import types as t
from policies.rule import MANDATORY, resource_policy, setting

DOMAIN = "cache"
MIN_SHARDS = 3
MIN_REPLICAS = 1


def at_rest_encryption(args, report_violation):
    if args.props.get("atRestEncryptionEnabled") is not True:
        report_violation("ElastiCache replication group must be encrypted at rest.")


def in_transit_encryption(args, report_violation):
    if args.props.get("transitEncryptionEnabled") is not True or args.props.get("transitEncryptionMode") == "preferred":
        report_violation("ElastiCache replication group must require encryption in transit.")


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
    shards = args.props.get("numNodeGroups") or 1
    replicas = args.props.get("replicasPerNodeGroup") or 0
    if shards < shards_min or replicas < replicas_min:
        report_violation(f"Redis cluster must have at least {shards_min} shards with {replicas_min} replica each "
                         f"(found {shards} × {replicas}).")


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
