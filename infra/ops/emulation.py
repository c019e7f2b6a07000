"""The calls moto does not implement, answered at the boto3 boundary.

moto (5.x) has Aurora global clusters and their members, but not the managed
`FailoverGlobalCluster` and `SwitchoverGlobalCluster`; its `RemoveFromGlobalCluster`
finds the global cluster only when called in us-east-1 (where moto keeps them all; AWS
takes the call in the secondary's region); and it has no ElastiCache Global Datastore. When moto runs in this process (`moto.mock_aws`, or a
`ThreadedMotoServer` on loopback), `Emulation.attach` registers a `before-call` handler
for exactly these operations on each client: it applies the change to moto's own
records (the global cluster's writer flag) or to a small table of its own (the
datastores) and returns the response AWS would. Every other call goes to moto
unchanged. Against any other endpoint nothing is stubbed: the calls go out as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

RDS_OPERATIONS = ("FailoverGlobalCluster", "SwitchoverGlobalCluster", "RemoveFromGlobalCluster")
CACHE_OPERATIONS = ("CreateGlobalReplicationGroup", "DescribeGlobalReplicationGroups",
                    "FailoverGlobalReplicationGroup")
STUBBED = tuple(f"rds:{o}" for o in RDS_OPERATIONS) + tuple(f"elasticache:{o}" for o in CACHE_OPERATIONS)


class _Http:
    status_code = 200
    headers: dict = {}


@dataclass
class Datastore:
    global_id: str
    members: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Region -> (replication group id, PRIMARY | SECONDARY)."""


class Emulation:
    def __init__(self, account_id: str):
        self.account_id = account_id
        self.datastores: dict[str, Datastore] = {}
        self.calls: list[str] = []
        """Every stubbed call, `service:Operation`, in order (the drill prints them)."""

    def attach(self, service: str, region: str, client: Any) -> None:
        operations: dict[str, Callable[[dict, str], dict]] = {}
        if service == "rds":
            operations = {"FailoverGlobalCluster": self._move_writer, "SwitchoverGlobalCluster": self._move_writer,
                          "RemoveFromGlobalCluster": self._detach}
        elif service == "elasticache":
            operations = {"CreateGlobalReplicationGroup": self._create_datastore,
                          "DescribeGlobalReplicationGroups": self._describe_datastores,
                          "FailoverGlobalReplicationGroup": self._fail_over_datastore}
        for operation, answer in operations.items():
            client.meta.events.register(f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}",
                                        self._handler(service, operation, region, answer))

    def _handler(self, service: str, operation: str, region: str, answer: Callable[[dict, str], dict]):
        def handle(params: dict, **_: Any):
            self.calls.append(f"{service}:{operation}")
            body = params.get("body") or {}
            return _Http(), {**answer(body, region), "ResponseMetadata": {"HTTPStatusCode": 200}}
        return handle

    # -- RDS: the writer of a global cluster ------------------------------------------
    def _global_cluster(self, identifier: str):
        from moto.backends import get_backend  # only where moto runs in this process

        for backend in get_backend("rds")[self.account_id].values():
            if identifier in backend.global_clusters:
                return backend.global_clusters[identifier]
        return None

    def _move_writer(self, body: dict, region: str) -> dict:
        from botocore.exceptions import ClientError

        global_id, target = body.get("GlobalClusterIdentifier", ""), body.get("TargetDbClusterIdentifier", "")
        cluster = self._global_cluster(global_id)
        members = {m.db_cluster_arn: m for m in cluster.members} if cluster else {}
        if target not in members:
            raise ClientError({"Error": {"Code": "InvalidGlobalClusterStateFault",
                                         "Message": f"{target} is not a member of {global_id}"}},
                              "FailoverGlobalCluster")
        for arn, member in members.items():
            member.is_writer = arn == target
        return {"GlobalCluster": {"GlobalClusterIdentifier": global_id, "Status": "available"}}

    def _detach(self, body: dict, region: str) -> dict:
        from botocore.exceptions import ClientError

        global_id, arn = body.get("GlobalClusterIdentifier", ""), body.get("DbClusterIdentifier", "")
        cluster = self._global_cluster(global_id)
        member = next((m for m in cluster.members if m.db_cluster_arn == arn), None) if cluster else None
        if member is None:
            raise ClientError({"Error": {"Code": "GlobalClusterNotFoundFault",
                                         "Message": f"{arn} is not a member of {global_id}"}}, "RemoveFromGlobalCluster")
        cluster.members.remove(member)
        member.is_writer = True  # a detached secondary is a standalone read-write cluster
        member.global_cluster_identifier = None
        return {"GlobalCluster": {"GlobalClusterIdentifier": global_id, "Status": "available"}}

    # -- ElastiCache: Global Datastores -----------------------------------------------
    def _create_datastore(self, body: dict, region: str) -> dict:
        global_id = f"ldgnf-{body['GlobalReplicationGroupIdSuffix']}"
        self.datastores[global_id] = Datastore(global_id, {region: (body["PrimaryReplicationGroupId"], "PRIMARY")})
        return {"GlobalReplicationGroup": {"GlobalReplicationGroupId": global_id, "Status": "creating"}}

    def add_member(self, global_id: str, region: str, group_id: str) -> None:
        self.datastores[global_id].members[region] = (group_id, "SECONDARY")

    def _describe_datastores(self, body: dict, region: str) -> dict:
        wanted = body.get("GlobalReplicationGroupId")
        return {"GlobalReplicationGroups": [{
            "GlobalReplicationGroupId": d.global_id, "Status": "available",
            "Members": [{"ReplicationGroupId": g, "ReplicationGroupRegion": r, "Role": role, "Status": "associated"}
                        for r, (g, role) in d.members.items()]}
            for d in self.datastores.values() if wanted in (None, d.global_id)]}

    def _fail_over_datastore(self, body: dict, region: str) -> dict:
        datastore = self.datastores[body["GlobalReplicationGroupId"]]
        primary = body["PrimaryRegion"]
        datastore.members = {r: (g, "PRIMARY" if r == primary else "SECONDARY")
                             for r, (g, _) in datastore.members.items()}
        return {"GlobalReplicationGroup": {"GlobalReplicationGroupId": datastore.global_id, "Status": "modifying"}}

    def writer_flags(self, global_id: str) -> dict[str, bool]:
        cluster = self._global_cluster(global_id)
        return {m.db_cluster_arn: bool(m.is_writer) for m in cluster.members} if cluster else {}
