"""Resources that hold data: losing one loses what is in it.

A database cluster or instance holds the rows; a global cluster ties the regions'
copies together; a replication group holds sessions and per-tenant cache; a bucket its
objects (uploads, audit logs); a vault its recovery points; the state table the
failover state; a hosted zone the platform's name and its DNSSEC chain; a key every
byte encrypted under it; a secret the credentials the services run with.

The program declares every resource of these types with `protect` (`infra/program.py`),
so the real engine refuses to delete or replace one; the offline plan refuses the same
(`infra/engine/diff.py`), and deleting or replacing one needs the reviewer to name it
(`plan --allow-data-loss NAME`).
"""

from __future__ import annotations

STATEFUL_TYPES: dict[str, str] = {
    "aws:rds/cluster:Cluster": "the database cluster and its rows",
    "aws:rds/globalCluster:GlobalCluster": "the global database joining the regions' copies",
    "aws:rds/instance:Instance": "the database instance and its rows",
    "aws:elasticache/replicationGroup:ReplicationGroup": "the Redis data: sessions and per-tenant cache",
    "aws:s3/bucket:Bucket": "the bucket's objects",
    "aws:backup/vault:Vault": "the recovery points in the vault",
    "aws:dynamodb/table:Table": "the table's items (the failover state)",
    "aws:route53/zone:Zone": "the hosted zone, its records and its DNSSEC chain of trust",
    "aws:kms/key:Key": "the key every encrypted byte under it needs",
    "aws:kms/replicaKey:ReplicaKey": "the regional copy of a multi-Region key",
    "aws:secretsmanager/secret:Secret": "the credentials the services run with",
}

# Inputs by which AWS itself refuses to delete a resource while they are true.
DELETION_GUARDS: tuple[str, ...] = ("deletionProtection", "deletionProtectionEnabled")


def holds_data(type_: str) -> bool:
    return type_ in STATEFUL_TYPES
