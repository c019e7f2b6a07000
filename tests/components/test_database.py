"""The data tier on its default engine, the Aurora PostgreSQL global database: keys,
credentials, clusters, proxy, backups and alarms, with default and non-default config."""

from __future__ import annotations

import json

import pytest

from components.regional_keys import key_policy
from infra.domain.db_sizing import max_connections_percent
from tests.conftest import STACKS

REGIONS = {"us-east": "us-east-1", "eu-west": "eu-west-1", "ap-se": "ap-southeast-1"}
CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
GLOBAL = "aws:rds/globalCluster:GlobalCluster"



# -- keys ----------------------------------------------------------------------------------
def test_the_primary_creates_a_key_for_every_region(plans) -> None:
    plan = plans["us-east"]
    key = plan.one("aws:kms/key:Key", "hse-us-east-keys-us-east-1")
    assert key.input("multiRegion") is True and key.input("enableKeyRotation") is True
    assert key.input("deletionWindowInDays") == 30
    replicas = {plan.get(r.provider_urn).input("region"): r for r in plan.find("aws:kms/replicaKey:ReplicaKey")}
    assert sorted(replicas) == ["ap-southeast-1", "eu-west-1"]
    for region, replica in replicas.items():
        assert replica.input("primaryKeyArn") == key.output("arn")
        assert json.loads(replica.input("policy")) == json.loads(key_policy("111122223333", region))
    aliases = {a.input("name") for a in plan.find("aws:kms/alias:Alias")}
    assert aliases == {"alias/hse/production/us-east", "alias/hse/production/eu-west", "alias/hse/production/ap-se"}
    assert plan.outputs["kmsKeyArns"] == {"us-east-1": key.output("arn"), **{
        r: k.output("arn") for r, k in replicas.items()}}
    for stack in ("eu-west", "ap-se"):
        assert not plans[stack].find("aws:kms/key:Key") and not plans[stack].find("aws:kms/replicaKey:ReplicaKey")
        assert plans[stack].outputs["kmsKeyArn"] == plan.outputs["kmsKeyArns"][REGIONS[stack]]


def test_the_key_policy_lets_root_administer_and_the_services_use() -> None:
    statements = {s["Sid"]: s for s in json.loads(key_policy("111122223333", "eu-west-1"))["Statement"]}
    assert statements["RootAdministers"]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert statements["RootAdministers"]["Action"] == "kms:*"
    admin = [s for s in statements.values() if "kms:*" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
    assert len(admin) == 1, "only the account root administers the key"
    use = statements["PlatformServicesUseTheKey"]
    assert use["Action"] == ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
    assert use["Condition"]["StringEquals"] == {
        "kms:CallerAccount": "111122223333",
        "kms:ViaService": ["rds.eu-west-1.amazonaws.com", "elasticache.eu-west-1.amazonaws.com",
                           "secretsmanager.eu-west-1.amazonaws.com", "backup.eu-west-1.amazonaws.com",
                           "eks.eu-west-1.amazonaws.com", "sns.eu-west-1.amazonaws.com", "sqs.eu-west-1.amazonaws.com",
                           "dynamodb.eu-west-1.amazonaws.com", "lambda.eu-west-1.amazonaws.com"]}
    grants = statements["PlatformServicesGrantForTheirResources"]
    assert grants["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    logs = statements["CloudWatchLogsOfThisRegion"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert logs["Condition"] == {"ArnLike": {
        "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:111122223333:log-group:*"}}
    alarms = statements["CloudWatchAlarmsPublishToEncryptedTopics"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    trail = statements["CloudTrailEncryptsTheTrail"]
    assert trail["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:111122223333:trail/*"}
    assert trail["Action"] == "kms:GenerateDataKey*"
    # DescribeKey requests carry no encryption context: a statement of its own, without one
    # (CloudTrail user guide, "Configure AWS KMS key policies for CloudTrail").
    assert statements["CloudTrailDescribesTheKey"] == {
        "Sid": "CloudTrailDescribesTheKey", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "kms:DescribeKey", "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}


@pytest.mark.parametrize("stack", STACKS)
def test_flow_log_groups_are_encrypted_with_the_regional_key(plans, stack) -> None:
    group = plans[stack].one("aws:cloudwatch/logGroup:LogGroup", f"hse-{stack}-flow-logs-group")
    assert group.input("kmsKeyId") == plans[stack].outputs["kmsKeyArn"]
    assert f":{REGIONS[stack]}:" in group.input("kmsKeyId")


def test_a_secondary_whose_region_has_no_key_yet_is_told_to_deploy_the_primary(project_copy, plans) -> None:
    from infra.engine import Engine
    from infra.domain.problems import ConfigError

    deployed = dict(plans["us-east"].outputs, kmsKeyArns={"us-east-1": plans["us-east"].outputs["kmsKeyArn"]})
    with pytest.raises(ConfigError) as info:
        Engine(project_copy, deployed={"us-east": deployed}).plan("eu-west")
    assert str(info.value.problems[0]) == (
        "Pulumi.eu-west.yaml: hse:awsRegion: the primary 'us-east' has no key for eu-west-1 yet (it creates one for "
        "every region in the stack files); run `pulumi up --stack us-east` first, then this stack")
    assert info.value.declared == []


# -- the global database -------------------------------------------------------------------
def test_the_primary_owns_the_global_cluster_with_the_engine_version(plans) -> None:
    plan = plans["us-east"]
    glob = plan.single(GLOBAL)
    assert glob.input("globalClusterIdentifier") == "hse-production-us-east-global"
    assert (glob.input("engine"), glob.input("engineVersion")) == ("aurora-postgresql", "16.6")
    assert glob.input("storageEncrypted") is True and glob.input("deletionProtection") is True
    cluster = plan.single(CLUSTER)
    assert cluster.input("globalClusterIdentifier") == glob.id
    assert glob.urn in cluster.dependencies  # so the cluster is deleted before the global cluster
    assert cluster.input("masterUsername") == "hse_admin" and cluster.input("databaseName") == "hse"
    password = plan.one("random:index/randomPassword:RandomPassword", "hse-us-east-db-credentials-password")
    assert cluster.input("masterPassword") == password.output("result")
    assert cluster.input("manageMasterUserPassword") is None
    assert cluster.input("skipFinalSnapshot") is False
    assert cluster.input("finalSnapshotIdentifier") == "hse-production-us-east-final"


@pytest.mark.parametrize("stack", ["eu-west", "ap-se"])
def test_a_secondary_joins_the_global_cluster_without_credentials(plans, stack) -> None:
    primary = plans["us-east"].outputs
    cluster = plans[stack].single(CLUSTER)
    for credential in ("masterUsername", "masterPassword", "databaseName", "manageMasterUserPassword"):
        assert cluster.input(credential) is None, credential
    assert cluster.input("globalClusterIdentifier") == primary["dbGlobalClusterId"]
    assert cluster.input("engineVersion") == primary["dbEngineVersion"] == "16.6"
    assert cluster.input("kmsKeyId") == primary["kmsKeyArns"][REGIONS[stack]]
    assert not plans[stack].find(GLOBAL)
    assert cluster.input("skipFinalSnapshot") is True
    assert cluster.input("sourceRegion") == "us-east-1"


@pytest.mark.parametrize("stack", STACKS)
def test_identifiers_moved_by_a_failover_and_the_engine_version_are_ignored(plans, stack) -> None:
    cluster = plans[stack].single(CLUSTER)
    assert {"globalClusterIdentifier", "replicationSourceIdentifier", "engineVersion"} <= set(cluster.ignore_changes)
    for instance in plans[stack].find(INSTANCE):
        assert "engineVersion" in instance.ignore_changes and instance.input("engineVersion") is None


@pytest.mark.parametrize("stack", STACKS)
def test_the_cluster_is_encrypted_hardened_and_isolated(plans, stack) -> None:
    plan = plans[stack]
    out = plan.outputs
    cluster = plan.single(CLUSTER)
    assert cluster.input("storageEncrypted") is True and cluster.input("kmsKeyId") == out["kmsKeyArn"]
    assert cluster.input("backupRetentionPeriod") == 30
    assert cluster.input("deletionProtection") is True
    assert cluster.input("iamDatabaseAuthenticationEnabled") is True
    assert cluster.input("enabledCloudwatchLogsExports") == ["postgresql"]
    assert cluster.input("vpcSecurityGroupIds") == [out["databaseSecurityGroupId"]]
    subnets = plan.single("aws:rds/subnetGroup:SubnetGroup")
    assert subnets.input("subnetIds") == out["dataSubnetIds"]
    params = {p["name"]: p for p in plan.single("aws:rds/clusterParameterGroup:ClusterParameterGroup").input("parameters")}
    assert params["rds.force_ssl"]["value"] == "1"
    assert (params["log_connections"]["value"], params["log_disconnections"]["value"]) == ("1", "1")
    assert params["log_min_duration_statement"]["value"] == "1000"
    assert plan.single("aws:rds/clusterParameterGroup:ClusterParameterGroup").input("family") == "aurora-postgresql16"
    role = plan.one("aws:iam/role:Role", f"hse-{stack}-db-monitoring")
    assert json.loads(role.input("assumeRolePolicy"))["Statement"][0]["Principal"] == \
        {"Service": "monitoring.rds.amazonaws.com"}
    for instance in plan.find(INSTANCE):
        assert instance.input("instanceClass") == "db.r6g.large"
        assert instance.input("publiclyAccessible") is False
        assert instance.input("performanceInsightsEnabled") is True
        assert instance.input("performanceInsightsKmsKeyId") == out["kmsKeyArn"]
        assert instance.input("monitoringInterval") == 60 and instance.input("monitoringRoleArn") == role.output("arn")
        # Minor upgrades of a global database go through its global cluster's pinned version.
        assert instance.input("autoMinorVersionUpgrade") is False
        assert plan.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", f"hse-{stack}-db-monitoring").urn \
            in instance.dependencies
        assert instance.input("dbSubnetGroupName") == subnets.output("name")


def test_writer_and_reader_in_different_zones(plans) -> None:
    instances = plans["us-east"].find(INSTANCE)
    assert [i.input("availabilityZone") for i in instances] == ["us-east-1a", "us-east-1b"]
    assert [i.input("promotionTier") for i in instances] == [0, 1]
    # The secondaries' files ask for two instances: readers in two AZs.
    assert [i.input("availabilityZone") for i in plans["eu-west"].find(INSTANCE)] == ["eu-west-1a", "eu-west-1b"]


# -- credentials ---------------------------------------------------------------------------
def test_credentials_are_generated_kept_replicated_and_rotated(plans) -> None:
    plan = plans["us-east"]
    secret = plan.one("aws:secretsmanager/secret:Secret", "hse-us-east-db-credentials-secret")
    assert secret.input("kmsKeyId") == plan.outputs["kmsKeyArn"]
    assert secret.input("namePrefix") == "hse/production/us-east/db-master-"
    replicas = {r["region"]: r["kmsKeyId"] for r in secret.input("replicas", [])}
    assert replicas == {r: k for r, k in plan.outputs["kmsKeyArns"].items() if r != "us-east-1"}
    version = plan.one("aws:secretsmanager/secretVersion:SecretVersion", "hse-us-east-db-credentials-value")
    document = json.loads(version.input("secretString"))
    cluster = plan.single(CLUSTER)
    assert document == {"engine": "postgres", "host": cluster.output("endpoint"), "port": 5432,
                        "username": "hse_admin", "password": cluster.input("masterPassword"), "dbname": "hse"}
    assert version.to_export()["inputs"]["secretString"]["ciphertext"] == "[secret]"
    assert "secretString" in version.ignore_changes
    rotation = plan.one("aws:secretsmanager/secretRotation:SecretRotation", "hse-us-east-db-credentials-rotation")
    assert rotation.input("rotationRules") == {"automaticallyAfterDays": 30}
    # The first rotation runs at once and connects: the credentials and the writer must exist.
    writer = plan.find(INSTANCE)[0]
    assert {version.urn, writer.urn} <= set(rotation.dependencies)
    assert plan.single("aws:rds/proxy:Proxy").dependencies and version.urn in plan.single("aws:rds/proxy:Proxy").dependencies
    function = plan.one("aws:serverlessrepository/cloudFormationStack:CloudFormationStack", "hse-us-east-db-credentials-rotation-fn")
    assert function.input("applicationId").endswith("applications/SecretsManagerRDSPostgreSQLRotationSingleUser")
    assert rotation.input("rotationLambdaArn") == function.output("outputs")["RotationLambdaARN"]
    assert function.input("parameters")["vpcSecurityGroupIds"] == plan.outputs["appSecurityGroupId"]
    assert function.input("parameters")["functionName"] == "hse-production-us-east-db-rotation"
    for stack in ("eu-west", "ap-se"):
        assert not [s for s in plans[stack].find("aws:secretsmanager/secret:Secret") if "-db-" in s.name]
        assert plans[stack].outputs["dbSecretArn"] == plan.outputs["dbSecretArns"][REGIONS[stack]]
        assert f":secretsmanager:{REGIONS[stack]}:" in plans[stack].outputs["dbSecretArn"]


# -- the pool --------------------------------------------------------------------------------
@pytest.mark.parametrize("stack,instances,percent", [("us-east", 5, 6), ("eu-west", 3, 4), ("ap-se", 3, 4)])
def test_the_proxy_pools_20_connections_per_app_instance(plans, stack, instances, percent) -> None:
    plan = plans[stack]
    # 20 × 5 = 100 of db.r6g.large's 1722 connections: 5.8 %, rounded up to 6; 60 of 1722: 3.5 % -> 4.
    assert plan.outputs["dbPoolConnections"] == 20 * instances
    assert max_connections_percent(20 * instances, "db.r6g.large") == percent
    pool = plan.single("aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup").input("connectionPoolConfig")
    assert pool["maxConnectionsPercent"] == percent
    assert pool["maxIdleConnectionsPercent"] == max(1, percent // 2)
    proxy = plan.single("aws:rds/proxy:Proxy")
    assert proxy.input("requireTls") is True and proxy.input("engineFamily") == "POSTGRESQL"
    assert proxy.input("auths") == [{"authScheme": "SECRETS", "iamAuth": "REQUIRED",
                                     "secretArn": plan.outputs["dbSecretArn"],
                                     "description": "Master credentials; clients sign in with IAM"}]
    assert proxy.input("vpcSecurityGroupIds") == [plan.outputs["proxySecurityGroupId"]]
    target = plan.single("aws:rds/proxyTarget:ProxyTarget")
    assert target.input("dbClusterIdentifier") == plan.outputs["dbClusterId"]
    read_only = plan.single("aws:rds/proxyEndpoint:ProxyEndpoint")
    assert read_only.input("targetRole") == "READ_ONLY"
    policy = plan.one("aws:iam/rolePolicy:RolePolicy", f"hse-{stack}-db-proxy-read-secret")
    assert proxy.dependencies and policy.urn in proxy.dependencies
    statements = json.loads(policy.input("policy"))["Statement"]
    assert statements[0]["Action"] == ["secretsmanager:GetSecretValue"]
    assert statements[0]["Resource"] == [plan.outputs["dbSecretArn"]]
    assert statements[1]["Condition"] == {"StringEquals": {"kms:ViaService": f"secretsmanager.{REGIONS[stack]}.amazonaws.com"}}


def test_apps_use_read_write_on_the_primary_and_read_only_on_secondaries(plans) -> None:
    assert plans["us-east"].outputs["dbAppEndpoint"] == plans["us-east"].outputs["dbProxyEndpoint"]
    for stack in ("eu-west", "ap-se"):
        assert plans[stack].outputs["dbAppEndpoint"] == plans[stack].outputs["dbProxyReadOnlyEndpoint"]
        assert plans[stack].outputs["dbAppEndpoint"] != plans[stack].outputs["dbProxyEndpoint"]


# -- backups -----------------------------------------------------------------------------------
def _backup_rule(plan) -> dict:
    (rule,) = plan.single("aws:backup/plan:Plan").input("rules")
    return rule


def test_every_region_backs_up_its_own_database_daily_for_30_days(plans) -> None:
    for stack in STACKS:
        plan = plans[stack]
        rule = _backup_rule(plan)
        # 06:00 UTC, clear of the cluster's backup window (03:00-04:00) and maintenance window.
        assert rule["schedule"] == "cron(0 6 ? * * *)" and rule["lifecycle"] == {"deleteAfter": 30}
        assert plan.single(CLUSTER).input("preferredBackupWindow") == "03:00-04:00"
        assert rule["targetVaultName"] == f"hse-production-{stack}"
        # A promoted secondary is its region's writer: its own plan already selects it (CKV2_AWS_8).
        selection = plan.single("aws:backup/selection:Selection")
        assert selection.input("resources") == [plan.outputs["dbClusterArn"]]
        vault = plan.one("aws:backup/vault:Vault", f"hse-{stack}-backups-vault")
        assert vault.input("kmsKeyArn") == plan.outputs["kmsKeyArn"]
        assert plan.outputs["backupVaultArn"] == \
            f"arn:aws:backup:{REGIONS[stack]}:111122223333:backup-vault:hse-production-{stack}"


def _vaults(plans) -> dict[str, tuple[str, str]]:
    """Vault ARN -> (the stack that declares it, its region)."""
    found = {}
    for stack, plan in plans.items():
        for vault in plan.find("aws:backup/vault:Vault"):
            found[vault.output("arn")] = (stack, vault.output("arn").split(":")[3])
    return found


def test_copies_go_only_to_vaults_that_exist_when_the_stack_deploys(plans) -> None:
    order = {s: plans[s].outputs["deployOrder"] for s in STACKS}
    vaults = _vaults(plans)
    for stack in STACKS:
        for action in _backup_rule(plans[stack])["copyActions"]:
            owner, region = vaults[action["destinationVaultArn"]]
            # Declared by this stack or an earlier one, never by a stack that deploys later.
            assert order[owner] <= order[stack], (stack, action)
            assert region != REGIONS[stack] and action["lifecycle"] == {"deleteAfter": 30}


def test_the_primary_copies_into_a_vault_it_declares_in_the_next_region(plans) -> None:
    primary = plans["us-east"]
    copies = primary.one("aws:backup/vault:Vault", "hse-us-east-backups-copies-vault")
    assert copies.input("name") == "hse-production-us-east-copies"
    assert copies.output("arn") == "arn:aws:backup:eu-west-1:111122223333:backup-vault:hse-production-us-east-copies"
    assert copies.input("kmsKeyArn") == primary.outputs["kmsKeyArns"]["eu-west-1"]
    assert [a["destinationVaultArn"] for a in _backup_rule(primary)["copyActions"]] == [copies.output("arn")]
    # The copy rule waits for the vault (Pulumi orders the plan after the vault it names).
    plan = primary.single("aws:backup/plan:Plan")
    assert copies.urn in plan.dependencies or copies.urn in sum(plan.property_dependencies.values(), [])


def test_later_stacks_copy_into_every_earlier_stacks_vault(plans) -> None:
    assert [a["destinationVaultArn"] for a in _backup_rule(plans["eu-west"])["copyActions"]] == [
        plans["us-east"].outputs["backupVaultArn"]]
    assert [a["destinationVaultArn"] for a in _backup_rule(plans["ap-se"])["copyActions"]] == [
        plans["us-east"].outputs["backupVaultArn"], plans["eu-west"].outputs["backupVaultArn"]]
    assert not plans["eu-west"].find("aws:backup/vault:Vault", "hse-eu-west-backups-copies-vault")


# -- alarms ------------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", ["eu-west", "ap-se"])
def test_secondaries_alarm_on_replication_lag_below_the_rpo(plans, stack) -> None:
    plan = plans[stack]
    lag = plan.one("aws:cloudwatch/metricAlarm:MetricAlarm", f"hse-{stack}-db-alarms-replication-lag")
    assert (lag.input("namespace"), lag.input("metricName")) == ("AWS/RDS", "AuroraGlobalDBReplicationLag")
    assert lag.input("threshold") == 30_000  # milliseconds: 30 s of the 60 s RPO
    # As Aurora publishes it: the secondary cluster and the primary's region (components/database_alarms.py).
    assert lag.input("dimensions") == {"DBClusterIdentifier": plan.outputs["dbClusterId"], "SourceRegion": "us-east-1"}
    assert lag.input("treatMissingData") == "breaching"
    # Every alarm notifies the region's alarm topic.
    assert lag.input("alarmActions") == lag.input("okActions") == [plans[stack].outputs["alarmTopicArn"]]


def test_every_region_alarms_on_cpu_memory_and_connections(plans) -> None:
    names = {a.name.rsplit("-alarms-", 1)[1]: a for a in plans["us-east"].find("aws:cloudwatch/metricAlarm:MetricAlarm")
             if "-db-alarms-" in a.name}
    assert sorted(names) == ["connections", "cpu", "memory"]
    assert names["cpu"].input("threshold") == 80
    assert names["memory"].input("threshold") == 16 * 1024 ** 3 // 10
    assert names["connections"].input("threshold") == 1722 * 8 // 10


# -- non-default values -------------------------------------------------------------------------
def test_non_default_database_values_arrive(staging) -> None:
    primary, secondary = staging["us-east"], staging["eu-west"]
    assert primary.single(GLOBAL).input("engineVersion") == "15.8"
    assert secondary.single(CLUSTER).input("engineVersion") == "15.8"
    assert primary.single("aws:rds/clusterParameterGroup:ClusterParameterGroup").input("family") == "aurora-postgresql15"
    assert {i.input("instanceClass") for i in primary.find(INSTANCE)} == {"db.r6g.xlarge"}
    assert len(primary.find(INSTANCE)) == 3 and len(secondary.find(INSTANCE)) == 2
    cluster = primary.single(CLUSTER)
    assert (cluster.input("databaseName"), cluster.input("masterUsername")) == ("platform", "platform_admin")
    assert cluster.input("backupRetentionPeriod") == 35
    assert secondary.single(CLUSTER).input("enableGlobalWriteForwarding") is True
    primary_params = {p["name"]: p for p in
                      primary.single("aws:rds/clusterParameterGroup:ClusterParameterGroup").input("parameters")}
    secondary_params = {p["name"]: p for p in
                        secondary.single("aws:rds/clusterParameterGroup:ClusterParameterGroup").input("parameters")}
    assert primary_params["apg_write_forward.max_forwarding_connections_percent"]["value"] == "25"
    assert secondary_params["apg_write_forward.consistency_mode"] == \
        {"name": "apg_write_forward.consistency_mode", "value": "session", "applyMethod": "pending-reboot"}
    assert primary_params["log_min_duration_statement"]["value"] == "250"
    assert {i.input("monitoringInterval") for i in primary.find(INSTANCE)} == {15}
    # The same period rotates the database master password and every tenant's Redis password.
    assert {r.input("rotationRules")["automaticallyAfterDays"]
            for r in primary.find("aws:secretsmanager/secretRotation:SecretRotation")} == {14}
    (rule,) = primary.single("aws:backup/plan:Plan").input("rules")
    assert rule["lifecycle"] == {"deleteAfter": 35}
    # 25 per instance × 5 = 125 of db.r6g.xlarge's 3479: 3.6 % -> 4 (write forwarding keeps 25 % aside).
    pool = primary.single("aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup").input("connectionPoolConfig")
    assert (primary.outputs["dbPoolConnections"], pool["maxConnectionsPercent"]) == (125, 4)
    lag = secondary.one("aws:cloudwatch/metricAlarm:MetricAlarm", "hse-eu-west-db-alarms-replication-lag")
    assert lag.input("threshold") == 20_000
    assert primary.one("aws:backup/vault:Vault", "hse-us-east-backups-vault").input("name") == "hse-staging-us-east"
    assert primary.single(GLOBAL).input("globalClusterIdentifier") == "hse-staging-us-east-global"


def test_write_forwarding_reserve_reduces_what_the_proxy_may_take() -> None:
    assert max_connections_percent(1291, "db.r6g.large", 25) == 75
    with pytest.raises(ValueError, match="needs 75% of db.r6g.large's 1722 connections, but only 74% are available"):
        max_connections_percent(1291, "db.r6g.large", 26)
    assert max_connections_percent(1722, "db.r6g.large") == 100
    with pytest.raises(ValueError):
        max_connections_percent(1723, "db.r6g.large")


def test_a_secondary_without_its_credentials_replica_is_told_to_deploy_the_primary(project_copy, plans) -> None:
    from infra.engine import Engine
    from infra.domain.problems import ConfigError

    deployed = dict(plans["us-east"].outputs, dbSecretArns={"us-east-1": plans["us-east"].outputs["dbSecretArn"]})
    with pytest.raises(ConfigError) as info:
        Engine(project_copy, deployed={"us-east": deployed}).plan("eu-west")
    assert [str(p) for p in info.value.problems] == [
        "Pulumi.eu-west.yaml: hse:awsRegion: the primary 'us-east' replicates no database credentials to eu-west-1 "
        "yet; run `pulumi up --stack us-east` first, then this stack"]
    assert info.value.declared == []


def test_an_aurora_lag_alarm_without_its_source_region_is_refused() -> None:
    from components.database_alarms import DatabaseAlarms, DatabaseAlarmsArgs

    with pytest.raises(ValueError, match="needs source_region"):
        DatabaseAlarms("x", DatabaseAlarmsArgs(engine="aurora-postgresql", replica=True, cluster_id="c",
                                               lag_threshold_seconds=30, max_connections=100, memory_gib=16))
