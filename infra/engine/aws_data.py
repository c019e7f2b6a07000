"""What the offline cloud answers for the data tier's AWS resources: KMS, Secrets
Manager, RDS and Aurora, RDS Proxy, AWS Backup, CloudWatch alarms and the Serverless
Application Repository.

Each answer is the id AWS would give and the attributes it computes, in the formats AWS
uses (ARNs per service, endpoints per engine), derived from the URN's digest so a plan
is reproducible. A resource's own region comes from its provider.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Callable

Answer = Callable[["Context"], str]


@dataclass
class Context:
    """What an answer needs: the resource's inputs (plain), its outputs so far, and AWS's facts."""

    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    digest: str
    region: str
    account: str

    def arn(self, service: str, resource: str, region: str | None = None) -> str:
        return f"arn:aws:{service}:{self.region if region is None else region}:{self.account}:{resource}"

    def get(self, key: str, default: Any = None) -> Any:
        value = self.outputs.get(key, self.inputs.get(key))
        return default if value is None else value


def _kms_key(c: Context) -> str:
    key_id = (f"mrk-{c.digest[:32]}" if c.inputs.get("multiRegion") else str(uuid.UUID(c.digest[:32])))
    c.outputs.update(keyId=key_id, arn=c.arn("kms", f"key/{key_id}"), enableKeyRotation=bool(
        c.inputs.get("enableKeyRotation")))
    return key_id


def _kms_replica(c: Context) -> str:
    # A replica has the primary's key id, in its own region.
    key_id = str(c.inputs["primaryKeyArn"]).rsplit("/", 1)[1]
    c.outputs.update(keyId=key_id, arn=c.arn("kms", f"key/{key_id}"))
    return key_id


def _kms_alias(c: Context) -> str:
    alias = str(c.inputs["name"])
    c.outputs.update(arn=c.arn("kms", alias), targetKeyArn=c.inputs["targetKeyId"])
    return alias


def _secret(c: Context) -> str:
    arn = c.arn("secretsmanager", f"secret:{c.get('name')}-{c.digest[:6]}")
    c.outputs.update(arn=arn, replicas=[{**r, "status": "InSync"} for r in c.inputs.get("replicas") or []])
    return arn


def _secret_version(c: Context) -> str:
    version = str(uuid.UUID(c.digest[:32]))
    c.outputs.update(versionId=version, arn=c.inputs["secretId"])
    return f"{c.inputs['secretId']}|{version}"


def _cfn_stack(c: Context) -> str:
    function = c.inputs.get("parameters", {}).get("functionName", c.name)
    c.outputs["outputs"] = {"RotationLambdaARN": c.arn("lambda", f"function:{function}")}
    return c.arn("cloudformation", f"stack/{c.get('name')}/{uuid.UUID(c.digest[:32])}")


def _rds_endpoint(c: Context, identifier: str, kind: str) -> str:
    return f"{identifier}.{kind}{c.digest[:12]}.{c.region}.rds.amazonaws.com"


def _global_cluster(c: Context) -> str:
    identifier = str(c.inputs["globalClusterIdentifier"])
    c.outputs.update(arn=f"arn:aws:rds::{c.account}:global-cluster:{identifier}",
                     globalClusterResourceId=f"cluster-{c.digest[:20].upper()}")
    return identifier


def _cluster(c: Context) -> str:
    identifier = str(c.get("clusterIdentifier"))
    c.outputs.update(arn=c.arn("rds", f"cluster:{identifier}"), clusterResourceId=f"cluster-{c.digest[:26].upper()}",
                     endpoint=_rds_endpoint(c, identifier, "cluster-"),
                     readerEndpoint=_rds_endpoint(c, identifier, "cluster-ro-"))
    c.outputs.setdefault("port", 5432)
    return identifier


def _cluster_instance(c: Context) -> str:
    identifier = str(c.get("identifier"))
    c.outputs.update(arn=c.arn("rds", f"db:{identifier}"), dbiResourceId=f"db-{c.digest[:26].upper()}",
                     endpoint=_rds_endpoint(c, identifier, ""))
    return identifier


def _instance(c: Context) -> str:
    # Since provider v6 an instance's id is its resource id (db-…), not its identifier.
    identifier = str(c.get("identifier"))
    resource_id = f"db-{c.digest[:26].upper()}"
    address = _rds_endpoint(c, identifier, "")
    c.outputs.update(arn=c.arn("rds", f"db:{identifier}"), resourceId=resource_id, identifier=identifier,
                     address=address, endpoint=f"{address}:{c.get('port', 5432)}")
    if c.inputs.get("replicateSourceDb"):
        # A replica reports its source's engine and version.
        c.outputs.setdefault("engine", "postgres")
    return resource_id


def _named(service: str, kind: str) -> Answer:
    """A resource whose id is its (generated) name and whose ARN is `<kind>:<name>`."""
    def answer(c: Context) -> str:
        name = str(c.get("name"))
        c.outputs["arn"] = c.arn(service, f"{kind}{name}")
        return name
    return answer


def _proxy(c: Context) -> str:
    name = str(c.get("name"))
    c.outputs.update(arn=c.arn("rds", f"db-proxy:prx-{c.digest[:17]}"),
                     endpoint=f"{name}.proxy-{c.digest[:12]}.{c.region}.rds.amazonaws.com")
    return name


def _proxy_endpoint(c: Context) -> str:
    endpoint = str(c.inputs["dbProxyEndpointName"])
    c.outputs.update(arn=c.arn("rds", f"db-proxy-endpoint:prx-endpoint-{c.digest[:17]}"),
                     endpoint=f"{endpoint}.endpoint.proxy-{c.digest[:12]}.{c.region}.rds.amazonaws.com",
                     isDefault=False)
    return f"{c.inputs['dbProxyName']}/{endpoint}"


def _proxy_target_group(c: Context) -> str:
    c.outputs.update(name="default", arn=c.arn("rds", f"target-group:prx-tg-{c.digest[:17]}"))
    return str(c.inputs["dbProxyName"])


def _proxy_target(c: Context) -> str:
    target = c.inputs.get("dbClusterIdentifier") or c.inputs.get("dbInstanceIdentifier")
    kind = "TRACKED_CLUSTER" if c.inputs.get("dbClusterIdentifier") else "RDS_INSTANCE"
    c.outputs.update(type=kind, endpoint=None)
    return f"{c.inputs['dbProxyName']}/{c.inputs['targetGroupName']}/{kind}/{target}"


def _automated_backups(c: Context) -> str:
    arn = c.arn("rds", f"auto-backup:ab-{c.digest[:26]}")
    c.outputs["arn"] = arn
    return arn


def _backup_plan(c: Context) -> str:
    plan_id = str(uuid.UUID(c.digest[:32]))
    c.outputs.update(arn=c.arn("backup", f"backup-plan:{plan_id}"), version=c.digest[:24])
    return plan_id


def _backup_selection(c: Context) -> str:
    return str(uuid.UUID(c.digest[32:64]))


def _alarm(c: Context) -> str:
    name = str(c.get("name"))
    c.outputs["arn"] = c.arn("cloudwatch", f"alarm:{name}")
    return name


def _ssm_parameter(c: Context) -> str:
    name = str(c.get("name"))
    c.outputs.update(arn=c.arn("ssm", f"parameter/{name.lstrip('/')}"), version=1)
    return name


def _cache_user(c: Context) -> str:
    user_id = str(c.inputs["userId"])
    c.outputs.update(arn=c.arn("elasticache", f"user:{user_id}"))
    return user_id


def _cache_user_group(c: Context) -> str:
    group_id = str(c.inputs["userGroupId"])
    c.outputs.update(arn=c.arn("elasticache", f"usergroup:{group_id}"))
    return group_id


def _replication_group(c: Context) -> str:
    group_id = str(c.get("replicationGroupId"))
    c.outputs.update(arn=c.arn("elasticache", f"replicationgroup:{group_id}"),
                     configurationEndpointAddress=f"clustercfg.{group_id}.{c.digest[:6]}.{c.region[:2]}"
                                                  f"{c.region.split('-')[1][0]}{c.region.split('-')[2]}.cache.amazonaws.com",
                     clusterEnabled=True, memberClusters=[f"{group_id}-000{s}-00{r}" for s in range(1, 1 + int(
                         c.get("numNodeGroups", 3))) for r in range(1, 2 + int(c.get("replicasPerNodeGroup", 1)))])
    return group_id


def _global_replication_group(c: Context) -> str:
    # AWS puts a fixed prefix of 5 letters (per account) before the suffix the program gives.
    global_id = f"ldgnf-{c.inputs['globalReplicationGroupIdSuffix']}"
    c.outputs.update(globalReplicationGroupId=global_id, arn=f"arn:aws:elasticache::{c.account}:globalreplicationgroup:{global_id}")
    return global_id


def _attachment(c: Context) -> str:
    return f"{c.inputs['role']}-{c.digest[:20]}"


ANSWERS: dict[str, Answer] = {
    "aws:kms/key:Key": _kms_key,
    "aws:kms/replicaKey:ReplicaKey": _kms_replica,
    "aws:kms/alias:Alias": _kms_alias,
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:secretsmanager/secretVersion:SecretVersion": _secret_version,
    "aws:secretsmanager/secretRotation:SecretRotation": lambda c: str(c.inputs["secretId"]),
    "aws:serverlessrepository/cloudFormationStack:CloudFormationStack": _cfn_stack,
    "aws:rds/globalCluster:GlobalCluster": _global_cluster,
    "aws:rds/cluster:Cluster": _cluster,
    "aws:rds/clusterInstance:ClusterInstance": _cluster_instance,
    "aws:rds/instance:Instance": _instance,
    "aws:rds/subnetGroup:SubnetGroup": _named("rds", "subgrp:"),
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": _named("rds", "cluster-pg:"),
    "aws:rds/parameterGroup:ParameterGroup": _named("rds", "pg:"),
    "aws:rds/proxy:Proxy": _proxy,
    "aws:rds/proxyEndpoint:ProxyEndpoint": _proxy_endpoint,
    "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup": _proxy_target_group,
    "aws:rds/proxyTarget:ProxyTarget": _proxy_target,
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": _automated_backups,
    "aws:backup/vault:Vault": _named("backup", "backup-vault:"),
    "aws:backup/plan:Plan": _backup_plan,
    "aws:backup/selection:Selection": _backup_selection,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _attachment,
    "aws:ssm/parameter:Parameter": _ssm_parameter,
    "aws:elasticache/user:User": _cache_user,
    "aws:elasticache/userGroup:UserGroup": _cache_user_group,
    "aws:elasticache/replicationGroup:ReplicationGroup": _replication_group,
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup": _global_replication_group,
    "aws:elasticache/parameterGroup:ParameterGroup": _named("elasticache", "parametergroup:"),
    "aws:elasticache/subnetGroup:SubnetGroup": _named("elasticache", "subnetgroup:"),
}
