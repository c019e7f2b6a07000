"""Shared fixtures: one offline engine per session, each stack evaluated once and shared.

Tests that need a different topology copy the project's Pulumi files into a temporary
directory, edit them there and plan with a fresh engine (`project_copy`, `edit_stack`).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from infra.config import PRIMARY_ONLY_KEYS
from infra.engine import Engine, StackPlan

PROJECT_DIR = Path(__file__).resolve().parent.parent
STACKS = ("us-east", "eu-west", "ap-se")


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine(PROJECT_DIR)


@pytest.fixture(scope="session")
def plans(engine: Engine) -> dict[str, StackPlan]:
    return {plan.stack: plan for plan in engine.plan_all()}


# Every optional key, each at a value no default has. A key added to the model without
# a non-default test here fails `test_every_optional_key_is_exercised`.
NON_DEFAULT = {
    "environment": "staging",
    # The data tier, on its default engine (the other engine has its own module-scoped plan).
    "dbEngine": "aurora-postgresql",  # the default: rds-postgres is planned in tests/components/test_database_rds.py
    "dbEngineVersion": "15.8",
    "dbInstanceClass": "db.r6g.xlarge",
    "dbReaderCount": 2,
    "dbName": "platform",
    "dbMasterUsername": "platform_admin",
    "dbBackupRetentionDays": 35,
    "dbAllowShortRetention": True,
    "dbConnectionsPerAppInstance": 25,
    "dbWriteForwarding": True,
    "dbReplicationLagAlarmSeconds": 20,
    "dbRpoSeconds": 45,
    "dbSlowQueryMs": 250,
    "dbSecretRotationDays": 14,
    "dbMonitoringInterval": 15,
    "dbStorageGib": 200,
    # The cache tier.
    "cacheNodeType": "cache.m7g.xlarge",
    "cacheEngineVersion": "7.0",
    "cacheShards": 4,
    "cacheReplicasPerShard": 2,
    "cacheMaxmemoryPolicy": "allkeys-lfu",
    "cacheSnapshotRetentionDays": 14,
    "cacheTenants": ["acme", "globex"],
    "cacheGlobalDatastore": True,
    "cacheMemoryAlarmPercent": 70,
    "cacheCpuAlarmPercent": 65,
    "cacheEvictionsAlarm": 50,
    "cacheConnectionsAlarm": 2000,
    "cacheReplicationLagAlarmSeconds": 15,
    "costCenter": "cc-4242",
    "natGatewayCount": 2,
    "flowLogRetentionDays": 90,
    "appPort": 9090,
    "peers": [],  # the primary's only valid value; the secondaries set theirs in every stack file
    # The edge (set once, on the primary), on CloudFront: the other providers are planned in tests/components/test_cdn.py.
    "edgeDomain": "staging.hse-digital.example.com",
    "edgeHostedZoneId": "Z0STAGING0123456789AB",
    "edgeHealthCheckInterval": 10,
    "edgeHealthCheckFailureThreshold": 2,
    "edgeDnsTtl": 30,
    "edgeTenantRouting": ["acme=eu-west@EU", "globex=ap-se", "initech=us-east@NA"],
    "cdnProvider": "cloudfront",  # the default: see above
    "cdnStaticTtlSeconds": 604800,
    "cdnDynamicTtlSeconds": 600,
    "cdnPriceClass": "PriceClass_100",
    "cdnWaf": False,
    "cdnLogRetentionDays": 30,
    "cloudflareZoneId": "",  # the default: only cloudflare reads it
    "cdnImageOptimization": True,  # the default: off is planned in tests/components/test_cdn.py
    "cdnImageWidths": [480, 1080, 2048],
    "cdnImageFormats": ["webp"],
    "cdnImageQuality": 70,
    # Workloads.
    "appImage": "ghcr.io/hse-digital/app:2.3.1",
    "appMaxInstanceCount": 9,
    "appCpuTargetPercent": 60,
    "appMemoryTargetPercent": 75,
    "appCpuMillicores": 750,
    "appMemoryMib": 1536,
    "appColours": ["blue", "green"],
    "appActiveColour": "green",
    "kubernetesVersion": "1.32",
    "eksPublicAccessCidrs": ["203.0.113.0/24"],
    "eksDeployerInsideVpc": True,
    "nodeInstanceType": "m6i.large",
    "nodeSpot": True,  # staging is not production
    "nodePodsPerNode": 3,
    # Observability, admin access, storage.
    "alarmEmails": ["oncall@hse-digital.example.com"],
    "latencyAlarmMs": 750,
    "errorRateAlarmPercent": 3,
    "vpnServerCertificateArn": "arn:aws:acm:us-east-1:111122223333:certificate/11111111-2222-3333-4444-555555555555",
    "vpnClientRootCertificateArn": "arn:aws:acm:us-east-1:111122223333:certificate/66666666-7777-8888-9999-000000000000",
    "vpnClientCidr": "172.20.0.0/22",
    "storageArchiveDays": 60,
}

def copy_project(dest: Path) -> Path:
    """The project's Pulumi files (not the code) copied to `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in PROJECT_DIR.glob("Pulumi*.yaml"):
        shutil.copy(path, dest / path.name)
    return dest


def edit_stack(project: Path, stack: str, **changes: Any) -> Path:
    """Set (or with None, remove) `hse:<key>` values in a copied stack file; write a new one if absent."""
    path = project / f"Pulumi.{stack}.yaml"
    data = yaml.safe_load(path.read_text()) if path.exists() else {"config": {}}
    for key, value in changes.items():
        full = key if ":" in key else f"hse:{key}"
        if value is None:
            data["config"].pop(full, None)
        else:
            data["config"][full] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# The fourth region of the README ("Adding a region"): a stack file and nothing else.
FOURTH_REGION = dict(role="secondary", awsRegion="ap-southeast-2", deployOrder=3, peers=["us-east", "eu-west", "ap-se"],
                     vpcCidr="10.3.0.0/16", availabilityZones=["ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"],
                     appInstanceCount=3, eksPublicAccessCidrs=["203.0.113.0/24"])


@pytest.fixture(scope="session")
def four_region_project(tmp_path_factory) -> Path:
    """A copy of the project with the README's fourth region (`au`) added by its stack file alone."""
    project = copy_project(tmp_path_factory.mktemp("four-regions") / "project")
    edit_stack(project, "au", **FOURTH_REGION)
    return project


@pytest.fixture(scope="session")
def four_region_plans(four_region_project: Path) -> dict[str, StackPlan]:
    """Every stack of the four-region project, evaluated once per session."""
    return {plan.stack: plan for plan in Engine(four_region_project).plan_all()}


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


@pytest.fixture
def plan_copy(project_copy: Path) -> Callable[..., StackPlan]:
    """Plan one stack of the copied project with a fresh engine."""

    def plan(stack: str, **engine_args: Any) -> StackPlan:
        return Engine(project_copy, **engine_args).plan(stack)

    return plan


@pytest.fixture(scope="session")
def staging(tmp_path_factory) -> dict[str, StackPlan]:
    """All three stacks planned with every optional key at a non-default value."""
    project = copy_project(tmp_path_factory.mktemp("staging") / "project")
    for stack in STACKS:
        # Some keys are set once, on the primary; secondaries follow it.
        skip = {"peers"} | (set(PRIMARY_ONLY_KEYS) if stack != "us-east" else set())
        edit_stack(project, stack, **{k: v for k, v in NON_DEFAULT.items() if k not in skip})
    return {plan.stack: plan for plan in Engine(project).plan_all()}
