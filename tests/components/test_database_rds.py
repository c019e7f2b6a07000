"""The data tier on the alternative engine, `rds-postgres`: a Multi-AZ RDS PostgreSQL
primary with cross-region read replicas and its automated backups replicated."""

from __future__ import annotations

import pytest

from infra.engine import Engine, StackPlan
from tests.conftest import STACKS, copy_project, edit_stack

INSTANCE = "aws:rds/instance:Instance"


@pytest.fixture(scope="module")
def rds(tmp_path_factory) -> dict[str, StackPlan]:
    project = copy_project(tmp_path_factory.mktemp("rds") / "project")
    for stack in STACKS:
        edit_stack(project, stack, dbEngine="rds-postgres", dbInstanceClass="db.m6g.large", dbStorageGib=200)
    # Promoting a read replica takes 120 s: only the fast health checks keep the RTO under 300 s.
    edit_stack(project, "us-east", edgeHealthCheckInterval=10)
    return {plan.stack: plan for plan in Engine(project).plan_all()}



def test_the_primary_is_a_multi_az_instance_with_the_credentials(rds) -> None:
    plan = rds["us-east"]
    primary = plan.single(INSTANCE)
    # The major version only: minor upgrades arrive automatically and must not read as a downgrade.
    assert (primary.input("engine"), primary.input("engineVersion")) == ("postgres", "16")
    assert primary.input("autoMinorVersionUpgrade") is True
    assert primary.id.startswith("db-") and primary.output("identifier") != primary.id
    assert primary.input("multiAz") is True and primary.input("instanceClass") == "db.m6g.large"
    assert (primary.input("allocatedStorage"), primary.input("maxAllocatedStorage")) == (200, 800)
    assert primary.input("storageEncrypted") is True and primary.input("kmsKeyId") == plan.outputs["kmsKeyArn"]
    assert (primary.input("username"), primary.input("dbName")) == ("hse_admin", "hse")
    assert primary.input("password") == plan.one("random:index/randomPassword:RandomPassword",
                                                           "hse-us-east-db-credentials-password").output("result")
    assert primary.input("backupRetentionPeriod") == 30 and primary.input("deletionProtection") is True
    assert primary.input("skipFinalSnapshot") is False
    assert primary.input("enabledCloudwatchLogsExports") == ["postgresql", "upgrade"]
    assert primary.input("iamDatabaseAuthenticationEnabled") is True
    assert plan.single("aws:rds/parameterGroup:ParameterGroup").input("family") == "postgres16"
    assert not plan.find("aws:rds/globalCluster:GlobalCluster") and not plan.find("aws:rds/cluster:Cluster")
    assert plan.outputs["dbGlobalClusterId"] == "" and plan.outputs["dbClusterArn"] == primary.output("arn")


def test_automated_backups_are_replicated_to_the_next_region(rds) -> None:
    plan = rds["us-east"]
    replication = plan.single("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")
    assert plan.get(replication.provider_urn).input("region") == "eu-west-1"
    assert replication.input("sourceDbInstanceArn") == plan.outputs["dbClusterArn"]
    assert replication.input("kmsKeyId") == plan.outputs["kmsKeyArns"]["eu-west-1"]
    assert replication.input("retentionPeriod") == 30


@pytest.mark.parametrize("stack", ["eu-west", "ap-se"])
def test_secondaries_are_cross_region_read_replicas(rds, stack) -> None:
    plan = rds[stack]
    replica = plan.single(INSTANCE)
    assert replica.input("replicateSourceDb") == rds["us-east"].outputs["dbClusterArn"]
    for credential in ("username", "password", "dbName", "engineVersion"):
        assert replica.input(credential) is None, credential
    assert replica.input("kmsKeyId") == plan.outputs["kmsKeyArn"]
    assert {"replicateSourceDb"} <= set(replica.ignore_changes)
    # RDS Proxy fronts only a writer, so a replica region reads from the replica directly.
    assert not plan.find("aws:rds/proxy:Proxy")
    assert plan.outputs["dbAppEndpoint"] == replica.output("address")
    lag = plan.one("aws:cloudwatch/metricAlarm:MetricAlarm", f"hse-{stack}-db-alarms-replication-lag")
    assert (lag.input("metricName"), lag.input("threshold")) == ("ReplicaLag", 30)
    # Metrics and APIs name the identifier, not the resource id that is the instance's `id`.
    assert lag.input("dimensions") == {"DBInstanceIdentifier": replica.output("identifier")}
    assert plan.outputs["dbClusterId"] == replica.output("identifier")


def test_the_primary_proxy_targets_the_instance(rds) -> None:
    plan = rds["us-east"]
    target = plan.single("aws:rds/proxyTarget:ProxyTarget")
    assert target.input("dbInstanceIdentifier") == plan.single(INSTANCE).output("identifier")
    assert not plan.find("aws:rds/proxyEndpoint:ProxyEndpoint")
    # 100 of db.m6g.large's 850 connections: 11.8 % -> 12.
    pool = plan.single("aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup").input("connectionPoolConfig")
    assert pool["maxConnectionsPercent"] == 12
    selection = plan.single("aws:backup/selection:Selection")
    assert selection.input("resources") == [plan.outputs["dbClusterArn"]]


def test_rds_postgres_on_the_standard_health_checks_is_refused(tmp_path) -> None:
    from infra.config import validate_stacks
    from infra.config.stackfiles import Project

    project = copy_project(tmp_path / "p")
    for stack in STACKS:
        edit_stack(project, stack, dbEngine="rds-postgres", dbInstanceClass="db.m6g.large")
    _, problems = validate_stacks(Project(project), ["us-east"])
    assert [str(p) for p in problems] == [
        "Pulumi.us-east.yaml: hse:edgeHealthCheckInterval: the modeled RTO is 315 s (90 s detection + max(60 s DNS "
        "TTL, 60 s alarm window + 15 s forwarding + 120 s rds-postgres promotion) + 30 s reconnect), not under the "
        "spec's 300 s; use the fast profile (10 s) or a lower failure threshold"]
