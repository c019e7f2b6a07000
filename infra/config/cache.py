"""The cache section: the Redis cluster, its tenants and alarms, and their checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from infra.domain import cache_acl
from infra.domain.problems import Problem
from infra.config.base import NAMESPACE, Section

if TYPE_CHECKING:
    from infra.config.stack import StackConfig


class CacheConfig(Section):
    """The cache tier: the region's ElastiCache Redis replication group and its tenant users."""

    node_type: str = Field("cache.r7g.large", alias="cacheNodeType",
                           description="ElastiCache node type, e.g. cache.r7g.large (memory-optimised; no burstable types).")
    engine_version: str = Field("7.1", alias="cacheEngineVersion", pattern=r"^\d+\.\d+$",
                                description="Redis OSS engine version, major.minor: 7.0 or 7.1.")
    shards: int = Field(3, alias="cacheShards", description="Shards (node groups) in cluster mode, 1 to 500 (the spec: 3).")
    replicas_per_shard: int = Field(1, alias="cacheReplicasPerShard",
                                    description="Replicas of each shard's primary, 1 to 5 (the spec: 1); automatic failover needs one.")
    maxmemory_policy: str = Field("volatile-lru", alias="cacheMaxmemoryPolicy",
                                  description="What Redis evicts when memory is full, e.g. volatile-lru or allkeys-lru.")
    snapshot_retention_days: int = Field(7, alias="cacheSnapshotRetentionDays",
                                         description="Days daily snapshots are kept (persistence), 1 to 35.")
    tenants: list[str] = Field(default_factory=lambda: ["platform"], alias="cacheTenants",
                               description="Tenant ids, each with its own Redis user limited to keys tenant:<id>:*.")
    global_datastore: bool = Field(False, alias="cacheGlobalDatastore",
                                   description="Replicate the primary's cache to the secondaries (Global Datastore, for session data).")
    memory_alarm_percent: int = Field(80, alias="cacheMemoryAlarmPercent",
                                      description="DatabaseMemoryUsagePercentage that raises the memory alarm, 1 to 100.")
    cpu_alarm_percent: int = Field(80, alias="cacheCpuAlarmPercent",
                                   description="EngineCPUUtilization (and host CPU) that raises the CPU alarm, 1 to 100.")
    evictions_alarm: int = Field(1000, alias="cacheEvictionsAlarm",
                                 description="Evictions per minute that raise the evictions alarm, at least 1.")
    connections_alarm: int = Field(10000, alias="cacheConnectionsAlarm",
                                   description="Current connections per node that raise the connections alarm, at least 1.")
    replication_lag_alarm_seconds: int = Field(30, alias="cacheReplicationLagAlarmSeconds",
                                               description="Global Datastore replication lag that raises the alarm, in seconds.")


MAXMEMORY_POLICIES = ("volatile-lru", "allkeys-lru", "volatile-lfu", "allkeys-lfu", "volatile-random",
                      "allkeys-random", "volatile-ttl", "noeviction")


CACHE_VERSIONS = ("7.0", "7.1")


def check_cache(cfg: StackConfig) -> list[Problem]:
    cache = cfg.cache
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(cfg.file, f"{NAMESPACE}:{key}", message))

    family, _, size = cache.node_type.removeprefix("cache.").partition(".")
    if not cache.node_type.startswith("cache.") or not family or not size or family.startswith("t"):
        bad("cacheNodeType", f"{cache.node_type} is not a memory-optimised or general-purpose node type; "
                             "valid: e.g. cache.r7g.large, cache.m7g.large (burstable cache.t* types have no "
                             "Multi-AZ cluster-mode support worth running in production)")
    if cache.engine_version not in CACHE_VERSIONS:
        bad("cacheEngineVersion", f"{cache.engine_version} is not supported here; valid: {', '.join(CACHE_VERSIONS)}")
    if not (1 <= cache.shards <= 500):
        bad("cacheShards", f"{cache.shards} is out of range; expected 1 to 500 shards")
    if not (1 <= cache.replicas_per_shard <= 5):
        bad("cacheReplicasPerShard", f"{cache.replicas_per_shard} is out of range; expected 1 to 5: automatic "
                                     "failover (which replaces the spec's Sentinel) needs a replica in every shard")
    if cache.maxmemory_policy not in MAXMEMORY_POLICIES:
        bad("cacheMaxmemoryPolicy", f"{cache.maxmemory_policy!r} is not a Redis maxmemory policy; "
                                    f"valid: {', '.join(MAXMEMORY_POLICIES)}")
    if not (1 <= cache.snapshot_retention_days <= 35):
        bad("cacheSnapshotRetentionDays", f"{cache.snapshot_retention_days} is out of range; expected 1 to 35 days "
                                          "(0 would turn persistence off)")
    if not cache.tenants:
        bad("cacheTenants", "lists no tenant; valid: at least one tenant id")
    for tenant in cache.tenants:
        if not cache_acl.TENANT_ID.match(tenant):
            bad("cacheTenants", f"{tenant!r} cannot be a key prefix; a tenant id is {cache_acl.TENANT_ID_RULE}")
    if len(set(cache.tenants)) != len(cache.tenants):
        bad("cacheTenants", f"{cache.tenants} lists a tenant twice")
    # The longest id: a tenant's, or the default user's, the group's or the datastore's suffix.
    longest = max([len("sessions"), *(len(t) for t in cache.tenants)])
    if len(cache_user_id(cfg.environment, cfg.stack, "x" * longest)) > 40:
        bad("cacheTenants", f"user ids '<environment>-<stack>-<tenant>' must fit ElastiCache's 40 characters; "
                            f"shorten the longest tenant id ({longest} characters), the environment or the stack name")
    for key, value, low, high in (("cacheMemoryAlarmPercent", cache.memory_alarm_percent, 1, 100),
                                  ("cacheCpuAlarmPercent", cache.cpu_alarm_percent, 1, 100),
                                  ("cacheEvictionsAlarm", cache.evictions_alarm, 1, 10**9),
                                  ("cacheConnectionsAlarm", cache.connections_alarm, 1, 65000),
                                  ("cacheReplicationLagAlarmSeconds", cache.replication_lag_alarm_seconds, 1, 3600)):
        if not (low <= value <= high):
            bad(key, f"{value} is out of range; expected {low} to {high}")
    return problems


def cache_user_id(environment: str, stack: str, tenant: str) -> str:
    """The ElastiCache user id of a tenant in a stack: unique per environment, stack and tenant."""
    return f"{environment}-{stack}-{tenant}"
