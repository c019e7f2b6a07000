"""The cache tier in the plan: the replication group, its tenant users, the Global
Datastore shapes and the alarms, with default and non-default config."""

from __future__ import annotations

import json

import pytest

from components.redis_cluster import OWNED_BY_GLOBAL_DATASTORE
from infra.domain.cache_acl import DEFAULT_USER_RULES, access_string, tenant_rules
from infra.engine.schema import camel
from infra.engine.plan import SECRET_SIG, SIG_KEY
from tests.conftest import STACKS

GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
USER = "aws:elasticache/user:User"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"



@pytest.mark.parametrize("stack", STACKS)
def test_three_shards_one_replica_multi_az_encrypted(plans, stack) -> None:
    plan = plans[stack]
    group = plan.single(GROUP)
    assert (group.input("numNodeGroups"), group.input("replicasPerNodeGroup")) == (3, 1)
    assert group.input("automaticFailoverEnabled") is True and group.input("multiAzEnabled") is True
    assert group.ignore_changes == []
    assert group.input("atRestEncryptionEnabled") is True and group.input("kmsKeyId") == plan.outputs["kmsKeyArn"]
    assert group.input("transitEncryptionEnabled") is True and group.input("transitEncryptionMode") == "required"
    assert (group.input("engine"), group.input("engineVersion"), group.input("nodeType")) == \
        ("redis", "7.1", "cache.r7g.large")
    assert group.input("snapshotRetentionLimit") == 7
    assert group.input("securityGroupIds") == [plan.outputs["redisSecurityGroupId"]]
    subnets = plan.single("aws:elasticache/subnetGroup:SubnetGroup")
    assert subnets.input("subnetIds") == plan.outputs["dataSubnetIds"]
    assert group.input("subnetGroupName") == subnets.output("name")
    params = plan.single("aws:elasticache/parameterGroup:ParameterGroup")
    assert params.input("family") == "redis7"
    assert params.input("parameters") == [{"name": "cluster-enabled", "value": "yes"},
                                          {"name": "maxmemory-policy", "value": "volatile-lru"}]
    assert group.input("parameterGroupName") == params.output("name")
    assert group.input("authToken") is None
    assert group.input("userGroupIds") == [plan.outputs["cacheUserGroupId"]]
    assert plan.outputs["cacheConfigurationEndpoint"] == group.output("configurationEndpointAddress")
    assert plan.outputs["cachePort"] == 6379 and plan.outputs["cacheGlobalDatastoreId"] == ""


@pytest.mark.parametrize("stack", STACKS)
def test_the_default_user_is_off_and_each_tenant_has_its_namespace(plans, stack) -> None:
    plan = plans[stack]
    users = {u.input("userName"): u for u in plan.find(USER)}
    assert sorted(users) == ["default", "tenant-platform"]
    default = users["default"]
    assert default.input("accessString") == access_string(DEFAULT_USER_RULES) == "off -@all"
    assert default.input("authenticationMode") == {"type": "no-password-required"}
    assert default.input("userId") == f"production-{stack}-default"
    tenant = users["tenant-platform"]
    assert tenant.input("accessString") == access_string(tenant_rules("platform")) == (
        "on ~tenant:platform:* &tenant:platform:* +@all -@dangerous -@admin -@scripting -scan -randomkey -dbsize")
    assert tenant.input("authenticationMode")["type"] == "password"
    # The password makes the whole block secret in the state.
    assert tenant.to_export()["inputs"]["authenticationMode"] == {SIG_KEY: SECRET_SIG, "ciphertext": "[secret]"}
    group = plan.single("aws:elasticache/userGroup:UserGroup")
    assert group.input("userIds") == [default.output("userId"), tenant.output("userId")]
    assert group.input("engine") == "redis"


@pytest.mark.parametrize("stack", STACKS)
def test_tenant_passwords_live_in_secrets_manager_with_the_regional_key(plans, stack) -> None:
    plan = plans[stack]
    secret = plan.one("aws:secretsmanager/secret:Secret", f"hse-{stack}-cache-platform-secret")
    assert secret.input("kmsKeyId") == plan.outputs["kmsKeyArn"]
    assert secret.input("namePrefix") == f"hse/production/{stack}/cache/platform-"
    value = plan.one("aws:secretsmanager/secretVersion:SecretVersion", f"hse-{stack}-cache-platform-secret-value")
    password = plan.one("random:index/randomPassword:RandomPassword", f"hse-{stack}-cache-platform-password")
    user = plan.one("aws:elasticache/user:User", f"hse-{stack}-cache-user-platform")
    assert json.loads(value.input("secretString")) == {
        "username": "tenant-platform", "password": password.output("result"), "user_arn": user.output("arn"),
        "keyPrefix": "tenant:platform:"}
    # Secrets Manager rotates the password (ModifyUser); deploys leave the rotated value alone.
    rotation = plan.one("aws:secretsmanager/secretRotation:SecretRotation", f"hse-{stack}-cache-platform-rotation")
    assert rotation.input("rotationRules") == {"automaticallyAfterDays": 30}
    assert rotation.input("secretId") == secret.id and value.urn in rotation.dependencies
    # The tenant's own function, bound to its secret and user; Secrets Manager may invoke it for that secret.
    function = plan.one("aws:lambda/function:Function", f"hse-{stack}-cache-platform-rotation-fn")
    assert function.input("name") == f"hse-production-{stack}-cache-rotation-platform"
    assert function.input("environment") == {"variables": {"SECRET_ARN": secret.output("arn"),
                                                            "USER_NAME": "tenant-platform"}}
    assert rotation.input("rotationLambdaArn") == function.output("arn")
    permission = plan.one("aws:lambda/permission:Permission", f"hse-{stack}-cache-platform-rotation-invoke")
    assert (permission.input("principal"), permission.input("sourceArn")) == (
        "secretsmanager.amazonaws.com", secret.output("arn"))
    policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", f"hse-{stack}-cache-platform-rotation-policy")
                        .input("policy"))
    assert policy["Statement"] == [
        {"Sid": "TheTenantsSecret", "Effect": "Allow",
         "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue",
                    "secretsmanager:UpdateSecretVersionStage"], "Resource": secret.output("arn")},
        {"Sid": "RandomPasswords", "Effect": "Allow", "Action": "secretsmanager:GetRandomPassword", "Resource": "*"},
        {"Sid": "TheTenantsUser", "Effect": "Allow", "Action": ["elasticache:ModifyUser", "elasticache:DescribeUsers"],
         "Resource": user.output("arn")},
        {"Sid": "TheKeyThroughSecretsManager", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
         "Resource": plan.outputs["kmsKeyArn"],
         "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{plan.outputs['awsRegion']}.amazonaws.com"}}}]
    assert "secretString" in value.ignore_changes and user.ignore_changes == ["authenticationMode"]
    assert plan.outputs["cacheTenantSecretArns"] == {"platform": secret.output("arn")}
    assert password.output("result") not in json.dumps(plan.to_export())


@pytest.mark.parametrize("stack", STACKS)
def test_alarms_watch_every_node(plans, stack) -> None:
    plan = plans[stack]
    group = plan.single(GROUP)
    alarms = {a.name.rsplit("-alarm-", 1)[1]: a for a in plan.find(ALARM) if "-cache-alarm-" in a.name}
    assert sorted(alarms) == ["connections", "cpu", "engine-cpu", "evictions", "memory"]
    expected = {"memory": ("DatabaseMemoryUsagePercentage", 80), "evictions": ("Evictions", 1000),
                "engine-cpu": ("EngineCPUUtilization", 80), "cpu": ("CPUUtilization", 80),
                "connections": ("CurrConnections", 10000)}
    for suffix, (metric, threshold) in expected.items():
        alarm = alarms[suffix]
        assert alarm.input("threshold") == threshold
        queries = alarm.input("metricQueries")
        nodes = [q["metric"]["dimensions"]["CacheClusterId"] for q in queries if "metric" in q]
        assert nodes == [f"{group.id}-{s:04d}-{n:03d}" for s in (1, 2, 3) for n in (1, 2)]
        assert {q["metric"]["metricName"] for q in queries if "metric" in q} == {metric}
        (result,) = [q for q in queries if q.get("returnData")]
        assert result["expression"] == ("SUM" if suffix == "evictions" else "MAX") + "([n0, n1, n2, n3, n4, n5])"
        assert alarm.input("alarmActions") == [plan.outputs["alarmTopicArn"]]


# -- non-default values and the Global Datastore --------------------------------------------------
def test_non_default_cache_values_arrive(staging) -> None:
    primary = staging["us-east"]
    group = primary.single(GROUP)
    assert (group.input("numNodeGroups"), group.input("replicasPerNodeGroup")) == (4, 2)
    assert (group.input("engineVersion"), group.input("nodeType")) == ("7.0", "cache.m7g.xlarge")
    assert group.input("snapshotRetentionLimit") == 14
    params = primary.single("aws:elasticache/parameterGroup:ParameterGroup").input("parameters")
    assert {"name": "maxmemory-policy", "value": "allkeys-lfu"} in params
    users = sorted(u.input("userName") for u in primary.find(USER))
    assert users == ["default", "tenant-acme", "tenant-globex"]
    assert {u.input("userId") for u in primary.find(USER)} == \
        {"staging-us-east-default", "staging-us-east-acme", "staging-us-east-globex"}
    # 4 shards × 3 nodes = 12 nodes: two alarms per metric, 10 nodes and 2.
    memory = sorted((a for a in primary.find(ALARM) if "-cache-alarm-memory" in a.name), key=lambda a: a.name)
    assert [a.name for a in memory] == ["hse-us-east-cache-alarm-memory-1", "hse-us-east-cache-alarm-memory-2"]
    assert [len([q for q in a.input("metricQueries") if "metric" in q]) for a in memory] == [10, 2]
    assert {a.input("threshold") for a in memory} == {70}
    thresholds = {a.name.rsplit("-alarm-", 1)[1].rsplit("-", 1)[0]: a.input("threshold")
                  for a in primary.find(ALARM) if "-cache-alarm-" in a.name}
    assert thresholds == {"memory": 70, "evictions": 50, "engine-cpu": 65, "cpu": 65, "connections": 2000}


def test_the_primary_creates_the_global_datastore(staging) -> None:
    primary = staging["us-east"]
    datastore = primary.single("aws:elasticache/globalReplicationGroup:GlobalReplicationGroup")
    assert datastore.input("primaryReplicationGroupId") == primary.single(GROUP).id
    assert datastore.input("globalReplicationGroupIdSuffix") == "staging-us-east-sessions"
    assert primary.outputs["cacheGlobalDatastoreId"] == datastore.output("globalReplicationGroupId")


@pytest.mark.parametrize("stack", ["eu-west", "ap-se"])
def test_a_secondary_joins_and_sets_nothing_the_datastore_owns(staging, stack) -> None:
    plan = staging[stack]
    group = plan.single(GROUP)
    assert group.input("globalReplicationGroupId") == staging["us-east"].outputs["cacheGlobalDatastoreId"]
    for owned in OWNED_BY_GLOBAL_DATASTORE:
        assert group.input(camel(owned)) is None, owned
    assert set(OWNED_BY_GLOBAL_DATASTORE) >= {"engine", "engine_version", "num_node_groups", "node_type",
                                              "parameter_group_name", "at_rest_encryption_enabled",
                                              "transit_encryption_enabled", "transit_encryption_mode"}
    assert not plan.find("aws:elasticache/parameterGroup:ParameterGroup")
    assert not plan.find("aws:elasticache/globalReplicationGroup:GlobalReplicationGroup")
    # Automatic failover and Multi-AZ as the datastore has them, never updated from here.
    assert group.input("automaticFailoverEnabled") is True and group.input("multiAzEnabled") is True
    assert set(group.ignore_changes) == {"automaticFailoverEnabled", "multiAzEnabled"}
    # What stays the region's own: replicas, its key, its users, its network, its snapshots.
    assert group.input("replicasPerNodeGroup") == 2 and group.input("kmsKeyId") == plan.outputs["kmsKeyArn"]
    assert group.input("userGroupIds") == [plan.outputs["cacheUserGroupId"]]
    assert group.input("snapshotRetentionLimit") == 14
    lag = [a for a in plan.find(ALARM) if "-cache-alarm-replication-lag" in a.name]
    assert lag and {a.input("threshold") for a in lag} == {15}
    assert {q["metric"]["metricName"] for a in lag for q in a.input("metricQueries") if "metric" in q} == \
        {"GlobalDatastoreReplicationLag"}


def test_a_secondary_cannot_join_a_datastore_the_primary_never_deployed(project_copy, plans) -> None:
    from infra.engine import Engine
    from infra.domain.problems import ConfigError
    from tests.conftest import edit_stack

    edit_stack(project_copy, "us-east", cacheGlobalDatastore=True)
    edit_stack(project_copy, "eu-west", cacheGlobalDatastore=True)
    with pytest.raises(ConfigError) as info:
        Engine(project_copy, deployed={"us-east": plans["us-east"].outputs}).plan("eu-west")
    assert str(info.value.problems[0]) == (
        "Pulumi.eu-west.yaml: hse:cacheGlobalDatastore: the primary 'us-east' has deployed no Global Datastore to "
        "join; run `pulumi up --stack us-east` with hse:cacheGlobalDatastore true first, then this stack")
    assert info.value.declared == []


def test_every_tenant_has_its_own_rotation_function(staging) -> None:
    plan = staging["eu-west"]
    functions = {f.input("environment")["variables"]["USER_NAME"]: f
                 for f in plan.find("aws:lambda/function:Function") if f.name.endswith("-rotation-fn")}
    assert sorted(functions) == ["tenant-acme", "tenant-globex"]
    rotations = {r.input("secretId"): r.input("rotationLambdaArn")
                 for r in plan.find("aws:secretsmanager/secretRotation:SecretRotation") if "-cache-" in r.name}
    assert len(set(rotations.values())) == len(rotations) == 2
    for function in functions.values():
        assert rotations[function.input("environment")["variables"]["SECRET_ARN"]] == function.output("arn")
