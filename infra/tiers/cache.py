"""The cache tier of one stack, composed from its config: the region's Redis cluster,
its tenant users, and (optionally) its place in the Global Datastore.

A secondary joins the Global Datastore the primary created, read from the primary's
outputs; it deploys a stand-alone cluster when it does not join.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import pulumi

from components.redis_cluster import CacheSettings, RedisCluster, RedisClusterArgs
from components.region_stack import RegionStack
from infra.config import StackConfig, cache_user_id
from infra.domain.contract import RegionExports
from infra.domain.naming import physical_prefix, prefix
from infra.tiers.providers import RegionalProviders


def _role(cfg: StackConfig) -> str:
    """The stack's part in the Global Datastore (that the primary has one was checked in infra/tiers/peers.py)."""
    if not cfg.cache.global_datastore:
        return "none"
    return "primary" if cfg.is_primary else "secondary"


def build_cache_tier(cfg: StackConfig, providers: RegionalProviders, region: RegionStack, key_arn: Any,
                     primary_exports: Optional[RegionExports], alarm_actions: Sequence[Any] = (),
                     account_id: str = "") -> dict[str, Any]:
    """Declare the cache tier; return its stack outputs. Its alarms notify `alarm_actions`."""
    c = cfg.cache
    role = _role(cfg)
    cluster = RedisCluster(f"{prefix(cfg.stack)}-cache", RedisClusterArgs(
        settings=CacheSettings(
            node_type=c.node_type, engine_version=c.engine_version, shards=c.shards,
            replicas_per_shard=c.replicas_per_shard, maxmemory_policy=c.maxmemory_policy,
            snapshot_retention_days=c.snapshot_retention_days, tenants=list(c.tenants),
            memory_alarm_percent=c.memory_alarm_percent, cpu_alarm_percent=c.cpu_alarm_percent,
            evictions_alarm=c.evictions_alarm, connections_alarm=c.connections_alarm,
            replication_lag_alarm_seconds=c.replication_lag_alarm_seconds),
        user_id_prefix=cache_user_id(cfg.environment, cfg.stack, ""),
        secret_name_prefix=f"hse/{cfg.environment}/{cfg.stack}/cache/",
        subnet_ids=region.subnet_ids["data"], security_group_id=region.security_groups.redis_group_id,
        key_arn=key_arn, rnd_provider=providers.random, global_datastore=role,
        global_datastore_id=primary_exports.cache_global_datastore_id if role == "secondary" else None,
        alarm_actions=tuple(alarm_actions), rotation_days=cfg.database.secret_rotation_days,
        rotation_function_name=f"{physical_prefix(cfg.environment, cfg.stack)}-cache-rotation", region=cfg.aws_region,
        account_id=account_id,
    ), pulumi.ResourceOptions(providers=[providers.home]))
    return {
        "cacheConfigurationEndpoint": cluster.configuration_endpoint,
        "cachePort": cluster.port,
        "cacheUserGroupId": cluster.user_group_id,
        "cacheTenantSecretArns": cluster.tenant_secret_arns,
        "cacheGlobalDatastoreId": cluster.global_datastore_id,
        "cacheReplicationGroupId": cluster.replication_group_id,
    }
