"""Operations of one stack: the failover controller (declared once, by the primary, in the
first secondary's region, so that losing the primary does not take the controller with
it) and every stack's registration of its region in the controller's state table (a
DynamoDB global table with a replica in every region).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pulumi

from components.failover_controller import FailoverController, FailoverControllerArgs, FisTargets
from components.failover_registration import FailoverRegistration, FailoverRegistrationArgs
from infra.domain import topology
from infra.domain.app_contract import APP_CONTRACT_VERSION
from infra.config import EdgeConfig, StackConfig
from infra.domain.naming import GLOBAL_REGION, prefix
from infra.domain.failover_package import lambda_files
from infra.tiers.providers import RegionalProviders


CODE_ROOT = Path(__file__).resolve().parents[2]
"""Where the program's code is (the Lambda's files), whichever folder holds the stack files."""


def state_table_name(environment: str) -> str:
    return f"hse-{environment}-failover-state"


def build_failover_controller(cfg: StackConfig, others: Mapping[str, StackConfig], edge_cfg: EdgeConfig,
                              providers: RegionalProviders, account_id: str, key_arns: Mapping[str, Any], region,
                              data: Mapping[str, Any], cache: Mapping[str, Any], zone_id: Any) -> dict[str, Any]:
    """The primary's controller; the outputs that name it (none elsewhere, or alone)."""
    outputs: dict[str, Any] = {"appContractVersion": APP_CONTRACT_VERSION}
    if not cfg.is_primary or not others:
        return outputs
    home = min(others.values(), key=lambda o: o.deploy_order)

    def arns(kind: str, ids: list) -> list:
        return [pulumi.Output.concat(f"arn:aws:ec2:{cfg.aws_region}:{account_id}:{kind}/", i) for i in ids]

    controller = FailoverController(f"{prefix(cfg.stack)}-failover", FailoverControllerArgs(
        name_prefix=f"hse-{cfg.environment}", home_region=home.aws_region,
        replica_regions=sorted(c.aws_region for c in (cfg, *others.values()) if c.aws_region != home.aws_region),
        account_id=account_id, kms_key_arns=key_arns,
        code=pulumi.AssetArchive({path: pulumi.FileAsset(str(file)) for path, file in lambda_files(CODE_ROOT).items()}),
        event_provider=providers.aws(GLOBAL_REGION), primary_region=cfg.aws_region,
        global_cluster_id=data["dbGlobalClusterId"], zone_id=zone_id,
        fis=FisTargets(app_subnet_arns=arns("subnet", region.subnet_ids["app"]),
                       data_subnet_arns=arns("subnet", region.subnet_ids["data"]),
                       cache_replication_group_arn=pulumi.Output.concat(
                           f"arn:aws:elasticache:{cfg.aws_region}:{account_id}:replicationgroup:",
                           cache["cacheReplicationGroupId"]),
                       cache_zone_id=topology.region(cfg.aws_region).zone_ids[0]),
        detection_seconds=edge_cfg.health_check_interval * edge_cfg.health_check_failure_threshold,
        dns_ttl_seconds=edge_cfg.dns_ttl, rpo_seconds=cfg.database.rpo_seconds,
    ), pulumi.ResourceOptions(providers=[providers.aws(home.aws_region)]))
    outputs.update(failoverStateTable=controller.table_name, failoverControllerArn=controller.function_arn)
    return outputs


def register_region(cfg: StackConfig, providers: RegionalProviders, outputs: Mapping[str, Any]) -> None:
    """This region's topology item in the state table (its replica in this region)."""
    FailoverRegistration(f"{prefix(cfg.stack)}-failover-registration", FailoverRegistrationArgs(
        table_name=outputs.get("failoverStateTable") or state_table_name(cfg.environment),
        outputs=dict(outputs), app_instance_count=cfg.app.instance_count),
        pulumi.ResourceOptions(providers=[providers.home]))
