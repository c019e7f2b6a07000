"""Seed an AWS emulator (or a staging account) with the topology the plans declare.

For every stack, in deploy order: its Aurora cluster (the primary's creates the global
cluster from it, the secondaries join), its Redis replication group (and the Global
Datastore when the plan has one), its Route53 health check with its alarm in us-east-1
(state OK), its DNS records (geolocation, latency, weighted, tenant failover; CDN aliases and
certificate validation records are left out), its EKS cluster and node group at the
stack's instance count, its alarm topic (with a queue subscribed, so notifications can
be read back), a replication-lag datapoint, and the state store with every region's
registration. Identifiers the emulator assigns (ARNs, health-check and zone ids)
replace the plan's, so the returned `Platform` names what exists.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional

from infra.ops.clock import Clock
from infra.ops.emulation import Emulation
from infra.ops.health import HEALTH_METRIC_REGION
from infra.domain.platform import Platform, PlatformError, RegionRecord
from infra.ops.plans import PlanView
from infra.domain.failover_state import TTL_ATTRIBUTE, table_definition
from infra.ops.state import StateStore

RECORD = "aws:route53/record:Record"
SEEDED_LAG_MS = (350.0, 900.0, 1500.0)
"""Replication lag seeded per secondary, in deploy order (milliseconds)."""
DRILL_PASSWORD = "drill-only-password-0"


@dataclass
class Seeded:
    platform: Platform
    store: StateStore
    alarms: dict[str, str]
    """Stack -> the name of its health-check alarm."""
    queues: dict[str, str]
    """Stack -> the URL of the queue subscribed to its alarm topic."""
    records: dict[str, list[dict]] = field(default_factory=dict)
    """Zone id -> the record sets as seeded (to compare after failback)."""


def _record_set(inputs: dict, checks: dict[str, str]) -> Optional[dict[str, Any]]:
    if inputs.get("aliases") or not inputs.get("records"):
        return None
    rrs: dict[str, Any] = {"Name": inputs["name"], "Type": inputs["type"], "TTL": int(inputs.get("ttl", 60)),
                           "ResourceRecords": [{"Value": v} for v in inputs["records"]]}
    if inputs.get("setIdentifier"):
        rrs["SetIdentifier"] = inputs["setIdentifier"]
    if inputs.get("healthCheckId"):
        rrs["HealthCheckId"] = checks[inputs["healthCheckId"]]
    for key, field_ in (("geolocationRoutingPolicies", "GeoLocation"),):
        for policy in inputs.get(key) or []:
            rrs[field_] = {{"continent": "ContinentCode", "country": "CountryCode"}[k]: v for k, v in policy.items()}
    for policy in inputs.get("latencyRoutingPolicies") or []:
        rrs["Region"] = policy["region"]
    for policy in inputs.get("failoverRoutingPolicies") or []:
        rrs["Failover"] = policy["type"]
    for policy in inputs.get("weightedRoutingPolicies") or []:
        rrs["Weight"] = int(policy["weight"])
    return rrs


def lag_datapoint(clients, region: RegionRecord, milliseconds: float, at: float, source_region: str) -> None:
    """A replication-lag datapoint for `region`'s cluster behind the writer in `source_region`,
    as Aurora publishes it (`DBClusterIdentifier` and `SourceRegion`)."""
    clients("cloudwatch", region.aws_region).put_metric_data(Namespace="AWS/RDS", MetricData=[{
        "MetricName": "AuroraGlobalDBReplicationLag", "Value": milliseconds, "Unit": "Milliseconds",
        "Timestamp": datetime.fromtimestamp(at, timezone.utc),
        "Dimensions": [{"Name": "DBClusterIdentifier", "Value": region.db_cluster_id},
                       {"Name": "SourceRegion", "Value": source_region}]}])


def seed(clients, views: list[PlanView], instance_counts: dict[str, int], state_region: str, state_table: str,
         clock: Clock, emulation: Optional[Emulation] = None) -> Seeded:
    route53 = clients("route53", "us-east-1")
    alarms_cw = clients("cloudwatch", HEALTH_METRIC_REGION)
    zone_ids: dict[str, str] = {}
    checks: dict[str, str] = {}
    records: list[RegionRecord] = []
    alarms: dict[str, str] = {}
    queues: dict[str, str] = {}
    changes: dict[str, list[dict]] = {}
    secondaries = 0
    for view in views:
        out = view.outputs
        if out.get("dbEngine") != "aurora-postgresql":
            raise PlatformError(f"{view.stack}: the drill seeds aurora-postgresql topologies; "
                                f"this plan has {out.get('dbEngine')!r}")
        region = out["awsRegion"]
        primary = out["role"] == "primary"
        if out["hostedZoneId"] not in zone_ids:
            zone = route53.create_hosted_zone(Name=out["domain"], CallerReference=f"drill-{out['hostedZoneId']}")
            zone_ids[out["hostedZoneId"]] = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
        zone_id = zone_ids[out["hostedZoneId"]]
        for check in view.find("aws:route53/healthCheck:HealthCheck"):
            i = check.inputs
            created = route53.create_health_check(CallerReference=f"drill-{check.id}", HealthCheckConfig={
                "Type": i["type"], "FullyQualifiedDomainName": i["fqdn"], "Port": int(i["port"]),
                "ResourcePath": i["resourcePath"], "RequestInterval": int(i["requestInterval"]),
                "FailureThreshold": int(i["failureThreshold"]), "EnableSNI": bool(i.get("enableSni")),
                "MeasureLatency": bool(i.get("measureLatency"))})
            checks[check.id] = created["HealthCheck"]["Id"]
        for alarm in view.find("aws:cloudwatch/metricAlarm:MetricAlarm"):
            i = alarm.inputs
            if i.get("metricName") != "HealthCheckStatus":
                continue
            alarms_cw.put_metric_alarm(
                AlarmName=alarm.id, Namespace=i["namespace"], MetricName=i["metricName"],
                Dimensions=[{"Name": "HealthCheckId", "Value": checks[i["dimensions"]["HealthCheckId"]]}],
                Statistic=i["statistic"], Period=int(i["period"]), EvaluationPeriods=int(i["evaluationPeriods"]),
                Threshold=float(i["threshold"]), ComparisonOperator=i["comparisonOperator"],
                TreatMissingData=i["treatMissingData"])
            alarms_cw.set_alarm_state(AlarmName=alarm.id, StateValue="OK", StateReason="seeded healthy")
            alarms[view.stack] = alarm.id
        for record in view.find(RECORD):
            rrs = _record_set(record.inputs, checks)
            if rrs is not None:
                changes.setdefault(zone_id, []).append({"Action": "CREATE", "ResourceRecordSet": rrs})

        rds = clients("rds", region)
        ec2 = clients("ec2", region)
        vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        database_group = ec2.create_security_group(GroupName=f"hse-{view.stack}-database", VpcId=vpc,
                                                   Description=f"{view.stack} database (drill)")["GroupId"]
        if primary:  # the global cluster first: its first member is its writer
            clients("rds", region).create_global_cluster(
                GlobalClusterIdentifier=out["dbGlobalClusterId"], Engine="aurora-postgresql",
                EngineVersion=out["dbEngineVersion"], StorageEncrypted=True)
        cluster = rds.create_db_cluster(
            DBClusterIdentifier=out["dbClusterId"], Engine="aurora-postgresql", EngineVersion=out["dbEngineVersion"],
            StorageEncrypted=True, DeletionProtection=False, VpcSecurityGroupIds=[database_group],
            GlobalClusterIdentifier=out["dbGlobalClusterId"],
            **({"MasterUsername": "hse_admin", "MasterUserPassword": DRILL_PASSWORD} if primary else {}))["DBCluster"]

        cache = clients("elasticache", region)
        cache.create_replication_group(ReplicationGroupId=out["cacheReplicationGroupId"],
                                       ReplicationGroupDescription=f"{view.stack} cache (drill)", Engine="redis",
                                       CacheNodeType="cache.r7g.large", NumNodeGroups=3, ReplicasPerNodeGroup=1)
        if out.get("cacheGlobalDatastoreId") and emulation is not None:
            if primary:
                cache.create_global_replication_group(
                    GlobalReplicationGroupIdSuffix=out["cacheGlobalDatastoreId"].split("-", 1)[1],
                    PrimaryReplicationGroupId=out["cacheReplicationGroupId"])
            else:
                emulation.add_member(out["cacheGlobalDatastoreId"], region, out["cacheReplicationGroupId"])

        count = instance_counts[view.stack]
        record = RegionRecord.from_outputs(out, app_instance_count=count)
        eks = clients("eks", region)
        eks.create_cluster(name=record.eks_cluster_name, roleArn=f"arn:aws:iam::{out['accountId']}:role/drill-eks",
                           resourcesVpcConfig={"subnetIds": list(out["appSubnetIds"])})
        eks.create_nodegroup(clusterName=record.eks_cluster_name, nodegroupName=record.eks_node_group_name,
                             scalingConfig={"minSize": count, "maxSize": 2 * count, "desiredSize": count},
                             subnets=list(out["appSubnetIds"]), nodeRole=f"arn:aws:iam::{out['accountId']}:role/drill-nodes")
        topic = clients("sns", region).create_topic(Name=f"hse-{view.stack}-alarms")["TopicArn"]
        sqs = clients("sqs", region)
        queue = sqs.create_queue(QueueName=f"hse-{view.stack}-alarms-drill")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        clients("sns", region).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn,
                                         Attributes={"RawMessageDelivery": "true"})
        queues[view.stack] = queue
        record = dataclasses.replace(record, db_cluster_arn=cluster["DBClusterArn"], hosted_zone_id=zone_id,
                                     health_check_id=checks[out["healthCheckId"]], alarm_topic_arn=topic)
        if not primary:
            writer = next(r for r in records if r.role == "primary")
            lag_datapoint(clients, record, SEEDED_LAG_MS[min(secondaries, len(SEEDED_LAG_MS) - 1)], clock.now(),
                          writer.aws_region)
            secondaries += 1
        records.append(record)

    for zone_id, batch in changes.items():
        route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": batch})
    dynamodb = clients("dynamodb", state_region)
    dynamodb.create_table(**table_definition(state_table))
    dynamodb.update_time_to_live(TableName=state_table, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": TTL_ATTRIBUTE})
    store = StateStore(clients, state_region, state_table, clock)
    for record in records:
        store.register(record)
    platform = Platform.of(records)
    snapshot = {z: route53.list_resource_record_sets(HostedZoneId=z)["ResourceRecordSets"] for z in changes}
    return Seeded(platform, store, alarms, queues, snapshot)
