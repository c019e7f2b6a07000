"""Which replication group decides a Global Datastore member's shape.

A member of an ElastiCache Global Datastore (a replication group with
`globalReplicationGroupId`) does not state the node type, the shard count, the engine or
the encryption flags: they are one value per datastore, set by the datastore's primary
replication group (AWS, "Prerequisites and limitations" of Global Datastore). The primary
is declared by another stack, so whoever judges or prices a member needs that stack's plan.
"""

from __future__ import annotations

from typing import Iterable, Optional

from infra.engine.plan import Resource, StackPlan

REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
GLOBAL_REPLICATION_GROUP = "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"


def datastore_primary(joined: Optional[str], plans: Iterable[StackPlan]) -> Optional[Resource]:
    """The primary replication group of the Global Datastore whose id is `joined`, from
    whichever of `plans` declares the datastore; None when `joined` is empty or no plan
    declares it."""
    if not joined:
        return None
    for plan in plans:
        for datastore in plan.find(GLOBAL_REPLICATION_GROUP):
            if datastore.output("globalReplicationGroupId") != joined:
                continue
            primary_id = datastore.input("primaryReplicationGroupId")
            for group in plan.find(REPLICATION_GROUP):
                if primary_id in (group.output("id"), group.id):
                    return group
    return None
