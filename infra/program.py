"""The Pulumi program: validate the stack's config, then compose the region.

`infra/__main__.py` calls `main()` when Pulumi runs the project; the offline engine
calls the same function under mocks. Nothing here branches on the stack's name: what
differs per region comes from its validated config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.region_stack import RegionStack, RegionStackArgs
from components.vpc_peering import PeeringSide, VpcPeering, VpcPeeringArgs
from infra.tiers.cache import build_cache_tier
from infra.config import NAMESPACE, StackConfig, edge_settings, load_topology
from infra.domain.contract import RegionExports
from infra.tiers.data import build_data_tier, regional_keys
from infra.tiers.edge import build_edge_tier
from infra.tiers.observability import alarm_topics, build_observability_tier
from infra.tiers.operations import build_failover_controller, register_region
from infra.tiers.workloads import build_workloads_tier
from infra.domain.naming import log_group_prefix, prefix
from infra.tiers.peers import read_peer_exports
from infra.domain.problems import ConfigError, Problem
from infra.tiers.providers import RegionalProviders
from infra.domain.routing_table import DeployedRegion
from infra.domain.stateful import holds_data
from infra.domain.routing_table import build as build_routing_table
from infra.config.stackfiles import Project


def program_config() -> dict[str, str]:
    """Every key the config model knows, as the engine handed it to this run.

    Read through the public `pulumi.Config`, one declared key at a time; keys the
    model does not know are found in the stack file itself (`load_stack`).
    """
    config = pulumi.Config(NAMESPACE)
    values = {}
    for key in StackConfig.keys():
        value = config.get(key.split(":", 1)[1])
        if value is not None:
            values[key] = value
    return values


def _check_zones_available(cfg: StackConfig, providers: RegionalProviders) -> None:
    """The account must see every configured AZ (accounts may lack newer zones)."""
    zones = aws.get_availability_zones(state="available", opts=providers.invoke_options(cfg.aws_region))
    missing = [z for z in cfg.network.availability_zones if z not in zones.names]
    if missing:
        raise ConfigError([Problem(cfg.file, f"{NAMESPACE}:availabilityZones",
                                   f"{', '.join(missing)} not available to this account in {cfg.aws_region}; "
                                   f"available: {', '.join(zones.names)}")])


def protect_data(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
    """Every resource that holds data is declared with `protect`: the engine then refuses
    to delete or replace it (`infra/domain/stateful.py`); removing the flag is a reviewed
    change of its own."""
    if not holds_data(args.type_) or args.opts.protect:
        return None
    return pulumi.ResourceTransformationResult(args.props, pulumi.ResourceOptions.merge(
        args.opts, pulumi.ResourceOptions(protect=True)))


def main(project_dir: Path) -> None:
    pulumi.runtime.register_stack_transformation(protect_data)
    cfg, others = load_topology(Project(project_dir), pulumi.get_stack(), config=program_config())
    peers = read_peer_exports(cfg)
    primary = next((p for p in peers.values() if p.role == "primary"), None)

    providers = RegionalProviders(cfg)
    _check_zones_available(cfg, providers)
    account_id = aws.get_caller_identity(opts=providers.invoke_options(cfg.aws_region)).account_id
    key_arns = regional_keys(cfg, others, providers, account_id, primary)

    name = prefix(cfg.stack)
    region = RegionStack(
        name,
        RegionStackArgs(
            vpc_cidr=cfg.network.vpc_cidr,
            availability_zones=cfg.network.availability_zones,
            nat_gateway_count=cfg.network.nat_gateway_count,
            flow_log_retention_days=cfg.network.flow_log_retention_days,
            app_port=cfg.app.port,
            account_id=account_id,
            log_group_prefix=log_group_prefix(cfg.environment, cfg.stack),
            kms_key_arn=key_arns[cfg.aws_region],
        ),
        pulumi.ResourceOptions(providers=[providers.home]),
    )
    groups = region.security_groups
    home = PeeringSide(
        stack=cfg.stack, region=cfg.aws_region, provider=providers.home,
        vpc_id=region.vpc_id, vpc_cidr=cfg.network.vpc_cidr,
        app_subnet_cidrs=region.subnet_cidrs["app"], data_subnet_cidrs=region.subnet_cidrs["data"],
        private_route_table_ids=region.private_route_table_ids,
        app_group_id=groups.app_group_id, database_group_id=groups.database_group_id,
        redis_group_id=groups.redis_group_id,
    )
    for peer in peers.values():
        VpcPeering(
            f"{name}-peer-{peer.stack}",
            VpcPeeringArgs(
                requester=home,
                accepter=PeeringSide(
                    stack=peer.stack, region=peer.aws_region, provider=providers.aws(peer.aws_region),
                    vpc_id=peer.vpc_id, vpc_cidr=peer.vpc_cidr,
                    app_subnet_cidrs=peer.app_subnet_cidrs, data_subnet_cidrs=peer.data_subnet_cidrs,
                    private_route_table_ids=peer.private_route_table_ids,
                    app_group_id=peer.app_security_group_id,
                    database_group_id=peer.database_security_group_id,
                    redis_group_id=peer.redis_security_group_id,
                ),
                accepter_account_id=peer.account_id,
            ),
        )

    # The routing table of the whole platform, from the stack files (the edge's DNS and the
    # applications' resolver read it from here).
    routing = build_routing_table([DeployedRegion(c.stack, c.aws_region, c.is_primary, c.deploy_order)
                                   for c in (cfg, *others.values())])
    topic_arn, edge_topic_arn = alarm_topics(cfg, providers, key_arns, primary)
    data = build_data_tier(cfg, others, providers, account_id, region, key_arns, primary, alarm_actions=(topic_arn,),
                           earlier_vault_arns=[p.backup_vault_arn
                                               for p in sorted(peers.values(), key=lambda p: p.deploy_order)])
    cache = build_cache_tier(cfg, providers, region, key_arns[cfg.aws_region], primary, alarm_actions=(topic_arn,),
                             account_id=account_id)
    edge_cfg = edge_settings(cfg, others)
    edge = build_edge_tier(cfg, edge_cfg, providers, routing, primary, cfg.database.engine, edge_topic_arn,
                           cfg.observability.latency_alarm_ms, cfg.observability.archive_days, account_id)
    workloads = build_workloads_tier(cfg, others, edge_cfg, providers, region, key_arns[cfg.aws_region],
                                     edge["hostedZoneId"], data, cache, routing.version, primary)
    operations = build_failover_controller(cfg, others, edge_cfg, providers, account_id, key_arns, region, data, cache,
                                           edge["hostedZoneId"])
    observability = build_observability_tier(cfg, others, providers, region, account_id, key_arns[cfg.aws_region],
                                             topic_arn, {**data, **cache, **edge})

    outputs: dict[str, Any] = {
        "stack": cfg.stack,
        "role": cfg.role,
        "awsRegion": cfg.aws_region,
        "deployOrder": cfg.deploy_order,
        "accountId": account_id,
        "vpcId": region.vpc_id,
        "vpcCidr": cfg.network.vpc_cidr,
        "publicSubnetIds": region.subnet_ids["public"],
        "appSubnetIds": region.subnet_ids["app"],
        "dataSubnetIds": region.subnet_ids["data"],
        "appSubnetCidrs": region.subnet_cidrs["app"],
        "dataSubnetCidrs": region.subnet_cidrs["data"],
        "privateRouteTableIds": region.private_route_table_ids,
        "appSecurityGroupId": groups.app_group_id,
        "databaseSecurityGroupId": groups.database_group_id,
        "redisSecurityGroupId": groups.redis_group_id,
        **data,
        **cache,
        **edge,
        **workloads,
        **observability,
        **operations,
        "alarmTopicArn": topic_arn,
        "edgeAlarmTopicArn": edge_topic_arn,
        "routingTable": routing.to_json(),
        "routingTableVersion": routing.version,
    }
    register_region(cfg, providers, outputs)
    missing = {f.alias for f in RegionExports.model_fields.values()} - set(outputs)
    assert not missing, f"the program does not export {sorted(missing)} of the RegionExports contract"
    for key, value in outputs.items():
        pulumi.export(key, value)
